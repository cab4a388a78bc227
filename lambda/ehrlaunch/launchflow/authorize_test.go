package launchflow_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

func TestAuthorize(t *testing.T) {
	t.Run("a launch goes to Okta under the proxy's own state and callback, with nothing of the context in the URL", func(t *testing.T) {
		h := newHarness(t)
		id := h.register(nil)
		loc := h.authorize(authorizeQuery(id, nil))
		q := loc.Query()
		if q.Get("redirect_uri") != h.srv.URL+"/callback" || q.Get("client_id") != appID {
			t.Fatalf("Okta URL %s", loc)
		}
		if st := q.Get("state"); st == "app-state-1" || len(st) != 43 {
			t.Fatalf("state = %q: want the proxy's own 256-bit transaction id", st)
		}
		if q.Get("code_challenge") != challenge || q.Get("code_challenge_method") != "S256" {
			t.Fatal("PKCE not forwarded")
		}
		for _, leak := range []string{"pat-123", "enc-9", id, "launch=", "aud="} {
			if strings.Contains(loc.String(), leak) {
				t.Errorf("Okta URL carries %q: %s", leak, loc)
			}
		}
	})
	t.Run("a launch id works once", func(t *testing.T) {
		h := newHarness(t)
		id := h.register(nil)
		h.authorize(authorizeQuery(id, nil))
		expectAppError(t, h.get(ehrlaunchenv.PathAuthorize, authorizeQuery(id, nil)), "invalid_request", "app-state-1")
	})
	t.Run("an expired launch id is refused", func(t *testing.T) {
		h := newHarness(t)
		id := h.register(nil)
		h.clock.advance(5*time.Minute + time.Second)
		expectAppError(t, h.get(ehrlaunchenv.PathAuthorize, authorizeQuery(id, nil)), "invalid_request", "app-state-1")
	})
	t.Run("another app's launch id is refused and stays usable by its app", func(t *testing.T) {
		h := newHarness(t)
		id := h.register(map[string]any{"client_id": otherApp})
		expectAppError(t, h.get(ehrlaunchenv.PathAuthorize, authorizeQuery(id, nil)), "invalid_request", "app-state-1")
		h.authorize(authorizeQuery(id, func(q url.Values) { q.Set("client_id", otherApp); q.Set("redirect_uri", otherRedir) }))
	})
	t.Run("an unknown launch id is refused", func(t *testing.T) {
		h := newHarness(t)
		expectAppError(t, h.get(ehrlaunchenv.PathAuthorize, authorizeQuery("made-up", nil)), "invalid_request", "app-state-1")
	})
	for _, c := range []struct {
		name string
		edit func(url.Values)
		code string
	}{
		{"another FHIR server's aud is refused", func(q url.Values) { q.Set("aud", "https://evil.example/r4/") }, "invalid_request"},
		{"a missing aud is refused", func(q url.Values) { q.Del("aud") }, "invalid_request"},
		{"a request without PKCE is refused", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"PKCE plain is refused", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"a launch without the launch scope is refused", func(q url.Values) { q.Set("scope", "openid patient/Observation.rs") }, "invalid_scope"},
		{"an implicit grant is refused", func(q url.Values) { q.Set("response_type", "token") }, "unsupported_response_type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			id := h.register(nil)
			expectAppError(t, h.get(ehrlaunchenv.PathAuthorize, authorizeQuery(id, c.edit)), c.code, "app-state-1")
			// The refusal happened before the launch was consumed.
			h.authorize(authorizeQuery(id, nil))
		})
	}
	t.Run("the launch scope without a launch parameter is refused", func(t *testing.T) {
		h := newHarness(t)
		expectAppError(t, h.get(ehrlaunchenv.PathAuthorize, authorizeQuery("", nil)), "invalid_request", "app-state-1")
	})
	t.Run("a standalone request without launch goes to Okta", func(t *testing.T) {
		h := newHarness(t)
		h.authorize(authorizeQuery("", func(q url.Values) { q.Set("scope", "openid launch/patient patient/Observation.rs") }))
	})
	for _, c := range []struct {
		name string
		edit func(url.Values)
	}{
		{"an unknown client gets an error page, not a redirect", func(q url.Values) { q.Set("client_id", "stranger") }},
		{"an unregistered redirect URI gets an error page, not a redirect", func(q url.Values) { q.Set("redirect_uri", "https://evil.example/cb") }},
		{"another client's redirect URI gets an error page", func(q url.Values) { q.Set("redirect_uri", otherRedir) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			id := h.register(nil)
			resp := h.get(ehrlaunchenv.PathAuthorize, authorizeQuery(id, c.edit))
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
}

func TestCallback(t *testing.T) {
	start := func(t *testing.T, h *harness) string {
		id := h.register(nil)
		return h.authorize(authorizeQuery(id, nil)).Query().Get("state")
	}
	t.Run("after the hook ran the code goes back to the app with the app's state, once", func(t *testing.T) {
		h := newHarness(t)
		tx := start(t, h)
		if st, hr := h.callHook(h.hookPayload(tx, appID, h.srv.URL+"/callback"), hookSecret); st != 200 || hr.Error != nil {
			t.Fatalf("hook %d %+v", st, hr.Error)
		}
		resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code"}, "state": {tx}})
		loc, _ := resp.Location()
		if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), appRedir+"?") {
			t.Fatalf("status %d, Location %v", resp.StatusCode, loc)
		}
		if loc.Query().Get("code") != "okta-code" || loc.Query().Get("state") != "app-state-1" {
			t.Fatalf("Location %s", loc)
		}
		if again := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code"}, "state": {tx}}); again.StatusCode != http.StatusBadRequest {
			t.Fatalf("second callback: %d", again.StatusCode)
		}
	})
	t.Run("a launch whose hook never ran yields no code", func(t *testing.T) {
		h := newHarness(t)
		tx := start(t, h)
		resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code"}, "state": {tx}})
		expectAppError(t, resp, "server_error", "app-state-1")
		if loc, _ := resp.Location(); loc.Query().Get("code") != "" {
			t.Fatal("a code was handed over")
		}
	})
	t.Run("Okta's error goes back to the app with its state", func(t *testing.T) {
		h := newHarness(t)
		tx := start(t, h)
		expectAppError(t, h.get(ehrlaunchenv.PathCallback, url.Values{"error": {"access_denied"}, "state": {tx}}), "access_denied", "app-state-1")
	})
	t.Run("an unknown state gets an error page", func(t *testing.T) {
		h := newHarness(t)
		if resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"c"}, "state": {"forged"}}); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("an expired transaction gets an error page", func(t *testing.T) {
		h := newHarness(t)
		tx := start(t, h)
		h.clock.advance(11 * time.Minute)
		if resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"c"}, "state": {tx}}); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func expectAppError(t *testing.T, resp *http.Response, code, state string) {
	t.Helper()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("status %d, want a redirect to the app", resp.StatusCode)
	}
	if !strings.HasPrefix(loc.String(), appRedir+"?") || loc.Query().Get("error") != code || loc.Query().Get("state") != state {
		t.Fatalf("redirected to %s, want error=%s state=%s at the app", loc, code, state)
	}
}
