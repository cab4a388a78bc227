package idp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
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
		// The header and payload are decoded (not yet trusted) by now; the
		// signature is checked after this returns a key.
		if err := checkHeader(t.Header); err != nil {
			return nil, err
		}
		if err := exactPayload(token, &c); err != nil {
			return nil, err
		}
		// A token from another issuer is refused before the key lookup so it
		// cannot spend the JWK Set refresh allowance.
		if c.Issuer != v.issuer {
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

var (
	errCrit = errors.New("token header has a crit parameter")
	errTyp  = errors.New("token header typ is not an access token type")
)

// acceptedTypes are the JOSE typ values of an access token, compared
// case-insensitively (media types are, RFC 7515 section 4.1.9, which also lets
// the "application/" prefix be left out): "JWT" (RFC 7519) and "at+jwt"
// (RFC 9068). No typ at all is accepted too: Okta sends none. Any other explicit
// type names another kind of JWT (dpop+jwt, logout+jwt, secevent+jwt,
// id_token+jwt, ...) that must not pass for an access token (RFC 8725 section
// 3.11).
var acceptedTypes = [...]string{"JWT", "application/jwt", "at+jwt", "application/at+jwt"}

// checkHeader applies the JOSE header rules jwt/v5 leaves to its caller.
func checkHeader(h map[string]any) error {
	// RFC 7515 section 4.1.11: a recipient that does not understand every
	// extension crit lists must refuse the JWS. This validator understands none,
	// and an empty or malformed crit is invalid anyway.
	if _, ok := h["crit"]; ok {
		return errCrit
	}
	if v, ok := h["typ"]; ok {
		typ, _ := v.(string)
		for _, a := range acceptedTypes {
			if strings.EqualFold(typ, a) {
				return nil
			}
		}
		return errTyp
	}
	return nil
}

// strictBase64URL is the encoding jwt/v5 decodes with under WithStrictDecoding.
var strictBase64URL = base64.RawURLEncoding.Strict()

// payloadBuffers hold decoded payloads for exactPayload, which would otherwise
// allocate one per token.
var payloadBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// exactPayload makes the claims jwt/v5 decoded from token's payload exact (see
// plainNames): when a member name of the payload could be folded onto a claim
// name, the claims are decoded again from the exactly named members only.
func exactPayload(token string, c *tokenClaims) error {
	_, rest, _ := strings.Cut(token, ".")
	seg, _, _ := strings.Cut(rest, ".")
	bp := payloadBuffers.Get().(*[]byte)
	defer payloadBuffers.Put(bp)
	// One buffer holds the segment, then the decoded payload behind it.
	buf := append((*bp)[:0], seg...)
	buf = slices.Grow(buf, base64.RawURLEncoding.DecodedLen(len(seg)))
	*bp = buf[:0]
	n, err := strictBase64URL.Decode(buf[len(seg):cap(buf)], buf[:len(seg)])
	if err != nil {
		return fmt.Errorf("%w: %w", jwt.ErrTokenMalformed, err)
	}
	payload := buf[len(seg) : len(seg)+n]
	if plainNames(payload) {
		return nil
	}
	var exact tokenClaims
	if err := decodeExact(payload, &exact); err != nil {
		return fmt.Errorf("%w: %w", jwt.ErrTokenMalformed, err)
	}
	*c = exact
	return nil
}

// classify maps a jwt/v5 or key error to a reason code. The order matters: jwt
// joins several errors, and the most specific one wins.
func classify(b *budget, tok *jwt.Token, err error) Reason {
	switch {
	case errors.Is(err, errKIDMissing):
		return ReasonKIDMissing
	case errors.Is(err, errCrit):
		return ReasonCritUnsupported
	case errors.Is(err, errTyp):
		return ReasonTypNotAllowed
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
