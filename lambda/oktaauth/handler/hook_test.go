package handler_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/reconcile"
)

const hookURL = "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/hook"

// hookEvent is the full create event with the token hook props; the secret
// holds a fresh random header value, which it returns.
func (e *env) hookEvent() (customresource.Event, string) {
	e.t.Helper()
	b := make([]byte, 24)
	_, err := rand.Read(b)
	require.NoError(e.t, err)
	secret := "hook-" + hex.EncodeToString(b)
	arn := e.sm.Put("ehr-launch-hook-secret", secret)
	ev := e.fullEvent()
	ev.ResourceProperties[oktaprops.PropTokenHookURL] = hookURL
	ev.ResourceProperties[oktaprops.PropTokenHookSecretARN] = arn
	return ev, secret
}

func userRule(t *testing.T, as fakeokta.AuthorizationServer) *fakeokta.Rule {
	t.Helper()
	p, ok := as.Policy(oktaprops.UserFacingPolicyName)
	require.True(t, ok)
	rule, ok := p.Rule(oktaprops.UserFacingRuleName)
	require.True(t, ok)
	return rule
}

// index is the position of the first request matching method and pattern, or -1.
func index(reqs []fakeokta.Request, method, pattern string) int {
	return slices.IndexFunc(reqs, func(r fakeokta.Request) bool {
		return r.Method == method && r.Status < 300 && fakeokta.PathMatches(pattern, r.Path)
	})
}

// noSecretIn fails when the secret shows in the logs, in a response's Data or
// in an error.
func noSecretIn(t *testing.T, e *env, secret string, resp customresource.OnEventResponse, err error) {
	t.Helper()
	assert.NotContains(t, e.logs.String(), secret, "logs")
	raw, _ := json.Marshal(resp)
	assert.NotContains(t, string(raw), secret, "response")
	if err != nil {
		assert.NotContains(t, err.Error(), secret, "error")
	}
}

func TestTokenHookIsRegisteredActivatedAndAttached(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	ev, secret := e.hookEvent()
	resp, err := e.run(ev)
	require.NoError(t, err)
	owner := reconcile.Owner{StackID: ev.StackID, LogicalID: ev.LogicalResourceID}

	hooks := e.okta.InlineHooks()
	require.Len(t, hooks, 1)
	h := hooks[0]
	t.Run("the hook is an active HTTP token hook calling the URL with the secret as Authorization header", func(t *testing.T) {
		assert.Equal(t, fakeokta.TokenHookType, h.Type)
		assert.Equal(t, "1.0.0", h.Version)
		assert.Equal(t, "ACTIVE", h.Status)
		assert.Equal(t, "HTTP", h.Channel.Type)
		assert.Equal(t, "1.0.0", h.Channel.Version)
		assert.Equal(t, hookURL, h.Channel.Config.URI)
		assert.Equal(t, "POST", h.Channel.Config.Method)
		require.NotNil(t, h.Channel.Config.AuthScheme)
		assert.Equal(t, fakeokta.HookAuthScheme{Type: "HEADER", Key: "Authorization", Value: secret}, *h.Channel.Config.AuthScheme)
	})
	t.Run("its name is the server's with this resource's ownership marker", func(t *testing.T) {
		assert.Equal(t, "smart-healthlake SMART token hook "+owner.Marker(), h.Name)
		assert.True(t, owner.Owns(h.Name))
	})
	t.Run("the user-facing rule references it, the backend rule does not", func(t *testing.T) {
		as := e.onlyServer()
		rule := userRule(t, as)
		require.NotNil(t, rule.Actions.Token.InlineHook)
		assert.Equal(t, h.ID, rule.Actions.Token.InlineHook.ID)
		p, _ := as.Policy(oktaprops.BackendPolicyName)
		backend, _ := p.Rule(oktaprops.BackendRuleName)
		assert.Nil(t, backend.Actions.Token.InlineHook)
	})
	t.Run("the hook is made before the policies", func(t *testing.T) {
		reqs := e.okta.Requests()
		assert.Less(t, index(reqs, "POST", "/api/v1/inlineHooks"), index(reqs, "POST", "/api/v1/authorizationServers/*/policies"))
	})
	t.Run("the secret is in no log, Data or error", func(t *testing.T) {
		noSecretIn(t, e, secret, resp, nil)
	})

	t.Run("a re-run only puts the hook back (Okta never shows the secret, so it cannot be compared)", func(t *testing.T) {
		e.okta.ResetRequests()
		out, err := e.run(updateEvent(ev, resp.PhysicalResourceID, nil))
		require.NoError(t, err)
		assert.Equal(t, []string{"PUT /api/v1/inlineHooks/" + h.ID}, e.writes())
		put := e.okta.RequestsMatching("PUT", "/api/v1/inlineHooks/*")[0]
		value, _ := json.Marshal(put.Body)
		assert.Contains(t, string(value), secret, "the PUT carries the secret again")
		assert.NotContains(t, string(value), `"type":"com.okta`, "the replace body has no type (InlineHookReplace)")
		noSecretIn(t, e, secret, out, nil)
	})
	t.Run("a new URL updates the same hook in place", func(t *testing.T) {
		e.okta.ResetRequests()
		_, err := e.run(updateEvent(ev, resp.PhysicalResourceID, func(p map[string]any) {
			p[oktaprops.PropTokenHookURL] = "https://launch.example.org/okta/hook"
		}))
		require.NoError(t, err)
		assert.Equal(t, []string{"PUT /api/v1/inlineHooks/" + h.ID}, e.writes())
		hooks := e.okta.InlineHooks()
		require.Len(t, hooks, 1)
		assert.Equal(t, "https://launch.example.org/okta/hook", hooks[0].Channel.Config.URI)
		assert.Equal(t, h.ID, userRule(t, e.onlyServer()).Actions.Token.InlineHook.ID)
	})
	t.Run("a rotated secret reaches Okta on the next update", func(t *testing.T) {
		e.sm.Put("ehr-launch-hook-secret", "rotated-"+secret)
		_, err := e.run(updateEvent(ev, resp.PhysicalResourceID, nil))
		require.NoError(t, err)
		assert.Equal(t, "rotated-"+secret, e.okta.InlineHooks()[0].Channel.Config.AuthScheme.Value)
	})
	t.Run("renaming the server renames its hook, which stays the same one", func(t *testing.T) {
		_, err := e.run(updateEvent(ev, resp.PhysicalResourceID, func(p map[string]any) { p[oktaprops.PropName] = "clinic-smart" }))
		require.NoError(t, err)
		hooks := e.okta.InlineHooks()
		require.Len(t, hooks, 1)
		assert.Equal(t, h.ID, hooks[0].ID)
		assert.Equal(t, "clinic-smart SMART token hook "+owner.Marker(), hooks[0].Name)
	})
	t.Run("a hook an admin deactivated is activated again", func(t *testing.T) {
		_, _, err := directClient(t, e).InlineHook.DeactivateInlineHook(t.Context(), h.ID)
		require.NoError(t, err)
		_, err = e.run(updateEvent(ev, resp.PhysicalResourceID, nil))
		require.NoError(t, err)
		assert.Equal(t, "ACTIVE", e.okta.InlineHooks()[0].Status)
	})
}

