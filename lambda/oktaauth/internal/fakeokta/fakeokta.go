// Package fakeokta is an in-process fake of the parts of Okta's management API
// the SMART authorization-server custom resource uses, for tests that drive the
// real okta-sdk-golang/v2 client against it.
//
// It speaks Okta's wire format: JSON bodies, ids with Okta's prefixes (aus, scp,
// ocl, 00p, 0pr, 0oa), ACTIVE/INACTIVE lifecycles with /lifecycle/activate and
// /lifecycle/deactivate, apps that must be deactivated before they are deleted,
// generated client secrets, Link-header pagination, and Okta's error bodies
// (E0000001 validation and duplicate names, E0000007 not found, E0000011 bad
// token, E0000047 rate limit with X-Rate-Limit-* headers). It authenticates
// requests (SSWS token, or an access token it issued at /oauth2/v1/token for a
// private_key_jwt service app, DPoP-bound when the app requires DPoP; see
// token.go) and records every request with its decoded body.
//
// Beyond authorization servers and apps it models groups (with the org's
// built-in Everyone group, which only its id names: "EVERYONE" is a policy-rule
// keyword and a 404 as an app assignment's group), apps' group assignments
// (Okta signs in only assigned users) and the default user schema's custom
// attributes (a partial POST adds them; a property sent as null is removed),
// and inline hooks (inlinehooks.go): created ACTIVE, deleted only when
// INACTIVE, their header secret never answered, and referenced by a policy
// rule only when they are active token hooks.
//
// Faults (a fault.Plan) make any request fail by method, path pattern and
// count: a validation error halfway through a create, 5xx bursts, or 429s whose
// reset time the test chooses, so the SDK's rate-limit wait can be honoured
// without sleeping.
// At the token endpoint a fault fires once the request's client assertion and
// DPoP proof have been verified, so their jtis are used up (see token).
//
// The SDK refuses plain-HTTP org URLs; point it here with
// okta.WithTestingDisableHttpsCheck(true), in tests only.
package fakeokta

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
)

// Options configure a fake.
type Options struct {
	// APIToken is the SSWS token the fake accepts. Default: DefaultAPIToken.
	APIToken string
	// PageSize is the default page size of list endpoints (a request's limit
	// parameter wins). Default: 200, Okta's maximum. Tests set it low to make
	// clients follow Link headers.
	PageSize int
	// MaxPageSize caps a request's limit parameter. Default: 200, Okta's
	// maximum for the lists this fake serves (the management API spec's limit
	// parameters; a larger limit gets 200). Tests lower it so that a client
	// asking for 200 still has to follow Link headers without hundreds of
	// objects.
	MaxPageSize int
	// CustomDomain, when set, is the issuer base for servers in CUSTOM_URL mode
	// (e.g. "https://login.example.com"); without it CUSTOM_URL is rejected as in
	// an org without a custom domain.
	CustomDomain string
	// Deprecated: OmitClientSecretsOnRead is the default and has no effect. Okta returns
	// client_secret only when a client is created or a secret generated, never
	// on a GET or list of apps (management API spec, ApplicationCredentials
	// OAuthClient; the secrets themselves are listed under
	// /api/v1/apps/{appId}/credentials/secrets, listOAuth2ClientSecrets).
	// Kept so existing tests compile.
	OmitClientSecretsOnRead bool
	// Latency holds every answer this long after the request was carried out
	// (see latency.go). Default: none.
	Latency time.Duration
	// ClientSecretsOnRead makes GET/list app responses include client_secret,
	// as orgs did before client-secret rotation. Default: omitted.
	ClientSecretsOnRead bool
	// DynamicIssuer models an org with the dynamic issuer feature. An
	// authorization server's issuerMode is returned only on orgs with a custom
	// domain (CustomDomain) or this feature (management API spec,
	// AuthorizationServer.issuerMode: "only visible if you have a custom URL
	// domain configured or the Dynamic authorization server feature
	// available"). Default: neither, so issuerMode is omitted.
	DynamicIssuer bool
	// TLS serves HTTPS (httptest's certificate, valid for 127.0.0.1) instead
	// of plain HTTP, for clients that refuse an http org URL, such as the
	// handler binary run as is; CertificatePEM is the certificate to trust.
	TLS bool
}

var fakes atomic.Uint64

// DefaultAPIToken is the SSWS token a fake accepts unless Options says otherwise.
const DefaultAPIToken = "00fakeOktaApiToken-not-a-real-secret"

