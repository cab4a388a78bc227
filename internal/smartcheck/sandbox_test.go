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
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
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
		version    smart.Version
		validation validatorenv.Validation
	}{
		{smart.V2, validatorenv.ValidationJWT},
		{smart.V2, validatorenv.ValidationIntrospection},
		{smart.V1, validatorenv.ValidationJWT},
		{smart.V1, validatorenv.ValidationIntrospection},
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
		sb := startSandbox(t, sandbox.Config{Version: smart.V1})
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

// proxy stands in front of the sandbox's data store: it serves the SMART
// configuration edited by doc (when not nil) and passes every other request
// on, with the answer's status mapped by status (when not nil). The returned
// configuration reaches the data store through it; tokens keep the sandbox
// endpoint as their audience.
func proxy(t *testing.T, sb *sandbox.Sandbox, cfg smartcheck.Config, doc func(map[string]any), status func(int) int) smartcheck.Config {
	t.Helper()
	target, err := url.Parse(sb.FHIREndpoint)
	if err != nil {
		t.Fatal(err)
	}
	client := cfg.HTTPClient
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, "https://"+target.Host+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		code := resp.StatusCode
		if strings.HasSuffix(r.URL.Path, "/.well-known/smart-configuration") && doc != nil {
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			doc(m)
			body, _ = json.Marshal(m)
		} else if status != nil {
			code = status(code)
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	cfg.FHIREndpoint = srv.URL + target.Path
	cfg.Audience = sb.FHIREndpoint
	return cfg
}

// without returns the list v less the given values.
func without(v any, drop ...string) []any {
	var out []any
	for _, e := range v.([]any) {
		if !slices.Contains(drop, e.(string)) {
			out = append(out, e)
		}
	}
	return out
}

func TestSmartConfigurationMustAdvertiseBackendServices(t *testing.T) {
	sb := startSandbox(t, sandbox.Config{})

	t.Run("the sandbox advertises what a stack with its clients would, backend services included", func(t *testing.T) {
		status, body, err := getVia(checkConfig(t, sb).HTTPClient, sb.FHIREndpoint+".well-known/smart-configuration")
		if err != nil || status != 200 {
			t.Fatal(status, err)
		}
		var doc smartmeta.Document
		_ = json.Unmarshal(body, &doc)
		for _, c := range []string{"client-confidential-asymmetric", "client-confidential-symmetric", "client-public", "launch-standalone",
			"context-standalone-patient", "sso-openid-connect", "permission-patient", "permission-user", "permission-v1", "permission-v2"} {
			if !slices.Contains(doc.Capabilities, c) {
				t.Errorf("capabilities %v lack %s", doc.Capabilities, c)
			}
		}
		if !slices.Contains(doc.GrantTypesSupported, "client_credentials") || !slices.Contains(doc.TokenEndpointAuthMethodsSupported, "private_key_jwt") ||
			!slices.Contains(doc.ScopesSupported, "system/Patient.rs") || len(doc.TokenEndpointAuthSigningAlgValuesSupported) == 0 {
			t.Errorf("grants %v, auth methods %v, signing algs %v, scopes %v", doc.GrantTypesSupported,
				doc.TokenEndpointAuthMethodsSupported, doc.TokenEndpointAuthSigningAlgValuesSupported, doc.ScopesSupported)
		}
	})

	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"no client_credentials grant", func(m map[string]any) {
			m["grant_types_supported"] = without(m["grant_types_supported"], "client_credentials")
		},
			"no client_credentials in grant_types_supported"},
		{"no private_key_jwt", func(m map[string]any) {
			m["token_endpoint_auth_methods_supported"] = without(m["token_endpoint_auth_methods_supported"], "private_key_jwt")
		}, "no private_key_jwt in token_endpoint_auth_methods_supported"},
		{"no client-confidential-asymmetric", func(m map[string]any) {
			m["capabilities"] = without(m["capabilities"], "client-confidential-asymmetric")
		},
			"no the client-confidential-asymmetric capability"},
		{"signing algorithms without RS384 or ES384", func(m map[string]any) { m["token_endpoint_auth_signing_alg_values_supported"] = []string{"RS256"} },
			"needs RS384 or ES384"},
		{"signing algorithms without the key's ES384", func(m map[string]any) { m["token_endpoint_auth_signing_alg_values_supported"] = []string{"RS384"} },
			"without ES384"},
	} {
		t.Run("a configuration with "+tc.name+" fails", func(t *testing.T) {
			rep := run(t, proxy(t, sb, checkConfig(t, sb), tc.edit, nil))
			failure(t, rep, smartcheck.CheckSmartConfiguration, tc.want)
		})
	}

	t.Run("a configuration without signing algorithms passes with a warning", func(t *testing.T) {
		cfg := proxy(t, sb, checkConfig(t, sb), func(m map[string]any) { delete(m, "token_endpoint_auth_signing_alg_values_supported") }, nil)
		rep := run(t, cfg)
		res, _ := rep.Result(smartcheck.CheckSmartConfiguration)
		if !rep.Passed || !strings.Contains(res.Detail, "warning: no token_endpoint_auth_signing_alg_values_supported") {
			t.Errorf("passed %v, %s: %s", rep.Passed, res.Status, res.Detail)
		}
	})
}

