package launchflow_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

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

// TestBackendLogsHoldNoAssertion runs the backend-services path through a
// success, a replay, a forged signature and a KMS failure, and reads the log:
// neither the service's assertions, their jtis, nor the assertion the proxy
// signed for Okta may appear in it.
func TestBackendLogsHoldNoAssertion(t *testing.T) {
	b := newBackendHarness(t)
	jti := "svc-jti-secret-4242"
	good := b.assertion(t, func(c jwt.MapClaims, _ *jwt.Token) { c["jti"] = jti })
	b.requestToken(t, ccForm(good))
	minted := b.lastForwarded(t).Get("client_assertion")
	var mintedClaims jwt.RegisteredClaims
	_, _, _ = jwt.NewParser().ParseUnverified(minted, &mintedClaims)
	b.requestToken(t, ccForm(good)) // replay
	forged := b.assertion(t, func(_ jwt.MapClaims, tok *jwt.Token) { tok.Header["signing-key"] = serviceKeys().stranger })
	b.requestToken(t, ccForm(forged))
	b.kms.Disable(b.keyARN)
	late := b.assertion(t, nil)
	b.requestToken(t, ccForm(late))

	logs := b.logs.String()
	if !strings.Contains(logs, `"refused"`) || !strings.Contains(logs, `"kms_error"`) {
		t.Fatalf("the refusals and the KMS failure were not logged: %s", logs)
	}
	secrets := []string{jti, mintedClaims.ID}
	for _, a := range []string{good, forged, late, minted} {
		secrets = append(secrets, strings.Split(a, ".")...)
	}
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}
