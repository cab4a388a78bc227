package fakeokta_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// client is a hand-driven service app: these tests speak the token and DPoP
// protocol directly (go-jose for the JWTs) to check the fake's side of it,
// independent of oktaclient.
type client struct {
	t        *testing.T
	f        *fakeokta.Server
	id       string
	rsa      *rsa.PrivateKey
	dpop     *ecdsa.PrivateKey
	jti      int
	assertFn func(*jwt.Claims)
}

func newClient(t *testing.T, f *fakeokta.Server, id string, requireDPoP bool) *client {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	dk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	c := &client{t: t, f: f, id: id, rsa: rk, dpop: dk}
	f.AddServiceApp(fakeokta.ServiceApp{ClientID: c.id, Key: &rk.PublicKey, Scopes: []string{"okta.apps.read"}, DPoPNotRequired: !requireDPoP})
	return c
}

func (c *client) nextJTI() string {
	c.jti++
	return c.id + "-" + string(rune('a'+c.jti%26)) + time.Now().Format("150405.000000000")
}

func (c *client) assertion() string {
	claims := jwt.Claims{Issuer: c.id, Subject: c.id, Audience: jwt.Audience{c.f.URL + "/oauth2/v1/token"},
		Expiry: jwt.NewNumericDate(time.Now().Add(5 * time.Minute)), ID: c.nextJTI()}
	if c.assertFn != nil {
		c.assertFn(&claims)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: c.rsa}, nil)
	require.NoError(c.t, err)
	out, err := jwt.Signed(s).Claims(claims).CompactSerialize()
	require.NoError(c.t, err)
	return out
}

type proofClaims struct {
	JTI   string           `json:"jti"`
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	ATH   string           `json:"ath,omitempty"`
	Nonce string           `json:"nonce,omitempty"`
}

