package launchflow_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
	t.Run("a second hook call for the same transaction fails the request", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, nil)
		h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret)
		if _, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); hr.Error == nil {
			t.Fatal("replayed hook call answered with commands")
		}
	})
	t.Run("a DynamoDB outage fails the request", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, nil)
		h.fake.FailNext("UpdateItem", 5)
		if st, hr := h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret); st != 200 || hr.Error == nil {
			t.Fatalf("status %d answer %+v", st, hr)
		}
	})
	t.Run("a failure to bind the refresh token fails the request", func(t *testing.T) {
		h := newHarness(t)
		tx := begin(h, nil)
		h.fake.FailNext("PutItem", 5)
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
	refresh := func(h *harness, presented, rotated, client string) []byte {
		var m map[string]any
		_ = json.Unmarshal(h.hookPayload("", client, ""), &m)
		data := m["data"].(map[string]any)
		proto := data["context"].(map[string]any)["protocol"].(map[string]any)
		proto["request"] = map[string]any{"client_id": client}
		proto["originalGrant"] = map[string]any{
			"request":       map[string]any{"client_id": client, "state": "old", "redirect_uri": h.cfg.Callback()},
			"refresh_token": map[string]any{"jti": presented},
		}
		if rotated != "" {
			data["refresh_token"] = map[string]any{"jti": rotated}
		} else {
			delete(data, "refresh_token")
		}
		b, _ := json.Marshal(m)
		return b
	}
	h := newHarness(t)
	tx := h.authorize(authorizeQuery(h.register(nil), nil)).Query().Get("state")
	h.callHook(h.hookPayload(tx, appID, h.cfg.Callback()), hookSecret) // binds oarob4a0tckCkGcyo1d6

	t.Run("a refresh gets the grant's context again", func(t *testing.T) {
		_, hr := h.callHook(refresh(h, "oarob4a0tckCkGcyo1d6", "rotated-1", appID), hookSecret)
		if hr.Error != nil || claimsOf(hr)["patient"] != "pat-123" || claimsOf(hr)[launchclaims.Marker] != launchclaims.MarkerValue {
			t.Fatalf("answer %+v", hr)
		}
	})
	t.Run("the rotated refresh token keeps the context", func(t *testing.T) {
		_, hr := h.callHook(refresh(h, "rotated-1", "", appID), hookSecret)
		if hr.Error != nil || claimsOf(hr)["patient"] != "pat-123" {
			t.Fatalf("answer %+v", hr)
		}
	})
	t.Run("an unknown refresh token fails the request", func(t *testing.T) {
		if _, hr := h.callHook(refresh(h, "never-issued", "", appID), hookSecret); hr.Error == nil {
			t.Fatal("answered with commands")
		}
	})
	t.Run("another client's refresh fails the request", func(t *testing.T) {
		if _, hr := h.callHook(refresh(h, "oarob4a0tckCkGcyo1d6", "", otherApp), hookSecret); hr.Error == nil {
			t.Fatal("answered with commands")
		}
	})
}
