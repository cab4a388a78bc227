package idp_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// HealthLake gives the function 1 s, and on a cold start without provisioned
// concurrency that second includes the start-up. With the production defaults
// and an authorization server that never answers, the first answer still comes
// well inside it.
func TestAColdStartAgainstAHungServerAnswersWellInsideOneSecond(t *testing.T) {
	t.Parallel() // about 0.8 s of waiting on the production budgets
	f := newFakeIdP(t)
	f.set(func(f *fakeIdP) { f.delay = time.Minute })
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims())

	started := time.Now()
	th := newTestHandler(t, f.env(), idp.Options{})
	startUp := time.Since(started)
	resp, reason := th.call(t, tok)
	took := time.Since(started)
	t.Logf("start-up %v, first answer %v after construction began", startUp, took)

	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, string(idp.ReasonTimeout), reason)
	assert.Less(t, startUp, idp.DefaultStartBudget+100*time.Millisecond)
	assert.Less(t, took, idp.DefaultColdStartBudget+100*time.Millisecond)
	assert.LessOrEqual(t, idp.DefaultColdStartBudget, 800*time.Millisecond, "leaves Lambda's own cold start room in HealthLake's 1 s")
}

func TestASlowServerAtStartIsAnsweredWithinTheColdStartBudgetAndRetriedLater(t *testing.T) {
	const (
		startBudget = 100 * time.Millisecond
		coldBudget  = 200 * time.Millisecond
		retry       = 300 * time.Millisecond
	)
	f := newFakeIdP(t)
	f.set(func(f *fakeIdP) { f.delay = time.Minute })
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims())

	started := time.Now()
	// The request budget is the production one: without the cold-start bound the
	// first request would wait start-up plus 500 ms.
	th := newTestHandler(t, f.env(), idp.Options{StartBudget: startBudget, ColdStartBudget: coldBudget, SetupRetryInterval: retry})
	assert.Contains(t, th.logs.String(), "start-up set-up failed")
	resp, reason := th.call(t, tok)
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, string(idp.ReasonTimeout), reason, "the first request tried again with what was left")
	assert.Less(t, time.Since(started), coldBudget+100*time.Millisecond)
	require.Equal(t, int32(2), f.rfc8414Hits.Load(), "start-up and the first request")

	// A later request does not wait again before the retry interval...
	began := time.Now()
	_, reason = th.call(t, tok)
	assert.Equal(t, string(idp.ReasonKeysUnavailable), reason)
	assert.Less(t, time.Since(began), 50*time.Millisecond)
	assert.Equal(t, int32(2), f.rfc8414Hits.Load())

	// ...and after it, retries with the full request budget.
	f.set(func(f *fakeIdP) { f.delay = 0 })
	time.Sleep(retry)
	resp, reason = th.call(t, tok)
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
}

func TestTheColdStartBudgetBoundsTheFirstIntrospection(t *testing.T) {
	const (
		coldBudget    = 300 * time.Millisecond
		requestBudget = 600 * time.Millisecond
	)
	getKeys(t) // generated once per test binary: not part of the handler's cold start
	started := time.Now()
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{StartBudget: 200 * time.Millisecond, ColdStartBudget: coldBudget, RequestBudget: requestBudget})
	require.Contains(t, s.logs.String(), `"msg":"ready"`)
	// The start-up went well; the introspection endpoint then hangs.
	s.idp.set(func(f *fakeIdP) { f.delay = time.Minute })
	_, reason := s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonTimeout), reason)
	assert.Less(t, time.Since(started), coldBudget+100*time.Millisecond, "the first answer comes by the end of the cold start")

	// After the cold start, a request has its full budget.
	began := time.Now()
	_, reason = s.call(t, opaqueToken)
	assert.Equal(t, string(idp.ReasonTimeout), reason)
	assert.GreaterOrEqual(t, time.Since(began), requestBudget-50*time.Millisecond)
}
