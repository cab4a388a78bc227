package handler_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/reconcile"
)

func TestCreateFromScratchMakesEveryObject(t *testing.T) {
	e := newEnv(t, fakeokta.Options{PageSize: 7}) // small pages: listing must follow Link headers
	ev := e.fullEvent()
	resp, err := e.run(ev)
	require.NoError(t, err)

	as := e.onlyServer()
	owner := reconcile.Owner{StackID: ev.StackID, LogicalID: ev.LogicalResourceID}

	t.Run("the authorization server is named, described with the ownership marker, has the audience and is active", func(t *testing.T) {
		assert.Equal(t, as.ID, resp.PhysicalResourceID)
		assert.Regexp(t, `^aus[A-Za-z0-9]{17}$`, as.ID)
		assert.Equal(t, "smart-healthlake", as.Name)
		assert.True(t, strings.HasPrefix(as.Description, "SMART on FHIR for the HealthLake data store (managed by CloudFormation stack smart-healthlake, resource SmartAuthServer) "))
		assert.True(t, owner.Owns(as.Description))
		assert.Equal(t, []string{"https://healthlake.us-east-1.amazonaws.com/datastore/placeholder/r4/"}, as.Audiences)
		assert.Equal(t, "ORG_URL", as.IssuerMode)
		assert.Equal(t, "ACTIVE", as.Status)
	})

	t.Run("scopes are the context scopes, levels x resources x v1 and v2 permissions, and the extras", func(t *testing.T) {
		want := []string{"launch", "launch/patient", "launch/encounter", "fhirUser", "online_access"}
		for _, level := range []string{"patient", "user", "system"} {
			for _, res := range []string{"Patient", "Observation"} {
				for _, perm := range []string{"read", "rs", "cruds"} {
					want = append(want, level+"/"+res+"."+perm)
				}
			}
		}
		want = append(want, "system/Group.rs")
		assert.Equal(t, want, as.CustomScopeNames())
		sc, _ := as.Scope("patient/Observation.rs")
		assert.Equal(t, "IMPLICIT", sc.Consent)
		assert.Equal(t, "ALL_CLIENTS", sc.MetadataPublish)
		assert.False(t, sc.Default)
		assert.Equal(t, "Read, search Observation resources for the patient in context", sc.Description)
		openid, _ := as.Scope("openid")
		assert.True(t, openid.System, "Okta's system scopes stay as they are")
	})

	t.Run("claims: fhirUser in ID and access tokens, the patient claim, the extra claim", func(t *testing.T) {
		require.Len(t, as.Claims, 4)
		for _, ct := range []string{"IDENTITY", "RESOURCE"} {
			c, ok := as.Claim("fhirUser", ct)
			require.True(t, ok, ct)
			assert.Equal(t, "EXPRESSION", c.ValueType)
			assert.Equal(t, "user.fhirUser", c.Value)
			assert.Equal(t, []string{"fhirUser"}, c.Conditions.Scopes)
			assert.True(t, c.AlwaysIncludeInToken)
			assert.Equal(t, "ACTIVE", c.Status)
		}
		p, ok := as.Claim("patient", "RESOURCE")
		require.True(t, ok)
		assert.Equal(t, "user.patientId", p.Value)
		assert.Equal(t, []string{"launch/patient"}, p.Conditions.Scopes)
		o, ok := as.Claim("organization", "RESOURCE")
		require.True(t, ok)
		assert.Equal(t, []string{"launch"}, o.Conditions.Scopes)
	})

	apps := map[string]fakeokta.App{}
	for _, a := range e.okta.Apps() {
		apps[a.Profile["smartClient"].(string)] = a
	}

	t.Run("four OIDC apps, each tagged with the owner and the server in its profile", func(t *testing.T) {
		require.Len(t, apps, 4)
		for kind, a := range apps {
			assert.Equal(t, "ACTIVE", a.Status, kind)
			assert.Equal(t, map[string]any{"managedBy": "smart-healthlake", "owner": owner.Tag(),
				"authorizationServerId": as.ID, "smartClient": kind}, a.Profile, kind)
		}
		conf := apps["confidential"]
		assert.Equal(t, "smart-healthlake confidential app", conf.Label)
		assert.Equal(t, "web", conf.Settings.OauthClient.ApplicationType)
		assert.Equal(t, []string{"authorization_code", "refresh_token"}, conf.Settings.OauthClient.GrantTypes)
		assert.Equal(t, []string{"https://app.example.com/callback"}, conf.Settings.OauthClient.RedirectURIs)
		assert.Equal(t, []string{"https://app.example.com/"}, conf.Settings.OauthClient.PostLogoutRedirectURIs)
		assert.Equal(t, "client_secret_basic", conf.Credentials.OauthClient.TokenEndpointAuthMethod)
		assert.True(t, conf.Credentials.OauthClient.PkceRequired)

		pub := apps["public"]
		assert.Equal(t, "browser", pub.Settings.OauthClient.ApplicationType)
		assert.Equal(t, "none", pub.Credentials.OauthClient.TokenEndpointAuthMethod)
		assert.True(t, pub.Credentials.OauthClient.PkceRequired)
		assert.Empty(t, pub.Credentials.OauthClient.ClientSecret)
		assert.Len(t, pub.Settings.OauthClient.RedirectURIs, 2)

		be := apps["backend"]
		assert.Equal(t, "service", be.Settings.OauthClient.ApplicationType)
		assert.Equal(t, []string{"client_credentials"}, be.Settings.OauthClient.GrantTypes)
		assert.Equal(t, "private_key_jwt", be.Credentials.OauthClient.TokenEndpointAuthMethod)
		require.NotNil(t, be.Settings.OauthClient.Jwks)
		require.Len(t, be.Settings.OauthClient.Jwks.Keys, 1)
		assert.Equal(t, "backend-1", be.Settings.OauthClient.Jwks.Keys[0]["kid"])
		assert.Equal(t, "AQAB", be.Settings.OauthClient.Jwks.Keys[0]["e"])

		in := apps["introspection"]
		assert.Equal(t, "service", in.Settings.OauthClient.ApplicationType)
		assert.Equal(t, "client_secret_basic", in.Credentials.OauthClient.TokenEndpointAuthMethod)
	})

	t.Run("policies: user-facing for the user apps, backend for the backend app, with their rules", func(t *testing.T) {
		require.Len(t, as.Policies, 2)
		user, ok := as.Policy(oktaprops.UserFacingPolicyName)
		require.True(t, ok)
		assert.Equal(t, "OAUTH_AUTHORIZATION_POLICY", user.Type)
		assert.Equal(t, int64(1), user.Priority)
		assert.Equal(t, "ACTIVE", user.Status)
		assert.ElementsMatch(t, []string{apps["confidential"].ID, apps["public"].ID}, user.Conditions.Clients.Include)
		rule, ok := user.Rule(oktaprops.UserFacingRuleName)
		require.True(t, ok)
		assert.Equal(t, []string{"authorization_code"}, rule.Conditions.GrantTypes.Include)
		assert.Equal(t, []string{"EVERYONE"}, rule.Conditions.People.Groups.Include)
		assert.Equal(t, int64(60), rule.Actions.Token.AccessTokenLifetimeMinutes)
		assert.Equal(t, int64(0), rule.Actions.Token.RefreshTokenLifetimeMinutes)
		assert.Equal(t, int64(10080), rule.Actions.Token.RefreshTokenWindowMinutes)
		for _, sc := range rule.Conditions.Scopes.Include {
			assert.False(t, strings.HasPrefix(sc, "system/"), "user-facing rule must not grant %s", sc)
		}
		assert.Subset(t, rule.Conditions.Scopes.Include, []string{"openid", "profile", "offline_access", "fhirUser",
			"launch", "launch/patient", "online_access", "patient/Observation.rs", "user/Patient.read"})

		backend, ok := as.Policy(oktaprops.BackendPolicyName)
		require.True(t, ok)
		assert.Equal(t, int64(2), backend.Priority)
		assert.Equal(t, []string{apps["backend"].ID}, backend.Conditions.Clients.Include)
		brule, ok := backend.Rule(oktaprops.BackendRuleName)
		require.True(t, ok)
		assert.Equal(t, []string{"client_credentials"}, brule.Conditions.GrantTypes.Include)
		assert.Equal(t, int64(5), brule.Actions.Token.AccessTokenLifetimeMinutes)
		for _, sc := range brule.Conditions.Scopes.Include {
			assert.True(t, strings.HasPrefix(sc, "system/"), "backend rule grants only system/ scopes, got %s", sc)
		}
		assert.Contains(t, brule.Conditions.Scopes.Include, "system/Group.rs")
	})

	t.Run("what Okta received: priorities and every token lifetime as numbers, never null", func(t *testing.T) {
		rules := e.okta.RequestsMatching("POST", "/api/v1/authorizationServers/*/policies/*/rules")
		require.Len(t, rules, 2)
		for _, r := range rules {
			body := r.Body.(map[string]any)
			assert.Equal(t, float64(1), body["priority"])
			token := body["actions"].(map[string]any)["token"].(map[string]any)
			for _, f := range []string{"accessTokenLifetimeMinutes", "refreshTokenLifetimeMinutes", "refreshTokenWindowMinutes"} {
				assert.IsType(t, float64(0), token[f], f)
			}
		}
		policies := e.okta.RequestsMatching("POST", "/api/v1/authorizationServers/*/policies")
		require.Len(t, policies, 2)
		assert.Equal(t, float64(1), policies[0].Body.(map[string]any)["priority"])
		assert.Equal(t, float64(2), policies[1].Body.(map[string]any)["priority"])
		scope := e.okta.RequestsMatching("POST", "/api/v1/authorizationServers/*/scopes")[0].Body.(map[string]any)
		assert.Equal(t, false, scope["default"])
		_, sentSystem := scope["system"]
		assert.False(t, sentSystem, "system is Okta's to set")
	})

	t.Run("the confidential client's secret is in the client-secret secret, with the issuer", func(t *testing.T) {
		doc := e.secretDoc()
		assert.Equal(t, map[string]string{
			"issuer":                   as.Issuer,
			"confidentialClientId":     apps["confidential"].ID,
			"confidentialClientSecret": apps["confidential"].Credentials.OauthClient.ClientSecret,
		}, doc, "the introspection credential is not in the general secret")
		assert.Len(t, doc["confidentialClientSecret"], 64)
		assert.Equal(t, 1, e.putsTo(e.secARN))
		assert.Equal(t, 1, e.sm.Count("GetSecretValue"), "only the credential secret is read")
	})

	t.Run("the introspection credential is in its own secret, in the token Lambda's format", func(t *testing.T) {
		raw, ok := e.sm.Value(e.introARN)
		require.True(t, ok)
		// Decoded strictly, as exactly the two members lambda/introspect reads.
		var doc struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(&doc), raw)
		assert.Equal(t, apps["introspection"].ID, doc.ClientID)
		assert.Equal(t, apps["introspection"].Credentials.OauthClient.ClientSecret, doc.ClientSecret)
		assert.Len(t, doc.ClientSecret, 64)
		assert.Equal(t, 1, e.putsTo(e.introARN))
		assert.Equal(t, 2, e.sm.Count("PutSecretValue"), "no other secret is written")
	})

	t.Run("Data carries ids and endpoints, well under 4 KB", func(t *testing.T) {
		issuer := e.okta.URL + "/oauth2/" + as.ID
		assert.Equal(t, map[string]any{
			oktaprops.AttrAuthorizationServerID:  as.ID,
			oktaprops.AttrIssuer:                 issuer,
			oktaprops.AttrAuthorizationEndpoint:  issuer + "/v1/authorize",
			oktaprops.AttrTokenEndpoint:          issuer + "/v1/token",
			oktaprops.AttrJwksURI:                issuer + "/v1/keys",
			oktaprops.AttrIntrospectionEndpoint:  issuer + "/v1/introspect",
			oktaprops.AttrRevocationEndpoint:     issuer + "/v1/revoke",
			oktaprops.AttrAudience:               "https://healthlake.us-east-1.amazonaws.com/datastore/placeholder/r4/",
			oktaprops.AttrConfidentialClientID:   apps["confidential"].ID,
			oktaprops.AttrPublicClientID:         apps["public"].ID,
			oktaprops.AttrBackendClientID:        apps["backend"].ID,
			oktaprops.AttrIntrospectionClientID:  apps["introspection"].ID,
			oktaprops.AttrClientSecretARN:        e.secARN,
			oktaprops.AttrIntrospectionSecretARN: e.introARN,
		}, resp.Data)
		raw, err := json.Marshal(resp)
		require.NoError(t, err)
		assert.Less(t, len(raw), cfnprops.MaxResponseBytes/2)
	})

	t.Run("re-running the same properties as an update changes nothing", func(t *testing.T) {
		e.okta.ResetRequests()
		again, err := e.run(updateEvent(ev, as.ID, nil))
		require.NoError(t, err)
		assert.Equal(t, resp.Data, again.Data)
		assert.Empty(t, e.writes())
		assert.Equal(t, 2, e.sm.Count("PutSecretValue"), "nothing in the secrets changed: only the create's writes")
	})
}

