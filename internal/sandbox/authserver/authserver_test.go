package authserver_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/internal/sandbox/authserver"
)

type fixture struct {
	srv    *httptest.Server
	as     *authserver.Server
	key    *ecdsa.PrivateKey
	k1, k2 *ecdsa.PrivateKey // the two keys of client "rotating"
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	k1, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	k2, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	f := &fixture{key: key, k1: k1, k2: k2}
	// The issuer must be known before the server is built, so route through a
	// handler variable.
	var h http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	as, err := authserver.New(authserver.Options{
		Issuer:   f.srv.URL + "/oauth2/default",
		Audience: "https://hl/datastore/x/r4/",
		Clients: []authserver.Client{
			{ID: "backend", PublicKey: &key.PublicKey, Scopes: []string{"system/Patient.rs"}, Claims: map[string]any{"fhirUser": "Practitioner/1"}},
			{ID: "introspector", Secret: "s3cret"},
			// A client in the middle of a key rotation: two registered keys.
			{ID: "rotating", PublicKey: &k1.PublicKey, KeyID: "k1", MoreKeys: map[string]crypto.PublicKey{"k2": &k2.PublicKey},
				Scopes: []string{"system/Observation.rs"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.as, h = as, as
	return f
}

func (f *fixture) assertion(t *testing.T, mutate func(*jwt.RegisteredClaims)) string {
	t.Helper()
	now := time.Now()
	c := jwt.RegisteredClaims{Issuer: "backend", Subject: "backend", Audience: jwt.ClaimStrings{f.as.TokenEndpoint()},
		ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)), IssuedAt: jwt.NewNumericDate(now), ID: time.Now().String()}
	if mutate != nil {
		mutate(&c)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodES384, c).SignedString(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signedBy is an assertion of client id signed with key, with kid in its
// header unless kid is empty.
func (f *fixture) signedBy(t *testing.T, id string, key *ecdsa.PrivateKey, kid string) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.RegisteredClaims{Issuer: id, Subject: id, Audience: jwt.ClaimStrings{f.as.TokenEndpoint()},
		ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)), IssuedAt: jwt.NewNumericDate(now), ID: now.String()})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) token(t *testing.T, assertion, scope string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(f.as.TokenEndpoint(), url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestToken(t *testing.T) {
	f := newFixture(t)

	t.Run("a valid assertion gets an Okta-shaped token signed with a key of the JWK Set", func(t *testing.T) {
		status, body := f.token(t, f.assertion(t, nil), "system/Patient.rs")
		if status != 200 || body["token_type"] != "Bearer" {
			t.Fatalf("status %d %v", status, body)
		}
		resp, err := http.Get(f.as.JWKSURI())
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		_ = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		claims := jwt.MapClaims{}
		_, err = jwt.Parse(body["access_token"].(string), func(tok *jwt.Token) (any, error) {
			return set.Key(tok.Header["kid"].(string))[0].Key, nil
		}, jwt.WithValidMethods([]string{"RS256"}))
		if err != nil {
			t.Fatal(err)
		}
		_, _, _ = jwt.NewParser().ParseUnverified(body["access_token"].(string), claims)
		if claims["aud"] != "https://hl/datastore/x/r4/" || claims["cid"] != "backend" || claims["fhirUser"] != "Practitioner/1" {
			t.Errorf("claims %v", claims)
		}
		if scp, _ := claims["scp"].([]any); len(scp) != 1 || scp[0] != "system/Patient.rs" {
			t.Errorf("scp %v, want Okta's array", claims["scp"])
		}
	})

	for _, tc := range []struct {
		name   string
		mutate func(*jwt.RegisteredClaims)
		want   string
	}{
		{"an assertion for another audience", func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"https://elsewhere/token"} }, "invalid"},
		{"an expired assertion", func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute)) }, "expired"},
		{"an assertion valid for more than an hour", func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(2 * time.Hour)) }, "more than an hour"},
		{"an assertion whose sub is not its iss", func(c *jwt.RegisteredClaims) { c.Subject = "other" }, "sub"},
		{"an assertion without jti", func(c *jwt.RegisteredClaims) { c.ID = "" }, "jti"},
		{"an assertion from an unknown client", func(c *jwt.RegisteredClaims) { c.Issuer, c.Subject = "nobody", "nobody" }, "no client"},
	} {
		t.Run(tc.name+" is invalid_client", func(t *testing.T) {
			status, body := f.token(t, f.assertion(t, tc.mutate), "system/Patient.rs")
			if status != 401 || body["error"] != "invalid_client" || !strings.Contains(body["error_description"].(string), tc.want) {
				t.Errorf("status %d %v, want 401 invalid_client mentioning %q", status, body, tc.want)
			}
		})
	}

	t.Run("a reused jti is refused", func(t *testing.T) {
		a := f.assertion(t, func(c *jwt.RegisteredClaims) { c.ID = "once" })
		if status, _ := f.token(t, a, "system/Patient.rs"); status != 200 {
			t.Fatalf("first use: %d", status)
		}
		if status, body := f.token(t, a, "system/Patient.rs"); status != 401 || !strings.Contains(body["error_description"].(string), "already used") {
			t.Errorf("second use: %d %v", status, body)
		}
	})

	t.Run("a scope the policy does not grant the client is access_denied, as Okta's policy evaluation answers", func(t *testing.T) {
		status, body := f.token(t, f.assertion(t, nil), "system/Patient.rs system/Observation.rs")
		if status != 400 || body["error"] != "access_denied" || !strings.Contains(body["error_description"].(string), "Policy evaluation failed") {
			t.Errorf("status %d %v", status, body)
		}
	})

	t.Run("a scope the authorization server does not define is invalid_scope", func(t *testing.T) {
		if status, body := f.token(t, f.assertion(t, nil), "system/Patient.rs system/Unknown.rs"); status != 400 || body["error"] != "invalid_scope" {
			t.Errorf("status %d %v", status, body)
		}
	})
}

