package smartcheck_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/sandbox"
	"github.com/openhealthstack/smart-healthlake/internal/smartcheck"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
)

// Binaries built once for every test: the project's token-validation Lambda
// and the deliberately broken ones under testdata/idp.
var (
	projectIdP string
	brokenIdP  = map[string]string{}
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // the tests that need the binaries skip themselves
	}
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "smartcheck-test")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if projectIdP, err = sandbox.BuildIdP(ctx, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for _, name := range []string{"allowall", "extrascope", "slow"} {
			if brokenIdP[name], err = sandbox.Build(ctx, dir, "./testdata/idp/"+name); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return m.Run()
	}())
}

// startSandbox runs a sandbox for one test, with the Lambda's logs in the
// test log.
func startSandbox(t *testing.T, cfg sandbox.Config) *sandbox.Sandbox {
	t.Helper()
	if projectIdP == "" {
		t.Skip("-short: needs the Lambda binaries TestMain builds")
	}
	if cfg.IdPBinary == "" {
		cfg.IdPBinary = projectIdP
	}
	cfg.Dir = t.TempDir()
	cfg.LambdaOutput = testWriter{t}
	sb, err := sandbox.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// checkConfig is the configuration smartcheck's command line builds for a sandbox.
func checkConfig(t *testing.T, sb *sandbox.Sandbox) smartcheck.Config {
	t.Helper()
	keyPEM, err := os.ReadFile(sb.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := smartcheck.ParseClientKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(sb.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = pool
	return smartcheck.Config{
		FHIREndpoint: sb.FHIREndpoint,
		Issuer:       sb.Issuer,
		ClientID:     sandbox.BackendClientID,
		Key:          smartcheck.ClientKey{Signer: key.Signer, KeyID: sb.KeyID},
		Scope:        sb.Scope,
		Calls:        3,
		HTTPClient:   &http.Client{Transport: tr, Timeout: 5 * time.Second},
	}
}

func run(t *testing.T, cfg smartcheck.Config) smartcheck.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep := smartcheck.Run(ctx, cfg)
	var b strings.Builder
	_ = rep.WriteText(&b)
	t.Log("\n" + b.String())
	return rep
}

func TestPassesAgainstTheSandbox(t *testing.T) {
	for _, tc := range []struct {
		version    smartmeta.Version
		validation string
	}{
		{smartmeta.V2, "jwt"},
		{smartmeta.V2, "introspection"},
		{smartmeta.V1, "jwt"},
		{smartmeta.V1, "introspection"},
	} {
		t.Run(fmt.Sprintf("a %s data store with %s validation passes every check", tc.version, tc.validation), func(t *testing.T) {
			sb := startSandbox(t, sandbox.Config{Version: tc.version, Validation: tc.validation, FineGrained: true})
			rep := run(t, checkConfig(t, sb))
			if !rep.Passed {
				t.Fatalf("failed checks %v", rep.Failed())
			}
			// Every check must have run: a skipped one proves nothing.
			for _, res := range rep.Results {
				if res.Status != smartcheck.Pass {
					t.Errorf("%s: %s %s", res.Name, res.Status, res.Detail)
				}
			}
			if len(rep.Results) != 14 {
				t.Errorf("%d checks ran, want 14", len(rep.Results))
			}
			if rep.Timings.TokenMS <= 0 || rep.Timings.FirstFHIRCallMS <= 0 || rep.Timings.P50MS <= 0 || rep.Timings.Calls != 3 {
				t.Errorf("timings %+v, want all measured over 3 calls", rep.Timings)
			}
		})
	}

	t.Run("a v1 data store's SMART configuration advertises no permission-v2", func(t *testing.T) {
		sb := startSandbox(t, sandbox.Config{Version: smartmeta.V1})
		res, _ := run(t, checkConfig(t, sb)).Result(smartcheck.CheckSmartConfiguration)
		if res.Status != smartcheck.Pass || !strings.Contains(res.Detail, "SMART v1") {
			t.Errorf("%s: %s, want a pass naming SMART v1", res.Status, res.Detail)
		}
	})
}

// failure asserts that the named check failed with a message containing want.
func failure(t *testing.T, rep smartcheck.Report, name, want string) {
	t.Helper()
	if rep.Passed {
		t.Fatal("the run passed")
	}
	res, ok := rep.Result(name)
	if !ok {
		t.Fatalf("no %s check", name)
	}
	if res.Status != smartcheck.Fail {
		t.Fatalf("%s: %s (%s), want FAIL", name, res.Status, res.Detail)
	}
	if !strings.Contains(res.Detail, want) {
		t.Errorf("%s: %q, want it to contain %q", name, res.Detail, want)
	}
}

func TestFailsAgainstBrokenIdPs(t *testing.T) {
	t.Run("an IdP that authorizes every token fails the tampered-token checks", func(t *testing.T) {
		sb := startSandbox(t, sandbox.Config{IdPBinary: brokenIdP["allowall"]})
		rep := run(t, checkConfig(t, sb))
		failure(t, rep, smartcheck.CheckAlteredSignature, "does not verify signatures")
		failure(t, rep, smartcheck.CheckExpiredToken, "changed after signing")
		failure(t, rep, smartcheck.CheckWrongAudience, "changed after signing")
		failure(t, rep, smartcheck.CheckAlgNone, "unsigned tokens")
	})

	t.Run("an IdP that returns scopes the token does not hold fails the forbidden-type check", func(t *testing.T) {
		sb := startSandbox(t, sandbox.Config{IdPBinary: brokenIdP["extrascope"]})
		rep := run(t, checkConfig(t, sb))
		failure(t, rep, smartcheck.CheckForbiddenType, "returns scopes the token does not hold")
		if got := rep.Failed(); len(got) != 1 {
			t.Errorf("failed checks %v, want only %s", got, smartcheck.CheckForbiddenType)
		}
	})

	t.Run("an IdP that answers after 1.5 s fails the allowed search with HealthLake's timeout", func(t *testing.T) {
		sb := startSandbox(t, sandbox.Config{IdPBinary: brokenIdP["slow"]})
		cfg := checkConfig(t, sb)
		rep := run(t, cfg)
		failure(t, rep, smartcheck.CheckAllowedSearch, "1 s budget")
		// The refusal checks prove nothing when the genuine token is not served.
		if got := rep.Failed(); len(got) != 1 {
			t.Errorf("failed checks %v, want only %s", got, smartcheck.CheckAllowedSearch)
		}
		if res, _ := rep.Result(smartcheck.CheckAlteredSignature); res.Status != smartcheck.Skip {
			t.Errorf("%s: %s, want SKIP", res.Name, res.Status)
		}
	})

	t.Run("a token without the data store audience is named as a missing audience binding", func(t *testing.T) {
		sb := startSandbox(t, sandbox.Config{Audience: "api://default"})
		rep := run(t, checkConfig(t, sb))
		failure(t, rep, smartcheck.CheckTokenClaims, "the token's aud is api://default, the data store expects "+sb.FHIREndpoint+": the Okta audience binding did not run")
		failure(t, rep, smartcheck.CheckAllowedSearch, "HTTP 401")
		if got := rep.Failed(); len(got) != 2 {
			t.Errorf("failed checks %v, want only token-claims and the search", got)
		}
	})
}

func TestIncompleteSettingsFail(t *testing.T) {
	sb := startSandbox(t, sandbox.Config{})

	t.Run("a run without a client key fails rather than passing on the metadata alone", func(t *testing.T) {
		cfg := checkConfig(t, sb)
		cfg.Key = smartcheck.ClientKey{}
		failure(t, run(t, cfg), smartcheck.CheckToken, "no client id or private key")
	})

	t.Run("a scope that allows no search fails the allowed search", func(t *testing.T) {
		cfg := checkConfig(t, sb)
		cfg.Scope = "system/Patient.cud"
		failure(t, run(t, cfg), smartcheck.CheckAllowedSearch, "allows no search")
	})

	t.Run("a SMART configuration naming another issuer fails", func(t *testing.T) {
		cfg := checkConfig(t, sb)
		cfg.Issuer = strings.Replace(sb.Issuer, "/oauth2/default", "/oauth2/other", 1)
		rep := run(t, cfg)
		failure(t, rep, smartcheck.CheckSmartConfiguration, "names another authorization server")
	})

	t.Run("a SMART configuration whose token endpoint differs from the issuer's is named stale", func(t *testing.T) {
		cfg := checkConfig(t, sb)
		status, body, err := getVia(cfg.HTTPClient, sb.FHIREndpoint+".well-known/smart-configuration")
		if err != nil || status != 200 {
			t.Fatal(status, err)
		}
		var doc map[string]any
		_ = json.Unmarshal(body, &doc)
		doc["token_endpoint"] = "https://old.example.com/oauth2/default/v1/token"
		stale := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = json.NewEncoder(w).Encode(doc)
		}))
		defer stale.Close()
		cfg.FHIREndpoint = stale.URL + "/datastore/x/r4/"
		rep := run(t, cfg)
		failure(t, rep, smartcheck.CheckIssuerDiscovery, "token_endpoint is https://old.example.com/oauth2/default/v1/token in the SMART configuration but "+sb.TokenEndpoint+" at the issuer")
	})
}

func getVia(c *http.Client, u string) (int, []byte, error) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