func TestCreateWithOnlyTheRequiredProperties(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	ev := e.fullEvent()
	ev.ResourceProperties = map[string]any{
		"ServiceToken":        "arn:aws:lambda:us-east-1:123456789012:function:provider",
		"OktaOrgUrl":          e.okta.URL,
		"CredentialSecretArn": e.credARN,
		"Name":                "minimal",
		"Audience":            "api://smart",
	}
	resp, err := e.run(ev)
	require.NoError(t, err)
	as := e.onlyServer()
	// Defaults: v2 read+search for the US Core resources at three levels.
	assert.Len(t, as.CustomScopeNames(), len(oktaprops.ContextScopes)+3*len(oktaprops.DefaultResources))
	assert.Empty(t, as.Policies, "no clients and CREATED_CLIENTS assignment: no policy to assign")
	assert.Empty(t, e.okta.Apps())
	assert.Len(t, as.Claims, 3)
	assert.Equal(t, "", resp.Data[oktaprops.AttrClientSecretARN])
	assert.Equal(t, "", resp.Data[oktaprops.AttrConfidentialClientID])
	assert.Zero(t, e.sm.Count("PutSecretValue"))
}

func TestCreateWithPoliciesForAllClients(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	ev := e.fullEvent()
	for _, k := range []string{"ConfidentialClient", "PublicClient", "BackendClient", "IntrospectionClient"} {
		ev.ResourceProperties[k] = "false"
	}
	ev.ResourceProperties["PolicyAssignment"] = "ALL_CLIENTS"
	_, err := e.run(ev)
	require.NoError(t, err)
	as := e.onlyServer()
	require.Len(t, as.Policies, 2)
	for _, p := range as.Policies {
		assert.Equal(t, []string{"ALL_CLIENTS"}, p.Conditions.Clients.Include)
	}
}

