package launchflow

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

// s256Challenge is an RFC 7636 S256 code_challenge: BASE64URL(SHA-256) without
// padding, 43 characters.
var s256Challenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// passThrough are the app's parameters the proxy forwards to Okta unchanged.
// Everything else is dropped: launch and aud mean nothing to Okta, and
// login_hint could carry personal data into Okta's URL logs.
var passThrough = []string{"nonce", "prompt", "max_age"}

// authorize is the SMART configuration's authorization_endpoint.
//
// Errors before the client and redirect URI are known good are shown as a page,
// never redirected (RFC 6749 section 4.1.2.1: an unchecked redirect URI makes
// the server an open redirector); later errors go back to the app with its state.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID, redirectURI, appState := q.Get("client_id"), q.Get("redirect_uri"), q.Get("state")
	if !s.clientAllowed(clientID, redirectURI) {
		s.refuse(r, "authorize", "unknown client or redirect URI", "client_id", clientID)
		page(w, http.StatusBadRequest, "The client or its redirect URI is not registered with this server.")
		return
	}
	fail := func(code, description string) {
		s.refuse(r, "authorize", description, "client_id", clientID)
		redirectBack(w, r, redirectURI, url.Values{"error": {code}, "error_description": {description}}, appState)
	}
	scopes := strings.Fields(q.Get("scope"))
	launchID := q.Get("launch")
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
		return
	case appState == "":
		fail("invalid_request", "state is required")
		return
	case !sameAudience(q.Get("aud"), s.cfg.FHIRAudience):
		fail("invalid_request", "aud must be this FHIR server's endpoint")
		return
	case q.Get("code_challenge_method") != "S256" || !s256Challenge.MatchString(q.Get("code_challenge")):
		fail("invalid_request", "PKCE with code_challenge_method S256 is required")
		return
	case launchID != "" && !slices.Contains(scopes, launchclaims.LaunchScope):
		fail("invalid_scope", "a launch parameter needs the launch scope")
		return
	case launchID == "" && slices.Contains(scopes, launchclaims.LaunchScope):
		fail("invalid_request", "the launch scope needs a launch parameter from the EHR")
		return
	}

	tx := launchstore.Transaction{ClientID: clientID, RedirectURI: redirectURI, AppState: appState, Scope: q.Get("scope")}
	if launchID != "" {
		lc, err := s.store.ConsumeLaunch(r.Context(), launchID, clientID)
		if errors.Is(err, launchstore.ErrNotFound) {
			fail("invalid_request", "the launch is unknown, expired, already used or for another app")
			return
		}
		if err != nil {
			s.opts.Logger.Error("authorize", "error", err.Error())
			fail("server_error", "the launch could not be resolved")
			return
		}
		tx.Launch = &lc
	}
	// Two secrets: the transaction id goes to Okta as its state; the
	// binding goes to this browser only, as a cookie (binding.go).
	txID, err := s.newID()
	var binding string
	if err == nil {
		binding, err = s.newBinding()
	}
	if err != nil {
		s.opts.Logger.Error("authorize", "error", err.Error())
		fail("server_error", "the authorization could not be started")
		return
	}
	tx.BrowserHash = hashHex(binding)
	up := url.Values{
		"client_id":             {clientID},
		"response_type":         {"code"},
		"redirect_uri":          {s.cfg.Callback()},
		"scope":                 {q.Get("scope")},
		"state":                 {txID},
		"code_challenge":        {q.Get("code_challenge")},
		"code_challenge_method": {"S256"},
	}
	for _, p := range passThrough {
		if v := q.Get(p); v != "" {
			up.Set(p, v)
		}
	}
	if s.wantsPicker(clientID, launchID, scopes) {
		// The patient must be bound before Okta issues the code (the hook
		// runs then), so the picker comes before the sign-in; the hook
		// later checks that whoever signed in is a clinician.
		s.startPicker(w, r, txID, binding, tx, up.Encode(), fail)
		return
	}
	if err := s.store.PutTransaction(r.Context(), txID, tx, s.opts.Now().Add(s.cfg.TransactionLifetime)); err != nil {
		s.opts.Logger.Error("authorize", "error", err.Error())
		fail("server_error", "the authorization could not be started")
		return
	}
	s.bindBrowser(w, r, txID, binding)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.cfg.OktaIssuer+"/v1/authorize?"+up.Encode(), http.StatusFound)
}

// callback is the redirect URI registered with Okta: it hands Okta's code (or
// error) back to the app's redirect URI with the app's own state, once, and
// only to the browser that started the transaction (binding.go). Any refusal
// before the transaction is known to be this browser's is a page, never a
// redirect: a redirect would carry the code, or the app's state, to a
// browser that did not start the sign-in.
func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	const otherBrowser = "This sign-in was not started in this browser, or it is unknown, expired or already completed. Start again from the app."
	hash, ok := browserHash(r, state)
	if !ok {
		s.refuse(r, "callback", "no browser-binding cookie for the transaction")
		page(w, http.StatusBadRequest, otherBrowser)
		return
	}
	tx, err := s.store.UseCallback(r.Context(), state, hash)
	if errors.Is(err, launchstore.ErrNotFound) {
		s.refuse(r, "callback", "unknown, expired, reused or another browser's transaction")
		page(w, http.StatusBadRequest, otherBrowser)
		return
	}
	if err != nil {
		s.opts.Logger.Error("callback", "error", err.Error())
		page(w, http.StatusInternalServerError, "The sign-in could not be completed.")
		return
	}
	// The store's condition compared the hashes already; this guards
	// against a store that did not (a table written by something else).
	if subtle.ConstantTimeCompare([]byte(tx.BrowserHash), []byte(hash)) != 1 {
		s.refuse(r, "callback", "the transaction is bound to another browser")
		page(w, http.StatusBadRequest, otherBrowser)
		return
	}
	s.unbindBrowser(w, state)
	if e := q.Get("error"); e != "" {
		redirectBack(w, r, tx.RedirectURI, url.Values{"error": {e}, "error_description": {q.Get("error_description")}}, tx.AppState)
		return
	}
	code := q.Get("code")
	if code == "" {
		redirectBack(w, r, tx.RedirectURI, url.Values{"error": {"server_error"}, "error_description": {"the authorization server returned no code"}}, tx.AppState)
		return
	}
	// Okta issues the code even when the hook timed out or failed (fail-open).
	// A launch (or a picked patient) whose hook did not record its step
	// (commands built, refresh binding stored, within its time budget) must
	// not yield a code at all.
	if (tx.Launch != nil || tx.Picker) && !tx.HookOK {
		s.refuse(r, "callback", "the token hook did not run for this launch", "client_id", tx.ClientID)
		redirectBack(w, r, tx.RedirectURI, url.Values{"error": {"server_error"}, "error_description": {"the launch context could not be attached"}}, tx.AppState)
		return
	}
	redirectBack(w, r, tx.RedirectURI, url.Values{"code": {code}}, tx.AppState)
}

// redirectBack sends the browser to the app's redirect URI, keeping any query
// the registered URI has (RFC 6749 section 3.1.2).
func redirectBack(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values, state string) {
	u, _ := url.Parse(redirectURI) // checked against the configuration
	q := u.Query()
	for k, vs := range params {
		if len(vs) > 0 && vs[0] != "" {
			q.Set(k, vs[0])
		}
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg + "\n"))
}
