package launchflow

import (
	"net/http"
	"testing"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

func TestTheServerKeepsOnlyTheHookSecretsHash(t *testing.T) {
	s, err := New(ehrlaunchenv.Config{}, nil, Options{HookSecret: "hook-secret-made-for-this-test"})
	if err != nil {
		t.Fatal(err)
	}
	if s.opts.HookSecret != "" {
		t.Fatal("the server holds the hook secret itself, to hash it again on every call")
	}
	for header, want := range map[string]bool{
		"hook-secret-made-for-this-test":  true,
		"hook-secret-made-for-this-test ": false,
		"hook-secret":                     false,
		"":                                false,
	} {
		r, _ := http.NewRequest(http.MethodPost, "/hook", nil)
		r.Header.Set("Authorization", header)
		if got := s.hookAuthentic(r); got != want {
			t.Errorf("Authorization %q: authentic = %v, want %v", header, got, want)
		}
	}
}
