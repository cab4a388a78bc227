package launchflow

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

// The browser binding: the sign-in belongs to the browser that started it.
//
// Without it, /callback would hand Okta's code to any browser arriving with a
// transaction's state, so an attacker could start a transaction (an EHR
// launch, a patient picked in the clinicians' picker, any authorization),
// stop before Okta and get a victim to complete the sign-in: the victim's
// code, and the token the attacker's app then gets for it, would carry the
// context the attacker chose. So /authorize sets a fresh random cookie on the
// browser it sends to Okta and stores only its hash in the transaction; the
// picker's form post and the callback require it, compared by the store's
// conditional write (launchstore.UseCallback, PickPatient) and again here in
// constant time.
//
// One cookie per transaction, named for it, rather than one cookie for the
// latest transaction: a clinician opens two apps (or one app for two
// patients) in two tabs, or an EHR launches several apps at once, and each
// tab's sign-in must still complete; with one cookie the later /authorize
// would overwrite the earlier's binding and the earlier tab's callback would
// be refused. Each cookie lives at most the transaction's lifetime and is
// cleared when used, so abandoned ones expire within minutes.
//
// A refused callback consumes nothing: the state travels through Okta's URLs
// and logs, and burning the transaction on a mismatch would let anyone who
// learns a state cancel the sign-in of the browser that started it. Keeping
// it live gives an attacker nothing: the refused browser's code goes nowhere,
// and only the starting browser can complete the transaction.
//
// The cookie's attributes:
//   - Secure always, and the __Secure- name prefix, so that a network attacker
//     answering for plain http cannot plant a binding of its own (browsers
//     accept a __Secure- cookie only from an https origin; they and Go's
//     cookie jar treat http://localhost and loopback addresses as secure, which
//     the loopback tests rely on).
//   - HttpOnly: no script reads it.
//   - SameSite=Lax: Okta's redirect to /callback is a cross-site top-level GET,
//     which Lax lets through and Strict would not; a cross-site form post to
//     /picker still goes without it. (A launch inside a cross-site iframe gets
//     no Lax cookie, so it cannot complete; Okta's sign-in in such a frame needs
//     third-party cookies of its own anyway.)
//   - Path: the callback's full path, public stage included (API Gateway's
//     /prod: the browser matches the path it sees, not the one the function
//     gets); a picker transaction sets a second cookie of the same name and
//     value for the picker's path. The narrow paths rule out the __Host-
//     prefix, which demands Path=/; the default execute-api host names are on
//     the public suffix list, so no sibling API can set a cookie for this one.

// bindingCookiePrefix starts every binding cookie's name.
const bindingCookiePrefix = "__Secure-smart_tx_"

// bindingCookieName is the name of the binding cookie of a transaction: a
// short hash of its id, which tells concurrent transactions apart.
func bindingCookieName(txID string) string {
	sum := sha256.Sum256([]byte(txID))
	return bindingCookiePrefix + hex.EncodeToString(sum[:8])
}

// publicPath is the path of an endpoint as the browser sees it: the public
// URL's path (API Gateway's stage) and the endpoint's.
func (s *Server) publicPath(endpoint string) string {
	u, _ := url.Parse(s.cfg.PublicURL) // checked by ehrlaunchenv.Parse
	return strings.TrimSuffix(u.Path, "/") + endpoint
}

// bindingCookie is the binding cookie of txID for one endpoint; a maxAge
// below zero clears it.
func (s *Server) bindingCookie(txID, value, endpoint string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: bindingCookieName(txID), Value: value, Path: s.publicPath(endpoint), MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// bindBrowser sets the binding cookie of txID for the callback and, for a
// picker transaction, the picker.
func (s *Server) bindBrowser(w http.ResponseWriter, txID, value string, picker bool) {
	maxAge := int(s.cfg.TransactionLifetime.Seconds())
	http.SetCookie(w, s.bindingCookie(txID, value, ehrlaunchenv.PathCallback, maxAge))
	if picker {
		http.SetCookie(w, s.bindingCookie(txID, value, ehrlaunchenv.PathPicker, maxAge))
	}
}

// unbindBrowser clears the binding cookie of txID for one endpoint.
func (s *Server) unbindBrowser(w http.ResponseWriter, txID, endpoint string) {
	http.SetCookie(w, s.bindingCookie(txID, "", endpoint, -1))
}

// browserHash is the hash of the request's binding cookie for txID, as the
// transaction stores it; false when the browser sent none.
func browserHash(r *http.Request, txID string) (string, bool) {
	c, err := r.Cookie(bindingCookieName(txID))
	if err != nil || c.Value == "" {
		return "", false
	}
	return hashHex(c.Value), true
}
