package fakeokta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// sdk is a plain okta-sdk-golang/v2 client on the fake: these tests check the
// fake against the real client, independent of this module's client code.
func sdk(t *testing.T, f *fakeokta.Server) *okta.Client {
	t.Helper()
	_, c, err := okta.NewClient(context.Background(), okta.WithOrgUrl(f.URL), okta.WithToken(fakeokta.DefaultAPIToken),
		okta.WithCache(false), okta.WithTestingDisableHttpsCheck(true), okta.WithRateLimitMaxRetries(1))
	require.NoError(t, err)
	return c
}

func oktaErr(t *testing.T, err error) *okta.Error {
	t.Helper()
	var oe *okta.Error
	require.True(t, errors.As(err, &oe), "got %T %v", err, err)
	return oe
}

func TestAuthorizationServersScopesAndErrors(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()

	as, _, err := c.AuthorizationServer.CreateAuthorizationServer(ctx, okta.AuthorizationServer{Name: "a", Audiences: []string{"api://a"}})
	require.NoError(t, err)
	assert.Regexp(t, `^aus[A-Za-z0-9]{17}$`, as.Id)
	assert.Equal(t, "ACTIVE", as.Status)
	assert.Equal(t, f.URL+"/oauth2/"+as.Id, as.Issuer)

	t.Run("duplicate name is E0000001", func(t *testing.T) {
		_, resp, err := c.AuthorizationServer.CreateAuthorizationServer(ctx, okta.AuthorizationServer{Name: "a", Audiences: []string{"x"}})
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		oe := oktaErr(t, err)
		assert.Equal(t, "E0000001", oe.ErrorCode)
		assert.Equal(t, "name: An object with this field already exists in the current organization", oe.ErrorCauses[0]["errorSummary"])
	})
	t.Run("two audiences are refused", func(t *testing.T) {
		_, _, err := c.AuthorizationServer.CreateAuthorizationServer(ctx, okta.AuthorizationServer{Name: "b", Audiences: []string{"x", "y"}})
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
	})
	t.Run("a scope name with both < and > is refused", func(t *testing.T) {
		other, _, err := c.AuthorizationServer.CreateAuthorizationServer(ctx, okta.AuthorizationServer{Name: "angles", Audiences: []string{"api://angles"}})
		require.NoError(t, err)
		_, _, err = c.AuthorizationServer.CreateOAuth2Scope(ctx, other.Id, okta.OAuth2Scope{Name: "x<y>"})
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
		_, _, err = c.AuthorizationServer.CreateOAuth2Scope(ctx, other.Id, okta.OAuth2Scope{Name: "x<y"})
		assert.NoError(t, err, "one of the two is accepted")
		f.RemoveAuthorizationServer(other.Id)
	})
	t.Run("unknown id is a 404 E0000007", func(t *testing.T) {
		_, resp, err := c.AuthorizationServer.GetAuthorizationServer(ctx, "ausDoesNotExist00000")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		oe := oktaErr(t, err)
		assert.Equal(t, "E0000007", oe.ErrorCode)
		assert.Equal(t, "Not found: Resource not found: ausDoesNotExist00000 (AuthorizationServer)", oe.ErrorSummary)
	})
	t.Run("system scopes exist and cannot be deleted", func(t *testing.T) {
		scopes, _, err := c.AuthorizationServer.ListOAuth2Scopes(ctx, as.Id, nil)
		require.NoError(t, err)
		require.Len(t, scopes, 7)
		assert.True(t, *scopes[0].System)
		_, err = c.AuthorizationServer.DeleteOAuth2Scope(ctx, as.Id, scopes[0].Id)
		assert.Equal(t, "E0000006", oktaErr(t, err).ErrorCode)
	})
	t.Run("a scope in use by a claim cannot be deleted", func(t *testing.T) {
		sc, _, err := c.AuthorizationServer.CreateOAuth2Scope(ctx, as.Id, okta.OAuth2Scope{Name: "fhirUser"})
		require.NoError(t, err)
		assert.Regexp(t, `^scp`, sc.Id)
		cl, _, err := c.AuthorizationServer.CreateOAuth2Claim(ctx, as.Id, okta.OAuth2Claim{Name: "fhirUser", ClaimType: "RESOURCE",
			ValueType: "EXPRESSION", Value: "user.fhirUser", Conditions: &okta.OAuth2ClaimConditions{Scopes: []string{"fhirUser"}}})
		require.NoError(t, err)
		assert.Regexp(t, `^ocl`, cl.Id)
		_, err = c.AuthorizationServer.DeleteOAuth2Scope(ctx, as.Id, sc.Id)
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
	})
	t.Run("a claim on an unknown scope or with a reserved name is refused", func(t *testing.T) {
		_, _, err := c.AuthorizationServer.CreateOAuth2Claim(ctx, as.Id, okta.OAuth2Claim{Name: "x", ClaimType: "RESOURCE",
			ValueType: "EXPRESSION", Value: "1", Conditions: &okta.OAuth2ClaimConditions{Scopes: []string{"nope"}}})
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
		_, _, err = c.AuthorizationServer.CreateOAuth2Claim(ctx, as.Id, okta.OAuth2Claim{Name: "sub", ClaimType: "RESOURCE", ValueType: "EXPRESSION", Value: "1"})
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
	})
	t.Run("deleting the server takes its contents", func(t *testing.T) {
		_, err := c.AuthorizationServer.DeleteAuthorizationServer(ctx, as.Id)
		require.NoError(t, err)
		assert.Empty(t, f.AuthorizationServers())
	})
}

