package idp

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/tokencache"
)

// MaxTokenBytes is the largest token considered: Okta access tokens are 1-2 KB,
// and parsing attacker-sized input costs every other request time.
const MaxTokenBytes = 16 << 10

// Defaults of Options.
const (
	DefaultRequestBudget      = 500 * time.Millisecond
	DefaultStartBudget        = 600 * time.Millisecond
	DefaultColdStartBudget    = 800 * time.Millisecond
	DefaultKeyRefreshInterval = 30 * time.Second
	DefaultSetupRetryInterval = 5 * time.Second
	DefaultCacheEntries       = 10_000
	DefaultRefusalCacheTTL    = 10 * time.Second
)

// responseMargin is kept free before the Lambda deadline to send the answer.
const responseMargin = 50 * time.Millisecond

// Options are the knobs tests turn; production uses the zero value.
type Options struct {
	// Logger receives the JSON log lines. Default: JSON to stdout.
	Logger *slog.Logger
	// Now is the clock for token times and cache expiry. Default: time.Now.
	Now func() time.Time
	// HTTPClient calls the authorization server. Default: a client whose every
	// phase times out within RequestBudget and that follows no redirects.
	HTTPClient *http.Client
	// Secrets reads the introspection secret. Default, in introspection mode:
	// NewSecretsClient with the same environment.
	Secrets SecretsClient
	// RequestBudget bounds a request's network waits. Default: 500 ms.
	RequestBudget time.Duration
	// StartBudget bounds the set-up made at start. Default: 600 ms. On a cold
	// start without provisioned concurrency the first request waits for it, and
	// HealthLake's 1 s counts from before.
	StartBudget time.Duration
	// ColdStartBudget bounds, from the handler's construction, the network waits
	// of the requests that arrive meanwhile: the first answer of a cold start
	// comes by then, whatever the start-up achieved, and that request's own
	// set-up attempt (if the start-up failed) or introspection gets what is left,
	// at most RequestBudget. It should exceed StartBudget. Default: 800 ms.
	ColdStartBudget time.Duration
	// KeyRefreshInterval is the least time between two JWK Set refreshes caused
	// by unknown kids. Default: 30 s.
	KeyRefreshInterval time.Duration
	// SetupRetryInterval is the least time between two set-up attempts (discovery,
	// first JWK Set, secret) after a failed one, and between two re-reads of the
	// secret after the introspection endpoint rejected the credentials. Default: 5 s.
	SetupRetryInterval time.Duration
	// CacheEntries bounds the validated-token cache, and in introspection mode
	// the refusal cache. Default: 10,000.
	CacheEntries int
	// RefusalCacheTTL is how long, in introspection mode, a definite refusal
	// (inactive, not an access token, claims that fail) is reused, so a
	// repeated bad token costs one call, not one per request. Default: 10 s.
	RefusalCacheTTL time.Duration
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RequestBudget <= 0 {
		o.RequestBudget = DefaultRequestBudget
	}
	if o.StartBudget <= 0 {
		o.StartBudget = DefaultStartBudget
	}
	if o.ColdStartBudget <= 0 {
		o.ColdStartBudget = DefaultColdStartBudget
	}
	if o.HTTPClient == nil {
		o.HTTPClient = newHTTPClient(max(o.RequestBudget, o.StartBudget))
	}
	if o.KeyRefreshInterval <= 0 {
		o.KeyRefreshInterval = DefaultKeyRefreshInterval
	}
	if o.SetupRetryInterval <= 0 {
		o.SetupRetryInterval = DefaultSetupRetryInterval
	}
	if o.CacheEntries <= 0 {
		o.CacheEntries = DefaultCacheEntries
	}
	if o.RefusalCacheTTL <= 0 {
		o.RefusalCacheTTL = DefaultRefusalCacheTTL
	}
}

// validator checks a token for one mode within the request's budget. detail,
// when not nil, is safe to log.
type validator interface {
	validate(b *budget, token string) (c tokenClaims, reason Reason, detail error)
}

// Handler answers HealthLake's calls. It is safe for concurrent use.
type Handler struct {
	cfg      Config
	cfgErr   error
	log      *slog.Logger
	now      func() time.Time
	budget   time.Duration
	cold     time.Time // until then, a request's network waits end by then
	auds     audiences
	check    validator
	cache    *tokencache.Cache[grant]
	cacheTTL time.Duration // 0: until the token's exp
	noCache  bool
	// refusals holds definite refusals by token hash in introspection mode
	// (nil in jwt mode, where a refusal costs no call).
	refusals   *tokencache.Cache[Reason]
	refusalTTL time.Duration
}

