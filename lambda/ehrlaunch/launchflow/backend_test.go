package launchflow_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/internal/randhex"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/assertionkey"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakekms"
)

// The backend services of the backend harness: svcOne has one registered key
// (kid svcOneKid), svcTwo two (kids "a" and "b", as during a rotation).
const (
	svcOne    = "svc-1"
	svcTwo    = "svc-2"
	svcOneKid = "svc-1-key"
	ccScope   = "system/Patient.rs"
)

// serviceKeys are generated once per test binary: RSA-2048 generation is slow.
var serviceKeys = sync.OnceValue(func() (keys struct{ one, twoA, twoB, stranger *rsa.PrivateKey }) {
	for _, k := range []**rsa.PrivateKey{&keys.one, &keys.twoA, &keys.twoB, &keys.stranger} {
		var err error
		if *k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	}
	return keys
})

// backendHarness is the harness with backend services configured: their
// JWKS in EHRLAUNCH_BACKEND_CLIENTS, the assertion key in fakekms, reached
// through the real KMS client (AWS_ENDPOINT_URL_KMS, the harness's
// AWS_MAX_ATTEMPTS=2).
type backendHarness struct {
	*harness
	kms    *fakekms.Server
	keyARN string
	// forwarded are the forms Okta's token endpoint received.
	mu        sync.Mutex
	forwarded []url.Values
	oktaCalls atomic.Int32
}

// jwksOf is a JWKS of the keys' public halves, each JWK naming alg when it
// is not empty.
func jwksOf(t testing.TB, keys map[string]*rsa.PrivateKey, alg string) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for kid, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: alg, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newBackendHarness(t testing.TB) *backendHarness {
	t.Helper()
	keys := serviceKeys()
	b := &backendHarness{kms: fakekms.New(t)}
	var err error
	if b.keyARN, err = b.kms.AddSigningKey("ehr-launch-assertions"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_KMS", b.kms.URL)
	backends, _ := json.Marshal([]ehrlaunchenv.BackendClient{
		{ClientID: svcOne, JWKS: json.RawMessage(jwksOf(t, map[string]*rsa.PrivateKey{svcOneKid: keys.one}, "RS384"))},
		{ClientID: svcTwo, JWKS: json.RawMessage(jwksOf(t, map[string]*rsa.PrivateKey{"a": keys.twoA, "b": keys.twoB}, ""))},
	})
	b.harness = newHarnessEnv(t, func(env map[string]string) {
		env[ehrlaunchenv.EnvAssertionKeyARN] = b.keyARN
		env[ehrlaunchenv.EnvBackendClients] = string(backends)
	}, func(o *launchflow.Options) {
		awsCfg, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		o.AssertionSigner = assertionkey.New(kms.NewFromConfig(awsCfg), b.keyARN)
	})
	b.oktaFn = func(w http.ResponseWriter, r *http.Request) {
		b.oktaCalls.Add(1)
		body, _ := io.ReadAll(r.Body)
		f, _ := url.ParseQuery(string(body))
		b.mu.Lock()
		b.forwarded = append(b.forwarded, f)
		b.mu.Unlock()
		if r.URL.Path != "/oauth2/aus1ehrlaunch/v1/token" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(oktaAnswer))
	}
	return b
}

// oktaAnswer is the stand-in's token response, with a launch-context claim in
// the access token that the backend path must not copy to the top level.
var oktaAnswer = `{"token_type":"Bearer","expires_in":300,"access_token":"eyJhbGciOiJub25lIn0.eyJwYXRpZW50IjoicDEifQ.","scope":"` + ccScope + `"}`

func (b *backendHarness) tokenURL() string  { return b.cfg.PublicURL + ehrlaunchenv.PathToken }
func (b *backendHarness) oktaToken() string { return b.cfg.OktaIssuer + "/v1/token" }