func TestNameClash(t *testing.T) {
	t.Run("a server with the same name that this stack did not create is an error, never adopted", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		foreign := e.okta.AddAuthorizationServer("smart-healthlake", "Made by hand in the console", "api://other")
		_, err := e.run(e.fullEvent())
		var clash *reconcile.NameClashError
		require.True(t, errors.As(err, &clash), "got %v", err)
		assert.Equal(t, foreign, clash.ExistingID)
		assert.Contains(t, err.Error(), `named "smart-healthlake" already exists (`+foreign+`)`)
		assert.Empty(t, e.writes(), "nothing is created or changed")
		as := e.onlyServer()
		assert.Equal(t, "Made by hand in the console", as.Description)
	})

	t.Run("the same name created by another stack (another marker) is a clash too", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		other := reconcile.Owner{StackID: "arn:aws:cloudformation:us-east-1:123456789012:stack/other/1", LogicalID: "SmartAuthServer"}
		e.okta.AddAuthorizationServer("smart-healthlake", other.Describe("x"), "api://other")
		_, err := e.run(e.fullEvent())
		var clash *reconcile.NameClashError
		require.True(t, errors.As(err, &clash), "got %v", err)
		assert.Nil(t, clash.Leftover, "another stack name is not this stack's leftover")
		assert.NotContains(t, err.Error(), "leftover")
	})

	t.Run("a server left by a failed earlier deployment of a stack with this name says so, names it and its apps, and how to delete them", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		ev := e.fullEvent()
		// The first deployment's stack: same name, another stack id (deleted
		// after ROLLBACK_COMPLETE), same logical id.
		earlier := reconcile.Owner{StackID: "arn:aws:cloudformation:us-east-1:123456789012:stack/smart-healthlake/0d6c1b20-7e40-11ef-8a1e-0a8c3f5e1d00",
			LogicalID: ev.LogicalResourceID}
		require.NotEqual(t, earlier.StackID, ev.StackID)
		id := e.okta.AddAuthorizationServer("smart-healthlake", earlier.Describe("SMART on FHIR for the HealthLake data store"), "api://left")
		app := e.okta.AddApp("smart-healthlake confidential client", map[string]any{"managedBy": "smart-healthlake",
			"owner": earlier.Tag(), "authorizationServerId": id, "smartClient": "confidential"})
		e.okta.AddApp("someone else's", map[string]any{"managedBy": "smart-healthlake", "owner": "cfn-0000000000000000"})
		_, err := e.run(ev)
		var clash *reconcile.NameClashError
		require.True(t, errors.As(err, &clash), "got %v", err)
		require.NotNil(t, clash.Leftover)
		assert.Equal(t, []string{app}, clash.Leftover.AppIDs)
		msg := err.Error()
		assert.Contains(t, msg, "leftover of a failed earlier deployment of this stack")
		assert.Contains(t, msg, "earlier CloudFormation stack named smart-healthlake")
		assert.Contains(t, msg, "Security > API > Authorization Servers: deactivate "+id+", then delete it")
		assert.Contains(t, msg, "its apps "+app+" under Applications > Applications")
		assert.Contains(t, msg, "another AWS account or region", "the marker cannot tell those apart")
		assert.Empty(t, e.writes(), "the leftover is neither adopted nor removed")
		_, ok := e.okta.AuthorizationServer(id)
		assert.True(t, ok)
	})

	t.Run("another resource of a stack with this name is a plain clash", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		ev := e.fullEvent()
		sibling := reconcile.Owner{StackID: ev.StackID, LogicalID: "OtherAuthServer"}
		e.okta.AddAuthorizationServer("smart-healthlake", sibling.Describe("x"), "api://other")
		_, err := e.run(ev)
		var clash *reconcile.NameClashError
		require.True(t, errors.As(err, &clash), "got %v", err)
		assert.Nil(t, clash.Leftover)
	})

	t.Run("a server carrying this resource's own marker (an interrupted create) is continued", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		ev := e.fullEvent()
		own := reconcile.Owner{StackID: ev.StackID, LogicalID: ev.LogicalResourceID}
		id := e.okta.AddAuthorizationServer("smart-healthlake", own.Describe("SMART on FHIR for the HealthLake data store"), "api://half-made")
		resp, err := e.run(ev)
		require.NoError(t, err)
		assert.Equal(t, id, resp.PhysicalResourceID)
		as := e.onlyServer()
		assert.Equal(t, []string{"https://healthlake.us-east-1.amazonaws.com/datastore/placeholder/r4/"}, as.Audiences)
		assert.NotEmpty(t, as.Policies)
	})

	t.Run("renaming onto a foreign server's name is refused", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		ev := e.fullEvent()
		resp := e.create()
		e.okta.AddAuthorizationServer("taken", "someone else's", "api://taken")
		_, err := e.run(updateEvent(ev, resp.PhysicalResourceID, func(p map[string]any) { p["Name"] = "taken" }))
		var clash *reconcile.NameClashError
		require.True(t, errors.As(err, &clash), "got %v", err)
		as, _ := e.okta.AuthorizationServer(resp.PhysicalResourceID)
		assert.Equal(t, "smart-healthlake", as.Name)
	})
}

