package handler

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
)

func TestReplacement(t *testing.T) {
	t.Run("an acknowledged replacement creates a new data store and returns its id", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		oldID := x.mustRun(created).id

		u := updateEvent(t, created, oldID, "update-1", func(p map[string]any) {
			p[datastoreprops.PropKmsKeyArn] = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
			p[datastoreprops.PropAcknowledgeReplacement] = "true"
		})
		o := x.run(u)
		require.NoError(t, o.err)

		assert.NotEqual(t, oldID, o.id, "a new physical id tells CloudFormation it is a replacement")
		creates := x.fake.Requests("CreateFHIRDatastore")
		require.Len(t, creates, 2)
		assert.NotEqual(t, creates[0].Body["ClientToken"], creates[1].Body["ClientToken"])
		assert.Equal(t, "CUSTOMER_MANAGED_KMS_KEY", x.datastore(o.id).Encryption.KmsEncryptionConfig.CmkType)
		assert.Equal(t, o.id, o.data[datastoreprops.AttrDatastoreID])
		assert.Equal(t, "ACTIVE", x.datastore(oldID).Status, "the old data store is untouched until CloudFormation deletes it")
		assert.Contains(t, x.logs.String(), `"replacedDatastoreId":"`+oldID+`"`)

		// CloudFormation's clean-up Delete of the old data store follows the removal policy.
		x.mustRun(deleteEvent(t, created, oldID, nil))
		assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"))
		assert.Equal(t, "ACTIVE", x.datastore(oldID).Status)
	})
}

func TestRollback(t *testing.T) {
	t.Run("a rollback after a completed in-place update restores the previous configuration", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		u := updateEvent(t, created, id, "update-1", func(p map[string]any) {
			p[datastoreprops.PropDatastoreName] = "renamed"
			p[datastoreprops.PropFineGrainedAuthorization] = "false"
			p[datastoreprops.PropIssuer] = "https://example.okta.com/oauth2/aus2"
			p[datastoreprops.PropTags] = map[string]any{"team": "platform"}
		})
		x.mustRun(u)
		assertConfigured(t, x, id, u.ResourceProperties)

		// Something later in the stack failed: CloudFormation rolls back.
		o := x.run(rollbackOf(u, "rollback-1"))
		require.NoError(t, o.err)
		assert.Equal(t, id, o.id)
		assertConfigured(t, x, id, created.ResourceProperties)
		assert.Equal(t, map[string]string{"team": "fhir", "env": "prod"}, x.userTags(id))
	})

	t.Run("a rollback after a refused immutable change succeeds without touching the data store", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		u := updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropPreloadSynthea] = "true" })
		require.Error(t, x.run(u).err)

		o := x.run(rollbackOf(u, "rollback-1"))
		require.NoError(t, o.err)
		assert.Equal(t, id, o.id)
		assert.Empty(t, x.fake.Requests("UpdateFHIRDatastore", "TagResource", "UntagResource"))
		assert.Len(t, x.fake.Requests("CreateFHIRDatastore"), 1)
	})

	t.Run("a rollback after an update HealthLake failed sends the previous configuration again", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.fake.FailNextUpdate("internal error")
		u := updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropIssuer] = "https://example.okta.com/oauth2/aus2" })
		require.Error(t, x.run(u).err)

		o := x.run(rollbackOf(u, "rollback-1"))
		require.NoError(t, o.err)
		assertConfigured(t, x, id, created.ResourceProperties)
		assert.Equal(t, "ACTIVE", x.datastore(id).Status)
		assert.Len(t, x.fake.Requests("UpdateFHIRDatastore"), 2)
	})
}
