package authserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/internal/randhex"
)

// TokenHook is a registered token inline hook (com.okta.oauth2.tokens.transform)
// with header authentication: Okta sends Authorization: <value> (Okta's
// InlineHook channel config authScheme type HEADER; okta-smart.md).
type TokenHook struct {
	// URL is the hook's channel URI.
	URL string
	// Authorization is the header value Okta sends.
	Authorization string
	// Timeout is Okta's per-call timeout. Default: 3 s (Okta's inline hook
	// reference, "Timeout behavior").
	Timeout time.Duration
	// Client makes the calls. Default: http.DefaultClient.
	Client *http.Client
}

// codeLifetime is how long an authorization code may be redeemed. Okta's
// lifetime is not stated in the sources the project uses; 60 s is the
// short end of what RFC 6749 section 4.1.2 recommends (at most 10 minutes).
const codeLifetime = 60 * time.Second

type issuedCode struct {
	client      string
	redirectURI string
	challenge   string
	scopes      []string
	claims      jwt.MapClaims
	expires     time.Time
}

// authorize is Okta's /v1/authorize for the authorization_code grant, as the
// project depends on it: an exact redirect URI match, state required, PKCE
// required and S256 only (Okta requires PKCE for public clients and supports
// only S256), scopes limited to what the policy grants. The user is signed in
// without a page. When a token hook is registered, Okta mints the token claims
// and calls the hook here, at code issuance (okta-smart.md).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var client *Client
	for i := range s.opts.Clients {
		if c := &s.opts.Clients[i]; c.ID == q.Get("client_id") && len(c.RedirectURIs) > 0 {
			client = c
		}
	}
	redirect := q.Get("redirect_uri")
	if client == nil || !slices.Contains(client.RedirectURIs, redirect) {
		http.Error(w, "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings", http.StatusBadRequest)
		return
	}
	fail := func(code, description string) {
		back(w, r, redirect, url.Values{"error": {code}, "error_description": {description}, "state": {q.Get("state")}})
	}
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "The response type is not supported by the authorization server.")
		return
	case q.Get("state") == "":
		fail("invalid_request", "The authentication request has an invalid 'state' parameter.")
		return
	case q.Get("code_challenge") == "":
		fail("invalid_request", "PKCE code challenge is required when the token endpoint authentication method is 'NONE'.")
		return
	case q.Get("code_challenge_method") != "S256":
		fail("invalid_request", "Invalid value for 'code_challenge_method': only S256 is supported.")
		return
	case len(scopes) == 0:
		fail("invalid_scope", "The authorization request has no scope.")
		return
	}
	for _, sc := range scopes {
		if !slices.Contains(client.Scopes, sc) {
			fail("invalid_scope", fmt.Sprintf("One or more scopes are not configured for the authorization server resource: %s", sc))
			return
		}
	}
	now := s.opts.Now()
	claims := jwt.MapClaims{
		"ver": 1, "jti": "AT." + randhex.String(16), "iss": s.opts.Issuer, "aud": s.opts.Audience,
		"iat": now.Unix(), "exp": now.Add(s.opts.TokenLifetime).Unix(),
		"cid": client.ID, "uid": "00u" + randhex.String(8), "sub": client.User, "scp": scopes,
	}
	for k, v := range client.Claims {
		claims[k] = v
	}
	if h := s.opts.TokenHook; h != nil {
		denied, err := s.callHook(r.Context(), h, q, claims)
		if err != nil {
			// Okta's fail-open: on a timeout (after one retry), a non-200 or an
			// unusable answer, the token is issued unchanged.
			s.mu.Lock()
			s.failedOpen++
			s.mu.Unlock()
		}
		if denied != "" {
			fail("access_denied", denied)
			return
		}
	}
	code := randhex.String(24)
	s.mu.Lock()
	s.codes[code] = &issuedCode{client: client.ID, redirectURI: redirect, challenge: q.Get("code_challenge"),
		scopes: scopes, claims: claims, expires: now.Add(codeLifetime)}
	s.mu.Unlock()
	back(w, r, redirect, url.Values{"code": {code}, "state": {q.Get("state")}})
}

