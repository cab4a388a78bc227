package handler

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDelete(t *testing.T) {
	destroy := func(p map[string]any) { p[PropRemovalPolicy] = "destroy" }

	retainCases := []struct {
		name string
		edit func(map[string]any)
	}{
		{"the default removal policy", func(p map[string]any) { delete(p, PropRemovalPolicy) }},
		{"an explicit retain", func(p map[string]any) { p[PropRemovalPolicy] = "retain" }},
		{"an unreadable removal policy", func(p map[string]any) { p[PropRemovalPolicy] = "snapshot" }},
	}
	for _, tc := range retainCases {
		t.Run(tc.name+" keeps the data store and says so in the log", func(t *testing.T) {
			x := newHarness(t)
			created := createEvent(t)
			id := x.mustRun(created).id

			o := x.run(deleteEvent(t, created, id, tc.edit))
			require.NoError(t, o.err)
			assert.Equal(t, 1, o.polls)
			assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"))
			assert.Equal(t, "ACTIVE", x.datastore(id).Status)
			assert.Contains(t, x.logs.String(), `"msg":"retaining HealthLake data store`)
			assert.Contains(t, x.logs.String(), `"datastoreId":"`+id+`","removalPolicy":"retain"`)
		})
	}

	t.Run("destroy deletes the data store and waits for DELETED", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id

		o := x.run(deleteEvent(t, created, id, destroy))
		require.NoError(t, o.err)
		assert.Equal(t, id, o.id)
		assert.Equal(t, pollsToSettle+1, o.polls, "DELETING, then DELETED")
		reqs := x.fake.Requests("DeleteFHIRDatastore")
		require.Len(t, reqs, 1)
		assert.Equal(t, id, reqs[0].Body["DatastoreId"])
		assert.Equal(t, "DELETED", x.datastore(id).Status)
	})

	t.Run("destroy of a data store that is already gone is success", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.fake.Forget(id)

		o := x.run(deleteEvent(t, created, id, destroy))
		require.NoError(t, o.err)
		assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"))
	})

	t.Run("destroy of a data store already being deleted does not delete it twice", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.mustRun(deleteEvent(t, created, id, destroy))

		o := x.run(deleteEvent(t, created, id, destroy))
		require.NoError(t, o.err)
		assert.Len(t, x.fake.Requests("DeleteFHIRDatastore"), 1)
	})

	t.Run("destroy blocked by a running update is retried by the SDK", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.fake.FailNext("DeleteFHIRDatastore", "ConflictException", 2)

		require.NoError(t, x.run(deleteEvent(t, created, id, destroy)).err)
		assert.Len(t, x.fake.Requests("DeleteFHIRDatastore"), 3)
		assert.Equal(t, "DELETED", x.datastore(id).Status)
	})

	invented := []struct {
		name, id  string
		callsMade bool
	}{
		{"the framework's marker for a failed Create", "AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID", false},
		{"an empty id", "", false},
		{"an id CloudFormation made up", "FhirStack-DatastoreRes-1X2Y3Z", true},
	}
	for _, tc := range invented {
		t.Run("a Delete of "+tc.name+" is success", func(t *testing.T) {
			x := newHarness(t)
			o := x.run(deleteEvent(t, createEvent(t), tc.id, destroy))
			require.NoError(t, o.err)
			assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"))
			if !tc.callsMade {
				assert.Empty(t, x.fake.Requests(), "not even a describe")
			}
		})
	}

	t.Run("a Delete ignores other properties it cannot read", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		o := x.run(deleteEvent(t, created, id, func(p map[string]any) {
			p[PropTokenEndpoint] = "http://old-shape"
			p[PropRemovalPolicy] = "destroy"
		}))
		require.NoError(t, o.err)
		assert.Equal(t, "DELETED", x.datastore(id).Status)
	})
}
