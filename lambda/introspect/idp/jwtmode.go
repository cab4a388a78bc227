package idp

import (
	"context"
	"errors"
	"net"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// allowedAlgs is the complete list of signature algorithms accepted: never none,
// never HMAC (whose "key" an attacker could take from the public JWK Set).
var allowedAlgs = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}

var errIssuer = errors.New("token names another issuer")

// jwtValidator checks signed JWTs locally against the JWK Set.
type jwtValidator struct {
	issuer string
	parser *jwt.Parser
	keys   *keySource
}

func newJWTValidator(issuer string, leeway time.Duration, now func() time.Time, keys *keySource) *jwtValidator {
	return &jwtValidator{
		issuer: issuer,
		keys:   keys,
		parser: jwt.NewParser(
			jwt.WithValidMethods(allowedAlgs),
			jwt.WithStrictDecoding(), // one token, one spelling: no malleable trailing bits
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(now),
		),
	}
}

// validate parses and verifies a token. detail is an error safe to log (about
// our key set, never about the token's content), or nil.
func (v *jwtValidator) validate(b *budget, token string) (c tokenClaims, reason Reason, detail error) {
	tok, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		// The payload is decoded (not yet trusted) by now. A token from another
		// issuer is refused before the key lookup so it cannot spend the JWK Set
		// refresh allowance.
		if t.Claims.(*tokenClaims).Issuer != v.issuer {
			return nil, errIssuer
		}
		return v.keys.key(b, t)
	})
	if err == nil {
		if c.normalize() != nil {
			return c, ReasonTokenMalformed, nil
		}
		return c, "", nil
	}
	var unavailable *keysUnavailableError
	if errors.As(err, &unavailable) {
		detail = unavailable.cause
	}
	return c, classify(b, tok, err), detail
}

// classify maps a jwt/v5 or key error to a reason code. The order matters: jwt
// joins several errors, and the most specific one wins.
func classify(b *budget, tok *jwt.Token, err error) Reason {
	switch {
	case errors.Is(err, errKIDMissing):
		return ReasonKIDMissing
	case errors.Is(err, errIssuer):
		return ReasonIssuer
	case errors.Is(err, errKeyMismatch):
		return ReasonKeyMismatch
	case isTimeout(b, err) && !errors.Is(err, errNotReady) && (errors.Is(err, errKIDUnknown) || errors.Is(err, errKeysUnavailable)):
		// Not when the set-up was not even attempted: errNotReady wraps the last
		// attempt's error, which may be a past timeout.
		return ReasonTimeout
	case errors.Is(err, errKeysUnavailable):
		return ReasonKeysUnavailable
	case errors.Is(err, errKIDUnknown):
		return ReasonKIDUnknown
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ReasonTokenMalformed
	case tok != nil && tok.Method != nil && !slices.Contains(allowedAlgs, tok.Method.Alg()):
		return ReasonAlgNotAllowed
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return ReasonAlgNotAllowed // alg missing or unknown to the library
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return ReasonSignature
	}
	return claimReason(err)
}

// claimReason maps a claim-validation error (JWT or introspection) to a reason.
func claimReason(err error) Reason {
	switch {
	case errors.Is(err, errClaimType):
		return ReasonTokenMalformed
	case errors.Is(err, jwt.ErrTokenExpired):
		return ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return ReasonNotYetValid
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ReasonIssuedInFuture
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return ReasonIssuer
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ReasonClaimMissing
	case errors.Is(err, jwt.ErrInvalidType):
		return ReasonTokenMalformed
	}
	return ReasonClaimsInvalid
}

// isTimeout reports whether err comes from the request's budget running out,
// whether the context or an HTTP client timeout noticed first.
func isTimeout(b *budget, err error) bool {
	var ne net.Error
	return b.spent() || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
