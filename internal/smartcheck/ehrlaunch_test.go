package smartcheck_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/sandbox"
	"github.com/openhealthstack/smart-healthlake/internal/smartcheck"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/ehrsandbox"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

// startEHR runs a sandbox with the EHR launch API in front of it.
func startEHR(t *testing.T, cfg ehrsandbox.Config) *ehrsandbox.World {
	t.Helper()
	if projectIdP == "" {
		t.Skip("-short: needs the Lambda binaries TestMain builds")
	}
	if cfg.Sandbox.IdPBinary == "" {
		cfg.Sandbox.IdPBinary = projectIdP
	}
	cfg.Sandbox.Dir, cfg.Sandbox.LambdaOutput = t.TempDir(), testWriter{t}
	w, err := ehrsandbox.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// ehrConfig is what the command line builds for the sandbox with
// --ehr-launch: the backend token from the authorization server's own token
// endpoint (the stack's TokenEndpoint output), the launch by the EHR role.
func ehrConfig(t *testing.T, w *ehrsandbox.World) smartcheck.Config {
	t.Helper()
	cfg := checkConfig(t, w.Sandbox)
	cfg.TokenEndpoint = w.TokenEndpoint
	cfg.EHRLaunchAPI = w.APIURL
	cfg.EHRLaunch = &smartcheck.EHRLaunch{
		ClientID: sandbox.EHRAppClientID, RedirectURI: ehrsandbox.AppRedirectURI, OtherClientID: sandbox.EHRWebClientID,
		Patient:     "p2",
		Credentials: credentials.NewStaticCredentialsProvider(ehrsandbox.EHRAccessKeyID, w.EHRSecretKey, ""),
		Region:      ehrsandbox.Region,
	}
	return cfg
}

func TestEHRLaunchAgainstTheSandbox(t *testing.T) {
	w := startEHR(t, ehrsandbox.Config{})

	t.Run("every check passes and the launch is played through to a FHIR search limited to the patient", func(t *testing.T) {
		rep := run(t, ehrConfig(t, w))
		for _, res := range rep.Results {
			if res.Status != smartcheck.Pass {
				t.Errorf("%s: %s %s", res.Name, res.Status, res.Detail)
			}
		}
		if len(rep.Results) != 15 {
			t.Errorf("%d checks ran, want 15", len(rep.Results))
		}
		res, _ := rep.Result(smartcheck.CheckEHRLaunch)
		for _, want := range []string{"the launch used again: refused", "a launch for " + sandbox.EHRWebClientID + ": refused",
			"signed in without a browser: token response with patient p2", "all of Patient/p2"} {
			if !strings.Contains(res.Detail, want) {
				t.Errorf("ehr-launch detail %q lacks %q", res.Detail, want)
			}
		}
	})

	t.Run("the proxied authorization, token and introspection endpoints under the API pass issuer-discovery, and it says so", func(t *testing.T) {
		res, _ := run(t, ehrConfig(t, w)).Result(smartcheck.CheckIssuerDiscovery)
		want := "authorization_endpoint, token_endpoint, introspection_endpoint proxied by the EHR launch API " + w.APIURL
		if res.Status != smartcheck.Pass || !strings.Contains(res.Detail, want) {
			t.Errorf("%s: %s, want a pass saying %q", res.Status, res.Detail, want)
		}
	})

	t.Run("endpoints that are not under the given EHR launch API still fail issuer-discovery", func(t *testing.T) {
		for _, api := range []string{"https://elsewhere.example", w.APIURL + "/auth"} { // "/auth" is a prefix of "/authorize", not a parent
			cfg := ehrConfig(t, w)
			cfg.EHRLaunchAPI, cfg.EHRLaunch = api, nil
			failure(t, run(t, cfg), smartcheck.CheckIssuerDiscovery, `authorization_endpoint is "`+w.APIURL+`/authorize" in the SMART configuration, not the EHR launch API's `+api+"/authorize")
		}
	})

	t.Run("an authorization_endpoint at another path of the EHR launch API fails the ehr-launch check", func(t *testing.T) {
		cfg := proxy(t, w.Sandbox, ehrConfig(t, w), func(m map[string]any) { m["authorization_endpoint"] = w.APIURL + "/callback" }, nil)
		failure(t, run(t, cfg), smartcheck.CheckEHRLaunch, "authorization_endpoint "+w.APIURL+"/callback is not the EHR launch API's "+w.APIURL+"/authorize")
	})

	t.Run("a proxied endpoint at the wrong path of the EHR launch API fails issuer-discovery", func(t *testing.T) {
		cfg := proxy(t, w.Sandbox, ehrConfig(t, w), func(m map[string]any) { m["token_endpoint"] = w.APIURL + "/authorize" }, nil)
		cfg.EHRLaunch = nil
		failure(t, run(t, cfg), smartcheck.CheckIssuerDiscovery, `token_endpoint is "`+w.APIURL+`/authorize" in the SMART configuration, not the EHR launch API's `+w.APIURL+"/token")
	})

	t.Run("with launch-ehr advertised, an endpoint that is still the issuer's own (stale Metadata) fails issuer-discovery", func(t *testing.T) {
		cfg := proxy(t, w.Sandbox, ehrConfig(t, w), func(m map[string]any) { m["authorization_endpoint"] = w.Issuer + "/v1/authorize" }, nil)
		cfg.EHRLaunch = nil
		failure(t, run(t, cfg), smartcheck.CheckIssuerDiscovery, `authorization_endpoint is "`+w.Issuer+`/v1/authorize" in the SMART configuration, not the EHR launch API's `+w.APIURL+"/authorize")
	})

	t.Run("with launch-ehr advertised, a configuration without an introspection_endpoint passes issuer-discovery", func(t *testing.T) {
		cfg := proxy(t, w.Sandbox, ehrConfig(t, w), func(m map[string]any) { delete(m, "introspection_endpoint") }, nil)
		cfg.EHRLaunch = nil
		res, _ := run(t, cfg).Result(smartcheck.CheckIssuerDiscovery)
		if res.Status != smartcheck.Pass || !strings.Contains(res.Detail, "authorization_endpoint, token_endpoint proxied") {
			t.Errorf("%s: %s", res.Status, res.Detail)
		}
	})

	t.Run("without the EHR launch API's URL the proxied endpoints fail issuer-discovery, naming the flag", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.EHRLaunchAPI, cfg.EHRLaunch = "", nil
		failure(t, run(t, cfg), smartcheck.CheckIssuerDiscovery, "pass --stack or --ehr-launch-api")
	})

	t.Run("a jwks_uri under the EHR launch API is still a mismatch", func(t *testing.T) {
		cfg := proxy(t, w.Sandbox, ehrConfig(t, w), func(m map[string]any) { m["jwks_uri"] = w.APIURL + "/keys" }, nil)
		cfg.EHRLaunch = nil
		failure(t, run(t, cfg), smartcheck.CheckIssuerDiscovery, "jwks_uri is "+w.APIURL+"/keys in the SMART configuration")
	})

	t.Run("credentials of another caller are named as not an EHR role", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.EHRLaunch.Credentials = credentials.NewStaticCredentialsProvider(ehrsandbox.EHRAccessKeyID, "wrong", "")
		failure(t, run(t, cfg), smartcheck.CheckEHRLaunch, "not one of the EHR roles")
	})

	t.Run("without --ehr-launch the check does not run", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.EHRLaunch = nil
		if _, ok := run(t, cfg).Result(smartcheck.CheckEHRLaunch); ok {
			t.Error("the ehr-launch check ran")
		}
	})
}

