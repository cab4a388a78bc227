package authserver_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/internal/sandbox/authserver"
)

const (
	appCB    = "https://app.example/cb"
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

var challenge = func() string { s := sha256.Sum256([]byte(verifier)); return base64.RawURLEncoding.EncodeToString(s[:]) }()

// codeFixture is an authorization server with one public app and, if hook is
// not nil, a token hook served by hook.
type codeFixture struct {
	as    *authserver.Server
	srv   *httptest.Server
	calls atomic.Int32
	last  atomic.Value // the last hook payload
}

func newCodeFixture(t *testing.T, hook http.HandlerFunc) *codeFixture {
	t.Helper()
	f := &codeFixture{}
	var h http.Handler
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	opts := authserver.Options{
		Issuer: f.srv.URL + "/oauth2/default", Audience: "https://hl/r4/",
		Clients: []authserver.Client{{ID: "app", RedirectURIs: []string{appCB}, User: "u@example.org",
			Scopes: []string{"openid", "launch", "patient/Observation.rs"}, Claims: map[string]any{"fhirUser": "Practitioner/1"}},
			{ID: "web app", Secret: "s&cret", RedirectURIs: []string{appCB}, User: "u@example.org",
				Scopes: []string{"openid", "launch", "patient/Observation.rs"}}},
	}
	if hook != nil {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f.calls.Add(1)
			b, _ := io.ReadAll(r.Body)
			f.last.Store(string(b))
			if r.Header.Get("Authorization") != "hook-secret" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			hook(w, r)
		}))
		t.Cleanup(hs.Close)
		opts.TokenHook = &authserver.TokenHook{URL: hs.URL, Authorization: "hook-secret", Timeout: 200 * time.Millisecond}
	}
	as, err := authserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.as, h = as, as
	return f
}

