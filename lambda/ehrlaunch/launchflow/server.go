// Package launchflow is SMART App Launch's EHR launch in front of Okta: the
// launch-context API an EHR registers contexts with, the authorize proxy and
// callback an app is sent through, the Okta token inline hook that puts the
// context into the access token, and the token proxy that returns it at the top
// level of the token response. The same proxy serves a standalone patient
// picker for clinicians' apps (picker.go).
//
// Okta cannot do this alone: it ignores the launch parameter, cannot check
// aud, cannot add token-response fields and its token hook fails open. The
// flow therefore fails closed at every step it owns: a launch is consumed
// atomically by the one client it was registered for; the hook answers an
// error object (which makes Okta fail the request) on any fault; the callback
// refuses to hand a code for a launch whose hook did not finish its work in
// time, or to a browser other than the one that started the sign-in
// (binding.go); and the hook's marker claim lets the validator refuse a token
// Okta issued without it.
//
// No patient id or other context ever appears in a URL or a state: Okta and
// browsers log URLs. Okta sees only the transaction id the proxy makes up.
package launchflow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

// Store is what the flow keeps between requests (launchstore.Store).
type Store interface {
	PutLaunch(ctx context.Context, id string, lc launchstore.LaunchContext, expires time.Time) error
	ConsumeLaunch(ctx context.Context, id, clientID string) (launchstore.LaunchContext, error)
	PutTransaction(ctx context.Context, id string, tx launchstore.Transaction, expires time.Time) error
	GetTransaction(ctx context.Context, id string) (launchstore.Transaction, error)
	MarkHookOK(ctx context.Context, id string) error
	UseCallback(ctx context.Context, id, browserHash string) (launchstore.Transaction, error)
	PickPatient(ctx context.Context, id, browserHash, patient string) (launchstore.Transaction, error)
	PutGrant(ctx context.Context, state string, b launchstore.RefreshBinding, expires time.Time) error
	GetGrant(ctx context.Context, state string) (launchstore.RefreshBinding, error)
	PutRefresh(ctx context.Context, jti string, b launchstore.RefreshBinding, expires time.Time) error
	GetRefresh(ctx context.Context, jti string) (launchstore.RefreshBinding, error)
	ConsumeAssertion(ctx context.Context, clientID, jti string, expires time.Time) error
}

// Options are the server's collaborators.
type Options struct {
	// HookSecret is the value Okta sends in the hook's Authorization header.
	HookSecret string
	// HTTPClient calls Okta's token endpoint. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Random is the source of launch and transaction ids. Default: crypto/rand.
	Random io.Reader
	// Logger receives one line per refusal, never a token, id or context value.
	// Default: discarded.
	Logger *slog.Logger
	// HookBudget is how long the hook may work on one call and still vouch
	// for the code (Okta's timeout is 3 s, network and start-up included).
	// Default: DefaultHookBudget.
	HookBudget time.Duration
	// Caller returns the SigV4 principal of a request, as API Gateway's IAM
	// authorization established it. Default: API Gateway's request context
	// (requestContext.identity.userArn).
	Caller func(*http.Request) (string, bool)
	// AssertionSigner signs the client assertions the token proxy sends Okta
	// for SMART backend services (backend.go): assertionkey.Key on the KMS
	// key of Config.AssertionKeyARN. Required when Config.BackendClients is
	// not empty; unused otherwise.
	AssertionSigner AssertionSigner
}

// DefaultHookBudget leaves a second of Okta's 3 s hook timeout for the
// network and API Gateway.
const DefaultHookBudget = 2 * time.Second

// Server serves the flow's endpoints. It is an http.Handler.
type Server struct {
	cfg   ehrlaunchenv.Config
	store Store
	opts  Options // without HookSecret: only its hash is kept
	mux   *http.ServeMux
	// principals and hookSecretSum are worked out once, here, not per request.
	principals    principals
	hookSecretSum [sha256.Size]byte
	// backends are the backend services' registered signing keys, by client
	// id; tokenURL is the audience their assertions must name.
	backends map[string][]jose.JSONWebKey
	tokenURL string
}

// New builds the server.
func New(cfg ehrlaunchenv.Config, store Store, opts Options) (*Server, error) {
	if opts.HookSecret == "" {
		return nil, fmt.Errorf("the hook secret is empty: every hook call would be refused")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Random == nil {
		opts.Random = rand.Reader
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HookBudget <= 0 {
		opts.HookBudget = DefaultHookBudget
	}
	if opts.Caller == nil {
		opts.Caller = apiGatewayCaller
	}
	if cfg.LaunchLifetime <= 0 || cfg.LaunchLifetime > ehrlaunchenv.MaxLaunchLifetime {
		cfg.LaunchLifetime = ehrlaunchenv.MaxLaunchLifetime
	}
	if cfg.TransactionLifetime <= 0 {
		cfg.TransactionLifetime = ehrlaunchenv.DefaultTransactionLifetime
	}
	if cfg.RefreshLifetime <= 0 {
		cfg.RefreshLifetime = ehrlaunchenv.DefaultRefreshLifetime
	}
	backends, err := parseBackendClients(cfg.BackendClients)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", ehrlaunchenv.EnvBackendClients, err)
	}
	if len(backends) > 0 && opts.AssertionSigner == nil {
		return nil, fmt.Errorf("backend clients are configured but no assertion signer: their token requests would all fail")
	}
	sum := sha256.Sum256([]byte(opts.HookSecret))
	opts.HookSecret = ""
	s := &Server{cfg: cfg, store: store, opts: opts, mux: http.NewServeMux(),
		principals: newPrincipals(cfg.EHRPrincipals), hookSecretSum: sum,
		backends: backends, tokenURL: strings.TrimSuffix(cfg.PublicURL, "/") + ehrlaunchenv.PathToken}
	s.mux.HandleFunc("POST "+ehrlaunchenv.PathLaunch, s.launch)
	s.mux.HandleFunc("GET "+ehrlaunchenv.PathAuthorize, s.authorize)
	s.mux.HandleFunc("GET "+ehrlaunchenv.PathCallback, s.callback)
	s.mux.HandleFunc("POST "+ehrlaunchenv.PathPicker, s.pick)
	s.mux.HandleFunc("POST "+ehrlaunchenv.PathHook, s.hook)
	s.mux.HandleFunc("POST "+ehrlaunchenv.PathToken, s.token)
	s.mux.HandleFunc("OPTIONS "+ehrlaunchenv.PathToken, s.preflight)
	s.mux.HandleFunc("POST "+ehrlaunchenv.PathIntrospect, s.introspect)
	return s, nil
}

// ServeHTTP serves the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// newID returns 256 random bits, base64url without padding (43 characters).
func (s *Server) newID() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.opts.Random, b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Server) clientAllowed(clientID, redirectURI string) bool {
	uris, ok := s.cfg.Clients[clientID]
	return ok && slices.Contains(uris, redirectURI)
}

func (s *Server) refuse(r *http.Request, step, reason string, attrs ...any) {
	s.opts.Logger.Log(r.Context(), slog.LevelWarn, "refused", append([]any{"step", step, "reason", reason}, attrs...)...)
}
