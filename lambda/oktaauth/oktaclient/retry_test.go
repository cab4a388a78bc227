package oktaclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
)

// flaky answers the statuses in order (then 200) and records the bodies.
type flaky struct {
	mu       sync.Mutex
	statuses []int
	bodies   []string
	header   http.Header
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, string(b))
	status := http.StatusOK
	if len(f.bodies) <= len(f.statuses) {
		status = f.statuses[len(f.bodies)-1]
	}
	for k, v := range f.header {
		w.Header()[k] = v
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{}`))
}

func (f *flaky) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

func TestRetryTransport(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		path       string
		statuses   []int
		wantCalls  int
		wantStatus int
	}{
		{"GET retried through 500s", "GET", "/api/v1/apps", []int{500, 500}, 3, 200},
		{"GET retried through 502 and 504", "GET", "/api/v1/apps", []int{502, 504}, 3, 200},
		{"PUT is idempotent", "PUT", "/api/v1/apps/0oa1", []int{500}, 2, 200},
		{"DELETE is idempotent", "DELETE", "/api/v1/apps/0oa1", []int{503}, 2, 200},
		{"a lifecycle POST is idempotent", "POST", "/api/v1/apps/0oa1/lifecycle/deactivate", []int{500}, 2, 200},
		{"the token POST is idempotent", "POST", "/oauth2/v1/token", []int{502}, 2, 200},
		{"a creating POST is retried on 503 (not processed)", "POST", "/api/v1/apps", []int{503, 503}, 3, 200},
		{"a creating POST is not retried on 500 (maybe processed)", "POST", "/api/v1/apps", []int{500}, 1, 500},
		{"a creating POST is not retried on 504", "POST", "/api/v1/authorizationServers", []int{504}, 1, 504},
		{"429 is left to the SDK", "GET", "/api/v1/apps", []int{429}, 1, 429},
		{"4xx is final", "PUT", "/api/v1/apps/0oa1", []int{400}, 1, 400},
		{"gives up after MaxAttempts", "GET", "/api/v1/apps", []int{500, 500, 500, 500, 500}, 4, 500},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &flaky{statuses: tc.statuses}
			srv := httptest.NewServer(f)
			defer srv.Close()
			var retries []int
			tr := &oktaclient.RetryTransport{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond,
				OnRetry: func(_ *http.Request, attempt, status int, _ error, _ time.Duration) {
					retries = append(retries, status)
				}}
			body := `{"name":"x"}`
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(body))
			require.NoError(t, err)
			resp, err := (&http.Client{Transport: tr}).Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, tc.wantStatus, resp.StatusCode)
			assert.Equal(t, tc.wantCalls, f.calls())
			assert.Len(t, retries, tc.wantCalls-1)
			for _, b := range f.bodies {
				assert.Equal(t, body, b, "every attempt sends the whole body")
			}
		})
	}
}

func TestRetryTransportStopsWhenTheContextEnds(t *testing.T) {
	f := &flaky{statuses: []int{500, 500, 500, 500, 500, 500}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	tr := &oktaclient.RetryTransport{MaxAttempts: 10, BaseDelay: time.Hour, MaxDelay: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/apps", nil)
	start := time.Now()
	_, err := (&http.Client{Transport: tr}).Do(req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "got %v", err)
	assert.Less(t, time.Since(start), time.Second, "an hour's backoff is cut short by the context")
	assert.Equal(t, 1, f.calls())
}

func TestRetryTransportHonoursRetryAfterWithinTheCap(t *testing.T) {
	f := &flaky{statuses: []int{503}, header: http.Header{"Retry-After": {"120"}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var waits []time.Duration
	tr := &oktaclient.RetryTransport{BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond,
		OnRetry: func(_ *http.Request, _, _ int, _ error, wait time.Duration) { waits = append(waits, wait) }}
	req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, []time.Duration{20 * time.Millisecond}, waits)
}

func TestRetryTransportBackoffGrowsAndIsCapped(t *testing.T) {
	f := &flaky{statuses: []int{500, 500, 500, 500, 500, 500, 500}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	var waits []time.Duration
	tr := &oktaclient.RetryTransport{MaxAttempts: 8, BaseDelay: 2 * time.Millisecond, MaxDelay: 16 * time.Millisecond,
		OnRetry: func(_ *http.Request, _, _ int, _ error, wait time.Duration) { waits = append(waits, wait) }}
	req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Len(t, waits, 7)
	ceilings := []time.Duration{2, 4, 8, 16, 16, 16, 16}
	for i, w := range waits {
		ceiling := ceilings[i] * time.Millisecond
		assert.GreaterOrEqual(t, w, ceiling/2, "retry %d", i+1)
		assert.LessOrEqual(t, w, ceiling, "retry %d", i+1)
	}
}

func TestRetryTransportRetriesConnectionErrorsOnlyWhenRepeatable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // connection refused from now on
	for _, tc := range []struct {
		method string
		calls  int
	}{{"GET", 3}, {"POST", 1}} {
		t.Run(tc.method, func(t *testing.T) {
			var calls int
			tr := &oktaclient.RetryTransport{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond,
				Next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
					calls++
					return http.DefaultTransport.RoundTrip(r)
				})}
			req, _ := http.NewRequest(tc.method, url+"/api/v1/apps", strings.NewReader("{}"))
			_, err := (&http.Client{Transport: tr}).Do(req)
			require.Error(t, err)
			assert.Equal(t, tc.calls, calls)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
