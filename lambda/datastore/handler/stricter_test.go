package handler

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
)

// The handler before the contract read DiscoveryUrl only for a check that
// fetches the document, so a stack may be deployed with an unusable one
// beside DiscoveryCheck skip (a deploy-time value escapes the construct's
// check). Its Updates, and the rollback of the one that removes it (whose new
// properties are the deployed ones, its old ones without the URL), accept it
// with a warning; only a Create refuses it; a Delete never reads it.
func TestAStackDeployedWithAnUnusedDiscoveryURLThePreviousHandlerNeverRead(t *testing.T) {
	x := newHarness(t)
	const bad = "http://idp.internal/.well-known/smart-configuration"
	created := createEvent(t)
	created.ResourceProperties[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoverySkip)
	id := x.mustRun(created).id
	deployed := created
	deployed.ResourceProperties = clone(t, created.ResourceProperties)
	deployed.ResourceProperties[datastoreprops.PropDiscoveryUrl] = bad

	t.Run("an update that keeps it succeeds and warns naming it", func(t *testing.T) {
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		u := updateEvent(t, deployed, id, "update-1", func(p map[string]any) {
			p[datastoreprops.PropTags] = map[string]any{"team": "fhir", "env": "staging"}
		})
		require.NoError(t, x.run(u).err)
		assert.Equal(t, map[string]string{"team": "fhir", "env": "staging"}, x.userTags(id))
		assert.Contains(t, x.logs.String(), `"values":["DiscoveryUrl must be an absolute https URL`)
	})
	t.Run("the rollback of an update that removes it succeeds", func(t *testing.T) {
		// The fix (without the URL, other tags) succeeds here and the stack
		// fails elsewhere: CloudFormation rolls back to the deployed
		// properties.
		fix := updateEvent(t, deployed, id, "update-2", func(p map[string]any) {
			delete(p, datastoreprops.PropDiscoveryUrl)
			p[datastoreprops.PropTags] = map[string]any{"team": "fhir", "env": "qa"}
		})
		require.NoError(t, x.run(fix).err)
		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_IN_PROGRESS")
		before := len(x.logs.String())
		o := x.run(rollbackOf(fix, "rollback-1"))
		require.NoError(t, o.err, "UPDATE_ROLLBACK_FAILED otherwise")
		assert.Equal(t, id, o.id)
		assert.Equal(t, map[string]string{"team": "fhir", "env": "prod"}, x.userTags(id), "the tags are as deployed")
		assert.Contains(t, x.logs.String()[before:], `"values":["DiscoveryUrl must be an absolute https URL`)
	})
	t.Run("a create with it is refused naming it", func(t *testing.T) {
		e := deployed
		e.RequestID = "create-2"
		o := x.run(e)
		require.Error(t, o.err)
		assert.Contains(t, o.err.Error(), datastoreprops.PropDiscoveryUrl)
	})
	t.Run("the delete succeeds", func(t *testing.T) {
		x.stacks.SetStatus(testStackID, "DELETE_IN_PROGRESS")
		require.NoError(t, x.run(deleteEvent(t, deployed, id, nil)).err)
	})
}
