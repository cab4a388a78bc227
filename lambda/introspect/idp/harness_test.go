package idp_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/syncbuf"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// The data store endpoint HealthLake sends, and the role we answer with.
const (
	endpoint = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"
	roleARN  = "arn:aws:iam::123456789012:role/HealthLakeSmartAccess"
	leeway   = 60 * time.Second
)

// t0 is the fixed "now" of every test; the handler's clock is injected.
var t0 = time.Unix(1_750_000_000, 0)

// testKeys are generated once per test binary, never committed.
type testKeys struct {
	rsa1, rsa2, rsa3, attacker *rsa.PrivateKey
	rsaWeak                    *rsa.PrivateKey
	ec256, ec384               *ecdsa.PrivateKey
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		gen := func(bits int) *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			return k
		}
		gec := func(c elliptic.Curve) *ecdsa.PrivateKey {
			k, err := ecdsa.GenerateKey(c, rand.Reader)
			if err != nil {
				panic(err)
			}
			return k
		}
		keys = testKeys{
			rsa1: gen(2048), rsa2: gen(2048), rsa3: gen(2048), attacker: gen(2048), rsaWeak: gen(1024),
			ec256: gec(elliptic.P256()), ec384: gec(elliptic.P384()),
		}
	})
	return &keys
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rsaJWK and ecJWK write public JWKs; an empty alg or use leaves the member out.
func rsaJWK(kid, alg, use string, pub *rsa.PublicKey) map[string]any {
	m := map[string]any{"kty": "RSA", "kid": kid, "n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
	if alg != "" {
		m["alg"] = alg
	}
	if use != "" {
		m["use"] = use
	}
	return m
}

func ecJWK(kid, alg string, pub *ecdsa.PublicKey) map[string]any {
	raw, err := pub.Bytes()
	if err != nil {
		panic(err)
	}
	size := (len(raw) - 1) / 2
	m := map[string]any{"kty": "EC", "kid": kid, "use": "sig", "crv": pub.Curve.Params().Name, "x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:])}
	if alg != "" {
		m["alg"] = alg
	}
	return m
}

// defaultJWKS is the key set most tests serve.
func defaultJWKS(k *testKeys) []any {
	return []any{
		rsaJWK("k1", "RS256", "sig", &k.rsa1.PublicKey),
		rsaJWK("k-rs384", "RS384", "sig", &k.rsa1.PublicKey),
		rsaJWK("k-rs512", "RS512", "sig", &k.rsa1.PublicKey),
		rsaJWK("k-ps256", "PS256", "sig", &k.rsa1.PublicKey),
		rsaJWK("k-noalg", "", "", &k.rsa1.PublicKey),
		rsaJWK("k-enc", "", "enc", &k.rsa1.PublicKey),
		rsaJWK("k-weak", "RS256", "sig", &k.rsaWeak.PublicKey),
		ecJWK("k-es256", "ES256", &k.ec256.PublicKey),
		ecJWK("k-es384", "ES384", &k.ec384.PublicKey),
		ecJWK("k-p384-noalg", "", &k.ec384.PublicKey),
	}
}

// fakeIdP is an Okta-like authorization server: discovery, JWK Set and
// introspection, with switches for outages, slowness and key rotation.
type fakeIdP struct {
	*httptest.Server
	Issuer string

	mu            sync.Mutex
	jwks          []any  // the keys array served (each a JWK object, or anything else)
	jwksBody      string // when set, served as the JWK Set document instead
	delay         time.Duration
	down          bool // JWK Set and introspection answer 503
	noRFC8414     bool // the oauth-authorization-server document is missing
	metadataIss   string
	metadataJWKS  string
	introspect    func(form url.Values, user, pass string) (int, any)
	release       chan struct{}
	jwksHits      atomic.Int32
	rfc8414Hits   atomic.Int32
	oidcHits      atomic.Int32
	introspectHit atomic.Int32
}

func newFakeIdP(t testing.TB) *fakeIdP {
	f := &fakeIdP{jwks: defaultJWKS(getKeys(t)), release: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	f.Issuer = f.URL + "/oauth2/default"
	t.Cleanup(f.Close)
	t.Cleanup(func() { close(f.release) }) // runs first: frees slow handlers so Close returns
	return f
}

func (f *fakeIdP) set(fn func(f *fakeIdP)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeIdP) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	delay, down, noRFC8414, jwks, jwksBody := f.delay, f.down, f.noRFC8414, f.jwks, f.jwksBody
	mdIss, mdJWKS, introspect := f.metadataIss, f.metadataJWKS, f.introspect
	f.mu.Unlock()
	if mdIss == "" {
		mdIss = f.Issuer
	}
	if mdJWKS == "" {
		mdJWKS = f.Issuer + "/v1/keys"
	}
	writeJSON := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	metadata := map[string]any{"issuer": mdIss, "jwks_uri": mdJWKS, "introspection_endpoint": f.Issuer + "/v1/introspect"}

	switch r.URL.Path {
	case "/oauth2/default/.well-known/oauth-authorization-server":
		f.rfc8414Hits.Add(1)
		if noRFC8414 {
			http.NotFound(w, r)
			return
		}
		writeJSON(http.StatusOK, metadata)
		return
	case "/oauth2/default/.well-known/openid-configuration":
		f.oidcHits.Add(1)
		writeJSON(http.StatusOK, metadata)
		return
	case "/oauth2/default/v1/moved-keys":
		http.Redirect(w, r, f.Issuer+"/v1/keys", http.StatusFound)
		return
	case "/oauth2/default/v1/huge-keys":
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys": [], "padding": "`))
		_, _ = w.Write(bytes.Repeat([]byte("x"), 2<<20))
		_, _ = w.Write([]byte(`"}`))
		return
	case "/oauth2/default/v1/keys":
		f.jwksHits.Add(1)
	case "/oauth2/default/v1/introspect":
		f.introspectHit.Add(1)
	default:
		http.NotFound(w, r)
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		case <-f.release:
			return
		}
	}
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Path == "/oauth2/default/v1/keys" {
		if jwksBody != "" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(jwksBody))
			return
		}
		writeJSON(http.StatusOK, map[string]any{"keys": jwks})
		return
	}
	if r.Method != http.MethodPost || introspect == nil {
		http.Error(w, "no", http.StatusMethodNotAllowed)
		return
	}
	user, pass, _ := r.BasicAuth()
	user, _ = url.QueryUnescape(user)
	pass, _ = url.QueryUnescape(pass)
	_ = r.ParseForm()
	status, body := introspect(r.PostForm, user, pass)
	writeJSON(status, body)
}