func TestAssertionKid(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		key  func() *ecdsa.PrivateKey
		kid  string
		ok   bool
	}{
		{"an assertion naming the first key's kid is accepted", func() *ecdsa.PrivateKey { return f.k1 }, "k1", true},
		{"an assertion naming the second key's kid is accepted", func() *ecdsa.PrivateKey { return f.k2 }, "k2", true},
		{"an assertion naming an unregistered kid is refused", func() *ecdsa.PrivateKey { return f.k1 }, "k3", false},
		{"an assertion without kid is refused when the client has two keys", func() *ecdsa.PrivateKey { return f.k1 }, "", false},
		{"an assertion naming one key but signed by the other is refused", func() *ecdsa.PrivateKey { return f.k2 }, "k1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.token(t, f.signedBy(t, "rotating", tc.key(), tc.kid), "system/Observation.rs")
			if tc.ok && status != 200 {
				t.Fatalf("status %d %v, want 200", status, body)
			}
			if !tc.ok && (status != 401 || body["error"] != "invalid_client") {
				t.Fatalf("status %d %v, want 401 invalid_client", status, body)
			}
			if !tc.ok && tc.kid != "k1" && !strings.Contains(body["error_description"].(string), "kid is invalid") {
				t.Errorf("%v, want Okta's kid message", body)
			}
		})
	}

	t.Run("a client with one key registered without kid accepts an assertion without kid", func(t *testing.T) {
		if status, body := f.token(t, f.signedBy(t, "backend", f.key, ""), "system/Patient.rs"); status != 200 {
			t.Errorf("status %d %v", status, body)
		}
	})
}

func TestIntrospect(t *testing.T) {
	f := newFixture(t)
	_, body := f.token(t, f.assertion(t, nil), "system/Patient.rs")
	tok := body["access_token"].(string)
	introspect := func(user, pass, token string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, f.as.IntrospectionEndpoint(), strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	t.Run("an issued token is active with its scope as one string", func(t *testing.T) {
		status, out := introspect("introspector", "s3cret", tok)
		if status != 200 || out["active"] != true || out["scope"] != "system/Patient.rs" || out["token_type"] != "Bearer" || out["client_id"] != "backend" {
			t.Errorf("status %d %v", status, out)
		}
	})

	t.Run("a token with an altered payload is inactive", func(t *testing.T) {
		parts := strings.Split(tok, ".")
		parts[1] = parts[1][:len(parts[1])-2] + "xx"
		if _, out := introspect("introspector", "s3cret", strings.Join(parts, ".")); out["active"] != false {
			t.Errorf("%v", out)
		}
	})

	t.Run("a wrong client secret is 401 invalid_client", func(t *testing.T) {
		if status, out := introspect("introspector", "wrong", tok); status != 401 || out["error"] != "invalid_client" {
			t.Errorf("status %d %v", status, out)
		}
	})
}
