// Package authserver is the sandbox's stand-in for an Okta custom
// authorization server: discovery, JWK Set, a token endpoint for SMART Backend
// Services (client_credentials with a private_key_jwt client assertion) and RFC
// 7662 introspection, with a signing key generated at start.
//
// It follows the Okta behaviours the project relies on (okta-smart.md and
// Okta's "Implement OAuth for Okta with a service app" and /introspect
// reference): endpoints under <issuer>/v1/, access tokens signed RS256 with a
// kid, scopes in an "scp" array, "cid" and "sub" set to the client id,
// audience set by the authorization server (not the client). It is no more
// forgiving than Okta on what the check depends on: an assertion's signature,
// iss, sub, aud, exp and jti are verified, the key is chosen by the
// assertion's kid (an unknown kid, or none when the client has two keys, is
// refused), a reused jti is refused, and so is a scope the server does not
// define (invalid_scope) or the client was not granted (access_denied).
package authserver

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/internal/randhex"
)

// Client is a registered OAuth client.
type Client struct {
	// ID is the client_id.
	ID string
	// PublicKey verifies the client's private_key_jwt assertions (backend
	// services). Nil for a client that authenticates with a secret.
	PublicKey crypto.PublicKey
	// KeyID is the kid PublicKey is registered under (a JWK's kid in the
	// client's JWKS). Empty: registered without kid.
	KeyID string
	// MoreKeys are further registered public keys by kid, as a client has
	// during a key rotation.
	MoreKeys map[string]crypto.PublicKey
	// Secret authenticates an introspection client, or a confidential app
	// with RedirectURIs at the token endpoint (client_secret_basic: HTTP
	// Basic). Empty: a public client.
	Secret string
	// Scopes are the scopes the authorization server's policy grants the client.
	Scopes []string
	// Claims are added to the client's access tokens (fhirUser, patient), the
	// way an Okta claim expression adds profile values.
	Claims map[string]any
	// RedirectURIs make the client a public browser app that may use the
	// authorization_code grant with PKCE (authcode.go). Empty: no such grant.
	RedirectURIs []string
	// User is the login of the user the sandbox signs in for the client's
	// authorization requests (the access token's sub).
	User string
}

// Options configure a Server.
type Options struct {
	// Issuer is the issuer URL: the server's base URL plus a path such as
	// /oauth2/default. The handler serves paths below it.
	Issuer string
	// Audience is the aud of every access token (the data store endpoint once
	// the project's audience binding ran).
	Audience string
	// Clients are the registered clients.
	Clients []Client
	// TokenLifetime is the access tokens' lifetime. Default: one hour (Okta's default).
	TokenLifetime time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// TokenHook, if set, is called at authorization-code issuance the way
	// Okta calls a token inline hook (authcode.go).
	TokenHook *TokenHook
}

// Server is the authorization server. It is an http.Handler.
type Server struct {
	opts  Options
	key   *rsa.PrivateKey
	kid   string
	mux   *http.ServeMux
	mu    sync.Mutex
	jtis  map[string]time.Time // assertion jti -> expiry, refused when seen again
	codes map[string]*issuedCode
	// failedOpen counts codes issued after a failed hook call.
	failedOpen int
	local      *jwt.Parser
}

// New generates the signing key and builds the server.
func New(opts Options) (*Server, error) {
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Issuer = strings.TrimSuffix(opts.Issuer, "/")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating the signing key: %w", err)
	}
	s := &Server{opts: opts, key: key, kid: randhex.String(8), jtis: map[string]time.Time{}, codes: map[string]*issuedCode{}}
	s.local = jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(opts.Issuer),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(opts.Now))
	issuer, err := url.Parse(opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer %q is not a URL: %w", opts.Issuer, err)
	}
	path := issuer.Path
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET "+path+"/.well-known/oauth-authorization-server", s.discovery)
	s.mux.HandleFunc("GET "+path+"/.well-known/openid-configuration", s.discovery)
	s.mux.HandleFunc("GET "+path+"/v1/keys", s.keys)
	s.mux.HandleFunc("POST "+path+"/v1/token", s.token)
	s.mux.HandleFunc("POST "+path+"/v1/introspect", s.introspect)
	s.mux.HandleFunc("GET "+path+"/v1/authorize", s.authorize)
	return s, nil
}

