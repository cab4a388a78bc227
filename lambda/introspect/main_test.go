package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxBinaryBytes is the budget for the stripped linux/arm64 bootstrap.
const maxBinaryBytes = 8_000_000

var (
	buildMu  sync.Mutex
	buildDir string
	builds   = map[string]string{} // GOARCH -> binary
)

// TestMain removes the binaries the tests and benchmarks built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// build compiles this package exactly as the Lambda asset is built, once per
// architecture and test binary (a benchmark function runs several times), and
// returns the binary's path.
func build(tb testing.TB, goarch string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := builds[goarch]; ok {
		return bin
	}
	if _, err := exec.LookPath("go"); err != nil {
		tb.Skip("no go command to build the bootstrap with")
	}
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "introspect-bootstrap-")
		require.NoError(tb, err)
		buildDir = dir
	}
	out := filepath.Join(buildDir, goarch, "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-mod=readonly", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	msg, err := cmd.CombinedOutput()
	require.NoError(tb, err, "go build: %s", msg)
	builds[goarch] = out
	return out
}

func TestTheArm64BootstrapFitsTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the linux/arm64 bootstrap (a few seconds); skipped with -short")
	}
	info, err := os.Stat(build(t, "arm64"))
	require.NoError(t, err)
	t.Logf("stripped linux/arm64 bootstrap: %d bytes (%.2f MB)", info.Size(), float64(info.Size())/1e6)
	assert.Less(t, info.Size(), int64(maxBinaryBytes))
}

func TestTheBootstrapAnswersThroughTheRuntimeAPI(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("builds and runs the linux bootstrap; skipped with -short or off linux")
	}
	bin := build(t, runtime.GOARCH)
	keys := newJWKS(t)
	for _, tc := range []struct {
		name, token, want string
	}{
		{"a valid token", keys.token(t), `"isAuthorized":"true"`},
		{"garbage", "garbage", `"isAuthorized":"false"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			took, body := coldStart(t, bin, keys, tc.token)
			assert.Contains(t, body, tc.want)
			assert.Contains(t, body, `"iamRoleARN":"`+roleARN+`"`)
			t.Logf("process start to answer: %v", took)
		})
	}
}

// BenchmarkColdStart measures process start to the first answer received by a
// fake Lambda Runtime API, with the JWK Set on loopback. Target: under 50 ms.
func BenchmarkColdStart(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("runs the linux bootstrap")
	}
	bin := build(b, runtime.GOARCH)
	keys := newJWKS(b)
	tok := keys.token(b)
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		took, body := coldStart(b, bin, keys, tok)
		if !strings.Contains(body, `"isAuthorized":"true"`) {
			b.Fatalf("unexpected answer: %s", body)
		}
		total += took
	}
	// ns/op is process start to answer, without the harness around it (fake
	// servers, killing the process), which the benchmark clock also saw.
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/op")
	b.ReportMetric(total.Seconds()*1000/float64(b.N), "ms/start")
}

const (
	issuer   = "https://example.okta.com/oauth2/default"
	roleARN  = "arn:aws:iam::123456789012:role/HealthLakeSmartAccess"
	endpoint = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"
)

// coldStart starts the bootstrap against a fresh fake Runtime API, sends one
// event, and returns the time from process start to the answer and the answer.
func coldStart(tb testing.TB, bin string, keys *jwks, token string) (time.Duration, string) {
	tb.Helper()
	event, err := json.Marshal(map[string]any{
		"datastoreEndpoint": endpoint, "bearerToken": token, "operationName": "SearchWithGet", "datastoreId": "0123",
	})
	require.NoError(tb, err)
	rt := newRuntimeAPI(tb, event)
	defer rt.close()

	cmd := exec.Command(bin)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(rt.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=introspect", "AWS_REGION=us-east-1",
		"SMART_ISSUER=" + issuer, "SMART_JWKS_URL=" + keys.URL + "/keys", "HEALTHLAKE_ROLE_ARN=" + roleARN,
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	require.NoError(tb, cmd.Start())
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	select {
	case a := <-rt.answers:
		return a.at.Sub(start), a.body
	case <-time.After(10 * time.Second):
		tb.Fatal("no answer from the bootstrap within 10 s")
		return 0, ""
	}
}

type answer struct {
	at   time.Time
	body string
}

// runtimeAPI is the part of the Lambda Runtime API a Go function uses: it hands
// out one invocation, then holds further "next" calls until the process ends.
type runtimeAPI struct {
	*httptest.Server
	answers chan answer
	served  sync.Once
	done    chan struct{}
}

func newRuntimeAPI(tb testing.TB, event []byte) *runtimeAPI {
	rt := &runtimeAPI{answers: make(chan answer, 1), done: make(chan struct{})}
	const prefix = "/2018-06-01/runtime/"
	rt.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == prefix+"invocation/next":
			first := false
			rt.served.Do(func() { first = true })
			if !first {
				select { // the next invocation never comes
				case <-r.Context().Done():
				case <-rt.done:
				}
				return
			}
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "req-1")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(3*time.Second).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:introspect")
			w.Header().Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
			_, _ = w.Write(event)
		case r.Method == http.MethodPost && r.URL.Path == prefix+"invocation/req-1/response":
			at := time.Now()
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			rt.answers <- answer{at: at, body: string(body)}
		default: // invocation or init errors
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			rt.answers <- answer{at: time.Now(), body: fmt.Sprintf("unexpected %s %s: %s", r.Method, r.URL.Path, body)}
		}
	}))
	return rt
}

func (rt *runtimeAPI) close() {
	close(rt.done)
	rt.Close()
}

// jwks serves one RSA key on loopback and signs tokens with it.
type jwks struct {
	*httptest.Server
	key *rsa.PrivateKey
}

func newJWKS(tb testing.TB) *jwks {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(tb, err)
	b64 := base64.RawURLEncoding.EncodeToString
	set, err := json.Marshal(map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	require.NoError(tb, err)
	j := &jwks{key: key}
	j.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(set)
	}))
	tb.Cleanup(j.Close)
	return j
}

func (j *jwks) token(tb testing.TB) string {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss": issuer, "aud": endpoint, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"sub": "jane.doe@example.com", "uid": "00u1", "scp": []string{"launch/patient", "patient/Observation.rs"},
		"launch_response_patient": "p-1", // patient/ scopes count only with a patient context
	})
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(j.key)
	require.NoError(tb, err)
	return s
}