// reusableStore is a broken launch store: a consumed launch resolves again for
// the same client, as a store that reads without deleting would.
type reusableStore struct {
	launchflow.Store
	mu   sync.Mutex
	used map[string]launchstore.LaunchContext
}

func (s *reusableStore) ConsumeLaunch(ctx context.Context, id, clientID string) (launchstore.LaunchContext, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lc, ok := s.used[id]; ok && lc.ClientID == clientID {
		return lc, nil
	}
	lc, err := s.Store.ConsumeLaunch(ctx, id, clientID)
	if err == nil {
		s.used[id] = lc
	}
	return lc, err
}

// leakingGateway is a broken proxy: it adds the patient id to the redirect to
// the authorization server, as login_hint.
func leakingGateway(patient string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Path == ehrlaunchenv.PathAuthorize {
				rw = &locationRewriter{ResponseWriter: rw, add: url.Values{"login_hint": {patient}}}
			}
			next.ServeHTTP(rw, r)
		})
	}
}

type locationRewriter struct {
	http.ResponseWriter
	add url.Values
}

func (l *locationRewriter) WriteHeader(status int) {
	if u, err := url.Parse(l.Header().Get("Location")); err == nil && status == http.StatusFound && strings.Contains(u.Path, "/v1/authorize") {
		q := u.Query()
		for k, v := range l.add {
			q[k] = v
		}
		u.RawQuery = q.Encode()
		l.Header().Set("Location", u.String())
	}
	l.ResponseWriter.WriteHeader(status)
}

