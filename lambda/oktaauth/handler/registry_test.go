package handler_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// registryApps builds n registry apps app00..: every third confidential (with
// its own secret in the fake Secrets Manager), public, or backend (with a
// freshly generated public key).
func registryApps(t testing.TB, e *env, n int) []map[string]any {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	jwk := map[string]any{"kty": "RSA", "kid": "svc-1", "alg": "RS384", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes())}
	var apps []map[string]any
	for i := range n {
		name := fmt.Sprintf("app%02d", i)
		switch i % 3 {
		case 0:
			apps = append(apps, map[string]any{"name": name, "type": "confidential",
				"redirectUris": []string{"https://" + name + ".example.com/callback"}, "refreshTokens": true,
				"scopes":    []string{"openid", "fhirUser", "launch/patient", "patient/*.rs"},
				"secretArn": e.sm.Put("smart-app-"+name, "{}")})
		case 1:
			apps = append(apps, map[string]any{"name": name, "type": "public",
				"redirectUris": []string{"https://" + name + ".example.com/cb"},
				"scopes":       []string{"openid", "user/Observation.*"}})
		default:
			apps = append(apps, map[string]any{"name": name, "type": "backend",
				"jwks": map[string]any{"keys": []any{jwk}}, "scopes": []string{"system/*.rs"}})
		}
	}
	return apps
}

func withApps(t testing.TB, ev customresource.Event, apps []map[string]any) customresource.Event {
	t.Helper()
	raw, err := json.Marshal(apps)
	require.NoError(t, err)
	ev.ResourceProperties = cloneProps(ev.ResourceProperties)
	ev.ResourceProperties[oktaprops.PropApps] = string(raw)
	return ev
}

func appNamed(apps []map[string]any, name string) map[string]any {
	i := slices.IndexFunc(apps, func(a map[string]any) bool { return a["name"] == name })
	return apps[i]
}

// appObjects are one registry app's objects in Okta, as the fake holds them.
type appObjects struct {
	client fakeokta.App
	policy fakeokta.Policy
	rule   fakeokta.Rule
}

// registryState maps app names to their Okta objects, and lists the app
// policies' names in priority order.
func registryState(t *testing.T, e *env) (map[string]appObjects, []string) {
	t.Helper()
	as := e.onlyServer()
	out := map[string]appObjects{}
	for _, a := range e.okta.Apps() {
		name, ok := a.Profile["smartApp"].(string)
		if !ok {
			continue
		}
		_, dup := out[name]
		require.False(t, dup, "two clients for app %s", name)
		p, ok := as.Policy(oktaprops.AppPolicyName(name))
		require.True(t, ok, "app %s has its policy", name)
		require.Len(t, p.Rules, 1, "app %s's policy has one rule", name)
		out[name] = appObjects{client: a, policy: *p, rule: *p.Rules[0]}
	}
	var order []string
	for _, p := range as.Policies { // the fake lists in priority order
		if name, ok := strings.CutPrefix(p.Name, oktaprops.AppPolicyPrefix); ok {
			order = append(order, name)
		}
	}
	return out, order
}

// assertUntouched checks that every app but the changed ones kept its
// objects, and that no write went to any of them.
func assertUntouched(t *testing.T, e *env, before, after map[string]appObjects, changed ...string) {
	t.Helper()
	writes := e.writes()
	for name, b := range before {
		if slices.Contains(changed, name) {
			continue
		}
		a, ok := after[name]
		if !assert.True(t, ok, "app %s still exists", name) {
			continue
		}
		assert.Equal(t, b.client, a.client, "app %s: its client (id, secret, settings) did not change", name)
		assert.Equal(t, b.rule, a.rule, "app %s: its rule (id, priority, scopes, lifetimes) did not change", name)
		assert.Equal(t, int64(1), a.rule.Priority)
		bp, ap := b.policy, a.policy
		bp.Priority, ap.Priority = 0, 0 // Okta's numbering; the order is checked by the caller
		assert.Equal(t, bp, ap, "app %s: its policy did not change", name)
		for _, w := range writes {
			for _, id := range []string{b.client.ID, b.policy.ID, b.rule.ID} {
				assert.NotContains(t, w, id, "app %s: a write went to its object %s", name, id)
			}
		}
	}
}

