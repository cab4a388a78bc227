package idp_test

import (
	"context"
	"fmt"
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