// FromEnv reads the configuration with getenv (os.Getenv in production) and
// returns a handler that has made its start-up set-up (discovery and the first
// JWK Set fetch, or discovery and the secret read) within opts.StartBudget; a
// failure there is logged and retried by later requests, the first of them
// within what is left of opts.ColdStartBudget. When the
// configuration is invalid, the handler has logged one line naming the
// variable and denies every request.
func FromEnv(ctx context.Context, getenv func(string) string, opts Options) *Handler {
	born := time.Now()
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		return broken(err, cfg, opts)
	}
	if cfg.Validation == validatorenv.ValidationIntrospection && opts.Secrets == nil {
		opts.Secrets = NewSecretsClient(getenv)
	}
	return newHandler(ctx, cfg, opts, born)
}

// newHandler returns a handler for a validated cfg (see FromEnv); born is when
// the construction began.
func newHandler(ctx context.Context, cfg Config, opts Options, born time.Time) *Handler {
	opts.defaults()
	h := &Handler{
		cfg:    cfg,
		log:    opts.Logger,
		now:    opts.Now,
		budget: opts.RequestBudget,
		cold:   born.Add(opts.ColdStartBudget),
		auds:   newAudiences(cfg.Audiences),
		cache:  tokencache.New[grant](opts.CacheEntries),
	}
	startCtx, cancel := context.WithTimeout(ctx, opts.StartBudget)
	defer cancel()
	var startErr error
	switch cfg.Validation {
	case validatorenv.ValidationIntrospection:
		in := newIntrospector(introspectorOptions{cfg: cfg, client: opts.HTTPClient, secrets: opts.Secrets,
			retryEvery: opts.SetupRetryInterval, now: opts.Now, log: opts.Logger})
		startErr = in.start(startCtx)
		h.check = in
		h.cacheTTL = cfg.IntrospectionCacheTTL
		h.noCache = cfg.IntrospectionCacheTTL == 0
		h.refusals = tokencache.New[Reason](opts.CacheEntries)
		h.refusalTTL = opts.RefusalCacheTTL
	default:
		keys := newKeySource(keySourceOptions{
			issuer: cfg.Issuer, jwksURL: cfg.JWKSURL, client: opts.HTTPClient,
			refreshEvery: opts.KeyRefreshInterval, retryEvery: opts.SetupRetryInterval,
			onRotate: func() {
				h.cache.Clear()
				h.log.Info("jwks changed; validated-token cache cleared")
			},
			log: opts.Logger,
		})
		startErr = keys.keys.start(startCtx)
		h.check = newJWTValidator(cfg.Issuer, cfg.Leeway, opts.Now, keys)
	}
	attrs := []any{"mode", string(cfg.Validation), "issuer", cfg.Issuer, "smart_version", string(cfg.SmartVersion)}
	if startErr != nil {
		h.log.Warn("start-up set-up failed; requests will retry it", append(attrs, "error", startErr.Error())...)
	} else {
		h.log.Info("ready", attrs...)
	}
	return h
}

// broken returns a handler that denies everything, after logging why once.
// Its refusals carry iamRoleARN when HEALTHLAKE_ROLE_ARN itself is valid:
// HealthLake requires the field in every answer.
func broken(err error, cfg Config, opts Options) *Handler {
	opts.defaults()
	variable := ""
	if ce, ok := err.(*validatorenv.Error); ok {
		variable = ce.Variable()
	}
	opts.Logger.Error("invalid configuration; every request will be denied", "variable", variable, "error", err.Error())
	var kept Config
	if validatorenv.RoleARNValid(cfg.RoleARN) {
		kept.RoleARN = cfg.RoleARN
	}
	return &Handler{cfg: kept, cfgErr: err, log: opts.Logger, now: opts.Now, cache: tokencache.New[grant](1)}
}

// newBudget bounds a request's network waits by the budget, by the end of the
// cold start if the request came before it, and by the Lambda deadline less the
// time needed to answer.
func (h *Handler) newBudget(ctx context.Context) budget {
	now := time.Now()
	d := now.Add(h.budget)
	if now.Before(h.cold) && h.cold.Before(d) {
		d = h.cold
	}
	if dl, ok := ctx.Deadline(); ok && dl.Add(-responseMargin).Before(d) {
		d = dl.Add(-responseMargin)
	}
	return budget{parent: ctx, deadline: d}
}

// bearer strips an optional "Bearer " scheme (case-insensitive, RFC 6750) and
// surrounding white space.
func bearer(s string) string {
	s = strings.TrimSpace(s)
	switch {
	case strings.EqualFold(s, "bearer"):
		return ""
	case len(s) > 7 && strings.EqualFold(s[:7], "bearer "):
		return strings.TrimSpace(s[7:])
	}
	return s
}
