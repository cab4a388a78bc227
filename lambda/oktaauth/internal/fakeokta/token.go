package fakeokta

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// ServiceApp is an OAuth 2.0 service app ("API Services" app) that calls the
// management API with client_credentials and a private_key_jwt assertion
// (Okta developer docs, "Implement OAuth for Okta with a service app").
type ServiceApp struct {
	ClientID string
	// Key is the public key registered for the app's client assertions.
	Key *rsa.PublicKey
	// Scopes are the Okta API scopes granted to the app.
	Scopes []string
	// DPoPNotRequired turns off "Require Demonstrating Proof of Possession
	// (DPoP) header in token requests" (settings.oauthClient.
	// dpop_bound_access_tokens in the management API spec,
	// OpenIdConnectApplicationSettingsClient). Okta turns it on by default for
	// API service apps created since 2024, so the fake does too.
	DPoPNotRequired bool
	// NoAdminRole models an app with no admin role assigned: Okta issues its
	// tokens, but every management call is 403 E0000006 (Okta support,
	// "Receiving Error Code E0000006 When Calling Okta Management API Despite
	// Having Correct Scopes": a service app needs an admin role as well as its
	// scopes).
	NoAdminRole bool
}

type serviceApp = ServiceApp

// accessToken is a management API access token the fake issued.
type accessToken struct {
	client string
	scopes []string
	// jkt is the JWK SHA-256 thumbprint of the DPoP key the token is bound to
	// (RFC 9449 §6.1, cnf.jkt); empty for a Bearer token.
	jkt     string
	expires time.Time
}

// AddServiceApp registers (or replaces) a service app.
func (s *Server) AddServiceApp(app ServiceApp) {
	if app.Key == nil {
		panic("fakeokta: ServiceApp.Key is required (Okta needs the public key to verify the assertions)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serviceApps[app.ClientID] = app
}

// RegisterServiceApp registers a service app that requires DPoP, Okta's
// default for new API service apps (see ServiceApp.DPoPNotRequired).
func (s *Server) RegisterServiceApp(clientID string, key *rsa.PublicKey, scopes ...string) {
	s.AddServiceApp(ServiceApp{ClientID: clientID, Key: key, Scopes: scopes})
}

// IssuedAccessTokens returns every access token the fake has issued, for tests
// that check no token leaks anywhere.
func (s *Server) IssuedAccessTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.accessTokens))
	for t := range s.accessTokens {
		out = append(out, t)
	}
	return out
}

// RequireResourceNonce makes the management API demand this DPoP nonce in the
// proofs of DPoP-bound requests, as a resource server may (RFC 9449 §9): a
// proof without it is answered 401 with WWW-Authenticate: DPoP
// error="use_dpop_nonce" and a DPoP-Nonce header. Okta's DPoP guide says its
// resources do not currently require a nonce, so this is off by default.
func (s *Server) RequireResourceNonce(nonce string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rsNonce = nonce
}

// tokenLifetime is Okta's for management API access tokens (the token
// response's expires_in, 3600, in Okta's service-app guide).
const tokenLifetime = time.Hour

// dpopProofWindow is how far a proof's iat may be from now: RFC 9449 §11.1
// leaves it to the server ("a few seconds or minutes").
const dpopProofWindow = 5 * time.Minute

func oauthError(status int, code, desc string) *apiError {
	// RFC 6749 §5.2: {"error", "error_description"}, not Okta's management
	// error shape.
	return &apiError{status: status, code: code, summary: desc, oauth: true}
}

// token is the org authorization server's token endpoint (POST
// /oauth2/v1/token, the OAuth spec's "token" operation in oauth-minimal.yaml)
// for service apps calling the management API. injected tells that the
// answer is an injected fault's.
//
// A fault fires after the client assertion and the DPoP proof (when the
// request has one) have been verified and their jtis recorded: a request that
// fails on the server side, or whose answer is lost, may have been seen by
// Okta, and Okta does not document that a 5xx gives a jti back, so the fake
// takes the strict side. A client that repeats the same assertion or proof is
// then refused ("The client_assertion token has already been used"; RFC 9449
// §11.1 for proofs), as it could be by Okta.
func (s *Server) token(r *http.Request, raw []byte) (status int, out any, aerr *apiError, injected bool) {
	status, out, aerr = s.issueToken(r, raw, func() *apiError {
		if f, ok := s.matchFault(r); ok {
			injected = true
			return s.faultError(f)
		}
		return nil
	})
	return status, out, aerr, injected
}

