package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/fakesecretsmanager"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

const (
	clientID     = "0oa-introspection-client"
	clientSecret = "s3cr3t+with/odd=chars&more"
	opaqueToken  = "opaque-access-token-Zx9"
)

// introspectionSetup is an introspection-mode handler, its authorization server
// and its Secrets Manager.
type introspectionSetup struct {
	*testHandler
	idp     *fakeIdP
	secrets *fakesecretsmanager.Server
	mu      sync.Mutex
	answer  func(form url.Values) (int, any)
	forms   []url.Values
}

func newIntrospectionSetup(t *testing.T, secretValue string, opts idp.Options, kv ...string) *introspectionSetup {
	s := &introspectionSetup{idp: newFakeIdP(t), secrets: fakesecretsmanager.New(t)}
	s.answer = func(url.Values) (int, any) { return http.StatusOK, s.activeAnswer() }
	s.idp.set(func(f *fakeIdP) {
		f.introspect = func(form url.Values, user, pass string) (int, any) {
			if user != clientID || pass != clientSecret {
				return http.StatusUnauthorized, map[string]any{"error": "invalid_client"}
			}
			s.mu.Lock()
			s.forms = append(s.forms, form)
			answer := s.answer
			s.mu.Unlock()
			return answer(form)
		}
	})
	arn := s.secrets.Put("okta-introspection", secretValue)
	for i := range kv {
		kv[i] = strings.ReplaceAll(kv[i], "{{ISSUER}}", s.idp.Issuer)
	}
	// The AWS settings reach NewSecretsClient through the same test getenv.
	e := s.idp.env(append([]string{
		validatorenv.EnvValidation, "introspection",
		validatorenv.EnvIntrospectionSecretARN, arn,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER", s.secrets.URL,
		"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY", "fake-aws-secret",
		"AWS_REGION", "us-east-1",
	}, kv...)...)
	s.testHandler = newTestHandler(t, e, opts)
	return s
}

func (s *introspectionSetup) setAnswer(fn func(form url.Values) (int, any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = fn
}

func (s *introspectionSetup) activeAnswer() map[string]any {
	return map[string]any{
		"active": true, "token_type": "Bearer", "scope": "openid launch/patient patient/Observation.rs",
		"client_id": "0oa-client", "username": "jane.doe@example.com", "uid": "00u-user-uid", "sub": "jane.doe@example.com",
		"iss": s.idp.Issuer, "aud": endpoint, "iat": t0.Add(-time.Minute).Unix(), "exp": t0.Add(time.Hour).Unix(),
		"fhirUser": "Patient/p-9", "launch_response_patient": "p-9",
	}
}

func goodSecret() string {
	return `{"client_id": "` + clientID + `", "client_secret": "` + clientSecret + `"}`
}

func TestIntrospectionAcceptsAnActiveToken(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
	resp, reason := s.call(t, "Bearer "+opaqueToken)
	require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	p := resp.AuthPayload
	assert.Equal(t, "openid launch/patient patient/Observation.rs", p.Scope)
	assert.Equal(t, "00u-user-uid", p.Uid)
	assert.Equal(t, "Patient/p-9", p.FhirUser)
	assert.Equal(t, "p-9", p.Patient)
	assert.Equal(t, endpoint, p.Aud)
	assert.Equal(t, p.Iat, p.Nbf)

	require.Len(t, s.forms, 1)
	assert.Equal(t, opaqueToken, s.forms[0].Get("token"), "the token is posted without its Bearer prefix")
	assert.Equal(t, "access_token", s.forms[0].Get("token_type_hint"))
	assert.Equal(t, int32(1), s.idp.rfc8414Hits.Load(), "the endpoint was discovered")
}

func TestIntrospectionRefusals(t *testing.T) {
	set := func(k string, v any) func(a map[string]any) any {
		return func(a map[string]any) any {
			if v == nil {
				delete(a, k)
			} else {
				a[k] = v
			}
			return a
		}
	}
	for _, tc := range []struct {
		name   string
		status int
		body   func(active map[string]any) any
		reason idp.Reason
	}{
		{"inactive", 200, func(map[string]any) any { return map[string]any{"active": false} }, idp.ReasonInactive},
		{"no active member", 200, set("active", nil), idp.ReasonInactive},
		{"active as a string", 200, set("active", "true"), idp.ReasonIntrospectionFailed},
		{"a server error", 500, func(map[string]any) any { return map[string]any{"error": "oops"} }, idp.ReasonIntrospectionFailed},
		{"not JSON", 200, func(map[string]any) any { return "<html>" }, idp.ReasonIntrospectionFailed},
		{"a refresh token", 200, set("token_type", "refresh_token"), idp.ReasonTokenType},
		{"another issuer", 200, set("iss", "https://evil.example.com"), idp.ReasonIssuer},
		{"no issuer", 200, set("iss", nil), idp.ReasonClaimMissing},
		{"another audience", 200, set("aud", "api://other"), idp.ReasonAudience},
		{"expired", 200, set("exp", t0.Add(-leeway-time.Second).Unix()), idp.ReasonExpired},
		{"no exp", 200, set("exp", nil), idp.ReasonClaimMissing},
		{"not valid yet", 200, set("nbf", t0.Add(leeway+time.Minute).Unix()), idp.ReasonNotYetValid},
		{"no SMART scope", 200, set("scope", "openid profile"), idp.ReasonNoSMARTScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
			s.setAnswer(func(url.Values) (int, any) { return tc.status, tc.body(s.activeAnswer()) })
			resp, reason := s.call(t, opaqueToken)
			assert.False(t, bool(resp.AuthPayload.IsAuthorized))
			assert.Equal(t, string(tc.reason), reason)
			_, reason = s.call(t, opaqueToken)
			assert.Equal(t, string(tc.reason), reason, "a refusal is not cached into an approval")
		})
	}
}

