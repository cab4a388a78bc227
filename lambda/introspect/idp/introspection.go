package idp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
)

// introspector validates tokens with an RFC 7662 call to the authorization
// server, authenticated with client credentials read from Secrets Manager: once
// per container, and again when the endpoint rejects them (see retryRejected).
type introspector struct {
	client    *http.Client
	url       *setup[string] // the endpoint, configured or discovered
	creds     *setup[string] // the precomputed HTTP Basic header value
	secretARN string
	log       *slog.Logger
	validator *jwt.Validator
	issuer    string
	// calls bounds the introspection calls of this container, so a flood of
	// new tokens (garbage included) cannot spend the org's rate limit, after
	// which Okta would refuse valid new tokens too.
	calls *rate.Limiter
	// now is the handler's clock (Options.Now), which the limiter's bucket
	// refills by: rate.Limiter.Allow would read the wall clock instead.
	now func() time.Time
}

type introspectorOptions struct {
	cfg        Config
	client     *http.Client
	secrets    SecretsClient
	retryEvery time.Duration
	now        func() time.Time
	log        *slog.Logger
}

func newIntrospector(o introspectorOptions) *introspector {
	findURL := func(ctx context.Context) (*string, error) {
		u := o.cfg.IntrospectionURL
		if u == "" {
			var err error
			if u, err = discover(ctx, o.client, o.cfg.Issuer, "introspection_endpoint", func(m metadata) string { return m.IntrospectionEndpoint }); err != nil {
				return nil, err
			}
		}
		return &u, nil
	}
	readAuthorization := func(ctx context.Context) (*string, error) {
		creds, err := readCredentials(ctx, o.secrets, o.cfg.IntrospectionSecretARN)
		if err != nil {
			return nil, err
		}
		// RFC 6749 section 2.3.1: both parts are form-encoded before Basic encoding.
		basic := url.QueryEscape(creds.ID) + ":" + url.QueryEscape(creds.Secret)
		h := "Basic " + base64.StdEncoding.EncodeToString([]byte(basic))
		return &h, nil
	}
	return &introspector{
		client:    o.client,
		url:       newSetup(o.retryEvery, findURL),
		creds:     newSetup(o.retryEvery, readAuthorization),
		secretARN: o.cfg.IntrospectionSecretARN,
		log:       o.log,
		issuer:    o.cfg.Issuer,
		calls:     rate.NewLimiter(rate.Limit(o.cfg.IntrospectionCallsPerSecond), o.cfg.IntrospectionCallsPerSecond),
		now:       o.now,
		// jwt's validator runs the same exp/nbf/iat/iss checks on the introspection
		// answer as the parser runs on a JWT's claims.
		validator: jwt.NewValidator(
			jwt.WithIssuer(o.cfg.Issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(o.cfg.Leeway),
			jwt.WithTimeFunc(o.now),
		),
	}
}

// start makes the start-up set-up: discovery (unless the URL is configured) and
// the secret read, side by side, since the start-up budget bounds both.
func (in *introspector) start(ctx context.Context) error {
	var urlErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		urlErr = in.url.start(ctx)
	}()
	credsErr := in.creds.start(ctx)
	<-done
	return errors.Join(urlErr, credsErr)
}

// introspection is RFC 7662's answer.
type introspection struct {
	Active    bool   `json:"active"`
	TokenType string `json:"token_type"`
	tokenClaims
}

func (in *introspector) validate(b *budget, token string) (tokenClaims, Reason, error) {
	// A JWT from another issuer is not ours to ask about: refused here, it costs
	// no call. The issuer read is not verified, which is fine for a refusal.
	if iss, isJWT := unverifiedIssuer(token); isJWT && iss != in.issuer {
		return tokenClaims{}, ReasonIssuer, nil
	}
	ctx := b.context() // introspection goes to the network
	u, err := in.url.get(ctx)
	if err != nil {
		return tokenClaims{}, setupFailure(b, err), err
	}
	auth, err := in.creds.get(ctx)
	if err != nil {
		return tokenClaims{}, setupFailure(b, err), err
	}
	if !in.calls.AllowN(in.now(), 1) {
		return tokenClaims{}, ReasonRateLimited, nil
	}
	ans, err := in.call(ctx, *u, *auth, token)
	if errors.Is(err, errClientRejected) {
		var reason Reason
		if ans, reason, err = in.retryRejected(b, *u, auth, token, err); reason != "" {
			return tokenClaims{}, reason, err
		}
	}
	switch {
	case err != nil && isTimeout(b, err):
		return tokenClaims{}, ReasonTimeout, err
	case err != nil:
		return tokenClaims{}, ReasonIntrospectionFailed, err
	case !ans.Active:
		return tokenClaims{}, ReasonInactive, nil
	case !isBearer(ans.TokenType):
		return tokenClaims{}, ReasonTokenType, nil
	}
	if ans.normalize() != nil {
		return tokenClaims{}, ReasonIntrospectionFailed, errors.New("introspection answer has a claim of the wrong type")
	}
	if err := in.validator.Validate(&ans.tokenClaims); err != nil {
		return tokenClaims{}, claimReason(err), nil
	}
	if len(ans.audience) == 0 {
		// An access token for the data store names it (or a configured audience):
		// an answer without aud is about some other token (the answer for a
		// refresh token need not have one).
		return tokenClaims{}, ReasonAudience, nil
	}
	return ans.tokenClaims, "", nil
}

