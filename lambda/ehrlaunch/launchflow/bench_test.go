package launchflow_test

import (
	"net/http"
	"net/url"
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

// BenchmarkBackendServiceToken is the proxy's cost on a backend service's
// client_credentials request, network to Okta's stand-in included: parsing
// and verifying the service's RS384 assertion against its JWKS, the
// conditional PutItem of its jti (the real SDK client against fakedynamodb on
// loopback), KMS Sign of the proxy's assertion (the real SDK client against
// fakekms, whose RSA-2048 signature is real work, as KMS's is), and the
// forward. The service's assertions are signed beforehand, untimed: each
// iteration needs a fresh jti.
func BenchmarkBackendServiceToken(b *testing.B) {
	h := newBackendHarness(b)
	forms := make([]url.Values, b.N)
	for i := range forms {
		forms[i] = ccForm(h.assertion(b, nil))
	}
	b.ResetTimer()
	for i := range b.N {
		if resp, e, _ := h.requestToken(b, forms[i]); resp.StatusCode != http.StatusOK {
			b.Fatalf("token %d %v", resp.StatusCode, e)
		}
	}
}
