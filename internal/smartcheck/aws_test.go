package smartcheck_test

import (
	"maps"
	"testing"

	"github.com/openhealthstack/smart-healthlake/internal/smartcheck"
)

func TestApplyOutputs(t *testing.T) {
	base := map[string]string{
		smartcheck.OutputFhirEndpoint:    "https://healthlake.us-east-1.amazonaws.com/datastore/abc/r4/",
		smartcheck.OutputIssuer:          "https://example.okta.com/oauth2/aus1",
		smartcheck.OutputTokenEndpoint:   "https://example.okta.com/oauth2/aus1/v1/token",
		smartcheck.OutputBackendClientID: "0oaBackend",
	}
	t.Run("without EHR launch the token check uses the TokenEndpoint output", func(t *testing.T) {
		var cfg smartcheck.Config
		if err := smartcheck.ApplyOutputs(&cfg, base); err != nil {
			t.Fatal(err)
		}
		if cfg.TokenEndpoint != base[smartcheck.OutputTokenEndpoint] || cfg.ClientID != "0oaBackend" {
			t.Fatalf("%+v", cfg)
		}
	})
	with := func(extra map[string]string) map[string]string {
		out := maps.Clone(base)
		maps.Copy(out, extra)
		return out
	}
	const api = "https://abc.execute-api.us-east-1.amazonaws.com/smart"
	t.Run("with EHR launch serving the backend services it uses the launch proxy, as the services do", func(t *testing.T) {
		var cfg smartcheck.Config
		if err := smartcheck.ApplyOutputs(&cfg, with(map[string]string{smartcheck.OutputEhrLaunchAPIURL: api, smartcheck.OutputBackendTokenEndpoint: api + "/token"})); err != nil {
			t.Fatal(err)
		}
		if cfg.TokenEndpoint != api+"/token" || cfg.EHRLaunchAPI != api {
			t.Fatalf("TokenEndpoint %q, EHRLaunchAPI %q", cfg.TokenEndpoint, cfg.EHRLaunchAPI)
		}
	})
	t.Run("with EHR launch leaving them on Okta (no BackendTokenEndpoint) it uses Okta's", func(t *testing.T) {
		var cfg smartcheck.Config
		if err := smartcheck.ApplyOutputs(&cfg, with(map[string]string{smartcheck.OutputEhrLaunchAPIURL: api})); err != nil {
			t.Fatal(err)
		}
		if cfg.TokenEndpoint != base[smartcheck.OutputTokenEndpoint] {
			t.Fatalf("TokenEndpoint %q", cfg.TokenEndpoint)
		}
	})
	t.Run("a --token-endpoint flag still wins over both outputs", func(t *testing.T) {
		cfg := smartcheck.Config{TokenEndpoint: "https://flag.example/token"}
		err := smartcheck.ApplyOutputs(&cfg, with(map[string]string{smartcheck.OutputEhrLaunchAPIURL: api, smartcheck.OutputBackendTokenEndpoint: api + "/token"}))
		if err != nil || cfg.TokenEndpoint != "https://flag.example/token" {
			t.Fatalf("%v %q", err, cfg.TokenEndpoint)
		}
	})
}
