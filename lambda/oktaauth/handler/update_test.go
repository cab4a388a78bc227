package handler_test

import (
	"slices"
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

func appsByKind(f *fakeokta.Server) map[string]fakeokta.App {
	out := map[string]fakeokta.App{}
	for _, a := range f.Apps() {
		if kind, ok := a.Profile["smartClient"].(string); ok { // registry apps have none
			out[kind] = a
		}
	}
	return out
}

func TestUpdateReconcilesInPlace(t *testing.T) {
	cases := []struct {
		name   string
		before func(p map[string]any) // changes to the create's properties
		edit   func(p map[string]any)
		check  func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer)
		writes []string // exactly these non-GET requests, in order ("*" for ids)
	}{
		{
			name: "adding a resource type creates its scopes and grants them in the rules",
			edit: func(p map[string]any) { p["ScopeResources"] = []any{"Patient", "Observation", "Condition"} },
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				added := slices.DeleteFunc(after.CustomScopeNames(), func(n string) bool { return slices.Contains(before.CustomScopeNames(), n) })
				assert.Equal(t, []string{"patient/Condition.read", "patient/Condition.rs", "patient/Condition.cruds",
					"user/Condition.read", "user/Condition.rs", "user/Condition.cruds",
					"system/Condition.read", "system/Condition.rs", "system/Condition.cruds"}, added)
				user, _ := after.Policy(oktaprops.UserFacingPolicyName)
				rule, _ := user.Rule(oktaprops.UserFacingRuleName)
				assert.Contains(t, rule.Conditions.Scopes.Include, "user/Condition.rs")
				backend, _ := after.Policy(oktaprops.BackendPolicyName)
				brule, _ := backend.Rule(oktaprops.BackendRuleName)
				assert.Contains(t, brule.Conditions.Scopes.Include, "system/Condition.cruds")
				assert.Equal(t, rule.ID, before.Policies[0].Rules[0].ID, "the rule is updated, not replaced")
			},
		},
		{
			name: "removing a resource type and a permission deletes their scopes after the rules stop naming them",
			edit: func(p map[string]any) {
				p["ScopeResources"] = []any{"Patient"}
				p["ScopePermissionsV2"] = []any{"rs"}
			},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				for _, n := range after.CustomScopeNames() {
					assert.NotContains(t, n, "Observation")
					assert.NotContains(t, n, "cruds")
				}
				assert.Contains(t, after.CustomScopeNames(), "patient/Patient.rs")
				// Rules were updated before any scope was deleted.
				var lastRulePut, firstScopeDelete int = -1, -1
				for i, r := range e.okta.Requests() {
					if r.Method == "PUT" && fakeokta.PathMatches("/api/v1/authorizationServers/*/policies/*/rules/*", r.Path) {
						lastRulePut = i
					}
					if r.Method == "DELETE" && fakeokta.PathMatches("/api/v1/authorizationServers/*/scopes/*", r.Path) && firstScopeDelete < 0 {
						firstScopeDelete = i
					}
				}
				assert.Less(t, lastRulePut, firstScopeDelete)
			},
		},
		{
			name: "changing token lifetimes updates the rule with a PUT",
			edit: func(p map[string]any) {
				p["AccessTokenLifetimeMinutes"] = "15"
				p["RefreshTokenLifetimeMinutes"] = "43200"
			},
			writes: []string{"PUT /api/v1/authorizationServers/*/policies/*/rules/*"},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				user, _ := after.Policy(oktaprops.UserFacingPolicyName)
				rule, _ := user.Rule(oktaprops.UserFacingRuleName)
				assert.Equal(t, int64(15), rule.Actions.Token.AccessTokenLifetimeMinutes)
				assert.Equal(t, int64(43200), rule.Actions.Token.RefreshTokenLifetimeMinutes)
				assert.Equal(t, int64(10080), rule.Actions.Token.RefreshTokenWindowMinutes)
			},
		},
		{
			name: "changing scope consent updates every clinical scope and asks apps for consent",
			edit: func(p map[string]any) { p["ScopeConsent"] = "REQUIRED" },
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				sc, _ := after.Scope("patient/Patient.rs")
				assert.Equal(t, "REQUIRED", sc.Consent)
				launch, _ := after.Scope("launch/patient")
				assert.Equal(t, "IMPLICIT", launch.Consent)
				apps := appsByKind(e.okta)
				assert.Equal(t, "REQUIRED", apps["confidential"].Settings.OauthClient.ConsentMethod)
				assert.Equal(t, "TRUSTED", apps["backend"].Settings.OauthClient.ConsentMethod)
				assert.Len(t, e.okta.RequestsMatching("PUT", "/api/v1/authorizationServers/*/scopes/*"), 19)
				assert.Len(t, e.okta.RequestsMatching("POST", "/api/v1/authorizationServers/*/scopes"), 0)
			},
		},
		{
			name: "changing the fhirUser attribute updates both fhirUser claims",
			edit: func(p map[string]any) { p["FhirUserAttribute"] = "fhirUserRef" },
			writes: []string{
				"POST /api/v1/meta/schemas/user/default", // the new attribute, before the claims read it
				"PUT /api/v1/authorizationServers/*/claims/*",
				"PUT /api/v1/authorizationServers/*/claims/*",
			},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				for _, ct := range []string{"IDENTITY", "RESOURCE"} {
					c, _ := after.Claim("fhirUser", ct)
					assert.Equal(t, "user.fhirUserRef", c.Value)
				}
				attrs := e.okta.CustomUserAttributes()
				assert.Contains(t, attrs, "fhirUserRef")
				assert.Contains(t, attrs, "fhirUser", "the old attribute stays: it may hold users' data")
			},
		},
		{
			name: "removing the patient claim and adding an extra claim",
			edit: func(p map[string]any) {
				p["PatientClaim"] = "false"
				p["ExtraClaims"] = `[{"name":"organization","value":"user.organization","claimType":"RESOURCE","scopes":["launch"]},` +
					`{"name":"groups","valueType":"GROUPS","groupFilterType":"STARTS_WITH","value":"smart-","claimType":"IDENTITY","scopes":["openid"]}]`
			},
			writes: []string{
				"POST /api/v1/authorizationServers/*/claims",
				"DELETE /api/v1/authorizationServers/*/claims/*",
			},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				_, ok := after.Claim("patient", "RESOURCE")
				assert.False(t, ok)
				g, ok := after.Claim("groups", "IDENTITY")
				require.True(t, ok)
				assert.Equal(t, "GROUPS", g.ValueType)
				assert.Equal(t, "STARTS_WITH", g.GroupFilterType)
			},
		},
		{
			name: "changing redirect URIs updates the app in place",
			edit: func(p map[string]any) {
				p["ConfidentialClientRedirectUris"] = []any{"https://app.example.com/callback", "https://app.example.com/cb2"}
			},
			writes: []string{"PUT /api/v1/apps/*"},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				conf := appsByKind(e.okta)["confidential"]
				assert.Equal(t, []string{"https://app.example.com/callback", "https://app.example.com/cb2"}, conf.Settings.OauthClient.RedirectURIs)
				put := e.okta.RequestsMatching("PUT", "/api/v1/apps/*")[0]
				cid, _ := put.Body.(map[string]any)["credentials"].(map[string]any)["oauthClient"].(map[string]any)["client_id"]
				assert.Equal(t, conf.Credentials.OauthClient.ClientID, cid, "Okta's app PUT wants the client_id back")
			},
		},
		{
			name: "removing the backend client deletes the app (deactivated first) and its now client-less policy",
			edit: func(p map[string]any) { p["BackendClient"] = "false" },
			writes: []string{
				"DELETE /api/v1/authorizationServers/*/policies/*",
				"POST /api/v1/apps/*/lifecycle/deactivate",
				"DELETE /api/v1/apps/*",
			},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				_, ok := appsByKind(e.okta)["backend"]
				assert.False(t, ok)
				_, ok = after.Policy(oktaprops.BackendPolicyName)
				assert.False(t, ok)
				assert.Len(t, after.Policies, 1)
			},
		},
		{
			name: "removing the confidential client deletes it and rewrites the client-secret secret without it",
			edit: func(p map[string]any) { p["ConfidentialClient"] = "false" },
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				assert.NotContains(t, appsByKind(e.okta), "confidential")
				assert.Equal(t, map[string]string{"issuer": after.Issuer}, e.secretDoc())
				assert.Equal(t, 2, e.putsTo(e.secARN))
				assert.Equal(t, 1, e.putsTo(e.introARN), "the introspection credential did not change")
			},
		},
		{
			name: "removing the introspection client (and its secret) deletes the app and writes no secret",
			edit: func(p map[string]any) {
				p["IntrospectionClient"] = "false"
				delete(p, "IntrospectionSecretArn") // the construct removes the secret with the client
			},
			writes: []string{"POST /api/v1/apps/*/lifecycle/deactivate", "DELETE /api/v1/apps/*"},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				assert.NotContains(t, appsByKind(e.okta), "introspection")
				assert.Equal(t, 2, e.sm.Count("PutSecretValue"), "only the create's writes")
			},
		},
		{
			name:   "adding the public client creates it and adds it to the user-facing policy",
			before: func(p map[string]any) { p["PublicClient"] = "false" },
			edit:   func(p map[string]any) { p["PublicClient"] = "true" },
			writes: []string{"POST /api/v1/apps", "PUT /api/v1/apps/*/groups/*", "PUT /api/v1/authorizationServers/*/policies/*"},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				apps := appsByKind(e.okta)
				require.Contains(t, apps, "public")
				assert.Equal(t, []string{e.okta.EveryoneGroupID()}, e.okta.AppGroups(apps["public"].ID), "users can sign in to it")
				user, _ := after.Policy(oktaprops.UserFacingPolicyName)
				assert.ElementsMatch(t, []string{apps["confidential"].ID, apps["public"].ID}, user.Conditions.Clients.Include)
				assert.Equal(t, 2, e.sm.Count("PutSecretValue"), "a public client has no secret: only the create's writes")
			},
		},
		{
			name:   "adding the backend client creates it, its policy and its rule",
			before: func(p map[string]any) { p["BackendClient"] = "false" },
			edit:   func(p map[string]any) { p["BackendClient"] = "true" },
			writes: []string{"POST /api/v1/apps", "POST /api/v1/authorizationServers/*/policies",
				"POST /api/v1/authorizationServers/*/policies/*/rules"},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				backend, ok := after.Policy(oktaprops.BackendPolicyName)
				require.True(t, ok)
				assert.Equal(t, []string{appsByKind(e.okta)["backend"].ID}, backend.Conditions.Clients.Include)
				_, ok = backend.Rule(oktaprops.BackendRuleName)
				assert.True(t, ok)
			},
		},
		{
			name: "changing the audience (the data store endpoint once known) updates the server in place",
			edit: func(p map[string]any) {
				p["Audience"] = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"
			},
			writes: []string{"PUT /api/v1/authorizationServers/*"},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				assert.Equal(t, []string{"https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"}, after.Audiences)
				assert.Equal(t, before.ID, after.ID)
				assert.Equal(t, before.Issuer, after.Issuer)
				assert.Equal(t, 2, e.sm.Count("PutSecretValue"), "the issuer did not change, so no secret is rewritten")
			},
		},
		{
			name: "renaming updates the server and the app labels",
			edit: func(p map[string]any) { p["Name"] = "smart-healthlake-prod" },
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				assert.Equal(t, "smart-healthlake-prod", after.Name)
				assert.Equal(t, "smart-healthlake-prod confidential app", appsByKind(e.okta)["confidential"].Label)
				assert.Len(t, e.okta.RequestsMatching("PUT", "/api/v1/apps/*"), 4)
			},
		},
		{
			name:   "deactivating the server",
			edit:   func(p map[string]any) { p["Active"] = "false" },
			writes: []string{"POST /api/v1/authorizationServers/*/lifecycle/deactivate"},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				assert.Equal(t, "INACTIVE", after.Status)
			},
		},
		{
			name: "switching policies to all clients",
			edit: func(p map[string]any) { p["PolicyAssignment"] = "ALL_CLIENTS" },
			writes: []string{
				"PUT /api/v1/authorizationServers/*/policies/*",
				"PUT /api/v1/authorizationServers/*/policies/*",
			},
			check: func(t *testing.T, e *env, before, after fakeokta.AuthorizationServer) {
				for _, p := range after.Policies {
					assert.Equal(t, []string{"ALL_CLIENTS"}, p.Conditions.Clients.Include)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{PageSize: 5})
			create := e.fullEvent()
			if tc.before != nil {
				tc.before(create.ResourceProperties)
			}
			resp, err := e.run(create)
			require.NoError(t, err)
			before := e.onlyServer()
			e.okta.ResetRequests()

			ev := updateEvent(create, resp.PhysicalResourceID, tc.edit)
			out, err := e.run(ev)
			require.NoError(t, err)
			assert.Equal(t, resp.PhysicalResourceID, out.PhysicalResourceID, "an update never replaces the server")
			after := e.onlyServer()
			if tc.writes != nil {
				got := e.writes()
				require.Len(t, got, len(tc.writes), "writes: %v", got)
				for i, w := range tc.writes {
					method, pattern, _ := cut(w)
					gm, gp, _ := cut(got[i])
					assert.Equal(t, method, gm, "write %d: %s", i, got[i])
					assert.True(t, fakeokta.PathMatches(pattern, gp), "write %d: %s does not match %s", i, got[i], w)
				}
			}
			for kind, attr := range map[string]string{"confidential": oktaprops.AttrConfidentialClientID,
				"public": oktaprops.AttrPublicClientID, "backend": oktaprops.AttrBackendClientID, "introspection": oktaprops.AttrIntrospectionClientID} {
				assert.Equal(t, appsByKind(e.okta)[kind].ID, out.Data[attr], attr)
			}
			if tc.check != nil {
				tc.check(t, e, before, after)
			}
			// The result is stable: running the same update again changes nothing.
			e.okta.ResetRequests()
			again := updateEvent(ev, out.PhysicalResourceID, nil)
			again.OldResourceProperties = ev.ResourceProperties
			_, err = e.run(again)
			require.NoError(t, err)
			assert.Empty(t, e.writes())
		})
	}
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestUpdateRepairsDrift(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	resp := e.create()
	id := resp.PhysicalResourceID

	// Someone edits things by hand, through the same API the console uses:
	// deactivates the public app and the user-facing rule, adds a scope.
	apps := appsByKind(e.okta)
	client := directClient(t, e)
	_, err := client.Application.DeactivateApplication(t.Context(), apps["public"].ID)
	require.NoError(t, err)
	as := e.onlyServer()
	user, _ := as.Policy(oktaprops.UserFacingPolicyName)
	_, err = client.AuthorizationServer.DeactivateAuthorizationServerPolicyRule(t.Context(), id, user.ID, user.Rules[0].ID)
	require.NoError(t, err)
	extra, _, err := client.AuthorizationServer.CreateOAuth2Scope(t.Context(), id, scopeNamed("hand-made"))
	require.NoError(t, err)
	handRule := okta.AuthorizationServerPolicyRule{Name: "hand-made rule", Type: "RESOURCE_ACCESS", PriorityPtr: okta.Int64Ptr(2),
		Conditions: &okta.AuthorizationServerPolicyRuleConditions{
			People:     &okta.PolicyPeopleCondition{Groups: &okta.GroupCondition{Include: []string{"EVERYONE"}}},
			GrantTypes: &okta.GrantTypePolicyRuleCondition{Include: []string{"implicit"}},
			Scopes:     &okta.OAuth2ScopesMediationPolicyRuleCondition{Include: []string{"*"}},
		},
		Actions: &okta.AuthorizationServerPolicyRuleActions{Token: &okta.TokenAuthorizationServerPolicyRuleAction{
			AccessTokenLifetimeMinutesPtr: okta.Int64Ptr(60), RefreshTokenLifetimeMinutesPtr: okta.Int64Ptr(0),
			RefreshTokenWindowMinutesPtr: okta.Int64Ptr(10080)}},
	}
	_, _, err = client.AuthorizationServer.CreateAuthorizationServerPolicyRule(t.Context(), id, user.ID, handRule)
	require.NoError(t, err)

	_, err = e.run(updateEvent(create, id, nil))
	require.NoError(t, err)
	after := e.onlyServer()
	assert.Equal(t, "ACTIVE", appsByKind(e.okta)["public"].Status)
	user, _ = after.Policy(oktaprops.UserFacingPolicyName)
	require.Len(t, user.Rules, 1, "the hand-made rule in the owned policy is removed")
	assert.Equal(t, "ACTIVE", user.Rules[0].Status)
	_, still := after.Scope(extra.Name)
	assert.False(t, still, "objects added by hand inside the owned server are drift")
}

