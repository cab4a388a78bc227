package handler

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakecloudformation"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// The rollback of a stack's failed first creation: CloudFormation sends the data
// store a Delete with the default RemovalPolicy, retain. The handler asks
// CloudFormation for the stack's status and deletes only under
// ROLLBACK_IN_PROGRESS.
func TestDeleteDuringRollbackOfFirstCreation(t *testing.T) {
	const deletingMsg = `"msg":"deleting HealthLake data store whatever the removal policy: the stack's first creation is being rolled back (ROLLBACK_IN_PROGRESS)`

	// creatingDatastore starts a Create without polling: the data store stays
	// CREATING for pollsToSettle more describes.
	creatingDatastore := func(x *harness) (customresource.Event, string) {
		created := createEvent(t)
		resp, err := x.h.OnEvent(x.ctx, created)
		require.NoError(t, err)
		require.Equal(t, "CREATING", x.datastore(resp.PhysicalResourceID).Status)
		return created, resp.PhysicalResourceID
	}
	// describeStacks asserts the handler asked once, for the event's stack.
	describeStacks := func(x *harness) {
		t.Helper()
		reqs := x.stacks.Requests("DescribeStacks")
		require.Len(t, reqs, 1)
		assert.Equal(t, testStackID, reqs[0].Form.Get("StackName"))
	}

	for _, policy := range []struct {
		name string
		edit func(map[string]any)
	}{
		{"the default removal policy", func(p map[string]any) { delete(p, datastoreprops.PropRemovalPolicy) }},
		{"an explicit retain", nil},
	} {
		t.Run("ROLLBACK_IN_PROGRESS deletes an ACTIVE data store under "+policy.name+" and waits for DELETED", func(t *testing.T) {
			x := newHarness(t)
			created := createEvent(t)
			id := x.mustRun(created).id
			x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")

			o := x.run(deleteEvent(t, created, id, policy.edit))
			require.NoError(t, o.err)
			assert.Equal(t, id, o.id)
			assert.Equal(t, pollsToSettle+1, o.polls, "DELETING, then DELETED")
			describeStacks(x)
			reqs := x.fake.Requests("DeleteFHIRDatastore")
			require.Len(t, reqs, 1)
			assert.Equal(t, id, reqs[0].Body["DatastoreId"])
			assert.Equal(t, "DELETED", x.datastore(id).Status)
			assert.Contains(t, x.logs.String(), deletingMsg)
			assert.Contains(t, x.logs.String(), `"stackId":"`+testStackID+`"`)
			assert.NotContains(t, x.logs.String(), "retaining HealthLake data store")
		})
	}

	t.Run("ROLLBACK_IN_PROGRESS: a CREATING data store is waited for, then deleted, and the Delete completes at DELETING", func(t *testing.T) {
		x := newHarness(t)
		created, id := creatingDatastore(x)
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")

		e := deleteEvent(t, created, id, nil)
		resp, err := x.h.OnEvent(x.ctx, e)
		require.NoError(t, err)
		assert.Equal(t, id, resp.PhysicalResourceID)
		assert.Equal(t, map[string]any{dataDeletingUnusable: "true", dataDeleteWhenCreated: "CREATING"}, resp.Data)
		assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"), "HealthLake cannot delete a CREATING data store")

		// Drive isComplete as the framework does, recording the status each poll saw.
		ce := customresource.IsCompleteEvent{Event: e, Data: resp.Data}
		var seen []string
		for range 10 {
			done, err := x.h.IsComplete(x.ctx, ce)
			require.NoError(t, err)
			seen = append(seen, x.datastore(id).Status)
			if done.IsComplete {
				break
			}
		}
		// The fake's CREATING lasts pollsToSettle describes (onEvent's was the
		// first); the poll after the delete sees DELETING and completes.
		assert.Equal(t, []string{"CREATING", "DELETING", "DELETING"}, seen)
		reqs := x.fake.Requests("DeleteFHIRDatastore")
		require.Len(t, reqs, 1, "one delete, once the data store left CREATING")
		assert.Empty(t, reqs[0].ErrorCode)
		assert.Equal(t, id, reqs[0].Body["DatastoreId"])
		describeStacks(x)
		assert.Contains(t, x.logs.String(), deletingMsg)
		assert.Contains(t, x.logs.String(), `"msg":"waiting for the data store to settle before deleting it"`)
		assert.Contains(t, x.logs.String(), `"msg":"the data store has settled: deleting it"`)
		assert.NotContains(t, x.logs.String(), "retaining HealthLake data store")
	})

	t.Run("ROLLBACK_IN_PROGRESS: a CREATING data store that ends CREATE_FAILED is deleted too", func(t *testing.T) {
		x := newHarness(t)
		x.fake.FailNextCreate("internal error")
		created, id := creatingDatastore(x)
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")

		o := x.run(deleteEvent(t, created, id, nil))
		require.NoError(t, o.err)
		assert.Len(t, x.fake.Requests("DeleteFHIRDatastore"), 1)
		assertDeletionStarted(t, x.datastore(id).Status)
	})

	keep := func(t *testing.T, x *harness, id string, o outcome) {
		t.Helper()
		require.NoError(t, o.err)
		assert.Equal(t, id, o.id)
		assert.Equal(t, 1, o.polls, "nothing to wait for")
		assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"))
		assert.NotEqual(t, "DELETED", x.datastore(id).Status)
		assert.Contains(t, x.logs.String(), `"msg":"retaining HealthLake data store`)
		assert.NotContains(t, x.logs.String(), "whatever the removal policy")
	}

	for _, status := range []string{
		"DELETE_IN_PROGRESS",                           // the stack is deleted
		"UPDATE_ROLLBACK_IN_PROGRESS",                  // an update is rolled back
		"UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", // a resource added by a failed update
		"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",          // a replaced data store
		"UPDATE_IN_PROGRESS",                           // the resource removed from the template
		"CREATE_IN_PROGRESS",                           // not CloudFormation's doing
		"ROLLBACK_COMPLETE",
		"IMPORT_ROLLBACK_IN_PROGRESS",
	} {
		t.Run(status+" keeps an ACTIVE data store", func(t *testing.T) {
			x := newHarness(t)
			created := createEvent(t)
			id := x.mustRun(created).id
			x.stacks.SetStatus(testStackID, status)

			keep(t, x, id, x.run(deleteEvent(t, created, id, nil)))
			describeStacks(x)
			assert.Equal(t, "ACTIVE", x.datastore(id).Status)
			applies := `"msg":"the stack is not rolling back its first creation: the removal policy applies"`
			if status == "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" {
				// Created before the update (the stack reports no update time):
				// nothing shows that the failed update made it.
				applies = `"msg":"the stack is cleaning up after a failed update, but nothing shows that this resource created the data store during that update: the removal policy applies"`
			}
			assert.Contains(t, x.logs.String(), applies)
			assert.Contains(t, x.logs.String(), `"stackId":"`+testStackID+`","stackStatus":"`+status+`"`)
		})
	}

	t.Run("DELETE_IN_PROGRESS keeps a CREATING data store", func(t *testing.T) {
		x := newHarness(t)
		created, id := creatingDatastore(x)
		keep(t, x, id, x.run(deleteEvent(t, created, id, nil)))
		assert.Equal(t, "CREATING", x.datastore(id).Status)
	})

	t.Run("ROLLBACK_IN_PROGRESS of a stack created with rollback disabled keeps the data store: the rollback was started by hand", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.stacks.PutStack(fakecloudformation.Stack{ID: testStackID, Name: "FhirStack", Status: "ROLLBACK_IN_PROGRESS", DisableRollback: true})

		keep(t, x, id, x.run(deleteEvent(t, created, id, nil)))
		assert.Contains(t, x.logs.String(), `"msg":"the stack was created with rollback disabled`)
	})

	for _, tc := range []struct {
		name  string
		setup func(x *harness, e *customresource.Event)
		calls int
	}{
		{"access denied", func(x *harness, _ *customresource.Event) { x.stacks.Faults.Add(fault.Rule{Kind: fault.Denied}) }, 1},
		{"throttling beyond the retries", func(x *harness, _ *customresource.Event) {
			x.stacks.Faults.Add(fault.Rule{Kind: fault.Throttle, Times: 4})
		}, 4},
		{"an unknown stack", func(_ *harness, e *customresource.Event) {
			e.StackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Other/00000000-0000-0000-0000-000000000000"
		}, 1},
	} {
		t.Run("a DescribeStacks failure ("+tc.name+") keeps the data store, even in a rollback", func(t *testing.T) {
			x := newHarness(t)
			created := createEvent(t)
			id := x.mustRun(created).id
			x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")
			e := deleteEvent(t, created, id, nil)
			tc.setup(x, &e)

			keep(t, x, id, x.run(e))
			assert.Len(t, x.stacks.Requests("DescribeStacks"), tc.calls)
			assert.Equal(t, "ACTIVE", x.datastore(id).Status)
			assert.Contains(t, x.logs.String(), `"level":"WARN","msg":"could not read the stack's status; the retained data store is kept"`)
		})
	}

	t.Run("an event without StackId keeps the data store", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")
		e := deleteEvent(t, created, id, nil)
		e.StackID = ""

		keep(t, x, id, x.run(e))
		assert.Empty(t, x.stacks.Requests())
	})

	t.Run("without a CloudFormation client the data store is kept", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")
		x.h.stacks = nil

		keep(t, x, id, x.run(deleteEvent(t, created, id, nil)))
		assert.Empty(t, x.stacks.Requests())
		assert.Contains(t, x.logs.String(), `"msg":"no CloudFormation client`)
	})

	t.Run("a failed deletion during the rollback is logged, not failed, and the data store retained", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")
		x.fake.Faults.Add(fault.Rule{Op: "DeleteFHIRDatastore", Kind: fault.Denied})

		o := x.run(deleteEvent(t, created, id, nil))
		require.NoError(t, o.err)
		assert.Equal(t, 1, o.polls)
		assert.Equal(t, "ACTIVE", x.datastore(id).Status)
		assert.Contains(t, x.logs.String(), `"level":"ERROR","msg":"could not delete the empty data store that never served the stack; it is retained: delete it yourself"`)
	})

	t.Run("a failed deletion once a CREATING data store is created is logged, not failed", func(t *testing.T) {
		x := newHarness(t)
		created, id := creatingDatastore(x)
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")
		x.fake.Faults.Add(fault.Rule{Op: "DeleteFHIRDatastore", Kind: fault.Denied})

		o := x.run(deleteEvent(t, created, id, nil))
		require.NoError(t, o.err)
		assert.Equal(t, "ACTIVE", x.datastore(id).Status)
		assert.Contains(t, x.logs.String(), `"level":"ERROR","msg":"could not delete the empty data store that never served the stack; it is retained: delete it yourself"`)
	})

	t.Run("an unreadable CREATING data store in isComplete is logged, not failed", func(t *testing.T) {
		x := newHarness(t)
		created, id := creatingDatastore(x)
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")
		e := deleteEvent(t, created, id, nil)
		resp, err := x.h.OnEvent(x.ctx, e)
		require.NoError(t, err)
		x.fake.Faults.Add(fault.Rule{Op: "DescribeFHIRDatastore", Kind: fault.Denied})

		done, err := x.h.IsComplete(x.ctx, customresource.IsCompleteEvent{Event: e, Data: resp.Data})
		require.NoError(t, err)
		assert.True(t, done.IsComplete)
		assert.Empty(t, x.fake.Requests("DeleteFHIRDatastore"))
		assert.Contains(t, x.logs.String(), `"level":"ERROR","msg":"could not check the data store's status; it may be retained`)
	})

	t.Run("destroy is unaffected: no DescribeStacks, whatever the stack status", func(t *testing.T) {
		for _, status := range []string{"DELETE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"} {
			x := newHarness(t)
			created := createEvent(t)
			id := x.mustRun(created).id
			x.stacks.SetStatus(testStackID, status)

			o := x.run(deleteEvent(t, created, id, func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = "destroy" }))
			require.NoError(t, o.err, status)
			assert.Equal(t, pollsToSettle+1, o.polls, status)
			assert.Len(t, x.fake.Requests("DeleteFHIRDatastore"), 1, status)
			assert.Equal(t, "DELETED", x.datastore(id).Status, status)
			assert.Empty(t, x.stacks.Requests(), status)
		}
	})

	t.Run("CREATE_FAILED is deleted without asking CloudFormation", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		x.fake.FailNextCreate("internal error")
		id := x.run(created).id

		require.NoError(t, x.run(deleteEvent(t, created, id, nil)).err)
		assert.Equal(t, "DELETED", x.datastore(id).Status)
		assert.Empty(t, x.stacks.Requests())
	})
}