func TestFiftyAppsAreCreatedUnderThrottlingAndReadAcrossPages(t *testing.T) {
	// Lists of apps, policies and rules span pages, even at the handler's limit=200.
	e := newEnv(t, fakeokta.Options{PageSize: 7, MaxPageSize: 20})
	apps := registryApps(t, e, 50)
	ev := withApps(t, e.fullEvent(), apps)
	// 429s on every endpoint a registry app is made through; one of them
	// tells the SDK to wait a second, the others that the window has reset.
	faults := []*fault.Rule{
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/apps", After: 10, Times: 2, Kind: fault.Throttle, RetryAfter: 1 * time.Second}),
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/apps", After: 30, Times: 2, Kind: fault.Throttle}),
		e.okta.Faults.Add(fault.Rule{Op: "PUT /api/v1/apps/*/groups/*", After: 20, Times: 3, Kind: fault.Throttle}),
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/policies", After: 25, Times: 2, Kind: fault.Throttle}),
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/policies/*/rules", After: 40, Times: 2, Kind: fault.Throttle}),
	}
	resp, err := e.run(ev)
	require.NoError(t, err)
	for i, f := range faults {
		assert.Equal(t, map[int]int{0: 2, 1: 2, 2: 3, 3: 2, 4: 2}[i], e.okta.Faults.Fired(f), "fault %d fired and was waited out", i)
	}
	state, order := registryState(t, e)
	as := e.onlyServer()

	t.Run("each app has one client, tagged with the owner and its name, and one policy naming only that client", func(t *testing.T) {
		require.Len(t, state, 50)
		assert.Len(t, e.okta.Apps(), 54, "the four single clients too")
		for _, a := range apps {
			name := a["name"].(string)
			o := state[name]
			assert.Equal(t, "ACTIVE", o.client.Status)
			assert.Equal(t, []string{o.client.ID}, o.policy.Conditions.Clients.Include, name)
			assert.Equal(t, o.client.ID, resp.Data[oktaprops.AppDataKey(name)], "the client id is in Data under App.%s", name)
		}
	})
	t.Run("rules carry each app's expanded scopes and grant types", func(t *testing.T) {
		assert.Equal(t, []string{"openid", "launch/patient", "fhirUser", "patient/Patient.rs", "patient/Observation.rs", "offline_access"},
			state["app00"].rule.Conditions.Scopes.Include)
		assert.Equal(t, []string{"authorization_code"}, state["app00"].rule.Conditions.GrantTypes.Include)
		assert.Equal(t, []string{"authorization_code", "refresh_token"}, state["app00"].client.Settings.OauthClient.GrantTypes)
		assert.Equal(t, []string{"openid", "user/Observation.read", "user/Observation.rs", "user/Observation.cruds"},
			state["app01"].rule.Conditions.Scopes.Include)
		assert.Equal(t, []string{"client_credentials"}, state["app02"].rule.Conditions.GrantTypes.Include)
		assert.Equal(t, []string{"system/Patient.rs", "system/Observation.rs", "system/Group.rs"}, state["app02"].rule.Conditions.Scopes.Include)
		assert.Equal(t, "private_key_jwt", state["app02"].client.Credentials.OauthClient.TokenEndpointAuthMethod)
	})
	t.Run("app policies come first, in the list's order, then the single-client policies", func(t *testing.T) {
		var want []string
		for _, a := range apps {
			want = append(want, a["name"].(string))
		}
		assert.Equal(t, want, order)
		for i, p := range as.Policies {
			assert.Equal(t, int64(i+1), p.Priority)
		}
		assert.Equal(t, oktaprops.UserFacingPolicyName, as.Policies[50].Name)
		assert.Equal(t, oktaprops.BackendPolicyName, as.Policies[51].Name)
	})
	t.Run("user-facing apps are assigned the resource's groups", func(t *testing.T) {
		assert.Len(t, e.okta.RequestsMatching("PUT", "/api/v1/apps/*/groups/*"), 2+34+3, "two single clients, 34 user-facing apps, 3 retried")
	})
	t.Run("each confidential app's credential is in its own secret", func(t *testing.T) {
		for _, a := range apps {
			if a["type"] != "confidential" {
				continue
			}
			raw, ok := e.sm.Value(a["secretArn"].(string))
			require.True(t, ok)
			var doc map[string]string
			require.NoError(t, json.Unmarshal([]byte(raw), &doc))
			o := state[a["name"].(string)]
			assert.Equal(t, map[string]string{"issuer": as.Issuer, "clientId": o.client.ID,
				"clientSecret": o.client.Credentials.OauthClient.ClientSecret}, doc)
		}
	})
	t.Run("an update that changes nothing finds every app across the pages and writes nothing", func(t *testing.T) {
		e.okta.ResetRequests()
		_, err := e.run(updateEvent(ev, resp.PhysicalResourceID, nil))
		require.NoError(t, err)
		assert.Empty(t, e.writes())
		var pagedPolicies bool
		for _, r := range e.okta.RequestsMatching("GET", "/api/v1/authorizationServers/*/policies") {
			pagedPolicies = pagedPolicies || r.Query.Get("after") != ""
		}
		assert.True(t, pagedPolicies, "the 52 policies were read across pages")
		var pagedApps bool
		for _, r := range e.okta.RequestsMatching("GET", "/api/v1/apps") {
			pagedApps = pagedApps || r.Query.Get("after") != ""
		}
		assert.True(t, pagedApps, "the 54 apps were read across pages")
	})

	t.Run("delete removes every registry app", func(t *testing.T) {
		_, err := e.run(deleteEvent(ev, resp.PhysicalResourceID))
		require.NoError(t, err)
		assert.Empty(t, e.okta.Apps())
		assert.Empty(t, e.okta.AuthorizationServers())
	})
}