func TestDeleteDetachesTheHookThenRemovesIt(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	ev, secret := e.hookEvent()
	resp, err := e.run(ev)
	require.NoError(t, err)
	hookID := e.okta.InlineHooks()[0].ID
	e.okta.ResetRequests()

	out, err := e.run(deleteEvent(ev, resp.PhysicalResourceID))
	require.NoError(t, err)
	assert.Empty(t, e.okta.InlineHooks())
	assert.Empty(t, e.okta.AuthorizationServers())
	reqs := e.okta.Requests()
	detach := index(reqs, "PUT", "/api/v1/authorizationServers/*/policies/*/rules/*")
	deactivate := index(reqs, "POST", "/api/v1/inlineHooks/"+hookID+"/lifecycle/deactivate")
	del := index(reqs, "DELETE", "/api/v1/inlineHooks/"+hookID)
	server := index(reqs, "DELETE", "/api/v1/authorizationServers/*")
	require.GreaterOrEqual(t, detach, 0, "the rule is detached from the hook")
	_, hasHook := reqs[detach].Body.(map[string]any)["actions"].(map[string]any)["token"].(map[string]any)["inlineHook"]
	assert.False(t, hasHook, "the detaching PUT has no inlineHook")
	assert.Less(t, detach, deactivate)
	assert.Less(t, deactivate, del)
	assert.Less(t, del, server)
	noSecretIn(t, e, secret, out, nil)
}

func TestUpdateWithoutTheHookPropsRemovesTheHookLast(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	ev, _ := e.hookEvent()
	resp, err := e.run(ev)
	require.NoError(t, err)
	hookID := e.okta.InlineHooks()[0].ID
	e.okta.ResetRequests()

	_, err = e.run(updateEvent(ev, resp.PhysicalResourceID, func(p map[string]any) {
		delete(p, oktaprops.PropTokenHookURL)
		delete(p, oktaprops.PropTokenHookSecretARN)
	}))
	require.NoError(t, err)
	assert.Empty(t, e.okta.InlineHooks())
	assert.Nil(t, userRule(t, e.onlyServer()).Actions.Token.InlineHook)
	assert.Equal(t, []string{
		"PUT /api/v1/authorizationServers/" + resp.PhysicalResourceID + "/policies/" + userPolicyID(t, e) + "/rules/" + userRule(t, e.onlyServer()).ID,
		"POST /api/v1/inlineHooks/" + hookID + "/lifecycle/deactivate",
		"DELETE /api/v1/inlineHooks/" + hookID,
	}, e.writes())
}

func userPolicyID(t *testing.T, e *env) string {
	p, ok := e.onlyServer().Policy(oktaprops.UserFacingPolicyName)
	require.True(t, ok)
	return p.ID
}

