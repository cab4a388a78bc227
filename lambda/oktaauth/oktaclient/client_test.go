package oktaclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
)

func fastOptions() oktaclient.Options {
	return oktaclient.Options{
		InsecureHTTPForTests: true,
		RateLimitMaxBackoff:  5 * time.Second,
		Retry:                oktaclient.RetryTransport{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond},
	}
}

// Not parallel: it changes HOME and the environment.
func TestNewIgnoresOktaYamlAndOktaEnvironment(t *testing.T) {
	fake := fakeokta.New(t, fakeokta.Options{})
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request went to the org from okta.yaml / the environment: %s %s", r.Method, r.URL)
	}))
	defer hostile.Close()

	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, ".okta"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, ".okta", "okta.yaml"), []byte(`
okta:
  client:
    orgUrl: "`+hostile.URL+`"
    token: "00fromyaml"
    authorizationMode: "Bearer"
    clientId: "0oafromyaml"
    scopes: ["okta.users.manage"]
    privateKey: "/etc/passwd"
    privateKeyId: "kid-from-yaml"
    clientAssertion: "eyJ.from.yaml"
    requestTimeout: 1
    connectionTimeout: 1
    cache:
      enabled: true
      defaultTtl: 9999
    rateLimit:
      maxRetries: 0
      maxBackoff: 9999
    proxy:
      host: "proxy.example.com"
      port: 3128
  testing:
    disableHttpsCheck: true
`), 0o600))
	t.Setenv("HOME", home)
	t.Setenv("OKTA_CLIENT_ORGURL", hostile.URL)
	t.Setenv("OKTA_CLIENT_TOKEN", "00fromenv")
	t.Setenv("OKTA_CLIENT_CACHE_ENABLED", "true")
	t.Setenv("OKTA_CLIENT_AUTHORIZATIONMODE", "JWT")
	t.Setenv("OKTA_CLIENT_PRIVATEKEY", "-----BEGIN RSA PRIVATE KEY-----from env")
	t.Setenv("OKTA_TESTING_DISABLE_HTTPS_CHECK", "true")
	t.Setenv("OKTA_CLIENT_RATE_LIMIT_MAX_RETRIES", "0")

	t.Run("API token", func(t *testing.T) {
		c, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, fastOptions())
		require.NoError(t, err)
		cfg := c.GetConfig()
		assert.Equal(t, fake.URL, cfg.Okta.Client.OrgUrl)
		assert.Equal(t, "SSWS", cfg.Okta.Client.AuthorizationMode)
		assert.Equal(t, fakeokta.DefaultAPIToken, cfg.Okta.Client.Token)
		assert.False(t, cfg.Okta.Client.Cache.Enabled)
		assert.Equal(t, int64(300), cfg.Okta.Client.RequestTimeout)
		assert.Equal(t, int64(30), cfg.Okta.Client.ConnectionTimeout)
		assert.Equal(t, int32(4), cfg.Okta.Client.RateLimit.MaxRetries)
		assert.Equal(t, int64(5), cfg.Okta.Client.RateLimit.MaxBackoff)
		assert.Empty(t, cfg.Okta.Client.ClientId)
		assert.Empty(t, cfg.Okta.Client.Scopes)
		assert.Empty(t, cfg.Okta.Client.PrivateKey)
		assert.Empty(t, cfg.Okta.Client.PrivateKeyId)
		assert.Empty(t, cfg.Okta.Client.ClientAssertion)
		assert.Empty(t, cfg.Okta.Client.Proxy.Host)

		_, _, err = c.AuthorizationServer.ListAuthorizationServers(context.Background(), nil)
		require.NoError(t, err, "the fake accepts only our token")
		// With the cache off, a second read goes to Okta again.
		_, _, err = c.AuthorizationServer.ListAuthorizationServers(context.Background(), nil)
		require.NoError(t, err)
		assert.Len(t, fake.RequestsMatching("GET", "/api/v1/authorizationServers"), 2)
	})

	t.Run("private key", func(t *testing.T) {
		pemKey, key := rsaPEM(t, true)
		fake.RegisterServiceApp("0oaServiceApp", &key.PublicKey, oktaclient.DefaultScopes...)
		c, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{ClientID: "0oaServiceApp", PrivateKey: pemKey, KeyID: "kid-1"}, fastOptions())
		require.NoError(t, err)
		cfg := c.GetConfig()
		// The SDK runs in its static Bearer mode with a placeholder: the
		// service-app transport under it holds the key and the real token.
		assert.Equal(t, "Bearer", cfg.Okta.Client.AuthorizationMode)
		assert.Equal(t, "0oaServiceApp", cfg.Okta.Client.ClientId)
		assert.Empty(t, cfg.Okta.Client.Scopes)
		assert.NotContains(t, cfg.Okta.Client.Token, "00from", "no token from okta.yaml or the environment")
		assert.Empty(t, cfg.Okta.Client.PrivateKey, "only our signer holds the key")
		assert.Nil(t, cfg.PrivateKeySigner)
		assert.Empty(t, cfg.Okta.Client.PrivateKeyId)
		_, _, err = c.Application.ListApplications(context.Background(), nil)
		require.NoError(t, err)
		for _, r := range fake.RequestsMatching("GET", "/api/v1/apps") {
			assert.Equal(t, "DPoP", r.AuthScheme, "the token the fake issued, not the placeholder")
		}
	})

	t.Run("https is required outside tests", func(t *testing.T) {
		opts := fastOptions()
		opts.InsecureHTTPForTests = false
		_, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{APIToken: "x"}, opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "must be an https URL")
	})
}

