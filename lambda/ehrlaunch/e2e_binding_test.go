package main_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/sandbox"
)

// TestSignInIsBoundToTheBrowserEndToEnd plays the attack the browser binding
// stops (login CSRF with a chosen context): an attacker starts a transaction
// in its own browser, choosing the context (an EHR launch it got, a patient
// it picked in the clinicians' picker, or none), stops at the redirect to
// Okta and gets a victim to follow it. The victim signs in at Okta, Okta calls
// the hook and redirects the victim's browser to the callback with a code,
// and the callback refuses that browser with a page: no code reaches the app
// (whose verifier, and so whose token, would be the attacker's).
func TestSignInIsBoundToTheBrowserEndToEnd(t *testing.T) {
	w := newWorld(t)
	// The attacker's browser stops at each redirect: the one to Okta is the
	// link it hands the victim.
	attacker := w.newBrowser(t)
	attacker.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	toOkta := func(t *testing.T, resp *http.Response) string {
		t.Helper()
		loc, err := resp.Location()
		if resp.StatusCode/100 != 3 || err != nil || !strings.HasPrefix(loc.String(), w.sb.Issuer+"/v1/authorize?") {
			t.Fatalf("the attacker's transaction answered %d %v, not a redirect to Okta", resp.StatusCode, loc)
		}
		return loc.String()
	}
	for _, c := range []struct {
		name  string
		start func(t *testing.T, a app) string // the attacker's link to Okta
	}{
		{"an EHR launch the attacker started", func(t *testing.T, a app) string {
			resp, err := attacker.Get(w.authorizeURL(a, w.launchFor(t, sandbox.EHRAppClientID, "p1"), nil).String())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return toOkta(t, resp)
		}},
		{"a patient the attacker picked in the clinicians' picker", func(t *testing.T, a app) string {
			return toOkta(t, w.pick(t, attacker, w.openPicker(t, attacker, a), "p1"))
		}},
		{"a plain authorization the attacker started", func(t *testing.T, a app) string {
			resp, err := attacker.Get(w.authorizeURL(a, "", func(q url.Values) { q.Del("launch"); q.Set("scope", "openid patient/Observation.rs") }).String())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return toOkta(t, resp)
		}},
	} {
		t.Run(c.name+" and a victim completed at Okta hands the app no code", func(t *testing.T) {
			link := c.start(t, newApp())
			victim := w.newBrowser(t)
			resp, err := victim.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			at := resp.Request.URL
			if at.Path != ehrlaunchenv.PathCallback || at.Query().Get("code") == "" {
				t.Fatalf("the victim's browser ended at %v: Okta did not send it to the callback with a code, the test proves nothing", at)
			}
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || strings.Contains(string(body), at.Query().Get("code")) {
				t.Fatalf("the callback answered the victim's browser %d, Location %q, body %q: want a page without the code", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}
}
