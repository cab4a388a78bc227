package main_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/ehrsandbox"
)

// TestRegistryAppsEndToEnd launches apps of the Okta server's app registry
// (issue 15: oktaauth Apps, each its own Okta client), configured as the
// composite construct renders them: in EHRLAUNCH_CLIENTS by their Okta client
// id with their own redirect URI, at Okta with that redirect URI and the
// proxy's callback (package ehrsandbox's RegistryApps).
func TestRegistryAppsEndToEnd(t *testing.T) {
	// Okta client ids have this shape: "0oa" and 17 more characters.
	const (
		appA, redirA     = "0oa1regappa0000000A7", "https://a.example/cb"
		appB, redirB     = "0oa1regappb0000000B7", "https://b.example/cb"
		picker, redirPkr = "0oa1regpicker00000P7", "https://clinic.example/cb"
	)
	w := newWorldWith(t, func(c *ehrsandbox.Config) {
		c.RegistryApps = []ehrsandbox.RegistryApp{
			{ClientID: appA, RedirectURI: redirA}, {ClientID: appB, RedirectURI: redirB},
			{ClientID: picker, RedirectURI: redirPkr, PatientPicker: true},
		}
	})
	redeemed := func(t *testing.T, a app, back url.Values, patient string) string {
		t.Helper()
		if back.Get("code") == "" || back.Get("state") != a.state {
			t.Fatalf("%s got %v", a.clientID, back)
		}
		st, tok := w.redeem(t, a, back.Get("code"))
		if st != http.StatusOK || tok["patient"] != patient {
			t.Fatalf("%s's token = %d %v, want patient %s", a.clientID, st, tok, patient)
		}
		at, _ := tok["access_token"].(string)
		return at
	}
	launchA := w.launchFor(t, appA, "p2")
	t.Run("a launch registered for registry app A is refused to registry app B, at B's own redirect URI", func(t *testing.T) {
		b := newAppOf(appB, redirB)
		back := w.authorize(t, b, launchA, nil)
		if back.Get("code") != "" || back.Get("error") == "" || back.Get("state") != b.state {
			t.Fatalf("B got %v, want an error with its state and no code", back)
		}
	})
	t.Run("and app A then uses it, its code at its own redirect URI", func(t *testing.T) {
		a := newAppOf(appA, redirA)
		redeemed(t, a, w.authorize(t, a, launchA, nil), "p2")
	})
	t.Run("registry app B's own launch works, limited to its patient", func(t *testing.T) {
		b := newAppOf(appB, redirB)
		at := redeemed(t, b, w.authorize(t, b, w.launchFor(t, appB, "p1"), nil), "p1")
		if st, _ := w.fhir(t, at, "Patient/p1"); st != http.StatusOK {
			t.Fatalf("read Patient/p1 = %d", st)
		}
		if st, _ := w.fhir(t, at, "Patient/p2"); st != http.StatusForbidden {
			t.Fatalf("read Patient/p2 = %d", st)
		}
	})
	t.Run("a registry app configured for the picker gets the patient the clinician picked", func(t *testing.T) {
		p := newAppOf(picker, redirPkr)
		tx := w.openPicker(t, w.browser, p)
		redeemed(t, p, atApp(t, w.pick(t, w.browser, tx, "p2"), redirPkr), "p2")
	})
}
