package handler_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// introspectionOnly is the full event with the introspection client as the
// only client, so no client-secret secret is needed.
func introspectionOnly(e *env) map[string]any {
	return map[string]any{
		"ServiceToken":           "arn:aws:lambda:us-east-1:123456789012:function:provider",
		"OktaOrgUrl":             e.okta.URL,
		"CredentialSecretArn":    e.credARN,
		"Name":                   "introspection-only",
		"IntrospectionClient":    "true",
		"IntrospectionSecretArn": e.introARN,
	}
}

func TestTheIntrospectionCredentialHasItsOwnSecret(t *testing.T) {
	t.Run("with the introspection client alone, no client-secret secret is needed or written", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		ev := e.fullEvent()
		ev.ResourceProperties = introspectionOnly(e)
		resp, err := e.run(ev)
		require.NoError(t, err)
		app := appsByKind(e.okta)["introspection"]
		assert.Equal(t, map[string]string{"client_id": app.ID, "client_secret": app.Credentials.OauthClient.ClientSecret}, e.introspectionDoc())
		assert.Equal(t, 1, e.sm.Count("PutSecretValue"))
		assert.Equal(t, "", resp.Data["ClientSecretArn"])
		assert.Equal(t, e.introARN, resp.Data["IntrospectionSecretArn"])
	})

	t.Run("a new introspection secret is written at once, the secret read back from Okta", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{OmitClientSecretsOnRead: true})
		create := e.fullEvent()
		resp := e.create()
		moved := e.sm.Put("smart-introspection-credential-2", `{}`)
		_, err := e.run(updateEvent(create, resp.PhysicalResourceID, func(p map[string]any) { p["IntrospectionSecretArn"] = moved }))
		require.NoError(t, err)
		raw, ok := e.sm.Value(moved)
		require.True(t, ok)
		app := appsByKind(e.okta)["introspection"]
		assert.JSONEq(t, `{"client_id":"`+app.ID+`","client_secret":"`+app.Credentials.OauthClient.ClientSecret+`"}`, raw)
		assert.Equal(t, 1, e.putsTo(moved))
		assert.Equal(t, 1, e.putsTo(e.secARN), "the client-secret secret did not change")
	})

	t.Run("a re-created introspection client replaces the credential", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		create := e.fullEvent()
		resp := e.create()
		first := e.introspectionDoc()
		off := updateEvent(create, resp.PhysicalResourceID, func(p map[string]any) { p["IntrospectionClient"] = "false" })
		_, err := e.run(off)
		require.NoError(t, err)
		on := updateEvent(off, resp.PhysicalResourceID, func(p map[string]any) { p["IntrospectionClient"] = "true" })
		_, err = e.run(on)
		require.NoError(t, err)
		second := e.introspectionDoc()
		app := appsByKind(e.okta)["introspection"]
		assert.NotEqual(t, first["client_id"], second["client_id"])
		assert.Equal(t, map[string]string{"client_id": app.ID, "client_secret": app.Credentials.OauthClient.ClientSecret}, second)
		assert.Equal(t, 2, e.putsTo(e.introARN))
		assert.Equal(t, 1, e.putsTo(e.secARN), "the confidential client did not change")
	})

	t.Run("a failure to write it fails the create, which removes what it made", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		ev := e.fullEvent()
		ev.ResourceProperties = introspectionOnly(e)
		e.sm.Faults.Add(fault.Rule{Op: "PutSecretValue", Times: 100})
		_, err := e.run(ev)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "writing the introspection client credential to "+e.introARN)
		assert.Empty(t, e.okta.AuthorizationServers())
		assert.Empty(t, e.okta.Apps())
	})
}
