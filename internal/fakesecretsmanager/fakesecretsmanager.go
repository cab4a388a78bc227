// Package fakesecretsmanager is an in-process AWS Secrets Manager speaking the real
// JSON 1.1 wire protocol (POST / with X-Amz-Target "secretsmanager.<Operation>",
// per botocore's secretsmanager model), for tests and the sandbox that drive
// the real aws-sdk-go-v2 client: the custom-resource handlers' tests, the token
// validator's, and smartsandbox, which serves it over TLS to a real Lambda
// process.
//
// Point a client at it with AWS_ENDPOINT_URL_SECRETS_MANAGER=<URL> (through
// config.LoadDefaultConfig) or secretsmanager.Options.BaseEndpoint, with static
// credentials (only those of one access key after RequireAccessKey). It answers
// GetSecretValue, PutSecretValue and DescribeSecret, and records every request
// so tests can assert what was read and written.
//
// It lives in the root internal/ so that both the Lambdas' tests and the
// sandbox (internal/sandbox) use this one fake.
package fakesecretsmanager

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
)

// Request is one recorded call.
type Request struct {
	// Operation is the X-Amz-Target suffix, e.g. "GetSecretValue".
	Operation string
	// SecretID is the SecretId the call named.
	SecretID string
}

// Server is the fake. The zero value is not usable: call New, or NewHandler
// to serve it on a listener of one's own.
type Server struct {
	// Server is the test server New started; nil for NewHandler.
	*httptest.Server

	// Faults make calls fail. A rule's Op is the operation (the part of
	// X-Amz-Target after "secretsmanager."); see injected for how each
	// fault.Kind is answered.
	Faults fault.Plan

	mu          sync.Mutex
	accessKeyID string
	secrets     map[string]*secret // by ARN
	requests    []Request
}

type secret struct {
	arn, name string
	value     string
	versions  int
}

// New starts a fake on a test server; it is closed when the test ends.
func New(t testing.TB) *Server {
	s := NewHandler()
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

// NewHandler returns a fake that serves nothing until it is given to an
// http.Server (it is an http.Handler): the sandbox serves it over TLS.
func NewHandler() *Server {
	return &Server{secrets: map[string]*secret{}}
}

// RequireAccessKey makes id the only access key whose requests are answered;
// others get the UnrecognizedClientException AWS answers a foreign key with.
// The signature itself is not recomputed. By default any SigV4-signed request
// is answered.
func (s *Server) RequireAccessKey(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessKeyID = id
}

// Put creates or replaces a secret in account 123456789012 and returns its
// ARN.
func (s *Server) Put(name, value string) string {
	return s.PutARN(fmt.Sprintf("arn:aws:secretsmanager:us-east-1:123456789012:secret:%s-AbCdEf", name), name, value)
}

// PutARN creates a secret with a given ARN, or replaces the value of the
// secret of that name, and returns its ARN.
func (s *Server) PutARN(arn, name, value string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sec := s.find(name); sec != nil {
		sec.value = value
		sec.versions++
		return sec.arn
	}
	s.secrets[arn] = &secret{arn: arn, name: name, value: value, versions: 1}
	return arn
}

// Value returns a secret's current value, by name or ARN.
func (s *Server) Value(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.find(id)
	if sec == nil {
		return "", false
	}
	return sec.value, true
}

// Requests returns a copy of every call received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many calls of one operation were received.
func (s *Server) Count(operation string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Operation == operation {
			n++
		}
	}
	return n
}

// injected writes the answer of a fault rule that fired, with the errors of
// botocore's secretsmanager model (InternalServiceError, a 500 the SDK retries;
// InvalidParameterException; ResourceNotFoundException; InvalidRequestException
// for a secret in the wrong state) and the AWS common errors ThrottlingException
// and AccessDeniedException (400).
func injected(w http.ResponseWriter, r fault.Rule) {
	status, code := http.StatusBadRequest, r.Code
	if code == "" {
		switch r.Kind {
		case fault.Throttle:
			code = "ThrottlingException"
		case fault.Invalid:
			code = "InvalidParameterException"
		case fault.Denied:
			code = "AccessDeniedException"
		case fault.NotFound:
			code = "ResourceNotFoundException"
		case fault.Conflict:
			code = "InvalidRequestException"
		default:
			status, code = http.StatusInternalServerError, "InternalServiceError"
		}
	}
	if r.Status != 0 {
		status = r.Status
	}
	writeError(w, status, code, r.MessageOr(code))
}

func (s *Server) find(id string) *secret {
	if sec, ok := s.secrets[id]; ok {
		return sec
	}
	for _, sec := range s.secrets {
		if sec.name == id {
			return sec
		}
	}
	return nil
}

// ServeHTTP answers one call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	if !ok || r.Method != http.MethodPost || r.URL.Path != "/" {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "unknown target")
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		writeError(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "request is not SigV4-signed")
		return
	}
	body, _ := io.ReadAll(r.Body)
	var in struct {
		SecretID     string `json:"SecretId"`
		SecretString *string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accessKeyID != "" && !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+s.accessKeyID+"/") {
		writeError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	s.requests = append(s.requests, Request{Operation: op, SecretID: in.SecretID})
	if r, ok := s.Faults.TakeOp(op); ok {
		injected(w, r)
		return
	}
	if in.SecretID == "" {
		// SecretId is required by every operation here (botocore's model).
		writeError(w, http.StatusBadRequest, "InvalidParameterException", "SecretId is required")
		return
	}
	sec := s.find(in.SecretID)
	if sec == nil {
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	switch op {
	case "GetSecretValue":
		writeJSON(w, map[string]any{
			"ARN": sec.arn, "Name": sec.name, "SecretString": sec.value,
			"VersionId": sec.versionID(), "VersionStages": []string{"AWSCURRENT"},
			"CreatedDate": created,
		})
	case "PutSecretValue":
		if in.SecretString == nil {
			writeError(w, http.StatusBadRequest, "InvalidParameterException", "SecretString is required by this fake")
			return
		}
		sec.value = *in.SecretString
		sec.versions++
		writeJSON(w, map[string]any{
			"ARN": sec.arn, "Name": sec.name,
			"VersionId": sec.versionID(), "VersionStages": []string{"AWSCURRENT"},
		})
	case "DescribeSecret":
		writeJSON(w, map[string]any{"ARN": sec.arn, "Name": sec.name})
	default:
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "operation not supported by this fake: "+op)
	}
}

// created is every secret's CreatedDate, in epoch seconds as the JSON
// protocol writes timestamps.
var created = float64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix())

// versionID is shaped like Secrets Manager's (a UUID; botocore's model: 32
// to 64 characters) and counts the secret's versions.
func (sec *secret) versionID() string {
	return fmt.Sprintf("00000000-0000-0000-0000-%012d", sec.versions)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": msg})
}