func TestChangingOneAppTouchesOnlyThatApp(t *testing.T) {
	e := newEnv(t, fakeokta.Options{PageSize: 20})
	apps := registryApps(t, e, 50)
	ev := withApps(t, e.fullEvent(), apps)
	resp, err := e.run(ev)
	require.NoError(t, err)
	id := resp.PhysicalResourceID
	secretPuts := func() int { return e.sm.Count("PutSecretValue") }

	// step runs an update to apps, edited; it returns the state before and after.
	step := func(t *testing.T, edit func([]map[string]any) []map[string]any) (before, after map[string]appObjects, orderBefore, orderAfter []string) {
		t.Helper()
		before, orderBefore = registryState(t, e)
		next := cloneApps(apps)
		next = edit(next)
		update := withApps(t, updateEvent(ev, id, nil), next)
		e.okta.ResetRequests()
		_, err := e.run(update)
		require.NoError(t, err)
		ev, apps = update, next
		after, orderAfter = registryState(t, e)
		return before, after, orderBefore, orderAfter
	}

	t.Run("removing an app in the middle deletes its client and policy and nothing else", func(t *testing.T) {
		puts := secretPuts()
		before, after, ob, oa := step(t, func(a []map[string]any) []map[string]any {
			return slices.DeleteFunc(a, func(m map[string]any) bool { return m["name"] == "app25" })
		})
		_, kept := e.okta.App(before["app25"].client.ID)
		assert.False(t, kept, "its client is deleted")
		assert.NotContains(t, after, "app25")
		_, ok := e.onlyServer().Policy(oktaprops.AppPolicyName("app25"))
		assert.False(t, ok, "its policy (and with it its rule) is deleted")
		assertUntouched(t, e, before, after, "app25")
		assert.Equal(t, slices.DeleteFunc(ob, func(n string) bool { return n == "app25" }), oa, "the other policies keep their order")
		assert.Equal(t, puts, secretPuts(), "no secret is rewritten")
		assert.ElementsMatch(t, []string{
			"POST /api/v1/apps/" + before["app25"].client.ID + "/lifecycle/deactivate",
			"DELETE /api/v1/apps/" + before["app25"].client.ID,
			"DELETE /api/v1/authorizationServers/" + id + "/policies/" + before["app25"].policy.ID,
		}, e.writes())
	})
	t.Run("changing an app's redirect URIs updates its client in place", func(t *testing.T) {
		before, after, ob, oa := step(t, func(a []map[string]any) []map[string]any {
			appNamed(a, "app30")["redirectUris"] = []string{"https://new.example.com/callback"}
			return a
		})
		assert.Equal(t, before["app30"].client.ID, after["app30"].client.ID)
		assert.Equal(t, before["app30"].client.Credentials.OauthClient.ClientSecret, after["app30"].client.Credentials.OauthClient.ClientSecret)
		assert.Equal(t, []string{"https://new.example.com/callback"}, after["app30"].client.Settings.OauthClient.RedirectURIs)
		assertUntouched(t, e, before, after, "app30")
		assert.Equal(t, ob, oa)
		assert.Equal(t, []string{"PUT /api/v1/apps/" + before["app30"].client.ID}, e.writes())
	})
	t.Run("narrowing an app's scopes updates its rule in place", func(t *testing.T) {
		before, after, ob, oa := step(t, func(a []map[string]any) []map[string]any {
			appNamed(a, "app31")["scopes"] = []string{"openid", "user/Observation.rs"}
			return a
		})
		assert.Equal(t, before["app31"].rule.ID, after["app31"].rule.ID)
		assert.Equal(t, []string{"openid", "user/Observation.rs"}, after["app31"].rule.Conditions.Scopes.Include)
		assertUntouched(t, e, before, after, "app31")
		assert.Equal(t, ob, oa)
		assert.Equal(t, []string{"PUT /api/v1/authorizationServers/" + id + "/policies/" + before["app31"].policy.ID + "/rules/" + before["app31"].rule.ID}, e.writes())
	})
	t.Run("adding an app puts its policy after the other apps' and before the single-client policies", func(t *testing.T) {
		before, after, ob, oa := step(t, func(a []map[string]any) []map[string]any {
			return append(a, map[string]any{"name": "newcomer", "type": "public", "redirectUris": []string{"https://n.example.com/cb"}, "scopes": []string{"openid"}})
		})
		assert.Contains(t, after, "newcomer")
		assertUntouched(t, e, before, after, "newcomer")
		assert.Equal(t, append(ob, "newcomer"), oa)
		as := e.onlyServer()
		assert.Equal(t, oktaprops.UserFacingPolicyName, as.Policies[len(as.Policies)-2].Name)
		assert.Len(t, e.okta.RequestsMatching("POST", "/api/v1/apps"), 1)
	})
}

