package launchflow_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

// stage is the API Gateway stage the binding tests serve the API under: the
// browser sees /prod/callback, the function /callback.
const stage = "/prod"

// transactionKind starts one kind of transaction in the user's browser and
// takes it as far as the callback (Okta's hook ran, the patient is picked),
// returning its state and the redirect URI its code goes to.
type transactionKind struct {
	name  string
	start func(h *harness) (state, redirect string)
}

var transactionKinds = []transactionKind{
	{"an EHR launch", func(h *harness) (string, string) {
		tx := h.authorize(authorizeQuery(h.register(nil), nil)).Query().Get("state")
		if st, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); st != http.StatusOK || hr.Error != nil {
			h.t.Fatalf("hook %d %+v", st, hr.Error)
		}
		return tx, appRedir
	}},
	{"a patient picker transaction", func(h *harness) (string, string) {
		_, f := h.openPicker(pickerQuery(nil))
		if resp, _ := h.submit(f, "pat-777", f.cookie, nil); resp.StatusCode != http.StatusSeeOther {
			h.t.Fatalf("picker post = %d", resp.StatusCode)
		}
		if hr := h.pickerHook(f.tx, "Practitioner/55", nil); hr.Error != nil {
			h.t.Fatalf("hook %+v", hr.Error)
		}
		return f.tx, pickerRedir
	}},
	{"a plain authorization", func(h *harness) (string, string) {
		return h.authorize(plainQuery()).Query().Get("state"), appRedir
	}},
}

// plainQuery is an authorization without launch or picker.
func plainQuery() url.Values {
	return authorizeQuery("", func(q url.Values) { q.Del("launch"); q.Set("scope", "openid fhirUser patient/Observation.rs") })
}

// bindingCookies are the binding cookies a response sets.
func bindingCookies(resp *http.Response) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "__Host-smart_tx_") {
			out = append(out, c)
		}
	}
	return out
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// bindingValue is a binding: its issue time, a dot, 256 random bits.
var bindingValue = regexp.MustCompile(`^[0-9]+\.[A-Za-z0-9_-]{43}$`)

