package launchflow_test

import (
	"net/http"
	"testing"
)

// BenchmarkHookAtCodeIssuance is the time Okta waits on the hook (its timeout
// is 3 s): the authenticated call, the conditional UpdateItem of the
// transaction through the real SDK client against fakedynamodb on loopback,
// the refresh-token PutItem and the answer. Each iteration needs a fresh
// transaction, made (untimed) through the authorize proxy.
func BenchmarkHookAtCodeIssuance(b *testing.B) {
	h := newHarness(b)
	payloads := make([][]byte, b.N)
	for i := range payloads {
		tx := h.authorize(authorizeQuery(h.register(nil), nil)).Query().Get("state")
		payloads[i] = h.hookPayload(tx, appID, h.cfg.Callback())
	}
	b.ResetTimer()
	for i := range b.N {
		st, hr := h.callHook(payloads[i], hookSecret)
		if st != http.StatusOK || hr.Error != nil {
			b.Fatalf("hook %d %+v", st, hr.Error)
		}
	}
}