func cloneApps(apps []map[string]any) []map[string]any {
	raw, _ := json.Marshal(apps)
	var out []map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

func TestAFailedRegistryUpdateAndItsRollbackKeepEveryApp(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	apps := registryApps(t, e, 6)
	create := withApps(t, e.fullEvent(), apps)
	resp, err := e.run(create)
	require.NoError(t, err)
	before, order := registryState(t, e)

	// The update removes app01, narrows app03's scopes and adds a confidential
	// app whose secret cannot be written: it fails after the new client exists.
	next := cloneApps(apps)
	next = slices.DeleteFunc(next, func(m map[string]any) bool { return m["name"] == "app01" })
	appNamed(next, "app03")["scopes"] = []string{"openid"}
	next = append(next, map[string]any{"name": "late", "type": "confidential", "redirectUris": []string{"https://late.example.com/cb"},
		"scopes": []string{"openid"}, "secretArn": e.sm.Put("smart-app-late", "{}")})
	update := withApps(t, updateEvent(create, resp.PhysicalResourceID, nil), next)
	e.sm.Faults.Add(fault.Rule{Op: "PutSecretValue", Times: 3})
	_, err = e.run(update)
	require.Error(t, err)

	t.Run("the failed update deleted nothing: the removed app's client and policy are there", func(t *testing.T) {
		_, ok := e.okta.App(before["app01"].client.ID)
		assert.True(t, ok)
		_, ok = e.onlyServer().Policy(oktaprops.AppPolicyName("app01"))
		assert.True(t, ok)
	})

	e.okta.ResetRequests()
	rollback := updateEvent(update, resp.PhysicalResourceID, nil)
	rollback.ResourceProperties = create.ResourceProperties
	out, err := e.run(rollback)
	require.NoError(t, err)
	after, orderAfter := registryState(t, e)

	t.Run("the rollback creates no client, and every app is as it was, ids and secrets included", func(t *testing.T) {
		assert.Empty(t, e.okta.RequestsMatching("POST", "/api/v1/apps"))
		require.Len(t, after, 6)
		for name, b := range before {
			assert.Equal(t, b.client, after[name].client, name)
			assert.Equal(t, b.policy.ID, after[name].policy.ID, name)
			assert.Equal(t, b.rule.ID, after[name].rule.ID, name)
			assert.Equal(t, b.client.ID, out.Data[oktaprops.AppDataKey(name)])
		}
		assert.Equal(t, before["app03"].rule.Conditions, after["app03"].rule.Conditions, "app03's scopes are back")
		assert.Equal(t, order, orderAfter)
	})
	t.Run("the app the failed update added is removed", func(t *testing.T) {
		assert.NotContains(t, after, "late")
		_, ok := e.onlyServer().Policy(oktaprops.AppPolicyName("late"))
		assert.False(t, ok)
	})
}

func TestAddingAppsToADeployedStackKeepsItsSingleClients(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	resp, err := e.run(create)
	require.NoError(t, err)
	kinds := appsByKind(e.okta)
	as := e.onlyServer()
	user, _ := as.Policy(oktaprops.UserFacingPolicyName)
	backend, _ := as.Policy(oktaprops.BackendPolicyName)

	update := withApps(t, updateEvent(create, resp.PhysicalResourceID, nil), registryApps(t, e, 3))
	out, err := e.run(update)
	require.NoError(t, err)

	after := appsByKind(e.okta)
	for kind, a := range kinds {
		assert.Equal(t, a, after[kind], "the %s client is unchanged", kind)
	}
	assert.Equal(t, kinds["confidential"].ID, out.Data["ConfidentialClientId"])
	as = e.onlyServer()
	u, _ := as.Policy(oktaprops.UserFacingPolicyName)
	b, _ := as.Policy(oktaprops.BackendPolicyName)
	assert.Equal(t, user.ID, u.ID)
	assert.Equal(t, backend.ID, b.ID)
	assert.Equal(t, user.Rules[0].ID, u.Rules[0].ID)
	assert.Equal(t, []int64{4, 5}, []int64{u.Priority, b.Priority}, "after the three app policies")

	t.Run("removing the apps again puts the single-client policies back first", func(t *testing.T) {
		_, err := e.run(updateEvent(update, resp.PhysicalResourceID, func(p map[string]any) { delete(p, oktaprops.PropApps) }))
		require.NoError(t, err)
		as := e.onlyServer()
		require.Len(t, as.Policies, 2)
		assert.Equal(t, user.ID, as.Policies[0].ID)
		assert.Equal(t, int64(1), as.Policies[0].Priority)
		assert.Len(t, e.okta.Apps(), 4)
	})
}

func TestAppsWithCatchAllPoliciesAreRefusedBeforeOktaIsCalled(t *testing.T) {
	// With PolicyAssignment ALL_CLIENTS the single-client policies admit any
	// client, and Okta tries the next policy when an app's own has no rule
	// that matches (management API spec, Policy evaluation): a backend app
	// limited to system/Observation.rs asking for system/Patient.rs would be
	// granted it by the backend catch-all. So the combination is refused.
	e := newEnv(t, fakeokta.Options{})
	apps := registryApps(t, e, 3)
	appNamed(apps, "app02")["scopes"] = []string{"system/Observation.rs"}
	ev := withApps(t, e.fullEvent(), apps)
	ev.ResourceProperties["PolicyAssignment"] = "ALL_CLIENTS"
	_, err := e.run(ev)
	var perr *cfnprops.PropertyError
	require.True(t, errors.As(err, &perr), "got %v", err)
	assert.Equal(t, oktaprops.PropApps, perr.Property)
	assert.Contains(t, perr.Reason, "PolicyAssignment ALL_CLIENTS")
	assert.Contains(t, perr.Reason, "next policy")
	assert.Empty(t, e.okta.Requests(), "refused before Okta is called")

	t.Run("an Update adding apps to a stack with catch-all policies is refused too, leaving it as it was", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		create := e.fullEvent()
		create.ResourceProperties["PolicyAssignment"] = "ALL_CLIENTS"
		resp, err := e.run(create)
		require.NoError(t, err)
		before := len(e.okta.Apps())
		up := withApps(t, updateEvent(create, resp.PhysicalResourceID, nil), registryApps(t, e, 2))
		_, err = e.run(up)
		require.True(t, errors.As(err, &perr), "got %v", err)
		assert.Equal(t, oktaprops.PropApps, perr.Property)
		assert.Len(t, e.okta.Apps(), before)
	})
}