// Request is one recorded call.
type Request struct {
	Method string
	// Path is the URL path, e.g. /api/v1/authorizationServers/aus.../scopes.
	Path  string
	Query url.Values
	// Body is the decoded JSON body (map[string]any, []any, ...) or nil.
	Body any
	// Status is the HTTP status the fake answered.
	Status int
	// RetryCount is the SDK's X-Okta-Retry-Count header (set on its 429 retries).
	RetryCount string
	// Injected tells whether the answer came from a fault rule (Faults).
	Injected bool
	// AuthScheme is the Authorization header's scheme ("SSWS", "Bearer",
	// "DPoP"), empty without one.
	AuthScheme string
	// DPoPProof tells whether the request carried a DPoP header.
	DPoPProof bool
	// Error is the error code answered (E0000011, invalid_dpop_proof, ...).
	Error string
}

// Server is the fake. Create it with New.
type Server struct {
	*httptest.Server

	// Faults make requests fail. A rule's Op is "METHOD /path/pattern" or,
	// for any method, "/path/pattern" (see PathMatches); see faultError for how
	// each fault.Kind is answered.
	Faults fault.Plan

	opts Options

	mu           sync.Mutex
	rng          *rand.Rand
	now          func() time.Time
	servers      []*AuthorizationServer
	apps         []*App
	hooks        []*InlineHook
	groups       []*Group                 // groups[0] is the built-in Everyone group
	assignments  map[string][]*Assignment // app id -> its group assignments
	userSchema   map[string]*UserAttribute
	serviceApps  map[string]ServiceApp  // management API clients (private_key_jwt)
	accessTokens map[string]accessToken // issued management API tokens
	usedJTIs     map[string]bool        // client assertion and DPoP proof jtis seen
	asNonce      string                 // the token endpoint's DPoP-Nonce
	rsNonce      string                 // the management API's, when required (RequireResourceNonce)
	requests     []Request
	used         map[string]bool // every id handed out
}

// New starts a fake that is closed when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.APIToken == "" {
		opts.APIToken = DefaultAPIToken
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = 200
	}
	if opts.PageSize <= 0 {
		opts.PageSize = opts.MaxPageSize
	}
	s := &Server{
		opts:         opts,
		rng:          rand.New(rand.NewPCG(42, fakes.Add(1))), // distinct ids across fakes
		now:          time.Now,
		serviceApps:  map[string]ServiceApp{},
		accessTokens: map[string]accessToken{},
		usedJTIs:     map[string]bool{},
		used:         map[string]bool{},
		assignments:  map[string][]*Assignment{},
		userSchema:   map[string]*UserAttribute{},
	}
	everyone := &Group{ID: s.newID("00g"), Type: "BUILT_IN", Created: s.now().UTC()}
	everyone.Profile.Name, everyone.Profile.Description = "Everyone", "All users in your organization"
	s.groups = []*Group{everyone}
	s.asNonce = s.newSecret()[:32]
	handler := s.delayed(http.HandlerFunc(s.serve))
	if opts.TLS {
		s.Server = httptest.NewTLSServer(handler)
	} else {
		s.Server = httptest.NewServer(handler)
	}
	t.Cleanup(s.Close)
	return s
}

// CertificatePEM is the server certificate in PEM, for SSL_CERT_FILE; nil
// without Options.TLS.
func (s *Server) CertificatePEM() []byte {
	if s.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
}

