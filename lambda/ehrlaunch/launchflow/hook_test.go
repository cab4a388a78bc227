package launchflow_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
)

func TestHook(t *testing.T) {
	// begin registers a launch and runs the authorize proxy; it returns the
	// transaction id Okta would carry as state.
	begin := func(h *harness, m map[string]any) string {
		return h.authorize(authorizeQuery(h.register(m), nil)).Query().Get("state")
	}
	t.Run("the hook adds the launch context and the marker to the access token", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, map[string]any{
			"fhirContext": []any{map[string]any{"reference": "DiagnosticReport/7"}}, "smart_style_url": "https://ehr.example/style.json",
		})
		st, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret)
		if st != http.StatusOK || hr.Error != nil {
			t.Fatalf("status %d, error %+v", st, hr.Error)
		}
		c := claimsOf(hr)
		want := map[string]any{
			"patient": "pat-123", "encounter": "enc-9", "need_patient_banner": true,
			"smart_style_url":   "https://ehr.example/style.json",
			launchclaims.Marker: launchclaims.MarkerValue,
		}
		for k, v := range want {
			if c[k] != v {
				t.Errorf("claim %s = %v, want %v", k, c[k], v)
			}
		}
		if fc, _ := json.Marshal(c["fhirContext"]); string(fc) != `[{"reference":"DiagnosticReport/7"}]` {
			t.Errorf("fhirContext = %s", fc)
		}
	})
	t.Run("a forged hook call without the secret is refused and does not use the transaction", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, nil)
		for _, secret := range []string{"", "wrong", hookSecret + "x", strings.ToUpper(hookSecret)} {
			if st, _ := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), secret); st != http.StatusUnauthorized {
				t.Fatalf("secret %q: status %d", secret, st)
			}
		}
		if _, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); hr.Error != nil {
			t.Fatalf("the genuine call after forged ones failed: %+v", hr.Error)
		}
	})
	// Every fault below must be answered with an error object and status 200:
	// Okta issues the token unchanged on a non-200 or a timeout.
	for _, c := range []struct {
		name    string
		payload func(h *harness, tx string) []byte
	}{
		{"an unknown state fails the request", func(h *harness, _ string) []byte {
			return h.hookPayload("not-a-transaction", appID, h.cfg.Callback())
		}},
		{"another client's transaction fails the request", func(h *harness, tx string) []byte {
			return h.hookPayload(tx, otherApp, h.cfg.Callback())
		}},
		{"an authorization that bypassed the proxy fails the request", func(h *harness, tx string) []byte {
			return h.hookPayload(tx, appID, appRedir)
		}},
		{"a payload of another hook type fails the request", func(h *harness, tx string) []byte {
			return []byte(strings.Replace(string(h.hookPayload(tx, appID, h.cfg.Callback())), launchflow.HookEventType, "com.okta.saml.tokens.transform", 1))
		}},
		{"a body that is not JSON fails the request", func(*harness, string) []byte { return []byte("{") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			tx := begin(h, nil)
			st, hr := h.callHook(c.payload(h, tx), hookSecret)
			if st != http.StatusOK || hr.Error == nil || len(hr.Commands) != 0 {
				t.Fatalf("status %d, answer %+v", st, hr)
			}
		})
	}
	t.Run("a second hook call for a transaction fails the request (Okta does not retry the token hook), and the first code still goes to the app", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, map[string]any{"smart_style_url": "https://ehr.example/style.json"})
		if _, first := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); first.Error != nil || len(first.Commands) == 0 {
			t.Fatalf("first call: %+v", first)
		}
		if _, again := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); again.Error == nil || len(again.Commands) != 0 {
			t.Fatalf("a replayed hook call answered with commands: %+v", again)
		}
		resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code"}, "state": {tx}})
		if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code") != "okta-code" {
			t.Fatalf("callback: %d %v", resp.StatusCode, loc)
		}
	})
	t.Run("a hook call after the callback ran fails the request", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, nil)
		h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret)
		h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code"}, "state": {tx}})
		if _, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); hr.Error == nil {
			t.Fatal("a hook call replayed after the callback answered with commands")
		}
	})
	t.Run("a hook that ran past its time budget fails the request and the callback hands over no code", func(t *testing.T) {
		h := newHarnessWith(t, func(o *launchflow.Options) { o.HookBudget = time.Nanosecond })
		tx := begin(h, nil)
		if _, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); hr.Error == nil {
			t.Fatalf("answer %+v", hr)
		}
		resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code"}, "state": {tx}})
		if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code") != "" || loc.Query().Get("error") != "server_error" {
			t.Fatalf("callback: %d %v", resp.StatusCode, loc)
		}
	})
	t.Run("a hook whose step cannot be recorded hands over no code", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, nil)
		h.fake.Faults.Add(fault.Rule{Op: "UpdateItem", Times: 2}) // both of the SDK's attempts (AWS_MAX_ATTEMPTS)
		if _, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); hr.Error == nil {
			t.Fatalf("answer %+v", hr)
		}
		resp := h.get(ehrlaunchenv.PathCallback, url.Values{"code": {"okta-code"}, "state": {tx}})
		if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code") != "" {
			t.Fatalf("callback: %d %v", resp.StatusCode, loc)
		}
	})
	t.Run("a DynamoDB outage fails the request", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, nil)
		h.fake.Faults.Add(fault.Rule{Op: "GetItem", Times: 5})
		if st, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); st != 200 || hr.Error == nil {
			t.Fatalf("status %d answer %+v", st, hr)
		}
	})
	t.Run("a failure to bind the refresh token fails the request", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, nil)
		h.fake.Faults.Add(fault.Rule{Op: "PutItem", Times: 5})
		if _, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); hr.Error == nil {
			t.Fatal("answered with commands though the refresh binding was lost")
		}
	})
	t.Run("an EHR user who is not the signed-in user fails the request", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, map[string]any{"user": "Practitioner/55"})
		p := strings.Replace(string(h.hookPayload(tx, appID, h.cfg.Callback())), `"cid": "`+appID+`"`, `"cid": "`+appID+`", "fhirUser": "https://fhir.example/r4/Practitioner/66"`, 1)
		if _, hr := h.callHook([]byte(p), hookSecret); hr.Error == nil {
			t.Fatal("answered with commands")
		}
	})
	t.Run("an EHR user is never added as the fhirUser of a signed-in user who has none", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, map[string]any{"user": "Practitioner/55"})
		st, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret)
		if st != http.StatusOK || hr.Error == nil || len(hr.Commands) != 0 {
			t.Fatalf("status %d, answer %+v: the EHR's user would be vouched for by a sign-in nothing ties to it", st, hr)
		}
	})
	t.Run("an EHR user who is the signed-in user keeps Okta's fhirUser", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, map[string]any{"user": "Practitioner/55"})
		p := strings.Replace(string(h.hookPayload(tx, appID, h.cfg.Callback())), `"cid": "`+appID+`"`, `"cid": "`+appID+`", "fhirUser": "https://fhir.example/r4/Practitioner/55"`, 1)
		_, hr := h.callHook([]byte(p), hookSecret)
		if hr.Error != nil {
			t.Fatalf("error %+v", hr.Error)
		}
		if _, patched := claimsOf(hr)["fhirUser"]; patched {
			t.Fatal("fhirUser patched over Okta's")
		}
	})
	t.Run("a standalone transaction gets no context claims and no marker", func(t *testing.T) {
		h := newHarness(t)
		tx := h.authorize(authorizeQuery("", func(q url.Values) { q.Set("scope", "openid launch/patient") })).Query().Get("state")
		_, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret)
		if hr.Error != nil || len(hr.Commands) != 0 {
			t.Fatalf("answer %+v", hr)
		}
	})
}