func TestSmartVersion(t *testing.T) {
	sb := startSandbox(t, sandbox.Config{})
	// A v1 document: no permission-v2, and no v2 scopes in scopes_supported.
	noV2 := func(m map[string]any) {
		m["capabilities"] = without(m["capabilities"], "permission-v2")
		delete(m, "scopes_supported")
	}

	t.Run("a v1 data store whose configuration advertises permission-v2 fails", func(t *testing.T) {
		cfg := checkConfig(t, sb)
		cfg.SmartVersion = smart.V1
		failure(t, run(t, cfg), smartcheck.CheckSmartConfiguration, "advertises permission-v2")
	})

	t.Run("a v2 data store whose configuration lacks permission-v2 fails", func(t *testing.T) {
		cfg := proxy(t, sb, checkConfig(t, sb), noV2, nil)
		cfg.SmartVersion = smart.V2
		failure(t, run(t, cfg), smartcheck.CheckSmartConfiguration, "lacks permission-v2")
	})

	t.Run("without a version, a served v2 scope proves v2 and the missing permission-v2 fails the search", func(t *testing.T) {
		rep := run(t, proxy(t, sb, checkConfig(t, sb), noV2, nil))
		failure(t, rep, smartcheck.CheckAllowedSearch, "so the data store is SMART v2, but its SMART configuration lacks permission-v2")
		if res, _ := rep.Result(smartcheck.CheckSmartConfiguration); res.Status != smartcheck.Pass {
			t.Errorf("smart-configuration %s: %s, want PASS (the document alone is consistent)", res.Status, res.Detail)
		}
	})

	t.Run("without a scope, a v1 data store is asked for the v1 form", func(t *testing.T) {
		v1 := startSandbox(t, sandbox.Config{Version: smart.V1})
		cfg := checkConfig(t, v1)
		cfg.Scope = ""
		rep := run(t, cfg)
		res, _ := rep.Result(smartcheck.CheckToken)
		if !rep.Passed || !strings.Contains(res.Detail, `"system/Patient.read"`) {
			t.Errorf("passed %v, token: %s", rep.Passed, res.Detail)
		}
	})
}

func TestRefusalsAndTokenErrors(t *testing.T) {
	sb := startSandbox(t, sandbox.Config{})

	t.Run("a data store that answers 401 for a type the scope does not reach passes the forbidden-type check", func(t *testing.T) {
		to401 := func(s int) int {
			if s == http.StatusForbidden {
				return http.StatusUnauthorized
			}
			return s
		}
		rep := run(t, proxy(t, sb, checkConfig(t, sb), nil, to401))
		if res, _ := rep.Result(smartcheck.CheckForbiddenType); res.Status != smartcheck.Pass || !strings.Contains(res.Detail, ": 401") {
			t.Errorf("%s: %s %s, want a pass on 401", res.Name, res.Status, res.Detail)
		}
	})

	t.Run("a refused genuine token is explained without guessing from 401 or 403", func(t *testing.T) {
		for _, code := range []int{http.StatusUnauthorized, http.StatusForbidden} {
			refuse := func(int) int { return code }
			rep := run(t, proxy(t, sb, checkConfig(t, sb), nil, refuse))
			failure(t, rep, smartcheck.CheckAllowedSearch, "either the token validator did not authorize it")
			failure(t, rep, smartcheck.CheckAllowedSearch, "or the data store did not find")
		}
	})

	t.Run("a scope defined but not granted to the client is named a policy rule problem (access_denied)", func(t *testing.T) {
		cfg := checkConfig(t, sb)
		cfg.Scope = "user/Patient.rs" // the practitioner app's, not the backend's
		failure(t, run(t, cfg), smartcheck.CheckToken, "access_denied")
		failure(t, run(t, cfg), smartcheck.CheckToken, "the policy rule does not grant these scopes")
	})

	t.Run("a scope the authorization server does not define is invalid_scope", func(t *testing.T) {
		cfg := checkConfig(t, sb)
		cfg.Scope = "system/Unknown.rs"
		failure(t, run(t, cfg), smartcheck.CheckToken, "does not define a scope")
	})

	t.Run("a kid the client has not registered is refused and named", func(t *testing.T) {
		cfg := checkConfig(t, sb)
		cfg.Key.KeyID = "not-registered"
		failure(t, run(t, cfg), smartcheck.CheckToken, `--key-id is its kid there (sent "not-registered")`)
	})

	t.Run("an assertion without kid passes against a one-key client, with a warning", func(t *testing.T) {
		cfg := checkConfig(t, sb)
		cfg.Key.KeyID = ""
		rep := run(t, cfg)
		res, _ := rep.Result(smartcheck.CheckToken)
		if !rep.Passed || !strings.Contains(res.Detail, "warning: the assertion carried no kid") {
			t.Errorf("passed %v, token: %s", rep.Passed, res.Detail)
		}
	})

	t.Run("the tampered-claim checks say they do not isolate exp and aud", func(t *testing.T) {
		rep := run(t, checkConfig(t, sb))
		for _, name := range []string{smartcheck.CheckExpiredToken, smartcheck.CheckWrongAudience} {
			if res, _ := rep.Result(name); !strings.Contains(res.Detail, "signature refused; exp/aud not isolated") {
				t.Errorf("%s: %s", name, res.Detail)
			}
		}
	})
}