// Requests returns a copy of every request so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RequestsMatching returns the requests with this method ("" = any) whose path
// matches the pattern (see PathMatches).
func (s *Server) RequestsMatching(method, pattern string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && PathMatches(pattern, r.Path) {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// PathMatches reports whether path matches pattern: segment by segment, "*"
// matches one segment and a final "**" the rest. An empty pattern matches all.
func PathMatches(pattern, path string) bool {
	if pattern == "" {
		return true
	}
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range ps {
		if p == "**" && i == len(ps)-1 {
			return true
		}
		if i >= len(xs) || (p != "*" && p != xs[i]) {
			return false
		}
	}
	return len(ps) == len(xs)
}

// ---- HTTP plumbing ----

type apiError struct {
	status  int
	code    string
	summary string
	causes  []string
	headers map[string]string
	// oauth answers in the OAuth shape {"error", "error_description"}
	// (RFC 6749 §5.2) instead of Okta's management error shape.
	oauth bool
}

func (e *apiError) Error() string { return e.code + ": " + e.summary }

func notFound(id, kind string) *apiError {
	return &apiError{status: http.StatusNotFound, code: "E0000007",
		summary: fmt.Sprintf("Not found: Resource not found: %s (%s)", id, kind)}
}

func invalid(field, cause string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "E0000001",
		summary: "Api validation failed: " + field, causes: []string{field + ": " + cause}}
}

func forbidden(code, summary string) *apiError {
	return &apiError{status: http.StatusForbidden, code: code, summary: summary}
}

// defaultSummaries are Okta's error codes and summaries per status (developer
// docs, "Error codes"; the management API spec's Error*400/403/404/429
// responses).
var defaultSummaries = map[int][2]string{
	http.StatusBadRequest:          {"E0000001", "Api validation failed: injected"},
	http.StatusUnauthorized:        {"E0000011", "Invalid token provided"},
	http.StatusForbidden:           {"E0000006", "You do not have permission to perform the requested action"},
	http.StatusNotFound:            {"E0000007", "Not found: Resource not found: injected (Injected)"},
	http.StatusTooManyRequests:     {"E0000047", "API call exceeded rate limit due to too many requests."},
	http.StatusInternalServerError: {"E0000009", "Internal Server Error"},
	http.StatusBadGateway:          {"E0000009", "Internal Server Error"},
	http.StatusServiceUnavailable:  {"E0000010", "Service is temporarily unavailable"},
	http.StatusGatewayTimeout:      {"E0000009", "Internal Server Error"},
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body any
	tokenEndpoint := r.URL.Path == "/oauth2/v1/token"
	if tokenEndpoint {
		// A form; recorded without the assertion (a replayable credential).
		if form, err := url.ParseQuery(string(raw)); err == nil && len(form) > 0 {
			rec := map[string]any{}
			for k := range form {
				rec[k] = form.Get(k)
			}
			if _, ok := rec["client_assertion"]; ok {
				rec["client_assertion"] = "[recorded without the assertion]"
			}
			body = rec
		}
	} else if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			s.finish(w, r, &apiError{status: http.StatusBadRequest, code: "E0000003",
				summary: "The request body was not well-formed."})
			return
		}
	}
	query := r.URL.Query()
	if r.URL.Path == "/oauth2/v1/token" && query.Has("client_assertion") {
		query.Set("client_assertion", "[recorded without the assertion]")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: query, Body: body,
		RetryCount: r.Header.Get("X-Okta-Retry-Count"), AuthScheme: scheme, DPoPProof: r.Header.Get("DPoP") != ""})
	idx := len(s.requests) - 1

	if tokenEndpoint {
		status, out, err, injected := s.token(r, raw)
		s.finishAt(w, idx, status, out, err, injected)
		return
	}
	if err := s.authenticate(r); err != nil {
		s.finishAt(w, idx, 0, nil, err, false)
		return
	}
	if f, ok := s.matchFault(r); ok {
		s.finishAt(w, idx, 0, nil, s.faultError(f), true)
		return
	}
	status, out, links, err := s.route(r, body)
	if links != nil {
		for _, l := range links {
			w.Header().Add("Link", l)
		}
	}
	s.finishAt(w, idx, status, out, err, false)
}

// finish records and answers a request that failed before it could be decoded.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, err *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()})
	s.finishAt(w, len(s.requests)-1, 0, nil, err, false)
}

