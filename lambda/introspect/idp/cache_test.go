package idp_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func TestTheSameTokenIsServedFromTheCache(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims())

	first, reason := th.call(t, tok)
	require.Equal(t, string(idp.ReasonValid), reason)
	second, reason := th.call(t, tok)
	require.Equal(t, string(idp.ReasonCached), reason)
	assert.Equal(t, first, second, "a cached answer is the same answer")
	assert.Equal(t, true, th.logs.Last(t)["cached"])
}

func TestTheAudienceIsCheckedOnEveryRequestEvenWhenCached(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims())
	other := strings.Replace(endpoint, "0123456789abcdef", "fedcba9876543210", 1)

	_, reason := th.callAt(t, endpoint, tok)
	require.Equal(t, string(idp.ReasonValid), reason)

	resp, reason := th.callAt(t, other, tok)
	assert.False(t, bool(resp.AuthPayload.IsAuthorized), "a token for one data store does not open another")
	assert.Equal(t, string(idp.ReasonAudience), reason)
	assert.Equal(t, true, th.logs.Last(t)["cached"], "the refusal came from the cached entry's audience check")

	_, reason = th.callAt(t, endpoint, tok)
	assert.Equal(t, string(idp.ReasonCached), reason)
}

func TestACachedEntryExpiresNoLaterThanTheToken(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	exp := t0.Add(2 * time.Minute)
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(f.claims(), "exp", exp.Unix()))

	_, reason := th.call(t, tok)
	require.Equal(t, string(idp.ReasonValid), reason)
	th.clock.Advance(exp.Sub(t0) - time.Second)
	_, reason = th.call(t, tok)
	assert.Equal(t, string(idp.ReasonCached), reason)

	th.clock.Advance(time.Second) // at exp: the cache has let go; the leeway still applies
	resp, reason := th.call(t, tok)
	assert.Equal(t, string(idp.ReasonValid), reason)
	assert.True(t, bool(resp.AuthPayload.IsAuthorized))

	th.clock.Advance(leeway)
	resp, reason = th.call(t, tok)
	assert.Equal(t, string(idp.ReasonExpired), reason)
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
}

func TestRefusedTokensAreNotCached(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(f.claims(), "scp", []string{"openid"}))
	for range 3 {
		_, reason := th.call(t, tok)
		assert.Equal(t, string(idp.ReasonNoSMARTScope), reason)
		assert.Equal(t, false, th.logs.Last(t)["cached"])
	}
}

func TestTheCacheIsBounded(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{CacheEntries: 2})
	var toks []string
	for i := range 3 {
		toks = append(toks, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(f.claims(), "jti", fmt.Sprint(i))))
	}
	for _, tok := range toks {
		_, reason := th.call(t, tok)
		require.Equal(t, string(idp.ReasonValid), reason)
	}
	cached := 0
	for _, tok := range toks {
		if _, reason := th.call(t, tok); reason == string(idp.ReasonCached) {
			cached++
		}
	}
	assert.Less(t, cached, 3, "three tokens do not fit in two entries")
}

func TestConcurrentRequestsAreSafe(t *testing.T) {
	f := newFakeIdP(t)
	k := getKeys(t)
	th := newTestHandler(t, f.env(), idp.Options{CacheEntries: 4, KeyRefreshInterval: time.Millisecond})
	good := sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", f.claims())
	ec := sign(t, jwt.SigningMethodES256, k.ec256, "k-es256", f.claims())
	bad := sign(t, jwt.SigningMethodRS256, k.attacker, "k1", f.claims())
	unknown := sign(t, jwt.SigningMethodRS256, k.rsa2, "k9", f.claims())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				for _, tc := range []struct {
					tok  string
					want bool
				}{{good, true}, {ec, true}, {bad, false}, {unknown, false}} {
					resp, err := th.Handle(context.Background(), idp.Event{DatastoreEndpoint: endpoint, BearerToken: tc.tok})
					if err != nil || bool(resp.AuthPayload.IsAuthorized) != tc.want {
						t.Errorf("goroutine %d, round %d: authorized=%v, want %v (err %v)", g, i, resp.AuthPayload.IsAuthorized, tc.want, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
