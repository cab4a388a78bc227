package launchflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"

	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
)

// maxTokenBody bounds a token request and Okta's answer.
const maxTokenBody = 64 << 10

// forwardedRequestHeaders go to Okta's token endpoint: client authentication
// (client_secret_basic) and DPoP proofs (RFC 9449) must reach it unchanged.
var forwardedRequestHeaders = []string{"Authorization", "Content-Type", "Accept", "DPoP"}

// forwardedResponseHeaders come back to the app (DPoP-Nonce for RFC 9449's
// nonce round trip, WWW-Authenticate for a 401).
var forwardedResponseHeaders = []string{"Content-Type", "DPoP-Nonce", "WWW-Authenticate"}

// token is the SMART configuration's token_endpoint: it forwards to Okta and
// copies the launch context claims of the access token to the top level of
// the answer, where SMART apps read them. A backend service's
// client_credentials request takes its own path (backend.go): its assertion
// is verified here and replaced by one the proxy signs for Okta.
//
// The access token's claims are read without verifying its signature: it came
// from Okta over TLS in answer to this very request, and the proxy grants
// nothing on it; the validator verifies it on every FHIR call.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.cors(w, r)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenBody))
	if err != nil {
		jsonError(w, http.StatusBadRequest, "invalid_request", "the token request is too large or unreadable")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		jsonError(w, http.StatusBadRequest, "invalid_request", "the token request is not a form")
		return
	}
	if clientID, ok := s.backendClient(form); ok {
		s.backendToken(w, r, form, clientID)
		return
	}
	body, ok := s.rewriteCodeRedemption(w, r, body, form)
	if !ok {
		return
	}
	resp, answer, ok := s.forward(w, r, "/v1/token", body)
	if !ok {
		return
	}
	if resp.StatusCode == http.StatusOK {
		answer = withContext(answer)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// rewriteCodeRedemption replaces the app's redirect_uri in an
// authorization_code redemption by the callback: Okta issued the code to the
// callback and requires the same redirect_uri at the token endpoint (RFC 6749
// section 4.1.3). Other grants pass unchanged. form is body, parsed once by
// token.
//
// The app's own redirect_uri is checked against the URIs registered for its
// client, as at the authorize proxy, not against the one the code was issued
// for: RFC 6749 section 4.1.3's binding of a code to its redirect URI is
// Okta's, on the callback URI, and the proxy keeps no record per code. The
// code still goes only to the redirect URI its transaction was started with
// (the callback sends it nowhere else), and PKCE binds it to that app.
func (s *Server) rewriteCodeRedemption(w http.ResponseWriter, r *http.Request, body []byte, form url.Values) ([]byte, bool) {
	if form.Get("grant_type") != "authorization_code" {
		return body, true
	}
	clientID, err := tokenClient(r, form)
	if err != nil {
		jsonError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return nil, false
	}
	if !s.clientAllowed(clientID, form.Get("redirect_uri")) {
		jsonError(w, http.StatusBadRequest, "invalid_grant", "redirect_uri is not registered for this client")
		return nil, false
	}
	form.Set("redirect_uri", s.cfg.Callback())
	return []byte(form.Encode()), true
}

// clientAssertionType is RFC 7523 section 2.2's client_assertion_type.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// tokenClient names the client of a token request, only to look up its
// registered redirect URIs: HTTP Basic (client_secret_basic), else the form's
// client_id, else a private_key_jwt assertion's sub, which RFC 7523 section 3
// makes the client_id (and iss with it). The assertion is read without
// verifying it: Okta verifies it when the request is forwarded, and a forged
// one gains nothing here but a redirect URI check.
func tokenClient(r *http.Request, form url.Values) (string, error) {
	if id, _, ok := r.BasicAuth(); ok {
		id, err := url.QueryUnescape(id) // RFC 6749 section 2.3.1 form-encodes the id
		if err != nil {
			return "", errors.New("the Basic client id is not form-encoded")
		}
		return id, nil
	}
	if form.Get("client_assertion") == "" {
		return form.Get("client_id"), nil
	}
	if form.Get("client_assertion_type") != clientAssertionType {
		return "", errors.New("client_assertion_type must be " + clientAssertionType)
	}
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(form.Get("client_assertion"), &c); err != nil {
		return "", errors.New("the client assertion is not a JWT")
	}
	switch {
	case c.Subject == "" || c.Issuer != c.Subject:
		return "", errors.New("the client assertion's iss and sub must both be the client id")
	case form.Get("client_id") != "" && form.Get("client_id") != c.Subject:
		return "", errors.New("client_id and the client assertion name different clients")
	}
	return c.Subject, nil
}

// introspect forwards an RFC 7662 request to Okta's /v1/introspect and, for an
// active token, echoes its launch context claims at the top level of the
// answer (RFC 7662 section 2.2 allows extensions), in case Okta leaves them
// out. The caller authenticates to Okta as before (its Authorization header or
// client assertion goes through unchanged).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxTokenBody))
	if err != nil {
		jsonError(w, http.StatusBadRequest, "invalid_request", "the introspection request is too large or unreadable")
		return
	}
	resp, answer, ok := s.forward(w, r, "/v1/introspect", body)
	if !ok {
		return
	}
	if resp.StatusCode == http.StatusOK {
		if form, err := url.ParseQuery(string(body)); err == nil {
			answer = echoContext(answer, form.Get("token"))
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// forward posts body to an Okta endpoint with the request's forwarded headers
// and copies the answer's forwarded headers; on failure it has answered.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, path string, body []byte) (*http.Response, []byte, bool) {
	up, err := http.NewRequestWithContext(r.Context(), http.MethodPost, s.cfg.OktaIssuer+path, bytes.NewReader(body))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "server_error", "the request could not be forwarded")
		return nil, nil, false
	}
	for _, h := range forwardedRequestHeaders {
		if v := r.Header.Values(h); len(v) > 0 {
			up.Header[h] = v
		}
	}
	resp, err := s.opts.HTTPClient.Do(up)
	if err != nil {
		s.opts.Logger.Error("forward", "path", path, "error", "calling Okta failed")
		jsonError(w, http.StatusBadGateway, "temporarily_unavailable", "the authorization server did not answer")
		return nil, nil, false
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		jsonError(w, http.StatusBadGateway, "temporarily_unavailable", "the authorization server's answer was cut short")
		return nil, nil, false
	}
	for _, h := range forwardedResponseHeaders {
		if v := resp.Header.Values(h); len(v) > 0 {
			w.Header()[h] = v
		}
	}
	return resp, answer, true
}

