package handler_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// A stack deployed before SmartVersion was named so carries ScopeFlavor. The
// first Update after the upgrade has it in OldResourceProperties; a rollback
// of that Update has it in ResourceProperties (the old template's). Neither
// may change anything in Okta, and neither may fail.
func TestAStackDeployedWithTheOldScopeFlavorName(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	require.Equal(t, "both", create.ResourceProperties[oktaprops.PropSmartVersion])
	legacy := cloneProps(create.ResourceProperties)
	delete(legacy, oktaprops.PropSmartVersion)
	legacy[oktaprops.PropLegacyScopeFlavor] = "both"
	create.ResourceProperties = legacy
	resp, err := e.run(create) // as the previous version's template had it
	require.NoError(t, err)
	serverID := resp.PhysicalResourceID
	deployed := e.onlyServer().CustomScopeNames()
	require.Contains(t, deployed, "patient/Patient.read", "both versions' scopes")
	require.Contains(t, deployed, "patient/Patient.rs")

	renamed := cloneProps(legacy)
	delete(renamed, oktaprops.PropLegacyScopeFlavor)
	renamed[oktaprops.PropSmartVersion] = "both"
	update := func(old, props map[string]any) customresource.Event {
		ev := create
		ev.RequestType = customresource.Update
		ev.PhysicalResourceID = serverID
		ev.OldResourceProperties, ev.ResourceProperties = old, props
		return ev
	}

	t.Run("the update to the new name changes nothing in Okta", func(t *testing.T) {
		e.okta.ResetRequests()
		out, err := e.run(update(legacy, renamed))
		require.NoError(t, err)
		assert.Equal(t, serverID, out.PhysicalResourceID)
		assert.Empty(t, e.writes())
		assert.Equal(t, deployed, e.onlyServer().CustomScopeNames())
	})
	t.Run("its rollback to the old template changes nothing either", func(t *testing.T) {
		e.okta.ResetRequests()
		_, err := e.run(update(renamed, legacy))
		require.NoError(t, err)
		assert.Empty(t, e.writes())
		assert.NotContains(t, e.logs.String(), "ignoring unknown properties", "ScopeFlavor is still a known property")
	})
	t.Run("an update that also changes the version applies the new name's value", func(t *testing.T) {
		v1 := cloneProps(renamed)
		v1[oktaprops.PropSmartVersion] = "v1"
		_, err := e.run(update(legacy, v1))
		require.NoError(t, err)
		scopes := e.onlyServer().CustomScopeNames()
		assert.Contains(t, scopes, "patient/Patient.read")
		assert.NotContains(t, scopes, "patient/Patient.rs", "the v2 scopes are removed")
	})
}
