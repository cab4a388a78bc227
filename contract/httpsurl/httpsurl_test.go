package httpsurl_test

import (
	"strings"
	"testing"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
)

func TestCheck(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://idp.example.com/oauth2/v1/token":            true,
		"https://login.microsoftonline.com/t/keys?appid=abc": true,
		"http://idp.example.com/token":                       false,
		"https:///token":                                     false,
		"/token":                                             false,
		"https://user:pass@idp.example.com/token":            false,
		"https://idp.example.com/token#frag":                 false,
		"https://idp.example.com/token#":                     true, // an empty fragment is no fragment (url.Parse)
		"http://localhost/token":                             false,
		"https://idp.example.com/%zz":                        false,
	} {
		if err := httpsurl.Check(raw); (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok %v", raw, err, ok)
		}
	}
	t.Run("an error never quotes the credentials or query of the URL", func(t *testing.T) {
		err := httpsurl.Check("http://user:s3cret@idp.example.com/x?token=abc")
		if err == nil || contains(err.Error(), "s3cret") || contains(err.Error(), "token=abc") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestCheckOrLoopback(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://idp.example.com/oauth2/default": true,
		"http://127.0.0.1:8080/oauth2/default":   true,
		"http://localhost:8080":                  true,
		"http://[::1]:8080":                      true,
		"http://idp.example.com":                 false,
		"http://127.0.0.2:8080":                  false,
		"http://[0:0:0:0:0:0:0:1]:8080":          false,
		"http://localhost.example.com":           false,
		"https://idp.example.com/x?a=b":          false,
		"https://idp.example.com/x?":             false,
		"https://idp.example.com/x#f":            false,
		"https://u:p@idp.example.com":            false,
		"idp.example.com":                        false,
		"ftp://idp.example.com":                  false,
	} {
		if err := httpsurl.CheckOrLoopback(raw); (err == nil) != ok {
			t.Errorf("CheckOrLoopback(%q) = %v, want ok %v", raw, err, ok)
		}
	}
	t.Run("an error never quotes the query or fragment of the URL", func(t *testing.T) {
		for _, raw := range []string{"https://idp.example.com/x?token=abc", "ftp://idp.example.com/x#token=abc"} {
			if err := httpsurl.CheckOrLoopback(raw); err == nil || contains(err.Error(), "token=abc") {
				t.Errorf("CheckOrLoopback(%q) = %v", raw, err)
			}
		}
	})
}

func TestRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"https://u:p@idp.example.com/a/b?x=1#f": "https://idp.example.com/a/b",
		"https://idp.example.com/a?":            "https://idp.example.com/a",
		"https://idp.example.com/%zz":           "(unparseable URL)",
	} {
		if got := httpsurl.Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
