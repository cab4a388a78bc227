package launchflow

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
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
// A refused callback consumes nothing: burning the transaction on a mismatch
// would let anyone who learns a state (it travels through Okta's URLs and
// logs) cancel the sign-in of the browser that started it that way. What the
// binding cannot stop, as no OAuth redirect flow can once its authorization
// request leaks: someone who has the full Okta authorize URL of a live
// transaction can sign in there first, which spends the transaction's single
// hook call (so the rightful user's sign-in then fails), or send the
// rightful browser to /callback with their own code for it. The URL goes
// only to the browser and Okta's logs, and lives at most the transaction's
// ten minutes.
//
// The cookie's attributes:
//   - the __Host- name prefix: Secure, Path=/ and no Domain, so that neither a
//     network attacker answering for plain http nor a sibling host (another
//     API under the same parent domain, where the public suffix list does not
//     list that parent: recent execute-api regions, custom domains) can plant
//     a binding of its own (RFC 6265bis section 4.1.3.2). Browsers, and Go's
//     cookie jar, treat http://localhost and loopback addresses as secure,
//     which the loopback tests rely on.
//   - HttpOnly: no script reads it.
//   - SameSite=None with Partitioned (CHIPS): an EHR that embeds the app in a
//     cross-site iframe runs /authorize, Okta and /callback inside that frame,
//     where a Lax cookie is neither set nor sent; a partitioned cookie is kept
//     per top-level site, so the frame's sign-in finds its own binding and no
//     other site's. None costs nothing here: the picker's form post is
//     checked by Origin and Sec-Fetch-Site as well, and a cross-site request
//     to /callback needs the transaction's state and a code for it.
//   - At most maxBindings live per browser: a page that sends a browser
//     through /authorize again and again would otherwise pile up cookies
//     until its Cookie header passed API Gateway's 10,240-byte limit on
//     request headers and every callback failed. The value starts with its
//     issue time, so /authorize clears the oldest.

// bindingCookiePrefix starts every binding cookie's name.
const bindingCookiePrefix = "__Host-smart_tx_"

// maxBindings is how many binding cookies a browser keeps at once (about
// 90 bytes each): more than a clinician has tabs of sign-ins under way.
const maxBindings = 20

// bindingCookieName is the name of the binding cookie of a transaction: a
// short hash of its id, which tells concurrent transactions apart.
func bindingCookieName(txID string) string {
	sum := sha256.Sum256([]byte(txID))
	return bindingCookiePrefix + hex.EncodeToString(sum[:8])
}

// newBinding is a binding value: its issue time (unix seconds, for
// capping), a dot, and 256 random bits.
func (s *Server) newBinding() (string, error) {
	id, err := s.newID()
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(s.opts.Now().Unix(), 10) + "." + id, nil
}

// bindingCookie is the binding cookie of a transaction; a maxAge below zero
// clears it.
func bindingCookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode, Partitioned: true,
	}
}

// bindBrowser sets the binding cookie of txID, after clearing the oldest of
// the browser's live bindings beyond maxBindings - 1.
func (s *Server) bindBrowser(w http.ResponseWriter, r *http.Request, txID, value string) {
	type live struct {
		name   string
		issued int64
	}
	var bindings []live
	for _, c := range r.Cookies() {
		if strings.HasPrefix(c.Name, bindingCookiePrefix) {
			issued, _ := strconv.ParseInt(strings.SplitN(c.Value, ".", 2)[0], 10, 64) // unreadable: oldest
			bindings = append(bindings, live{c.Name, issued})
		}
	}
	slices.SortFunc(bindings, func(a, b live) int { return cmp.Compare(a.issued, b.issued) })
	for i := 0; i <= len(bindings)-maxBindings; i++ {
		http.SetCookie(w, bindingCookie(bindings[i].name, "", -1))
	}
	http.SetCookie(w, bindingCookie(bindingCookieName(txID), value, int(s.cfg.TransactionLifetime.Seconds())))
}

// unbindBrowser clears the binding cookie of txID.
func (s *Server) unbindBrowser(w http.ResponseWriter, txID string) {
	http.SetCookie(w, bindingCookie(bindingCookieName(txID), "", -1))
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