func TestPoliciesAndRules(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()
	as, _, err := c.AuthorizationServer.CreateAuthorizationServer(ctx, okta.AuthorizationServer{Name: "a", Audiences: []string{"api://a"}})
	require.NoError(t, err)

	_, _, err = c.AuthorizationServer.CreateAuthorizationServerPolicy(ctx, as.Id, okta.AuthorizationServerPolicy{Name: "p",
		Type: "OAUTH_AUTHORIZATION_POLICY", Conditions: &okta.PolicyRuleConditions{Clients: &okta.ClientPolicyCondition{Include: []string{"0oaNoSuchClient00000"}}}})
	assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode, "policies name existing clients")

	p, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicy(ctx, as.Id, okta.AuthorizationServerPolicy{Name: "p",
		Type: "OAUTH_AUTHORIZATION_POLICY", Conditions: &okta.PolicyRuleConditions{Clients: &okta.ClientPolicyCondition{Include: []string{"ALL_CLIENTS"}}}})
	require.NoError(t, err)
	assert.Regexp(t, `^00p`, p.Id)

	rule := okta.AuthorizationServerPolicyRule{Name: "r", Type: "RESOURCE_ACCESS", Priority: 1,
		Conditions: &okta.AuthorizationServerPolicyRuleConditions{
			People:     &okta.PolicyPeopleCondition{Groups: &okta.GroupCondition{Include: []string{"EVERYONE"}}},
			GrantTypes: &okta.GrantTypePolicyRuleCondition{Include: []string{"authorization_code"}},
			Scopes:     &okta.OAuth2ScopesMediationPolicyRuleCondition{Include: []string{"openid"}},
		},
		Actions: &okta.AuthorizationServerPolicyRuleActions{Token: &okta.TokenAuthorizationServerPolicyRuleAction{
			AccessTokenLifetimeMinutes: 60, RefreshTokenWindowMinutes: 10080}},
	}
	t.Run("the SDK's pointer traps: Priority and a zero lifetime arrive as missing/null and are refused", func(t *testing.T) {
		_, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, as.Id, p.Id, rule)
		oe := oktaErr(t, err)
		assert.Equal(t, "E0000001", oe.ErrorCode)
		assert.Contains(t, oe.ErrorSummary, "priority")
		rule.PriorityPtr = okta.Int64Ptr(1)
		_, _, err = c.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, as.Id, p.Id, rule)
		assert.Contains(t, oktaErr(t, err).ErrorSummary, "refreshTokenLifetimeMinutes")
		last := f.Requests()[len(f.Requests())-1]
		token := last.Body.(map[string]any)["actions"].(map[string]any)["token"].(map[string]any)
		assert.Nil(t, token["refreshTokenLifetimeMinutes"], "0 in the plain field goes out as null")
		assert.Equal(t, float64(60), token["accessTokenLifetimeMinutes"])
	})
	t.Run("a refresh window shorter than the access token lifetime is refused", func(t *testing.T) {
		r := rule
		r.PriorityPtr = okta.Int64Ptr(1)
		r.Actions = &okta.AuthorizationServerPolicyRuleActions{Token: &okta.TokenAuthorizationServerPolicyRuleAction{
			AccessTokenLifetimeMinutesPtr: okta.Int64Ptr(60), RefreshTokenLifetimeMinutesPtr: okta.Int64Ptr(0), RefreshTokenWindowMinutesPtr: okta.Int64Ptr(30)}}
		_, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, as.Id, p.Id, r)
		oe := oktaErr(t, err)
		assert.Equal(t, "E0000001", oe.ErrorCode)
		assert.Contains(t, oe.ErrorSummary, "refreshTokenWindowMinutes")
	})
	t.Run("refresh_token is not a rule grant type", func(t *testing.T) {
		r := rule
		r.Actions = &okta.AuthorizationServerPolicyRuleActions{Token: &okta.TokenAuthorizationServerPolicyRuleAction{
			AccessTokenLifetimeMinutesPtr: okta.Int64Ptr(60), RefreshTokenLifetimeMinutesPtr: okta.Int64Ptr(0), RefreshTokenWindowMinutesPtr: okta.Int64Ptr(10080)}}
		r.Conditions = &okta.AuthorizationServerPolicyRuleConditions{People: rule.Conditions.People, Scopes: rule.Conditions.Scopes,
			GrantTypes: &okta.GrantTypePolicyRuleCondition{Include: []string{"authorization_code", "refresh_token"}}}
		_, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, as.Id, p.Id, r)
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
		r.Conditions.GrantTypes.Include = []string{"authorization_code"}
		created, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, as.Id, p.Id, r)
		require.NoError(t, err)
		assert.Regexp(t, `^0pr`, created.Id)
		assert.Equal(t, "ACTIVE", created.Status)
		_, err = c.AuthorizationServer.DeactivateAuthorizationServerPolicyRule(ctx, as.Id, p.Id, created.Id)
		require.NoError(t, err)
		got, _, err := c.AuthorizationServer.GetAuthorizationServerPolicyRule(ctx, as.Id, p.Id, created.Id)
		require.NoError(t, err)
		assert.Equal(t, "INACTIVE", got.Status)
	})
}

