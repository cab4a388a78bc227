// Package fhirapi emulates the FHIR REST API of a SMART-enabled Amazon
// HealthLake data store over a small in-memory set of resources, so that the
// project's token-validation Lambda and smartcheck can be exercised end to end
// offline.
//
// What it models, from HealthLake's SMART on FHIR documentation
// (/work/shared/design/healthlake-smart.md sections 1 and 5):
//
//   - <endpoint>.well-known/smart-configuration is served without a token, from
//     the metadata the data store was given (IdentityProviderConfiguration.Metadata).
//   - Every other request needs "Authorization: Bearer <token>". HealthLake
//     calls the IdP Lambda synchronously with {"datastoreEndpoint",
//     "bearerToken", "operationName"} (plus fields such as datastoreId, which
//     real events carry) and gives it one second; past it the client gets
//     "Timeout during custom Idp execution".
//   - The answer must hold authPayload.{nbf, exp, isAuthorized, aud, scope} and
//     iamRoleARN; aud must be the data store endpoint; the request is served
//     only when isAuthorized is true, the token is inside nbf..exp, and a scope
//     grants the interaction on the resource type: v1 read = read + search,
//     write = create + update + delete; v2 c/r/u/d/s; a SMART_ON_FHIR_V1 data
//     store ignores v2 scopes.
//   - Fine-grained authorization: user/ scopes are limited to the fhirUser's
//     patients (a Practitioner's through Patient.generalPractitioner, a Patient's
//     or RelatedPerson's through Patient.link.other).
//
// Choices where HealthLake documents no behaviour, so that checks can tell the
// cases apart: a missing token or an unauthorized answer is 401, a scope or
// compartment that does not cover the request is 403, an IdP timeout, error or
// malformed answer is 500 with the message in an OperationOutcome (a fixed
// one for an IdP error). v2.2 filtered scopes (?category=...) are not applied
// and grant nothing here. patient/ scopes are limited to the launch patient
// (authPayload.patient, else a Patient fhirUser), and a patient/ grant
// without a patient grants nothing, never everything: HealthLake's guide
// documents no patient field in authPayload, so this is the safe reading.
package fhirapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/smartscope"
)

// Invoker calls the IdP Lambda (the sandbox adapts a lambdaruntime.Function).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Options configure the emulator.
type Options struct {
	// Endpoint is the data store endpoint, ending with "/" like HealthLake's
	// (https://host/datastore/<id>/r4/). Requests are served below its path.
	Endpoint string
	// DatastoreID is sent in the event as datastoreId.
	DatastoreID string
	// V1 makes the data store SMART_ON_FHIR_V1 (v1 scopes only); otherwise it
	// is SMART_ON_FHIR.
	V1 bool
	// FineGrained enables fine-grained authorization.
	FineGrained bool
	// Metadata is the SMART configuration document served at .well-known/smart-configuration.
	Metadata string
	// IdP is the token-validation Lambda.
	IdP Invoker
	// Budget is how long the IdP may take. Default: one second, HealthLake's.
	Budget time.Duration
	// RoleARN, when set, is the only iamRoleARN HealthLake can assume (the
	// service role that trusts this data store); another one is refused.
	RoleARN string
	// Resources are the data. Default: SampleResources().
	Resources []Resource
	// Logger receives one line per request (never the token). Default: discarded.
	Logger *slog.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Resource is one FHIR resource as JSON object.
type Resource map[string]any

// Server is the emulator; it is an http.Handler.
type Server struct {
	opts Options
	base string // path prefix, ending with "/"
	mu   sync.Mutex
	data map[string]map[string]Resource // type -> id -> resource
	next int
}

// New builds the emulator.
func New(opts Options) (*Server, error) {
	endpoint, err := url.Parse(opts.Endpoint)
	if err != nil || !strings.HasSuffix(endpoint.Path, "/") {
		return nil, fmt.Errorf("data store endpoint %q must be a URL ending with /", opts.Endpoint)
	}
	if opts.IdP == nil {
		return nil, errors.New("an IdP Lambda is required")
	}
	if opts.Budget == 0 {
		opts.Budget = time.Second
	}
	if opts.Resources == nil {
		opts.Resources = SampleResources()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, base: endpoint.Path, data: map[string]map[string]Resource{}}
	for _, r := range opts.Resources {
		t, id := r.Type(), r.ID()
		if s.data[t] == nil {
			s.data[t] = map[string]Resource{}
		}
		s.data[t][id] = r
	}
	return s, nil
}

// Type is the resourceType.
func (r Resource) Type() string { s, _ := r["resourceType"].(string); return s }

// ID is the resource id.
func (r Resource) ID() string { s, _ := r["id"].(string); return s }

var resourceType = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)

// request is a parsed FHIR interaction.
type request struct {
	operation string // HealthLake action name
	resource  string
	id        string
	need      smartscope.Perm
}

func route(method, rest string) (request, bool) {
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) == 0 || !resourceType.MatchString(parts[0]) {
		return request{}, false
	}
	t := parts[0]
	switch {
	case len(parts) == 1 && method == http.MethodGet:
		return request{"SearchWithGet", t, "", smartscope.Search}, true
	case len(parts) == 2 && parts[1] == "_search" && method == http.MethodPost:
		return request{"SearchWithPost", t, "", smartscope.Search}, true
	case len(parts) == 1 && method == http.MethodPost:
		return request{"CreateResource", t, "", smartscope.Create}, true
	case len(parts) == 2 && method == http.MethodGet:
		return request{"ReadResource", t, parts[1], smartscope.Read}, true
	case len(parts) == 2 && method == http.MethodPut:
		return request{"UpdateResource", t, parts[1], smartscope.Update}, true
	case len(parts) == 2 && method == http.MethodDelete:
		return request{"DeleteResource", t, parts[1], smartscope.Delete}, true
	}
	return request{}, false
}

