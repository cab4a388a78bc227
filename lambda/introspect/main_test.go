package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/lambdaruntime"
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

// BenchmarkColdStart measures process start to the first answer received by the
// emulated Lambda Runtime API (lambdaruntime), with the JWK Set on loopback.
// Target: under 50 ms.
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

// coldStart starts the bootstrap as a fresh function (lambdaruntime: the
// Lambda Runtime API, emulated) and sends it one event; it returns the time
// from the invocation, process start included, to the answer, and the answer.
func coldStart(tb testing.TB, bin string, keys *jwks, token string) (time.Duration, string) {
	tb.Helper()
	event, err := json.Marshal(map[string]any{
		"datastoreEndpoint": endpoint, "bearerToken": token, "operationName": "SearchWithGet", "datastoreId": "0123",
	})
	require.NoError(tb, err)
	fn, err := lambdaruntime.Start(lambdaruntime.Config{
		Name: "introspect", Command: bin, Handler: "bootstrap", Timeout: 3 * time.Second,
		Env: map[string]string{"SMART_ISSUER": issuer, "SMART_JWKS_URL": keys.URL + "/keys", "HEALTHLAKE_ROLE_ARN": roleARN},
	})
	require.NoError(tb, err)
	defer func() { _ = fn.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	res, err := fn.Invoke(ctx, event)
	took := time.Since(start)
	require.NoError(tb, err, "no answer from the bootstrap")
	if res.FunctionError != "" {
		return took, fmt.Sprintf("unexpected %s error: %s", res.FunctionError, res.Payload)
	}
	return took, string(res.Payload)
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
