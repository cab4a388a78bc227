package oktaclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryTransport is an http.RoundTripper that retries Okta's transient server
// errors (5xx) with capped exponential backoff and jitter.
//
// okta-sdk-golang/v2 retries only HTTP 429 (waiting until X-Rate-Limit-Reset) and
// io.EOF; a 500/502/503/504 reaches the caller at once. Its EOF retry is
// switched off by this transport (see hideEOF). This transport sits under
// the SDK, so the SDK's 429 handling keeps working on top of it: a 429 passes
// through untouched.
//
// Not every 5xx is safe to repeat. A 503 means the request was not processed, so
// it is retried for every method. Other 5xx (and transport errors) are retried
// only for requests whose repetition cannot create a duplicate: GET, HEAD,
// OPTIONS, PUT, DELETE, Okta's lifecycle POSTs (activate/deactivate) and the
// OAuth token request. A create (POST) that failed with a 500 might have been
// carried out; repeating it could leave a duplicate scope or app behind, so that
// error surfaces and the reconciler's cleanup handles it instead.
type RetryTransport struct {
	// Next performs the requests. Nil means http.DefaultTransport.
	Next http.RoundTripper
	// MaxAttempts is the total number of attempts, the first included. Default: 5.
	MaxAttempts int
	// BaseDelay is the wait before the first retry; it doubles on each retry.
	// Default: 250ms.
	BaseDelay time.Duration
	// MaxDelay caps one wait, including a server's Retry-After. Default: 8s.
	MaxDelay time.Duration
	// AttemptTimeout bounds each attempt, reading its response body included
	// (a context with this timeout per try). An attempt that runs out of time is
	// retried like a connection error. Zero means no per-attempt bound. It is
	// applied here, not as http.Client.Timeout, because that would bound all
	// the attempts together and cut the 5xx retries short; the bound on the whole
	// call is the request's context (the SDK's request timeout).
	AttemptTimeout time.Duration
	// OnRetry, when set, is told about each retry before the wait (for logging).
	// It must not log request bodies or headers: they can carry credentials.
	OnRetry func(req *http.Request, attempt int, status int, err error, wait time.Duration)
}

const (
	defaultMaxAttempts = 5
	defaultBaseDelay   = 250 * time.Millisecond
	defaultMaxDelay    = 8 * time.Second
)

// RoundTrip implements http.RoundTripper.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.Next
	if next == nil {
		next = http.DefaultTransport
	}
	maxAttempts := t.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = defaultMaxAttempts
	}

	// The body is read once and replayed: a retry needs the same bytes again and
	// the SDK's bodies are small JSON documents.
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}

	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if t.AttemptTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, t.AttemptTimeout)
		}
		try := req.Clone(actx)
		if body != nil {
			try.Body = io.NopCloser(bytes.NewReader(body))
			try.ContentLength = int64(len(body))
			try.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		resp, err := next.RoundTrip(try)
		if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			// This attempt's own time ran out, not the caller's: a transport error.
			err = &attemptTimeoutError{timeout: t.AttemptTimeout, err: err}
		}

		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		if attempt >= maxAttempts || !t.shouldRetry(ctx, req, status, err) {
			if resp != nil {
				// The attempt's context lives until the body is closed.
				resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
			} else {
				cancel()
			}
			return resp, hideEOF(req, attempt, err)
		}
		wait := t.delay(attempt, resp)
		if resp != nil {
			// Drain a little so the connection can be reused, then let it go.
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		cancel()
		if t.OnRetry != nil {
			t.OnRetry(req, attempt, status, err, wait)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("%s %s: giving up after %d attempts: %w", req.Method, req.URL.Path, attempt, ctx.Err())
		case <-timer.C:
		}
	}
}

func (t *RetryTransport) shouldRetry(ctx context.Context, req *http.Request, status int, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		var timedOut *attemptTimeoutError
		if !errors.As(err, &timedOut) && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			return false
		}
		return repeatable(req)
	}
	switch status {
	case http.StatusServiceUnavailable:
		return true
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return repeatable(req)
	}
	return false
}

// repeatable reports whether sending req twice has the same effect as once.
func repeatable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPost:
		p := req.URL.Path
		return strings.Contains(p, "/lifecycle/") || strings.HasSuffix(p, "/oauth2/v1/token")
	}
	return false
}

// delay is the capped exponential backoff with "equal jitter" (half fixed, half
// random), so that many handlers retrying at once spread out. A Retry-After
// header in seconds, when present, wins (still capped).
func (t *RetryTransport) delay(attempt int, resp *http.Response) time.Duration {
	base, maxDelay := t.BaseDelay, t.MaxDelay
	if base <= 0 {
		base = defaultBaseDelay
	}
	if maxDelay <= 0 {
		maxDelay = defaultMaxDelay
	}
	if resp != nil {
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, maxDelay)
		}
	}
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	d = min(d, maxDelay)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// hideEOF keeps okta-sdk-golang v2 from sending a request again when its
// connection ended before the answer (io.EOF). The SDK's doWithRetries
// (okta/requestExecutor.go, "retry on EOF errors") repeats any request whose
// error Is io.EOF, creates included, at once and with no limit but the
// request timeout: its oktaBackoff counts only 429s, and no option of the SDK
// changes that (the rate-limit options bound 429 retries only). A create that
// Okta carried out before the connection ended would be made twice. So the
// error this transport finally returns never matches io.EOF: a repeatable
// request has had this transport's own bounded retries, and a create surfaces
// as a failure that the reconciler's cleanup handles (it finds what was made
// by name and ownership marker).
func hideEOF(req *http.Request, attempts int, err error) error {
	if err == nil || !errors.Is(err, io.EOF) {
		return err
	}
	return &connectionEndedError{method: req.Method, path: req.URL.Path, attempts: attempts, cause: err.Error()}
}

// connectionEndedError is a request whose connection ended before Okta's
// answer. It deliberately does not unwrap to io.EOF (see hideEOF).
type connectionEndedError struct {
	method, path string
	attempts     int
	cause        string
}

func (e *connectionEndedError) Error() string {
	what := "not sent again: Okta may have carried it out"
	if e.attempts > 1 {
		what = fmt.Sprintf("after %d attempts", e.attempts)
	}
	return fmt.Sprintf("%s %s: the connection ended before Okta answered (%s): %s", e.method, e.path, what, e.cause)
}

// attemptTimeoutError is one attempt running out of its AttemptTimeout.
type attemptTimeoutError struct {
	timeout time.Duration
	err     error
}

func (e *attemptTimeoutError) Error() string {
	return fmt.Sprintf("attempt timed out after %s: %v", e.timeout, e.err)
}

// Unwrap keeps the cause (context.DeadlineExceeded) visible to callers.
func (e *attemptTimeoutError) Unwrap() error { return e.err }

// cancelOnClose releases an attempt's context when its response body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// readBody reads and closes req's body, so a transport that sends the request
// more than once can replay the same bytes; the SDK's bodies are small JSON
// documents. A request without a body gives nil.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return body, nil
}
