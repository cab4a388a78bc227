package idp_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

const rotatedSecret = "r0tated/s3cret+after=re-creation"

// oktaClient is the introspection client as the authorization server knows it:
// its secret changes when the Okta custom resource re-creates the client, and a
// request with another secret is refused with status.
type oktaClient struct {
	mu     sync.Mutex
	secret string
	status int
}

// serveAs makes s's authorization server authenticate against c.
func (c *oktaClient) serveAs(s *introspectionSetup) {
	s.idp.set(func(f *fakeIdP) {
		f.introspect = func(_ url.Values, user, pass string) (int, any) {
			c.mu.Lock()
			ok := user == clientID && pass == c.secret
			status := c.status
			c.mu.Unlock()
			if !ok {
				return status, map[string]any{"error": "invalid_client"}
			}
			return http.StatusOK, s.activeAnswer()
		}
	})
}

func (c *oktaClient) rotate(secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.secret = secret
}

func secretJSON(secret string) string {
	return fmt.Sprintf(`{"client_id": %q, "client_secret": %q}`, clientID, secret)
}

// rotationSetup is an introspection handler without a result cache (every
// request introspects) whose authorization server checks a rotatable secret.
func rotationSetup(t *testing.T, status int, retry time.Duration) (*introspectionSetup, *oktaClient) {
	t.Helper()
	// Every request introspects, many in a row: the per-container call bound is
	// raised out of the way (it has tests of its own).
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{SetupRetryInterval: retry}, validatorenv.EnvIntrospectionCacheTTL, "0",
		validatorenv.EnvIntrospectionRate, "1000")
	okta := &oktaClient{secret: clientSecret, status: status}
	okta.serveAs(s)
	resp, reason := s.call(t, opaqueToken)
	require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	require.Equal(t, 1, s.secrets.Count("GetSecretValue"), "read at start")
	return s, okta
}

// assertNoSecretLogged checks that neither secret, nor a Basic header made of
// them, reached the logs.
func assertNoSecretLogged(t *testing.T, s *introspectionSetup) {
	t.Helper()
	logs := s.logs.String()
	for _, secret := range []string{clientSecret, url.QueryEscape(clientSecret), rotatedSecret, url.QueryEscape(rotatedSecret)} {
		assert.NotContains(t, logs, secret)
	}
	assert.NotContains(t, logs, "Basic ")
	assert.NotContains(t, logs, base64.StdEncoding.EncodeToString([]byte(clientID+":")))
}

// reReadLines returns the log lines about re-reading the secret.
func reReadLines(t *testing.T, s *introspectionSetup) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range s.logs.Lines(t) {
		if l["msg"] == "introspection endpoint rejected the client credentials; secret re-read" {
			out = append(out, l)
		}
	}
	return out
}

func TestARotatedIntrospectionSecretIsReReadWhenTheEndpointRejectsTheOldOne(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			// An hour between re-reads: the first rejection must not wait for one.
			s, okta := rotationSetup(t, status, time.Hour)

			// The client is re-created: Okta knows the new secret, then the custom
			// resource writes it to Secrets Manager.
			okta.rotate(rotatedSecret)
			s.secrets.Put("okta-introspection", secretJSON(rotatedSecret))

			hits := s.idp.introspectHit.Load()
			resp, reason := s.call(t, opaqueToken)
			assert.True(t, bool(resp.AuthPayload.IsAuthorized), "the rejected request is retried with the new secret: %s", reason)
			assert.Equal(t, string(idp.ReasonValid), reason)
			assert.Equal(t, 2, s.secrets.Count("GetSecretValue"), "one re-read")
			assert.Equal(t, hits+2, s.idp.introspectHit.Load(), "the rejected call and one retry")

			for range 10 {
				resp, reason := s.call(t, opaqueToken)
				require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
			}
			assert.Equal(t, 2, s.secrets.Count("GetSecretValue"), "the new secret is kept")
			assert.Equal(t, hits+12, s.idp.introspectHit.Load())

			lines := reReadLines(t, s)
			require.Len(t, lines, 1)
			assert.Equal(t, true, lines[0]["changed"])
			assertNoSecretLogged(t, s)
		})
	}
}