var stopAtApp = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (f *codeFixture) authorize(t *testing.T, edit func(url.Values)) (int, url.Values) {
	t.Helper()
	q := url.Values{"client_id": {"app"}, "redirect_uri": {appCB}, "response_type": {"code"}, "state": {"s-1"},
		"scope": {"openid launch patient/Observation.rs"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	if edit != nil {
		edit(q)
	}
	resp, err := stopAtApp.Get(f.as.AuthorizationEndpoint() + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		return resp.StatusCode, nil
	}
	return resp.StatusCode, loc.Query()
}

func (f *codeFixture) redeem(t *testing.T, code, v, redirect string) (int, jwt.MapClaims) {
	t.Helper()
	resp, err := http.PostForm(f.as.TokenEndpoint(), url.Values{"grant_type": {"authorization_code"}, "client_id": {"app"},
		"code": {code}, "code_verifier": {v}, "redirect_uri": {redirect}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	claims := jwt.MapClaims{}
	if at, ok := body["access_token"].(string); ok {
		_, _, _ = jwt.NewParser().ParseUnverified(at, claims)
	}
	return resp.StatusCode, claims
}

func TestAuthorizationCode(t *testing.T) {
	t.Run("a code redeemed once with the verifier gets a token for the signed-in user", func(t *testing.T) {
		f := newCodeFixture(t, nil)
		st, back := f.authorize(t, nil)
		if st != http.StatusFound || back.Get("state") != "s-1" || back.Get("code") == "" {
			t.Fatalf("%d %v", st, back)
		}
		st, c := f.redeem(t, back.Get("code"), verifier, appCB)
		if st != 200 || c["sub"] != "u@example.org" || c["cid"] != "app" || c["fhirUser"] != "Practitioner/1" {
			t.Fatalf("%d %v", st, c)
		}
		if st, _ := f.redeem(t, back.Get("code"), verifier, appCB); st != http.StatusBadRequest {
			t.Fatalf("second redemption: %d", st)
		}
	})
	t.Run("a confidential client redeems its code with HTTP Basic, and only so", func(t *testing.T) {
		f := newCodeFixture(t, nil)
		post := func(code string, form url.Values, user, pass string) int {
			form.Set("grant_type", "authorization_code")
			form.Set("code", code)
			form.Set("code_verifier", verifier)
			form.Set("redirect_uri", appCB)
			req, _ := http.NewRequest(http.MethodPost, f.as.TokenEndpoint(), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if user != "" {
				// RFC 6749 section 2.3.1: id and secret form-encoded first
				req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		code := func() string {
			_, back := f.authorize(t, func(q url.Values) { q.Set("client_id", "web app") })
			return back.Get("code")
		}
		for name, c := range map[string]struct {
			form       url.Values
			user, pass string
		}{
			"no authentication":  {url.Values{"client_id": {"web app"}}, "", ""},
			"a wrong secret":     {url.Values{}, "web app", "secret"},
			"another client_id":  {url.Values{"client_id": {"app"}}, "web app", "s&cret"},
			"a public client id": {url.Values{}, "app", ""},
		} {
			if st := post(code(), c.form, c.user, c.pass); st != http.StatusUnauthorized {
				t.Errorf("%s: status %d, want 401", name, st)
			}
		}
		if st := post(code(), url.Values{}, "web app", "s&cret"); st != http.StatusOK {
			t.Fatalf("with its secret: status %d", st)
		}
	})
	t.Run("a wrong verifier or redirect URI gets no token", func(t *testing.T) {
		f := newCodeFixture(t, nil)
		_, back := f.authorize(t, nil)
		if st, _ := f.redeem(t, back.Get("code"), verifier[:42]+"x", appCB); st != http.StatusBadRequest {
			t.Fatalf("wrong verifier: %d", st)
		}
		_, back = f.authorize(t, nil)
		if st, _ := f.redeem(t, back.Get("code"), verifier, "https://app.example/other"); st != http.StatusBadRequest {
			t.Fatalf("wrong redirect_uri: %d", st)
		}
	})
	t.Run("an unregistered redirect URI is an error page, not a redirect", func(t *testing.T) {
		f := newCodeFixture(t, nil)
		if st, back := f.authorize(t, func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }); st != http.StatusBadRequest || back != nil {
			t.Fatalf("%d %v", st, back)
		}
	})
	for _, c := range []struct {
		name string
		edit func(url.Values)
	}{
		{"a request without PKCE is refused", func(q url.Values) { q.Del("code_challenge") }},
		{"PKCE plain is refused", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"a request without state is refused", func(q url.Values) { q.Del("state") }},
		{"a scope the policy does not grant is refused", func(q url.Values) { q.Set("scope", "openid user/*.cruds") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newCodeFixture(t, nil)
			if _, back := f.authorize(t, c.edit); back.Get("error") == "" || back.Get("code") != "" {
				t.Fatalf("%v", back)
			}
		})
	}
}

func TestTokenHookAtCodeIssuance(t *testing.T) {
	patch := func(w http.ResponseWriter, ops string) {
		_, _ = w.Write([]byte(`{"commands":[{"type":"com.okta.access.patch","value":` + ops + `}]}`))
	}
	t.Run("the hook gets Okta's payload and its patch is in the token", func(t *testing.T) {
		f := newCodeFixture(t, func(w http.ResponseWriter, _ *http.Request) {
			patch(w, `[{"op":"add","path":"/claims/patient","value":"p-1"}]`)
		})
		_, back := f.authorize(t, nil)
		var p struct {
			EventType string `json:"eventType"`
			Data      struct {
				Context struct {
					Protocol struct {
						Request map[string]string `json:"request"`
					} `json:"protocol"`
				} `json:"context"`
				Access struct {
					Claims map[string]any `json:"claims"`
				} `json:"access"`
			} `json:"data"`
		}
		_ = json.Unmarshal([]byte(f.last.Load().(string)), &p)
		req := p.Data.Context.Protocol.Request
		if p.EventType != "com.okta.oauth2.tokens.transform" || req["state"] != "s-1" || req["client_id"] != "app" || req["redirect_uri"] != appCB {
			t.Fatalf("payload %+v", p)
		}
		if _, ok := req["code_challenge"]; ok || p.Data.Access.Claims["cid"] != "app" {
			t.Fatalf("payload request %v claims %v", req, p.Data.Access.Claims)
		}
		if _, c := f.redeem(t, back.Get("code"), verifier, appCB); c["patient"] != "p-1" {
			t.Fatalf("claims %v", c)
		}
	})
	t.Run("an error object fails the request: no code", func(t *testing.T) {
		f := newCodeFixture(t, func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"error":{"errorSummary":"no context"}}`))
		})
		if _, back := f.authorize(t, nil); back.Get("code") != "" || back.Get("error") == "" || back.Get("state") != "s-1" {
			t.Fatalf("%v", back)
		}
		if f.as.HookFailedOpen() != 0 {
			t.Fatal("counted as fail-open")
		}
	})
	for _, c := range []struct {
		name  string
		hook  http.HandlerFunc
		calls int32
	}{
		{"a non-200 answer issues the token unchanged", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) }, 1},
		{"a timeout is not retried (Okta: \"The token inline hook isn't retried\") and the token is issued unchanged", func(w http.ResponseWriter, _ *http.Request) {
			time.Sleep(300 * time.Millisecond)
			patch(w, `[{"op":"add","path":"/claims/patient","value":"p-1"}]`)
		}, 1},
		{"a patch of a reserved claim issues the token unchanged", func(w http.ResponseWriter, _ *http.Request) {
			patch(w, `[{"op":"add","path":"/claims/patient","value":"p-1"},{"op":"replace","path":"/claims/sub","value":"x"}]`)
		}, 1},
		{"an answer that is not JSON issues the token unchanged", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newCodeFixture(t, c.hook)
			_, back := f.authorize(t, nil)
			if back.Get("code") == "" {
				t.Fatalf("no code: %v", back)
			}
			_, claims := f.redeem(t, back.Get("code"), verifier, appCB)
			if _, ok := claims["patient"]; ok || claims["sub"] != "u@example.org" {
				t.Fatalf("claims changed: %v", claims)
			}
			if f.as.HookFailedOpen() != 1 || f.calls.Load() != c.calls {
				t.Fatalf("failed open %d times after %d calls", f.as.HookFailedOpen(), f.calls.Load())
			}
		})
	}
}