// finishAt writes the answer and completes record idx. Callers hold s.mu.
func (s *Server) finishAt(w http.ResponseWriter, idx, status int, out any, err *apiError, injected bool) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Okta-Request-Id", s.newID("req"))
	if h.Get("Date") == "" {
		h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	}
	if err != nil {
		for k, v := range err.headers {
			h.Set(k, v)
		}
		if h.Get("X-Rate-Limit-Limit") == "" {
			h.Set("X-Rate-Limit-Limit", "100")
			h.Set("X-Rate-Limit-Remaining", "99")
			h.Set("X-Rate-Limit-Reset", strconv.FormatInt(s.now().Unix()+60, 10))
		}
		causes := []map[string]string{}
		for _, c := range err.causes {
			causes = append(causes, map[string]string{"errorSummary": c})
		}
		s.requests[idx].Status = err.status
		s.requests[idx].Injected = injected
		s.requests[idx].Error = err.code
		w.WriteHeader(err.status)
		if err.oauth {
			_ = json.NewEncoder(w).Encode(map[string]any{"error": err.code, "error_description": err.summary})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"errorCode": err.code, "errorSummary": err.summary, "errorLink": err.code,
			"errorId": s.newID("oae"), "errorCauses": causes,
		})
		return
	}
	h.Set("X-Rate-Limit-Limit", "100")
	h.Set("X-Rate-Limit-Remaining", "99")
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(s.now().Unix()+60, 10))
	if status == 0 {
		status = http.StatusOK
	}
	s.requests[idx].Status = status
	if out == nil {
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

// faultStatus is the HTTP status Okta answers each fault.Kind with (developer
// docs, "Error codes"; the management API spec's Error400/403/404/429
// responses). Okta has no conflict status of its own: a create that clashes
// with an object's state is an E0000001 validation error (400).
var faultStatus = map[fault.Kind]int{
	fault.ServerError: http.StatusInternalServerError,
	fault.Throttle:    http.StatusTooManyRequests,
	fault.Invalid:     http.StatusBadRequest,
	fault.Conflict:    http.StatusBadRequest,
	fault.Denied:      http.StatusForbidden,
	fault.NotFound:    http.StatusNotFound,
}

// faultError is the answer of a fault rule that fired. Callers hold s.mu.
func (s *Server) faultError(f fault.Rule) *apiError {
	status := f.Status
	if status == 0 {
		status = faultStatus[f.Kind]
	}
	sum := defaultSummaries[status]
	// Causes become errorCauses, each an errorSummary "<field>: <message>"
	// (the management API spec's error examples). Okta's summaries may quote
	// what was sent: "Sometimes this contains dynamically-generated
	// information about your specific error" (developer docs, "Error
	// codes"), which a test can play with a cause that echoes a value.
	e := &apiError{status: status, code: or(f.Code, sum[0]), summary: or(f.Message, sum[1]), causes: f.Causes}
	if status == http.StatusTooManyRequests {
		// Developer docs, "Rate limits": X-Rate-Limit-Limit, -Remaining
		// and -Reset (the UTC epoch second the window resets). The SDK waits
		// (Reset - Date + 1) seconds, so Reset is Date + RetryAfter - 1.
		date := s.now().UTC().Truncate(time.Second)
		e.headers = map[string]string{
			"Date":                   date.Format(http.TimeFormat),
			"X-Rate-Limit-Limit":     "100",
			"X-Rate-Limit-Remaining": "0",
			"X-Rate-Limit-Reset":     strconv.FormatInt(date.Unix()+int64(f.RetryAfter/time.Second)-1, 10),
		}
	}
	return e
}

// matchFault takes the fault rule, if any, that fails this request.
func (s *Server) matchFault(r *http.Request) (fault.Rule, bool) {
	return s.Faults.Take(func(op string) bool {
		method, path, ok := strings.Cut(op, " ")
		if !ok {
			method, path = "", op
		}
		return (method == "" || method == r.Method) && PathMatches(path, r.URL.Path)
	})
}

func (s *Server) authenticate(r *http.Request) *apiError {
	auth := r.Header.Get("Authorization")
	var at accessToken
	switch {
	case strings.HasPrefix(auth, "SSWS "):
		// Management API spec, securitySchemes.apiToken: "Authorization:
		// SSWS {API Token}"; a bad or expired token is 401 E0000011.
		if strings.TrimPrefix(auth, "SSWS ") != s.opts.APIToken {
			return &apiError{status: http.StatusUnauthorized, code: "E0000011", summary: "Invalid token provided"}
		}
		return nil // an API token carries its admin's full rights
	case strings.HasPrefix(auth, "Bearer "):
		// securitySchemes.oauth2: "Authorization: Bearer {access_token}".
		var ok bool
		at, ok = s.accessTokens[strings.TrimPrefix(auth, "Bearer ")]
		if !ok || !s.now().Before(at.expires) {
			return &apiError{status: http.StatusUnauthorized, code: "E0000011", summary: "Invalid token provided"}
		}
		if at.jkt != "" {
			// RFC 9449 §7.1: a DPoP-bound token is not a bearer token; the
			// resource server refuses it without its proof.
			return &apiError{status: http.StatusUnauthorized, code: "invalid_token", oauth: true,
				summary: "The access token is DPoP-bound; use the DPoP authorization scheme with a proof.",
				headers: map[string]string{"WWW-Authenticate": `DPoP algs="` + strings.Join(dpopAlgs, " ") + `", error="invalid_token"`}}
		}
	case strings.HasPrefix(auth, "DPoP "):
		var err *apiError
		if at, err = s.authenticateDPoP(r, strings.TrimPrefix(auth, "DPoP ")); err != nil {
			return err
		}
	default:
		// No credential: Okta treats the call as a session call (E0000005).
		return &apiError{status: http.StatusUnauthorized, code: "E0000005", summary: "Invalid session"}
	}
	if app, ok := s.serviceApps[at.client]; !ok || app.NoAdminRole {
		return forbidden("E0000006", "You do not have permission to perform the requested action")
	}
	scopes := at.scopes
	// The scope each operation needs: its security section in the management
	// API spec (okta.apps.read/manage for /api/v1/apps/**, okta.groups.*,
	// okta.schemas.*, okta.authorizationServers.*); a missing one is 403
	// E0000006, like a missing admin role.
	area := "okta.authorizationServers"
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v1/apps"): // app group assignments included
		area = "okta.apps"
	case strings.HasPrefix(r.URL.Path, "/api/v1/groups"):
		area = "okta.groups"
	case strings.HasPrefix(r.URL.Path, "/api/v1/meta/schemas"):
		area = "okta.schemas"
	case strings.HasPrefix(r.URL.Path, "/api/v1/inlineHooks"):
		area = "okta.inlineHooks"
	}
	need := []string{area + ".manage"}
	if r.Method == http.MethodGet {
		need = append(need, area+".read")
	}
	for _, n := range need {
		if slices.Contains(scopes, n) {
			return nil
		}
	}
	return forbidden("E0000006", "You do not have permission to perform the requested action")
}

