package providerframework

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// responseHost is the host of CloudFormation's pre-signed response URLs in
// us-east-1.
const responseHost = "cloudformation-custom-resource-response-useast1.s3.amazonaws.com"

// Response is what the framework PUT to a request's pre-signed URL: the
// custom resource response object of the CloudFormation User Guide
// ("Custom resource response objects").
type Response struct {
	Status             string         `json:"Status"`
	Reason             string         `json:"Reason"`
	PhysicalResourceID string         `json:"PhysicalResourceId"`
	StackID            string         `json:"StackId"`
	RequestID          string         `json:"RequestId"`
	LogicalResourceID  string         `json:"LogicalResourceId"`
	NoEcho             bool           `json:"NoEcho"`
	Data               map[string]any `json:"Data"`
	// Size is the body's length in bytes; CloudFormation refuses more than 4096.
	Size int `json:"-"`
	// Body is the body as sent.
	Body []byte `json:"-"`
}

// maxResponseBytes is CloudFormation's limit on a response body.
const maxResponseBytes = 4096

// responseBucket stands in for S3 behind the pre-signed URLs: an HTTPS
// server on loopback with a certificate for responseHost, generated per
// harness and trusted by the framework's Node processes through
// NODE_EXTRA_CA_CERTS. A PUT is accepted only on a URL it issued, path and
// query exactly (a pre-signed URL is valid only as signed), as S3 answers
// 403 SignatureDoesNotMatch otherwise.
type responseBucket struct {
	srv    *http.Server
	addr   string
	caFile string

	mu      sync.Mutex
	issued  map[string]string // request URI -> request id
	got     map[string][]Response
	waiters map[string]chan Response
	refused []string
}

func newResponseBucket(dir string) (*responseBucket, error) {
	certPEM, keyPEM, err := selfSignedCert(responseHost)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "response-ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o644); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &responseBucket{
		addr: ln.Addr().String(), caFile: caFile,
		issued: map[string]string{}, got: map[string][]Response{}, waiters: map[string]chan Response{},
	}
	b.srv = &http.Server{Handler: http.HandlerFunc(b.serve), ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = b.srv.ServeTLS(ln, "", "") }()
	return b, nil
}

func (b *responseBucket) close() { _ = b.srv.Close() }

// presign issues the response URL of one request, shaped like
// CloudFormation's (the stack id, logical id and request id, then a SigV4
// query signature), and returns it with a channel that gets the response.
func (b *responseBucket) presign(stackID, logicalID, requestID string) string {
	sig := make([]byte, 32)
	_, _ = rand.Read(sig)
	path := "/" + url.PathEscape(stackID+"|"+logicalID+"|"+requestID)
	q := url.Values{
		"X-Amz-Algorithm":     {"AWS4-HMAC-SHA256"},
		"X-Amz-Date":          {time.Now().UTC().Format("20060102T150405Z")},
		"X-Amz-SignedHeaders": {"host"},
		"X-Amz-Expires":       {"7200"},
		"X-Amz-Credential":    {"AKIAIOSFODNN7EXAMPLE/" + time.Now().UTC().Format("20060102") + "/us-east-1/s3/aws4_request"},
		"X-Amz-Signature":     {hex.EncodeToString(sig)},
	}
	uri := path + "?" + q.Encode()
	b.mu.Lock()
	b.issued[uri] = requestID
	b.waiters[requestID] = make(chan Response, 16)
	b.mu.Unlock()
	return "https://" + responseHost + uri
}

// wait returns the channel of a request's responses.
func (b *responseBucket) wait(requestID string) chan Response {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters[requestID]
}

// responses returns every response to a request, in order.
func (b *responseBucket) responses(requestID string) []Response {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Response(nil), b.got[requestID]...)
}

func (b *responseBucket) serve(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	requestID, ok := b.issued[r.URL.RequestURI()]
	b.mu.Unlock()
	if r.Method != http.MethodPut || !ok || r.Host != responseHost {
		b.mu.Lock()
		b.refused = append(b.refused, r.Method+" "+r.Host+r.URL.RequestURI())
		b.mu.Unlock()
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code></Error>`)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var resp Response
	if err := json.Unmarshal(body, &resp); err != nil {
		resp = Response{Status: "unparseable", Reason: err.Error()}
	}
	resp.Size, resp.Body = len(body), body
	b.mu.Lock()
	b.got[requestID] = append(b.got[requestID], resp)
	ch := b.waiters[requestID]
	b.mu.Unlock()
	select {
	case ch <- resp:
	default:
	}
	w.WriteHeader(http.StatusOK) // S3's answer to a PUT
}

// selfSignedCert makes a P-256 certificate for host that is its own CA, so
// it can be given to NODE_EXTRA_CA_CERTS as is.
func selfSignedCert(host string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host},
		DNSNames:              []string{host},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("making the response URL's certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}
