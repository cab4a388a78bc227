package idp

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/wellknown"
)

var (
	errKIDMissing      = errors.New("token header has no kid")
	errKIDUnknown      = errors.New("kid not in the JWK Set")
	errKeyMismatch     = errors.New("the kid's key does not fit the token's alg")
	errKeysUnavailable = errors.New("no JWK Set available")
)

// keysUnavailableError carries why the JWK Set could not be had, which is about
// our set-up (URLs, HTTP status), never about the token, so it can be logged.
type keysUnavailableError struct{ cause error }

func (e *keysUnavailableError) Error() string {
	return errKeysUnavailable.Error() + ": " + e.cause.Error()
}
func (e *keysUnavailableError) Unwrap() error        { return e.cause }
func (e *keysUnavailableError) Is(target error) bool { return target == errKeysUnavailable }

// minRSABits refuses keys too weak to trust, whatever the JWK Set says.
const minRSABits = 2048

// keySource holds the JWK Set. jwkset parses and stores the keys; we add
// discovery, the fetch, the start-up retry, the rate-limited refresh on an
// unknown kid, the kid/kty/alg checks, and a hook that fires when a refresh
// changes the keys.
//
// jwkset's own HTTP storage is not used for the fetch: it refuses a whole set
// for one key it cannot parse, and it replaces the held keys with whatever a
// 200 answer holds, even none ({}, {"keys": null}, an error object), so one
// token with our iss and an unknown kid could make every token fail for a
// refresh interval. Here a malformed or unsupported key is skipped, and an
// answer without a usable key leaves the held keys in place.
//
// keyfunc.Keyfunc is deliberately not used as the jwt.Keyfunc: for a token
// without kid it offers every key, and it does not check kty or curve against
// alg; both are part of our contract.
type keySource struct {
	keys *setup[keySet]
}

// keySet is the JWK Set held and what refreshes it.
type keySet struct {
	held    *rotationWatch
	url     string
	client  *http.Client
	limiter *rate.Limiter // at most one unknown-kid refresh per interval
	lock    chan struct{} // one refresh at a time; waiters give up at their deadline
	log     *slog.Logger
}

type keySourceOptions struct {
	issuer, jwksURL string
	client          *http.Client
	refreshEvery    time.Duration // at most one unknown-kid refresh per interval
	retryEvery      time.Duration // between failed set-up attempts
	onRotate        func()        // called when a refresh changes the key set
	log             *slog.Logger
}

func newKeySource(o keySourceOptions) *keySource {
	build := func(ctx context.Context) (*keySet, error) {
		u := o.jwksURL
		if u == "" {
			var err error
			if u, err = discover(ctx, o.client, o.issuer, "jwks_uri", func(m metadata) string { return m.JWKSURI }); err != nil {
				return nil, err
			}
		}
		set := &keySet{
			held:    &rotationWatch{MemoryJWKSet: jwkset.NewMemoryStorage(), onChange: o.onRotate},
			url:     u,
			client:  o.client,
			limiter: rate.NewLimiter(rate.Every(o.refreshEvery), 1),
			lock:    make(chan struct{}, 1),
			log:     o.log,
		}
		keys, err := set.fetch(ctx)
		if err != nil {
			return nil, err
		}
		_ = set.held.KeyReplaceAll(ctx, keys) // memory storage: never fails
		set.limiter.Allow()                   // the keys are fresh: the first refresh waits a full interval
		return set, nil
	}
	return &keySource{keys: newSetup(o.retryEvery, build)}
}

// key is the jwt.Keyfunc body: the public key the token's kid names, if it fits
// the token's alg.
func (k *keySource) key(b *budget, t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errKIDMissing
	}
	set := k.keys.loaded()
	if set == nil {
		var err error
		if set, err = k.keys.get(b.context()); err != nil {
			return nil, &keysUnavailableError{cause: err}
		}
	}
	// The keys held answer without a network wait; only an unknown kid may
	// refresh the set, if the limiter allows one now (within the budget).
	// Otherwise, or if the refresh fails, the kid is unknown.
	jwk, err := set.held.KeyRead(context.Background(), kid)
	if err != nil {
		if jwk, err = set.refresh(b, kid); err != nil {
			return nil, err
		}
	}
	alg := t.Method.Alg()
	m := jwk.Marshal()
	if (m.ALG != "" && m.ALG.String() != alg) || (m.USE != "" && m.USE != jwkset.UseSig) {
		return nil, errKeyMismatch
	}
	pub := publicKey(jwk)
	if !fits(pub, alg) {
		return nil, errKeyMismatch
	}
	return pub, nil
}