func TestBrowserBinding(t *testing.T) {
	for _, c := range []struct {
		name string
		open func(h *harness) *http.Response
	}{
		{"an EHR launch", func(h *harness) *http.Response {
			return h.get(ehrlaunchenv.PathAuthorize, authorizeQuery(h.register(nil), nil))
		}},
		{"a plain authorization", func(h *harness) *http.Response {
			return h.get(ehrlaunchenv.PathAuthorize, plainQuery())
		}},
		{"a patient picker transaction", func(h *harness) *http.Response {
			return h.get(ehrlaunchenv.PathAuthorize, pickerQuery(nil))
		}},
	} {
		t.Run(c.name+" sets one fresh __Host- cookie (HttpOnly, Secure, Path=/, SameSite=None, Partitioned) and stores only its hash", func(t *testing.T) {
			h := newHarnessOf(t, harnessConfig{stage: stage})
			first, second := bindingCookies(c.open(h)), bindingCookies(c.open(h))
			if len(first) != 1 || len(second) != 1 {
				t.Fatalf("binding cookies %v then %v, want one each", first, second)
			}
			if first[0].Value == second[0].Value || first[0].Name == second[0].Name {
				t.Fatalf("two transactions got the same binding cookie %v", first[0])
			}
			k := first[0]
			// __Host- (RFC 6265bis 4.1.3.2): Secure, Path=/, no Domain.
			if k.Path != "/" || !k.Secure || !k.HttpOnly || k.SameSite != http.SameSiteNoneMode || !k.Partitioned ||
				k.MaxAge != int(ehrlaunchenv.DefaultTransactionLifetime.Seconds()) || k.Domain != "" {
				t.Errorf("cookie %s: Path %q Secure %t HttpOnly %t SameSite %v Partitioned %t MaxAge %d Domain %q; want Path /, Secure, HttpOnly, None, Partitioned, the transaction's lifetime, host-only",
					k.Name, k.Path, k.Secure, k.HttpOnly, k.SameSite, k.Partitioned, k.MaxAge, k.Domain)
			}
			if !bindingValue.MatchString(first[0].Value) {
				t.Errorf("binding %q is not an issue time and 256 random bits", first[0].Value)
			}
			var hashes int
			for _, item := range h.fake.Items(table) {
				for name, v := range item {
					if v["S"] == first[0].Value {
						t.Errorf("the table holds the binding itself in %s", name)
					}
					if v["S"] == sha256Hex(first[0].Value) {
						hashes++
					}
				}
			}
			if hashes != 1 {
				t.Errorf("the binding's hash is in %d attributes, want the transaction's one", hashes)
			}
		})
	}

	for _, k := range transactionKinds {
		for _, other := range []struct {
			name   string
			cookie func(own *http.Cookie) *http.Cookie
		}{
			{"without the cookie", func(*http.Cookie) *http.Cookie { return nil }},
			{"with another browser's cookie", func(own *http.Cookie) *http.Cookie {
				return &http.Cookie{Name: own.Name, Value: strings.Repeat("A", 43)}
			}},
		} {
			t.Run("the callback of "+k.name+" from a browser "+other.name+" is refused with a page, and the browser that started it still completes it", func(t *testing.T) {
				h := newHarnessOf(t, harnessConfig{stage: stage})
				state, redirect := k.start(h)
				own := ownCookie(t, h, state)
				q := url.Values{"code": {"okta-code-victim"}, "state": {state}}
				req, _ := http.NewRequest(http.MethodGet, h.base+ehrlaunchenv.PathCallback+"?"+q.Encode(), nil)
				if c := other.cookie(own); c != nil {
					req.AddCookie(c)
				}
				resp, body := h.doWith(noRedirect, req)
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || strings.Contains(string(body), "okta-code") {
					t.Fatalf("callback from another browser = %d, Location %q, body %q: want a page without the code", resp.StatusCode, resp.Header.Get("Location"), body)
				}
				if len(bindingCookies(resp)) != 0 {
					t.Errorf("the refusal touched cookies: %v", resp.Cookies())
				}
				back := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code"}, "state": {state}})
				loc, _ := back.Location()
				if back.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("code") != "okta-code" {
					t.Fatalf("the starting browser's callback afterwards = %d %v", back.StatusCode, loc)
				}
			})
		}
	}

	t.Run("the used cookie is cleared, and the browser then holds no binding", func(t *testing.T) {
		h := newHarnessOf(t, harnessConfig{stage: stage})
		state := h.authorize(plainQuery()).Query().Get("state")
		own := ownCookie(t, h, state)
		resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code"}, "state": {state}})
		cleared := bindingCookies(resp)
		if len(cleared) != 1 || cleared[0].Name != own.Name || cleared[0].Path != "/" || cleared[0].MaxAge >= 0 {
			t.Fatalf("callback set %v, want %s cleared at Path /", cleared, own.Name)
		}
		u, _ := url.Parse(h.base + ehrlaunchenv.PathCallback)
		if left := h.browse.Jar.Cookies(u); len(left) != 0 {
			t.Fatalf("the browser still holds %v", left)
		}
	})
	t.Run("a browser keeps at most 20 bindings: the oldest are cleared, the newest complete", func(t *testing.T) {
		h := newHarnessOf(t, harnessConfig{stage: stage})
		var states []string
		for i := range 25 {
			states = append(states, h.authorize(plainQuery()).Query().Get("state"))
			if i%5 == 4 {
				h.clock.advance(time.Second) // issue times the cap sorts by
			}
		}
		u, _ := url.Parse(h.base + ehrlaunchenv.PathCallback)
		if n := len(h.browse.Jar.Cookies(u)); n != 20 {
			t.Fatalf("the browser holds %d binding cookies, want 20", n)
		}
		// binding.go's sizes: about 90 bytes a binding, so the cap keeps the
		// Cookie header far below API Gateway's 10,240-byte header limit.
		req := &http.Request{Header: http.Header{}}
		for _, c := range h.browse.Jar.Cookies(u) {
			req.AddCookie(c)
		}
		if n := len(req.Header.Get("Cookie")); n > 20*90 {
			t.Fatalf("20 bindings make a %d-byte Cookie header, want at most %d (about 90 bytes each)", n, 20*90)
		}
		for i, state := range []string{states[24], states[5], states[0]} {
			resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"c"}, "state": {state}})
			if completes := resp.StatusCode == http.StatusFound; completes != (i < 2) {
				t.Fatalf("callback %d = %d, want it to complete: %t", i, resp.StatusCode, i < 2)
			}
		}
	})
	t.Run("two sign-ins started in one browser (two tabs) both complete", func(t *testing.T) {
		h := newHarnessOf(t, harnessConfig{stage: stage})
		first := h.authorize(plainQuery()).Query().Get("state")
		second := h.authorize(plainQuery()).Query().Get("state")
		for _, state := range []string{second, first} {
			resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"code-" + state}, "state": {state}})
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code") != "code-"+state {
				t.Fatalf("callback of %s = %d %v", state, resp.StatusCode, loc)
			}
		}
	})
	t.Run("Okta's error at the callback of another browser is a page, not a redirect to the app", func(t *testing.T) {
		h := newHarnessOf(t, harnessConfig{stage: stage})
		state := h.authorize(plainQuery()).Query().Get("state")
		resp := h.getWith(newBrowser(t), ehrlaunchenv.PathCallback, url.Values{"error": {"access_denied"}, "state": {state}})
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("with a store that ignores the browser, the callback still refuses another browser's cookie", func(t *testing.T) {
		h := newHarnessOf(t, harnessConfig{stage: stage, store: func(s launchflow.Store) launchflow.Store { return bindingBlindStore{s} }})
		state := h.authorize(plainQuery()).Query().Get("state")
		req, _ := http.NewRequest(http.MethodGet, h.base+ehrlaunchenv.PathCallback+"?"+url.Values{"code": {"c"}, "state": {state}}.Encode(), nil)
		req.AddCookie(&http.Cookie{Name: ownCookie(t, h, state).Name, Value: strings.Repeat("A", 43)})
		if resp, _ := h.doWith(noRedirect, req); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("with a store that ignores the browser, the picker still refuses another browser's cookie", func(t *testing.T) {
		h := newHarnessOf(t, harnessConfig{stage: stage, store: func(s launchflow.Store) launchflow.Store { return bindingBlindStore{s} }})
		_, f := h.openPicker(pickerQuery(nil))
		if resp, _ := h.submit(f, "pat-9", &http.Cookie{Name: f.cookie.Name, Value: strings.Repeat("A", 43)}, nil); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("another transaction's cookie does not complete this one", func(t *testing.T) {
		h := newHarnessOf(t, harnessConfig{stage: stage})
		mine := h.authorize(plainQuery()).Query().Get("state")
		theirs := h.authorize(plainQuery()).Query().Get("state")
		req, _ := http.NewRequest(http.MethodGet, h.base+ehrlaunchenv.PathCallback+"?"+url.Values{"code": {"c"}, "state": {theirs}}.Encode(), nil)
		req.AddCookie(&http.Cookie{Name: ownCookie(t, h, theirs).Name, Value: ownCookie(t, h, mine).Value})
		if resp, _ := h.doWith(noRedirect, req); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// bindingBlindStore is a broken launch store: its callback step ignores the
// browser, and so does its pick, as conditional writes that lost their
// browser condition would.
type bindingBlindStore struct{ launchflow.Store }

func (s bindingBlindStore) UseCallback(ctx context.Context, id, _ string) (launchstore.Transaction, error) {
	tx, err := s.Store.GetTransaction(ctx, id)
	if err != nil {
		return tx, err
	}
	return s.Store.UseCallback(ctx, id, tx.BrowserHash)
}

func (s bindingBlindStore) PickPatient(ctx context.Context, id, _, patient string) (launchstore.Transaction, error) {
	tx, err := s.Store.GetTransaction(ctx, id)
	if err != nil {
		return tx, err
	}
	return s.Store.PickPatient(ctx, id, tx.BrowserHash, patient)
}

// ownCookie is the binding cookie the user's browser holds for the callback
// of state (named for the transaction: binding.go).
func ownCookie(t *testing.T, h *harness, state string) *http.Cookie {
	t.Helper()
	sum := sha256.Sum256([]byte(state))
	name := "__Host-smart_tx_" + hex.EncodeToString(sum[:8])
	u, _ := url.Parse(h.base + ehrlaunchenv.PathCallback)
	for _, c := range h.browse.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("the browser holds no binding cookie %s for transaction %s", name, state)
	return nil
}