// issuerAnswer makes the authorization server's authorize endpoint answer
// with the given response, as Okta does without a session: a sign-in page
// (200, HTML), or a redirect to its own /login/login.htm, or, when it cannot
// verify the redirect URI (RFC 6749 4.1.2.1), a 400 error page rather than a
// redirect.
type issuerAnswer struct {
	next     http.RoundTripper
	issuer   string
	status   int
	ctype    string
	location string
	body     string
}

func (s issuerAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.URL.String(), s.issuer+"/v1/authorize?") {
		h := http.Header{"Content-Type": {s.ctype}}
		if s.location != "" {
			h.Set("Location", s.location)
		}
		return &http.Response{StatusCode: s.status, Header: h, Body: io.NopCloser(strings.NewReader(s.body)), Request: r}, nil
	}
	return s.next.RoundTrip(r)
}

// launchSearch rewrites the data store's answers to Observation searches made
// with a launch's token (scp has "launch"): next, when set, is the Bundle a
// second page (the first page's next link, FHIR R4 Bundle.link) answers;
// without it every search answers an empty searchset.
type launchSearch struct {
	next    http.RoundTripper
	fhir    string
	page2   string
	nextURL string // the first page's next link; default: the data store's page 2
}

func (l launchSearch) RoundTrip(r *http.Request) (*http.Response, error) {
	claims := jwt.MapClaims{}
	_, _, err := jwt.NewParser().ParseUnverified(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), claims)
	scp, _ := claims["scp"].([]any) // Okta's access tokens carry the scopes as scp, a list
	if err != nil || !slices.Contains(scp, any("launch")) || !strings.HasPrefix(r.URL.String(), l.fhir+"Observation") {
		return l.next.RoundTrip(r)
	}
	answer := func(body string) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/fhir+json"}}, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
	switch {
	case l.page2 == "":
		return answer(`{"resourceType":"Bundle","type":"searchset","total":0}`)
	case r.URL.Query().Get("_page") == "2":
		return answer(l.page2)
	}
	resp, err := l.next.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return nil, err
	}
	next := l.nextURL
	if next == "" {
		next = l.fhir + "Observation?_page=2"
	}
	m["link"] = []map[string]string{{"relation": "self", "url": r.URL.String()}, {"relation": "next", "url": next}}
	b, _ := json.Marshal(m)
	return answer(string(b))
}

// openHook is a broken deployment: the hook answers anyone, as a hook
// without its secret check (or a stand-in in front of it) would.
func openHook(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == ehrlaunchenv.PathHook && r.Header.Get("Authorization") == "" {
			rw.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(rw, `{"commands":[]}`)
			return
		}
		next.ServeHTTP(rw, r)
	})
}