// unverifiedIssuer returns the iss of a JWT-shaped token (three segments, a
// JOSE header and a JSON object payload) without checking anything else, and
// whether the token is JWT-shaped. Claim names are matched exactly (MapClaims
// is a map). A JWT without a string iss has issuer "".
func unverifiedIssuer(token string) (string, bool) {
	if strings.Count(token, ".") != 2 {
		return "", false
	}
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, claims); err != nil && !errors.Is(err, jwt.ErrTokenUnverifiable) {
		return "", false // not a JWT: an opaque token is the server's to judge
	}
	iss, _ := claims["iss"].(string)
	return iss, true
}

// retryRejected handles an introspection endpoint that refused our client
// credentials (HTTP 401 or 403): the secret may have been rotated (the Okta
// custom resource rewrites it when it re-creates the client), and a warm
// container would otherwise deny every request for the rest of its life. The
// secret is re-read, at most once per set-up retry interval however many
// requests are refused, and the call is made once more, within what is left of
// this request's budget, if the credentials changed. A reason is returned only
// when the re-read itself failed; otherwise the answer and error are those of
// the last call.
func (in *introspector) retryRejected(b *budget, u string, stale *string, token string, rejected error) (*introspection, Reason, error) {
	ctx := b.context()
	fresh, renewed, err := in.creds.renew(ctx, stale)
	switch {
	case errors.Is(err, errRenewedRecently):
		return nil, "", rejected // a request moments ago re-read it: nothing new to try
	case err != nil:
		return nil, setupFailure(b, err), err
	}
	changed := *fresh != *stale
	if renewed {
		// Never the secret: only where it came from and whether it changed.
		in.log.Warn("introspection endpoint rejected the client credentials; secret re-read",
			"secret_arn", in.secretARN, "changed", changed)
	}
	if !changed {
		return nil, "", rejected
	}
	ans, err := in.call(ctx, u, *fresh, token)
	return ans, "", err
}

// setupFailure is the reason for a failed set-up (discovery or the secret read)
// made or awaited by a request. A set-up not attempted yet (errNotReady, which
// wraps the last attempt's error) is not this request's timeout.
func setupFailure(b *budget, err error) Reason {
	switch {
	case isTimeout(b, err) && !errors.Is(err, errNotReady):
		return ReasonTimeout
	case errors.Is(err, errSecret):
		return ReasonSecretUnavailable
	}
	return ReasonIntrospectionFailed
}

// isBearer accepts access tokens only: a refresh or ID token the server also
// knows as active must not open the data store, nor a DPoP-bound one (whose
// proof HealthLake does not check). token_type is optional in RFC 7662, but
// Okta names its access tokens "Bearer", and an answer that names nothing does
// not say it is about an access token.
func isBearer(tokenType string) bool {
	return strings.EqualFold(tokenType, "bearer") || tokenType == "access_token"
}

// errClientRejected marks an introspection endpoint's refusal of our client
// credentials.
var errClientRejected = errors.New("client authentication failed")

// call POSTs the token to endpoint u with the Authorization header auth; its
// errors name the endpoint and status, never the token or the credentials.
func (in *introspector) call(ctx context.Context, u, auth string, token string) (*introspection, error) {
	form := "token=" + url.QueryEscape(token) + "&token_type_hint=access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form))
	if err != nil {
		return nil, fmt.Errorf("introspection request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", auth)
	// Introspection only reads; marking it idempotent (a nil value is not sent)
	// lets net/http retry it on a keep-alive connection the server closed while
	// Lambda had the process frozen.
	req.Header["Idempotency-Key"] = nil
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("introspection at %s: %w", httpsurl.Redact(u), httpsurl.UnwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)) // keep the connection reusable
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return nil, fmt.Errorf("introspection at %s: HTTP %d: %w", httpsurl.Redact(u), resp.StatusCode, errClientRejected)
		}
		return nil, fmt.Errorf("introspection at %s: HTTP %d", httpsurl.Redact(u), resp.StatusCode)
	}
	// Decoded with exact member names, as a JWT's claims are: "PATIENT" or
	// "Active" is another member, never patient or active (RFC 7662 uses
	// RFC 7519's case-sensitive claim names).
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("introspection at %s: reading the answer: %w", httpsurl.Redact(u), err)
	}
	var ans introspection
	if err := decodeExact(body, &ans); err != nil {
		return nil, fmt.Errorf("introspection at %s: undecodable answer", httpsurl.Redact(u))
	}
	return &ans, nil
}