func TestBadPropertiesFailNamingTheProperty(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(p map[string]any)
		property string
	}{
		{"missing name", func(p map[string]any) { delete(p, "Name") }, "Name"},
		{"audience with a space", func(p map[string]any) { p["Audience"] = "https://x.example.com/ r4" }, "Audience"},
		{"http org URL", func(p map[string]any) { p["OktaOrgUrl"] = "http://example.okta.com" }, "OktaOrgUrl"},
		{"org URL with a path", func(p map[string]any) { p["OktaOrgUrl"] = "https://example.okta.com/oauth2" }, "OktaOrgUrl"},
		{"admin console URL", func(p map[string]any) { p["OktaOrgUrl"] = "https://example-admin.okta.com" }, "OktaOrgUrl"},
		{"issuer mode", func(p map[string]any) { p["IssuerMode"] = "CUSTOM" }, "IssuerMode"},
		{"active not a bool", func(p map[string]any) { p["Active"] = "yes please" }, "Active"},
		{"SMART version", func(p map[string]any) { p["SmartVersion"] = "v3" }, "SmartVersion"},
		{"scope level", func(p map[string]any) { p["ScopeLevels"] = []any{"patient", "admin"} }, "ScopeLevels[1]"},
		{"resource type", func(p map[string]any) { p["ScopeResources"] = []any{"observation"} }, "ScopeResources[0]"},
		{"v2 permission order", func(p map[string]any) { p["ScopePermissionsV2"] = []any{"sr"} }, "ScopePermissionsV2[0]"},
		{"v1 permission", func(p map[string]any) { p["ScopePermissionsV1"] = []any{"rs"} }, "ScopePermissionsV1[0]"},
		{"consent", func(p map[string]any) { p["ScopeConsent"] = "ALWAYS" }, "ScopeConsent"},
		{"extra scope with a space", func(p map[string]any) { p["ExtraScopes"] = []any{"two words"} }, "ExtraScopes[0]"},
		{"extra scope that is a system scope", func(p map[string]any) { p["ExtraScopes"] = []any{"openid"} }, "ExtraScopes[0]"},
		{"extra claims not JSON", func(p map[string]any) { p["ExtraClaims"] = "[{" }, "ExtraClaims"},
		{"extra claim reserved name", func(p map[string]any) { p["ExtraClaims"] = `[{"name":"sub","value":"user.x"}]` }, "ExtraClaims[0].name"},
		{"extra claim on an unknown scope", func(p map[string]any) {
			p["ExtraClaims"] = `[{"name":"x","value":"user.x","scopes":["nope"]}]`
		}, "ExtraClaims[0].scopes[0]"},
		{"token lifetime too long", func(p map[string]any) { p["AccessTokenLifetimeMinutes"] = "9999" }, "AccessTokenLifetimeMinutes"},
		{"token lifetime not a number", func(p map[string]any) { p["AccessTokenLifetimeMinutes"] = "1h" }, "AccessTokenLifetimeMinutes"},
		{"refresh lifetime below window", func(p map[string]any) { p["RefreshTokenLifetimeMinutes"] = "60" }, "RefreshTokenLifetimeMinutes"},
		{"group id", func(p map[string]any) { p["UserGroupIds"] = []any{"admins"} }, "UserGroupIds[0]"},
		{"policy assignment", func(p map[string]any) { p["PolicyAssignment"] = "SOME" }, "PolicyAssignment"},
		{"confidential client without redirect", func(p map[string]any) { delete(p, "ConfidentialClientRedirectUris") }, "ConfidentialClientRedirectUris"},
		{"redirect over http", func(p map[string]any) {
			p["PublicClientRedirectUris"] = []any{"http://spa.example.com/cb"}
		}, "PublicClientRedirectUris[0]"},
		{"backend client without JWKS", func(p map[string]any) { delete(p, "BackendClientJwks") }, "BackendClientJwks"},
		{"backend JWKS holding a private key", func(p map[string]any) {
			p["BackendClientJwks"] = `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"c2VjcmV0"}]}`
		}, "BackendClientJwks.keys[0]"},
		{"backend client without system scopes", func(p map[string]any) {
			p["ScopeLevels"] = []any{"patient"}
			p["ExtraScopes"] = []any{}
		}, "ScopeLevels"},
		{"confidential client without a secret to write its secret to", func(p map[string]any) { delete(p, "ClientSecretArn") }, "ClientSecretArn"},
		{"introspection client without its own secret", func(p map[string]any) { delete(p, "IntrospectionSecretArn") }, "IntrospectionSecretArn"},
		{"public client type", func(p map[string]any) { p["PublicClientType"] = "spa" }, "PublicClientType"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			ev := e.fullEvent()
			tc.edit(ev.ResourceProperties)
			_, err := e.run(ev)
			var perr *cfnprops.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, tc.property, perr.Property)
			assert.Empty(t, e.okta.Requests(), "a bad property fails before Okta is called")
			assert.Zero(t, e.sm.Count("GetSecretValue"))
		})
	}
}