func TestEHRLaunchFailsAgainstBrokenProxies(t *testing.T) {
	t.Run("a proxy that accepts a reused launch fails the ehr-launch check", func(t *testing.T) {
		w := startEHR(t, ehrsandbox.Config{Store: func(s launchflow.Store) launchflow.Store {
			return &reusableStore{Store: s, used: map[string]launchstore.LaunchContext{}}
		}})
		rep := run(t, ehrConfig(t, w))
		failure(t, rep, smartcheck.CheckEHRLaunch, "the same launch a second time: the authorize proxy accepted it and sent the app on to the issuer: a launch id must be single use")
		if got := rep.Failed(); len(got) != 1 {
			t.Errorf("failed checks %v, want only %s", got, smartcheck.CheckEHRLaunch)
		}
	})

	t.Run("a proxy that puts the patient id in the redirect to the issuer fails the ehr-launch check", func(t *testing.T) {
		w := startEHR(t, ehrsandbox.Config{Gateway: leakingGateway("p2")})
		failure(t, run(t, ehrConfig(t, w)), smartcheck.CheckEHRLaunch, "the redirect to the issuer carries the patient id in login_hint")
	})

	t.Run("a validator that grants more than the launch's patient fails the ehr-launch check's FHIR search", func(t *testing.T) {
		w := startEHR(t, ehrsandbox.Config{Sandbox: sandbox.Config{IdPBinary: brokenIdP["extrascope"]}})
		failure(t, run(t, ehrConfig(t, w)), smartcheck.CheckEHRLaunch, "the token reaches beyond the launch's patient p2")
	})

	t.Run("against an authorization server that shows a sign-in page the check is skipped, not passed, and says what is unverified", func(t *testing.T) {
		w := startEHR(t, ehrsandbox.Config{})
		for name, answer := range map[string]issuerAnswer{
			"a 200 HTML page":          {status: http.StatusOK, ctype: "text/html; charset=utf-8", body: "<html><body>Sign in</body></html>"},
			"a 302 to its own sign-in": {status: http.StatusFound, ctype: "text/html", location: w.Issuer + "/../login/login.htm?fromURI=x"},
		} {
			cfg := ehrConfig(t, w)
			answer.next, answer.issuer = cfg.HTTPClient.Transport, w.Issuer
			cfg.HTTPClient.Transport = answer
			rep := run(t, cfg)
			res, _ := rep.Result(smartcheck.CheckEHRLaunch)
			if !rep.Passed || res.Status != smartcheck.Skip || !strings.Contains(res.Detail, "stopped at the sign-in") ||
				!strings.Contains(res.Detail, "token hook, the token response and the FHIR access are unverified") ||
				!strings.Contains(res.Detail, "POST /hook without the hook secret: refused") || strings.Contains(res.Detail, "signed in without a browser") {
				t.Errorf("%s: passed %v, %s: %s", name, rep.Passed, res.Status, res.Detail)
			}
		}
	})

	t.Run("an authorization server that answers the proxied request with an error page fails the check with the page's text", func(t *testing.T) {
		w := startEHR(t, ehrsandbox.Config{})
		for _, status := range []int{http.StatusBadRequest, http.StatusInternalServerError} {
			cfg := ehrConfig(t, w)
			cfg.HTTPClient.Transport = issuerAnswer{next: cfg.HTTPClient.Transport, issuer: w.Issuer, status: status, ctype: "text/html",
				body: "<html><body>400 Bad Request: The 'redirect_uri' parameter must be a Login redirect URI in the client app settings</body></html>"}
			rep := run(t, cfg)
			failure(t, rep, smartcheck.CheckEHRLaunch, fmt.Sprintf("answered the proxied authorize request with HTTP %d", status))
			failure(t, rep, smartcheck.CheckEHRLaunch, "The 'redirect_uri' parameter must be a Login redirect URI")
		}
	})

	t.Run("a redirect to another host is not a sign-in page", func(t *testing.T) {
		w := startEHR(t, ehrsandbox.Config{})
		cfg := ehrConfig(t, w)
		cfg.HTTPClient.Transport = issuerAnswer{next: cfg.HTTPClient.Transport, issuer: w.Issuer, status: http.StatusFound, ctype: "text/html", location: "https://elsewhere.example/cb?error=x"}
		failure(t, run(t, cfg), smartcheck.CheckEHRLaunch, "HTTP 302")
	})

	t.Run("a token hook that checks only that an Authorization header is there fails the check", func(t *testing.T) {
		var secret string // set once the world has started, before any request
		w := startEHR(t, ehrsandbox.Config{Gateway: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
				if auth := r.Header.Get("Authorization"); r.URL.Path == ehrlaunchenv.PathHook && auth != "" && auth != secret {
					rw.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(rw, `{"commands":[]}`)
					return
				}
				next.ServeHTTP(rw, r)
			})
		}})
		secret = w.HookSecret
		failure(t, run(t, ehrConfig(t, w)), smartcheck.CheckEHRLaunch, "/hook with a wrong hook secret answered HTTP 200, not 401 or 403")
	})

	t.Run("a token hook that answers a caller without its secret fails the check", func(t *testing.T) {
		w := startEHR(t, ehrsandbox.Config{Gateway: openHook})
		failure(t, run(t, ehrConfig(t, w)), smartcheck.CheckEHRLaunch, "/hook without an Authorization header answered HTTP 200, not 401 or 403")
	})
}