// HookFailedOpen is how many authorization codes were issued with claims the
// hook did not change because its call failed (Okta's fail-open).
func (s *Server) HookFailedOpen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failedOpen
}

func back(w http.ResponseWriter, r *http.Request, redirect string, params url.Values) {
	u, _ := url.Parse(redirect)
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// hookReply is the answer Okta reads: commands and/or an error object.
type hookReply struct {
	Commands []struct {
		Type  string `json:"type"`
		Value []struct {
			Op    string `json:"op"`
			Path  string `json:"path"`
			Value any    `json:"value"`
		} `json:"value"`
	} `json:"commands"`
	Error *struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"error"`
}

// errHookFailedOpen marks the cases in which Okta issues the token unchanged.
var errHookFailedOpen = errors.New("token hook failed; token issued unchanged")

// callHook sends the request Okta's token inline hook reference documents
// (eventType com.okta.oauth2.tokens.transform; data.context.protocol.request
// with scope, state, redirect_uri, response_mode, response_type, client_id and
// no custom parameter; data.identity and data.access with the minted claims)
// and applies com.okta.access.patch commands to claims. It returns a non-empty
// reason when the answer's error object makes Okta fail the request.
//
// Fail-open, as Okta's createTokenInlineHook reference documents it ("Timeout
// behavior" and "Troubleshoot", okta-management-openapi-spec since 2026.05.1):
// on a timeout, a non-200 or an answer it cannot apply, the token is issued
// unchanged and err says why. "The token inline hook isn't retried" (same
// reference, and the inline hooks concept page's note): one attempt only,
// although okta-smart.md and Okta's general inline-hook pages describe one
// retry for other hook types.
func (s *Server) callHook(ctx context.Context, h *TokenHook, q url.Values, claims jwt.MapClaims) (string, error) {
	timeout := h.Timeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	payload, err := json.Marshal(map[string]any{
		"source":           s.opts.Issuer + "/v1/authorize",
		"eventId":          randhex.String(11),
		"eventTime":        s.opts.Now().UTC().Format(time.RFC3339),
		"eventTypeVersion": "1.0", "cloudEventVersion": "0.1", "contentType": "application/json",
		"eventType": "com.okta.oauth2.tokens.transform",
		"data": map[string]any{
			"context": map[string]any{
				"protocol": map[string]any{
					"type": "OAUTH2.0",
					"request": map[string]any{
						"scope": q.Get("scope"), "state": q.Get("state"), "redirect_uri": q.Get("redirect_uri"),
						"response_mode": "query", "response_type": q.Get("response_type"), "client_id": q.Get("client_id"),
					},
					"issuer": map[string]any{"uri": s.opts.Issuer},
					"client": map[string]any{"id": q.Get("client_id"), "type": "PUBLIC"},
				},
			},
			"identity": map[string]any{"claims": map[string]any{"sub": claims["uid"]}},
			"access":   map[string]any{"claims": claims, "token": map[string]any{"lifetime": map[string]any{"expiration": int(s.opts.TokenLifetime.Seconds())}}},
		},
	})
	if err != nil {
		return "", fmt.Errorf("%w: encoding the payload: %v", errHookFailedOpen, err)
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(actx, http.MethodPost, h.URL, bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", h.Authorization)
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", errHookFailedOpen, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil { // the body timed out: Okta counts it as a timeout
		return "", fmt.Errorf("%w: %v", errHookFailedOpen, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: status %d", errHookFailedOpen, resp.StatusCode)
	}
	return applyHook(body, claims)
}

// reservedAccessClaims may not be changed by a hook (Okta's list of reserved
// claims; a patch touching one is refused and the token issued unchanged).
var reservedAccessClaims = []string{"iss", "aud", "sub", "exp", "iat", "jti", "ver", "cid", "uid", "scp", "auth_time"}

func applyHook(body []byte, claims jwt.MapClaims) (string, error) {
	var reply hookReply
	if err := json.Unmarshal(body, &reply); err != nil {
		return "", fmt.Errorf("%w: unreadable answer", errHookFailedOpen)
	}
	if reply.Error != nil {
		return reply.Error.ErrorSummary, nil
	}
	patched := jwt.MapClaims{}
	for k, v := range claims {
		patched[k] = v
	}
	for _, c := range reply.Commands {
		if c.Type != "com.okta.access.patch" {
			continue // identity token patches and lifetimes are not modelled
		}
		for _, op := range c.Value {
			name, ok := strings.CutPrefix(op.Path, "/claims/")
			if !ok || name == "" || strings.Contains(name, "/") || slices.Contains(reservedAccessClaims, name) {
				return "", fmt.Errorf("%w: patch path %q", errHookFailedOpen, op.Path)
			}
			switch op.Op {
			case "add", "replace":
				patched[name] = op.Value
			case "remove":
				delete(patched, name)
			default:
				return "", fmt.Errorf("%w: patch op %q", errHookFailedOpen, op.Op)
			}
		}
	}
	for k := range claims {
		delete(claims, k)
	}
	for k, v := range patched {
		claims[k] = v
	}
	return "", nil
}

// codeGrant redeems an authorization code (RFC 6749 section 4.1.3 with RFC
// 7636 PKCE): the code once, before it expires, by the client it was issued
// to (authenticated by codeClient), with the same redirect_uri and a
// code_verifier whose S256 is the challenge.
func (s *Server) codeGrant(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	clientID, err := s.codeClient(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	s.mu.Lock()
	c, ok := s.codes[f.Get("code")]
	delete(s.codes, f.Get("code"))
	s.mu.Unlock()
	now := s.opts.Now()
	switch {
	case !ok || now.After(c.expires):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The authorization code is invalid or has expired.")
		return
	case clientID != c.client:
		oauthError(w, http.StatusUnauthorized, "invalid_client", "The client is not the one the code was issued to.")
		return
	case f.Get("redirect_uri") != c.redirectURI:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The 'redirect_uri' does not match the redirection URI used in the authorization request.")
		return
	}
	v := f.Get("code_verifier")
	sum := sha256.Sum256([]byte(v))
	if len(v) < 43 || len(v) > 128 || base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "PKCE verification failed.")
		return
	}
	s.issue(w, c.claims, c.scopes)
}

// errClientAuth is Okta's invalid_client description.
var errClientAuth = errors.New("Client authentication failed. Either the client or the client credentials are invalid.")

// codeClient authenticates the client of a code redemption as Okta does for
// the two methods the sandbox's apps use (RFC 6749 section 2.3.1): a client
// with a secret (confidential, client_secret_basic) must send it in HTTP
// Basic, its id and secret form-encoded; a public client (no secret) names
// itself with client_id in the form. A form client_id that differs from the
// Basic one is refused.
func (s *Server) codeClient(r *http.Request) (string, error) {
	if id, secret, ok := r.BasicAuth(); ok {
		id, err1 := url.QueryUnescape(id)
		secret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", errClientAuth
		}
		for _, c := range s.opts.Clients {
			if c.ID == id && c.Secret != "" && len(c.RedirectURIs) > 0 && subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) == 1 {
				if form := r.PostForm.Get("client_id"); form != "" && form != id {
					return "", errClientAuth
				}
				return id, nil
			}
		}
		return "", errClientAuth
	}
	id := r.PostForm.Get("client_id")
	for _, c := range s.opts.Clients {
		if c.ID == id && c.Secret != "" {
			return "", errClientAuth // a confidential client must authenticate
		}
	}
	return id, nil
}
