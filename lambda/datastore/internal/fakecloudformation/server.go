// Package fakecloudformation is an in-process AWS CloudFormation endpoint for
// tests that answers DescribeStacks, the one call the data store handler makes.
// It speaks the real AWS Query protocol (POST / with a form body
// Action=DescribeStacks&StackName=...&Version=2010-05-15, answered in XML, errors
// as <ErrorResponse><Error><Code>) so the real aws-sdk-go-v2 client, pointed at
// its URL, exercises its own serializer, signer, retryer and error mapping.
//
// Stacks are set by tests, found by stack id (ARN) or name, and their status
// changed at will; errors can be injected; every request is recorded.
package fakecloudformation

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
)

// APIVersion is the Version every CloudFormation Query request carries.
const APIVersion = "2010-05-15"

// Stack is the part of a stack DescribeStacks reports that tests set.
type Stack struct {
	// ID is the stack's ARN, the StackId of a custom resource event.
	ID     string
	Name   string
	Status string
	// DisableRollback is true for a stack created with rollback on failure
	// disabled.
	DisableRollback bool
	CreationTime    time.Time
	// LastUpdatedTime is when the stack was last updated; zero for a stack never
	// updated, which DescribeStacks then reports without the field (the
	// CloudFormation API reference, Stack: "only returned if the stack has been
	// updated at least once").
	LastUpdatedTime time.Time
}

// Request is one recorded call.
type Request struct {
	// Action is the form's Action, such as DescribeStacks.
	Action string
	// Form is the whole decoded form body.
	Form url.Values
	// Authorization is the SigV4 header the client sent.
	Authorization string
	// ErrorCode is the error the fake answered with; empty on success.
	ErrorCode string
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	// Faults make calls fail. A rule's Op is the Query Action (DescribeStacks);
	// see injected for how each fault.Kind is answered.
	Faults fault.Plan

	srv    *httptest.Server
	region string

	mu       sync.Mutex
	stacks   []*Stack
	requests []Request
}

// New starts a fake for region (us-east-1 when empty) and stops it when the test
// ends.
func New(t testing.TB, region string) *Server {
	t.Helper()
	if region == "" {
		region = "us-east-1"
	}
	s := &Server{region: region}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the endpoint to configure the SDK client with.
func (s *Server) URL() string { return s.srv.URL }

// PutStack adds the stack, or replaces the one with the same id.
func (s *Server) PutStack(st Stack) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.CreationTime.IsZero() {
		st.CreationTime = time.Now().UTC()
	}
	for i, old := range s.stacks {
		if old.ID == st.ID {
			s.stacks[i] = &st
			return
		}
	}
	s.stacks = append(s.stacks, &st)
}

// mustFind is find for the test's own set-up calls: no such stack is a
// mistake in the test. s.mu is held.
func (s *Server) mustFind(idOrName string) *Stack {
	st := s.find(idOrName)
	if st == nil {
		panic("fakecloudformation: no stack " + idOrName)
	}
	return st
}

// SetLastUpdated sets the LastUpdatedTime of the stack with this id or name, as
// the start of an update does. It panics if there is none.
func (s *Server) SetLastUpdated(idOrName string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.mustFind(idOrName)
	st.LastUpdatedTime = at
}

// SetStatus changes the status of the stack with this id or name. It panics if
// there is none: that is a mistake in the test.
func (s *Server) SetStatus(idOrName, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.mustFind(idOrName)
	st.Status = status
}

// Requests returns the recorded requests, only those of the given actions when
// any are named.
func (s *Server) Requests(actions ...string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(s.requests), func(r Request) bool {
		return len(actions) > 0 && !slices.Contains(actions, r.Action)
	})
}

// find must be called with s.mu held.
func (s *Server) find(idOrName string) *Stack {
	for _, st := range s.stacks {
		if st.ID == idOrName || st.Name == idOrName {
			return st
		}
	}
	return nil
}

// apiError is a CloudFormation error: the code of its ErrorResponse and the
// HTTP status it comes with.
type apiError struct {
	code, message string
	status        int
}

func errorf(code string, status int, format string, args ...any) *apiError {
	return &apiError{code: code, message: fmt.Sprintf(format, args...), status: status}
}

// injected is the answer of a fault rule that fired. Each fault.Kind is one of
// the common errors of the AWS Query APIs (CloudFormation API reference,
// "Common errors": Throttling and ValidationError 400, AccessDenied 403,
// InternalFailure 500). CloudFormation has no conflict or not-found error of
// its own: a stack in the wrong state or an unknown stack is a ValidationError
// ("Stack with id ... does not exist"), so Conflict and NotFound are too. A
// rule's Code gets the statuses below.
func injected(r fault.Rule) *apiError {
	code := r.Code
	if code == "" {
		switch r.Kind {
		case fault.Throttle:
			code = "Throttling"
		case fault.Invalid, fault.Conflict, fault.NotFound:
			// DescribeStacks answers an unknown stack with ValidationError too.
			code = "ValidationError"
		case fault.Denied:
			code = "AccessDenied"
		default:
			code = "InternalFailure"
		}
	}
	status := r.Status
	if status == 0 {
		status = http.StatusBadRequest // Throttling, ValidationError, ...
		switch code {
		case "AccessDenied", "ExpiredToken", "InvalidClientTokenId":
			status = http.StatusForbidden
		case "InternalFailure", "ServiceUnavailable":
			status = http.StatusInternalServerError
		}
	}
	return errorf(code, status, "%s", r.MessageOr(code))
}