func TestApps(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{PageSize: 2})
	c := sdk(t, f)
	ctx := context.Background()
	web := func(label string) *okta.OpenIdConnectApplication {
		app := okta.NewOpenIdConnectApplication()
		app.Label = label
		code := okta.OAuthGrantType("authorization_code")
		rt := okta.OAuthResponseType("code")
		app.Settings = &okta.OpenIdConnectApplicationSettings{OauthClient: &okta.OpenIdConnectApplicationSettingsClient{
			ApplicationType: "web", GrantTypes: []*okta.OAuthGrantType{&code}, ResponseTypes: []*okta.OAuthResponseType{&rt},
			RedirectUris: []string{"https://a.example.com/cb"}}}
		return app
	}
	created, _, err := c.Application.CreateApplication(ctx, web("one"), nil)
	require.NoError(t, err)
	app := created.(*okta.OpenIdConnectApplication)
	assert.Regexp(t, `^0oa`, app.Id)
	assert.Equal(t, app.Id, app.Credentials.OauthClient.ClientId)
	assert.Len(t, app.Credentials.OauthClient.ClientSecret, 64, "Okta generates the secret")
	assert.Equal(t, "ACTIVE", app.Status)

	t.Run("an app PUT must carry the app's client_id", func(t *testing.T) {
		body := web("one renamed")
		_, _, err := c.Application.UpdateApplication(ctx, app.Id, body)
		oe := oktaErr(t, err)
		assert.Equal(t, "E0000001", oe.ErrorCode)
		assert.Contains(t, oe.ErrorSummary, "client_id")
		body.Credentials = &okta.OAuthApplicationCredentials{OauthClient: &okta.ApplicationCredentialsOAuthClient{ClientId: "0oaSomeOtherClient00"}}
		_, _, err = c.Application.UpdateApplication(ctx, app.Id, body)
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
		body.Credentials.OauthClient.ClientId = app.Id
		_, _, err = c.Application.UpdateApplication(ctx, app.Id, body)
		require.NoError(t, err)
		got, _ := f.App(app.Id)
		assert.Equal(t, "one renamed", got.Label)
	})
	t.Run("an app's application_type cannot be changed", func(t *testing.T) {
		body := web("one renamed")
		body.Settings.OauthClient.ApplicationType = "browser"
		body.Credentials = &okta.OAuthApplicationCredentials{OauthClient: &okta.ApplicationCredentialsOAuthClient{
			ClientId: app.Id, TokenEndpointAuthMethod: "none", PkceRequired: boolPtr(true)}}
		_, _, err := c.Application.UpdateApplication(ctx, app.Id, body)
		oe := oktaErr(t, err)
		assert.Equal(t, "E0000001", oe.ErrorCode)
		assert.Contains(t, oe.ErrorSummary, "application_type")
		got, _ := f.App(app.Id)
		assert.Equal(t, "web", got.Settings.OauthClient.ApplicationType)
	})
	t.Run("an active app cannot be deleted", func(t *testing.T) {
		_, err := c.Application.DeleteApplication(ctx, app.Id)
		assert.Equal(t, "E0000056", oktaErr(t, err).ErrorCode)
	})
	t.Run("lists are paged with Link headers", func(t *testing.T) {
		for _, l := range []string{"two", "three", "four", "five"} {
			_, _, err := c.Application.CreateApplication(ctx, web(l), nil)
			require.NoError(t, err)
		}
		first, resp, err := c.Application.ListApplications(ctx, query.NewQueryParams(query.WithFilter(`name eq "oidc_client"`)))
		require.NoError(t, err)
		assert.Len(t, first, 2)
		total := len(first)
		for resp.HasNextPage() {
			var page []*okta.Application
			resp, err = resp.Next(ctx, &page)
			require.NoError(t, err)
			total += len(page)
		}
		assert.Equal(t, 5, total)
	})
	t.Run("deactivated, it is deleted", func(t *testing.T) {
		_, err := c.Application.DeactivateApplication(ctx, app.Id)
		require.NoError(t, err)
		_, err = c.Application.DeleteApplication(ctx, app.Id)
		require.NoError(t, err)
		_, ok := f.App(app.Id)
		assert.False(t, ok)
	})
	t.Run("a private_key_jwt client must register public keys only", func(t *testing.T) {
		svc := okta.NewOpenIdConnectApplication()
		svc.Label = "svc"
		cc := okta.OAuthGrantType("client_credentials")
		svc.Credentials = &okta.OAuthApplicationCredentials{OauthClient: &okta.ApplicationCredentialsOAuthClient{TokenEndpointAuthMethod: "private_key_jwt"}}
		svc.Settings = &okta.OpenIdConnectApplicationSettings{OauthClient: &okta.OpenIdConnectApplicationSettingsClient{
			ApplicationType: "service", GrantTypes: []*okta.OAuthGrantType{&cc}}}
		_, _, err := c.Application.CreateApplication(ctx, svc, nil)
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
	})
	t.Run("a client's JWKS: several keys each need a kid, kids are unique, at most 50 keys", func(t *testing.T) {
		svc := func(keys ...*okta.JsonWebKey) *okta.OpenIdConnectApplication {
			a := okta.NewOpenIdConnectApplication()
			a.Label = "svc"
			cc := okta.OAuthGrantType("client_credentials")
			a.Credentials = &okta.OAuthApplicationCredentials{OauthClient: &okta.ApplicationCredentialsOAuthClient{TokenEndpointAuthMethod: "private_key_jwt"}}
			a.Settings = &okta.OpenIdConnectApplicationSettings{OauthClient: &okta.OpenIdConnectApplicationSettingsClient{
				ApplicationType: "service", GrantTypes: []*okta.OAuthGrantType{&cc},
				Jwks: &okta.OpenIdConnectApplicationSettingsClientKeys{Keys: keys}}}
			return a
		}
		key := func(kid string) *okta.JsonWebKey { return &okta.JsonWebKey{Kty: "RSA", Kid: kid, E: "AQAB", N: "sXch"} }
		_, _, err := c.Application.CreateApplication(ctx, svc(key("")), nil)
		require.NoError(t, err, "one key may go without kid")
		_, _, err = c.Application.CreateApplication(ctx, svc(key("a"), key("b")), nil)
		require.NoError(t, err)
		for name, keys := range map[string][]*okta.JsonWebKey{
			"a key without kid beside another": {key("a"), key("")},
			"a repeated kid":                   {key("a"), key("a")},
		} {
			_, _, err := c.Application.CreateApplication(ctx, svc(keys...), nil)
			oe := oktaErr(t, err)
			assert.Equal(t, "E0000001", oe.ErrorCode, name)
			assert.Contains(t, oe.ErrorSummary, "JsonWebKey", name)
		}
		var many []*okta.JsonWebKey
		for i := range 51 {
			many = append(many, key(fmt.Sprint("k", i)))
		}
		_, _, err = c.Application.CreateApplication(ctx, svc(many...), nil)
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
	})
}

