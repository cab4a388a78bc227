package idp_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// unsignedJWT is a JWT-shaped token with the given payload and a made-up
// signature: introspection mode never checks it locally.
func unsignedJWT(payload string) string {
	return b64([]byte(`{"alg":"RS256","kid":"k1"}`)) + "." + b64([]byte(payload)) + "." + b64([]byte("not a signature"))
}

func inactive(url.Values) (int, any) { return 200, map[string]any{"active": false} }

func TestDefiniteIntrospectionRefusalsAreCachedBriefly(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
	s.setAnswer(inactive)
	for range 5 {
		_, reason := s.call(t, opaqueToken)
		assert.Equal(t, string(idp.ReasonInactive), reason)
	}
	assert.Equal(t, int32(1), s.idp.introspectHit.Load(), "one call for five requests")
	assert.Equal(t, true, s.logs.Last(t)["cached"])

	s.clock.Advance(idp.DefaultRefusalCacheTTL)
	_, reason := s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonInactive), reason)
	assert.Equal(t, int32(2), s.idp.introspectHit.Load(), "asked again once the refusal expired")

	// An answer that settles nothing is not cached: the next request asks again.
	s.setAnswer(func(url.Values) (int, any) { return 503, map[string]any{"error": "temporarily_unavailable"} })
	for range 3 {
		_, reason := s.call(t, opaqueToken+"-other")
		assert.Equal(t, string(idp.ReasonIntrospectionFailed), reason)
	}
	assert.Equal(t, int32(5), s.idp.introspectHit.Load())

	// A cached refusal never hides a valid token: it is keyed by the token.
	s.setAnswer(func(url.Values) (int, any) { return 200, s.activeAnswer() })
	resp, reason := s.call(t, opaqueToken+"-valid")
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
}

func TestAJWTFromAnotherIssuerIsRefusedWithoutACall(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
	exp := t0.Add(time.Hour).Unix()
	for _, tc := range []struct{ name, token string }{
		{"another issuer", unsignedJWT(fmt.Sprintf(`{"iss":"https://evil.example.com/oauth2/default","exp":%d}`, exp))},
		{"our issuer with a trailing slash", unsignedJWT(fmt.Sprintf(`{"iss":%q,"exp":%d}`, s.idp.Issuer+"/", exp))},
		{"no issuer", unsignedJWT(fmt.Sprintf(`{"exp":%d}`, exp))},
		{"our issuer spelled ISS", unsignedJWT(fmt.Sprintf(`{"ISS":%q,"exp":%d}`, s.idp.Issuer, exp))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, reason := s.call(t, tc.token)
			assert.Equal(t, string(idp.ReasonIssuer), reason)
			assert.Zero(t, s.idp.introspectHit.Load(), "no call for a token that is not ours")
		})
	}
	// Our issuer, or a token that is not a JWT at all, is the server's to judge.
	_, reason := s.call(t, unsignedJWT(fmt.Sprintf(`{"iss":%q,"exp":%d}`, s.idp.Issuer, exp)))
	assert.Equal(t, string(idp.ReasonValid), reason)
	_, reason = s.call(t, "opaque.with.dots")
	assert.Equal(t, string(idp.ReasonValid), reason)
	assert.Equal(t, int32(2), s.idp.introspectHit.Load())
}

func TestIntrospectionCallsAreBoundedPerContainer(t *testing.T) {
	// The handler's injected clock stands still during the flood, so the
	// bucket of 5 is all there is; only the clock moving refills it.
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{}, validatorenv.EnvIntrospectionRate, "5")
	resp, reason := s.call(t, opaqueToken)
	require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)

	s.setAnswer(inactive)
	limited := 0
	for i := range 50 {
		_, reason := s.call(t, fmt.Sprintf("garbage-%d", i))
		if reason == string(idp.ReasonRateLimited) {
			limited++
		} else {
			assert.Equal(t, string(idp.ReasonInactive), reason)
		}
	}
	assert.Equal(t, int32(5), s.idp.introspectHit.Load(), "the burst of 5, nothing refilled while the clock stood")
	assert.Equal(t, 46, limited, "every other request was refused locally")

	resp, reason = s.call(t, opaqueToken)
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), "a cached token is served during the flood: %s", reason)

	t.Run("the bucket refills by the handler's clock, not the wall clock", func(t *testing.T) {
		s.setAnswer(func(url.Values) (int, any) { return 200, s.activeAnswer() })
		_, reason := s.call(t, opaqueToken+"-early")
		assert.Equal(t, string(idp.ReasonRateLimited), reason, "no time has passed on the handler's clock")
		s.clock.Advance(time.Second)
		for i := range 5 {
			resp, reason := s.call(t, fmt.Sprintf("%s-new-%d", opaqueToken, i))
			assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		}
		_, reason = s.call(t, opaqueToken+"-late")
		assert.Equal(t, string(idp.ReasonRateLimited), reason, "one second buys 5 calls")
	})
}

func TestAnAnswerNotAboutAnAccessTokenForUsIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(a map[string]any)
		reason idp.Reason
	}{
		{"no token_type", func(a map[string]any) { delete(a, "token_type") }, idp.ReasonTokenType},
		{"a refresh token", func(a map[string]any) { a["token_type"] = "refresh_token" }, idp.ReasonTokenType},
		{"a refresh token without aud", func(a map[string]any) { a["token_type"] = "refresh_token"; delete(a, "aud") }, idp.ReasonTokenType},
		{"an ID token", func(a map[string]any) { a["token_type"] = "id_token" }, idp.ReasonTokenType},
		{"a DPoP-bound token", func(a map[string]any) { a["token_type"] = "DPoP" }, idp.ReasonTokenType},
		{"a Bearer token without aud", func(a map[string]any) { delete(a, "aud") }, idp.ReasonAudience},
		{"a Bearer token with an empty aud", func(a map[string]any) { a["aud"] = []string{} }, idp.ReasonAudience},
		{"token_type in another case", func(a map[string]any) { a["token_type"] = "bearer" }, idp.ReasonValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
			s.setAnswer(func(url.Values) (int, any) {
				a := s.activeAnswer()
				tc.edit(a)
				return 200, a
			})
			for i := range 2 {
				resp, reason := s.call(t, opaqueToken)
				if tc.reason == idp.ReasonValid && i == 1 {
					assert.Equal(t, string(idp.ReasonCached), reason)
				} else {
					assert.Equal(t, string(tc.reason), reason)
				}
				assert.Equal(t, tc.reason == idp.ReasonValid, bool(resp.AuthPayload.IsAuthorized))
			}
			assert.Equal(t, int32(1), s.idp.introspectHit.Load(), "the second request was answered from a cache")
		})
	}
}
