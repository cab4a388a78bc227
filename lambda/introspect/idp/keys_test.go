package idp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func TestTheJWKSIsFetchedOncePerContainer(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	assert.Equal(t, int32(1), f.jwksHits.Load(), "fetched at start")
	for i := range 20 {
		tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(f.claims(), "jti", fmt.Sprint(i)))
		resp, reason := th.call(t, tok)
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	}
	assert.Equal(t, int32(1), f.jwksHits.Load())
}

func TestAKeyRotationIsPickedUpAfterOneRateLimitedRefresh(t *testing.T) {
	const interval = 300 * time.Millisecond
	f := newFakeIdP(t)
	k := getKeys(t)
	// The request budget is shorter than the refresh interval, so a refresh that
	// is not due yet is refused at once rather than waited for.
	th := newTestHandler(t, f.env(), idp.Options{KeyRefreshInterval: interval, RequestBudget: 100 * time.Millisecond})
	old := sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", f.claims())
	_, reason := th.call(t, old)
	require.Equal(t, string(idp.ReasonValid), reason)
	_, reason = th.call(t, old)
	require.Equal(t, string(idp.ReasonCached), reason)

	// The authorization server starts signing with k2 (and announces k3).
	f.set(func(f *fakeIdP) {
		f.jwks = append(defaultJWKS(k), rsaJWK("k2", "RS256", "sig", &k.rsa2.PublicKey), rsaJWK("k3", "RS256", "sig", &k.rsa3.PublicKey))
	})
	time.Sleep(interval) // the start-up fetch used the allowance
	started := time.Now()
	resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, k.rsa2, "k2", f.claims()))
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, int32(2), f.jwksHits.Load(), "one refresh for the new kid")
	assert.Less(t, time.Since(started), 100*time.Millisecond)

	_, reason = th.call(t, old)
	assert.Equal(t, string(idp.ReasonValid), reason, "the key set changed: the cache was cleared")

	// k4 is not published; asking again right away does not refresh again.
	f.set(func(f *fakeIdP) {
		f.jwks = append(f.jwks, rsaJWK("k4", "RS256", "sig", &k.attacker.PublicKey))
	})
	_, reason = th.call(t, sign(t, jwt.SigningMethodRS256, k.attacker, "k4", f.claims()))
	assert.Equal(t, string(idp.ReasonKIDUnknown), reason)
	assert.Equal(t, int32(2), f.jwksHits.Load(), "at most one refresh per interval")

	time.Sleep(interval)
	resp, reason = th.call(t, sign(t, jwt.SigningMethodRS256, k.attacker, "k4", f.claims()))
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, int32(3), f.jwksHits.Load())
}

func TestUnknownKIDsRefreshAtMostOncePer30Seconds(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	for i := range 10 {
		_, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa2, "rotated", with(f.claims(), "jti", fmt.Sprint(i))))
		assert.Equal(t, string(idp.ReasonKIDUnknown), reason)
	}
	assert.Equal(t, int32(1), f.jwksHits.Load(), "only the start-up fetch: the next refresh is due in 30 s")
}

func TestARefreshWithTheSameKeysKeepsTheCache(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{KeyRefreshInterval: time.Millisecond})
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims())
	th.call(t, tok)
	time.Sleep(2 * time.Millisecond)
	_, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "unknown", f.claims()))
	require.Equal(t, string(idp.ReasonKIDUnknown), reason)
	require.Equal(t, int32(2), f.jwksHits.Load())
	_, reason = th.call(t, tok)
	assert.Equal(t, string(idp.ReasonCached), reason)
}

func TestCachedKeysKeepWorkingWhileTheJWKSIsDown(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{KeyRefreshInterval: time.Millisecond})
	f.set(func(f *fakeIdP) { f.down = true })
	time.Sleep(2 * time.Millisecond)

	_, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa2, "rotated", f.claims()))
	assert.Equal(t, string(idp.ReasonKIDUnknown), reason, "the refresh failed")
	assert.Equal(t, int32(2), f.jwksHits.Load())
	assert.Contains(t, th.logs.String(), "jwks refresh failed")

	resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), "a failed refresh keeps the keys held: %s", reason)
}

