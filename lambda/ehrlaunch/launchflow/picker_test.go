package launchflow_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
)

// pickerQuery is a standalone authorize request of the picker app: launch/patient, no launch.
func pickerQuery(edit func(url.Values)) url.Values {
	return authorizeQuery("", func(q url.Values) {
		q.Del("launch")
		q.Set("client_id", pickerApp)
		q.Set("redirect_uri", pickerRedir)
		q.Set("scope", "openid fhirUser launch/patient patient/Observation.rs")
		if edit != nil {
			edit(q)
		}
	})
}

// pickerForm is what the picker page shows: its transaction, and the
// binding cookies the authorize proxy set with it (for the picker's path and
// the callback's).
type pickerForm struct {
	tx               string
	cookie, callback *http.Cookie
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([a-z]+)" value="([^"]*)"`)

// openPicker runs the authorize proxy for the picker app in the user's
// browser and reads the picker page.
func (h *harness) openPicker(q url.Values) (*http.Response, pickerForm) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.base+ehrlaunchenv.PathAuthorize+"?"+q.Encode(), nil)
	resp, body := h.do(req)
	var f pickerForm
	for _, m := range hiddenField.FindAllStringSubmatch(string(body), -1) {
		if m[1] != "tx" {
			h.t.Fatalf("the picker form has a hidden %s field", m[1])
		}
		f.tx = m[2]
	}
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, "__Host-smart_tx_") {
			// One binding cookie (Path=/) serves the picker's post and the
			// callback.
			f.cookie, f.callback = c, c
		}
	}
	return resp, f
}

// submit posts the picker form with the given patient, cookie and headers,
// from a client that adds no cookie of its own.
func (h *harness) submit(f pickerForm, patient string, cookie *http.Cookie, header http.Header) (*http.Response, []byte) {
	h.t.Helper()
	form := url.Values{"tx": {f.tx}, "patient": {patient}}
	req, _ := http.NewRequest(http.MethodPost, h.base+ehrlaunchenv.PathPicker, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	return h.doWith(noRedirect, req)
}

// pickerHook is Okta's hook call at code issuance for the picker app, with
// the signed-in user's fhirUser (none when empty) and extra access claims.
func (h *harness) pickerHook(tx, fhirUser string, extra map[string]any) launchflow.HookResponse {
	h.t.Helper()
	var m map[string]any
	_ = json.Unmarshal(h.hookPayload(tx, pickerApp, h.cfg.Callback()), &m)
	claims := m["data"].(map[string]any)["access"].(map[string]any)["claims"].(map[string]any)
	claims["scp"] = []string{"openid", "fhirUser", "launch/patient", "patient/Observation.rs"}
	if fhirUser != "" {
		claims["fhirUser"] = fhirUser
	}
	for k, v := range extra {
		claims[k] = v
	}
	b, _ := json.Marshal(m)
	st, hr := h.callHook(b, hookSecret)
	if st != http.StatusOK {
		h.t.Fatalf("hook status %d", st)
	}
	return hr
}

func TestPatientPicker(t *testing.T) {
	t.Run("a picker app's standalone launch/patient request shows the picker, binds it to the browser and lets nobody frame it", func(t *testing.T) {
		h := newHarness(t)
		resp, f := h.openPicker(pickerQuery(nil))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" {
			t.Fatalf("authorize = %d, Location %q: want the picker page", resp.StatusCode, resp.Header.Get("Location"))
		}
		if f.tx == "" || f.cookie == nil || f.callback == nil || f.cookie.Value != f.callback.Value || f.cookie.Name != f.callback.Name {
			t.Fatalf("form %+v: want a transaction and one binding cookie for the picker's and the callback's paths", f)
		}
		// The attributes themselves: TestBrowserBinding.
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("Content-Security-Policy %q", csp)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
	})
	t.Run("an app not configured for the picker goes straight to Okta with launch/patient", func(t *testing.T) {
		h := newHarness(t)
		h.authorize(pickerQuery(func(q url.Values) { q.Set("client_id", appID); q.Set("redirect_uri", appRedir) }))
	})
	t.Run("a picker app's request without launch/patient goes straight to Okta", func(t *testing.T) {
		h := newHarness(t)
		h.authorize(pickerQuery(func(q url.Values) { q.Set("scope", "openid fhirUser user/Observation.rs") }))
	})
	t.Run("a browser's own post with an opaque Origin is accepted: the page's referrer policy keeps origins", func(t *testing.T) {
		h := newHarness(t)
		resp, f := h.openPicker(pickerQuery(nil))
		// Under Referrer-Policy: no-referrer a browser sends "Origin: null" on
		// the page's own post (Fetch standard); same-origin keeps the origin.
		if got := resp.Header.Get("Referrer-Policy"); got != "same-origin" {
			t.Fatalf("Referrer-Policy = %q, want same-origin", got)
		}
		post, _ := h.submit(f, "pat-777", f.cookie, http.Header{"Origin": {"null"}, "Sec-Fetch-Site": {"same-origin"}})
		if post.StatusCode != http.StatusSeeOther {
			t.Fatalf("picker post with Origin: null from the page itself = %d, want 303", post.StatusCode)
		}
	})
	t.Run("a picked patient reaches the access token through the hook, never a URL, and the code goes to the app", func(t *testing.T) {
		h := newHarness(t)
		_, f := h.openPicker(pickerQuery(nil))
		resp, _ := h.submit(f, "pat-777", f.cookie, http.Header{"Origin": {h.srv.URL}, "Sec-Fetch-Site": {"same-origin"}})
		loc, err := resp.Location()
		if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), h.cfg.OktaIssuer+"/v1/authorize?") {
			t.Fatalf("picker post = %d %v, want 303 to Okta", resp.StatusCode, loc)
		}
		if strings.Contains(loc.String(), "pat-777") {
			t.Fatalf("the patient id is in Okta's URL: %s", loc)
		}
		q := loc.Query()
		if q.Get("state") != f.tx || q.Get("redirect_uri") != h.cfg.Callback() || q.Get("client_id") != pickerApp || q.Get("code_challenge") != challenge {
			t.Fatalf("Okta request %v", q)
		}
		hr := h.pickerHook(f.tx, "https://fhir.example/r4/Practitioner/55", nil)
		c := claimsOf(hr)
		if hr.Error != nil || c["patient"] != "pat-777" || c[launchclaims.Marker] != launchclaims.MarkerValue || c["need_patient_banner"] != true {
			t.Fatalf("hook answer %+v", hr)
		}
		back := h.get(ehrlaunchenv.PathCallback, url.Values{"state": {f.tx}, "code": {"okta-code"}})
		if l, _ := back.Location(); l == nil || l.Query().Get("code") != "okta-code" || !strings.HasPrefix(l.String(), pickerRedir) {
			t.Fatalf("callback = %d %v", back.StatusCode, l)
		}
	})
	t.Run("a PractitionerRole may use the picker too", func(t *testing.T) {
		h := newHarness(t)
		_, f := h.openPicker(pickerQuery(nil))
		h.submit(f, "pat-1", f.cookie, nil)
		if hr := h.pickerHook(f.tx, "PractitionerRole/r-2", nil); hr.Error != nil || claimsOf(hr)["patient"] != "pat-1" {
			t.Fatalf("hook answer %+v", hr)
		}
	})
	t.Run("a refresh of a picked grant gets the picked patient again", func(t *testing.T) {
		h := newHarness(t)
		_, f := h.openPicker(pickerQuery(nil))
		h.submit(f, "pat-3", f.cookie, nil)
		if hr := h.pickerHook(f.tx, "Practitioner/55", nil); hr.Error != nil {
			t.Fatalf("code issuance %+v", hr)
		}
		var m map[string]any
		_ = json.Unmarshal(h.hookPayload("", pickerApp, ""), &m)
		proto := m["data"].(map[string]any)["context"].(map[string]any)["protocol"].(map[string]any)
		proto["request"] = map[string]any{"grant_type": "refresh_token"}
		proto["OriginalGrant"] = map[string]any{"authorization": map[string]any{
			"client_id": pickerApp, "state": f.tx, "scope": "openid launch/patient patient/Observation.rs offline_access",
		}}
		b, _ := json.Marshal(m)
		if _, hr := h.callHook(b, hookSecret); hr.Error != nil || claimsOf(hr)["patient"] != "pat-3" {
			t.Fatalf("refresh answer %+v", hr)
		}
	})

	// Form posts that must not pick a patient: each leaves the transaction
	// waiting, so the genuine post afterwards still works.
	for _, c := range []struct {
		name   string
		status int
		post   func(h *harness, f pickerForm) (*http.Response, []byte)
	}{
		{"a post without the browser's cookie is refused (login CSRF)", http.StatusForbidden, func(h *harness, f pickerForm) (*http.Response, []byte) {
			return h.submit(f, "pat-9", nil, nil)
		}},
		{"a post with another browser's cookie is refused", http.StatusBadRequest, func(h *harness, f pickerForm) (*http.Response, []byte) {
			return h.submit(f, "pat-9", &http.Cookie{Name: f.cookie.Name, Value: "another-browsers-binding"}, nil)
		}},
		{"a post with the cookie of another picker transaction is refused", http.StatusForbidden, func(h *harness, f pickerForm) (*http.Response, []byte) {
			_, other := h.openPicker(pickerQuery(nil))
			return h.submit(f, "pat-9", other.cookie, nil)
		}},
		{"a post with another picker transaction's binding under this one's cookie name is refused", http.StatusBadRequest, func(h *harness, f pickerForm) (*http.Response, []byte) {
			_, other := h.openPicker(pickerQuery(nil))
			return h.submit(f, "pat-9", &http.Cookie{Name: f.cookie.Name, Value: other.cookie.Value}, nil)
		}},
		{"a post from another origin is refused", http.StatusForbidden, func(h *harness, f pickerForm) (*http.Response, []byte) {
			return h.submit(f, "pat-9", f.cookie, http.Header{"Origin": {"https://evil.example"}})
		}},
		{"a cross-site post is refused even with the cookie", http.StatusForbidden, func(h *harness, f pickerForm) (*http.Response, []byte) {
			return h.submit(f, "pat-9", f.cookie, http.Header{"Sec-Fetch-Site": {"cross-site"}})
		}},
		{"an opaque Origin without Sec-Fetch-Site: same-origin is refused", http.StatusForbidden, func(h *harness, f pickerForm) (*http.Response, []byte) {
			return h.submit(f, "pat-9", f.cookie, http.Header{"Origin": {"null"}})
		}},
		{"a patient id that is not a FHIR id shows the form again", http.StatusBadRequest, func(h *harness, f pickerForm) (*http.Response, []byte) {
			return h.submit(f, "Patient/9?x=<script>", f.cookie, nil)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			_, f := h.openPicker(pickerQuery(nil))
			resp, body := c.post(h, f)
			if resp.StatusCode != c.status || resp.Header.Get("Location") != "" {
				t.Fatalf("post = %d, Location %q; want %d", resp.StatusCode, resp.Header.Get("Location"), c.status)
			}
			if strings.Contains(string(body), "<script>") {
				t.Fatalf("the page echoes unescaped input: %s", body)
			}
			if hr := h.pickerHook(f.tx, "Practitioner/55", nil); hr.Error == nil {
				t.Fatalf("the hook vouched for a transaction without a pick: %+v", hr)
			}
			if resp, _ := h.submit(f, "pat-1", f.cookie, nil); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("the genuine post afterwards = %d", resp.StatusCode)
			}
		})
	}

	t.Run("a second post cannot swap the picked patient", func(t *testing.T) {
		h := newHarness(t)
		_, f := h.openPicker(pickerQuery(nil))
		h.submit(f, "pat-1", f.cookie, nil)
		if resp, _ := h.submit(f, "pat-2", f.cookie, nil); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("second post = %d", resp.StatusCode)
		}
		if hr := h.pickerHook(f.tx, "Practitioner/55", nil); claimsOf(hr)["patient"] != "pat-1" {
			t.Fatalf("hook answer %+v", hr)
		}
	})
	t.Run("going to Okta without picking gets no code: the hook fails and the callback refuses", func(t *testing.T) {
		h := newHarness(t)
		_, f := h.openPicker(pickerQuery(nil))
		if hr := h.pickerHook(f.tx, "Practitioner/55", nil); hr.Error == nil {
			t.Fatalf("hook answer %+v", hr)
		}
		back := h.get(ehrlaunchenv.PathCallback, url.Values{"state": {f.tx}, "code": {"okta-code"}})
		if l, _ := back.Location(); l == nil || l.Query().Get("code") != "" || l.Query().Get("error") != "server_error" {
			t.Fatalf("callback = %d %v", back.StatusCode, l)
		}
	})
	t.Run("a picker post after the transaction expired is refused", func(t *testing.T) {
		h := newHarness(t)
		_, f := h.openPicker(pickerQuery(nil))
		h.clock.advance(ehrlaunchenv.DefaultTransactionLifetime + 1)
		if resp, _ := h.submit(f, "pat-1", f.cookie, nil); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("post = %d", resp.StatusCode)
		}
	})
	for _, c := range []struct{ name, fhirUser string }{
		{"a signed-in patient is refused: the picker is for clinicians", "Patient/pat-777"},
		{"a signed-in user without fhirUser is refused", ""},
		{"a fhirUser that only names a Practitioner inside its id is refused", "Patient/Practitioner"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			_, f := h.openPicker(pickerQuery(nil))
			h.submit(f, "pat-777", f.cookie, nil)
			if hr := h.pickerHook(f.tx, c.fhirUser, nil); hr.Error == nil {
				t.Fatalf("hook answer %+v", hr)
			}
			back := h.get(ehrlaunchenv.PathCallback, url.Values{"state": {f.tx}, "code": {"okta-code"}})
			if l, _ := back.Location(); l == nil || l.Query().Get("code") != "" {
				t.Fatalf("callback handed over a code: %v", l)
			}
		})
	}
	t.Run("a clinician who has a patient claim of their own is refused", func(t *testing.T) {
		h := newHarness(t)
		_, f := h.openPicker(pickerQuery(nil))
		h.submit(f, "pat-777", f.cookie, nil)
		if hr := h.pickerHook(f.tx, "Practitioner/55", map[string]any{"patient": "pat-own"}); hr.Error == nil {
			t.Fatalf("hook answer %+v", hr)
		}
	})
}
