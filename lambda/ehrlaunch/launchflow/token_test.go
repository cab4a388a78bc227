package launchflow_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

func signedToken(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodES256, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokenProxy(t *testing.T) {
	form := url.Values{"grant_type": {"authorization_code"}, "client_id": {appID}, "code": {"c"}, "code_verifier": {verifier}, "redirect_uri": {appRedir}}.Encode()
	t.Run("the context claims appear at the top level of Okta's answer, which is not cached", func(t *testing.T) {
		h := newHarness(t)
		at := signedToken(t, jwt.MapClaims{"patient": "pat-123", "encounter": "enc-9", "need_patient_banner": false,
			"fhirContext": []any{map[string]any{"reference": "DiagnosticReport/7"}}, "smart_style_url": "https://ehr.example/s.json", "sub": "u"})
		var gotBody, gotAuth, gotDPoP string
		h.oktaFn = func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/oauth2/aus1ehrlaunch/v1/token" {
				http.NotFound(w, r)
				return
			}
			b, _ := io.ReadAll(r.Body)
			gotBody, gotAuth, gotDPoP = string(b), r.Header.Get("Authorization"), r.Header.Get("DPoP")
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("DPoP-Nonce", "n-1")
			_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": at, "scope": "launch"})
		}
		resp, body := h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(form),
			http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(appID+":secret"))}, "Dpop": {"proof"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d %s", resp.StatusCode, body)
		}
		sent, _ := url.ParseQuery(gotBody)
		if sent.Get("redirect_uri") != h.cfg.Callback() || sent.Get("code") != "c" || sent.Get("code_verifier") != verifier || sent.Get("client_id") != appID {
			t.Fatalf("forwarded form %q: want the app's with the callback as redirect_uri", gotBody)
		}
		if gotAuth != "Basic "+base64.StdEncoding.EncodeToString([]byte(appID+":secret")) || gotDPoP != "proof" {
			t.Fatalf("forwarded body %q auth %q dpop %q", gotBody, gotAuth, gotDPoP)
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if m["patient"] != "pat-123" || m["encounter"] != "enc-9" || m["need_patient_banner"] != false || m["smart_style_url"] != "https://ehr.example/s.json" || m["access_token"] != at {
			t.Fatalf("answer %v", m)
		}
		if fc, _ := json.Marshal(m["fhirContext"]); string(fc) != `[{"reference":"DiagnosticReport/7"}]` {
			t.Fatalf("fhirContext %s", fc)
		}
		if _, ok := m["sub"]; ok {
			t.Fatal("a claim that is not launch context was copied")
		}
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("DPoP-Nonce") != "n-1" {
			t.Fatalf("headers %v", resp.Header)
		}
	})
	t.Run("a redemption with a redirect URI not registered for the client is refused before Okta", func(t *testing.T) {
		h := newHarness(t)
		called := false
		h.oktaFn = func(http.ResponseWriter, *http.Request) { called = true }
		for _, f := range []url.Values{
			{"grant_type": {"authorization_code"}, "client_id": {appID}, "code": {"c"}, "redirect_uri": {otherRedir}},
			{"grant_type": {"authorization_code"}, "client_id": {"stranger"}, "code": {"c"}, "redirect_uri": {appRedir}},
		} {
			resp, body := h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(f.Encode()), nil)
			if resp.StatusCode != http.StatusBadRequest || called {
				t.Fatalf("%v: %d %s (Okta called: %v)", f, resp.StatusCode, body, called)
			}
		}
	})
	t.Run("a private_key_jwt client without client_id is looked up by its assertion and forwarded", func(t *testing.T) {
		h := newHarness(t)
		var got url.Values
		h.oktaFn = func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got, _ = url.ParseQuery(string(b))
			_, _ = w.Write([]byte(`{}`))
		}
		assertion := signedToken(t, jwt.MapClaims{"iss": appID, "sub": appID, "aud": h.cfg.OktaIssuer + "/v1/token", "jti": "j-1", "exp": 4102444800})
		f := url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "code_verifier": {verifier}, "redirect_uri": {appRedir},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
		resp, body := h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(f.Encode()), nil)
		if resp.StatusCode != http.StatusOK || got.Get("redirect_uri") != h.cfg.Callback() || got.Get("client_assertion") != assertion {
			t.Fatalf("status %d %s, forwarded %v", resp.StatusCode, body, got)
		}
	})
	t.Run("a private_key_jwt client is refused before Okta when its assertion does not name a client with that redirect URI", func(t *testing.T) {
		h := newHarness(t)
		called := false
		h.oktaFn = func(http.ResponseWriter, *http.Request) { called = true }
		at := func(c jwt.MapClaims) string { return signedToken(t, c) }
		for name, f := range map[string]url.Values{
			"another client's redirect URI": {"client_assertion": {at(jwt.MapClaims{"iss": otherApp, "sub": otherApp})}},
			"iss and sub differ":            {"client_assertion": {at(jwt.MapClaims{"iss": otherApp, "sub": appID})}},
			"client_id names another":       {"client_assertion": {at(jwt.MapClaims{"iss": appID, "sub": appID})}, "client_id": {otherApp}},
			"not a JWT":                     {"client_assertion": {"garbage"}},
			"wrong assertion type":          {"client_assertion": {at(jwt.MapClaims{"iss": appID, "sub": appID})}, "client_assertion_type": {"jwt"}},
		} {
			f.Set("grant_type", "authorization_code")
			f.Set("code", "c")
			f.Set("redirect_uri", appRedir)
			if f.Get("client_assertion_type") == "" {
				f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
			}
			resp, body := h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(f.Encode()), nil)
			if resp.StatusCode < 400 || called {
				t.Fatalf("%s: %d %s (Okta called: %v)", name, resp.StatusCode, body, called)
			}
		}
	})
	t.Run("a refresh passes through unchanged", func(t *testing.T) {
		h := newHarness(t)
		var got string
		h.oktaFn = func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got = string(b)
			_, _ = w.Write([]byte(`{}`))
		}
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt"}, "client_id": {appID}}.Encode()
		h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(f), nil)
		if got != f {
			t.Fatalf("forwarded %q", got)
		}
	})
	t.Run("Okta's refusal passes through unchanged", func(t *testing.T) {
		h := newHarness(t)
		h.oktaFn = func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"PKCE verification failed."}`))
		}
		resp, body := h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(form), nil)
		if resp.StatusCode != http.StatusBadRequest || string(body) != `{"error":"invalid_grant","error_description":"PKCE verification failed."}` {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("a token without context comes back as Okta sent it", func(t *testing.T) {
		h := newHarness(t)
		raw := `{"token_type":"Bearer","access_token":"` + signedToken(t, jwt.MapClaims{"sub": "u"}) + `"}`
		h.oktaFn = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(raw)) }
		if _, body := h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(form), nil); string(body) != raw {
			t.Fatalf("body %s", body)
		}
	})
	t.Run("an unreachable Okta is a 502", func(t *testing.T) {
		h := newHarness(t)
		h.okta.Close()
		if resp, _ := h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(form), nil); resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("a configured browser origin may call it", func(t *testing.T) {
		h := newHarness(t)
		h.oktaFn = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) }
		resp, _ := h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(form), http.Header{"Origin": {"https://app.example"}})
		if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Fatalf("headers %v", resp.Header)
		}
		req, _ := http.NewRequest(http.MethodOptions, h.srv.URL+ehrlaunchenv.PathToken, nil)
		req.Header.Set("Origin", "https://app.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		pre, _ := h.do(req)
		if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Methods") != "POST" {
			t.Fatalf("preflight %d %v", pre.StatusCode, pre.Header)
		}
	})
	t.Run("another origin gets no CORS permission", func(t *testing.T) {
		h := newHarness(t)
		h.oktaFn = func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) }
		resp, _ := h.post(ehrlaunchenv.PathToken, "application/x-www-form-urlencoded", []byte(form), http.Header{"Origin": {"https://evil.example"}})
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("evil origin allowed")
		}
		req, _ := http.NewRequest(http.MethodOptions, h.srv.URL+ehrlaunchenv.PathToken, nil)
		req.Header.Set("Origin", "https://evil.example")
		if pre, _ := h.do(req); pre.StatusCode != http.StatusForbidden || pre.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight %d", pre.StatusCode)
		}
	})
}

func TestIntrospectionProxy(t *testing.T) {
	at := signedToken(t, jwt.MapClaims{"patient": "pat-123", "encounter": "enc-9", "need_patient_banner": true, "sub": "u"})
	form := url.Values{"token": {at}, "token_type_hint": {"access_token"}}.Encode()
	okta := func(h *harness, answer string) *string {
		var gotAuth string
		h.oktaFn = func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/oauth2/aus1ehrlaunch/v1/introspect" {
				http.NotFound(w, r)
				return
			}
			gotAuth = r.Header.Get("Authorization")
			_, _ = w.Write([]byte(answer))
		}
		return &gotAuth
	}
	t.Run("an active token's context is echoed at the top level", func(t *testing.T) {
		h := newHarness(t)
		auth := okta(h, `{"active":true,"scope":"launch patient/Observation.rs","client_id":"app-1"}`)
		resp, body := h.post(ehrlaunchenv.PathIntrospect, "application/x-www-form-urlencoded", []byte(form), http.Header{"Authorization": {"Basic cmVzb3VyY2U6cw=="}})
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if resp.StatusCode != 200 || m["patient"] != "pat-123" || m["encounter"] != "enc-9" || m["need_patient_banner"] != true || m["client_id"] != "app-1" {
			t.Fatalf("%d %v", resp.StatusCode, m)
		}
		if *auth != "Basic cmVzb3VyY2U6cw==" || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("auth %q, headers %v", *auth, resp.Header)
		}
	})
	t.Run("an inactive token gets nothing added", func(t *testing.T) {
		h := newHarness(t)
		okta(h, `{"active":false}`)
		if _, body := h.post(ehrlaunchenv.PathIntrospect, "application/x-www-form-urlencoded", []byte(form), nil); string(body) != `{"active":false}` {
			t.Fatalf("body %s", body)
		}
	})
	t.Run("Okta's own context fields are kept", func(t *testing.T) {
		h := newHarness(t)
		okta(h, `{"active":true,"patient":"from-okta"}`)
		_, body := h.post(ehrlaunchenv.PathIntrospect, "application/x-www-form-urlencoded", []byte(form), nil)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if m["patient"] != "from-okta" || m["encounter"] != "enc-9" {
			t.Fatalf("%v", m)
		}
	})
}