// echoContext adds the context claims of token to an active introspection
// answer that lacks them. Okta vouched for the token (active: true), so its
// claims are read without another signature check.
func echoContext(answer []byte, token string) []byte {
	var fields map[string]json.RawMessage
	if json.Unmarshal(answer, &fields) != nil || string(fields["active"]) != "true" || token == "" {
		return answer
	}
	return addClaims(fields, answer, token)
}

// withContext adds the access token's context claims to a token response;
// a response it cannot read goes back unchanged.
func withContext(answer []byte) []byte {
	var fields map[string]json.RawMessage
	if json.Unmarshal(answer, &fields) != nil {
		return answer
	}
	var at string
	if json.Unmarshal(fields["access_token"], &at) != nil || at == "" {
		return answer
	}
	return addClaims(fields, answer, at)
}

// addClaims copies the launch context claims of a JWT into fields, when
// absent, and returns the re-encoded answer (or answer, unchanged).
func addClaims(fields map[string]json.RawMessage, answer []byte, at string) []byte {
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(at, claims); err != nil {
		return answer
	}
	changed := false
	for _, name := range launchclaims.ResponseFields {
		v, ok := claims[name]
		if _, present := fields[name]; !ok || present {
			continue
		}
		raw, err := json.Marshal(v)
		if err != nil {
			continue
		}
		fields[name] = raw
		changed = true
	}
	if !changed {
		return answer
	}
	out, err := json.Marshal(fields)
	if err != nil {
		return answer
	}
	return out
}

// cors allows the configured browser origins (SMART App Launch: public browser
// apps call the token endpoint from JavaScript). Other origins get no CORS
// headers, so the browser withholds the answer.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	o := r.Header.Get("Origin")
	if o == "" || !slices.Contains(s.cfg.CORSOrigins, o) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", o)
	w.Header().Set("Access-Control-Expose-Headers", "DPoP-Nonce, WWW-Authenticate")
	return true
}

func (s *Server) preflight(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}