func TestAnUnreachableIntrospectionEndpointIsATimelyRefusal(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{RequestBudget: 150 * time.Millisecond})
	s.idp.set(func(f *fakeIdP) { f.delay = 10 * time.Second })
	started := time.Now()
	resp, reason := s.call(t, opaqueToken)
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, string(idp.ReasonTimeout), reason)
	assert.Less(t, time.Since(started), 400*time.Millisecond)

	s.idp.set(func(f *fakeIdP) { f.delay, f.down = 0, true })
	_, reason = s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonIntrospectionFailed), reason)
	assert.Contains(t, s.logs.Last(t)["error"], "HTTP 503")
}

func TestIntrospectionResultsAreCachedBriefly(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
	for range 5 {
		resp, reason := s.call(t, opaqueToken)
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	}
	assert.Equal(t, int32(1), s.idp.introspectHit.Load())

	s.clock.Advance(validatorenv.DefaultIntrospectionCacheTTL)
	_, reason := s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonValid), reason, "asked again after the TTL")
	assert.Equal(t, int32(2), s.idp.introspectHit.Load())

	// Revoked meanwhile: the next introspection after the TTL says so.
	s.setAnswer(func(url.Values) (int, any) { return 200, map[string]any{"active": false} })
	s.clock.Advance(validatorenv.DefaultIntrospectionCacheTTL)
	_, reason = s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonInactive), reason)
}

func TestTheIntrospectionCacheNeverOutlivesTheToken(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
	s.setAnswer(func(url.Values) (int, any) {
		a := s.activeAnswer()
		a["exp"] = t0.Add(10 * time.Second).Unix()
		return 200, a
	})
	s.call(t, opaqueToken)
	s.clock.Advance(9 * time.Second)
	_, reason := s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonCached), reason)
	s.clock.Advance(time.Second)
	_, reason = s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonValid), reason, "the entry ended at exp, well before the 60 s TTL")
	assert.Equal(t, int32(2), s.idp.introspectHit.Load())
}

func TestTheIntrospectionCacheCanBeTurnedOff(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{}, validatorenv.EnvIntrospectionCacheTTL, "0")
	for range 3 {
		_, reason := s.call(t, opaqueToken)
		assert.Equal(t, string(idp.ReasonValid), reason)
	}
	assert.Equal(t, int32(3), s.idp.introspectHit.Load())
}

func TestTheSecretIsReadOncePerContainer(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{}, validatorenv.EnvIntrospectionCacheTTL, "0")
	for range 10 {
		resp, reason := s.call(t, opaqueToken)
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	}
	assert.Equal(t, 1, s.secrets.Count("GetSecretValue"))
}

func TestAConfiguredIntrospectionURLSkipsDiscovery(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{}, validatorenv.EnvIntrospectionURL, "{{ISSUER}}/v1/introspect")
	resp, reason := s.call(t, opaqueToken)
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Zero(t, s.idp.rfc8414Hits.Load()+s.idp.oidcHits.Load())
}

func TestAnUnreadableSecretMeansRefusalNotALeak(t *testing.T) {
	for _, tc := range []struct {
		name, value string
	}{
		{"not JSON", "client_secret=" + clientSecret},
		{"no client_id", `{"client_secret": "` + clientSecret + `"}`},
		{"an empty client_secret", `{"client_id": "` + clientID + `", "client_secret": ""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newIntrospectionSetup(t, tc.value, idp.Options{})
			resp, reason := s.call(t, opaqueToken)
			assert.False(t, bool(resp.AuthPayload.IsAuthorized))
			assert.Equal(t, string(idp.ReasonSecretUnavailable), reason)
			assert.NotContains(t, s.logs.String(), clientSecret)
			assert.Zero(t, s.idp.introspectHit.Load())
		})
	}
}

func TestAMissingSecretIsRetriedButNotOnEveryRequest(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{SetupRetryInterval: 200 * time.Millisecond},
		validatorenv.EnvIntrospectionSecretARN, "arn:aws:secretsmanager:us-east-1:123456789012:secret:not-yet-AbCdEf")
	assert.Contains(t, s.logs.String(), "ResourceNotFoundException")
	for range 5 {
		_, reason := s.call(t, opaqueToken)
		assert.Equal(t, string(idp.ReasonSecretUnavailable), reason)
	}
	assert.Equal(t, 2, s.secrets.Count("GetSecretValue"), "once at start, once by the first request")

	s.secrets.Put("not-yet", goodSecret())
	time.Sleep(200 * time.Millisecond)
	resp, reason := s.call(t, opaqueToken)
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, 3, s.secrets.Count("GetSecretValue"))
}