func TestFaultsAndRateLimitHeaders(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	rule := f.Faults.Add(fault.Rule{Op: "GET /api/v1/authorizationServers", After: 1, Times: 2,
		Kind: fault.Throttle, RetryAfter: 30 * time.Second})

	get := func() *http.Response {
		req, _ := http.NewRequest("GET", f.URL+"/api/v1/authorizationServers", nil)
		req.Header.Set("Authorization", "SSWS "+fakeokta.DefaultAPIToken)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
	assert.Equal(t, 200, get().StatusCode, "After lets the first through")
	resp := get()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	date, err := time.Parse(http.TimeFormat, resp.Header.Get("Date"))
	require.NoError(t, err)
	reset, err := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64)
	require.NoError(t, err)
	assert.Equal(t, int64(29), reset-date.Unix(), "the SDK waits Reset-Date+1 = 30 s")
	assert.Equal(t, "0", resp.Header.Get("X-Rate-Limit-Remaining"))
	assert.Equal(t, "100", resp.Header.Get("X-Rate-Limit-Limit"))
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	assert.Equal(t, "E0000047", body["errorCode"])
	assert.Equal(t, http.StatusTooManyRequests, get().StatusCode)
	assert.Equal(t, 200, get().StatusCode, "Times bounds the failures")
	assert.Equal(t, 2, f.Faults.Fired(rule))
	reqs := f.Requests()
	require.Len(t, reqs, 4)
	assert.True(t, reqs[1].Injected)
	assert.False(t, reqs[3].Injected)
}

