package fakeokta_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

func TestReservedClaimNamesFollowOktasList(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()
	as, _, err := c.AuthorizationServer.CreateAuthorizationServer(ctx, okta.AuthorizationServer{Name: "claims", Audiences: []string{"api://c"}})
	require.NoError(t, err)
	claim := func(name, claimType string) error {
		_, _, err := c.AuthorizationServer.CreateOAuth2Claim(ctx, as.Id, okta.OAuth2Claim{Name: name, ClaimType: claimType,
			ValueType: "EXPRESSION", Value: "user.login"})
		return err
	}
	for _, name := range []string{"acr", "sid", "scope", "scopes", "client_id", "token_type", "username", "role", "permissions"} {
		for _, ct := range []string{"RESOURCE", "IDENTITY"} {
			err := claim(name, ct)
			require.Error(t, err, "%s %s", ct, name)
			assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
		}
	}
	t.Run("groups is reserved in access tokens, usable in ID tokens", func(t *testing.T) {
		assert.Error(t, claim("groups", "RESOURCE"))
		assert.NoError(t, claim("groups", "IDENTITY"))
	})
	t.Run("an ordinary name is accepted", func(t *testing.T) {
		assert.NoError(t, claim("organization", "RESOURCE"))
	})
}

func TestAppReadsNeverShowTheClientSecret(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()
	app := okta.NewOpenIdConnectApplication()
	app.Label = "web"
	app.Settings = &okta.OpenIdConnectApplicationSettings{OauthClient: &okta.OpenIdConnectApplicationSettingsClient{
		ApplicationType: "web", GrantTypes: []*okta.OAuthGrantType{ptr(okta.OAuthGrantType("authorization_code"))},
		ResponseTypes: []*okta.OAuthResponseType{ptr(okta.OAuthResponseType("code"))}, RedirectUris: []string{"https://a.example.com/cb"}}}
	created, _, err := c.Application.CreateApplication(ctx, app, nil)
	require.NoError(t, err)
	secret := created.(*okta.OpenIdConnectApplication).Credentials.OauthClient.ClientSecret
	require.Len(t, secret, 64, "the create answer carries the secret")
	id := created.(*okta.OpenIdConnectApplication).Id

	got, _, err := c.Application.GetApplication(ctx, id, okta.NewOpenIdConnectApplication(), nil)
	require.NoError(t, err)
	assert.Empty(t, got.(*okta.OpenIdConnectApplication).Credentials.OauthClient.ClientSecret, "a GET does not")
	req, _ := http.NewRequest("GET", f.URL+"/api/v1/apps", nil)
	req.Header.Set("Authorization", "SSWS "+fakeokta.DefaultAPIToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Contains(t, string(raw), `"client_id"`)
	assert.NotContains(t, string(raw), secret, "a list does not either")
	secrets, _, err := c.Application.ListClientSecretsForApplication(ctx, id)
	require.NoError(t, err)
	require.Len(t, secrets, 1)
	assert.Equal(t, secret, secrets[0].ClientSecret, "the secrets are under /credentials/secrets")
}

func ptr[T any](v T) *T { return &v }

func TestRuleRefreshWindowHasOktasTenMinuteMinimum(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()
	as, _, err := c.AuthorizationServer.CreateAuthorizationServer(ctx, okta.AuthorizationServer{Name: "w", Audiences: []string{"api://w"}})
	require.NoError(t, err)
	p, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicy(ctx, as.Id, okta.AuthorizationServerPolicy{Name: "p",
		Type: "OAUTH_AUTHORIZATION_POLICY", Conditions: &okta.PolicyRuleConditions{Clients: &okta.ClientPolicyCondition{Include: []string{"ALL_CLIENTS"}}}})
	require.NoError(t, err)
	rule := func(window int64) error {
		_, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, as.Id, p.Id, okta.AuthorizationServerPolicyRule{
			Name: fmt.Sprint("r", window), Type: "RESOURCE_ACCESS", PriorityPtr: okta.Int64Ptr(1),
			Conditions: &okta.AuthorizationServerPolicyRuleConditions{
				People:     &okta.PolicyPeopleCondition{Groups: &okta.GroupCondition{Include: []string{"EVERYONE"}}},
				GrantTypes: &okta.GrantTypePolicyRuleCondition{Include: []string{"authorization_code"}},
				Scopes:     &okta.OAuth2ScopesMediationPolicyRuleCondition{Include: []string{"openid"}},
			},
			Actions: &okta.AuthorizationServerPolicyRuleActions{Token: &okta.TokenAuthorizationServerPolicyRuleAction{
				AccessTokenLifetimeMinutesPtr: okta.Int64Ptr(5), RefreshTokenLifetimeMinutesPtr: okta.Int64Ptr(0),
				RefreshTokenWindowMinutesPtr: okta.Int64Ptr(window)}},
		})
		return err
	}
	err = rule(9)
	require.Error(t, err)
	assert.Contains(t, oktaErr(t, err).ErrorSummary, "refreshTokenWindowMinutes")
	assert.NoError(t, rule(10))
}