func TestASlowJWKSHitsTheDeadline(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{KeyRefreshInterval: time.Millisecond, RequestBudget: 150 * time.Millisecond})
	f.set(func(f *fakeIdP) { f.delay = 10 * time.Second })
	time.Sleep(2 * time.Millisecond)

	started := time.Now()
	resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa2, "rotated", f.claims()))
	took := time.Since(started)
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, string(idp.ReasonTimeout), reason)
	assert.Less(t, took, 400*time.Millisecond, "answered at the budget, not when the server answers")

	started = time.Now()
	resp, _ = th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), "a known key needs no network")
	assert.Less(t, time.Since(started), 100*time.Millisecond)
}

func TestTheLambdaDeadlineShortensTheBudget(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{KeyRefreshInterval: time.Millisecond})
	f.set(func(f *fakeIdP) { f.delay = 10 * time.Second })
	time.Sleep(2 * time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	started := time.Now()
	resp, err := th.Handle(ctx, idp.Event{DatastoreEndpoint: endpoint, BearerToken: sign(t, jwt.SigningMethodRS256, getKeys(t).rsa2, "rotated", f.claims())})
	require.NoError(t, err)
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Less(t, time.Since(started), 140*time.Millisecond, "the answer leaves time to be sent before the Lambda deadline")
}

func TestAnAuthorizationServerDownAtStartIsRetriedByRequests(t *testing.T) {
	f := newFakeIdP(t)
	f.set(func(f *fakeIdP) { f.down = true })
	th := newTestHandler(t, f.env(), idp.Options{SetupRetryInterval: 200 * time.Millisecond})
	assert.Contains(t, th.logs.String(), "start-up set-up failed")
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims())

	_, reason := th.call(t, tok)
	assert.Equal(t, string(idp.ReasonKeysUnavailable), reason, "the first request retries and fails")
	assert.Contains(t, th.logs.Last(t)["error"], "503")
	hits := f.jwksHits.Load()
	_, reason = th.call(t, tok)
	assert.Equal(t, string(idp.ReasonKeysUnavailable), reason)
	assert.Equal(t, hits, f.jwksHits.Load(), "no retry before the interval")

	f.set(func(f *fakeIdP) { f.down = false })
	time.Sleep(200 * time.Millisecond)
	resp, reason := th.call(t, tok)
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
}

func TestASlowStartUpIsBoundedToo(t *testing.T) {
	f := newFakeIdP(t)
	f.set(func(f *fakeIdP) { f.delay = 10 * time.Second })
	started := time.Now()
	th := newTestHandler(t, f.env(), idp.Options{StartBudget: 100 * time.Millisecond, RequestBudget: 100 * time.Millisecond})
	assert.Less(t, time.Since(started), 400*time.Millisecond)

	started = time.Now()
	_, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
	assert.Equal(t, string(idp.ReasonTimeout), reason)
	assert.Less(t, time.Since(started), 400*time.Millisecond)
}