func TestAuthentication(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	for _, auth := range []string{"", "SSWS wrong", "Bearer unknown"} {
		req, _ := http.NewRequest("POST", f.URL+"/api/v1/authorizationServers", bytes.NewReader([]byte(`{"name":"x","audiences":["a"]}`)))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, auth)
	}
	assert.Empty(t, f.AuthorizationServers())
}

func TestPathMatches(t *testing.T) {
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"", "/anything", true},
		{"/api/v1/apps", "/api/v1/apps", true},
		{"/api/v1/apps", "/api/v1/apps/0oa1", false},
		{"/api/v1/apps/*", "/api/v1/apps/0oa1", true},
		{"/api/v1/apps/*/lifecycle/*", "/api/v1/apps/0oa1/lifecycle/deactivate", true},
		{"/api/v1/authorizationServers/**", "/api/v1/authorizationServers/aus1/policies/00p1/rules", true},
		{"/api/v1/authorizationServers/*/scopes", "/api/v1/authorizationServers/aus1/claims", false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, fakeokta.PathMatches(tc.pattern, tc.path), "%s ~ %s", tc.pattern, tc.path)
	}
}

func TestGroupsAndAppAssignments(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()
	id := f.AddApp("web", nil)
	clinicians := f.AddGroup("clinicians")

	builtIn, _, err := c.Group.ListGroups(ctx, query.NewQueryParams(query.WithFilter(`type eq "BUILT_IN"`)))
	require.NoError(t, err)
	require.Len(t, builtIn, 1)
	assert.Equal(t, "Everyone", builtIn[0].Profile.Name)
	assert.Equal(t, f.EveryoneGroupID(), builtIn[0].Id)
	assert.Regexp(t, `^00g[A-Za-z0-9]{17}$`, builtIn[0].Id)

	_, _, err = c.Application.CreateApplicationGroupAssignment(ctx, id, "EVERYONE", okta.ApplicationGroupAssignment{})
	assert.Equal(t, "E0000007", oktaErr(t, err).ErrorCode, "EVERYONE is a rule keyword, not a group id")
	for _, g := range []string{builtIn[0].Id, clinicians, clinicians} {
		a, _, err := c.Application.CreateApplicationGroupAssignment(ctx, id, g, okta.ApplicationGroupAssignment{})
		require.NoError(t, err)
		assert.Equal(t, g, a.Id)
	}
	list, _, err := c.Application.ListApplicationGroupAssignments(ctx, id, nil)
	require.NoError(t, err)
	assert.Len(t, list, 2, "assigning twice is one assignment")
	_, err = c.Application.DeleteApplicationGroupAssignment(ctx, id, clinicians)
	require.NoError(t, err)
	resp, err := c.Application.DeleteApplicationGroupAssignment(ctx, id, clinicians)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "%v", err)
	assert.Equal(t, []string{builtIn[0].Id}, f.AppGroups(id))

	_, err = c.Application.DeactivateApplication(ctx, id)
	require.NoError(t, err)
	_, err = c.Application.DeleteApplication(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, f.AppGroups(id), "a deleted app's assignments go with it")
}