func TestCredentialProblemsFailClearly(t *testing.T) {
	cases := []struct {
		name, secret, want string
	}{
		{"wrong token", `{"apiToken":"00wrong"}`, "Invalid token provided"},
		{"misspelt key", `{"api_token":"00abc"}`, `unknown field "api_token"`},
		{"not JSON", `apiToken=00abc`, "not valid JSON"},
		{"both modes", `{"apiToken":"x","clientId":"0oa1","privateKey":"y"}`, "not both"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			e.sm.Put("okta-management-credentials", tc.secret)
			_, err := e.run(e.fullEvent())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "00abc", "the secret's value never shows in an error")
			assert.Empty(t, e.okta.AuthorizationServers())
		})
	}
}

func TestOktaValidationErrorsAreWrappedWithWhatWasBeingDone(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/claims", Kind: fault.Invalid,
		Message: "Api validation failed: value"})
	_, err := e.run(e.fullEvent())
	require.Error(t, err)
	assert.Regexp(t, `^creating IDENTITY claim "fhirUser" on authorization server aus[A-Za-z0-9]{17}: the API returned an error: Api validation failed: value`, err.Error())
	assert.True(t, slices.ContainsFunc(e.okta.Requests(), func(r fakeokta.Request) bool { return r.Injected }))
}
