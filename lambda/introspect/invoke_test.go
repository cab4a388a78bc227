package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loopAPI is the Lambda Runtime API for a warm process: it hands out n
// invocations one after another, each with the trace header when traceID is
// set (as Lambda does: Lambda-Runtime-Trace-Id, "Root=...;Parent=...;Sampled=1"
// with active tracing), and records the time from handing out an invocation to
// receiving its answer.
type loopAPI struct {
	*httptest.Server
	traceID string
	n       int

	mu      sync.Mutex
	served  int
	sentAt  map[string]time.Time
	took    []time.Duration
	bodies  []string
	allDone chan struct{}
	done    chan struct{}
}

func newLoopAPI(tb testing.TB, event []byte, n int, traceID string) *loopAPI {
	rt := &loopAPI{traceID: traceID, n: n, sentAt: map[string]time.Time{}, allDone: make(chan struct{}), done: make(chan struct{})}
	const prefix = "/2018-06-01/runtime/"
	rt.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == prefix+"invocation/next":
			rt.mu.Lock()
			if rt.served == rt.n {
				rt.mu.Unlock()
				select { // no more invocations
				case <-r.Context().Done():
				case <-rt.done:
				}
				return
			}
			rt.served++
			id := "req-" + strconv.Itoa(rt.served)
			rt.mu.Unlock()
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", id)
			w.Header().Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(3*time.Second).UnixMilli(), 10))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:introspect")
			if rt.traceID != "" {
				w.Header().Set("Lambda-Runtime-Trace-Id", rt.traceID)
			}
			rt.mu.Lock()
			rt.sentAt[id] = time.Now()
			rt.mu.Unlock()
			_, _ = w.Write(event)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/response"):
			at := time.Now()
			id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix+"invocation/"), "/response")
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			rt.record(id, at, string(body))
		default:
			body, _ := io.ReadAll(r.Body)
			w.WriteHeader(http.StatusAccepted)
			rt.record("", time.Now(), fmt.Sprintf("unexpected %s %s: %s", r.Method, r.URL.Path, body))
		}
	}))
	return rt
}

func (rt *loopAPI) record(id string, at time.Time, body string) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if sent, ok := rt.sentAt[id]; ok {
		rt.took = append(rt.took, at.Sub(sent))
	}
	rt.bodies = append(rt.bodies, body)
	if len(rt.bodies) == rt.n {
		close(rt.allDone)
	}
}

func (rt *loopAPI) close() {
	close(rt.done)
	rt.Close()
}

// warmRun starts the bootstrap with extra environment, serves it n invocations
// of token and returns the answers, the per-invocation times and what the
// process wrote to stdout.
func warmRun(tb testing.TB, bin string, keys *jwks, token string, n int, traceID string, extraEnv ...string) (bodies []string, took []time.Duration, stdout []string) {
	tb.Helper()
	event, err := json.Marshal(map[string]any{
		"datastoreEndpoint": endpoint, "bearerToken": token, "operationName": "SearchWithGet", "datastoreId": "0123",
	})
	require.NoError(tb, err)
	rt := newLoopAPI(tb, event, n, traceID)
	defer rt.close()

	cmd := exec.Command(bin)
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(rt.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=introspect", "AWS_REGION=us-east-1",
		"SMART_ISSUER=" + issuer, "SMART_JWKS_URL=" + keys.URL + "/keys", "HEALTHLAKE_ROLE_ARN=" + roleARN,
	}, extraEnv...)
	out, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	cmd.Stderr = io.Discard
	require.NoError(tb, cmd.Start())
	lines := make(chan []string, 1)
	go func() {
		var all []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			all = append(all, sc.Text())
		}
		lines <- all
	}()
	select {
	case <-rt.allDone:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		tb.Fatal("the bootstrap did not answer every invocation within 60 s")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	stdout = <-lines
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.bodies, rt.took, stdout
}

func decisionLines(stdout []string) int {
	n := 0
	for _, l := range stdout {
		if strings.Contains(l, `"msg":"authorization"`) {
			n++
		}
	}
	return n
}

func TestTheLogLevelLambdaSetsTurnsTheDecisionLinesOff(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("builds and runs the linux bootstrap; skipped with -short or off linux")
	}
	bin := build(t, runtime.GOARCH)
	keys := newJWKS(t)
	tok := keys.token(t)
	for _, c := range []struct {
		level     string
		decisions int
	}{{"", 3}, {"INFO", 3}, {"WARN", 0}, {"ERROR", 0}} {
		t.Run(fmt.Sprintf("AWS_LAMBDA_LOG_LEVEL=%q logs %d decision lines for 3 requests", c.level, c.decisions), func(t *testing.T) {
			var env []string
			if c.level != "" {
				env = append(env, "AWS_LAMBDA_LOG_LEVEL="+c.level)
			}
			bodies, _, stdout := warmRun(t, bin, keys, tok, 3, "", env...)
			for _, b := range bodies {
				assert.Contains(t, b, `"isAuthorized":"true"`, "the level changes the logs, never the answers")
			}
			assert.Equal(t, c.decisions, decisionLines(stdout))
		})
	}
}

// BenchmarkWarmInvokeTraceHeader measures a warm invocation through the real
// Runtime API client (aws-lambda-go), from the fake Runtime API handing out
// the event to receiving the answer (a cached token, so the handler itself
// takes a few microseconds), with and without the Lambda-Runtime-Trace-Id
// header that active tracing makes Lambda send with Sampled=1. aws-lambda-go
// (lambda/invoke_loop.go) reads the header and sets _X_AMZN_TRACE_ID and a
// context value on every invocation, present or not, and this module has no
// X-Ray SDK, so the difference is the in-process cost of tracing: what the
// Lambda service does for a traced request happens outside this process and
// is not measured here.
func BenchmarkWarmInvokeTraceHeader(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("runs the linux bootstrap")
	}
	bin := build(b, runtime.GOARCH)
	keys := newJWKS(b)
	tok := keys.token(b)
	for _, c := range []struct{ name, traceID string }{
		{"no_trace_header", ""},
		{"sampled_trace_header", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"},
	} {
		b.Run(c.name, func(b *testing.B) {
			n := max(b.N, 1) + 1 // the first invocation pays for the JWK Set and the signature check
			bodies, took, _ := warmRun(b, bin, keys, tok, n, c.traceID, "AWS_LAMBDA_LOG_LEVEL=INFO")
			if len(took) != n || !strings.Contains(bodies[len(bodies)-1], `"isAuthorized":"true"`) {
				b.Fatalf("unexpected answers: %d of %d timed, last %q", len(took), n, bodies[len(bodies)-1])
			}
			var total time.Duration
			for _, d := range took[1:] {
				total += d
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(n-1), "ns/op")
			b.ReportMetric(float64(total.Microseconds())/float64(n-1), "us/invoke")
		})
	}
}
