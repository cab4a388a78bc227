package launchflow_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/syncbuf"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakedynamodb"
)

const (
	table       = "ehr-launch"
	fhirAud     = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"
	appID       = "app-1"
	otherApp    = "app-2"
	appRedir    = "https://app.example/cb"
	otherRedir  = "https://other.example/cb"
	pickerApp   = "picker-app"
	pickerRedir = "https://clinic.example/cb"
	ehrRole     = "arn:aws:iam::123456789012:role/ehr/EhrLauncher"
	ehrSession  = "arn:aws:sts::123456789012:assumed-role/EhrLauncher/epic-1"
	hookSecret  = "test-hook-secret-value"
	verifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

var challenge = func() string {
	s := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}()

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(c.t.Load(), 0) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d / time.Second)) }

type harness struct {
	t      testing.TB
	srv    *httptest.Server
	base   string       // the API's public URL: srv.URL and the stage path, if any
	browse *http.Client // the user's browser: h.do's client, with its cookie jar
	fake   *fakedynamodb.Server
	clock  *clock
	okta   *httptest.Server // token endpoint stand-in
	caller string           // the SigV4 principal API Gateway would report
	oktaFn http.HandlerFunc
	cfg    ehrlaunchenv.Config
	logs   *syncbuf.Buffer // the server's JSON log
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith lets a test change the server's options.
func newHarnessWith(t testing.TB, edit func(*launchflow.Options)) *harness {
	t.Helper()
	return newHarnessOf(t, harnessConfig{edit: edit})
}

// newHarnessEnv lets a test change the function's environment too (before
// it is parsed) and the options (after the AWS environment is set).
func newHarnessEnv(t testing.TB, editEnv func(map[string]string), edit func(*launchflow.Options)) *harness {
	t.Helper()
	return newHarnessOf(t, harnessConfig{editEnv: editEnv, edit: edit})
}

// harnessConfig is how a test's harness differs from the default one.
type harnessConfig struct {
	// stage serves the API under a stage path ("/prod"), as API Gateway
	// does: the public URL has it, and the function sees the path without it.
	stage string
	// editEnv changes the function's environment before it is parsed.
	editEnv func(map[string]string)
	// edit changes the server's options.
	edit func(*launchflow.Options)
	// store wraps the launch store, for tests of a broken one.
	store func(launchflow.Store) launchflow.Store
}

func newHarnessOf(t testing.TB, hc harnessConfig) *harness {
	t.Helper()
	stage, edit, editEnv := hc.stage, hc.edit, hc.editEnv
	h := &harness{t: t, clock: &clock{}, caller: ehrSession, browse: newBrowser(t)}
	h.clock.t.Store(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC).Unix())
	h.fake = fakedynamodb.New(t)
	h.fake.CreateTable(table, launchstore.KeyAttribute, launchstore.TTLAttribute)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", h.fake.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h.okta = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.oktaFn(w, r) }))
	t.Cleanup(h.okta.Close)

	mux := http.NewServeMux()
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	h.base = h.srv.URL + stage
	env := map[string]string{
		ehrlaunchenv.EnvTable:         table,
		ehrlaunchenv.EnvOktaIssuer:    h.okta.URL + "/oauth2/aus1ehrlaunch",
		ehrlaunchenv.EnvFHIRAudience:  fhirAud,
		ehrlaunchenv.EnvPublicURL:     h.base,
		ehrlaunchenv.EnvClients:       `[{"client_id":"` + appID + `","redirect_uris":["` + appRedir + `"]},{"client_id":"` + otherApp + `","redirect_uris":["` + otherRedir + `"]},{"client_id":"` + pickerApp + `","redirect_uris":["` + pickerRedir + `"],"patient_picker":true}]`,
		ehrlaunchenv.EnvEHRPrincipals: ehrRole,
		ehrlaunchenv.EnvHookSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ehr-hook-AbCdEf",
		ehrlaunchenv.EnvCORSOrigins:   "https://app.example",
	}
	if editEnv != nil {
		editEnv(env)
	}
	h.cfg, err = ehrlaunchenv.Parse(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var store launchflow.Store = launchstore.New(dynamodb.NewFromConfig(awsCfg), table, h.clock.now)
	if hc.store != nil {
		store = hc.store(store)
	}
	h.logs = &syncbuf.Buffer{}
	opts := launchflow.Options{
		HookSecret: hookSecret, Now: h.clock.now, Logger: slog.New(slog.NewJSONHandler(h.logs, nil)),
		Caller: func(*http.Request) (string, bool) { return h.caller, h.caller != "" },
	}
	if edit != nil {
		edit(&opts)
	}
	s, err := launchflow.New(h.cfg, store, opts)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", s)
	if stage != "" {
		mux.Handle(stage+"/", http.StripPrefix(stage, s))
	}
	return h
}

// noRedirect is a client that shows redirects instead of following them,
// and keeps no cookies: a request carries only the cookies a test adds.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// newBrowser is a user's browser: it keeps cookies as browsers do (Go's
// cookie jar, which like browsers sends Secure cookies to loopback hosts over
// http) and shows redirects instead of following them.
func newBrowser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
}

