// Package fakekms is an in-process AWS KMS speaking the real JSON 1.1 wire
// protocol (X-Amz-Target: TrentService.<Operation>,
// application/x-amz-json-1.1), for tests that drive the real aws-sdk-go-v2
// client. Point a client at it with AWS_ENDPOINT_URL_KMS=<URL> (through
// config.LoadDefaultConfig) or kms.Options.BaseEndpoint.
//
// It holds asymmetric RSA signing keys (KeySpec RSA_2048, KeyUsage
// SIGN_VERIFY) made by AddSigningKey with a real key generated in the test,
// and answers GetPublicKey and Sign. What it models, with its source (the AWS
// KMS API Reference and botocore's kms model, service-2.json):
//
//   - KeyId is a key id, a key ARN or an alias name or alias ARN the test
//     registered; anything else is a 400 NotFoundException.
//   - GetPublicKey returns the DER SubjectPublicKeyInfo (X.509) of the key in
//     PublicKey, with KeySpec, KeyUsage and SigningAlgorithms.
//   - Sign takes Message (1 to 4096 bytes), MessageType RAW (KMS hashes the
//     message) or DIGEST (the message IS the digest, whose length must be the
//     algorithm's: "When the value of MessageType is DIGEST, the length of the
//     Message value must match the length of hashed messages for the
//     specified signing algorithm"; otherwise a ValidationException), and a
//     SigningAlgorithm the key supports (RSASSA_PKCS1_V1_5_SHA_256/384/512 and
//     RSASSA_PSS_SHA_256/384/512 for RSA keys; another is an
//     InvalidKeyUsageException). It returns the raw signature and the key ARN.
//   - A disabled key (Disable) answers DisabledException.
//   - Throttling is a 400 ThrottlingException (KMS's "request rate exceeded"
//     error, which the SDK's retryer retries); see injected for every
//     fault.Kind.
//
// It does not implement encryption, key creation through the API, grants or
// key policies: IAM is the construct tests' business.
package fakekms

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
)

// Region and Account make the key ARNs the fake answers with.
const (
	Region  = "us-east-1"
	Account = "123456789012"
)

// Server is the fake. The zero value is not usable: call New.
type Server struct {
	*httptest.Server

	// Faults make calls fail. A rule's Op is the operation (the part of
	// X-Amz-Target after "TrentService."); see injected for how each
	// fault.Kind is answered.
	Faults fault.Plan

	mu    sync.Mutex
	keys  map[string]*key // by key id
	names map[string]string
	calls map[string]int
}

type key struct {
	id       string
	priv     *rsa.PrivateKey
	disabled bool
}

