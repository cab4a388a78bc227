package handler_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/reconcile"
)

const endpoint = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"

// createWithoutAudience runs the full create event without its Audience, as
// the construct sends it when the audience is bound later.
func createWithoutAudience(t *testing.T, e *env) (customresource.Event, customresource.OnEventResponse) {
	t.Helper()
	ev := e.fullEvent()
	delete(ev.ResourceProperties, "Audience")
	resp, err := e.run(ev)
	require.NoError(t, err)
	return ev, resp
}

// bindEvent is a Custom::SmartOktaAudience create event for a server of the
// fake org.
func bindEvent(e *env, serverID, audience string) customresource.Event {
	ev := e.fullEvent()
	ev.ResourceType = oktaprops.ResourceTypeAudience
	ev.LogicalResourceID = "SmartAuthServerAudience"
	ev.RequestID = "0b7e4a1e-9a55-1f0f-2f7d-9c115d2b8c6e"
	ev.ResourceProperties = map[string]any{
		"ServiceToken":          "arn:aws:lambda:us-east-1:123456789012:function:smart-healthlake-OktaAuthProvider",
		"OktaOrgUrl":            e.okta.URL,
		"CredentialSecretArn":   e.credARN,
		"AuthorizationServerId": serverID,
		"Audience":              audience,
	}
	return ev
}

func TestAServerCreatedWithoutAnAudienceGetsThePlaceholder(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	_, resp := createWithoutAudience(t, e)
	as := e.onlyServer()
	assert.Equal(t, "api://smart-healthlake/smart-healthlake", oktaprops.PlaceholderAudience("smart-healthlake"))
	assert.Equal(t, []string{oktaprops.PlaceholderAudience("smart-healthlake")}, as.Audiences)
	assert.Equal(t, oktaprops.PlaceholderAudience("smart-healthlake"), resp.Data[oktaprops.AttrAudience])
	body := e.okta.RequestsMatching("POST", "/api/v1/authorizationServers")[0].Body.(map[string]any)
	assert.Equal(t, []any{"api://smart-healthlake/smart-healthlake"}, body["audiences"])
}