// assertion is svcOne's assertion for the proxy's token URL, signed RS384
// with its registered key, after edit changed its claims or header.
func (b *backendHarness) assertion(t testing.TB, edit func(claims jwt.MapClaims, tok *jwt.Token)) string {
	t.Helper()
	now := b.clock.now()
	claims := jwt.MapClaims{"iss": svcOne, "sub": svcOne, "aud": b.tokenURL(), "iat": now.Unix(),
		"exp": now.Add(4 * time.Minute).Unix(), "jti": "svc-jti-" + randhex.String(12)}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS384, claims)
	tok.Header["kid"] = svcOneKid
	var key any = serviceKeys().one
	if edit != nil {
		edit(claims, tok)
	}
	if k, ok := tok.Header["signing-key"]; ok {
		key = k
		delete(tok.Header, "signing-key")
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ccForm(assertion string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {ccScope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
}

func (b *backendHarness) requestToken(t testing.TB, f url.Values) (*http.Response, map[string]string, []byte) {
	t.Helper()
	resp, body := b.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(f.Encode()), nil)
	var e map[string]string
	_ = json.Unmarshal(body, &e)
	return resp, e, body
}

func (b *backendHarness) lastForwarded(t testing.TB) url.Values {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.forwarded) == 0 {
		t.Fatal("nothing reached Okta")
	}
	return b.forwarded[len(b.forwarded)-1]
}

// thumbprintKID is the contract's kid of a public key, computed here from
// go-jose directly, not through assertionkey.
func thumbprintKID(t testing.TB, pub *rsa.PublicKey) string {
	t.Helper()
	th, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(th)
}