// ServeHTTP serves the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Issuer is the iss of the server's tokens.
func (s *Server) Issuer() string { return s.opts.Issuer }

// TokenEndpoint is Okta's <issuer>/v1/token.
func (s *Server) TokenEndpoint() string { return s.opts.Issuer + "/v1/token" }

// AuthorizationEndpoint serves the authorization_code grant for clients with
// redirect URIs, signing in the client's configured user without a login page.
func (s *Server) AuthorizationEndpoint() string { return s.opts.Issuer + "/v1/authorize" }

// JWKSURI is the JWK Set of the signing key.
func (s *Server) JWKSURI() string { return s.opts.Issuer + "/v1/keys" }

// IntrospectionEndpoint is the RFC 7662 endpoint.
func (s *Server) IntrospectionEndpoint() string { return s.opts.Issuer + "/v1/introspect" }

// RevocationEndpoint is advertised only (not served).
func (s *Server) RevocationEndpoint() string { return s.opts.Issuer + "/v1/revoke" }

// discovery serves RFC 8414 metadata; Okta serves the same document at both
// well-known paths of a custom authorization server.
func (s *Server) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                           s.opts.Issuer,
		"authorization_endpoint":                           s.AuthorizationEndpoint(),
		"token_endpoint":                                   s.TokenEndpoint(),
		"jwks_uri":                                         s.JWKSURI(),
		"introspection_endpoint":                           s.IntrospectionEndpoint(),
		"revocation_endpoint":                              s.RevocationEndpoint(),
		"response_types_supported":                         []string{"code"},
		"grant_types_supported":                            []string{"authorization_code", "client_credentials"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"},
	})
}

func (s *Server) keys(w http.ResponseWriter, _ *http.Request) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &s.key.PublicKey, KeyID: s.kid, Algorithm: "RS256", Use: "sig"}}}
	writeJSON(w, http.StatusOK, set)
}

// oauthError writes an RFC 6749 section 5.2 error.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionAlgs are the algorithms Okta accepts for private_key_jwt.
var assertionAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	if r.PostForm.Get("grant_type") == "authorization_code" {
		s.codeGrant(w, r)
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant type %q is not supported by the sandbox", g))
		return
	}
	if r.PostForm.Get("client_assertion_type") != assertionType {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client_assertion_type must be "+assertionType)
		return
	}
	client, err := s.verifyAssertion(r.PostForm.Get("client_assertion"))
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", err.Error())
		return
	}
	requested := strings.Fields(r.PostForm.Get("scope"))
	if len(requested) == 0 {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "a scope is required for client_credentials")
		return
	}
	// Okta tells a scope the authorization server does not define
	// (invalid_scope) from one its policy rules do not grant the client
	// (access_denied, "Policy evaluation failed for this request, please
	// check the policy configurations."); every scope some client is granted
	// counts as defined here.
	for _, sc := range requested {
		if !s.defined(sc) {
			oauthError(w, http.StatusBadRequest, "invalid_scope", "One or more scopes are not configured for the authorization server resource.")
			return
		}
	}
	for _, sc := range requested {
		if !slices.Contains(client.Scopes, sc) {
			oauthError(w, http.StatusBadRequest, "access_denied", "Policy evaluation failed for this request, please check the policy configurations.")
			return
		}
	}
	now := s.opts.Now()
	claims := jwt.MapClaims{
		"ver": 1,
		"jti": "AT." + randhex.String(16),
		"iss": s.opts.Issuer,
		"aud": s.opts.Audience,
		"iat": now.Unix(),
		"exp": now.Add(s.opts.TokenLifetime).Unix(),
		"cid": client.ID,
		"sub": client.ID,
		"scp": requested,
	}
	for k, v := range client.Claims {
		claims[k] = v
	}
	s.issue(w, claims, requested)
}

// issue signs an access token with claims and answers the token request
// with it (RFC 6749 section 5.1: no-store, as Okta sends it).
func (s *Server) issue(w http.ResponseWriter, claims jwt.MapClaims, scopes []string) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = s.kid
	signed, err := tok.SignedString(s.key)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "signing the token")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":   "Bearer",
		"expires_in":   int(s.opts.TokenLifetime.Seconds()),
		"access_token": signed,
		"scope":        strings.Join(scopes, " "),
	})
}