func TestUserFacingAppsRulesUseTheResourcesTokenHook(t *testing.T) {
	// The hook adds the launch context; a user-facing app launched from the EHR
	// needs it as much as the single user-facing client. Client credentials
	// have no launch, so a backend app's rule has none.
	e := newEnv(t, fakeokta.Options{})
	ev, _ := e.hookEvent()
	ev = withApps(t, ev, registryApps(t, e, 3))
	resp, err := e.run(ev)
	require.NoError(t, err)
	hookID := userRule(t, e.onlyServer()).Actions.Token.InlineHook.ID
	require.NotEmpty(t, hookID)
	state, _ := registryState(t, e)
	for _, name := range []string{"app00", "app01"} {
		require.NotNil(t, state[name].rule.Actions.Token.InlineHook, name)
		assert.Equal(t, hookID, state[name].rule.Actions.Token.InlineHook.ID, name)
	}
	assert.Nil(t, state["app02"].rule.Actions.Token.InlineHook, "the backend app's rule")

	t.Run("delete detaches the hook from the apps' rules too and removes everything", func(t *testing.T) {
		_, err := e.run(deleteEvent(ev, resp.PhysicalResourceID))
		require.NoError(t, err)
		assert.Empty(t, e.okta.Apps())
		assert.Empty(t, e.okta.InlineHooks())
	})
}