func TestEHRLaunchFHIRSearch(t *testing.T) {
	w := startEHR(t, ehrsandbox.Config{})

	t.Run("another patient's Observation on the search's second page fails the check", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.HTTPClient.Transport = launchSearch{next: cfg.HTTPClient.Transport, fhir: w.FHIREndpoint,
			page2: `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Observation","id":"o9","subject":{"reference":"Patient/p1"}}}]}`}
		failure(t, run(t, cfg), smartcheck.CheckEHRLaunch, "returned Observation/o9 of Patient/p1 (page 2): the token reaches beyond the launch's patient p2")
	})

	t.Run("a second page of the patient's own Observations passes and is counted", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.HTTPClient.Transport = launchSearch{next: cfg.HTTPClient.Transport, fhir: w.FHIREndpoint,
			page2: `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Observation","id":"o9","subject":{"reference":"Patient/p2"}}}]}`}
		res, _ := run(t, cfg).Result(smartcheck.CheckEHRLaunch)
		if res.Status != smartcheck.Pass || !strings.Contains(res.Detail, "on 2 pages, all of Patient/p2") {
			t.Errorf("%s: %s", res.Status, res.Detail)
		}
	})

	t.Run("a next link off the FHIR endpoint is not followed with the launch's token", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.HTTPClient.Transport = launchSearch{next: cfg.HTTPClient.Transport, fhir: w.FHIREndpoint, nextURL: "https://elsewhere.example/r4/Observation?_page=2",
			page2: `{"resourceType":"Bundle","type":"searchset"}`}
		failure(t, run(t, cfg), smartcheck.CheckEHRLaunch, "next link https://elsewhere.example/r4/Observation?_page=2 is not under the FHIR endpoint")
	})

	t.Run("a search with no entry skips the check rather than pass it", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.HTTPClient.Transport = launchSearch{next: cfg.HTTPClient.Transport, fhir: w.FHIREndpoint}
		rep := run(t, cfg)
		res, _ := rep.Result(smartcheck.CheckEHRLaunch)
		if res.Status != smartcheck.Skip || !strings.Contains(res.Detail, "returned no entry") || !strings.Contains(res.Detail, "token response with patient p2") {
			t.Errorf("%s: %s", res.Status, res.Detail)
		}
	})
}