// malformedJWKs are keys jwkset cannot parse, or that are not JWK objects at
// all, as a misbehaving or half-migrated authorization server might publish.
var malformedJWKs = []any{
	map[string]any{"kty": "EC", "kid": "off-curve", "use": "sig", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
	map[string]any{"kty": "RSA", "kid": "n-not-a-string", "n": 5, "e": "AQAB"},
	map[string]any{"kty": "RSA", "kid": "bad-base64", "n": "!!!", "e": "AQAB"},
	42,
	"a string",
}

func TestARefreshWithoutAUsableKeyKeepsTheKeysHeld(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"an empty object", `{}`},
		{"keys null", `{"keys":null}`},
		{"an empty keys array", `{"keys":[]}`},
		{"an OAuth error object", `{"error":"server_error","error_description":"try later"}`},
		{"only a symmetric key", `{"keys":[{"kty":"oct","kid":"s1","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}`},
		{"only an unknown key type", `{"keys":[{"kty":"XYZ","kid":"x1"}]}`},
		{"only an encryption key", `{"keys":[{"kty":"EC","kid":"e1","use":"enc","crv":"P-256","x":"` + b64(mustXY(t, 0)) + `","y":"` + b64(mustXY(t, 1)) + `"}]}`},
		{"only malformed keys", `{"keys":[{"kty":"RSA","kid":"r1","n":"!!!","e":"AQAB"},7]}`},
		{"a JSON array", `[]`},
		{"not JSON", `<html>maintenance</html>`},
		{"a JWK Set larger than 1 MiB, whatever keys it holds", oversizeJWKS(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIdP(t)
			k := getKeys(t)
			th := newTestHandler(t, f.env(), idp.Options{KeyRefreshInterval: time.Millisecond})
			cached := sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", f.claims())
			_, reason := th.call(t, cached)
			require.Equal(t, string(idp.ReasonValid), reason)

			f.set(func(f *fakeIdP) { f.jwksBody = tc.body })
			time.Sleep(2 * time.Millisecond)
			_, reason = th.call(t, sign(t, jwt.SigningMethodRS256, k.rsa2, "rotated", f.claims()))
			assert.Equal(t, string(idp.ReasonKIDUnknown), reason)
			require.Equal(t, int32(2), f.jwksHits.Load(), "the unknown kid made a refresh")
			assert.Contains(t, th.logs.String(), "jwks refresh failed; keeping the keys already held")

			resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(f.claims(), "jti", "new")))
			assert.True(t, bool(resp.AuthPayload.IsAuthorized), "the held keys still verify new tokens: %s", reason)
			_, reason = th.call(t, cached)
			assert.Equal(t, string(idp.ReasonCached), reason, "the keys did not change, so the cache was kept")
		})
	}
}

func TestAMalformedKeyBesideGoodOnesCostsOnlyItself(t *testing.T) {
	k := getKeys(t)
	t.Run("at start", func(t *testing.T) {
		f := newFakeIdP(t)
		f.set(func(f *fakeIdP) { f.jwks = append(append([]any{}, malformedJWKs...), defaultJWKS(k)...) })
		th := newTestHandler(t, f.env(), idp.Options{})
		resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", f.claims()))
		assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		resp, reason = th.call(t, sign(t, jwt.SigningMethodES256, k.ec256, "k-es256", f.claims()))
		assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		_, reason = th.call(t, sign(t, jwt.SigningMethodES256, k.ec256, "off-curve", f.claims()))
		assert.Equal(t, string(idp.ReasonKIDUnknown), reason, "the malformed key itself is not held")
		assert.Contains(t, th.logs.String(), "jwks keys skipped")
	})
	t.Run("on refresh", func(t *testing.T) {
		f := newFakeIdP(t)
		th := newTestHandler(t, f.env(), idp.Options{KeyRefreshInterval: time.Millisecond})
		f.set(func(f *fakeIdP) {
			f.jwks = append(append([]any{}, malformedJWKs...), rsaJWK("k2", "RS256", "sig", &k.rsa2.PublicKey))
		})
		time.Sleep(2 * time.Millisecond)
		resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, k.rsa2, "k2", f.claims()))
		assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		_, reason = th.call(t, sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", f.claims()))
		assert.Equal(t, string(idp.ReasonKIDUnknown), reason, "the refreshed set replaced the old one: k1 was withdrawn")
	})
}

// mustXY returns coordinate i (0: x, 1: y) of the P-256 test key.
func mustXY(t testing.TB, i int) []byte {
	raw, err := getKeys(t).ec256.PublicKey.Bytes()
	require.NoError(t, err)
	return raw[1+32*i : 1+32*(i+1)]
}

// oversizeJWKS is a JWK Set that publishes the key "rotated" (rsa2) and is
// padded past the 1 MiB the validator reads of any document.
func oversizeJWKS(t *testing.T) string {
	b, err := json.Marshal(map[string]any{
		"keys":      []any{rsaJWK("rotated", "RS256", "sig", &getKeys(t).rsa2.PublicKey)},
		"x-padding": strings.Repeat("a", 1<<20),
	})
	require.NoError(t, err)
	return string(b)
}