func TestTheLargestRegistryTheContractAllowsFitsTheResponse(t *testing.T) {
	// Fifty apps with names as long as the contract's response budget allows
	// at that count with every single client and secret: every client id is
	// in Data, and the body the Provider framework sends stays under
	// CloudFormation's 4096 bytes.
	e := newEnv(t, fakeokta.Options{})
	apps := registryApps(t, e, 50)
	for i, a := range apps {
		a["name"] = fmt.Sprintf("app%02d-abcdefgh", i)
	}
	ev := withApps(t, e.fullEvent(), apps)
	resp, err := e.run(ev)
	require.NoError(t, err)
	for _, a := range apps {
		assert.Regexp(t, `^0oa[A-Za-z0-9]{17}$`, resp.Data[oktaprops.AppDataKey(a["name"].(string))])
	}
	body := cfnprops.SuccessResponse(ev.StackID, ev.RequestID, ev.LogicalResourceID, resp.PhysicalResourceID, resp.Data)
	assert.LessOrEqual(t, body.Size(), cfnprops.MaxResponseBytes)
	t.Logf("framework body: %d bytes", body.Size())
}

func TestACreateWhoseResponseIsTooLargeRemovesWhatItMade(t *testing.T) {
	// The contract bounds the response at parse with a reserve for a custom
	// domain's issuer; a longer custom domain is only known once Okta
	// answers. CloudFormation would refuse the response after every object
	// exists, and the Delete of a failed Create never reaches the handler,
	// so the Create itself must remove them.
	// A 251-character host (DNS allows 253).
	e := newEnv(t, fakeokta.Options{CustomDomain: "https://" + strings.Repeat("login-", 40) + "example.org"})
	ev := withApps(t, e.fullEvent(), registryApps(t, e, 45))
	ev.ResourceProperties["IssuerMode"] = "CUSTOM_URL"
	_, err := oktaprops.Parse(ev.ResourceProperties)
	require.NoError(t, err, "the contract's bound, with its reserve for the custom domain, lets it through")
	_, err = e.run(ev)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "over CloudFormation's 4096-byte limit on a custom resource response")
	assert.Contains(t, err.Error(), "the 45 apps' client ids")
	assert.Zero(t, len(e.okta.AuthorizationServers()), "the server (with its scopes, claims and policies) is removed")
	assert.Zero(t, len(e.okta.Apps()), "every client is removed")
}