// ServeHTTP serves the data store.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, s.base)
	if !ok {
		outcome(w, http.StatusNotFound, "not-found", "no data store at "+r.URL.Path)
		return
	}
	if rest == ".well-known/smart-configuration" && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(s.opts.Metadata))
		return
	}
	req, ok := route(r.Method, rest)
	if !ok {
		outcome(w, http.StatusBadRequest, "not-supported", fmt.Sprintf("%s %s is not an interaction the sandbox emulates", r.Method, rest))
		return
	}
	start := time.Now()
	status, reason := s.serve(w, r, req)
	s.opts.Logger.Info("fhir request", "operation", req.operation, "resource", req.resource,
		"status", status, "reason", reason, "ms", time.Since(start).Milliseconds())
}

// serve authorizes and answers a request; it returns the status and a reason for the log.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, req request) (int, string) {
	fail := func(status int, code, msg string) (int, string) {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		outcome(w, status, code, msg)
		return status, msg
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return fail(http.StatusUnauthorized, "login", "no Authorization header")
	}
	token, ok := cutPrefixFold(authz, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return fail(http.StatusUnauthorized, "login", "the Authorization header is not a bearer token (SigV4 is not emulated)")
	}

	ans, err := s.callIdP(r.Context(), strings.TrimSpace(token), req.operation)
	if err != nil {
		return fail(http.StatusInternalServerError, "exception", err.Error())
	}
	p := ans.AuthPayload
	now := s.opts.Now().Unix()
	switch {
	case !bool(p.IsAuthorized):
		return fail(http.StatusUnauthorized, "login", "the identity provider did not authorize the token")
	case p.Aud != s.opts.Endpoint:
		return fail(http.StatusUnauthorized, "login", fmt.Sprintf("authPayload.aud %q is not the data store endpoint", p.Aud))
	case p.Exp <= now:
		return fail(http.StatusUnauthorized, "login", "authPayload.exp has passed")
	case p.Nbf > now:
		return fail(http.StatusUnauthorized, "login", "authPayload.nbf is in the future")
	case s.opts.RoleARN != "" && ans.IAMRoleARN != s.opts.RoleARN:
		return fail(http.StatusForbidden, "forbidden", "HealthLake cannot assume iamRoleARN "+ans.IAMRoleARN)
	}
	access, why := s.access(p, req)
	if access == nil {
		return fail(http.StatusForbidden, "forbidden", why)
	}
	return s.answer(w, r, req, access)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// idpAnswer is the IdP Lambda's response; isAuthorized is read as a JSON string
// or boolean, the two forms HealthLake's documentation and AWS's sample use.
type idpAnswer struct {
	AuthPayload authPayload `json:"authPayload"`
	IAMRoleARN  string      `json:"iamRoleARN"`
}

type authPayload struct {
	Aud          string   `json:"aud"`
	Nbf          int64    `json:"nbf"`
	Exp          int64    `json:"exp"`
	IsAuthorized flexBool `json:"isAuthorized"`
	Scope        string   `json:"scope"`
	FhirUser     string   `json:"fhirUser"`
	Patient      string   `json:"patient"`
}

type rawPayload map[string]json.RawMessage

type flexBool bool

func (b *flexBool) UnmarshalJSON(v []byte) error {
	switch string(v) {
	case `true`, `"true"`:
		*b = true
	case `false`, `"false"`:
		*b = false
	default:
		return fmt.Errorf("isAuthorized is %s, not true or false", v)
	}
	return nil
}

// required are the authPayload fields HealthLake requires.
var required = []string{"nbf", "exp", "isAuthorized", "aud", "scope"}

func (s *Server) callIdP(ctx context.Context, token, operation string) (idpAnswer, error) {
	event, _ := json.Marshal(map[string]string{
		"datastoreEndpoint":    s.opts.Endpoint,
		"datastoreId":          s.opts.DatastoreID,
		"datastoreTypeVersion": "R4",
		"bearerToken":          token,
		"operationName":        operation,
	})
	ctx, cancel := context.WithTimeout(ctx, s.opts.Budget)
	defer cancel()
	out, err := s.opts.IdP.Invoke(ctx, event)
	if err != nil {
		if ctx.Err() != nil {
			return idpAnswer{}, errors.New("Timeout during custom Idp execution")
		}
		// The client gets a fixed message: the Lambda's error payload may name
		// internals (HealthLake documents only the timeout message). The
		// emulator's log keeps the cause.
		s.opts.Logger.Warn("custom Idp execution failed", "error", err.Error())
		return idpAnswer{}, errors.New("custom Idp execution failed")
	}
	var shape struct {
		AuthPayload rawPayload `json:"authPayload"`
		IAMRoleARN  *string    `json:"iamRoleARN"`
	}
	if err := json.Unmarshal(out, &shape); err != nil || shape.AuthPayload == nil {
		return idpAnswer{}, errors.New("the custom Idp answer has no authPayload object")
	}
	for _, k := range required {
		if _, ok := shape.AuthPayload[k]; !ok {
			return idpAnswer{}, fmt.Errorf("the custom Idp answer lacks authPayload.%s", k)
		}
	}
	if shape.IAMRoleARN == nil || *shape.IAMRoleARN == "" {
		return idpAnswer{}, errors.New("the custom Idp answer lacks iamRoleARN")
	}
	var ans idpAnswer
	if err := json.Unmarshal(out, &ans); err != nil {
		return idpAnswer{}, fmt.Errorf("the custom Idp answer is malformed: %v", err)
	}
	return ans, nil
}
