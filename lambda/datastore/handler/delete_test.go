package handler

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

func TestDelete(t *testing.T) {
	destroy := func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = "destroy" }

	retainCases := []struct {
		name string
		edit func(map[string]any)
	}{
		{"the default removal policy", func(p map[string]any) { delete(p, datastoreprops.PropRemovalPolicy) }},
		{"an explicit retain", func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = "retain" }},
		{"an unreadable removal policy", func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = "snapshot" }},
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

	// A failed first deployment: the framework reports the id of the data store
	// HealthLake started creating, and CloudFormation's rollback deletes it.
	for _, tc := range append(retainCases, struct {
		name string
		edit func(map[string]any)
	}{"destroy", destroy}) {
		t.Run("a data store whose creation failed is deleted under "+tc.name+": it holds no data", func(t *testing.T) {
			x := newHarness(t)
			created := createEvent(t)
			x.fake.FailNextCreate("IdP Lambda is not invokable by HealthLake")
			failed := x.run(created)
			require.ErrorContains(t, failed.err, "CREATE_FAILED")
			id := failed.id
			require.Equal(t, "CREATE_FAILED", x.datastore(id).Status)

			o := x.run(deleteEvent(t, created, id, tc.edit))
			require.NoError(t, o.err)
			assert.Equal(t, id, o.id)
			assert.Equal(t, pollsToSettle+1, o.polls, "DELETING, then DELETED")
			reqs := x.fake.Requests("DeleteFHIRDatastore")
			require.Len(t, reqs, 1)
			assert.Equal(t, id, reqs[0].Body["DatastoreId"])
			assert.Equal(t, "DELETED", x.datastore(id).Status)
			assert.Contains(t, x.logs.String(), `"msg":"deleting HealthLake data store whatever the removal policy: its creation failed (CREATE_FAILED), so it holds no data"`)
			assert.Contains(t, x.logs.String(), "IdP Lambda is not invokable by HealthLake")
			assert.NotContains(t, x.logs.String(), "retaining HealthLake data store")
		})
	}

	t.Run("a failed clean-up of a CREATE_FAILED data store under retain is logged, not failed", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		x.fake.FailNextCreate("internal error")
		id := x.run(created).id
		x.fake.Faults.Add(fault.Rule{Op: "DeleteFHIRDatastore", Kind: fault.Denied})

		o := x.run(deleteEvent(t, created, id, nil))
		require.NoError(t, o.err)
		assert.Equal(t, 1, o.polls, "nothing to wait for")
		assert.Equal(t, "CREATE_FAILED", x.datastore(id).Status)
		assert.Contains(t, x.logs.String(), `"level":"ERROR","msg":"could not delete the empty data store that never served the stack; it is retained: delete it yourself"`)
	})

	t.Run("retain keeps the data store when its status cannot be read", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.fake.Faults.Add(fault.Rule{Op: "DescribeFHIRDatastore", Kind: fault.Denied})

		o := x.run(deleteEvent(t, created, id, nil))
		require.NoError(t, o.err)
		assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"))
		assert.Equal(t, "ACTIVE", x.datastore(id).Status)
		assert.Contains(t, x.logs.String(), `"msg":"could not check the data store's status; retaining it"`)
		assert.Contains(t, x.logs.String(), `"msg":"retaining HealthLake data store`)
	})

	t.Run("retain keeps a data store that may hold data whatever its status", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.fake.FailNextUpdate("internal error")
		require.ErrorContains(t, x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropDatastoreName] = "renamed" })).err, "UPDATE_FAILED")
		require.Equal(t, "UPDATE_FAILED", x.datastore(id).Status)

		// A data store still CREATING is kept too unless the stack's first
		// creation is being rolled back (here the stack is being deleted).
		creating, err := x.h.OnEvent(x.ctx, func() customresource.Event { e := createEvent(t); e.RequestID = "create-2"; return e }())
		require.NoError(t, err)

		for _, keep := range []string{id, creating.PhysicalResourceID} {
			o := x.run(deleteEvent(t, created, keep, nil))
			require.NoError(t, o.err)
			assert.Equal(t, 1, o.polls)
		}
		assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"))
		assert.Equal(t, "UPDATE_FAILED", x.datastore(id).Status)
		assert.Equal(t, "CREATING", x.datastore(creating.PhysicalResourceID).Status)
	})

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
		x.fake.Faults.Add(fault.Rule{Op: "DeleteFHIRDatastore", Kind: fault.Conflict, Times: 2})

		require.NoError(t, x.run(deleteEvent(t, created, id, destroy)).err)
		assert.Len(t, x.fake.Requests("DeleteFHIRDatastore"), 3)
		assert.Equal(t, "DELETED", x.datastore(id).Status)
	})

	// Such an id means the handler's data store id never reached
	// CloudFormation: the Delete looks for this resource's own data stores
	// (none here) instead of describing the id.
	invented := []struct{ name, id string }{
		{"the framework's marker for a missing id", "AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID"},
		{"an empty id", ""},
		{"an id CloudFormation made up", "FhirStack-DatastoreRes-1X2Y3Z"},
		{"a made-up id as long as a data store id", "FhirStack-Datastore-1X2Y3Z4W5V6U"},
	}
	for _, tc := range invented {
		t.Run("a Delete of "+tc.name+" with no data store of its own is success", func(t *testing.T) {
			x := newHarness(t)
			x.h.now = steppingClock(2 * time.Minute) // past a cancelled Create's onEvent within the polls
			o := x.run(deleteEvent(t, createEvent(t), tc.id, destroy))
			require.NoError(t, o.err)
			assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"))
			assert.NotEmpty(t, x.fake.Requests("ListFHIRDatastores"))
		})
	}

	t.Run("a Delete ignores other properties it cannot read", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		o := x.run(deleteEvent(t, created, id, func(p map[string]any) {
			p[datastoreprops.PropTokenEndpoint] = "http://old-shape"
			p[datastoreprops.PropRemovalPolicy] = "destroy"
		}))
		require.NoError(t, o.err)
		assert.Equal(t, "DELETED", x.datastore(id).Status)
	})
}
