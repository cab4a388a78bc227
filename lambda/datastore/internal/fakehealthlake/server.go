// Package fakehealthlake is an in-process Amazon HealthLake control plane for
// tests. It speaks the real AWS JSON 1.0 protocol (botocore's model metadata:
// protocol json, jsonVersion 1.0, targetPrefix HealthLake, signingName
// healthlake; so POST /, X-Amz-Target: HealthLake.<Operation>, errors as
// {"__type": "...#Code", "message": ...}) so the
// real aws-sdk-go-v2 client, pointed at its URL, exercises its own serializers,
// signer, retryer and error mapping.
//
// Statuses move the way HealthLake's do, but counted in DescribeFHIRDatastore
// calls instead of minutes: CREATING, UPDATING and DELETING last PollsToSettle
// describes, then become ACTIVE (or CREATE_FAILED / UPDATE_FAILED when a failure
// was scripted) and DELETED. An accepted update can be scripted to show nothing
// (old status, old configuration) for a few describes before it switches to
// UPDATING, as an eventually consistent API may. Every request is recorded for
// assertions.
//
// Two models of UpdateFHIRDatastore are offered. By default an update goes
// through UPDATING as above. With Options.ImmediateIdentityUpdates the fake
// follows the HealthLake Developer Guide ("Updating a HealthLake data store"):
// name and identity-provider changes take effect at once and leave the status
// as it was, ACTIVE or UPDATE_FAILED with its ErrorCause; only NLP/analytics
// changes, which this fake does not take, go through UPDATING and UPDATE_FAILED
// (MarkUpdateFailed stands for one that failed).
//
// Requests are validated as the service does where the handler could get them
// wrong: identity-provider configuration, IdpLambdaArn (pattern and length) and
// tags (API_Tag's pattern and lengths, the reserved aws: prefix) are refused
// with a ValidationException.
package fakehealthlake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
)

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	// Region and Account shape ARNs and endpoints. Default: us-east-1, 123456789012.
	Region, Account string
	// PollsToSettle is how many DescribeFHIRDatastore calls a transitional status
	// lasts. Default: 2.
	PollsToSettle int
	// ImmediateIdentityUpdates models UpdateFHIRDatastore as documented: the new
	// name and identity-provider configuration are reported at once (after any
	// DelayNextUpdate) and the status does not change, so a data store in
	// UPDATE_FAILED stays there with its ErrorCause. Default (false): the update
	// goes through UPDATING to ACTIVE, or UPDATE_FAILED after FailNextUpdate.
	ImmediateIdentityUpdates bool
	// ListPageSize is the most data stores one ListFHIRDatastores page holds,
	// whatever MaxResults asks. Default: 500, the model's maximum MaxResults.
	ListPageSize int
}

// Request is one recorded call.
type Request struct {
	// Operation is the part of X-Amz-Target after "HealthLake.".
	Operation string
	// Body is the decoded JSON request.
	Body map[string]any
	// Authorization is the SigV4 header the client sent.
	Authorization string
	// ErrorCode is the error the fake answered with; empty on success.
	ErrorCode string
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	// Faults make calls fail. A rule's Op is the operation (the part of
	// X-Amz-Target after "HealthLake."); see codeFor for how each fault.Kind
	// is answered.
	Faults fault.Plan

	srv  *httptest.Server
	opts Options

	mu          sync.Mutex
	stores      map[string]*store
	order       []string // ids in creation order, for List
	byToken     map[string]string
	created     int
	requests    []Request
	createErr   string
	updateErr   string
	updateDelay int
	listTokens  map[string]int // NextToken -> offset of the next page
	tokens      int
}

// New starts a fake and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Account == "" {
		opts.Account = "123456789012"
	}
	if opts.PollsToSettle == 0 {
		opts.PollsToSettle = 2
	}
	if opts.ListPageSize == 0 {
		opts.ListPageSize = 500
	}
	s := &Server{
		opts:       opts,
		stores:     map[string]*store{},
		byToken:    map[string]string{},
		listTokens: map[string]int{},
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the endpoint to configure the SDK client with.
func (s *Server) URL() string { return s.srv.URL }

// Requests returns the recorded requests, only those for the given operations
// when any are named.
func (s *Server) Requests(operations ...string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(s.requests), func(r Request) bool {
		return len(operations) > 0 && !slices.Contains(operations, r.Operation)
	})
}

// FailNextCreate makes the next created data store end in CREATE_FAILED with
// this ErrorCause message.
func (s *Server) FailNextCreate(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.createErr = message
}

// FailNextUpdate makes the next update end in UPDATE_FAILED with this message,
// with the previous configuration restored. With ImmediateIdentityUpdates, where
// a name or identity-provider change cannot fail later, the next
// UpdateFHIRDatastore is refused instead with a ValidationException carrying
// the message, and nothing changes.
func (s *Server) FailNextUpdate(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateErr = message
}

// DelayNextUpdate makes the next accepted UpdateFHIRDatastore invisible for
// polls DescribeFHIRDatastore calls: they still report the previous status and
// configuration; the call after them reports UPDATING with the new configuration.
func (s *Server) DelayNextUpdate(polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateDelay = polls
}