func TestUserSchema(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()
	s, _, err := c.UserSchema.GetUserSchema(ctx, "default")
	require.NoError(t, err)
	assert.NotNil(t, s.Definitions.Base.Properties["email"])
	assert.Empty(t, s.Definitions.Custom.Properties)

	add := func(name string, a *okta.UserSchemaAttribute) error {
		_, _, err := c.UserSchema.UpdateUserProfile(ctx, "default", okta.UserSchema{Definitions: &okta.UserSchemaDefinitions{
			Custom: &okta.UserSchemaPublic{Id: "#custom", Type: "object", Properties: map[string]*okta.UserSchemaAttribute{name: a}}}})
		return err
	}
	require.NoError(t, add("fhirUser", &okta.UserSchemaAttribute{Title: "fhirUser", Type: "string"}))
	require.NoError(t, add("patientId", &okta.UserSchemaAttribute{Title: "patientId", Type: "string"}))
	assert.Len(t, f.CustomUserAttributes(), 2, "a partial schema adds, it does not replace")
	assert.Equal(t, "E0000001", oktaErr(t, add("email", &okta.UserSchemaAttribute{Title: "e", Type: "string"})).ErrorCode)
	assert.Equal(t, "E0000001", oktaErr(t, add("x", &okta.UserSchemaAttribute{Type: "string"})).ErrorCode, "title required")
	require.NoError(t, add("patientId", nil), "null removes, as in Okta")
	assert.NotContains(t, f.CustomUserAttributes(), "patientId")
}

func TestPoliciesAndRulesAreNumberedAsOktaNumbersThem(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()
	asID := f.AddAuthorizationServer("numbers", "", "api://numbers")
	client := f.AddApp("client", nil)
	policy := func(name string, priority int64) string {
		body := okta.AuthorizationServerPolicy{Name: name, Type: "OAUTH_AUTHORIZATION_POLICY", PriorityPtr: okta.Int64Ptr(priority),
			Conditions: &okta.PolicyRuleConditions{Clients: &okta.ClientPolicyCondition{Include: []string{client}}}}
		p, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicy(ctx, asID, body)
		require.NoError(t, err)
		return p.Id
	}
	order := func() (names []string, priorities []int64) {
		as, _ := f.AuthorizationServer(asID)
		for _, p := range as.Policies {
			names, priorities = append(names, p.Name), append(priorities, p.Priority)
		}
		return names, priorities
	}
	a := policy("a", 1)
	policy("b", 99) // past the end: last
	policy("c", 1)  // a used priority: a and b move down
	names, prios := order()
	assert.Equal(t, []string{"c", "a", "b"}, names)
	assert.Equal(t, []int64{1, 2, 3}, prios)

	_, err := c.AuthorizationServer.DeleteAuthorizationServerPolicy(ctx, asID, a)
	require.NoError(t, err)
	names, prios = order()
	assert.Equal(t, []string{"c", "b"}, names, "a delete closes the gap")
	assert.Equal(t, []int64{1, 2}, prios)
}

func boolPtr(b bool) *bool { return &b }
