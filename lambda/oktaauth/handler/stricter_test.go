package handler_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// A stack deployed with a value the previous version accepted and a rule
// made stricter since refuses keeps working: an Update (a rollback is one)
// accepts it with a warning naming the property, a Delete reads it, and only
// a Create refuses it. The scenario is a reviewer's: the user fixes the value,
// that Update fails for another reason, and CloudFormation rolls back with the
// deployed properties as new and the fix's as old, which lack the value.
func TestAStackDeployedWithAValueARuleNowRefusesKeepsWorking(t *testing.T) {
	const hookSecret = "hookpass-0b7e4a1e"
	cases := []struct {
		name, prop string
		// deploy sets the value the stack was deployed with; fix, the value
		// the user corrects it to.
		deploy, fix func(e *env, p map[string]any)
		// asDeployed checks Okta holds the deployed value again.
		asDeployed func(t *testing.T, e *env)
		// hook: the event carries the token hook props.
		hook bool
	}{
		{name: "an org URL with an empty query", prop: "OktaOrgUrl",
			deploy: func(e *env, p map[string]any) { p["OktaOrgUrl"] = e.okta.URL + "?" },
			fix:    func(e *env, p map[string]any) { p["OktaOrgUrl"] = e.okta.URL }},
		{name: "an org URL with an empty fragment", prop: "OktaOrgUrl",
			deploy: func(e *env, p map[string]any) { p["OktaOrgUrl"] = e.okta.URL + "#" },
			fix:    func(e *env, p map[string]any) { p["OktaOrgUrl"] = e.okta.URL }},
		{name: "an org URL with a path of slashes", prop: "OktaOrgUrl",
			deploy: func(e *env, p map[string]any) { p["OktaOrgUrl"] = e.okta.URL + "//" },
			fix:    func(e *env, p map[string]any) { p["OktaOrgUrl"] = e.okta.URL }},
		{name: "a redirect URI with an empty fragment", prop: "ConfidentialClientRedirectUris[0]",
			deploy: func(e *env, p map[string]any) {
				p["ConfidentialClientRedirectUris"] = []any{"https://app.example.com/callback#"}
			},
			fix: func(e *env, p map[string]any) {
				p["ConfidentialClientRedirectUris"] = []any{"https://app.example.com/callback"}
			},
			asDeployed: func(t *testing.T, e *env) {
				app := appsByKind(e.okta)[string(oktaprops.ConfidentialClient)]
				assert.Equal(t, []string{"https://app.example.com/callback#"}, app.Settings.OauthClient.RedirectURIs)
			}},
		{name: "a post-logout redirect URI with user info", prop: "ConfidentialClientPostLogoutRedirectUris[0]",
			deploy: func(e *env, p map[string]any) {
				p["ConfidentialClientPostLogoutRedirectUris"] = []any{"https://" + hookSecret + "@app.example.com/"}
			},
			fix: func(e *env, p map[string]any) {
				p["ConfidentialClientPostLogoutRedirectUris"] = []any{"https://app.example.com/"}
			},
			asDeployed: func(t *testing.T, e *env) {
				app := appsByKind(e.okta)[string(oktaprops.ConfidentialClient)]
				assert.Equal(t, []string{"https://" + hookSecret + "@app.example.com/"}, app.Settings.OauthClient.PostLogoutRedirectURIs)
			}},
		{name: "a token hook URL with user info", prop: "TokenHookUrl", hook: true,
			deploy: func(e *env, p map[string]any) {
				p["TokenHookUrl"] = "https://hook:" + hookSecret + "@abc123defg.execute-api.us-east-1.amazonaws.com/prod/hook"
			},
			fix: func(e *env, p map[string]any) { p["TokenHookUrl"] = hookURL },
			asDeployed: func(t *testing.T, e *env) {
				hooks := e.okta.InlineHooks()
				require.Len(t, hooks, 1)
				assert.Contains(t, hooks[0].Channel.Config.URI, "@abc123defg.")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			create := e.fullEvent()
			if tc.hook {
				create, _ = e.hookEvent()
			}
			tc.fix(e, create.ResourceProperties)
			resp, err := e.run(create)
			require.NoError(t, err)
			serverID := resp.PhysicalResourceID
			update := func(old, props map[string]any) customresource.Event {
				ev := create
				ev.RequestType = customresource.Update
				ev.PhysicalResourceID = serverID
				ev.OldResourceProperties, ev.ResourceProperties = old, props
				return ev
			}
			fixed := cloneProps(create.ResourceProperties)
			deployed := cloneProps(fixed)
			tc.deploy(e, deployed)

			t.Run("an update to the value is accepted with a warning naming the property", func(t *testing.T) {
				// This is how the stack came to hold it here; the previous
				// version's Create accepted it too.
				_, err := e.run(update(fixed, deployed))
				require.NoError(t, err)
				assert.Contains(t, e.logs.String(), "accepting values the previous version accepted")
				assert.Contains(t, e.logs.String(), `"values":["`+tc.prop+` `)
				if tc.asDeployed != nil {
					tc.asDeployed(t, e)
				}
			})
			t.Run("the rollback of an update that fixes the value and fails elsewhere succeeds", func(t *testing.T) {
				fix := cloneProps(deployed)
				tc.fix(e, fix)
				fix["ExtraClaims"] = `[{"name":"jobTitle","value":"user.title","claimType":"RESOURCE"}]`
				e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/claims", Kind: fault.Invalid, Times: 1000})
				_, err := e.run(update(deployed, fix))
				require.Error(t, err)
				assert.Contains(t, err.Error(), `creating RESOURCE claim "jobTitle"`, "it fails on the claim, not on the value")
				e.okta.Faults.Clear()
				before := len(e.logs.String())
				_, err = e.run(update(fix, deployed))
				require.NoError(t, err, "UPDATE_ROLLBACK_FAILED otherwise")
				assert.Contains(t, e.logs.String()[before:], `"values":["`+tc.prop+` `)
				if tc.asDeployed != nil {
					tc.asDeployed(t, e)
				}
			})
			t.Run("a create with the value is refused naming the property", func(t *testing.T) {
				ev := create
				ev.ResourceProperties = deployed
				_, err := e.run(ev)
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.prop)
				assert.NotContains(t, err.Error(), hookSecret)
			})
			t.Run("the delete with the deployed properties removes the server", func(t *testing.T) {
				ev := deleteEvent(create, serverID)
				ev.ResourceProperties = deployed
				_, err := e.run(ev)
				require.NoError(t, err)
				_, ok := e.okta.AuthorizationServer(serverID)
				assert.False(t, ok)
			})
			assert.NotContains(t, e.logs.String(), hookSecret, "the user info is redacted from the warnings")
		})
	}
}