// claims returns a valid Okta-like access token payload (scp array, cid, uid;
// sign leaves jwt/v5's typ JWT in the header, signHeader can remove it) for the fake's issuer.
func (f *fakeIdP) claims() jwt.MapClaims {
	return jwt.MapClaims{
		"ver": 1,
		"jti": "AT.abc",
		"iss": f.Issuer,
		"aud": endpoint,
		"iat": t0.Add(-time.Minute).Unix(),
		"exp": t0.Add(time.Hour).Unix(),
		"cid": "0oa-client",
		"uid": "00u-user-uid",
		"sub": "jane.doe@example.com",
		"scp": []string{"launch/patient", "openid", "fhirUser", "patient/Observation.rs", "patient/Patient.rs"},
		// The patient context: the reference Okta deployment's token inline hook
		// adds launch_response_patient; patient/ scopes count only with one.
		"launch_response_patient": "p-123",
	}
}

// sign signs claims with a method, key and kid ("" leaves kid out).
func sign(t testing.TB, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

// with returns a copy of c with the given members set (nil deletes).
func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// clock is the injected time source.
type clock struct{ ns atomic.Int64 }

func newClock() *clock          { c := &clock{}; c.ns.Store(t0.UnixNano()); return c }
func (c *clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) {
	c.ns.Add(int64(d))
}

// logBuffer collects the handler's JSON log lines (a syncbuf.Buffer, as the
// handler logs from concurrent requests).
type logBuffer struct {
	syncbuf.Buffer
}

// Lines decodes every log line.
func (l *logBuffer) Lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

// Last returns the last "authorization" line.
func (l *logBuffer) Last(t testing.TB) map[string]any {
	t.Helper()
	lines := l.Lines(t)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i]["msg"] == "authorization" {
			return lines[i]
		}
	}
	t.Fatal("no authorization log line")
	return nil
}

// env is a test environment; getenv reads it instead of the process's.
type env map[string]string

func (e env) get(k string) string { return e[k] }

func (f *fakeIdP) env(kv ...string) env {
	e := env{validatorenv.EnvIssuer: f.Issuer, validatorenv.EnvRoleARN: roleARN}
	for i := 0; i < len(kv); i += 2 {
		e[kv[i]] = kv[i+1]
	}
	return e
}

// testHandler is a handler under test with its clock and logs.
type testHandler struct {
	*idp.Handler
	clock *clock
	logs  *logBuffer
}

func newTestHandler(t testing.TB, e env, opts idp.Options) *testHandler {
	t.Helper()
	th := &testHandler{clock: newClock(), logs: &logBuffer{}}
	opts.Now = th.clock.Now
	opts.Logger = slogJSON(th.logs)
	th.Handler = idp.FromEnv(context.Background(), e.get, opts)
	return th
}

// call runs one request for the default endpoint and returns the answer and
// the reason logged for it.
func (th *testHandler) call(t testing.TB, token string) (idp.Response, string) {
	t.Helper()
	return th.callAt(t, endpoint, token)
}

func (th *testHandler) callAt(t testing.TB, ep, token string) (idp.Response, string) {
	t.Helper()
	resp, err := th.Handle(context.Background(), idp.Event{DatastoreEndpoint: ep, BearerToken: token, OperationName: "SearchWithGet"})
	require.NoError(t, err, "the handler never returns an error")
	last := th.logs.Last(t)
	reason, _ := last["reason"].(string)
	decision := "deny"
	if resp.AuthPayload.IsAuthorized {
		decision = "allow"
	}
	require.Equal(t, decision, last["decision"], "the log line matches the answer")
	return resp, reason
}

func slogJSON(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