func TestUpdateWhenTheServerWasDeletedOutsideCloudFormation(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	resp := e.create()
	oldApps := appsByKind(e.okta)
	e.okta.RemoveAuthorizationServer(resp.PhysicalResourceID)

	out, err := e.run(updateEvent(create, resp.PhysicalResourceID, nil))
	require.NoError(t, err)
	assert.NotEqual(t, resp.PhysicalResourceID, out.PhysicalResourceID, "a new server means a new physical id (replacement)")
	as := e.onlyServer()
	assert.Equal(t, as.ID, out.PhysicalResourceID)
	newApps := appsByKind(e.okta)
	require.Len(t, newApps, 4)
	for kind, a := range newApps {
		assert.Equal(t, oldApps[kind].ID, a.ID, "%s: the existing app is kept, re-tagged to the new server", kind)
		assert.Equal(t, as.ID, a.Profile["authorizationServerId"])
	}
	assert.Equal(t, as.Issuer, e.secretDoc()["issuer"])

	// CloudFormation then deletes the old physical id: already gone, and the
	// apps now belong to the new server, so nothing is touched.
	e.okta.ResetRequests()
	_, err = e.run(deleteEvent(create, resp.PhysicalResourceID))
	require.NoError(t, err)
	assert.Empty(t, e.writes())
	assert.Len(t, e.okta.Apps(), 4)
}