// The audience binding carries the org URL too: its Update and rollback read
// it as the server's do, its Create refuses it.
func TestAnAudienceBindingDeployedWithAnOrgURLARuleNowRefuses(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	_, resp := createWithoutAudience(t, e)
	serverID := resp.PhysicalResourceID
	bind := bindEvent(e, serverID, endpoint)
	out, err := e.run(bind)
	require.NoError(t, err)
	deployed := cloneProps(bind.ResourceProperties)
	deployed["OktaOrgUrl"] = e.okta.URL + "?"

	t.Run("the rollback of an update that fixed it succeeds", func(t *testing.T) {
		ev := bind
		ev.RequestType = customresource.Update
		ev.PhysicalResourceID = out.PhysicalResourceID
		ev.OldResourceProperties, ev.ResourceProperties = bind.ResourceProperties, deployed
		_, err := e.run(ev)
		require.NoError(t, err)
		assert.Contains(t, e.logs.String(), `"values":["OktaOrgUrl `)
		assert.Equal(t, []string{endpoint}, e.onlyServer().Audiences)
	})
	t.Run("a create with it is refused naming the property", func(t *testing.T) {
		ev := bind
		ev.ResourceProperties = deployed
		_, err := e.run(ev)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "OktaOrgUrl")
	})
}