func (c *client) proof(key *ecdsa.PrivateKey, claims proofClaims) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	require.NoError(c.t, err)
	if claims.JTI == "" {
		claims.JTI = c.nextJTI()
	}
	if claims.IAT == nil {
		claims.IAT = jwt.NewNumericDate(time.Now())
	}
	out, err := jwt.Signed(s).Claims(claims).CompactSerialize()
	require.NoError(c.t, err)
	return out
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (c *client) do(method, target string, header http.Header, body string) answer {
	c.t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	require.NoError(c.t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return answer{resp.StatusCode, resp.Header, m}
}

func (c *client) tokenRequest(proof string) answer {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.apps.read"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {c.assertion()}}
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if proof != "" {
		h.Set("DPoP", proof)
	}
	return c.do("POST", c.f.URL+"/oauth2/v1/token", h, form.Encode())
}

// dpopToken runs the whole exchange and returns a DPoP-bound token.
func (c *client) dpopToken() string {
	c.t.Helper()
	first := c.tokenRequest(c.proof(c.dpop, proofClaims{HTM: "POST", HTU: c.f.URL + "/oauth2/v1/token"}))
	require.Equal(c.t, "use_dpop_nonce", first.body["error"])
	nonce := first.header.Get("DPoP-Nonce")
	a := c.tokenRequest(c.proof(c.dpop, proofClaims{HTM: "POST", HTU: c.f.URL + "/oauth2/v1/token", Nonce: nonce}))
	require.Equal(c.t, http.StatusOK, a.status, a.body)
	require.Equal(c.t, "DPoP", a.body["token_type"])
	return a.body["access_token"].(string)
}

func ath(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestTokenEndpointAuthenticatesTheClientAssertion(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := newClient(t, f, "0oaDPoPTestClient0001", false)
	t.Run("a valid assertion gets a Bearer token when the app does not require DPoP", func(t *testing.T) {
		a := c.tokenRequest("")
		require.Equal(t, http.StatusOK, a.status, a.body)
		assert.Equal(t, "Bearer", a.body["token_type"])
		assert.EqualValues(t, 3600, a.body["expires_in"])
	})
	for name, edit := range map[string]func(*jwt.Claims){
		"another audience":        func(cl *jwt.Claims) { cl.Audience = jwt.Audience{"https://elsewhere/oauth2/v1/token"} },
		"expired":                 func(cl *jwt.Claims) { cl.Expiry = jwt.NewNumericDate(time.Now().Add(-time.Minute)) },
		"no exp":                  func(cl *jwt.Claims) { cl.Expiry = nil },
		"exp more than 1 h ahead": func(cl *jwt.Claims) { cl.Expiry = jwt.NewNumericDate(time.Now().Add(2 * time.Hour)) },
		"iss not the client":      func(cl *jwt.Claims) { cl.Issuer = "0oaSomeoneElse" },
	} {
		t.Run("an assertion with "+name+" is invalid_client", func(t *testing.T) {
			c.assertFn = edit
			defer func() { c.assertFn = nil }()
			a := c.tokenRequest("")
			assert.Equal(t, http.StatusUnauthorized, a.status)
			assert.Equal(t, "invalid_client", a.body["error"])
		})
	}
	t.Run("an assertion signed by another key is invalid_client", func(t *testing.T) {
		stranger, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		registered := c.rsa
		c.rsa = stranger
		defer func() { c.rsa = registered }()
		a := c.tokenRequest("")
		assert.Equal(t, "invalid_client", a.body["error"])
	})
	t.Run("a replayed assertion (same jti) is invalid_client", func(t *testing.T) {
		c2 := newClient(t, f, "0oaDPoPTestClient0002", false)
		c2.assertFn = func(cl *jwt.Claims) { cl.ID = "the-same-jti" }
		require.Equal(t, http.StatusOK, c2.tokenRequest("").status)
		a := c2.tokenRequest("")
		assert.Equal(t, "invalid_client", a.body["error"])
		// Okta's error_description (oauth2-error-codes, client_assertion_already_used).
		assert.Equal(t, "The client_assertion token has already been used.", a.body["error_description"])
	})
}

func TestTokenEndpointEnforcesDPoPLikeOkta(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := newClient(t, f, "0oaDPoPTestClient0003", true)
	htu := f.URL + "/oauth2/v1/token"
	t.Run("no proof is 400 invalid_dpop_proof", func(t *testing.T) {
		a := c.tokenRequest("")
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Equal(t, "invalid_dpop_proof", a.body["error"])
		assert.Equal(t, "The DPoP proof JWT header is missing.", a.body["error_description"])
	})
	t.Run("a proof without the nonce is 400 use_dpop_nonce with a DPoP-Nonce header", func(t *testing.T) {
		a := c.tokenRequest(c.proof(c.dpop, proofClaims{HTM: "POST", HTU: htu}))
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Equal(t, "use_dpop_nonce", a.body["error"])
		assert.NotEmpty(t, a.header.Get("DPoP-Nonce"))
	})
	t.Run("proofs that do not match the request are refused", func(t *testing.T) {
		nonce := c.tokenRequest(c.proof(c.dpop, proofClaims{HTM: "POST", HTU: htu})).header.Get("DPoP-Nonce")
		for name, pc := range map[string]proofClaims{
			"wrong htm":        {HTM: "GET", HTU: htu, Nonce: nonce},
			"htu with a query": {HTM: "POST", HTU: htu + "?x=1", Nonce: nonce},
			"old iat":          {HTM: "POST", HTU: htu, Nonce: nonce, IAT: jwt.NewNumericDate(time.Now().Add(-time.Hour))},
		} {
			a := c.tokenRequest(c.proof(c.dpop, pc))
			assert.Equal(t, "invalid_dpop_proof", a.body["error"], name)
		}
		replayed := c.proof(c.dpop, proofClaims{HTM: "POST", HTU: htu, Nonce: nonce})
		require.Equal(t, http.StatusOK, c.tokenRequest(replayed).status)
		assert.Equal(t, "invalid_dpop_proof", c.tokenRequest(replayed).body["error"], "a proof's jti is single use")
	})
}

func TestManagementAPIChecksDPoPBoundTokens(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := newClient(t, f, "0oaDPoPTestClient0003", true)
	token := c.dpopToken()
	apps := f.URL + "/api/v1/apps"
	call := func(scheme, proof string) answer {
		h := http.Header{"Authorization": {scheme + " " + token}}
		if proof != "" {
			h.Set("DPoP", proof)
		}
		return c.do("GET", apps+"?limit=20", h, "")
	}
	t.Run("the token with a proof carrying ath, htm and htu (no query) is accepted", func(t *testing.T) {
		a := call("DPoP", c.proof(c.dpop, proofClaims{HTM: "GET", HTU: apps, ATH: ath(token)}))
		assert.Equal(t, http.StatusOK, a.status)
	})
	t.Run("a DPoP-bound token used as Bearer is refused with 401", func(t *testing.T) {
		a := call("Bearer", "")
		assert.Equal(t, http.StatusUnauthorized, a.status)
		assert.Contains(t, a.header.Get("WWW-Authenticate"), "DPoP")
	})
	t.Run("the DPoP scheme without a proof is refused", func(t *testing.T) {
		a := call("DPoP", "")
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Equal(t, "invalid_dpop_proof", a.body["error"])
	})
	t.Run("a wrong ath is refused", func(t *testing.T) {
		a := call("DPoP", c.proof(c.dpop, proofClaims{HTM: "GET", HTU: apps, ATH: ath(token + "x")}))
		assert.Equal(t, http.StatusBadRequest, a.status)
		assert.Contains(t, a.header.Get("WWW-Authenticate"), `error="invalid_dpop_proof"`)
		assert.Contains(t, a.body["error_description"], "ath")
	})
	t.Run("no ath is refused", func(t *testing.T) {
		a := call("DPoP", c.proof(c.dpop, proofClaims{HTM: "GET", HTU: apps}))
		assert.Equal(t, "invalid_dpop_proof", a.body["error"])
	})
	t.Run("a proof by another key than the token's is refused", func(t *testing.T) {
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		a := call("DPoP", c.proof(other, proofClaims{HTM: "GET", HTU: apps, ATH: ath(token)}))
		assert.Equal(t, "invalid_dpop_proof", a.body["error"])
	})
	t.Run("a proof for another method or URL is refused", func(t *testing.T) {
		assert.Equal(t, "invalid_dpop_proof", call("DPoP", c.proof(c.dpop, proofClaims{HTM: "POST", HTU: apps, ATH: ath(token)})).body["error"])
		assert.Equal(t, "invalid_dpop_proof", call("DPoP", c.proof(c.dpop, proofClaims{HTM: "GET", HTU: apps + "/0oa1", ATH: ath(token)})).body["error"])
	})
	t.Run("a resource nonce, once required, is asked for with 401 use_dpop_nonce", func(t *testing.T) {
		f.RequireResourceNonce("rs-nonce-1")
		a := call("DPoP", c.proof(c.dpop, proofClaims{HTM: "GET", HTU: apps, ATH: ath(token)}))
		assert.Equal(t, http.StatusUnauthorized, a.status)
		assert.Contains(t, a.header.Get("WWW-Authenticate"), `error="use_dpop_nonce"`)
		assert.Equal(t, "rs-nonce-1", a.header.Get("DPoP-Nonce"))
		a = call("DPoP", c.proof(c.dpop, proofClaims{HTM: "GET", HTU: apps, ATH: ath(token), Nonce: "rs-nonce-1"}))
		assert.Equal(t, http.StatusOK, a.status)
	})
}

func TestTokenEndpointFaultsFireAfterTheCredentialsAreUsedUp(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	htu := f.URL + "/oauth2/v1/token"
	t.Run("the token endpoint answers an injected 500", func(t *testing.T) {
		c := newClient(t, f, "0oaFaultTestClient001", false)
		rule := f.Faults.Add(fault.Rule{Op: "POST /oauth2/v1/token"})
		a := c.tokenRequest("")
		assert.Equal(t, http.StatusInternalServerError, a.status)
		assert.Equal(t, 1, f.Faults.Fired(rule))
		tokens := f.RequestsMatching("POST", "/oauth2/v1/token")
		assert.True(t, tokens[len(tokens)-1].Injected)
	})
	t.Run("an assertion sent again after a 500 is refused as already used", func(t *testing.T) {
		c := newClient(t, f, "0oaFaultTestClient002", false)
		c.assertFn = func(cl *jwt.Claims) { cl.ID = "jti-of-a-faulted-request" }
		f.Faults.Add(fault.Rule{Op: "POST /oauth2/v1/token", Status: http.StatusBadGateway})
		require.Equal(t, http.StatusBadGateway, c.tokenRequest("").status)
		a := c.tokenRequest("")
		assert.Equal(t, http.StatusUnauthorized, a.status)
		assert.Equal(t, "invalid_client", a.body["error"])
		assert.Contains(t, a.body["error_description"], "already been used")
	})
	t.Run("a proof sent again after a 500 is refused, even with a new assertion", func(t *testing.T) {
		c := newClient(t, f, "0oaFaultTestClient003", true)
		nonce := c.tokenRequest(c.proof(c.dpop, proofClaims{HTM: "POST", HTU: htu})).header.Get("DPoP-Nonce")
		p := c.proof(c.dpop, proofClaims{HTM: "POST", HTU: htu, Nonce: nonce})
		f.Faults.Add(fault.Rule{Op: "POST /oauth2/v1/token", Status: http.StatusServiceUnavailable})
		require.Equal(t, http.StatusServiceUnavailable, c.tokenRequest(p).status)
		a := c.tokenRequest(p)
		assert.Equal(t, "invalid_dpop_proof", a.body["error"])
		assert.Contains(t, a.body["error_description"], "jti")
	})
	t.Run("a request with a bad assertion is refused before any fault fires", func(t *testing.T) {
		c := newClient(t, f, "0oaFaultTestClient004", false)
		c.assertFn = func(cl *jwt.Claims) { cl.Issuer = "0oaSomeoneElse" }
		rule := f.Faults.Add(fault.Rule{Op: "POST /oauth2/v1/token"})
		defer f.Faults.Clear()
		assert.Equal(t, "invalid_client", c.tokenRequest("").body["error"])
		assert.Equal(t, 0, f.Faults.Fired(rule))
	})
}

func TestTokenEndpointAcceptsOnlyOktasProofAlgorithms(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := newClient(t, f, "0oaDPoPAlgTestClient1", true)
	htu := f.URL + "/oauth2/v1/token"
	nonce := c.tokenRequest(c.proof(c.dpop, proofClaims{HTM: "POST", HTU: htu})).header.Get("DPoP-Nonce")
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	for _, tc := range []struct {
		alg      jose.SignatureAlgorithm
		key      any
		accepted bool
	}{
		{jose.ES256, c.dpop, true},
		{jose.ES384, ec384, true},
		{jose.RS256, rsaKey, true},
		{jose.RS512, rsaKey, true},
		{jose.PS256, rsaKey, false},
		{jose.EdDSA, edKey, false},
	} {
		verdict := "refused"
		if tc.accepted {
			verdict = "accepted"
		}
		t.Run("a proof signed with "+string(tc.alg)+" is "+verdict, func(t *testing.T) {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: tc.alg, Key: tc.key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
			require.NoError(t, err)
			p, err := jwt.Signed(s).Claims(proofClaims{JTI: c.nextJTI(), HTM: "POST", HTU: htu, IAT: jwt.NewNumericDate(time.Now()), Nonce: nonce}).CompactSerialize()
			require.NoError(t, err)
			a := c.tokenRequest(p)
			if tc.accepted {
				assert.Equal(t, http.StatusOK, a.status, a.body)
				return
			}
			assert.Equal(t, http.StatusBadRequest, a.status)
			assert.Equal(t, "invalid_dpop_proof", a.body["error"])
		})
	}
	t.Run("the management API's challenge lists the same algorithms", func(t *testing.T) {
		a := c.do("GET", f.URL+"/api/v1/apps", http.Header{"Authorization": {"DPoP not-a-token"}}, "")
		assert.Contains(t, a.header.Get("WWW-Authenticate"), `algs="ES256 ES384 ES512 RS256 RS384 RS512"`)
	})
}
