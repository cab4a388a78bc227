package frameworktest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/providerframework"
)

// The framework's marker for a failed Create (cfn-response.js
// CREATE_FAILED_PHYSICAL_ID_MARKER).
const createFailedMarker = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"

func TestCreate(t *testing.T) {
	t.Run("a create makes the authorization server and answers its attributes", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		res := e.stack.Create(e.resource())
		e.settle()
		require.Equal(t, "CREATE_COMPLETE", res.Status, res.Reason)

		r := e.stack.Resource(logicalID)
		servers := e.okta.AuthorizationServers()
		require.Len(t, servers, 1)
		assert.Equal(t, servers[0].ID, r.PhysicalID)
		assert.Equal(t, servers[0].ID, r.Data[oktaprops.AttrAuthorizationServerID])
		assert.Equal(t, servers[0].Issuer, r.Data[oktaprops.AttrIssuer])
		ids := e.clientIDs()
		assert.Len(t, ids, 4, "confidential, public, backend and introspection clients")
		for _, attr := range []string{oktaprops.AttrConfidentialClientID, oktaprops.AttrPublicClientID, oktaprops.AttrBackendClientID, oktaprops.AttrIntrospectionClientID} {
			assert.Contains(t, mapValues(ids), r.Data[attr], attr)
		}
		h := e.stack.History()
		require.Len(t, h, 1)
		assert.LessOrEqual(t, h[0].Response.Size, 4096)
		t.Logf("create response: %d bytes", h[0].Response.Size)

		// The handler's size guard models the body the framework sends
		// (cfnprops.FrameworkResponse); measured against the real one.
		req := h[0].Request
		model := cfnprops.SuccessResponse(req.StackID, req.RequestID, req.LogicalResourceID, r.PhysicalID, h[0].Response.Data)
		assert.Equal(t, h[0].Response.Size, model.Size(), "body as sent:\n%s", h[0].Response.Body)
		t.Logf("the framework adds %d bytes to the Data: %d for the request's StackId, RequestId and LogicalResourceId, %d of its own",
			model.Size()-len(mustJSON(t, h[0].Response.Data)), len(req.StackID)+len(req.RequestID)+len(req.LogicalResourceID),
			model.Size()-len(mustJSON(t, h[0].Response.Data))-len(req.StackID)-len(req.RequestID)-len(req.LogicalResourceID)-len(r.PhysicalID))
	})

	t.Run("a create that fails part-way leaves nothing in Okta", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		// The first policy rule is refused (a validation error is not retried):
		// by then the server, its scopes, claims and apps exist.
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/policies/*/rules",
			Kind: fault.Invalid, Times: 1000})
		res := e.stack.Create(e.resource())
		e.settle()
		require.Equal(t, "ROLLBACK_COMPLETE", res.Status, res.Reason)

		h := e.stack.History()
		require.Len(t, h, 2)
		assert.Equal(t, createFailedMarker, h[0].Response.PhysicalResourceID)
		assert.Equal(t, createFailedMarker, h[1].Request.PhysicalResourceID)
		assert.Equal(t, "SUCCESS", h[1].Response.Status)
		onEvent, _ := e.fw.UserInvocations()
		assert.Len(t, onEvent, 1, "the framework answers the Delete after a failed Create itself: the handler never sees it")
		assert.Empty(t, e.leftovers(), "the Create removed what it made before failing")
	})
}

func TestInterruptedCreate(t *testing.T) {
	// Okta rate-limits the apps: the SDK would wait out the window, past the
	// function's timeout. The resource is added by an update, so the stack id
	// stays the same for the next attempt.
	rateLimitedApps := fault.Rule{Op: "POST /api/v1/apps", Kind: fault.Throttle,
		RetryAfter: 10 * time.Second, Times: 1000}

	t.Run("a create running out of time removes what it made and fails before Lambda's timeout", func(t *testing.T) {
		e := newEnv(t, envOptions{timeout: 3 * time.Second})
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create().Status)

		e.okta.Faults.Add(rateLimitedApps)
		add := providerframework.Change{LogicalID: logicalID, Type: resourceType, Properties: e.props}
		res := e.stack.Update(add)
		e.settle()
		require.Equal(t, "UPDATE_ROLLBACK_COMPLETE", res.Status, res.Reason)
		assert.Contains(t, res.Reason, "ran out of time", "the handler stopped in time instead of being killed")
		assert.NotContains(t, res.Reason, "Task timed out")
		h := e.stack.History()
		assert.Equal(t, createFailedMarker, h[1].Response.PhysicalResourceID)
		assert.Empty(t, e.leftovers(), "the Create removed what it made: the framework never passes on the Delete")

		e.okta.Faults.Clear()
		res = e.stack.Update(add)
		e.settle()
		require.Equal(t, "UPDATE_COMPLETE", res.Status, res.Reason)
		assert.Len(t, e.okta.AuthorizationServers(), 1)
		assert.Len(t, e.okta.Apps(), 4)
	})

	t.Run("a create whose clean-up failed too is taken over by the next create of the same resource", func(t *testing.T) {
		e := newEnv(t, envOptions{timeout: 3 * time.Second})
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create().Status)

		// Okta refuses every delete as well, as a create killed by Lambda
		// (timeout, out of memory) would leave things: objects carrying the
		// resource's ownership marker and no Delete to remove them.
		e.okta.Faults.Add(rateLimitedApps)
		e.okta.Faults.Add(fault.Rule{Op: "DELETE /**", Kind: fault.Denied, Times: 1000})
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/lifecycle/deactivate",
			Kind: fault.Denied, Times: 1000})
		add := providerframework.Change{LogicalID: logicalID, Type: resourceType, Properties: e.props}
		res := e.stack.Update(add)
		e.settle()
		require.Equal(t, "UPDATE_ROLLBACK_COMPLETE", res.Status, res.Reason)
		require.NotEmpty(t, e.leftovers(), "the scene: the failed create left objects behind")

		e.okta.Faults.Clear()
		res = e.stack.Update(add)
		e.settle()
		require.Equal(t, "UPDATE_COMPLETE", res.Status, res.Reason)
		servers := e.okta.AuthorizationServers()
		require.Len(t, servers, 1, "one server: the failed create's was removed or taken over")
		assert.Equal(t, servers[0].ID, e.stack.Resource(logicalID).PhysicalID)
		assert.Len(t, e.okta.Apps(), 4)

		require.Equal(t, "DELETE_COMPLETE", e.stack.Delete().Status)
		assert.Empty(t, e.leftovers())
	})
}

func TestUpdate(t *testing.T) {
	t.Run("an update reconciles in place and keeps every client's id", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create(e.resource()).Status)
		id := e.stack.Resource(logicalID).PhysicalID
		before := e.clientIDs()

		res := e.stack.Update(providerframework.Change{LogicalID: logicalID,
			Properties: e.with("ExtraScopes", []any{"system/Group.rs", "system/Encounter.rs"})})
		e.settle()
		require.Equal(t, "UPDATE_COMPLETE", res.Status, res.Reason)
		assert.Equal(t, id, e.stack.Resource(logicalID).PhysicalID)
		assert.Equal(t, before, e.clientIDs())
		as, ok := e.okta.AuthorizationServer(id)
		require.True(t, ok)
		_, added := as.Scope("system/Encounter.rs")
		assert.True(t, added)
	})

	t.Run("a failed update and its rollback keep every client's client_id", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create(e.resource()).Status)
		id := e.stack.Resource(logicalID).PhysicalID
		before := e.clientIDs()

		// The update drops the public client and deactivates the server; Okta
		// refuses the deactivation.
		update := e.with("PublicClient", "false")
		update["Active"] = "false"
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/lifecycle/deactivate",
			Kind: fault.Invalid})
		res := e.stack.Update(providerframework.Change{LogicalID: logicalID, Properties: update})
		e.settle()
		require.Equal(t, "UPDATE_ROLLBACK_COMPLETE", res.Status, res.Reason)
		assert.Equal(t, id, e.stack.Resource(logicalID).PhysicalID)
		assert.Equal(t, before, e.clientIDs(), "apps registered with the old client ids keep working")
	})
}

func TestAudienceBinding(t *testing.T) {
	t.Run("a binding added later sets the server's audience, and deleting the stack leaves nothing", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		server := e.with("Audience", nil)
		delete(server, "Audience")
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create(providerframework.Resource{LogicalID: logicalID, Type: resourceType, Properties: server}).Status)
		id := e.stack.Resource(logicalID).PhysicalID

		const audience = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"
		res := e.stack.Update(providerframework.Change{LogicalID: "SmartAuthServerAudience", Type: oktaprops.ResourceTypeAudience,
			Properties: map[string]any{
				oktaprops.PropOrgURL:                server[oktaprops.PropOrgURL],
				oktaprops.PropCredentialSecretARN:   server[oktaprops.PropCredentialSecretARN],
				oktaprops.PropAuthorizationServerID: id,
				oktaprops.PropAudience:              audience,
			}})
		e.settle()
		require.Equal(t, "UPDATE_COMPLETE", res.Status, res.Reason)
		as, ok := e.okta.AuthorizationServer(id)
		require.True(t, ok)
		assert.Equal(t, []string{audience}, as.Audiences)
		assert.Equal(t, id+"/audience", e.stack.Resource("SmartAuthServerAudience").PhysicalID)

		res = e.stack.Delete()
		e.settle()
		require.Equal(t, "DELETE_COMPLETE", res.Status, res.Reason)
		assert.Empty(t, e.leftovers())
	})
}

func TestStackDeletion(t *testing.T) {
	t.Run("deleting the stack removes the server and its apps from Okta", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create(e.resource()).Status)
		require.NotEmpty(t, e.leftovers())

		res := e.stack.Delete()
		e.settle()
		require.Equal(t, "DELETE_COMPLETE", res.Status, res.Reason)
		assert.Empty(t, e.leftovers())
	})
}

func mapValues(m map[string]string) []any {
	var out []any
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

func TestTheBinaryReadsTheProxyAssertionKeyFromTheKMSEndpointItIsGiven(t *testing.T) {
	e := newEnv(t, envOptions{})
	arn, err := e.kms.AddSigningKey()
	require.NoError(t, err)
	e.props = e.with(oktaprops.PropProxyAssertionKeyARN, arn)
	res := e.stack.Create(e.resource())
	e.settle()
	require.Equal(t, "CREATE_COMPLETE", res.Status, res.Reason)
	assert.Equal(t, 1, e.kms.Calls("GetPublicKey"), "main.go's KMS client honours AWS_ENDPOINT_URL_KMS")
	var kids []any
	for _, a := range e.okta.Apps() {
		if a.Credentials.OauthClient.TokenEndpointAuthMethod == "private_key_jwt" {
			for _, k := range a.Settings.OauthClient.Jwks.Keys {
				kids = append(kids, k["kid"])
			}
		}
	}
	require.Len(t, kids, 2, "the backend client's own key and the proxy's")
	assert.Equal(t, "backend-1", kids[0])
}