// do sends a request from the user's browser.
func (h *harness) do(req *http.Request) (*http.Response, []byte) {
	h.t.Helper()
	return h.doWith(h.browse, req)
}

// doWith sends a request with a client of the test's choice.
func (h *harness) doWith(c *http.Client, req *http.Request) (*http.Response, []byte) {
	h.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp, b.Bytes()
}

func (h *harness) post(path, contentType string, body []byte, header http.Header) (*http.Response, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	return h.do(req)
}

func (h *harness) get(path string, q url.Values) *http.Response {
	h.t.Helper()
	return h.getWith(h.browse, path, q)
}

// getWith sends a GET to one of the API's paths with a client of the test's choice.
func (h *harness) getWith(c *http.Client, path string, q url.Values) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.base+path+"?"+q.Encode(), nil)
	resp, _ := h.doWith(c, req)
	return resp
}

func launchBody(m map[string]any) []byte {
	base := map[string]any{"client_id": appID, "aud": fhirAud, "patient": "pat-123", "encounter": "enc-9", "need_patient_banner": true}
	for k, v := range m {
		if v == nil {
			delete(base, k)
		} else {
			base[k] = v
		}
	}
	b, _ := json.Marshal(base)
	return b
}

// register posts a launch and returns its id.
func (h *harness) register(m map[string]any) string {
	h.t.Helper()
	resp, body := h.post(ehrlaunchenv.PathLaunch, "application/json", launchBody(m), nil)
	if resp.StatusCode != http.StatusCreated {
		h.t.Fatalf("POST /launch = %d %s", resp.StatusCode, body)
	}
	var lr launchflow.LaunchResponse
	if err := json.Unmarshal(body, &lr); err != nil {
		h.t.Fatal(err)
	}
	return lr.Launch
}

func authorizeQuery(launch string, edit func(url.Values)) url.Values {
	q := url.Values{
		"response_type": {"code"}, "client_id": {appID}, "redirect_uri": {appRedir},
		"scope": {"openid launch patient/Observation.rs"}, "state": {"app-state-1"}, "aud": {fhirAud},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "launch": {launch},
	}
	if edit != nil {
		edit(q)
	}
	return q
}

// authorize runs the authorize proxy and returns the Okta URL it redirected to.
func (h *harness) authorize(q url.Values) *url.URL {
	h.t.Helper()
	resp := h.get(ehrlaunchenv.PathAuthorize, q)
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		h.t.Fatalf("authorize = %d", resp.StatusCode)
	}
	if !strings.HasPrefix(loc.String(), h.cfg.OktaIssuer+"/v1/authorize?") {
		h.t.Fatalf("authorize redirected to %s, not Okta", loc)
	}
	return loc
}

// hookPayload is testdata/hook-authorize.json for a transaction.
func (h *harness) hookPayload(state, clientID, redirect string) []byte {
	h.t.Helper()
	raw, err := os.ReadFile("testdata/hook-authorize.json")
	if err != nil {
		h.t.Fatal(err)
	}
	s := strings.NewReplacer(`"STATE"`, `"`+state+`"`, `"CLIENT"`, `"`+clientID+`"`, `"REDIRECT"`, `"`+redirect+`"`).Replace(string(raw))
	return []byte(s)
}

func (h *harness) callHook(payload []byte, secret string) (int, launchflow.HookResponse) {
	h.t.Helper()
	resp, body := h.post(ehrlaunchenv.PathHook, "application/json", payload, http.Header{"Authorization": {secret}})
	var hr launchflow.HookResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &hr); err != nil {
			h.t.Fatalf("hook answer %s: %v", body, err)
		}
	}
	return resp.StatusCode, hr
}

// claimsOf applies a hook answer's access-token patch the way Okta does.
func claimsOf(hr launchflow.HookResponse) map[string]any {
	out := map[string]any{}
	for _, c := range hr.Commands {
		if c.Type != "com.okta.access.patch" {
			continue
		}
		for _, op := range c.Value {
			if op.Op == "add" {
				out[strings.TrimPrefix(op.Path, "/claims/")] = op.Value
			}
		}
	}
	return out
}