func TestCreateFailingAfterTheHookRemovesIt(t *testing.T) {
	cases := []struct {
		name string
		fail func(e *env)
	}{
		{"the policies fail, before the rule references the hook", func(e *env) {
			e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/policies", Kind: fault.Invalid})
		}},
		{"the secret write fails, after the rule references the hook", func(e *env) {
			e.sm.Faults.Add(fault.Rule{Op: "PutSecretValue", Times: 3}) // every attempt of the SDK
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			ev, secret := e.hookEvent()
			tc.fail(e)
			out, err := e.run(ev)
			require.Error(t, err)
			require.NotEmpty(t, e.okta.RequestsMatching("POST", "/api/v1/inlineHooks"), "the hook was made")
			assert.Empty(t, e.okta.InlineHooks(), "and removed")
			assert.Empty(t, e.okta.AuthorizationServers())
			reqs := e.okta.Requests()
			assert.Less(t, index(reqs, "POST", "/api/v1/inlineHooks/*/lifecycle/deactivate"), index(reqs, "DELETE", "/api/v1/inlineHooks/*"))
			noSecretIn(t, e, secret, out, err)
		})
	}
}

func TestAHookWithTheNameButWithoutTheMarkerIsAClash(t *testing.T) {
	cases := map[string]string{
		"no marker":                 reconcile.HookBaseName("smart-healthlake"),
		"another resource's marker": reconcile.HookBaseName("smart-healthlake") + " [cfn-0123456789abcdef]",
	}
	for name, hookName := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			theirs := e.okta.AddInlineHook(hookName, fakeokta.TokenHookType, "ACTIVE")
			ev, secret := e.hookEvent()
			_, err := e.run(ev)
			var clash *reconcile.HookNameClashError
			require.True(t, errors.As(err, &clash), "got %v", err)
			assert.Equal(t, theirs, clash.ExistingID)
			assert.Contains(t, err.Error(), "never adopted")
			hooks := e.okta.InlineHooks()
			require.Len(t, hooks, 1, "nothing made")
			assert.Equal(t, "ACTIVE", hooks[0].Status, "theirs is left alone")
			for _, r := range e.okta.Requests() {
				assert.False(t, r.Method != "GET" && strings.Contains(r.Path, theirs), "no write to their hook: %s %s", r.Method, r.Path)
			}
			assert.Empty(t, e.okta.AuthorizationServers(), "the failed create removed its server")
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestAHookMadeElsewhereIsReferencedByItsID(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	resp, err := e.run(create)
	require.NoError(t, err)
	theirs := e.okta.AddInlineHook("EHR context hook", fakeokta.TokenHookType, "ACTIVE")
	e.okta.ResetRequests()

	_, err = e.run(updateEvent(create, resp.PhysicalResourceID, func(p map[string]any) { p[oktaprops.PropTokenInlineHookID] = theirs }))
	require.NoError(t, err)
	assert.Equal(t, []string{"PUT /api/v1/authorizationServers/*/policies/*/rules/*"}, patterns(e.writes()))
	assert.Equal(t, theirs, userRule(t, e.onlyServer()).Actions.Token.InlineHook.ID)

	t.Run("and is never deleted with the server", func(t *testing.T) {
		_, err := e.run(deleteEvent(create, resp.PhysicalResourceID))
		require.NoError(t, err)
		require.Len(t, e.okta.InlineHooks(), 1)
		assert.Equal(t, "ACTIVE", e.okta.InlineHooks()[0].Status)
	})
}

// patterns replaces the ids in "METHOD path" lines with "*".
func patterns(writes []string) []string {
	out := make([]string, len(writes))
	for i, w := range writes {
		method, path, _ := strings.Cut(w, " ")
		segs := strings.Split(path, "/")
		for j, s := range segs {
			if len(s) == 20 && j > 3 {
				segs[j] = "*"
			}
		}
		out[i] = method + " " + strings.Join(segs, "/")
	}
	return out
}

func TestAnUnreadableHookSecretFailsTheCreateNamingTheSecret(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	ev, _ := e.hookEvent()
	missing := "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-such-hook-secret-AbCdEf"
	ev.ResourceProperties[oktaprops.PropTokenHookSecretARN] = missing
	_, err := e.run(ev)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading the token hook secret "+missing)
	assert.Empty(t, e.okta.InlineHooks())
	assert.Empty(t, e.okta.AuthorizationServers())
}

func TestOktaRefusingTheHookFailsTheCreateNamingTheHookNotItsSecret(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	ev, secret := e.hookEvent()
	e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/inlineHooks", Kind: fault.Invalid,
		Message: "Api validation failed: channel.config.uri"})
	out, err := e.run(ev)
	require.Error(t, err)
	assert.Regexp(t, `^creating token inline hook "smart-healthlake SMART token hook \[cfn-[0-9a-f]{16}\]": the API returned an error: Api validation failed: channel.config.uri`, err.Error())
	assert.Empty(t, e.okta.InlineHooks())
	assert.Empty(t, e.okta.AuthorizationServers(), "the failed create removed its server")
	noSecretIn(t, e, secret, out, err)
}
