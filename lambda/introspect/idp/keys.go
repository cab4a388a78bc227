package idp

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
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

// keySource holds the JWK Set. jwkset does the fetching, caching and the
// rate-limited refresh on an unknown kid; we add discovery, the start-up retry,
// the kid/kty/alg checks, and a hook that fires when a refresh changes the keys.
//
// keyfunc.Keyfunc is deliberately not used as the jwt.Keyfunc: for a token
// without kid it offers every key, and it does not check kty or curve against
// alg; both are part of our contract.
type keySource struct {
	keys *setup[keySet]
}

// keySet is the JWK Set as fetched (held) and behind jwkset's refreshing client.
type keySet struct {
	held  *rotationWatch
	store jwkset.Storage
}

type keySourceOptions struct {
	issuer, jwksURL string
	client          *http.Client
	timeout         time.Duration // for the first fetch, under the caller's deadline
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
		held := &rotationWatch{MemoryJWKSet: jwkset.NewMemoryStorage(), onChange: o.onRotate}
		remote, err := jwkset.NewStorageFromHTTP(u, jwkset.HTTPClientStorageOptions{
			Client:      o.client,
			Ctx:         ctx, // only bounds the first fetch: no refresh goroutine is started
			HTTPTimeout: o.timeout,
			Storage:     held,
			RefreshErrorHandler: func(_ context.Context, err error) {
				o.log.Warn("jwks refresh failed; keeping the keys already held", "url", u, "error", err.Error())
			},
		})
		if err != nil {
			return nil, fmt.Errorf("fetching the JWK Set: %w", err)
		}
		if all, _ := held.KeyReadAll(ctx); len(all) == 0 {
			return nil, fmt.Errorf("the JWK Set at %s has no usable keys", u)
		}
		limiter := rate.NewLimiter(rate.Every(o.refreshEvery), 1)
		limiter.Allow() // the keys are fresh: the first refresh waits a full interval
		store, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
			HTTPURLs: map[string]jwkset.Storage{u: remote},
			// The "given" store is always empty: look at the fetched keys first.
			PrioritizeHTTP:    true,
			RefreshUnknownKID: limiter,
		})
		if err != nil {
			return nil, err
		}
		return &keySet{held: held, store: store}, nil
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
	// The keys held answer without a network wait; only an unknown kid goes to
	// jwkset, which refreshes the set if its limiter allows one now (within the
	// budget). Otherwise, or if the refresh fails, the kid is unknown.
	jwk, err := set.held.KeyRead(context.Background(), kid)
	if err != nil {
		if jwk, err = set.store.KeyRead(b.context(), kid); err != nil {
			return nil, errKIDUnknown
		}
	}
	alg := t.Method.Alg()
	m := jwk.Marshal()
	if (m.ALG != "" && m.ALG.String() != alg) || (m.USE != "" && m.USE != jwkset.UseSig) {
		return nil, errKeyMismatch
	}
	pub := jwk.Key()
	if p, ok := pub.(interface{ Public() crypto.PublicKey }); ok {
		pub = p.Public()
	}
	if !fits(pub, alg) {
		return nil, errKeyMismatch
	}
	return pub, nil
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

// KeyReplaceAll is what jwkset calls after every successful fetch.
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