// MarkUpdateFailed puts a data store in UPDATE_FAILED with this ErrorCause
// message, as an NLP/analytics change made outside the stack that failed
// would. It reports false when there is no such data store.
func (s *Server) MarkUpdateFailed(id, message string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stores[id]
	if !ok {
		return false
	}
	st.Status, st.next, st.pending, st.onSettle = StatusUpdateFailed, "", 0, nil
	st.ErrorCause = &ErrorCause{ErrorMessage: message, ErrorCategory: "NON_RETRYABLE_ERROR"}
	return true
}

// SetCreatedAt backdates (or postdates) the data store's CreatedAt, as if it
// had been created then. It reports false when there is no such data store.
func (s *Server) SetCreatedAt(id string, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stores[id]
	if ok {
		st.CreatedAt = at
	}
	return ok
}

// Datastore returns a snapshot of the data store with this id.
func (s *Server) Datastore(id string) (Datastore, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.stores[id]
	if !ok {
		return Datastore{}, false
	}
	return st.snapshot(), true
}

// Datastores returns snapshots of all data stores not DELETED, in creation order.
func (s *Server) Datastores() []Datastore {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Datastore
	for _, id := range s.order {
		if st, ok := s.stores[id]; ok && st.Status != StatusDeleted {
			out = append(out, st.snapshot())
		}
	}
	return out
}

// Forget removes a data store entirely, as if it had been deleted long ago.
func (s *Server) Forget(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.stores, id)
}

// apiError is a modeled HealthLake error.
type apiError struct {
	code    string
	message string
	status  int // 0: statusFor(code)
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(code, format string, args ...any) *apiError {
	return &apiError{code: code, message: fmt.Sprintf(format, args...)}
}

// statusFor gives HealthLake's error shapes their HTTP statuses. botocore's
// model gives them no httpStatusCode; it marks InternalServerException as a
// fault (a 5xx) and the others as client errors. The SDK picks the error type
// from __type; the status matters to its retryer (5xx are retried).
func statusFor(code string) int {
	switch code {
	case "InternalServerException":
		return http.StatusInternalServerError
	case "AccessDeniedException":
		return http.StatusForbidden
	case "ConflictException":
		return http.StatusConflict
	case "ResourceNotFoundException":
		return http.StatusNotFound
	case "UnrecognizedClientException", "MissingAuthenticationTokenException":
		return http.StatusForbidden
	default: // ThrottlingException, ValidationException, protocol errors
		return http.StatusBadRequest
	}
}

// codeFor gives each fault.Kind the HealthLake error that answers it: the
// error shapes botocore's healthlake model lists for its operations
// (ThrottlingException, InternalServerException, ValidationException,
// AccessDeniedException, ResourceNotFoundException, ConflictException).
func codeFor(k fault.Kind) string {
	switch k {
	case fault.Throttle:
		return "ThrottlingException"
	case fault.Invalid:
		return "ValidationException"
	case fault.Denied:
		return "AccessDeniedException"
	case fault.NotFound:
		return "ResourceNotFoundException"
	case fault.Conflict:
		return "ConflictException"
	default:
		return "InternalServerException"
	}
}

// injected is the answer of a fault rule that fired.
func injected(r fault.Rule) *apiError {
	code := r.Code
	if code == "" {
		code = codeFor(r.Kind)
	}
	return &apiError{code: code, message: r.MessageOr(code), status: r.Status}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	operation, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "HealthLake.")
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	rec := Request{Operation: operation, Body: body, Authorization: r.Header.Get("Authorization")}

	out, apiErr := s.dispatch(r, operation, raw, rec.Authorization)

	s.mu.Lock()
	if apiErr != nil {
		rec.ErrorCode = apiErr.code
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("fake-%d", time.Now().UnixNano()))
	if apiErr != nil {
		status := apiErr.status
		if status == 0 {
			status = statusFor(apiErr.code)
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"__type":  "com.amazonaws.healthlake#" + apiErr.code,
			"message": apiErr.message,
		})
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) dispatch(r *http.Request, operation string, raw []byte, authorization string) (any, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, errorf("UnknownOperationException", "%s %s is not a JSON 1.0 request", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		return nil, errorf("SerializationException", "unexpected Content-Type %q", ct)
	}
	// Only the signer's output is checked, not the signature itself: the point is
	// that every operation, the hand-built one included, went through SigV4 for
	// the healthlake service.
	if !strings.HasPrefix(authorization, "AWS4-HMAC-SHA256 Credential=") ||
		!strings.Contains(authorization, "/"+s.opts.Region+"/healthlake/aws4_request") {
		return nil, errorf("MissingAuthenticationTokenException", "request is not signed with SigV4 for healthlake in %s", s.opts.Region)
	}

	if r, ok := s.Faults.TakeOp(operation); ok {
		return nil, injected(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.operations()[operation]
	if !ok {
		return nil, errorf("UnknownOperationException", "unknown operation %q", operation)
	}
	return op(raw)
}
