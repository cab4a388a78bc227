package launchflow_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

// TestLogsHoldNoSecretOrContext runs a launch and its refusals and reads the
// log: Okta and the EHR's URLs are not the only place a patient id or a
// single-use secret could leak.
func TestLogsHoldNoSecretOrContext(t *testing.T) {
	h := newHarness(t)
	id := h.register(map[string]any{"patient": "pat-secret-77", "encounter": "enc-secret-88"})
	tx := h.authorize(authorizeQuery(id, nil)).Query().Get("state")
	h.get(ehrlaunchenv.PathAuthorize, authorizeQuery(id, nil))                                      // reuse
	h.get(ehrlaunchenv.PathAuthorize, authorizeQuery(id, func(q url.Values) { q.Set("aud", "x") })) // wrong aud
	h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), "forged-"+hookSecret)
	h.callHook(h.hookPayload(tx, otherApp, h.cfg.Callback()), hookSecret)
	h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code-99"}, "state": {tx}})
	h.caller = "arn:aws:sts::123456789012:assumed-role/Other/s"
	h.post(ehrlaunchenv.PathLaunch, "application/json", launchBody(nil), http.Header{})

	logs := h.logs.String()
	if !strings.Contains(logs, `"refused"`) {
		t.Fatalf("no refusal logged: %s", logs)
	}
	for _, secret := range []string{"pat-secret-77", "enc-secret-88", id, tx, hookSecret, "okta-code-99", challenge} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}