func TestNewRejectsBadOrgURLs(t *testing.T) {
	for _, u := range []string{"", "example.okta.com", "https://example.okta.com/oauth2/default", "https://example.okta.com?x=1", "ftp://example.okta.com", "https://example-admin.okta.com"} {
		_, err := oktaclient.New(context.Background(), u, oktaclient.Credentials{APIToken: "x"}, oktaclient.Options{})
		assert.Error(t, err, u)
	}
}

func TestRateLimitWaitsUntilTheReset(t *testing.T) {
	cases := []struct {
		name    string
		resetIn int
		minWait time.Duration
		maxWait time.Duration
	}{
		{"window already reset: retried at once", 0, 0, 900 * time.Millisecond},
		{"reset one second ahead: waited for", 1, 950 * time.Millisecond, 3 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakeokta.New(t, fakeokta.Options{})
			f := fake.Faults.Add(fault.Rule{Op: "GET /api/v1/apps", Kind: fault.Throttle, RetryAfter: time.Duration(tc.resetIn) * time.Second})
			c, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, fastOptions())
			require.NoError(t, err)
			start := time.Now()
			_, _, err = c.Application.ListApplications(context.Background(), nil)
			elapsed := time.Since(start)
			require.NoError(t, err)
			assert.Equal(t, 1, fake.Faults.Fired(f))
			reqs := fake.RequestsMatching("GET", "/api/v1/apps")
			require.Len(t, reqs, 2)
			assert.Equal(t, http.StatusTooManyRequests, reqs[0].Status)
			assert.Equal(t, "1", reqs[1].RetryCount, "the SDK marks its rate-limit retry")
			assert.GreaterOrEqual(t, elapsed, tc.minWait)
			assert.Less(t, elapsed, tc.maxWait)
		})
	}
}

func TestRateLimitRetriesAreBounded(t *testing.T) {
	fake := fakeokta.New(t, fakeokta.Options{})
	fake.Faults.Add(fault.Rule{Op: "GET /api/v1/apps", Times: 100, Kind: fault.Throttle})
	c, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, fastOptions())
	require.NoError(t, err)
	_, _, err = c.Application.ListApplications(context.Background(), nil)
	require.Error(t, err)
	assert.Len(t, fake.RequestsMatching("GET", "/api/v1/apps"), 5, "the first try and 4 retries")
}

func TestServerErrorsAreRetriedUnderTheSDK(t *testing.T) {
	fake := fakeokta.New(t, fakeokta.Options{})
	f := fake.Faults.Add(fault.Rule{Op: "GET /api/v1/apps", Times: 3, Kind: fault.ServerError})
	c, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, fastOptions())
	require.NoError(t, err)
	_, _, err = c.Application.ListApplications(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, 3, fake.Faults.Fired(f))
}

