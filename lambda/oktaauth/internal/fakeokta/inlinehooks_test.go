package fakeokta_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// hook is a token hook with a header secret, as createInlineHook's
// InlineHookMgmtCreateHTTPRequest example.
func hook(name, uri, secret string) okta.InlineHook {
	return okta.InlineHook{Name: name, Type: fakeokta.TokenHookType, Version: "1.0.0", Channel: &okta.InlineHookChannel{
		Type: "HTTP", Version: "1.0.0", Config: &okta.InlineHookChannelConfig{Uri: uri, Method: "POST",
			AuthScheme: &okta.InlineHookChannelConfigAuthScheme{Type: "HEADER", Key: "Authorization", Value: secret}}}}
}

func TestInlineHooks(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()
	const secret = "hook-header-secret-not-real-0123456789"

	created, _, err := c.InlineHook.CreateInlineHook(ctx, hook("h", "https://hooks.example.com/token", secret))
	require.NoError(t, err)

	t.Run("a created hook is ACTIVE and has a cal id", func(t *testing.T) {
		assert.Regexp(t, `^cal[A-Za-z0-9]{17}$`, created.Id)
		assert.Equal(t, "ACTIVE", created.Status)
	})
	t.Run("reads name the header key but never return its value", func(t *testing.T) {
		got, _, err := c.InlineHook.GetInlineHook(ctx, created.Id)
		require.NoError(t, err)
		assert.Equal(t, "authorization", got.Channel.Config.AuthScheme.Key)
		assert.Empty(t, got.Channel.Config.AuthScheme.Value)
		assert.Empty(t, created.Channel.Config.AuthScheme.Value, "nor does the create answer")
		list, _, err := c.InlineHook.ListInlineHooks(ctx, query.NewQueryParams(query.WithType(fakeokta.TokenHookType)))
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Empty(t, list[0].Channel.Config.AuthScheme.Value)
		assert.Equal(t, secret, f.InlineHooks()[0].Channel.Config.AuthScheme.Value, "the fake keeps it for the tests")
	})
	t.Run("the list filters by type", func(t *testing.T) {
		list, _, err := c.InlineHook.ListInlineHooks(ctx, query.NewQueryParams(query.WithType("com.okta.import.transform")))
		require.NoError(t, err)
		assert.Empty(t, list)
		_, _, err = c.InlineHook.ListInlineHooks(ctx, query.NewQueryParams(query.WithType("com.example.nope")))
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
	})
	t.Run("bad hooks are refused", func(t *testing.T) {
		bad := map[string]okta.InlineHook{}
		h := hook("x", "https://hooks.example.com/token", secret)
		h.Type = "com.example.nope"
		bad["unknown type"] = h
		bad["plain http"] = hook("x", "http://hooks.example.com/token", secret)
		bad["white space in the uri"] = hook("x", "https://hooks.example.com/a b", secret)
		bad["no name"] = hook("", "https://hooks.example.com/token", secret)
		h = hook("x", "https://hooks.example.com/token", secret)
		h.Version = "2.0.0"
		bad["another version"] = h
		h = hook("x", "https://hooks.example.com/token", "")
		bad["a header without value"] = h
		for name, body := range bad {
			_, resp, err := c.InlineHook.CreateInlineHook(ctx, body)
			require.Error(t, err, name)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, name)
		}
	})
	t.Run("a replace keeps the type and the status and takes a new uri and secret", func(t *testing.T) {
		body := hook("h2", "https://hooks.example.com/v2", "new-secret-value-0123456789")
		body.Type = ""
		got, _, err := c.InlineHook.UpdateInlineHook(ctx, created.Id, body)
		require.NoError(t, err)
		assert.Equal(t, fakeokta.TokenHookType, got.Type)
		assert.Equal(t, "ACTIVE", got.Status)
		stored := f.InlineHooks()[0]
		assert.Equal(t, "https://hooks.example.com/v2", stored.Channel.Config.URI)
		assert.Equal(t, "new-secret-value-0123456789", stored.Channel.Config.AuthScheme.Value)
		body.Type = "com.okta.import.transform"
		_, _, err = c.InlineHook.UpdateInlineHook(ctx, created.Id, body)
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode, "the type is immutable")
	})
	t.Run("an ACTIVE hook cannot be deleted; an inactive one can", func(t *testing.T) {
		resp, err := c.InlineHook.DeleteInlineHook(ctx, created.Id)
		require.Error(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		got, _, err := c.InlineHook.DeactivateInlineHook(ctx, created.Id)
		require.NoError(t, err)
		assert.Equal(t, "INACTIVE", got.Status)
		_, err = c.InlineHook.DeleteInlineHook(ctx, created.Id)
		require.NoError(t, err)
		_, resp, err = c.InlineHook.GetInlineHook(ctx, created.Id)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
		assert.Equal(t, "E0000007", oktaErr(t, err).ErrorCode)
	})
	t.Run("an org holds at most 50 hooks", func(t *testing.T) {
		for i := len(f.InlineHooks()); i < 50; i++ {
			_, _, err := c.InlineHook.CreateInlineHook(ctx, hook(fmt.Sprint("n", i), "https://hooks.example.com/token", secret))
			require.NoError(t, err)
		}
		_, _, err := c.InlineHook.CreateInlineHook(ctx, hook("one too many", "https://hooks.example.com/token", secret))
		assert.Equal(t, "E0000001", oktaErr(t, err).ErrorCode)
	})
}