func TestBindingTheAudience(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create, resp := createWithoutAudience(t, e)
	serverID := resp.PhysicalResourceID
	before := e.onlyServer()
	e.okta.ResetRequests()
	credReads := e.sm.Count("GetSecretValue")

	bind := bindEvent(e, serverID, endpoint)
	out, err := e.run(bind)
	require.NoError(t, err)

	t.Run("create sets the audience with one GET and one PUT changing only the audiences", func(t *testing.T) {
		assert.Equal(t, serverID+"/audience", out.PhysicalResourceID)
		assert.Equal(t, map[string]any{oktaprops.AttrAuthorizationServerID: serverID, oktaprops.AttrAudience: endpoint}, out.Data)
		after := e.onlyServer()
		assert.Equal(t, []string{endpoint}, after.Audiences)
		assert.Equal(t, []string{"PUT /api/v1/authorizationServers/" + serverID}, e.writes())
		assert.Len(t, e.okta.RequestsMatching("GET", "/api/v1/authorizationServers/*"), 1)
		put := e.okta.RequestsMatching("PUT", "/api/v1/authorizationServers/*")[0].Body.(map[string]any)
		assert.Equal(t, before.Name, put["name"])
		assert.Equal(t, before.Description, put["description"], "the ownership marker is kept")
		assert.Equal(t, before.IssuerMode, put["issuerMode"])
		assert.Equal(t, []any{endpoint}, put["audiences"])
		assert.Equal(t, before.Issuer, after.Issuer)
		assert.Equal(t, before.Scopes, after.Scopes)
		assert.Equal(t, credReads+1, e.sm.Count("GetSecretValue"), "the credential secret is read")
		assert.Equal(t, 2, e.sm.Count("PutSecretValue"), "no secret is written by a binding")
	})

	t.Run("re-running the binding changes nothing", func(t *testing.T) {
		e.okta.ResetRequests()
		again := bind
		again.RequestType = customresource.Update
		again.PhysicalResourceID = out.PhysicalResourceID
		again.OldResourceProperties = bind.ResourceProperties
		_, err := e.run(again)
		require.NoError(t, err)
		assert.Empty(t, e.writes())
	})

	t.Run("updates of the server resource without an Audience leave the bound audience alone", func(t *testing.T) {
		e.okta.ResetRequests()
		upd := updateEvent(create, serverID, func(p map[string]any) { p["AccessTokenLifetimeMinutes"] = "30" })
		got, err := e.run(upd)
		require.NoError(t, err)
		assert.Equal(t, endpoint, got.Data[oktaprops.AttrAudience], "the attribute reports what Okta has")
		assert.Empty(t, e.okta.RequestsMatching("PUT", "/api/v1/authorizationServers/*"), "the server itself is not touched")
		assert.Equal(t, []string{endpoint}, e.onlyServer().Audiences)

		// A rename puts the server: the audience goes back unchanged.
		e.okta.ResetRequests()
		renamed := updateEvent(upd, serverID, func(p map[string]any) { p["Name"] = "smart-healthlake-prod" })
		_, err = e.run(renamed)
		require.NoError(t, err)
		puts := e.okta.RequestsMatching("PUT", "/api/v1/authorizationServers/*")
		require.Len(t, puts, 1)
		assert.Equal(t, []any{endpoint}, puts[0].Body.(map[string]any)["audiences"])
		as := e.onlyServer()
		assert.Equal(t, "smart-healthlake-prod", as.Name)
		assert.Equal(t, []string{endpoint}, as.Audiences, "never reset to the placeholder")
	})

	t.Run("an update to another audience, and its rollback, which restores the old one", func(t *testing.T) {
		const next = "https://healthlake.us-east-1.amazonaws.com/datastore/fedcba9876543210fedcba9876543210/r4/"
		upd := bind
		upd.RequestType = customresource.Update
		upd.PhysicalResourceID = out.PhysicalResourceID
		upd.OldResourceProperties = bind.ResourceProperties
		upd.ResourceProperties = cloneProps(bind.ResourceProperties)
		upd.ResourceProperties["Audience"] = next
		got, err := e.run(upd)
		require.NoError(t, err)
		assert.Equal(t, out.PhysicalResourceID, got.PhysicalResourceID, "same server: in place")
		assert.Equal(t, []string{next}, e.onlyServer().Audiences)

		// CloudFormation rolls a failed update back with old and new swapped.
		rollback := upd
		rollback.ResourceProperties, rollback.OldResourceProperties = upd.OldResourceProperties, upd.ResourceProperties
		got, err = e.run(rollback)
		require.NoError(t, err)
		assert.Equal(t, endpoint, got.Data[oktaprops.AttrAudience])
		assert.Equal(t, []string{endpoint}, e.onlyServer().Audiences)
	})

	t.Run("delete leaves the audience and calls neither Okta nor Secrets Manager", func(t *testing.T) {
		e.okta.ResetRequests()
		reads := e.sm.Count("GetSecretValue")
		del := bind
		del.RequestType = customresource.Delete
		del.PhysicalResourceID = out.PhysicalResourceID
		got, err := e.run(del)
		require.NoError(t, err)
		assert.Equal(t, out.PhysicalResourceID, got.PhysicalResourceID)
		assert.Empty(t, e.okta.Requests())
		assert.Equal(t, reads, e.sm.Count("GetSecretValue"))
		assert.Equal(t, []string{endpoint}, e.onlyServer().Audiences, "live tokens keep their audience")
	})

	t.Run("delete after the server is gone is done at once", func(t *testing.T) {
		_, err := e.run(deleteEvent(create, serverID))
		require.NoError(t, err)
		require.Empty(t, e.okta.AuthorizationServers())
		e.okta.ResetRequests()
		del := bind
		del.RequestType = customresource.Delete
		del.PhysicalResourceID = out.PhysicalResourceID
		_, err = e.run(del)
		require.NoError(t, err)
		assert.Empty(t, e.okta.Requests())
	})
}

