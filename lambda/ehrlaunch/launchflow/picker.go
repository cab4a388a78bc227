package launchflow

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

// The standalone patient picker for clinicians (SMART's
// context-standalone-patient for a provider app started outside an EHR).
//
// Why the picker comes before the sign-in: Okta calls the token hook when it
// issues the code at /authorize, and that call is the only moment the patient
// can enter the access token. A picker after Okta's sign-in (at the callback)
// would run after the token's claims are fixed. So the picker runs first, on
// an anonymous browser: it lists nothing (a list or search would show patient
// data to whoever opens an authorize URL) and takes a FHIR id the clinician
// types, which goes in a POST body, never a URL. Okta's hook then checks that
// the signed-in user's fhirUser is a Practitioner or PractitionerRole and
// refuses the request otherwise; the validator and HealthLake's fine-grained
// authorization still limit what that clinician reads. An id of no patient
// yields a token that reads nothing.

// PatientScope is the scope by which a standalone app asks for a patient in
// context (SMART App Launch, "launch/patient").
const PatientScope = "launch/patient"

// maxPickerBody bounds the picker's form post.
const maxPickerBody = 8 << 10

// wantsPicker says whether a request goes through the picker: an app
// configured for it, asking for launch/patient without an EHR's launch.
func (s *Server) wantsPicker(clientID, launchID string, scopes []string) bool {
	return launchID == "" && s.cfg.PickerClients[clientID] && slices.Contains(scopes, PatientScope)
}

// startPicker stores the transaction with the Okta request to continue with,
// binds it to this browser for the picker's form post and the callback, and
// shows the picker form.
func (s *Server) startPicker(w http.ResponseWriter, r *http.Request, txID, binding string, tx launchstore.Transaction, oktaQuery string, fail func(code, description string)) {
	tx.Picker, tx.OktaQuery = true, oktaQuery
	if err := s.store.PutTransaction(r.Context(), txID, tx, s.opts.Now().Add(s.cfg.TransactionLifetime)); err != nil {
		s.opts.Logger.Error("authorize", "error", err.Error())
		fail("server_error", "the authorization could not be started")
		return
	}
	s.bindBrowser(w, r, txID, binding)
	s.pickerPage(w, http.StatusOK, txID, "")
}

// pick receives the picker form: it checks the form came from the browser
// that opened the picker (its binding cookie, whose hash the transaction
// holds; Origin ours when sent), records the patient once, and sends the user
// on to Okta. The binding cookie replaced a form token in the page, which
// adds nothing once the cookie is checked against the transaction: a
// cross-site page cannot read the cookie, and its post, which carries the
// cookie (SameSite=None, for EHRs that frame the app: binding.go), is
// refused by sameOrigin's Origin and Sec-Fetch-Site checks.
func (s *Server) pick(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPickerBody)
	if err := r.ParseForm(); err != nil {
		page(w, http.StatusBadRequest, "The form could not be read.")
		return
	}
	txID, patient := r.PostForm.Get("tx"), strings.TrimSpace(r.PostForm.Get("patient"))
	if !s.sameOrigin(r) {
		s.refuse(r, "picker", "cross-origin form post")
		page(w, http.StatusForbidden, "This form must be sent from the patient picker page.")
		return
	}
	hash, ok := browserHash(r, txID)
	if !ok {
		s.refuse(r, "picker", "no browser-binding cookie for the transaction")
		page(w, http.StatusForbidden, "This form was not opened in this browser. Start again from the app.")
		return
	}
	if !fhirID.MatchString(patient) {
		s.pickerPage(w, http.StatusBadRequest, txID, "A patient id is letters, digits, '-' and '.', at most 64 characters.")
		return
	}
	tx, err := s.store.PickPatient(r.Context(), txID, hash, patient)
	if errors.Is(err, launchstore.ErrNotFound) {
		s.refuse(r, "picker", "unknown, expired, already picked or another browser's transaction")
		page(w, http.StatusBadRequest, "This sign-in was not started in this browser, or it is unknown, expired or already under way. Start again from the app.")
		return
	}
	if err != nil {
		s.opts.Logger.Error("picker", "error", err.Error())
		page(w, http.StatusInternalServerError, "The patient could not be recorded.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(tx.BrowserHash), []byte(hash)) != 1 {
		// The store's condition compared the hashes already (see callback).
		s.refuse(r, "picker", "the transaction is bound to another browser")
		page(w, http.StatusBadRequest, "This sign-in was not started in this browser. Start again from the app.")
		return
	}
	// The binding cookie stays: the callback completes the sign-in with it.
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.cfg.OktaIssuer+"/v1/authorize?"+tx.OktaQuery, http.StatusSeeOther)
}

