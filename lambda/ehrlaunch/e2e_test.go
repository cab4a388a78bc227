package main_test

// The EHR launch end to end, offline: the sandbox's Okta stand-in (with the
// authorization_code grant and a token inline hook called at code issuance),
// the emulated HealthLake calling a real process of the token-validation
// Lambda, and this Lambda's HTTP handler behind an API Gateway emulation
// (SigV4 verification for POST /launch, REST proxy events through the same
// adapter main.go uses) with its table in fakedynamodb: package ehrsandbox.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/randhex"
	"github.com/openhealthstack/smart-healthlake/internal/sandbox"
	"github.com/openhealthstack/smart-healthlake/internal/syncbuf"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/ehrsandbox"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakedynamodb"
)

var idpBinary string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "ehrlaunch-e2e")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if idpBinary, err = sandbox.BuildIdP(ctx, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}())
}

const (
	appRedirect = ehrsandbox.AppRedirectURI
	otherAppID  = ehrsandbox.OtherAppID
	ehrKeyID    = ehrsandbox.EHRAccessKeyID
	region      = ehrsandbox.Region
)

// world is one running deployment (package ehrsandbox's assembly), with the
// test's knobs on the API Gateway emulation's hook route.
type world struct {
	sb       *ehrsandbox.World
	proxyURL string
	fake     *fakedynamodb.Server
	now      atomic.Int64
	hookSlow atomic.Int64   // delay added to each hook answer, nanoseconds
	hook500  atomic.Bool    // the hook's front answers 500 without running it
	secret   string         // the EHR role's secret key
	idpLog   syncbuf.Buffer // the validator process's log lines
	browser  *http.Client   // the app's user agent: follows redirects until the app's redirect URI
	client   *http.Client   // the app's back end
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, nil)
}

// newWorldWith lets a test change the deployment's configuration.
func newWorldWith(t *testing.T, edit func(*ehrsandbox.Config)) *world {
	t.Helper()
	if idpBinary == "" {
		t.Skip("-short: needs the validator binary TestMain builds")
	}
	w := &world{}
	w.now.Store(time.Now().Unix())
	clock := func() time.Time { return time.Unix(w.now.Load(), 0) }
	cfg := ehrsandbox.Config{
		Sandbox: sandbox.Config{
			IdPBinary: idpBinary, Dir: t.TempDir(), LambdaOutput: &w.idpLog,
			// Okta's is 3 s; shortened to keep the test quick.
			EHRLaunch: &sandbox.EHRLaunch{HookTimeout: time.Second},
		},
		Now: clock,
		// The public app is a clinicians' app: its standalone launch/patient
		// requests go through the patient picker.
		PatientPicker: true,
		Gateway: ehrsandbox.Delayed(ehrlaunchenv.PathHook, func() time.Duration {
			if w.hook500.Load() {
				return -1
			}
			return time.Duration(w.hookSlow.Load())
		}),
	}
	if edit != nil {
		edit(&cfg)
	}
	sb, err := ehrsandbox.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	w.sb, w.proxyURL, w.fake, w.secret = sb, sb.APIURL, sb.DB, sb.EHRSecretKey

	if w.client, err = sb.HTTPClient(); err != nil {
		t.Fatal(err)
	}
	w.browser = w.newBrowser(t)
	return w
}