// newID returns an Okta-looking id: a 3-character prefix and 17 letters/digits,
// 20 characters in all (the ids in the management API spec's examples, e.g.
// 0oa..., aus..., scp..., 00p...; minLength/maxLength 20 where the spec gives
// one).
func (s *Server) newID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for {
		var b strings.Builder
		b.WriteString(prefix)
		for b.Len() < 20 {
			b.WriteByte(alphabet[s.rng.IntN(len(alphabet))])
		}
		if id := b.String(); !s.used[id] {
			s.used[id] = true
			return id
		}
	}
}

func (s *Server) newSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var b strings.Builder
	for b.Len() < 64 {
		b.WriteByte(alphabet[s.rng.IntN(len(alphabet))])
	}
	return b.String()
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// paginate returns one page of items and the Link headers for it. The cursor is
// the id of the last item of the previous page, as in Okta (developer docs,
// "Okta API design principles" > Pagination: Link rel="self"/rel="next" with an
// after cursor; the list operations' limit parameter, at most 200).
func paginate[T any](s *Server, r *http.Request, items []T, id func(T) string) ([]T, []string, *apiError) {
	q := r.URL.Query()
	limit := min(s.opts.PageSize, s.opts.MaxPageSize)
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n == 0 {
			return nil, nil, invalid("limit", "must be a positive number")
		}
		if n > 0 {
			limit = min(n, s.opts.MaxPageSize)
		}
	}
	start := 0
	if after := q.Get("after"); after != "" {
		start = len(items)
		for i, it := range items {
			if id(it) == after {
				start = i + 1
				break
			}
		}
	}
	end := min(start+limit, len(items))
	page := append(make([]T, 0, end-start), items[start:end]...) // [] rather than null, as Okta
	self := *r.URL
	links := []string{fmt.Sprintf("<%s%s>; rel=\"self\"", s.URL, self.RequestURI())}
	if end < len(items) && len(page) > 0 {
		next := *r.URL
		nq := next.Query()
		nq.Set("after", id(page[len(page)-1]))
		nq.Set("limit", strconv.Itoa(limit))
		next.RawQuery = nq.Encode()
		links = append(links, fmt.Sprintf("<%s%s>; rel=\"next\"", s.URL, next.RequestURI()))
	}
	return page, links, nil
}

// lookup walks a decoded JSON body: lookup(body, "actions", "token", "x").
func lookup(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok = m[k]
		if !ok {
			return nil, false
		}
	}
	return v, true
}

// decode re-decodes the recorded body into a typed value.
func decode(body any, into any) *apiError {
	raw, err := json.Marshal(body)
	if err != nil {
		return invalid("body", err.Error())
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return &apiError{status: http.StatusBadRequest, code: "E0000003", summary: "The request body was not well-formed: " + err.Error()}
	}
	return nil
}

// cloneAll deep-copies every item, in order.
func cloneAll[T any](items []*T) []T {
	out := make([]T, 0, len(items))
	for _, v := range items {
		out = append(out, clone(*v))
	}
	return out
}

func clone[T any](v T) T {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(raw, &out); err != nil {
		panic(err)
	}
	return out
}
