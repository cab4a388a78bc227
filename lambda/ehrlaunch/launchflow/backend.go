package launchflow

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

// SMART backend services through the token proxy.
//
// A backend service (client_credentials with a private_key_jwt client
// assertion, SMART Backend Services) signs its assertion for the
// token_endpoint the SMART configuration advertises: this proxy's. Okta
// refuses an assertion whose aud is not its own token URL. So, for the
// clients of ehrlaunchenv Config.BackendClients, the proxy verifies the
// service's assertion itself, against the public keys registered for the
// service, as Okta would (alg, kid, iss = sub = client id, aud, exp, single
// use jti), and sends Okta an assertion of its own for the same client,
// signed by the KMS assertion key whose public half the Okta custom resource
// registers in every private_key_jwt client's JWKS. The service's assertion
// never reaches Okta, and Okta's answer comes back unchanged.

// AssertionSigner signs the client assertions the proxy sends Okta on a
// backend service's behalf (assertionkey.Key: KMS, RS256, kid the key's
// thumbprint).
type AssertionSigner interface {
	Sign(ctx context.Context, claims any) (string, error)
}

const (
	// AssertionLeeway is the clock skew allowed on a service's assertion: its
	// exp may be up to this far in the past, and up to this much beyond
	// ehrlaunchenv.MaxAssertionLifetime in the future. Its jti is remembered
	// until exp plus this leeway, as long as the assertion could be accepted.
	AssertionLeeway = 30 * time.Second
	// OktaAssertionLifetime is the lifetime of the assertions the proxy signs
	// for Okta (Okta accepts up to an hour; this one is used at once).
	OktaAssertionLifetime = 60 * time.Second
)

// backendAlgs are the algorithms a service's assertion may be signed with.
// The registered JWKS hold RSA keys only (oktaprops refuses others: the Okta
// SDK cannot register EC keys), so these are the RSA algorithms of RFC 7518
// section 3.1 that Okta accepts for private_key_jwt. "none" and the HMAC
// algorithms are refused before any key is looked at.
var backendAlgs = []string{"RS256", "RS384", "RS512"}

// parseBackendClients decodes each backend service's JWKS once, at start:
// public RSA signing keys only.
func parseBackendClients(clients map[string]json.RawMessage) (map[string][]jose.JSONWebKey, error) {
	out := map[string][]jose.JSONWebKey{}
	for id, raw := range clients {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(raw, &set); err != nil {
			return nil, fmt.Errorf("backend client %q: its JWKS does not parse: %v", id, err)
		}
		for i, k := range set.Keys {
			// Private material is refused whatever the key's use: a JWKS
			// holding it was published by mistake.
			switch {
			case !k.IsPublic():
				return nil, fmt.Errorf("backend client %q: key %d is not a public key", id, i)
			case !k.Valid():
				return nil, fmt.Errorf("backend client %q: key %d is not a valid key", id, i)
			}
			if k.Use != "" && k.Use != "sig" {
				continue // an encryption key authenticates nothing
			}
			if _, ok := k.Key.(*rsa.PublicKey); !ok {
				return nil, fmt.Errorf("backend client %q: key %d is not an RSA key", id, i)
			}
			out[id] = append(out[id], k)
		}
		if len(out[id]) == 0 {
			return nil, fmt.Errorf("backend client %q has no signing key", id)
		}
	}
	return out, nil
}

// backendClient tells whether a token request takes the backend-services path,
// and for which client: a client_credentials grant with a client assertion
// whose sub or iss, or the form's client_id, names a backend client. Read
// without verifying anything: it only picks the path, on which everything is
// verified.
func (s *Server) backendClient(form url.Values) (string, bool) {
	if len(s.backends) == 0 || form.Get("grant_type") != "client_credentials" || form.Get("client_assertion") == "" {
		return "", false
	}
	var c jwt.RegisteredClaims
	_, _, _ = jwt.NewParser().ParseUnverified(form.Get("client_assertion"), &c)
	for _, id := range []string{c.Subject, c.Issuer, form.Get("client_id")} {
		if _, ok := s.backends[id]; ok && id != "" {
			return id, true
		}
	}
	return "", false
}