// newBrowser is a user's browser: it keeps cookies (Go's cookie jar, with
// the rules browsers apply: Secure, Path, host-only) and follows redirects
// between the sandbox's servers (the API, the Okta stand-in), stopping at
// the first one leaving them: the app's redirect URI.
func (w *world) newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: w.client.Transport, Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Hostname() != "127.0.0.1" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// register is the EHR: a SigV4-signed POST /launch.
func (w *world) register(t *testing.T, ctx map[string]any, secret string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(ctx)
	req, _ := http.NewRequest(http.MethodPost, w.proxyURL+ehrlaunchenv.PathLaunch, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: ehrKeyID, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "execute-api", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var lr launchflow.LaunchResponse
	_ = json.NewDecoder(resp.Body).Decode(&lr)
	return resp.StatusCode, lr.Launch
}

func (w *world) launchFor(t *testing.T, clientID, patient string) string {
	t.Helper()
	st, id := w.register(t, map[string]any{"client_id": clientID, "aud": w.sb.FHIREndpoint, "patient": patient,
		"encounter": "enc-1", "need_patient_banner": true, "smart_style_url": "https://ehr.example/style.json"}, w.secret)
	if st != http.StatusCreated {
		t.Fatalf("POST /launch = %d", st)
	}
	return id
}

// app is a SMART app (its client id and redirect URI) and one authorization
// request's state.
type app struct {
	clientID, redirect string
	verifier, state    string
}

// newApp is the sandbox's public EHR app.
func newApp() app { return newAppOf(sandbox.EHRAppClientID, appRedirect) }

func newAppOf(clientID, redirect string) app {
	return app{clientID: clientID, redirect: redirect, verifier: randhex.String(32), state: "st-" + randhex.String(8)}
}

func (a app) challenge() string {
	s := sha256.Sum256([]byte(a.verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// authorize follows the redirects from the proxy's authorize endpoint to the
// app's redirect URI in the user's browser, and returns that last URL's query.
func (w *world) authorize(t *testing.T, a app, launch string, edit func(url.Values)) url.Values {
	t.Helper()
	u := w.authorizeURL(a, launch, edit)
	resp, err := w.browser.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return atApp(t, resp, u.Query().Get("redirect_uri"))
}

// authorizeURL is app a's request to the proxy's authorize endpoint: an EHR
// launch with the launch scope, edited by edit.
func (w *world) authorizeURL(a app, launch string, edit func(url.Values)) *url.URL {
	q := url.Values{
		"response_type": {"code"}, "client_id": {a.clientID}, "redirect_uri": {a.redirect},
		"scope": {"launch openid patient/Observation.rs patient/Patient.rs"}, "state": {a.state},
		"aud": {w.sb.FHIREndpoint}, "launch": {launch},
		"code_challenge": {a.challenge()}, "code_challenge_method": {"S256"},
	}
	if edit != nil {
		edit(q)
	}
	u, _ := url.Parse(w.proxyURL + ehrlaunchenv.PathAuthorize + "?" + q.Encode())
	return u
}

// atApp is the query of a browser's last response, a redirect to the app's
// redirect URI.
func atApp(t *testing.T, resp *http.Response, redirect string) url.Values {
	t.Helper()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), redirect+"?") {
		t.Fatalf("the browser ended with %d at %v, not at the app's %s", resp.StatusCode, resp.Request.URL, redirect)
	}
	return loc.Query()
}

func (w *world) redeem(t *testing.T, a app, code string) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {a.redirect},
		"client_id": {a.clientID}, "code_verifier": {a.verifier}}
	resp, err := w.client.PostForm(w.proxyURL+ehrlaunchenv.PathToken, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode == http.StatusOK && resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("token response without Cache-Control: no-store")
	}
	return resp.StatusCode, m
}

func (w *world) fhir(t *testing.T, token, path string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.sb.FHIREndpoint+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := w.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestEHRLaunchEndToEnd(t *testing.T) {
	w := newWorld(t)
	a := newApp()
	launch := w.launchFor(t, sandbox.EHRAppClientID, "p2")
	back := w.authorize(t, a, launch, nil)
	if back.Get("state") != a.state || back.Get("code") == "" {
		t.Fatalf("the app got %v", back)
	}
	st, tok := w.redeem(t, a, back.Get("code"))
	if st != http.StatusOK {
		t.Fatalf("token = %d %v", st, tok)
	}
	t.Run("the token response carries the EHR's context at the top level", func(t *testing.T) {
		if tok["patient"] != "p2" || tok["encounter"] != "enc-1" || tok["need_patient_banner"] != true || tok["smart_style_url"] != "https://ehr.example/style.json" {
			t.Fatalf("token response %v", tok)
		}
	})
	at, _ := tok["access_token"].(string)
	t.Run("the FHIR search through the emulated HealthLake returns only that patient's data", func(t *testing.T) {
		st, b := w.fhir(t, at, "Observation")
		if st != http.StatusOK {
			t.Fatalf("search = %d %v", st, b)
		}
		entries, _ := b["entry"].([]any)
		if len(entries) != 1 {
			t.Fatalf("%d entries, want p2's one Observation: %v", len(entries), b)
		}
		res := entries[0].(map[string]any)["resource"].(map[string]any)
		if res["id"] != "o2" {
			t.Fatalf("got %v", res)
		}
	})
	t.Run("another patient's record is refused", func(t *testing.T) {
		if st, _ := w.fhir(t, at, "Patient/p1"); st != http.StatusForbidden {
			t.Fatalf("read Patient/p1 = %d", st)
		}
		if st, _ := w.fhir(t, at, "Patient/p2"); st != http.StatusOK {
			t.Fatalf("read Patient/p2 = %d", st)
		}
	})
	t.Run("the code cannot be redeemed twice", func(t *testing.T) {
		if st, _ := w.redeem(t, a, back.Get("code")); st == http.StatusOK {
			t.Fatal("second redemption issued a token")
		}
	})
	t.Run("the launch id cannot be used again", func(t *testing.T) {
		b := newApp()
		again := w.authorize(t, b, launch, nil)
		if again.Get("error") == "" || again.Get("code") != "" || again.Get("state") != b.state {
			t.Fatalf("the app got %v", again)
		}
	})
}

func TestEHRLaunchConfidentialClient(t *testing.T) {
	w := newWorld(t)
	start := func(t *testing.T) (app, string) {
		a := newAppOf(sandbox.EHRWebClientID, appRedirect)
		back := w.authorize(t, a, w.launchFor(t, sandbox.EHRWebClientID, "p2"), nil)
		if back.Get("code") == "" {
			t.Fatalf("the app got %v", back)
		}
		return a, back.Get("code")
	}
	redeem := func(t *testing.T, a app, code, secret string) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect}, "code_verifier": {a.verifier}}
		req, _ := http.NewRequest(http.MethodPost, w.proxyURL+ehrlaunchenv.PathToken, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(sandbox.EHRWebClientID), url.QueryEscape(secret))
		resp, err := w.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	t.Run("a confidential app redeems with HTTP Basic through the proxy and gets the context", func(t *testing.T) {
		a, code := start(t)
		st, tok := redeem(t, a, code, w.sb.EHRWebSecret)
		if st != http.StatusOK || tok["patient"] != "p2" {
			t.Fatalf("token = %d %v", st, tok)
		}
		at, _ := tok["access_token"].(string)
		if st, b := w.fhir(t, at, "Patient/p2"); st != http.StatusOK {
			t.Fatalf("read Patient/p2 = %d %v", st, b)
		}
	})
	t.Run("a wrong client secret gets no token", func(t *testing.T) {
		a, code := start(t)
		if st, tok := redeem(t, a, code, "wrong"); st != http.StatusUnauthorized {
			t.Fatalf("token = %d %v", st, tok)
		}
	})
}