// New starts a fake; it is closed when the test ends.
func New(t testing.TB) *Server {
	s := Start()
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake outside a test (the sandbox); the caller closes it.
func Start() *Server {
	s := &Server{keys: map[string]*key{}, names: map[string]string{}, calls: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AddSigningKey generates an RSA-2048 key pair under a new key id and
// returns the key's ARN. Aliases (without "alias/") name it too.
func (s *Server) AddSigningKey(aliases ...string) (string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := fmt.Sprintf("1234abcd-12ab-34cd-56ef-%012d", len(s.keys)+1)
	s.keys[id] = &key{id: id, priv: priv}
	arn := s.arn(id)
	s.names[id], s.names[arn] = id, id
	for _, a := range aliases {
		s.names["alias/"+a] = id
		s.names[fmt.Sprintf("arn:aws:kms:%s:%s:alias/%s", Region, Account, a)] = id
	}
	return arn, nil
}

// PublicKey returns a key's public half, for a test to verify signatures.
func (s *Server) PublicKey(keyID string) *rsa.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[s.names[keyID]]; k != nil {
		return &k.priv.PublicKey
	}
	return nil
}

// Disable disables a key: GetPublicKey and Sign then answer
// DisabledException.
func (s *Server) Disable(keyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.keys[s.names[keyID]]; k != nil {
		k.disabled = true
	}
}

// Client is the real aws-sdk-go-v2 KMS client pointed at the fake, with
// static test credentials and the SDK's default retryer.
func (s *Server) Client() *kms.Client {
	return kms.New(kms.Options{Region: Region, BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
}

// Calls returns how many calls of an operation were received.
func (s *Server) Calls(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[operation]
}

func (s *Server) arn(id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", Region, Account, id)
}

// apiError is an AWS JSON 1.1 error: {"__type": code, "message": ...}.
type apiError struct {
	status int
	code   string
	msg    string
}

// injected is the answer of a fault rule that fired, as botocore's kms model
// names the errors: ThrottlingException is KMS's request-rate error (400,
// retried by the SDK as a throttle), KMSInternalException is a 500 (retried),
// NotFoundException, KMSInvalidStateException (a key in the wrong state) and
// ValidationException are 400s; AccessDeniedException is an AWS common error
// (400).
func injected(r fault.Rule) *apiError {
	e := &apiError{status: http.StatusBadRequest, code: r.Code}
	if e.code == "" {
		switch r.Kind {
		case fault.Throttle:
			e.code = "ThrottlingException"
		case fault.Invalid:
			e.code = "ValidationException"
		case fault.Denied:
			e.code = "AccessDeniedException"
		case fault.NotFound:
			e.code = "NotFoundException"
		case fault.Conflict:
			e.code = "KMSInvalidStateException"
		default:
			e.code, e.status = "KMSInternalException", http.StatusInternalServerError
		}
	}
	if r.Status != 0 {
		e.status = r.Status
	}
	e.msg = r.MessageOr(e.code)
	return e
}

// signingAlgorithms are the algorithms of an RSA signing key, with their
// hashes (KMS API Reference, "Key spec reference: RSA key specs").
var signingAlgorithms = map[string]crypto.Hash{
	"RSASSA_PKCS1_V1_5_SHA_256": crypto.SHA256,
	"RSASSA_PKCS1_V1_5_SHA_384": crypto.SHA384,
	"RSASSA_PKCS1_V1_5_SHA_512": crypto.SHA512,
	"RSASSA_PSS_SHA_256":        crypto.SHA256,
	"RSASSA_PSS_SHA_384":        crypto.SHA384,
	"RSASSA_PSS_SHA_512":        crypto.SHA512,
}

// algorithmNames is GetPublicKey's SigningAlgorithms: the keys of
// signingAlgorithms, sorted (the order of the list above).
var algorithmNames = slices.Sorted(maps.Keys(signingAlgorithms))

type request struct {
	KeyID            string `json:"KeyId"`
	Message          []byte // base64 on the wire, as encoding/json encodes []byte
	MessageType      string
	SigningAlgorithm string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	if r.Method != http.MethodPost || !ok {
		writeErr(w, &apiError{http.StatusBadRequest, "UnknownOperationException", "not a KMS JSON 1.1 call"})
		return
	}
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
	if f, fire := s.Faults.TakeOp(op); fire {
		writeErr(w, injected(f))
		return
	}
	body, err := io.ReadAll(r.Body)
	var req request
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeErr(w, &apiError{http.StatusBadRequest, "SerializationException", "the request body is not JSON"})
		return
	}
	out, aerr := s.call(op, req)
	if aerr != nil {
		writeErr(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *Server) call(op string, req request) (any, *apiError) {
	s.mu.Lock()
	k := s.keys[s.names[req.KeyID]]
	s.mu.Unlock()
	switch {
	case op != "GetPublicKey" && op != "Sign":
		return nil, &apiError{http.StatusBadRequest, "UnknownOperationException", op + " is not implemented by the fake"}
	case req.KeyID == "":
		return nil, &apiError{http.StatusBadRequest, "ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"}
	case k == nil:
		return nil, &apiError{http.StatusBadRequest, "NotFoundException", fmt.Sprintf("Key '%s' does not exist", req.KeyID)}
	case k.disabled:
		return nil, &apiError{http.StatusBadRequest, "DisabledException", s.arn(k.id) + " is disabled."}
	}
	if op == "GetPublicKey" {
		der, err := x509.MarshalPKIXPublicKey(&k.priv.PublicKey)
		if err != nil {
			return nil, &apiError{http.StatusInternalServerError, "KMSInternalException", err.Error()}
		}
		return map[string]any{"KeyId": s.arn(k.id), "PublicKey": der, "KeySpec": "RSA_2048",
			"CustomerMasterKeySpec": "RSA_2048", "KeyUsage": "SIGN_VERIFY", "SigningAlgorithms": algorithmNames}, nil
	}
	hash, ok := signingAlgorithms[req.SigningAlgorithm]
	if !ok {
		return nil, &apiError{http.StatusBadRequest, "InvalidKeyUsageException",
			fmt.Sprintf("The signing algorithm %q is not supported by %s", req.SigningAlgorithm, s.arn(k.id))}
	}
	if n := len(req.Message); n < 1 || n > 4096 {
		return nil, &apiError{http.StatusBadRequest, "ValidationException", "Message must be from 1 to 4096 bytes"}
	}
	digest := req.Message
	switch req.MessageType {
	case "", "RAW": // RAW is the default (Sign: MessageType)
		h := hash.New()
		h.Write(req.Message)
		digest = h.Sum(nil)
	case "DIGEST":
		if len(digest) != hash.Size() {
			return nil, &apiError{http.StatusBadRequest, "ValidationException",
				fmt.Sprintf("Digest is invalid length for algorithm %s.", req.SigningAlgorithm)}
		}
	default:
		return nil, &apiError{http.StatusBadRequest, "ValidationException", "MessageType must be RAW or DIGEST"}
	}
	var sig []byte
	var err error
	if strings.HasPrefix(req.SigningAlgorithm, "RSASSA_PSS") {
		sig, err = rsa.SignPSS(rand.Reader, k.priv, hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	} else {
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.priv, hash, digest)
	}
	if err != nil {
		return nil, &apiError{http.StatusInternalServerError, "KMSInternalException", err.Error()}
	}
	return map[string]any{"KeyId": s.arn(k.id), "Signature": sig, "SigningAlgorithm": req.SigningAlgorithm}, nil
}

func writeErr(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}