func TestRulesReferenceOnlyActiveTokenHooks(t *testing.T) {
	f := fakeokta.New(t, fakeokta.Options{})
	c := sdk(t, f)
	ctx := context.Background()
	as, _, err := c.AuthorizationServer.CreateAuthorizationServer(ctx, okta.AuthorizationServer{Name: "h", Audiences: []string{"api://h"}})
	require.NoError(t, err)
	p, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicy(ctx, as.Id, okta.AuthorizationServerPolicy{Name: "p",
		Type: "OAUTH_AUTHORIZATION_POLICY", Conditions: &okta.PolicyRuleConditions{Clients: &okta.ClientPolicyCondition{Include: []string{"ALL_CLIENTS"}}}})
	require.NoError(t, err)
	n := 0
	rule := func(hookID string) error {
		n++
		_, _, err := c.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, as.Id, p.Id, okta.AuthorizationServerPolicyRule{
			Name: fmt.Sprint("r", n), Type: "RESOURCE_ACCESS", PriorityPtr: okta.Int64Ptr(1),
			Conditions: &okta.AuthorizationServerPolicyRuleConditions{
				People:     &okta.PolicyPeopleCondition{Groups: &okta.GroupCondition{Include: []string{"EVERYONE"}}},
				GrantTypes: &okta.GrantTypePolicyRuleCondition{Include: []string{"authorization_code"}},
				Scopes:     &okta.OAuth2ScopesMediationPolicyRuleCondition{Include: []string{"openid"}},
			},
			Actions: &okta.AuthorizationServerPolicyRuleActions{Token: &okta.TokenAuthorizationServerPolicyRuleAction{
				AccessTokenLifetimeMinutesPtr: okta.Int64Ptr(5), RefreshTokenLifetimeMinutesPtr: okta.Int64Ptr(0),
				RefreshTokenWindowMinutesPtr: okta.Int64Ptr(10080),
				InlineHook:                   &okta.TokenAuthorizationServerPolicyRuleActionInlineHook{Id: hookID}}},
		})
		return err
	}
	active := f.AddInlineHook("active token hook", fakeokta.TokenHookType, "ACTIVE")
	inactive := f.AddInlineHook("inactive token hook", fakeokta.TokenHookType, "INACTIVE")
	other := f.AddInlineHook("an import hook", "com.okta.import.transform", "ACTIVE")
	for name, id := range map[string]string{"a missing hook": "calNoSuchHook0000000", "an inactive hook": inactive, "a hook of another type": other} {
		err := rule(id)
		require.Error(t, err, name)
		oe := oktaErr(t, err)
		assert.Equal(t, "E0000001", oe.ErrorCode, name)
		assert.Contains(t, oe.ErrorSummary, "actions.token.inlineHook.id", name)
	}
	assert.NoError(t, rule(active), "an active token hook is accepted")
}
