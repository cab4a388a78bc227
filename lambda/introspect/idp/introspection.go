package idp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// introspector validates tokens with an RFC 7662 call to the authorization
// server, authenticated with client credentials read once from Secrets Manager.
type introspector struct {
	client    *http.Client
	endpoint  *setup[introspectionEndpoint]
	validator *jwt.Validator
}

// introspectionEndpoint is the set-up an introspection call needs.
type introspectionEndpoint struct {
	url           string
	authorization string // the precomputed HTTP Basic header value
}

type introspectorOptions struct {
	cfg        Config
	client     *http.Client
	secrets    SecretsClient
	retryEvery time.Duration
	now        func() time.Time
}

func newIntrospector(o introspectorOptions) *introspector {
	build := func(ctx context.Context) (*introspectionEndpoint, error) {
		u := o.cfg.IntrospectionURL
		if u == "" {
			var err error
			if u, err = discover(ctx, o.client, o.cfg.Issuer, "introspection_endpoint", func(m metadata) string { return m.IntrospectionEndpoint }); err != nil {
				return nil, err
			}
		}
		creds, err := readCredentials(ctx, o.secrets, o.cfg.IntrospectionSecretARN)
		if err != nil {
			return nil, err
		}
		// RFC 6749 section 2.3.1: both parts are form-encoded before Basic encoding.
		basic := url.QueryEscape(creds.ID) + ":" + url.QueryEscape(creds.Secret)
		return &introspectionEndpoint{url: u, authorization: "Basic " + base64.StdEncoding.EncodeToString([]byte(basic))}, nil
	}
	return &introspector{
		client:   o.client,
		endpoint: newSetup(o.retryEvery, build),
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

// introspection is RFC 7662's answer.
type introspection struct {
	Active    bool   `json:"active"`
	TokenType string `json:"token_type"`
	tokenClaims
}

func (in *introspector) validate(b *budget, token string) (tokenClaims, Reason, error) {
	ctx := b.context() // introspection always goes to the network
	ep, err := in.endpoint.get(ctx)
	switch {
	case err != nil && isTimeout(b, err):
		return tokenClaims{}, ReasonTimeout, err
	case errors.Is(err, errSecret):
		return tokenClaims{}, ReasonSecretUnavailable, err
	case err != nil:
		return tokenClaims{}, ReasonIntrospectionFailed, err
	}
	ans, err := in.call(ctx, ep, token)
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
	return ans.tokenClaims, "", nil
}

// isBearer accepts access tokens only: a refresh or ID token the server also
// knows as active must not open the data store.
func isBearer(tokenType string) bool {
	return tokenType == "" || strings.EqualFold(tokenType, "bearer") || tokenType == "access_token"
}

// call POSTs the token; its errors name the endpoint and status, never the token.
func (in *introspector) call(ctx context.Context, ep *introspectionEndpoint, token string) (*introspection, error) {
	form := "token=" + url.QueryEscape(token) + "&token_type_hint=access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url, strings.NewReader(form))
	if err != nil {
		return nil, fmt.Errorf("introspection request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", ep.authorization)
	// Introspection only reads; marking it idempotent (a nil value is not sent)
	// lets net/http retry it on a keep-alive connection the server closed while
	// Lambda had the process frozen.
	req.Header["Idempotency-Key"] = nil
	resp, err := in.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, which is fine, but keep it short
		}
		return nil, fmt.Errorf("introspection at %s: %w", ep.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody)) // keep the connection reusable
		return nil, fmt.Errorf("introspection at %s: HTTP %d", ep.url, resp.StatusCode)
	}
	var ans introspection
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&ans); err != nil {
		return nil, fmt.Errorf("introspection at %s: undecodable answer", ep.url)
	}
	return &ans, nil
}