// sameOrigin accepts a post whose Origin header, when the browser sends one,
// is this API's, and whose Sec-Fetch-Site, when sent, is same-origin. A
// browser sends the opaque "Origin: null" under some referrer policies and
// privacy settings (Fetch standard, "append a request Origin header"): that
// counts only together with Sec-Fetch-Site: same-origin, which browsers set
// themselves. The binding cookie is required either way.
func (s *Server) sameOrigin(r *http.Request) bool {
	site := r.Header.Get("Sec-Fetch-Site")
	if site != "" && site != "same-origin" {
		return false
	}
	switch o := r.Header.Get("Origin"); o {
	case "", origin(s.cfg.PublicURL):
		return true
	case "null":
		return site == "same-origin"
	}
	return false
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

var pickerTemplate = template.Must(template.New("picker").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Choose a patient</title></head>
<body><h1>Choose a patient</h1>
<p>Enter the FHIR id of the patient to open in the app. You sign in next; only clinicians may continue.</p>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="tx" value="{{.Tx}}">
<label>Patient id <input name="patient" required maxlength="64" pattern="[A-Za-z0-9.\-]{1,64}" autocomplete="off"></label>
<button type="submit">Continue</button>
</form></body></html>
`))

// pickerPage renders the form. It may be framed by nobody and loads nothing.
// The policy sets no form-action: browsers apply it to every redirect after
// the submission, and Okta's sign-in may redirect on to a federated identity
// provider the proxy cannot know; the form's action is this API's own URL,
// rendered by the server.
func (s *Server) pickerPage(w http.ResponseWriter, status int, txID, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	// same-origin, not no-referrer: under no-referrer browsers send
	// "Origin: null" on the page's own post; Okta, another origin, still
	// gets no referrer.
	h.Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	_ = pickerTemplate.Execute(w, map[string]string{
		"Action": strings.TrimSuffix(s.cfg.PublicURL, "/") + ehrlaunchenv.PathPicker, "Tx": txID, "Error": msg,
	})
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// pickedContext is the launch context of a picker transaction, once the
// signed-in user is known to be a clinician (the access token's fhirUser, from
// Okta) who has no patient claim of their own; otherwise the reason it
// cannot be given.
func (s *Server) pickedContext(tx launchstore.Transaction, claims map[string]any) (*launchstore.LaunchContext, string) {
	if tx.PickedPatient == "" {
		return nil, "the patient picker was not completed"
	}
	user, _ := claims[launchclaims.FHIRUser].(string)
	if !clinician(user) {
		return nil, "the patient picker is for clinicians: the signed-in user's fhirUser is not a Practitioner or PractitionerRole"
	}
	if _, ok := claims[launchclaims.Patient]; ok {
		return nil, "the signed-in user already has a patient claim"
	}
	return &launchstore.LaunchContext{
		ClientID: tx.ClientID, Aud: s.cfg.FHIRAudience, Patient: tx.PickedPatient, NeedPatientBanner: true,
	}, ""
}

// clinician says whether a fhirUser claim (a relative reference or an
// absolute URL ending in one) names a Practitioner or PractitionerRole.
func clinician(fhirUser string) bool {
	parts := strings.Split(fhirUser, "/")
	if len(parts) < 2 {
		return false
	}
	typ, id := parts[len(parts)-2], parts[len(parts)-1]
	return (typ == "Practitioner" || typ == "PractitionerRole") && fhirID.MatchString(id)
}