func TestEHRLaunchRefusals(t *testing.T) {
	w := newWorld(t)
	refused := func(t *testing.T, back url.Values, a app) {
		t.Helper()
		if back.Get("code") != "" || back.Get("error") == "" || back.Get("state") != a.state {
			t.Fatalf("the app got %v, want an error with its state and no code", back)
		}
	}
	t.Run("a reused launch id is refused", func(t *testing.T) {
		id := w.launchFor(t, sandbox.EHRAppClientID, "p1")
		if back := w.authorize(t, newApp(), id, nil); back.Get("code") == "" {
			t.Fatalf("first use refused: %v", back)
		}
		a := newApp()
		refused(t, w.authorize(t, a, id, nil), a)
	})
	t.Run("an expired launch id is refused", func(t *testing.T) {
		id := w.launchFor(t, sandbox.EHRAppClientID, "p1")
		w.now.Add(301)
		defer w.now.Add(-301)
		a := newApp()
		refused(t, w.authorize(t, a, id, nil), a)
	})
	t.Run("another app's launch id is refused", func(t *testing.T) {
		a := newApp()
		refused(t, w.authorize(t, a, w.launchFor(t, otherAppID, "p1"), nil), a)
	})
	t.Run("a wrong aud is refused", func(t *testing.T) {
		a := newApp()
		refused(t, w.authorize(t, a, w.launchFor(t, sandbox.EHRAppClientID, "p1"), func(q url.Values) { q.Set("aud", "https://other.example/fhir") }), a)
	})
	t.Run("a request without PKCE is refused", func(t *testing.T) {
		a := newApp()
		refused(t, w.authorize(t, a, w.launchFor(t, sandbox.EHRAppClientID, "p1"), func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }), a)
	})
	t.Run("a wrong code_verifier gets no token", func(t *testing.T) {
		a := newApp()
		back := w.authorize(t, a, w.launchFor(t, sandbox.EHRAppClientID, "p1"), nil)
		a.verifier = randhex.String(32)
		if st, _ := w.redeem(t, a, back.Get("code")); st == http.StatusOK {
			t.Fatal("token issued")
		}
	})
	t.Run("an EHR with a wrong signing key registers nothing", func(t *testing.T) {
		before := len(w.fake.Items("ehr"))
		if st, _ := w.register(t, map[string]any{"client_id": sandbox.EHRAppClientID, "aud": w.sb.FHIREndpoint, "patient": "p1"}, "wrong"); st != http.StatusForbidden {
			t.Fatalf("status %d", st)
		}
		if len(w.fake.Items("ehr")) != before {
			t.Fatal("a launch was stored")
		}
	})
	t.Run("a forged hook call is refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, w.proxyURL+ehrlaunchenv.PathHook, strings.NewReader(`{"eventType":"com.okta.oauth2.tokens.transform"}`))
		req.Header.Set("Authorization", "guess")
		resp, err := w.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("a hook Okta cannot reach yields no code", func(t *testing.T) {
		w.hook500.Store(true)
		defer w.hook500.Store(false)
		before := w.sb.HookFailedOpen()
		a := newApp()
		refused(t, w.authorize(t, a, w.launchFor(t, sandbox.EHRAppClientID, "p1"), nil), a)
		if w.sb.HookFailedOpen() != before+1 {
			t.Fatal("the Okta stand-in did not fail open: the test proves nothing")
		}
	})
	t.Run("a hook that times out yields no token that reads patient data", func(t *testing.T) {
		w.hookSlow.Store(int64(1300 * time.Millisecond))
		defer w.hookSlow.Store(0)
		before := w.sb.HookFailedOpen()
		a := newApp()
		back := w.authorize(t, a, w.launchFor(t, sandbox.EHRAppClientID, "p1"), nil)
		if w.sb.HookFailedOpen() != before+1 {
			t.Fatal("the Okta stand-in did not fail open: the test proves nothing")
		}
		// The hook did its work (its answer was late), so the callback hands
		// the code over: only the token itself can show the context is missing.
		if back.Get("code") == "" {
			t.Fatalf("no code: %v", back)
		}
		st, tok := w.redeem(t, a, back.Get("code"))
		if st != http.StatusOK {
			t.Fatalf("token = %d %v", st, tok)
		}
		if _, ok := tok["patient"]; ok {
			t.Fatalf("a token issued without the hook's answer carries a patient: %v", tok)
		}
		at, _ := tok["access_token"].(string)
		st, b := w.fhir(t, at, "Observation")
		if st == http.StatusOK {
			t.Fatalf("FHIR search with the unchanged token = %d %v", st, b)
		}
		// Refused by the validator for the missing marker, not by the emulator.
		if !strings.Contains(w.idpLog.String(), `"launch_context_unverified"`) {
			t.Fatalf("the validator did not log launch_context_unverified; FHIR answered %d %v", st, b)
		}
	})
}