// backendToken answers a backend service's token request: verify its
// assertion, record its jti, sign the proxy's own for Okta and forward.
func (s *Server) backendToken(w http.ResponseWriter, r *http.Request, form url.Values, clientID string) {
	if why := oneOfEach(r, form); why != "" {
		s.refuse(r, "backend-token", why, "client", clientID)
		jsonError(w, http.StatusBadRequest, "invalid_request", why)
		return
	}
	claims, why := s.verifyBackendAssertion(form, clientID)
	if why != "" {
		s.refuse(r, "backend-token", why, "client", clientID)
		jsonError(w, http.StatusUnauthorized, "invalid_client", why)
		return
	}
	// Remembered for as long as the assertion could be accepted. The store
	// and KMS each get a short budget, so that a slow dependency ends in an
	// OAuth error rather than the function's timeout.
	sctx, cancel := context.WithTimeout(r.Context(), backendCallBudget)
	defer cancel()
	err := s.store.ConsumeAssertion(sctx, clientID, claims.ID, claims.ExpiresAt.Add(AssertionLeeway))
	if errors.Is(err, launchstore.ErrAssertionUsed) {
		const why = "the client assertion's jti was already used: sign a new assertion for every token request"
		s.refuse(r, "backend-token", why, "client", clientID)
		jsonError(w, http.StatusUnauthorized, "invalid_client", why)
		return
	}
	if err != nil {
		s.opts.Logger.Error("backend-token", "client", clientID, "error", "recording the assertion's jti failed", "aws_error", awsErrorCode(err))
		jsonError(w, http.StatusInternalServerError, "server_error", "the client assertion could not be recorded")
		return
	}
	kctx, kcancel := context.WithTimeout(r.Context(), backendCallBudget)
	defer kcancel()
	assertion, err := s.oktaAssertion(kctx, clientID)
	if err != nil {
		// Logged by the KMS error code only: the error holds no token, but
		// the code is all an operator needs (DisabledException,
		// AccessDeniedException, ThrottlingException after the SDK's retries).
		s.opts.Logger.Error("backend-token", "client", clientID, "error", "signing Okta's client assertion failed", "kms_error", awsErrorCode(err))
		w.Header().Set("Retry-After", "1")
		jsonError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the proxy could not sign the client assertion for the authorization server; retry with a new assertion")
		return
	}
	// Okta gets only the parameters of a client_credentials request (RFC
	// 6749 section 4.4.2, RFC 7523 section 2.2), with the proxy's assertion
	// and the verified client, as a form the proxy itself labels.
	up := url.Values{"grant_type": {"client_credentials"}, "client_assertion_type": {clientAssertionType},
		"client_assertion": {assertion}, "client_id": {clientID}}
	if sc := form.Get("scope"); sc != "" {
		up.Set("scope", sc)
	}
	fr := r.Clone(r.Context())
	fr.Header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	resp, answer, ok := s.forward(w, fr, "/v1/token", []byte(up.Encode()))
	if !ok {
		return
	}
	if resp.StatusCode != http.StatusOK {
		// Okta refusing the proxy's own assertion (its key not registered
		// for the client, a disabled client) is the operator's to fix: the
		// OAuth error code says which, and holds no token.
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(answer, &e)
		s.opts.Logger.Warn("backend-token", "client", clientID, "okta_status", resp.StatusCode, "okta_error", e.Error)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// backendCallBudget bounds each DynamoDB and KMS call of the backend path
// (with the SDK's retries), well inside the function's timeout.
const backendCallBudget = 3 * time.Second

// oneOfEach refuses what RFC 6749 refuses and a proxy must not pass on: a
// parameter sent twice (section 3.2: "Request and response parameters MUST
// NOT be included more than once") and a second client authentication
// method, an Authorization header beside the assertion (section 2.3: "The
// client MUST NOT use more than one authentication method in each
// request"). A parser difference between the proxy and Okta has nothing to
// work on then.
func oneOfEach(r *http.Request, form url.Values) string {
	if r.Header.Get("Authorization") != "" {
		return "a client assertion and an Authorization header: use one client authentication method"
	}
	for _, name := range slices.Sorted(maps.Keys(form)) {
		if len(form[name]) > 1 {
			return "the parameter " + name + " is sent more than once"
		}
	}
	return ""
}

// awsErrorCode is an AWS error's code, for a log line: the error itself may
// quote the request.
func awsErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "unknown"
}

// verifyBackendAssertion checks a backend service's client assertion as Okta
// checks the ones sent to it (RFC 7523 sections 2.2 and 3, SMART Backend
// Services), but with this proxy's token URL as the audience. It returns the
// verified claims, or why the assertion is refused, in words that never
// quote the assertion.
func (s *Server) verifyBackendAssertion(form url.Values, clientID string) (*jwt.RegisteredClaims, string) {
	if form.Get("client_assertion_type") != clientAssertionType {
		return nil, "client_assertion_type must be " + clientAssertionType
	}
	raw := form.Get("client_assertion")
	var unverified jwt.RegisteredClaims
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &unverified)
	if err != nil {
		return nil, "the client assertion is not a JWT"
	}
	if alg, _ := tok.Header["alg"].(string); !slices.Contains(backendAlgs, alg) {
		return nil, "the client assertion's alg must be one of " + strings.Join(backendAlgs, ", ")
	}
	var claims jwt.RegisteredClaims
	var keyErr error
	_, err = jwt.NewParser(jwt.WithValidMethods(backendAlgs), jwt.WithExpirationRequired(), jwt.WithLeeway(AssertionLeeway),
		jwt.WithTimeFunc(s.opts.Now), jwt.WithAudience(s.tokenURL)).
		ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
			kid, _ := t.Header["kid"].(string)
			key, err := s.backendKey(clientID, kid, t.Method.Alg())
			keyErr = err
			return key, err
		})
	switch {
	case keyErr != nil:
		return nil, keyErr.Error()
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, "the client assertion's signature does not verify with the key registered for client " + clientID
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && unverified.ExpiresAt == nil:
		return nil, "the client assertion has no exp"
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, "the client assertion has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return nil, "the client assertion is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenInvalidAudience) || errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		if slices.Contains(unverified.Audience, s.cfg.OktaIssuer+"/v1/token") {
			return nil, "the client assertion's aud is the authorization server's token URL; sign it for " + s.tokenURL + ", the token_endpoint of the SMART configuration, where it is sent"
		}
		return nil, "the client assertion's aud must be " + s.tokenURL + ", the token endpoint it is sent to"
	case err != nil:
		return nil, "the client assertion is invalid"
	}
	now := s.opts.Now()
	switch {
	case claims.Issuer != clientID || claims.Subject != clientID:
		return nil, "the client assertion's iss and sub must both be the client id"
	case form.Get("client_id") != "" && form.Get("client_id") != clientID:
		return nil, "client_id and the client assertion name different clients"
	case claims.ExpiresAt.After(now.Add(ehrlaunchenv.MaxAssertionLifetime + AssertionLeeway)):
		return nil, fmt.Sprintf("the client assertion's exp is more than %v ahead (SMART Backend Services)", ehrlaunchenv.MaxAssertionLifetime)
	case claims.ID == "":
		return nil, "the client assertion has no jti"
	case len(claims.Audience) != 1:
		// One audience only: an assertion also good at another token
		// endpoint (Okta's) would buy a second token there (audience
		// injection; draft-ietf-oauth-rfc7523bis makes aud single-valued).
		return nil, "the client assertion's aud must be " + s.tokenURL + " alone"
	}
	return &claims, ""
}