func TestBackendServiceThroughTheTokenProxy(t *testing.T) {
	t.Run("the service's assertion for the proxy is replaced by one the KMS key signed for Okta's token URL", func(t *testing.T) {
		b := newBackendHarness(t)
		mine := b.assertion(t, nil)
		resp, _, body := b.requestToken(t, ccForm(mine))
		if resp.StatusCode != http.StatusOK || string(body) != oktaAnswer {
			t.Fatalf("%d %s: want Okta's answer unchanged", resp.StatusCode, body)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("headers %v", resp.Header)
		}
		sent := b.lastForwarded(t)
		if sent.Get("grant_type") != "client_credentials" || sent.Get("scope") != ccScope ||
			sent.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			t.Fatalf("forwarded %v", sent)
		}
		theirs := sent.Get("client_assertion")
		if theirs == mine || strings.Contains(theirs, strings.Split(mine, ".")[2]) {
			t.Fatal("the service's own assertion reached Okta")
		}
		pub := b.kms.PublicKey(b.keyARN)
		var c jwt.RegisteredClaims
		tok, err := jwt.ParseWithClaims(theirs, &c, func(*jwt.Token) (any, error) { return pub, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(b.oktaToken()), jwt.WithTimeFunc(b.clock.now), jwt.WithExpirationRequired())
		if err != nil {
			t.Fatalf("the forwarded assertion does not verify with the KMS public key for Okta's token URL: %v", err)
		}
		if tok.Header["kid"] != thumbprintKID(t, pub) {
			t.Fatalf("kid %v, want the key's RFC 7638 thumbprint %s", tok.Header["kid"], thumbprintKID(t, pub))
		}
		if c.Issuer != svcOne || c.Subject != svcOne || c.ID == "" || c.ExpiresAt.Sub(c.IssuedAt.Time) != time.Minute || !c.IssuedAt.Equal(b.clock.now()) {
			t.Fatalf("claims %+v", c)
		}
		var raw map[string]any
		_ = json.Unmarshal(must(base64.RawURLEncoding.DecodeString(strings.Split(theirs, ".")[1])), &raw)
		if raw["aud"] != b.oktaToken() {
			t.Fatalf("aud %v, want the single string %s", raw["aud"], b.oktaToken())
		}
		var mineClaims jwt.RegisteredClaims
		_, _, _ = jwt.NewParser().ParseUnverified(mine, &mineClaims)
		if c.ID == mineClaims.ID {
			t.Fatal("the forwarded assertion reuses the service's jti")
		}
	})
	t.Run("each request gets a fresh jti, and KMS's public key is read once", func(t *testing.T) {
		b := newBackendHarness(t)
		jtis := map[string]bool{}
		for range 3 {
			if resp, e, _ := b.requestToken(t, ccForm(b.assertion(t, nil))); resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %v", resp.StatusCode, e)
			}
			var c jwt.RegisteredClaims
			_, _, _ = jwt.NewParser().ParseUnverified(b.lastForwarded(t).Get("client_assertion"), &c)
			jtis[c.ID] = true
		}
		if len(jtis) != 3 {
			t.Fatalf("%d distinct jtis in 3 assertions", len(jtis))
		}
		if g, s := b.kms.Calls("GetPublicKey"), b.kms.Calls("Sign"); g != 1 || s != 3 {
			t.Fatalf("GetPublicKey %d, Sign %d: want 1 and 3", g, s)
		}
	})
	accepted := map[string]func(jwt.MapClaims, *jwt.Token){
		"an aud array of the proxy's token URL alone": func(c jwt.MapClaims, _ *jwt.Token) {
			c["aud"] = []string{c["aud"].(string)}
		},
		"no kid when the client has one key (as Okta)": func(_ jwt.MapClaims, tok *jwt.Token) { delete(tok.Header, "kid") },
		"an exp just past, within the 30 s leeway":     func(c jwt.MapClaims, _ *jwt.Token) { c["exp"] = c["iat"].(int64) - 20 },
		"an exp five minutes ahead":                    func(c jwt.MapClaims, _ *jwt.Token) { c["exp"] = c["iat"].(int64) + 300 },
		"RS512 by a key whose JWK names no alg": func(c jwt.MapClaims, tok *jwt.Token) {
			c["iss"], c["sub"] = svcTwo, svcTwo
			tok.Method, tok.Header["alg"], tok.Header["kid"] = jwt.SigningMethodRS512, "RS512", "a"
			tok.Header["signing-key"] = serviceKeys().twoA
		},
		"the second key of a client with two, by kid": func(c jwt.MapClaims, tok *jwt.Token) {
			c["iss"], c["sub"] = svcTwo, svcTwo
			tok.Method, tok.Header["alg"], tok.Header["kid"] = jwt.SigningMethodRS256, "RS256", "b"
			tok.Header["signing-key"] = serviceKeys().twoB
		},
		"a client_id naming the same client": nil, // set below
	}
	for name, edit := range accepted {
		t.Run("accepted: "+name, func(t *testing.T) {
			b := newBackendHarness(t)
			f := ccForm(b.assertion(t, edit))
			if edit == nil {
				f.Set("client_id", svcOne)
			}
			if resp, e, _ := b.requestToken(t, f); resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %v", resp.StatusCode, e)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestBackendServiceRefusals(t *testing.T) {
	publicPEM := func() []byte {
		der, _ := x509.MarshalPKIXPublicKey(&serviceKeys().one.PublicKey)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	for _, c := range []struct {
		name string
		edit func(jwt.MapClaims, *jwt.Token)
		form func(url.Values)
		want string // in error_description
	}{
		{name: "a signature by another key under the client's kid",
			edit: func(_ jwt.MapClaims, tok *jwt.Token) { tok.Header["signing-key"] = serviceKeys().stranger },
			want: "signature does not verify"},
		{name: "a kid naming no registered key",
			edit: func(_ jwt.MapClaims, tok *jwt.Token) { tok.Header["kid"] = "not-registered" },
			want: "The client_assertion JWT kid is invalid: no key"},
		{name: "no kid when the client has several keys",
			edit: func(c jwt.MapClaims, tok *jwt.Token) {
				c["iss"], c["sub"] = svcTwo, svcTwo
				delete(tok.Header, "kid")
				tok.Header["signing-key"] = serviceKeys().twoA
			},
			want: "several keys and the assertion names none"},
		{name: `alg "none"`,
			edit: func(_ jwt.MapClaims, tok *jwt.Token) {
				tok.Method, tok.Header["alg"] = jwt.SigningMethodNone, "none"
				tok.Header["signing-key"] = jwt.UnsafeAllowNoneSignatureType
			},
			want: "alg must be one of RS256, RS384, RS512"},
		{name: "HS256 with the registered public key as the secret",
			edit: func(_ jwt.MapClaims, tok *jwt.Token) {
				tok.Method, tok.Header["alg"] = jwt.SigningMethodHS256, "HS256"
				tok.Header["signing-key"] = publicPEM()
			},
			want: "alg must be one of RS256, RS384, RS512"},
		{name: "an aud array of the proxy's token URL and Okta's (one assertion, two tokens)",
			edit: func(c jwt.MapClaims, _ *jwt.Token) { c["aud"] = []string{c["aud"].(string), "OKTA"} },
			want: "alone"},
		{name: "an RS512 signature by a key whose JWK names RS384",
			edit: func(_ jwt.MapClaims, tok *jwt.Token) { tok.Method, tok.Header["alg"] = jwt.SigningMethodRS512, "RS512" },
			want: "The client_assertion JWT signature algorithm is invalid"},
		{name: "an aud of another endpoint",
			edit: func(c jwt.MapClaims, _ *jwt.Token) { c["aud"] = "https://elsewhere.example/token" },
			want: "aud must be http://"},
		{name: "an aud of Okta's own token URL",
			edit: func(c jwt.MapClaims, _ *jwt.Token) { c["aud"] = "OKTA" },
			want: "aud is the authorization server's token URL; sign it for http://"},
		{name: "no aud", edit: func(c jwt.MapClaims, _ *jwt.Token) { delete(c, "aud") }, want: "aud must be"},
		{name: "an expired assertion (past the leeway)",
			edit: func(c jwt.MapClaims, _ *jwt.Token) { c["exp"] = c["iat"].(int64) - 31 },
			want: "has expired"},
		{name: "an exp more than five minutes ahead",
			edit: func(c jwt.MapClaims, _ *jwt.Token) { c["exp"] = c["iat"].(int64) + 300 + 31 },
			want: "more than 5m0s ahead"},
		{name: "no exp", edit: func(c jwt.MapClaims, _ *jwt.Token) { delete(c, "exp") }, want: "has no exp"},
		{name: "no jti", edit: func(c jwt.MapClaims, _ *jwt.Token) { delete(c, "jti") }, want: "has no jti"},
		{name: "iss and sub naming different clients",
			edit: func(c jwt.MapClaims, _ *jwt.Token) { c["sub"] = "someone-else" },
			want: "iss and sub must both be the client id"},
		{name: "a client_id form field naming another client",
			form: func(f url.Values) { f.Set("client_id", svcTwo) },
			want: "client_id and the client assertion name different clients"},
		{name: "another client_assertion_type",
			form: func(f url.Values) {
				f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			},
			want: "client_assertion_type must be"},
		{name: "an assertion that is not a JWT, for a backend client_id",
			form: func(f url.Values) { f.Set("client_assertion", "not-a-jwt"); f.Set("client_id", svcOne) },
			want: "not a JWT"},
	} {
		t.Run(c.name+" is invalid_client and never reaches Okta", func(t *testing.T) {
			b := newBackendHarness(t)
			edit := c.edit
			if edit != nil {
				inner := edit
				edit = func(cl jwt.MapClaims, tok *jwt.Token) {
					inner(cl, tok)
					if cl["aud"] == "OKTA" {
						cl["aud"] = b.oktaToken()
					}
					if aud, ok := cl["aud"].([]string); ok && len(aud) == 2 && aud[1] == "OKTA" {
						cl["aud"] = []string{aud[0], b.oktaToken()}
					}
				}
			}
			a := b.assertion(t, edit)
			f := ccForm(a)
			if c.form != nil {
				c.form(f)
			}
			resp, e, body := b.requestToken(t, f)
			if resp.StatusCode != http.StatusUnauthorized || e["error"] != "invalid_client" || !strings.Contains(e["error_description"], c.want) {
				t.Fatalf("%d %s: want 401 invalid_client saying %q", resp.StatusCode, body, c.want)
			}
			if strings.Contains(string(body), a) || strings.Contains(string(body), strings.Split(a, ".")[1]) {
				t.Fatal("the answer echoes the assertion")
			}
			if n := b.oktaCalls.Load(); n != 0 {
				t.Fatalf("Okta was called %d times", n)
			}
			if n := b.kms.Calls("Sign"); n != 0 {
				t.Fatalf("KMS signed %d times for a refused assertion", n)
			}
		})
	}
	t.Run("a replayed assertion is refused and reaches Okta once", func(t *testing.T) {
		b := newBackendHarness(t)
		a := b.assertion(t, nil)
		if resp, e, _ := b.requestToken(t, ccForm(a)); resp.StatusCode != http.StatusOK {
			t.Fatalf("first use %d %v", resp.StatusCode, e)
		}
		b.clock.advance(time.Minute)
		resp, e, _ := b.requestToken(t, ccForm(a))
		if resp.StatusCode != http.StatusUnauthorized || e["error"] != "invalid_client" || !strings.Contains(e["error_description"], "jti was already used") {
			t.Fatalf("replay %d %v", resp.StatusCode, e)
		}
		if b.oktaCalls.Load() != 1 {
			t.Fatalf("Okta called %d times", b.oktaCalls.Load())
		}
	})
	t.Run("the same jti from another client is not a replay", func(t *testing.T) {
		b := newBackendHarness(t)
		jti := func(c jwt.MapClaims, _ *jwt.Token) { c["jti"] = "shared-jti" }
		two := func(c jwt.MapClaims, tok *jwt.Token) {
			jti(c, tok)
			c["iss"], c["sub"], tok.Header["kid"], tok.Header["signing-key"] = svcTwo, svcTwo, "a", serviceKeys().twoA
		}
		for _, a := range []string{b.assertion(t, jti), b.assertion(t, two)} {
			if resp, e, _ := b.requestToken(t, ccForm(a)); resp.StatusCode != http.StatusOK {
				t.Fatalf("%d %v", resp.StatusCode, e)
			}
		}
	})
}

func TestBackendRequestsAreOneOfEach(t *testing.T) {
	for _, c := range []struct {
		name   string
		form   func(url.Values)
		header http.Header
		want   string
	}{
		{name: "a client_id sent twice", form: func(f url.Values) { f["client_id"] = []string{svcOne, "another-client"} }, want: "client_id is sent more than once"},
		{name: "a grant_type sent twice", form: func(f url.Values) { f.Add("grant_type", "authorization_code") }, want: "grant_type is sent more than once"},
		{name: "an Authorization header beside the assertion", header: http.Header{"Authorization": {"Basic c3ZjLTE6c2VjcmV0"}},
			want: "use one client authentication method"},
	} {
		t.Run(c.name+" is invalid_request and never reaches Okta (RFC 6749 sections 2.3 and 3.2)", func(t *testing.T) {
			b := newBackendHarness(t)
			f := ccForm(b.assertion(t, nil))
			if c.form != nil {
				c.form(f)
			}
			resp, body := b.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(f.Encode()), c.header)
			var e map[string]string
			_ = json.Unmarshal(body, &e)
			if resp.StatusCode != http.StatusBadRequest || e["error"] != "invalid_request" || !strings.Contains(e["error_description"], c.want) {
				t.Fatalf("%d %s, want 400 invalid_request saying %q", resp.StatusCode, body, c.want)
			}
			if b.oktaCalls.Load() != 0 || b.kms.Calls("Sign") != 0 {
				t.Fatalf("Okta called %d times, KMS Sign %d", b.oktaCalls.Load(), b.kms.Calls("Sign"))
			}
		})
	}
	t.Run("Okta gets only the client_credentials parameters, with the verified client_id", func(t *testing.T) {
		b := newBackendHarness(t)
		f := ccForm(b.assertion(t, nil))
		f.Set("resource", "https://elsewhere.example/")
		f.Set("extra", "x")
		if resp, e, _ := b.requestToken(t, f); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %v", resp.StatusCode, e)
		}
		sent := b.lastForwarded(t)
		keys := slices.Sorted(maps.Keys(sent))
		if want := []string{"client_assertion", "client_assertion_type", "client_id", "grant_type", "scope"}; !slices.Equal(keys, want) || sent.Get("client_id") != svcOne {
			t.Fatalf("forwarded %v, want exactly %v with client_id %s", sent, want, svcOne)
		}
	})
	t.Run("Okta refusing the proxy's assertion is logged with its OAuth error and passed back", func(t *testing.T) {
		b := newBackendHarness(t)
		b.oktaFn = func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"The client_assertion JWT kid is invalid."}`))
		}
		resp, e, _ := b.requestToken(t, ccForm(b.assertion(t, nil)))
		if resp.StatusCode != http.StatusUnauthorized || e["error"] != "invalid_client" {
			t.Fatalf("%d %v", resp.StatusCode, e)
		}
		if logs := b.logs.String(); !strings.Contains(logs, `"okta_error":"invalid_client"`) || !strings.Contains(logs, `"okta_status":401`) {
			t.Fatalf("logs: %s", logs)
		}
	})
}

func TestBackendServiceKMS(t *testing.T) {
	t.Run("a throttled KMS Sign is retried by the SDK and the token issued", func(t *testing.T) {
		b := newBackendHarness(t)
		b.kms.Faults.Add(fault.Rule{Op: "Sign", Kind: fault.Throttle})
		if resp, e, _ := b.requestToken(t, ccForm(b.assertion(t, nil))); resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %v", resp.StatusCode, e)
		}
		if n := b.kms.Calls("Sign"); n != 2 {
			t.Fatalf("%d Sign calls, want 2 (one throttled, one retried)", n)
		}
	})
	t.Run("a disabled key is a 503 temporarily_unavailable, logged by KMS's error code, and Okta is not called", func(t *testing.T) {
		b := newBackendHarness(t)
		b.kms.Disable(b.keyARN)
		resp, e, _ := b.requestToken(t, ccForm(b.assertion(t, nil)))
		if resp.StatusCode != http.StatusServiceUnavailable || e["error"] != "temporarily_unavailable" {
			t.Fatalf("%d %v", resp.StatusCode, e)
		}
		if b.oktaCalls.Load() != 0 {
			t.Fatal("Okta was called without an assertion")
		}
		if !strings.Contains(b.logs.String(), `"kms_error":"DisabledException"`) {
			t.Fatalf("log %s", b.logs.String())
		}
	})
	t.Run("a failed GetPublicKey is tried again on the next request", func(t *testing.T) {
		b := newBackendHarness(t)
		b.kms.Faults.Add(fault.Rule{Op: "GetPublicKey", Kind: fault.Denied})
		if resp, _, _ := b.requestToken(t, ccForm(b.assertion(t, nil))); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("first request %d", resp.StatusCode)
		}
		if resp, e, _ := b.requestToken(t, ccForm(b.assertion(t, nil))); resp.StatusCode != http.StatusOK {
			t.Fatalf("second request %d %v", resp.StatusCode, e)
		}
		if n := b.kms.Calls("GetPublicKey"); n != 2 {
			t.Fatalf("%d GetPublicKey calls", n)
		}
	})
}

func TestOtherTokenRequestsPassThroughWithBackendsConfigured(t *testing.T) {
	b := newBackendHarness(t)
	// An assertion for a client that is not a backend service of the proxy
	// goes to Okta as the proxy forwarded it before.
	other := b.assertion(t, func(c jwt.MapClaims, _ *jwt.Token) {
		c["iss"], c["sub"], c["aud"] = "okta-only", "okta-only", b.oktaToken()
	})
	f := ccForm(other)
	resp, _, _ := b.requestToken(t, f)
	if resp.StatusCode != http.StatusOK || b.lastForwarded(t).Encode() != f.Encode() {
		t.Fatalf("%d, forwarded %v", resp.StatusCode, b.lastForwarded(t))
	}
	if n := b.kms.Calls("Sign"); n != 0 {
		t.Fatalf("KMS signed %d times", n)
	}
}

func TestBackendClientsConfiguration(t *testing.T) {
	pub := jwksOf(t, map[string]*rsa.PrivateKey{"k": serviceKeys().one}, "RS384")
	priv := string(must(json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: serviceKeys().one, KeyID: "k"}}})))
	ecKey := must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	ec := string(must(json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ecKey.PublicKey, KeyID: "k"}}})))
	enc := string(must(json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &serviceKeys().one.PublicKey, KeyID: "k", Use: "enc"}}})))
	signer := assertionkey.New(nil, "arn:aws:kms:us-east-1:123456789012:key/k")
	for _, c := range []struct {
		name, jwks string
		signer     launchflow.AssertionSigner
		want       string
	}{
		{"backend clients without an assertion signer", pub, nil, "no assertion signer"},
		{"a JWKS holding a private key", priv, signer, "not a public key"},
		{"a JWKS holding a symmetric key", `{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"k"}]}`, signer, "not a public key"},
		{"a JWKS holding an EC key", ec, signer, "not an RSA key"},
		{"a JWKS holding only an encryption key", enc, signer, "no signing key"},
		{"a JWKS holding a private key marked for encryption", string(must(json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: serviceKeys().one, KeyID: "k", Use: "enc"}}}))), signer, "not a public key"},
	} {
		t.Run(c.name+" refuses to start", func(t *testing.T) {
			cfg := ehrlaunchenv.Config{BackendClients: map[string]json.RawMessage{svcOne: json.RawMessage(c.jwks)}}
			_, err := launchflow.New(cfg, nil, launchflow.Options{HookSecret: "s", AssertionSigner: c.signer})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), `"d"`) || strings.Contains(err.Error(), "c2VjcmV0") {
				t.Fatalf("the error holds key material: %v", err)
			}
		})
	}
}
