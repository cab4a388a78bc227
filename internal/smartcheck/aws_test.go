package smartcheck_test

import (
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
	t.Run("with EHR launch it uses the SMART configuration's, the launch proxy that services follow", func(t *testing.T) {
		out := map[string]string{smartcheck.OutputEhrLaunchAPIURL: "https://abc.execute-api.us-east-1.amazonaws.com/smart"}
		for k, v := range base {
			out[k] = v
		}
		var cfg smartcheck.Config
		if err := smartcheck.ApplyOutputs(&cfg, out); err != nil {
			t.Fatal(err)
		}
		if cfg.TokenEndpoint != "" || cfg.EHRLaunchAPI == "" {
			t.Fatalf("TokenEndpoint %q (want empty: the SMART configuration's), EHRLaunchAPI %q", cfg.TokenEndpoint, cfg.EHRLaunchAPI)
		}
	})
	t.Run("a --token-endpoint flag still wins", func(t *testing.T) {
		cfg := smartcheck.Config{TokenEndpoint: "https://flag.example/token"}
		if err := smartcheck.ApplyOutputs(&cfg, base); err != nil || cfg.TokenEndpoint != "https://flag.example/token" {
			t.Fatalf("%v %q", err, cfg.TokenEndpoint)
		}
	})
}