// backendKey picks the key that verifies a service's assertion by its kid, as
// Okta does (and internal/sandbox/authserver's clientKey with the same words):
// a kid naming no registered key is refused, and so is a missing kid when the
// client has more than one key. A key whose JWK names an alg verifies only
// that alg (RFC 7517 section 4.4).
func (s *Server) backendKey(clientID, kid, alg string) (any, error) {
	var keys []jose.JSONWebKey
	for _, k := range s.backends[clientID] {
		if k.Algorithm == "" || k.Algorithm == alg {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("The client_assertion JWT signature algorithm is invalid: no key registered for client %s is for %s", clientID, alg)
	}
	if kid == "" {
		if len(keys) > 1 {
			return nil, errors.New("The client_assertion JWT kid is invalid: the client has several keys and the assertion names none")
		}
		return keys[0].Key, nil
	}
	var found jwt.VerificationKeySet
	for _, k := range keys {
		if k.KeyID == kid {
			found.Keys = append(found.Keys, k.Key)
		}
	}
	switch len(found.Keys) {
	case 0:
		return nil, fmt.Errorf("The client_assertion JWT kid is invalid: no key with that kid is registered for client %s", clientID)
	case 1:
		return found.Keys[0], nil
	}
	return found, nil // a rotation may reuse a kid: any of its keys verifies
}

// oktaAssertion is the proxy's assertion for Okta on a client's behalf:
// RFC 7523 section 3's claims with Okta's token URL as aud and a fresh jti.
func (s *Server) oktaAssertion(ctx context.Context, clientID string) (string, error) {
	jti, err := s.newID()
	if err != nil {
		return "", err
	}
	now := s.opts.Now()
	// aud is a single string, the form Okta's own examples use (RFC 7519
	// section 4.1.3 allows either).
	return s.opts.AssertionSigner.Sign(ctx, map[string]any{
		"iss": clientID, "sub": clientID, "aud": s.cfg.OktaIssuer + "/v1/token",
		"iat": now.Unix(), "exp": now.Add(OktaAssertionLifetime).Unix(), "jti": jti,
	})
}