func TestRejectedCredentialsAreReReadAtMostOncePerInterval(t *testing.T) {
	// Wall-clock time: long enough that the flood below fits in one interval
	// on a loaded machine.
	const interval = time.Second
	s, okta := rotationSetup(t, http.StatusUnauthorized, interval)

	// Okta has the new secret; Secrets Manager does not have it yet.
	okta.rotate(rotatedSecret)
	hits := s.idp.introspectHit.Load()
	resp, reason := s.call(t, opaqueToken)
	// The re-read happened during that call: an interval from now is surely
	// an interval after it (taking the time before the call made the test
	// flaky under load).
	reRead := time.Now()
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, string(idp.ReasonIntrospectionFailed), reason)
	assert.Contains(t, s.logs.Last(t)["error"], "HTTP 401")
	assert.Equal(t, 2, s.secrets.Count("GetSecretValue"), "the first rejection re-reads")
	assert.Equal(t, hits+1, s.idp.introspectHit.Load(), "the same secret again: no point in a retry")
	require.Len(t, reReadLines(t, s), 1)
	assert.Equal(t, false, reReadLines(t, s)[0]["changed"])

	// A flood of rejected requests, side by side and one after another.
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := s.Handle(context.Background(), idp.Event{DatastoreEndpoint: endpoint, BearerToken: opaqueToken})
			assert.NoError(t, err)
			assert.False(t, bool(resp.AuthPayload.IsAuthorized))
		})
	}
	wg.Wait()
	for range 5 {
		_, reason := s.call(t, opaqueToken)
		assert.Equal(t, string(idp.ReasonIntrospectionFailed), reason)
	}
	assert.Equal(t, 2, s.secrets.Count("GetSecretValue"), "no second re-read within the interval")

	// The secret reaches Secrets Manager; the next re-read is due one interval
	// after the last.
	s.secrets.Put("okta-introspection", secretJSON(rotatedSecret))
	_, reason = s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonIntrospectionFailed), reason)
	assert.Equal(t, 2, s.secrets.Count("GetSecretValue"))

	time.Sleep(time.Until(reRead.Add(interval)))
	resp, reason = s.call(t, opaqueToken)
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, 3, s.secrets.Count("GetSecretValue"))
	for range 5 {
		resp, reason := s.call(t, opaqueToken)
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	}
	assert.Equal(t, 3, s.secrets.Count("GetSecretValue"))
	assert.Len(t, reReadLines(t, s), 2)
	assertNoSecretLogged(t, s)
}

func TestAFailedReReadIsReportedAndTheHeldSecretKept(t *testing.T) {
	const interval = 200 * time.Millisecond
	s, okta := rotationSetup(t, http.StatusUnauthorized, interval)

	// The secret is rewritten in a shape we cannot use.
	okta.rotate(rotatedSecret)
	s.secrets.Put("okta-introspection", "client_secret="+rotatedSecret)
	resp, reason := s.call(t, opaqueToken)
	reRead := time.Now() // after the call that re-read, as above
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, string(idp.ReasonSecretUnavailable), reason)
	assert.Equal(t, 2, s.secrets.Count("GetSecretValue"))

	// Within the interval, requests use the secret held (still refused) and do
	// not read again.
	_, reason = s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonIntrospectionFailed), reason)
	assert.Equal(t, 2, s.secrets.Count("GetSecretValue"))

	s.secrets.Put("okta-introspection", secretJSON(rotatedSecret))
	time.Sleep(time.Until(reRead.Add(interval)))
	resp, reason = s.call(t, opaqueToken)
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, 3, s.secrets.Count("GetSecretValue"))
	assertNoSecretLogged(t, s)
}