// openPicker sends app a's standalone launch/patient request in browser and
// returns the transaction of the picker page it gets.
func (w *world) openPicker(t *testing.T, browser *http.Client, a app) string {
	t.Helper()
	q := url.Values{
		"response_type": {"code"}, "client_id": {a.clientID}, "redirect_uri": {a.redirect},
		"scope": {"openid fhirUser launch/patient patient/Observation.rs patient/Patient.rs"}, "state": {a.state},
		"aud": {w.sb.FHIREndpoint}, "code_challenge": {a.challenge()}, "code_challenge_method": {"S256"},
	}
	resp, err := browser.Get(w.proxyURL + ehrlaunchenv.PathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("authorize = %d %s: want the picker page", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	_, rest, ok := strings.Cut(string(page), `name="tx" value="`)
	tx, _, _ := strings.Cut(rest, `"`)
	if !ok || tx == "" {
		t.Fatalf("the picker page has no tx field: %s", page)
	}
	return tx
}

// pick posts the picker form of transaction tx in browser, as the page does.
func (w *world) pick(t *testing.T, browser *http.Client, tx, patient string) *http.Response {
	t.Helper()
	f := url.Values{"tx": {tx}, "patient": {patient}}
	req, _ := http.NewRequest(http.MethodPost, w.proxyURL+ehrlaunchenv.PathPicker, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.proxyURL)
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestStandalonePatientPickerEndToEnd: a clinician's standalone app asks for
// launch/patient without a launch; the proxy shows the picker before Okta's
// sign-in, the clinician enters a patient id, Okta's stand-in signs in the
// practitioner and calls the hook at code issuance, and the token is limited
// to the picked patient.
func TestStandalonePatientPickerEndToEnd(t *testing.T) {
	w := newWorld(t)
	a := newApp()
	tx := w.openPicker(t, w.browser, a)
	t.Run("a form post from another browser goes nowhere", func(t *testing.T) {
		if resp := w.pick(t, w.newBrowser(t), tx, "p2"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("post = %d", resp.StatusCode)
		}
	})
	// The browser follows the 303 to Okta, Okta's sign-in and hook, and the
	// callback's redirect, up to the app; its cookie jar carries the binding
	// cookie to the picker and the callback.
	back := atApp(t, w.pick(t, w.browser, tx, "p2"), a.redirect)
	if back.Get("state") != a.state || back.Get("code") == "" {
		t.Fatalf("the app got %v", back)
	}
	st, tok := w.redeem(t, a, back.Get("code"))
	if st != http.StatusOK {
		t.Fatalf("token = %d %v", st, tok)
	}
	t.Run("the token response carries the picked patient", func(t *testing.T) {
		if tok["patient"] != "p2" || tok["need_patient_banner"] != true {
			t.Fatalf("token response %v", tok)
		}
	})
	at, _ := tok["access_token"].(string)
	t.Run("the FHIR calls through the emulated HealthLake are limited to the picked patient", func(t *testing.T) {
		if st, _ := w.fhir(t, at, "Patient/p2"); st != http.StatusOK {
			t.Fatalf("read Patient/p2 = %d", st)
		}
		if st, _ := w.fhir(t, at, "Patient/p1"); st != http.StatusForbidden {
			t.Fatalf("read Patient/p1 = %d", st)
		}
	})
}

// TestBackendServiceThroughTheTokenProxy: a SMART backend service discovers
// the token endpoint in the SMART configuration (the proxy's, with EHR launch
// on) and signs its assertion for it; the proxy verifies it and signs its own
// with the KMS key for the Okta stand-in, which verifies that one as Okta
// does (aud its token URL, kid, single-use jti) against the client's JWKS,
// which holds the service's key and the proxy's, as the Okta custom resource
// registers them.
func TestBackendServiceThroughTheTokenProxy(t *testing.T) {
	w := newWorld(t)
	resp, err := w.client.Get(w.sb.FHIREndpoint + ".well-known/smart-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&conf)
	resp.Body.Close()
	if conf.TokenEndpoint != w.proxyURL+ehrlaunchenv.PathToken {
		t.Fatalf("token_endpoint %q, want the proxy's", conf.TokenEndpoint)
	}
	assertion := func(t *testing.T, aud string) string {
		t.Helper()
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodRS384, jwt.RegisteredClaims{
			Issuer: sandbox.EHRBackendClientID, Subject: sandbox.EHRBackendClientID, Audience: jwt.ClaimStrings{aud},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(4 * time.Minute)), ID: randhex.String(16),
		})
		tok.Header["kid"] = w.sb.EHRBackendKeyID
		s, err := tok.SignedString(w.sb.BackendKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	token := func(t *testing.T, endpoint, a string) (int, map[string]any) {
		t.Helper()
		resp, err := w.client.PostForm(endpoint, url.Values{"grant_type": {"client_credentials"}, "scope": {w.sb.Scope},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	mine := assertion(t, conf.TokenEndpoint)
	t.Run("an assertion signed for the advertised token endpoint gets a token that reads FHIR data", func(t *testing.T) {
		st, tok := token(t, conf.TokenEndpoint, mine)
		if st != http.StatusOK || tok["scope"] != w.sb.Scope {
			t.Fatalf("token = %d %v", st, tok)
		}
		at, _ := tok["access_token"].(string)
		if st, b := w.fhir(t, at, "Patient"); st != http.StatusOK || b["resourceType"] != "Bundle" {
			t.Fatalf("search = %d %v", st, b)
		}
		if n := w.sb.KMS.Calls("Sign"); n != 1 {
			t.Fatalf("%d KMS Sign calls, want 1", n)
		}
	})
	t.Run("the same assertion again is refused by the proxy", func(t *testing.T) {
		st, tok := token(t, conf.TokenEndpoint, mine)
		if st != http.StatusUnauthorized || tok["error"] != "invalid_client" {
			t.Fatalf("replay = %d %v", st, tok)
		}
	})
	t.Run("the service's own assertion sent straight to the authorization server still works", func(t *testing.T) {
		if st, tok := token(t, w.sb.TokenEndpoint, assertion(t, w.sb.TokenEndpoint)); st != http.StatusOK {
			t.Fatalf("token = %d %v", st, tok)
		}
	})
	t.Run("an assertion for the proxy sent straight to the authorization server is refused there", func(t *testing.T) {
		if st, tok := token(t, w.sb.TokenEndpoint, assertion(t, conf.TokenEndpoint)); st != http.StatusUnauthorized {
			t.Fatalf("token = %d %v", st, tok)
		}
	})
	t.Run("an assertion for the authorization server sent to the proxy is refused", func(t *testing.T) {
		st, tok := token(t, conf.TokenEndpoint, assertion(t, w.sb.TokenEndpoint))
		if st != http.StatusUnauthorized || !strings.Contains(fmt.Sprint(tok["error_description"]), conf.TokenEndpoint) {
			t.Fatalf("token = %d %v", st, tok)
		}
	})
}