func TestChangingAnAppsTypeReplacesItsClientAndTheRollbackReplacesItBack(t *testing.T) {
	// Okta cannot change an app's application_type after creation (developer
	// docs, Apps API reference; the fake refuses the PUT like Okta), so a
	// public app becoming confidential gets a new client under its name.
	e := newEnv(t, fakeokta.Options{})
	apps := registryApps(t, e, 3) // app00 confidential, app01 public, app02 backend
	create := withApps(t, e.fullEvent(), apps)
	resp, err := e.run(create)
	require.NoError(t, err)
	before, order := registryState(t, e)
	require.Equal(t, "browser", before["app01"].client.Settings.OauthClient.ApplicationType)

	next := cloneApps(apps)
	appNamed(next, "app01")["type"] = "confidential"
	secret := e.sm.Put("smart-app-app01", "{}")
	appNamed(next, "app01")["secretArn"] = secret
	update := withApps(t, updateEvent(create, resp.PhysicalResourceID, nil), next)
	out, err := e.run(update)
	require.NoError(t, err)
	after, orderAfter := registryState(t, e)

	t.Run("the app has a new web client, named by its policy, and its secret holds the new id", func(t *testing.T) {
		c := after["app01"].client
		assert.NotEqual(t, before["app01"].client.ID, c.ID)
		assert.Equal(t, "web", c.Settings.OauthClient.ApplicationType)
		assert.Equal(t, "client_secret_basic", c.Credentials.OauthClient.TokenEndpointAuthMethod)
		assert.Equal(t, c.Credentials.OauthClient.ClientID, out.Data[oktaprops.AppDataKey("app01")])
		assert.Equal(t, []string{c.Credentials.OauthClient.ClientID}, after["app01"].policy.Conditions.Clients.Include)
		raw, ok := e.sm.Value(secret)
		require.True(t, ok)
		var doc oktaprops.AppSecretDocument
		require.NoError(t, json.Unmarshal([]byte(raw), &doc))
		assert.Equal(t, c.Credentials.OauthClient.ClientID, doc.ClientID)
		assert.NotEmpty(t, doc.ClientSecret)
	})
	t.Run("the old client is gone, and the app's policy stays in its place", func(t *testing.T) {
		_, ok := e.okta.App(before["app01"].client.ID)
		assert.False(t, ok)
		assert.Equal(t, before["app01"].policy.ID, after["app01"].policy.ID)
		assert.Equal(t, order, orderAfter)
	})
	t.Run("the other apps are untouched", func(t *testing.T) {
		assert.Equal(t, before["app00"].client, after["app00"].client)
		assert.Equal(t, before["app02"].client, after["app02"].client)
	})

	t.Run("a rollback makes it a public browser client again", func(t *testing.T) {
		rollback := updateEvent(update, resp.PhysicalResourceID, nil)
		rollback.ResourceProperties = create.ResourceProperties
		out, err := e.run(rollback)
		require.NoError(t, err)
		back, _ := registryState(t, e)
		c := back["app01"].client
		assert.Equal(t, "browser", c.Settings.OauthClient.ApplicationType)
		assert.Equal(t, "none", c.Credentials.OauthClient.TokenEndpointAuthMethod)
		assert.Equal(t, c.Credentials.OauthClient.ClientID, out.Data[oktaprops.AppDataKey("app01")])
		_, ok := e.okta.App(after["app01"].client.ID)
		assert.False(t, ok, "the confidential client is removed")
	})

	t.Run("a native public app becoming a browser one is replaced too", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		apps := registryApps(t, e, 2)
		appNamed(apps, "app01")["applicationType"] = "native"
		create := withApps(t, e.fullEvent(), apps)
		resp, err := e.run(create)
		require.NoError(t, err)
		before, _ := registryState(t, e)
		next := cloneApps(apps)
		delete(appNamed(next, "app01"), "applicationType")
		_, err = e.run(withApps(t, updateEvent(create, resp.PhysicalResourceID, nil), next))
		require.NoError(t, err)
		after, _ := registryState(t, e)
		assert.NotEqual(t, before["app01"].client.ID, after["app01"].client.ID)
		assert.Equal(t, "browser", after["app01"].client.Settings.OauthClient.ApplicationType)
	})
}

func TestAnAppPointedAtTheManagementCredentialIsRefusedBeforeAnythingIsWritten(t *testing.T) {
	// The handler writes a confidential app's client id and secret to its
	// secretArn: pointed at CredentialSecretArn, it would overwrite the Okta
	// management credential.
	e := newEnv(t, fakeokta.Options{})
	apps := registryApps(t, e, 1)
	apps[0]["secretArn"] = e.credARN
	before, _ := e.sm.Value(e.credARN)
	_, err := e.run(withApps(t, e.fullEvent(), apps))
	var perr *cfnprops.PropertyError
	require.True(t, errors.As(err, &perr), "got %v", err)
	assert.Equal(t, oktaprops.PropApps, perr.Property)
	assert.Contains(t, err.Error(), `Apps[0] "app00": secretArn is also CredentialSecretArn`)
	assert.Empty(t, e.okta.Requests())
	assert.Zero(t, e.sm.Count("PutSecretValue"))
	after, _ := e.sm.Value(e.credARN)
	assert.Equal(t, before, after)
}