// defined reports whether the authorization server has scope sc.
func (s *Server) defined(sc string) bool {
	for _, c := range s.opts.Clients {
		if slices.Contains(c.Scopes, sc) {
			return true
		}
	}
	return false
}

// clientKey picks the key that verifies an assertion by its kid, as Okta
// does: a kid naming no registered key is refused ("The client_assertion JWT
// kid is invalid."), and so is a missing kid when the client has more than
// one key (SMART's asymmetric client authentication makes kid required).
func clientKey(c Client, kid string) (crypto.PublicKey, error) {
	keys := map[string]crypto.PublicKey{c.KeyID: c.PublicKey}
	for k, v := range c.MoreKeys {
		keys[k] = v
	}
	if kid == "" {
		if len(keys) > 1 {
			return nil, errors.New("The client_assertion JWT kid is invalid: the client has several keys and the assertion names none")
		}
		return c.PublicKey, nil
	}
	key, ok := keys[kid]
	if !ok {
		return nil, fmt.Errorf("The client_assertion JWT kid is invalid: no key %q is registered for client %s", kid, c.ID)
	}
	return key, nil
}

// verifyAssertion checks a private_key_jwt client assertion (RFC 7523 section 3,
// as Okta applies it: iss = sub = client_id, aud = the token endpoint, exp at
// most an hour ahead, jti used once).
func (s *Server) verifyAssertion(raw string) (Client, error) {
	if raw == "" {
		return Client{}, errors.New("client_assertion is required")
	}
	var claims jwt.RegisteredClaims
	parser := jwt.NewParser(jwt.WithValidMethods(assertionAlgs), jwt.WithExpirationRequired(),
		jwt.WithAudience(s.TokenEndpoint()), jwt.WithTimeFunc(s.opts.Now))
	var client Client
	_, err := parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		c := t.Claims.(*jwt.RegisteredClaims)
		for _, cl := range s.opts.Clients {
			if cl.ID == c.Issuer && cl.PublicKey != nil {
				client = cl
				kid, _ := t.Header["kid"].(string)
				return clientKey(cl, kid)
			}
		}
		return nil, fmt.Errorf("no client %q with a registered public key", c.Issuer)
	})
	if err != nil {
		return Client{}, fmt.Errorf("the client assertion is invalid: %w", err)
	}
	switch {
	case claims.Subject != claims.Issuer:
		return Client{}, errors.New("the client assertion's sub must equal its iss (the client id)")
	case claims.ID == "":
		return Client{}, errors.New("the client assertion has no jti")
	case claims.ExpiresAt.After(s.opts.Now().Add(time.Hour)):
		return Client{}, errors.New("the client assertion's exp is more than an hour ahead")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	for j, exp := range s.jtis {
		if exp.Before(now) {
			delete(s.jtis, j)
		}
	}
	if _, seen := s.jtis[claims.ID]; seen {
		return Client{}, errors.New("the client assertion's jti was already used")
	}
	s.jtis[claims.ID] = claims.ExpiresAt.Time
	return client, nil
}

// introspect answers RFC 7662 requests from a client authenticated with HTTP
// Basic (client_secret_basic), as the project's validator sends them.
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	authenticated := false
	for _, c := range s.opts.Clients {
		if ok && c.Secret != "" && c.ID == id && c.Secret == secret {
			authenticated = true
		}
	}
	if !authenticated {
		w.Header().Set("WWW-Authenticate", `Basic realm="introspect"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body is not a form")
		return
	}
	claims := jwt.MapClaims{}
	_, err := s.local.ParseWithClaims(r.PostForm.Get("token"), claims, func(*jwt.Token) (any, error) {
		return &s.key.PublicKey, nil
	})
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	out := map[string]any{"active": true, "token_type": "Bearer"}
	for k, v := range claims {
		switch k {
		case "scp":
			var scopes []string
			if list, ok := v.([]any); ok {
				for _, e := range list {
					if s, ok := e.(string); ok {
						scopes = append(scopes, s)
					}
				}
			}
			out["scope"] = strings.Join(scopes, " ")
		case "cid":
			out["client_id"] = v
		default:
			out[k] = v
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