func TestUpdateToAnotherOktaOrgCreatesAReplacement(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	resp := e.create()
	other := fakeokta.New(t, fakeokta.Options{})
	out, err := e.run(updateEvent(create, resp.PhysicalResourceID, func(p map[string]any) { p["OktaOrgUrl"] = other.URL }))
	require.NoError(t, err)
	assert.NotEqual(t, resp.PhysicalResourceID, out.PhysicalResourceID)
	assert.Len(t, other.AuthorizationServers(), 1)
	assert.Len(t, e.okta.AuthorizationServers(), 1, "the old org is cleaned up by the Delete CloudFormation sends next")
}

// A stack deployed before a claim name was added to the reserved list keeps
// working: its Updates and their rollbacks accept reserved names with a
// warning (Okta has the last word on a new one), and its Delete never looks.
func TestAStackWithAClaimNameReservedSinceItWasDeployed(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	resp, err := e.run(create)
	require.NoError(t, err)
	serverID := resp.PhysicalResourceID
	// As deployed: a RESOURCE claim named role, made when nothing refused it.
	e.okta.AddClaim(serverID, fakeokta.Claim{Name: "role", ClaimType: "RESOURCE", ValueType: "EXPRESSION",
		Value: "user.title", AlwaysIncludeInToken: true})
	deployed := cloneProps(create.ResourceProperties)
	deployed["ExtraClaims"] = `[{"name":"role","value":"user.title","claimType":"RESOURCE"}]`
	update := func(old, props map[string]any) customresource.Event {
		ev := create
		ev.RequestType = customresource.Update
		ev.PhysicalResourceID = serverID
		ev.OldResourceProperties, ev.ResourceProperties = old, props
		return ev
	}
	changed := cloneProps(deployed)
	changed["AccessTokenLifetimeMinutes"] = "15"

	t.Run("an update that keeps the claim succeeds and warns", func(t *testing.T) {
		_, err := e.run(update(deployed, changed))
		require.NoError(t, err)
		as, _ := e.okta.AuthorizationServer(serverID)
		_, ok := as.Claim("role", "RESOURCE")
		assert.True(t, ok, "the claim is kept")
		assert.Contains(t, e.logs.String(), "keeping claim names Okta reserves")
		assert.Contains(t, e.logs.String(), "RESOURCE role")
	})
	t.Run("the rollback of an update, back to the deployed properties, succeeds", func(t *testing.T) {
		_, err := e.run(update(changed, deployed))
		require.NoError(t, err)
	})
	t.Run("the rollback of an update that renames the claim away and fails succeeds", func(t *testing.T) {
		// The rename's new claim is refused (standing for any failure after
		// it started); CloudFormation then rolls back with the deployed
		// properties as new and the rename's as old, which have no role.
		renamed := cloneProps(deployed)
		renamed["ExtraClaims"] = `[{"name":"jobTitle","value":"user.title","claimType":"RESOURCE"}]`
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/claims", Kind: fault.Invalid, Times: 1000})
		_, err := e.run(update(deployed, renamed))
		require.Error(t, err)
		e.okta.Faults.Clear()
		_, err = e.run(update(renamed, deployed))
		require.NoError(t, err, "UPDATE_ROLLBACK_FAILED otherwise")
		as, _ := e.okta.AuthorizationServer(serverID)
		_, ok := as.Claim("role", "RESOURCE")
		assert.True(t, ok, "the claim is as deployed")
		_, ok = as.Claim("jobTitle", "RESOURCE")
		assert.False(t, ok)
	})
	t.Run("an update that adds another reserved name gets past the parser, and Okta refuses it", func(t *testing.T) {
		more := cloneProps(deployed)
		more["ExtraClaims"] = `[{"name":"role","value":"user.title","claimType":"RESOURCE"},` +
			`{"name":"permissions","value":"user.x","claimType":"RESOURCE"}]`
		_, err := e.run(update(deployed, more))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `creating RESOURCE claim "permissions"`)
		assert.Contains(t, e.logs.String(), "RESOURCE permissions", "the warning names it")
	})
	t.Run("a create with the name is refused", func(t *testing.T) {
		ev := create
		ev.ResourceProperties = deployed
		_, err := e.run(ev)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "reserved by Okta")
	})
	t.Run("the delete removes the server", func(t *testing.T) {
		ev := deleteEvent(create, serverID)
		ev.ResourceProperties = deployed
		_, err := e.run(ev)
		require.NoError(t, err)
		_, ok := e.okta.AuthorizationServer(serverID)
		assert.False(t, ok)
	})
}