func TestBindingAnotherServerIsAReplacement(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	_, first := createWithoutAudience(t, e)
	second := e.fullEvent()
	delete(second.ResourceProperties, "Audience")
	second.ResourceProperties["Name"] = "second"
	second.LogicalResourceID = "Second"
	resp2, err := e.run(second)
	require.NoError(t, err)

	bind := bindEvent(e, first.PhysicalResourceID, endpoint)
	out, err := e.run(bind)
	require.NoError(t, err)
	upd := bind
	upd.RequestType = customresource.Update
	upd.PhysicalResourceID = out.PhysicalResourceID
	upd.OldResourceProperties = bind.ResourceProperties
	upd.ResourceProperties = cloneProps(bind.ResourceProperties)
	upd.ResourceProperties["AuthorizationServerId"] = resp2.PhysicalResourceID
	got, err := e.run(upd)
	require.NoError(t, err)
	assert.Equal(t, resp2.PhysicalResourceID+"/audience", got.PhysicalResourceID, "a new physical id: CloudFormation deletes the old binding")
	as2, _ := e.okta.AuthorizationServer(resp2.PhysicalResourceID)
	assert.Equal(t, []string{endpoint}, as2.Audiences)
}

func TestBindingFailures(t *testing.T) {
	t.Run("a server that does not exist", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		_, err := e.run(bindEvent(e, "ausDoesNotExist00000", endpoint))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "authorization server ausDoesNotExist00000 does not exist in Okta")
		assert.Empty(t, e.writes())
	})

	t.Run("a server no resource of this product made is never changed", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		foreign := e.okta.AddAuthorizationServer("hand-made", "Made in the console", "api://theirs")
		_, err := e.run(bindEvent(e, foreign, endpoint))
		var nm *reconcile.NotManagedError
		require.True(t, errors.As(err, &nm), "got %v", err)
		assert.Empty(t, e.writes())
		as, _ := e.okta.AuthorizationServer(foreign)
		assert.Equal(t, []string{"api://theirs"}, as.Audiences)
	})

	t.Run("Okta refuses the update", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		_, resp := createWithoutAudience(t, e)
		e.okta.Faults.Add(fault.Rule{Op: "PUT /api/v1/authorizationServers/*", Kind: fault.Invalid,
			Message: "Api validation failed: audiences"})
		_, err := e.run(bindEvent(e, resp.PhysicalResourceID, endpoint))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `setting the audience of authorization server `+resp.PhysicalResourceID+` to "`+endpoint+`"`)
	})

	for name, c := range map[string]struct {
		edit     func(p map[string]any)
		property string
	}{
		"no server id":      {func(p map[string]any) { delete(p, "AuthorizationServerId") }, "AuthorizationServerId"},
		"not a server id":   {func(p map[string]any) { p["AuthorizationServerId"] = "default" }, "AuthorizationServerId"},
		"no audience":       {func(p map[string]any) { delete(p, "Audience") }, "Audience"},
		"audience w/ space": {func(p map[string]any) { p["Audience"] = "a b" }, "Audience"},
		"http org":          {func(p map[string]any) { p["OktaOrgUrl"] = "http://example.okta.com" }, "OktaOrgUrl"},
	} {
		t.Run("bad property: "+name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			ev := bindEvent(e, "ausAbCdEfGhIjKlMnOpQ", endpoint)
			c.edit(ev.ResourceProperties)
			_, err := e.run(ev)
			var perr *cfnprops.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, c.property, perr.Property)
			assert.Empty(t, e.okta.Requests())
			assert.Zero(t, e.sm.Count("GetSecretValue"))
		})
	}
}

func TestAnUnknownResourceType(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	ev := e.fullEvent()
	ev.ResourceType = "Custom::Something"
	_, err := e.run(ev)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown resource type "Custom::Something"`)
	assert.Empty(t, e.okta.Requests())

	// Its Delete (after the failed Create) must not wedge the stack.
	out, err := e.run(deleteEvent(ev, ev.RequestID))
	require.NoError(t, err)
	assert.Equal(t, ev.RequestID, out.PhysicalResourceID)
	assert.Empty(t, e.okta.Requests())
}