// refresh fetches the set again for an unknown kid, if the limiter allows it,
// and returns the kid's key. A failed refresh, or one that brings no usable
// key, keeps the keys held and is logged.
func (s *keySet) refresh(b *budget, kid string) (jwkset.JWK, error) {
	ctx := b.context()
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return jwkset.JWK{}, fmt.Errorf("%w: %w", errKIDUnknown, ctx.Err())
	}
	defer func() { <-s.lock }()
	// A refresh made while this request waited may have brought the kid.
	if jwk, err := s.held.KeyRead(ctx, kid); err == nil {
		return jwk, nil
	}
	if !s.limiter.Allow() {
		return jwkset.JWK{}, errKIDUnknown
	}
	keys, err := s.fetch(ctx)
	if err != nil {
		s.log.Warn("jwks refresh failed; keeping the keys already held", "url", httpsurl.Redact(s.url), "error", err.Error())
		return jwkset.JWK{}, fmt.Errorf("%w: %w", errKIDUnknown, err) // classify tells a timeout
	}
	_ = s.held.KeyReplaceAll(ctx, keys)
	jwk, err := s.held.KeyRead(ctx, kid)
	if err != nil {
		return jwkset.JWK{}, errKIDUnknown
	}
	return jwk, nil
}

// fetch reads the JWK Set and returns the keys jwkset can parse. An answer
// without at least one key this validator could verify a token with (see
// usable) is an error, so the keys held stay in place. Keys that do not parse
// are skipped and counted in a log line; the others are kept, unusable ones
// included, so a token naming one is refused as a key mismatch.
func (s *keySet) fetch(ctx context.Context) ([]jwkset.JWK, error) {
	where := httpsurl.Redact(s.url)
	body, err := wellknown.Get(ctx, s.client, s.url, maxBody)
	if err != nil {
		return nil, fmt.Errorf("fetching the JWK Set at %s: %w", where, err)
	}
	// RFC 7517 section 5: a JWK Set is an object with a "keys" array. Each key
	// is decoded on its own, so one malformed key does not cost the others.
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("the JWK Set at %s is not a JSON object with a keys array", where)
	}
	keys := make([]jwkset.JWK, 0, len(doc.Keys))
	skipped, usableKeys := 0, 0
	for _, raw := range doc.Keys {
		var m jwkset.JWKMarshal
		if json.Unmarshal(raw, &m) != nil {
			skipped++
			continue
		}
		jwk, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{Private: true}, jwkset.JWKValidateOptions{})
		if err != nil {
			skipped++
			continue
		}
		keys = append(keys, jwk)
		if usable(jwk) {
			usableKeys++
		}
	}
	if skipped > 0 {
		s.log.Warn("jwks keys skipped: they do not parse", "url", where, "skipped", skipped, "kept", len(keys))
	}
	if usableKeys == 0 {
		return nil, fmt.Errorf("the JWK Set at %s has no usable keys (%d keys, %d that do not parse)", where, len(doc.Keys), skipped)
	}
	return keys, nil
}

// usable reports whether a token could be verified with the key: it has a kid,
// is meant for signatures, and fits one of the allowed algorithms.
func usable(jwk jwkset.JWK) bool {
	m := jwk.Marshal()
	if m.KID == "" || (m.USE != "" && m.USE != jwkset.UseSig) {
		return false
	}
	pub := publicKey(jwk)
	for _, alg := range allowedAlgs {
		if (m.ALG == "" || m.ALG.String() == alg) && fits(pub, alg) {
			return true
		}
	}
	return false
}

// publicKey returns the public half of a parsed key.
func publicKey(jwk jwkset.JWK) any {
	pub := jwk.Key()
	if p, ok := pub.(interface{ Public() crypto.PublicKey }); ok {
		return p.Public()
	}
	return pub
}

// fits checks the key type (and curve or size) an algorithm needs, so a key
// published for one purpose cannot be used with another algorithm.
func fits(pub any, alg string) bool {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256":
		k, ok := pub.(*rsa.PublicKey)
		return ok && k.N.BitLen() >= minRSABits
	case "ES256":
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k.Curve == elliptic.P256()
	case "ES384":
		k, ok := pub.(*ecdsa.PublicKey)
		return ok && k.Curve == elliptic.P384()
	}
	return false
}

// rotationWatch is the JWK storage jwkset refreshes into; it tells us when a
// refresh brings a different key set, so results validated with the old set are
// forgotten (a key removed from the set may have been revoked).
type rotationWatch struct {
	*jwkset.MemoryJWKSet
	onChange func()

	mu   sync.Mutex
	last string // fingerprint of the key set; "" before the first load
}

// KeyReplaceAll replaces the keys after a successful fetch.
func (w *rotationWatch) KeyReplaceAll(ctx context.Context, given []jwkset.JWK) error {
	if err := w.MemoryJWKSet.KeyReplaceAll(ctx, given); err != nil {
		return err
	}
	fp := fingerprint(given)
	w.mu.Lock()
	changed := w.last != "" && w.last != fp
	w.last = fp
	w.mu.Unlock()
	if changed && w.onChange != nil {
		w.onChange()
	}
	return nil
}

func fingerprint(keys []jwkset.JWK) string {
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		m := k.Marshal()
		parts = append(parts, strings.Join([]string{m.KID, m.KTY.String(), m.ALG.String(), m.USE.String(),
			m.N, m.E, m.CRV.String(), m.X, m.Y}, "|"))
	}
	slices.Sort(parts)
	return "set:" + strings.Join(parts, "\n")
}