const xmlns = "http://cloudformation.amazonaws.com/doc/" + APIVersion + "/"

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

type describeStacksResponse struct {
	XMLName   xml.Name      `xml:"DescribeStacksResponse"`
	Xmlns     string        `xml:"xmlns,attr"`
	Stacks    []stackMember `xml:"DescribeStacksResult>Stacks>member"`
	RequestID string        `xml:"ResponseMetadata>RequestId"`
}

type stackMember struct {
	StackID         string `xml:"StackId"`
	StackName       string `xml:"StackName"`
	CreationTime    string `xml:"CreationTime"`
	LastUpdatedTime string `xml:"LastUpdatedTime,omitempty"`
	StackStatus     string `xml:"StackStatus"`
	DisableRollback bool   `xml:"DisableRollback"`
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(raw))
	rec := Request{Action: form.Get("Action"), Form: form, Authorization: r.Header.Get("Authorization")}
	requestID := fmt.Sprintf("fake-%d", time.Now().UnixNano())

	out, apiErr := s.dispatch(r, form, rec.Authorization)

	s.mu.Lock()
	if apiErr != nil {
		rec.ErrorCode = apiErr.code
	}
	s.requests = append(s.requests, rec)
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID)
	if apiErr != nil {
		kind := "Sender"
		if apiErr.status >= 500 {
			kind = "Receiver"
		}
		w.WriteHeader(apiErr.status)
		_ = xml.NewEncoder(w).Encode(errorResponse{Xmlns: xmlns, Type: kind, Code: apiErr.code, Message: apiErr.message, RequestID: requestID})
		return
	}
	out.Xmlns, out.RequestID = xmlns, requestID
	_ = xml.NewEncoder(w).Encode(out)
}

func (s *Server) dispatch(r *http.Request, form url.Values, authorization string) (*describeStacksResponse, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, errorf("InvalidAction", http.StatusBadRequest, "%s %s is not a Query request", r.Method, r.URL.Path)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, errorf("InvalidParameterValue", http.StatusBadRequest, "unexpected Content-Type %q", ct)
	}
	// The Query protocol (botocore's cloudformation model: protocol query,
	// apiVersion 2010-05-15) sends Action and Version in a form body.
	if v := form.Get("Version"); v != APIVersion {
		return nil, errorf("InvalidParameterValue", http.StatusBadRequest, "unsupported Version %q", v)
	}
	// Only the signer's output is checked, not the signature: the point is that
	// the request went through SigV4 for the cloudformation service.
	if !strings.HasPrefix(authorization, "AWS4-HMAC-SHA256 Credential=") ||
		!strings.Contains(authorization, "/"+s.region+"/cloudformation/aws4_request") {
		return nil, errorf("MissingAuthenticationToken", http.StatusForbidden, "request is not signed with SigV4 for cloudformation in %s", s.region)
	}

	if r, ok := s.Faults.TakeOp(form.Get("Action")); ok {
		return nil, injected(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if action := form.Get("Action"); action != "DescribeStacks" {
		return nil, errorf("InvalidAction", http.StatusBadRequest, "the fake does not implement %q", action)
	}
	// DescribeStacks (CloudFormation API reference): StackName takes a name or
	// a stack id; an unknown one is a ValidationError "Stack with id ... does not
	// exist"; without it, every stack is described.
	var matched []*Stack
	if name := form.Get("StackName"); name != "" {
		st := s.find(name)
		if st == nil {
			return nil, errorf("ValidationError", http.StatusBadRequest, "Stack with id %s does not exist", name)
		}
		matched = []*Stack{st}
	} else {
		matched = s.stacks
	}
	out := &describeStacksResponse{Stacks: []stackMember{}}
	for _, st := range matched {
		var updated string
		if !st.LastUpdatedTime.IsZero() {
			updated = st.LastUpdatedTime.UTC().Format(time.RFC3339Nano)
		}
		out.Stacks = append(out.Stacks, stackMember{
			LastUpdatedTime: updated,
			StackID:         st.ID,
			StackName:       st.Name,
			CreationTime:    st.CreationTime.Format(time.RFC3339),
			StackStatus:     st.Status,
			DisableRollback: st.DisableRollback,
		})
	}
	return out, nil
}