func TestHookRefresh(t *testing.T) {
	// refresh is Okta's hook payload for a refresh_token grant, shaped as the
	// spec's TokenPayLoad: protocol.client.id, protocol.request of the /token
	// call (no client_id: a confidential client authenticates in a header),
	// OriginalGrant.authorization (the original /authorize request) and
	// OriginalGrant.refresh_token (the token presented).
	type grant struct{ state, scope, presented, rotated, client string }
	refresh := func(h *harness, g grant) []byte {
		var m map[string]any
		_ = json.Unmarshal(h.hookPayload("", g.client, ""), &m)
		data := m["data"].(map[string]any)
		proto := data["context"].(map[string]any)["protocol"].(map[string]any)
		proto["request"] = map[string]any{"grant_type": "refresh_token"}
		auth := map[string]any{"client_id": g.client, "scope": g.scope, "redirect_uri": h.cfg.Callback(), "response_type": "code"}
		if g.state != "" {
			auth["state"] = g.state
		}
		proto["OriginalGrant"] = map[string]any{"authorization": auth, "refresh_token": map[string]any{"jti": g.presented}}
		access := data["access"].(map[string]any)["claims"].(map[string]any)
		access["scp"] = strings.Fields(g.scope)
		if g.rotated != "" {
			data["refresh_token"] = map[string]any{"jti": g.rotated}
		} else {
			delete(data, "refresh_token")
		}
		b, _ := json.Marshal(m)
		return b
	}
	const launchScope = "openid launch patient/Observation.rs offline_access"
	h := newHarness(t)
	tx := h.authorize(authorizeQuery(h.register(nil), nil)).Query().Get("state")
	// Code issuance without data.refresh_token: Okta documents sending it
	// then, but the binding by state must not depend on it.
	var issue map[string]any
	_ = json.Unmarshal(h.hookPayload(tx, appID, h.cfg.Callback()), &issue)
	delete(issue["data"].(map[string]any), "refresh_token")
	payload, _ := json.Marshal(issue)
	if _, hr := h.callHook(payload, hookSecret); hr.Error != nil {
		t.Fatalf("code issuance: %+v", hr.Error)
	}

	t.Run("a refresh gets the grant's context again, found by the original authorization's state", func(t *testing.T) {
		_, hr := h.callHook(refresh(h, grant{state: tx, scope: launchScope, presented: "rt-0", rotated: "rt-1", client: appID}), hookSecret)
		if hr.Error != nil || claimsOf(hr)["patient"] != "pat-123" || claimsOf(hr)[launchclaims.Marker] != launchclaims.MarkerValue {
			t.Fatalf("answer %+v", hr)
		}
	})
	t.Run("the original grant under the spec's earlier name request works too", func(t *testing.T) {
		p := strings.Replace(string(refresh(h, grant{state: tx, scope: launchScope, presented: "rt-0", client: appID})), `"authorization":`, `"request":`, 1)
		if _, hr := h.callHook([]byte(p), hookSecret); hr.Error != nil || claimsOf(hr)["patient"] != "pat-123" {
			t.Fatalf("answer %+v", hr)
		}
	})
	t.Run("a rotated refresh token keeps the context without the original state", func(t *testing.T) {
		_, hr := h.callHook(refresh(h, grant{scope: launchScope, presented: "rt-1", client: appID}), hookSecret)
		if hr.Error != nil || claimsOf(hr)["patient"] != "pat-123" {
			t.Fatalf("answer %+v", hr)
		}
	})
	t.Run("a refresh of a grant that was not EHR-launched passes unchanged", func(t *testing.T) {
		st, hr := h.callHook(refresh(h, grant{state: "standalone-tx", scope: "openid launch/patient patient/Observation.rs offline_access", presented: "rt-s", client: appID}), hookSecret)
		if st != http.StatusOK || hr.Error != nil || len(hr.Commands) != 0 {
			t.Fatalf("status %d answer %+v", st, hr)
		}
	})
	t.Run("a refresh of an EHR-launched grant without a binding fails the request", func(t *testing.T) {
		if _, hr := h.callHook(refresh(h, grant{state: "never-bound", scope: launchScope, presented: "never-issued", client: appID}), hookSecret); hr.Error == nil {
			t.Fatal("answered without an error")
		}
	})
	t.Run("a refresh is found by the refresh token id Okta sent at code issuance, without the original state", func(t *testing.T) {
		tx2 := h.authorize(authorizeQuery(h.register(nil), nil)).Query().Get("state")
		// testdata/hook-authorize.json carries data.refresh_token.jti
		// oarob4a0tckCkGcyo1d6, as Okta's reference documents.
		if _, hr := h.callHook(h.hookPayload(tx2, appID, h.cfg.Callback()), hookSecret); hr.Error != nil {
			t.Fatalf("code issuance: %+v", hr.Error)
		}
		_, hr := h.callHook(refresh(h, grant{scope: launchScope, presented: "oarob4a0tckCkGcyo1d6", client: appID}), hookSecret)
		if hr.Error != nil || claimsOf(hr)["patient"] != "pat-123" {
			t.Fatalf("answer %+v", hr)
		}
	})
	t.Run("another client's refresh fails the request", func(t *testing.T) {
		if _, hr := h.callHook(refresh(h, grant{state: tx, scope: launchScope, presented: "rt-0", client: otherApp}), hookSecret); hr.Error == nil {
			t.Fatal("answered with commands")
		}
	})
	t.Run("a refresh whose client differs from its original grant's fails the request", func(t *testing.T) {
		p := strings.Replace(string(refresh(h, grant{state: tx, scope: launchScope, presented: "rt-0", client: appID})), `"authorization":{"client_id":"`+appID+`"`, `"authorization":{"client_id":"`+otherApp+`"`, 1)
		if _, hr := h.callHook([]byte(p), hookSecret); hr.Error == nil {
			t.Fatal("answered with commands")
		}
	})
}