func TestEachAttemptIsBoundedByTheAttemptTimeout(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	opts := fastOptions()
	opts.AttemptTimeout = 100 * time.Millisecond
	opts.Retry.MaxAttempts = 2
	c, err := oktaclient.New(context.Background(), slow.URL, oktaclient.Credentials{APIToken: "x"}, opts)
	require.NoError(t, err)
	start := time.Now()
	_, _, err = c.Application.ListApplications(context.Background(), nil)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// The attempt timeout bounds each attempt, not all of them together: slow 5xx
// answers whose sum exceeds it are still retried to success, and an attempt
// that hangs is abandoned and retried.
func TestTheAttemptTimeoutIsPerAttempt(t *testing.T) {
	t.Run("slow 5xx answers adding up to more than one attempt's time", func(t *testing.T) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			if calls.Add(1) <= 3 {
				time.Sleep(120 * time.Millisecond)
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"errorCode":"E0000010","errorSummary":"Service is temporarily unavailable"}`))
				return
			}
			_, _ = w.Write([]byte(`[]`))
		}))
		defer srv.Close()
		opts := fastOptions()
		opts.AttemptTimeout = 300 * time.Millisecond // < 3 x 120 ms
		c, err := oktaclient.New(context.Background(), srv.URL, oktaclient.Credentials{APIToken: "x"}, opts)
		require.NoError(t, err)
		_, _, err = c.Application.ListApplications(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, int32(4), calls.Load())
	})
	t.Run("a hanging attempt is cut at the attempt timeout and retried", func(t *testing.T) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`[]`))
		}))
		defer srv.Close()
		opts := fastOptions()
		opts.AttemptTimeout = 100 * time.Millisecond
		c, err := oktaclient.New(context.Background(), srv.URL, oktaclient.Credentials{APIToken: "x"}, opts)
		require.NoError(t, err)
		start := time.Now()
		_, _, err = c.Application.ListApplications(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, int32(2), calls.Load())
		assert.Less(t, time.Since(start), 2*time.Second)
	})
	t.Run("a create (POST) that hangs is not repeated", func(t *testing.T) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leaving
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}))
		defer srv.Close()
		opts := fastOptions()
		opts.AttemptTimeout = 100 * time.Millisecond
		c, err := oktaclient.New(context.Background(), srv.URL, oktaclient.Credentials{APIToken: "x"}, opts)
		require.NoError(t, err)
		_, _, err = c.AuthorizationServer.CreateAuthorizationServer(context.Background(), okta.AuthorizationServer{Name: "x"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "attempt timed out")
		assert.Equal(t, int32(1), calls.Load())
	})
}

// eofAfter carries requests to the fake and, for those matching method and
// path, drops the answer and returns io.EOF (up to n times; -1 for always):
// the connection ended after Okta had carried the request out.
type eofAfter struct {
	method, path string
	n            int
	mu           sync.Mutex
	calls        int
}

func (e *eofAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.Method != e.method || r.URL.Path != e.path {
		return resp, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if e.n == 0 {
		return resp, nil
	}
	if e.n > 0 {
		e.n--
	}
	_ = resp.Body.Close()
	return nil, io.EOF
}

// okta-sdk-golang v2 sends any request cut off by an EOF again, at once and
// without limit (requestExecutor.go doWithRetries); New's client does not.
func TestAConnectionEndingInEOFIsNotResentByTheSDK(t *testing.T) {
	t.Run("a create is sent once and fails, so that no duplicate is made", func(t *testing.T) {
		fake := fakeokta.New(t, fakeokta.Options{})
		tr := &eofAfter{method: "POST", path: "/api/v1/authorizationServers", n: 1}
		opts := fastOptions()
		opts.Transport = tr
		c, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, opts)
		require.NoError(t, err)
		_, _, err = c.AuthorizationServer.CreateAuthorizationServer(context.Background(),
			okta.AuthorizationServer{Name: "once", Audiences: []string{"api://once"}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not sent again")
		assert.False(t, errors.Is(err, io.EOF), "an EOF would make the SDK send it again")
		assert.Len(t, fake.RequestsMatching("POST", "/api/v1/authorizationServers"), 1)
		assert.Len(t, fake.AuthorizationServers(), 1, "Okta made it once; the caller's cleanup finds it")
	})
	t.Run("a read is retried by the retry layer and succeeds", func(t *testing.T) {
		fake := fakeokta.New(t, fakeokta.Options{})
		tr := &eofAfter{method: "GET", path: "/api/v1/apps", n: 2}
		opts := fastOptions()
		opts.Transport = tr
		c, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, opts)
		require.NoError(t, err)
		_, _, err = c.Application.ListApplications(context.Background(), nil)
		require.NoError(t, err)
		assert.Equal(t, 3, tr.calls)
	})
	t.Run("a read that keeps ending in EOF stops after the retry layer's attempts", func(t *testing.T) {
		fake := fakeokta.New(t, fakeokta.Options{})
		tr := &eofAfter{method: "GET", path: "/api/v1/apps", n: -1}
		opts := fastOptions()
		opts.Transport = tr
		opts.Retry.MaxAttempts = 3
		opts.RequestTimeout = 2 * time.Second // bounds the SDK's own loop if it ran
		c, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, opts)
		require.NoError(t, err)
		_, _, err = c.Application.ListApplications(context.Background(), nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "after 3 attempts")
		assert.Equal(t, 3, tr.calls)
	})
}