// issueToken runs the token request; fault is asked once the credentials
// have been verified.
func (s *Server) issueToken(r *http.Request, raw []byte, fault func() *apiError) (int, any, *apiError) {
	if r.Method != http.MethodPost {
		return 0, nil, methodNotAllowed()
	}
	// Parameters in the form body (RFC 6749 §4.4.2) or, as okta-sdk-golang v2
	// sends them, in the query string; Okta takes both.
	q := r.URL.Query()
	if form, err := url.ParseQuery(string(raw)); err == nil {
		for k, v := range form {
			q[k] = v
		}
	}
	if q.Get("grant_type") != "client_credentials" {
		return 0, nil, oauthError(http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
	}
	app, err := s.clientAssertion(q)
	if err != nil {
		return 0, nil, err
	}
	var (
		p    *proof
		perr error
	)
	proofs := r.Header.Values("DPoP")
	if len(proofs) > 0 {
		p, perr = s.verifyProof(r, proofs)
	}
	if perr == nil {
		if err := fault(); err != nil {
			return 0, nil, err
		}
	}
	scopes := strings.Fields(q.Get("scope"))
	for _, sc := range scopes {
		if !slices.Contains(app.Scopes, sc) {
			return 0, nil, oauthError(http.StatusBadRequest, "invalid_scope", "The following scopes are not allowed: "+sc)
		}
	}

	// DPoP (RFC 9449 §5 and Okta's "Configure OAuth 2.0 Demonstrating
	// Proof-of-Possession" guide).
	jkt := ""
	if len(proofs) > 0 || !app.DPoPNotRequired {
		if len(proofs) == 0 {
			// Okta support, "The DPoP Proof JWT Header Is Missing".
			return 0, nil, oauthError(http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
		}
		if perr != nil {
			return 0, nil, oauthError(http.StatusBadRequest, "invalid_dpop_proof", perr.Error())
		}
		if p.Nonce != s.asNonce {
			// Okta's DPoP guide: the first proof is answered 400 use_dpop_nonce
			// with a dpop-nonce header; RFC 9449 §8.
			e := oauthError(http.StatusBadRequest, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
			e.headers = map[string]string{"DPoP-Nonce": s.asNonce}
			return 0, nil, e
		}
		jkt = p.jkt
		// An app that does not require DPoP but sends a proof still gets a
		// bound token: RFC 9449 §5 ("the authorization server binds the
		// token"); Okta's docs say nothing else.
	}

	token := "eyJfake." + s.newSecret()
	s.accessTokens[token] = accessToken{client: app.ClientID, scopes: scopes, jkt: jkt, expires: s.now().Add(tokenLifetime)}
	tokenType := "Bearer"
	if jkt != "" {
		tokenType = "DPoP" // Okta's DPoP guide: token_type "DPoP"
	}
	return 200, map[string]any{
		"token_type": tokenType, "expires_in": int(tokenLifetime / time.Second),
		"access_token": token, "scope": strings.Join(scopes, " "),
	}, nil
}

// clientAssertion authenticates the client with its private_key_jwt assertion
// (RFC 7523 §3; Okta developer docs, "Build a JWT for client authentication":
// iss and sub the client id, aud the token endpoint URL, exp at most an hour
// ahead, a jti that can be used only once), verified with go-jose against the
// registered key.
func (s *Server) clientAssertion(q url.Values) (ServiceApp, *apiError) {
	// The error_descriptions ending in a full stop are Okta's own, 401
	// invalid_client each (okta/okta-developer-docs data/oauth2-error-codes.json:
	// client_assertion_invalid_signature_algorithm, _expiration_required,
	// _expires_too_far_in_future, _already_used); the others are the fake's.
	invalidClient := func(desc string) (ServiceApp, *apiError) {
		return ServiceApp{}, oauthError(http.StatusUnauthorized, "invalid_client", desc)
	}
	if q.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return invalidClient("client_assertion_type is missing or invalid")
	}
	tok, err := jwt.ParseSigned(q.Get("client_assertion"))
	if err != nil || len(tok.Headers) != 1 {
		return invalidClient("The client_assertion is not a JWT")
	}
	if alg := tok.Headers[0].Algorithm; alg != string(jose.RS256) && alg != string(jose.RS384) && alg != string(jose.RS512) {
		return invalidClient("The client_assertion JWT signature algorithm is invalid.")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return invalidClient("The client_assertion is malformed")
	}
	app, ok := s.serviceApps[unverified.Subject]
	if !ok {
		return invalidClient("The client is not registered")
	}
	var claims jwt.Claims
	if err := tok.Claims(app.Key, &claims); err != nil {
		return invalidClient("The client_assertion signature is invalid")
	}
	now := s.now()
	if claims.Expiry == nil {
		return invalidClient("The client_assertion must contain the 'exp' claim as seconds since epoch.")
	}
	if claims.Expiry.Time().After(now.Add(time.Hour + time.Minute)) {
		return invalidClient("The client_assertion token has an expiration too far into the future.")
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: app.ClientID, Subject: app.ClientID,
		Audience: jwt.Audience{s.URL + "/oauth2/v1/token"}, Time: now}, 0); err != nil {
		return invalidClient("The client_assertion is not valid: " + err.Error())
	}
	if claims.ID != "" {
		if s.usedJTIs["assertion:"+claims.ID] {
			return invalidClient("The client_assertion token has already been used.")
		}
		s.usedJTIs["assertion:"+claims.ID] = true
	}
	return app, nil
}

// dpopAlgs are the proof algorithms Okta accepts: its authorization server
// metadata's dpop_signing_alg_values_supported (management API spec,
// OAuthMetadata: ES256 ES384 ES512 RS256 RS384 RS512; RFC 9449 §5.1 defines
// the field). RFC 9449 §4.3 step 5 has the server check that alg is one it
// supports, not merely asymmetric, so PS256 or EdDSA is refused. The
// WWW-Authenticate challenges list the same algs (RFC 9449 §7.1).
var dpopAlgs = []string{"ES256", "ES384", "ES512", "RS256", "RS384", "RS512"}

// proof is a verified DPoP proof.
type proof struct {
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	JTI   string           `json:"jti"`
	ATH   string           `json:"ath"`
	Nonce string           `json:"nonce"`
	jkt   string
}

// verifyProof checks a DPoP proof as RFC 9449 §4.3 lists: one DPoP header, a
// JWS with typ dpop+jwt and an alg Okta supports (dpopAlgs), signed by the
// public jwk in its header, htm and htu matching the request, iat recent, jti
// not seen before.
func (s *Server) verifyProof(r *http.Request, values []string) (*proof, error) {
	if len(values) != 1 {
		return nil, errorString("more than one DPoP header")
	}
	tok, err := jwt.ParseSigned(values[0])
	if err != nil || len(tok.Headers) != 1 {
		return nil, errorString("The DPoP proof JWT is malformed.")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return nil, errorString("The DPoP proof JWT typ header is not dpop+jwt.")
	}
	if !slices.Contains(dpopAlgs, h.Algorithm) {
		return nil, errorString("The DPoP proof JWT alg is not supported.")
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || !h.JSONWebKey.Valid() {
		return nil, errorString("The DPoP proof JWT jwk header must be a public key.")
	}
	var p proof
	if err := tok.Claims(h.JSONWebKey.Key, &p); err != nil {
		return nil, errorString("The DPoP proof JWT signature is invalid.")
	}
	if p.HTM != r.Method {
		return nil, errorString("'htm' claim in the DPoP proof JWT is invalid.")
	}
	// The fake serves plain HTTP; its own URL is what a client targets.
	want := s.URL + r.URL.Path
	if p.HTU != want {
		// okta/okta-sdk-python#541 shows Okta's message and that Okta compares
		// htu with the request URI.
		return nil, errorString("'htu' claim in the DPoP proof JWT is invalid.")
	}
	if p.IAT == nil || absDuration(s.now().Sub(p.IAT.Time())) > dpopProofWindow {
		return nil, errorString("'iat' claim in the DPoP proof JWT is invalid.")
	}
	if p.JTI == "" || s.usedJTIs["dpop:"+p.JTI] {
		// RFC 9449 §11.1; Okta's guide: a jti is not accepted more than once.
		return nil, errorString("'jti' claim in the DPoP proof JWT is missing or was used before.")
	}
	s.usedJTIs["dpop:"+p.JTI] = true
	thumb, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, errorString("The DPoP proof JWT jwk header is invalid.")
	}
	p.jkt = base64.RawURLEncoding.EncodeToString(thumb)
	return &p, nil
}

// authenticateDPoP checks a DPoP-bound token and its proof on a management API
// request (RFC 9449 §7.1 and §4.3 steps 11-12: ath is the token's hash, the
// proof's key is the token's). Okta answers a bad proof at its API with 400
// and WWW-Authenticate: DPoP error="invalid_dpop_proof"
// (okta/okta-sdk-python#541).
func (s *Server) authenticateDPoP(r *http.Request, token string) (accessToken, *apiError) {
	challenge := func(status int, code, desc string) *apiError {
		e := oauthError(status, code, desc)
		e.headers = map[string]string{"WWW-Authenticate": `DPoP algs="` + strings.Join(dpopAlgs, " ") + `", error="` +
			code + `", error_description="` + desc + `"`}
		return e
	}
	at, ok := s.accessTokens[token]
	if !ok || at.jkt == "" || !s.now().Before(at.expires) {
		return accessToken{}, challenge(http.StatusUnauthorized, "invalid_token", "The access token is invalid.")
	}
	if len(r.Header.Values("DPoP")) == 0 {
		return accessToken{}, challenge(http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
	}
	p, err := s.verifyProof(r, r.Header.Values("DPoP"))
	if err != nil {
		return accessToken{}, challenge(http.StatusBadRequest, "invalid_dpop_proof", err.Error())
	}
	sum := sha256.Sum256([]byte(token))
	if p.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) {
		return accessToken{}, challenge(http.StatusBadRequest, "invalid_dpop_proof", "'ath' claim in the DPoP proof JWT is invalid.")
	}
	if p.jkt != at.jkt {
		return accessToken{}, challenge(http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof key does not match the access token's binding.")
	}
	if s.rsNonce != "" && p.Nonce != s.rsNonce {
		e := challenge(http.StatusUnauthorized, "use_dpop_nonce", "Resource server requires nonce in DPoP proof")
		e.headers["DPoP-Nonce"] = s.rsNonce
		return accessToken{}, e
	}
	return at, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