func TestEHRLaunchConfidentialApp(t *testing.T) {
	w := startEHR(t, ehrsandbox.Config{})

	t.Run("a confidential app with its client secret is played through to the FHIR search", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.EHRLaunch.ClientID, cfg.EHRLaunch.OtherClientID = sandbox.EHRWebClientID, sandbox.EHRAppClientID
		cfg.EHRLaunch.ClientSecret = w.Sandbox.EHRWebSecret
		res, _ := run(t, cfg).Result(smartcheck.CheckEHRLaunch)
		if res.Status != smartcheck.Pass || !strings.Contains(res.Detail, "token response with patient p2") || !strings.Contains(res.Detail, "all of Patient/p2") {
			t.Errorf("%s: %s", res.Status, res.Detail)
		}
	})

	t.Run("a confidential app without its secret fails, naming the environment variable", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.EHRLaunch.ClientID, cfg.EHRLaunch.OtherClientID = sandbox.EHRWebClientID, sandbox.EHRAppClientID
		rep := run(t, cfg)
		failure(t, rep, smartcheck.CheckEHRLaunch, "invalid_client")
		failure(t, rep, smartcheck.CheckEHRLaunch, "may be a confidential app; set "+smartcheck.EnvEHRClientSecret)
	})

	t.Run("a wrong secret fails the token redemption", func(t *testing.T) {
		cfg := ehrConfig(t, w)
		cfg.EHRLaunch.ClientID, cfg.EHRLaunch.OtherClientID = sandbox.EHRWebClientID, sandbox.EHRAppClientID
		cfg.EHRLaunch.ClientSecret = "not-" + w.Sandbox.EHRWebSecret
		failure(t, run(t, cfg), smartcheck.CheckEHRLaunch, "redeeming the code")
	})
}

func TestCommandEHRLaunch(t *testing.T) {
	w := startEHR(t, ehrsandbox.Config{})
	base := []string{"--fhir-endpoint", w.FHIREndpoint, "--issuer", w.Issuer, "--token-endpoint", w.TokenEndpoint,
		"--client-id", sandbox.BackendClientID, "--private-key", w.KeyFile, "--key-id", w.KeyID, "--scope", w.Scope, "--ca-file", w.CAFile,
		"--ehr-launch-api", w.APIURL}

	t.Run("--ehr-launch signs POST /launch with the default credential chain's credentials", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", ehrsandbox.EHRAccessKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", w.EHRSecretKey)
		t.Setenv("AWS_REGION", ehrsandbox.Region)
		t.Setenv("AWS_CONFIG_FILE", os.DevNull)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		code, out, _ := mainRun(t, append(base, "--ehr-launch", "--ehr-client-id", sandbox.EHRAppClientID,
			"--ehr-redirect-uri", ehrsandbox.AppRedirectURI, "--ehr-patient", "p1")...)
		if code != smartcheck.ExitOK || !strings.Contains(out, "PASS  "+smartcheck.CheckEHRLaunch) {
			t.Errorf("exit %d, want 0 with the ehr-launch check passed", code)
		}
	})

	t.Run("--ehr-launch reads a confidential app's secret from the environment", func(t *testing.T) {
		t.Setenv("AWS_ACCESS_KEY_ID", ehrsandbox.EHRAccessKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", w.EHRSecretKey)
		t.Setenv("AWS_REGION", ehrsandbox.Region)
		t.Setenv("AWS_CONFIG_FILE", os.DevNull)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		t.Setenv(smartcheck.EnvEHRClientSecret, w.Sandbox.EHRWebSecret)
		code, out, _ := mainRun(t, append(base, "--ehr-launch", "--ehr-client-id", sandbox.EHRWebClientID,
			"--ehr-redirect-uri", ehrsandbox.AppRedirectURI, "--ehr-patient", "p1")...)
		if code != smartcheck.ExitOK || !strings.Contains(out, "PASS  "+smartcheck.CheckEHRLaunch) || strings.Contains(out, w.Sandbox.EHRWebSecret) {
			t.Errorf("exit %d, want 0 with the ehr-launch check passed and no secret in the output", code)
		}
	})

	t.Run("--ehr-launch without the app and patient is a usage error", func(t *testing.T) {
		code, _, errOut := mainRun(t, append(base, "--ehr-launch")...)
		if code != smartcheck.ExitUsage || !strings.Contains(errOut, "--ehr-client-id, --ehr-redirect-uri and --ehr-patient") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}
