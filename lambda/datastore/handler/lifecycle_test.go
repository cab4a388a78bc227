package handler

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakecloudformation"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakehealthlake"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// The CloudFormation paths of issue 10, each driven end to end through onEvent
// and isComplete against the fakes, in the order CloudFormation and the
// Provider framework send the requests.

// inventedID is a physical id as CloudFormation makes one up for a resource
// whose Create never answered: <stack>-<logicalId>-<random>.
const inventedID = "FhirStack-DatastoreResource1A2B3C4D-1X2Y3Z4W5V6U"

const replacementKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// startCreate runs a Create's onEvent only: the framework has not answered yet.
func startCreate(t *testing.T, x *harness, e customresource.Event) string {
	t.Helper()
	resp, err := x.h.OnEvent(x.ctx, e)
	require.NoError(t, err)
	require.Equal(t, "CREATING", x.datastore(resp.PhysicalResourceID).Status)
	return resp.PhysicalResourceID
}

// deleteRequests are the DeleteFHIRDatastore calls, by data store id.
func deleteRequests(x *harness) []string {
	var ids []string
	for _, r := range x.fake.Requests("DeleteFHIRDatastore") {
		ids = append(ids, fmt.Sprint(r.Body["DatastoreId"]))
	}
	return ids
}

// refusedDeletes counts DeleteFHIRDatastore calls HealthLake refused.
func refusedDeletes(x *harness) int {
	n := 0
	for _, r := range x.fake.Requests("DeleteFHIRDatastore") {
		if r.ErrorCode != "" {
			n++
		}
	}
	return n
}

// Path 1: another resource fails while the data store is CREATING, CloudFormation
// cancels the Create and deletes the resource with an id it made up.
func TestCancelledFirstCreation(t *testing.T) {
	for _, policy := range []string{"retain", "destroy"} {
		t.Run("under "+policy+", the Delete with a made-up id waits for this resource's CREATING data store and deletes it", func(t *testing.T) {
			// One data store per page, so the look-up must follow NextToken.
			x := newHarnessWith(t, fakehealthlake.Options{PollsToSettle: pollsToSettle, ListPageSize: 1})
			created := createEvent(t)
			created.ResourceProperties[datastoreprops.PropRemovalPolicy] = policy
			other := createEvent(t)
			other.LogicalResourceID, other.RequestID = "OtherDatastore", "create-other"
			otherID := x.mustRun(other).id
			id := startCreate(t, x, created)
			x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")

			o := x.run(deleteEvent(t, created, inventedID, nil))
			require.NoError(t, o.err)
			assert.Equal(t, inventedID, o.id, "a Delete answers with the id it was given")
			assertDeletionStarted(t, x.datastore(id).Status)
			assert.Equal(t, []string{id}, deleteRequests(x), "deleted once, after it left CREATING")
			assert.Zero(t, refusedDeletes(x))
			assert.Equal(t, "ACTIVE", x.datastore(otherID).Status, "another resource's data store is not touched")
			assert.Len(t, x.stacks.Requests("DescribeStacks"), 1, "onEvent reads the stack; isComplete gets the time from its Data")
			assert.Contains(t, x.logs.String(), `"msg":"deleting HealthLake data store whatever the removal policy: its creation was cancelled`)
		})
	}

	t.Run("data stores this resource made in an earlier operation, or that a Delete retained, are left alone", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)

		// Made long ago by the same logical id, then removed from the stack
		// with the tag write failing: only its age protects it.
		old := created
		old.RequestID = "create-long-ago"
		oldID := x.mustRun(old).id
		require.True(t, x.fake.SetCreatedAt(oldID, time.Now().Add(-48*time.Hour)))
		// Made in this operation and retained by a Delete.
		retained := created
		retained.RequestID = "create-retained"
		retainedID := x.mustRun(retained).id
		x.mustRun(deleteEvent(t, retained, retainedID, nil))
		require.Equal(t, "delete-request", x.datastore(retainedID).Tags["smart-healthlake:retained-by"])
		x.stacks.PutStack(stackCreatedAt(time.Now().Add(-time.Hour), "ROLLBACK_IN_PROGRESS"))

		id := startCreate(t, x, created)
		o := x.run(deleteEvent(t, created, inventedID, nil))
		require.NoError(t, o.err)
		assert.Equal(t, []string{id}, deleteRequests(x))
		assert.Equal(t, "ACTIVE", x.datastore(oldID).Status)
		assert.Equal(t, "ACTIVE", x.datastore(retainedID).Status)
	})

	t.Run("the Delete completes once HealthLake is deleting the orphan, without waiting for DELETED", func(t *testing.T) {
		// CREATING (up to 30 minutes) and DELETING (15-20) together would outlast
		// the Provider's 45-minute waiter: the rollback would fail.
		x := newHarnessWith(t, fakehealthlake.Options{PollsToSettle: 4})
		created := createEvent(t)
		id := startCreate(t, x, created)
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")

		o := x.run(deleteEvent(t, created, inventedID, nil))
		require.NoError(t, o.err)
		assert.Equal(t, "DELETING", x.datastore(id).Status)
		assert.Equal(t, []string{id}, deleteRequests(x))
	})

	// The cancelled Create's onEvent may still be in CreateFHIRDatastore's
	// retries when the Delete comes, and start the data store afterwards.
	t.Run("a Delete that finds nothing yet keeps looking until the cancelled Create's onEvent must have ended, and deletes what appears", func(t *testing.T) {
		x := newHarness(t)
		now := time.Now()
		x.h.now = func() time.Time { return now }
		created := createEvent(t)
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")

		d := deleteEvent(t, created, inventedID, nil)
		resp, err := x.h.OnEvent(x.ctx, d)
		require.NoError(t, err)
		ce := customresource.IsCompleteEvent{Event: d, Data: resp.Data}
		done, err := x.h.IsComplete(x.ctx, ce)
		require.NoError(t, err)
		require.False(t, done.IsComplete, "no orphan yet is no answer while the Create's onEvent may still run")

		now = now.Add(4 * time.Minute) // the retried CreateFHIRDatastore goes through
		id := startCreate(t, x, created)
		for range 10 {
			if done, err = x.h.IsComplete(x.ctx, ce); err != nil || done.IsComplete {
				break
			}
		}
		require.NoError(t, err)
		require.True(t, done.IsComplete)
		assertDeletionStarted(t, x.datastore(id).Status)
		assert.Equal(t, []string{id}, deleteRequests(x))
	})

	t.Run("a Delete that never finds an orphan completes once the onEvent timeout has passed since it arrived", func(t *testing.T) {
		x := newHarness(t)
		arrived := time.Now().Truncate(time.Second)
		now := arrived
		x.h.now = func() time.Time { return now }
		d := deleteEvent(t, createEvent(t), inventedID, nil)
		resp, err := x.h.OnEvent(x.ctx, d)
		require.NoError(t, err)
		ce := customresource.IsCompleteEvent{Event: d, Data: resp.Data}

		now = arrived.Add(datastoreprops.HandlerTimeoutMinutes*time.Minute - time.Second)
		done, err := x.h.IsComplete(x.ctx, ce)
		require.NoError(t, err)
		assert.False(t, done.IsComplete)
		now = arrived.Add(datastoreprops.HandlerTimeoutMinutes * time.Minute)
		done, err = x.h.IsComplete(x.ctx, ce)
		require.NoError(t, err)
		assert.True(t, done.IsComplete)
	})

	t.Run("after the framework's own marker no Create is running: none found completes at once", func(t *testing.T) {
		x := newHarness(t)
		x.h.now = func() time.Time { return time.Now() }
		o := x.run(deleteEvent(t, createEvent(t), "AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID", nil))
		require.NoError(t, o.err)
		assert.Equal(t, 1, o.polls)
	})

	t.Run("a made-up id of 32 characters is no data store id: HealthLake's ids are lowercase hex", func(t *testing.T) {
		invented32 := "FhirStack-Datastore-1X2Y3Z4W5V6U"
		require.Len(t, invented32, 32)
		x := newHarness(t)
		created := createEvent(t)
		id := startCreate(t, x, created)
		require.Regexp(t, `^[0-9a-f]{32}$`, id, "the fake issues ids of HealthLake's shape")
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")

		o := x.run(deleteEvent(t, created, invented32, nil))
		require.NoError(t, o.err)
		assertDeletionStarted(t, x.datastore(id).Status)
		for _, r := range x.fake.Requests("DescribeFHIRDatastore") {
			assert.NotEqual(t, invented32, r.Body["DatastoreId"], "the made-up id is never sent to HealthLake as a data store id")
		}
	})

	t.Run("a throttled look-up while polling is retried at the next poll", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := startCreate(t, x, created)
		x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")
		x.fake.Faults.Add(fault.Rule{Op: "ListFHIRDatastores", Kind: fault.Throttle, Times: 8}) // onEvent's attempts and the first poll's

		o := x.run(deleteEvent(t, created, inventedID, nil))
		require.NoError(t, o.err)
		assertDeletionStarted(t, x.datastore(id).Status)
	})
}

// stackCreatedAt is the test stack, created at the given time, in status.
func stackCreatedAt(at time.Time, status string) fakecloudformation.Stack {
	return fakecloudformation.Stack{ID: testStackID, Name: "FhirStack", Status: status, CreationTime: at}
}

// Path 2: the rollback of a first creation that ran past its waiting time (or
// a stack deletion) deletes a data store that is still CREATING, under destroy.
func TestDeleteWhileCreating(t *testing.T) {
	t.Run("under destroy, a CREATING data store is waited for, then deleted, never refused", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := startCreate(t, x, created)

		o := x.run(deleteEvent(t, created, id, func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = "destroy" }))
		require.NoError(t, o.err)
		assert.Equal(t, id, o.id)
		assertDeletionStarted(t, x.datastore(id).Status)
		assert.Equal(t, []string{id}, deleteRequests(x))
		assert.Zero(t, refusedDeletes(x), "HealthLake cannot delete a CREATING data store: no ConflictException was provoked")
	})

	t.Run("the Delete of a data store it found CREATING completes at DELETING, so CREATING plus DELETING cannot outlast the waiter", func(t *testing.T) {
		for _, policy := range []string{"retain", "destroy"} {
			x := newHarnessWith(t, fakehealthlake.Options{PollsToSettle: 4})
			created := createEvent(t)
			id := startCreate(t, x, created)
			x.stacks.SetStatus(testStackID, "ROLLBACK_IN_PROGRESS")

			o := x.run(deleteEvent(t, created, id, func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = policy }))
			require.NoError(t, o.err, policy)
			assert.Equal(t, "DELETING", x.datastore(id).Status, policy)
			assert.Equal(t, []string{id}, deleteRequests(x), policy)
			assert.Contains(t, x.logs.String(), "not waiting for DELETED", policy)
		}
	})

	t.Run("under destroy, an ACTIVE data store's Delete still waits for DELETED", func(t *testing.T) {
		x := newHarnessWith(t, fakehealthlake.Options{PollsToSettle: 4})
		created := createEvent(t)
		id := x.mustRun(created).id

		o := x.run(deleteEvent(t, created, id, func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = "destroy" }))
		require.NoError(t, o.err)
		assert.Equal(t, "DELETED", x.datastore(id).Status)
	})
}

// replacementScene creates data store A, then runs an acknowledged replacement
// whose new data store B ends as scripted; it returns the update event, A and B.
func replacementScene(t *testing.T, x *harness, fail bool) (customresource.Event, string, string) {
	t.Helper()
	created := createEvent(t)
	a := x.mustRun(created).id
	x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
	x.stacks.SetLastUpdated(testStackID, time.Now().Add(-time.Second))
	u := updateEvent(t, created, a, "replace-1", func(p map[string]any) {
		p[datastoreprops.PropKmsKeyArn] = replacementKey
		p[datastoreprops.PropAcknowledgeReplacement] = "true"
	})
	if fail {
		x.fake.FailNextCreate("the KMS key is not usable by HealthLake")
	}
	o := x.run(u)
	require.NotEqual(t, a, o.id)
	if fail {
		require.ErrorContains(t, o.err, "CREATE_FAILED")
	} else {
		require.NoError(t, o.err)
	}
	b := o.id
	assert.Equal(t, a, x.datastore(b).Tags["smart-healthlake:replaces"])
	assert.Equal(t, "Update", x.datastore(b).Tags["smart-healthlake:request-type"])
	return u, a, b
}

// Paths 3 and 4: a failed acknowledged replacement, CloudFormation's rollback
// Update on the new id, and the clean-up Delete of the new data store.
func TestFailedReplacement(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail bool
	}{
		{"the new data store ended CREATE_FAILED", true},
		{"the new data store became ACTIVE but the stack failed elsewhere", false},
	} {
		t.Run(tc.name+": the rollback answers with the original, and the clean-up deletes the new one under retain", func(t *testing.T) {
			x := newHarness(t)
			u, a, b := replacementScene(t, x, tc.fail)
			before := x.datastore(a)

			x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_IN_PROGRESS")
			rb := rollbackOf(u, "rollback-1")
			rb.PhysicalResourceID = b // the id the framework reported
			o := x.run(rb)
			require.NoError(t, o.err, "the rollback must not end in UPDATE_ROLLBACK_FAILED")
			assert.Equal(t, a, o.id, "answering with the original makes CloudFormation clean up the new one")
			assert.Equal(t, "ACTIVE", x.datastore(a).Status)
			assert.Equal(t, before.Encryption, x.datastore(a).Encryption)
			assert.Equal(t, "rollback-1", x.datastore(b).Tags["smart-healthlake:abandoned-by"])
			assert.Empty(t, deleteRequests(x))

			x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
			d := x.run(deleteEvent(t, u, b, nil)) // the failed update's properties: retain
			require.NoError(t, d.err)
			assert.Equal(t, "DELETED", x.datastore(b).Status)
			assert.Equal(t, []string{b}, deleteRequests(x))
			assert.Equal(t, "ACTIVE", x.datastore(a).Status, "the original, which served the stack, stays")
			if !tc.fail { // a CREATE_FAILED one is deleted for that reason first
				assert.Contains(t, x.logs.String(), `"msg":"deleting HealthLake data store whatever the removal policy: it is a replacement that the rollback of its update (request rollback-1) turned away from`)
			}
		})
	}

	t.Run("a replacement still CREATING when waiting timed out is deleted once it settles", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		a := x.mustRun(created).id
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		x.stacks.SetLastUpdated(testStackID, time.Now().Add(-time.Second))
		u := updateEvent(t, created, a, "replace-1", func(p map[string]any) {
			p[datastoreprops.PropKmsKeyArn] = replacementKey
			p[datastoreprops.PropAcknowledgeReplacement] = "true"
		})
		resp, err := x.h.OnEvent(x.ctx, u) // the waiter's onTimeout reports FAILED with this id
		require.NoError(t, err)
		b := resp.PhysicalResourceID

		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_IN_PROGRESS")
		rb := rollbackOf(u, "rollback-1")
		rb.PhysicalResourceID = b
		o := x.run(rb)
		require.NoError(t, o.err)
		assert.Equal(t, a, o.id)

		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
		d := x.run(deleteEvent(t, u, b, nil))
		require.NoError(t, d.err)
		assertDeletionStarted(t, x.datastore(b).Status)
		assert.Zero(t, refusedDeletes(x))
		assert.Equal(t, "ACTIVE", x.datastore(a).Status)
	})

	t.Run("a replacement cancelled before the framework answered is deleted by the rollback Update of the original", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		a := x.mustRun(created).id
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		x.stacks.SetLastUpdated(testStackID, time.Now().Add(-time.Second))
		u := updateEvent(t, created, a, "replace-1", func(p map[string]any) {
			p[datastoreprops.PropKmsKeyArn] = replacementKey
			p[datastoreprops.PropAcknowledgeReplacement] = "true"
		})
		resp, err := x.h.OnEvent(x.ctx, u)
		require.NoError(t, err)
		b := resp.PhysicalResourceID // never reaches CloudFormation

		// CloudFormation knows only the original: its rollback Update is on a.
		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_IN_PROGRESS")
		o := x.run(rollbackOf(u, "rollback-1"))
		require.NoError(t, o.err)
		assert.Equal(t, a, o.id)
		assertDeletionStarted(t, x.datastore(b).Status, "no stack knows it: the rollback deletes it")
		assert.Equal(t, []string{b}, deleteRequests(x))
		assert.Zero(t, refusedDeletes(x))
		assert.Equal(t, "ACTIVE", x.datastore(a).Status)
		assert.Len(t, x.stacks.Requests("DescribeStacks"), 1, "onEvent reads the stack; isComplete gets the time from its Data")
	})

	t.Run("when onEvent cannot read the stack, isComplete reads it and deletes the cancelled replacement", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		a := x.mustRun(created).id
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		x.stacks.SetLastUpdated(testStackID, time.Now().Add(-time.Second))
		u := updateEvent(t, created, a, "replace-1", func(p map[string]any) {
			p[datastoreprops.PropKmsKeyArn] = replacementKey
			p[datastoreprops.PropAcknowledgeReplacement] = "true"
		})
		resp, err := x.h.OnEvent(x.ctx, u)
		require.NoError(t, err)
		b := resp.PhysicalResourceID

		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_IN_PROGRESS")
		x.stacks.Faults.Add(fault.Rule{Kind: fault.Denied}) // onEvent's DescribeStacks
		o := x.run(rollbackOf(u, "rollback-1"))
		require.NoError(t, o.err)
		assert.Equal(t, a, o.id)
		assertDeletionStarted(t, x.datastore(b).Status, "the replacement no stack knows is deleted all the same")
		assert.Equal(t, []string{b}, deleteRequests(x))
		assert.Greater(t, len(x.stacks.Requests("DescribeStacks")), 1, "isComplete read the stack itself")
	})

	t.Run("when onEvent cannot read the stack and it is not rolling back, isComplete leaves replacements alone", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		a := x.mustRun(created).id
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		x.stacks.SetLastUpdated(testStackID, time.Now().Add(-time.Second))
		u := updateEvent(t, created, a, "replace-1", func(p map[string]any) {
			p[datastoreprops.PropKmsKeyArn] = replacementKey
			p[datastoreprops.PropAcknowledgeReplacement] = "true"
		})
		resp, err := x.h.OnEvent(x.ctx, u)
		require.NoError(t, err)
		b := resp.PhysicalResourceID

		x.stacks.Faults.Add(fault.Rule{Kind: fault.Denied})
		o := x.run(updateEvent(t, created, a, "update-2", func(p map[string]any) { p[datastoreprops.PropDatastoreName] = "renamed" }))
		require.NoError(t, o.err)
		assert.Empty(t, deleteRequests(x))
		assert.NotEqual(t, "DELETING", x.datastore(b).Status)
	})

	for _, tc := range []struct {
		name  string
		fault func(x *harness)
	}{
		{"the stack cannot be read", func(x *harness) { x.stacks.Faults.Add(fault.Rule{Kind: fault.Denied}) }},
		{"the replacement's tags cannot be read", func(x *harness) { x.fake.Faults.Add(fault.Rule{Op: "ListTagsForResource", Kind: fault.Denied}) }},
		{"the original cannot be read", func(x *harness) {
			// The onEvent's own DescribeFHIRDatastore of the replacement first.
			x.fake.Faults.Add(fault.Rule{Op: "DescribeFHIRDatastore", After: 1, Kind: fault.Denied})
		}},
	} {
		t.Run("a rollback whose check fails because "+tc.name+" fails instead of making a third data store, with replacement acknowledged", func(t *testing.T) {
			x := newHarness(t)
			created := createEvent(t)
			// AcknowledgeReplacement left true in the template since an earlier replacement.
			created.ResourceProperties[datastoreprops.PropAcknowledgeReplacement] = "true"
			a := x.mustRun(created).id
			x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
			x.stacks.SetLastUpdated(testStackID, time.Now().Add(-time.Second))
			u := updateEvent(t, created, a, "replace-1", func(p map[string]any) { p[datastoreprops.PropKmsKeyArn] = replacementKey })
			b := x.mustRun(u).id
			require.NotEqual(t, a, b)

			x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_IN_PROGRESS")
			rb := rollbackOf(u, "rollback-1")
			rb.PhysicalResourceID = b
			tc.fault(x)
			o := x.run(rb)
			require.Error(t, o.err)
			assert.Contains(t, o.err.Error(), "cannot tell whether this Update is CloudFormation's rollback of a replacement")
			assert.Len(t, x.fake.Requests("CreateFHIRDatastore"), 2, "no third data store")
			assert.Equal(t, "ACTIVE", x.datastore(a).Status)

			// Once the check can be made, the retried rollback returns to the original.
			o = x.run(rb)
			require.NoError(t, o.err)
			assert.Equal(t, a, o.id)
			assert.Len(t, x.fake.Requests("CreateFHIRDatastore"), 2)
		})
	}

	t.Run("an Update outside a rollback leaves another replacement alone", func(t *testing.T) {
		x := newHarness(t)
		u, a, b := replacementScene(t, x, false)
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		o := x.run(updateEvent(t, u, b, "update-2", func(p map[string]any) { p[datastoreprops.PropDatastoreName] = "renamed" }))
		require.NoError(t, o.err)
		assert.Equal(t, b, o.id)
		assert.Empty(t, deleteRequests(x))
		assert.Equal(t, "ACTIVE", x.datastore(a).Status)
	})

	t.Run("an original retained out of the stack is never returned to", func(t *testing.T) {
		x := newHarness(t)
		u, a, b := replacementScene(t, x, false)
		// The replacement succeeded; its clean-up retained the original.
		x.stacks.SetStatus(testStackID, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
		x.mustRun(deleteEvent(t, u, a, nil))
		require.Equal(t, "ACTIVE", x.datastore(a).Status)

		// A later update's rollback asks for the original's settings on b.
		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_IN_PROGRESS")
		rb := rollbackOf(u, "rollback-2")
		rb.PhysicalResourceID = b
		o := x.run(rb)
		require.Error(t, o.err, "refused as an immutable change, as before")
		assert.Empty(t, x.datastore(b).Tags["smart-healthlake:abandoned-by"])
	})
}

// Path 4: the clean-up after a failed update deletes what that update created
// whatever the removal policy; the clean-up after a successful one follows it.
func TestCleanupAfterUpdate(t *testing.T) {
	t.Run("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS deletes a data store added by the failed update, under retain", func(t *testing.T) {
		x := newHarness(t)
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		x.stacks.SetLastUpdated(testStackID, time.Now().Add(-time.Second))
		added := createEvent(t)
		added.LogicalResourceID, added.RequestID = "AddedDatastore", "create-added"
		id := x.mustRun(added).id

		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
		o := x.run(deleteEvent(t, added, id, nil))
		require.NoError(t, o.err)
		assert.Equal(t, "DELETED", x.datastore(id).Status)
		assert.Contains(t, x.logs.String(), "this resource created it during the update that was rolled back")
	})

	t.Run("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS keeps, under retain, a data store created before that update", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.stacks.SetLastUpdated(testStackID, time.Now().Add(time.Minute))
		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")

		o := x.run(deleteEvent(t, created, id, nil))
		require.NoError(t, o.err)
		assert.Equal(t, "ACTIVE", x.datastore(id).Status)
		assert.Empty(t, deleteRequests(x))
	})

	t.Run("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS keeps a data store another resource created", func(t *testing.T) {
		x := newHarness(t)
		x.stacks.SetLastUpdated(testStackID, time.Now().Add(-time.Second))
		created := createEvent(t)
		id := x.mustRun(created).id
		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
		e := deleteEvent(t, created, id, nil)
		e.LogicalResourceID = "SomeOtherResource"

		require.NoError(t, x.run(e).err)
		assert.Equal(t, "ACTIVE", x.datastore(id).Status)
	})

	for _, tc := range []struct{ policy, want string }{{"retain", "ACTIVE"}, {"destroy", "DELETED"}} {
		t.Run("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: the replaced data store follows "+tc.policy, func(t *testing.T) {
			x := newHarness(t)
			u, a, b := replacementScene(t, x, false)
			x.stacks.SetStatus(testStackID, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")

			o := x.run(deleteEvent(t, u, a, func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = tc.policy }))
			require.NoError(t, o.err)
			assert.Equal(t, tc.want, x.datastore(a).Status)
			assert.Equal(t, "ACTIVE", x.datastore(b).Status, "the replacement now serves the stack")
			if tc.policy == "retain" {
				assert.Equal(t, "delete-request", x.datastore(a).Tags["smart-healthlake:retained-by"])
			}
		})
	}
}

// Path 5: a transient failure while polling answers "not complete yet".
func TestIsCompleteTransientErrors(t *testing.T) {
	// The harness's SDK client makes 4 attempts: 4 failures outlast its retries.
	for _, kind := range []fault.Kind{fault.Throttle, fault.ServerError} {
		t.Run(string(kind)+" after the SDK's retries is not complete yet, and the Create completes later", func(t *testing.T) {
			x := newHarness(t)
			e := createEvent(t)
			id := startCreate(t, x, e)
			x.fake.Faults.Add(fault.Rule{Op: "DescribeFHIRDatastore", Kind: kind, Times: 4})

			ce := customresource.IsCompleteEvent{Event: e}
			ce.PhysicalResourceID = id
			resp, err := x.h.IsComplete(x.ctx, ce)
			require.NoError(t, err)
			assert.False(t, resp.IsComplete)

			o := x.run(e) // the Create's onEvent again (same ClientToken), then polls
			require.NoError(t, o.err)
			assert.Equal(t, id, o.id)
			assert.Equal(t, id, o.data[datastoreprops.AttrDatastoreID])
		})
	}

	t.Run("a throttled poll while deleting is not complete yet", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		e := deleteEvent(t, created, id, func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = "destroy" })
		resp, err := x.h.OnEvent(x.ctx, e)
		require.NoError(t, err)
		x.fake.Faults.Add(fault.Rule{Op: "DescribeFHIRDatastore", Kind: fault.Throttle, Times: 4})
		done, err := x.h.IsComplete(x.ctx, customresource.IsCompleteEvent{Event: e, Data: resp.Data})
		require.NoError(t, err)
		assert.False(t, done.IsComplete)
	})

	t.Run("a terminal failure still fails", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)
		id := startCreate(t, x, e)
		x.fake.Faults.Add(fault.Rule{Op: "DescribeFHIRDatastore", Kind: fault.Denied})
		ce := customresource.IsCompleteEvent{Event: e}
		ce.PhysicalResourceID = id
		_, err := x.h.IsComplete(x.ctx, ce)
		require.ErrorContains(t, err, "AccessDeniedException")

		x.fake.FailNextCreate("the IdP Lambda cannot be invoked")
		e.RequestID = "create-2"
		o := x.run(e)
		require.ErrorContains(t, o.err, "CREATE_FAILED")
	})
}

// Path 6: the reason the framework sends must fit CloudFormation's 4 KB.
func TestShortFailureReasons(t *testing.T) {
	t.Run("many refused properties: the first three are named, the rest counted, all logged", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)
		tags := map[string]any{}
		for i := range 40 {
			tags[fmt.Sprintf("bad!key-%02d", i)] = "x"
		}
		e.ResourceProperties[datastoreprops.PropTags] = tags

		o := x.run(e)
		require.Error(t, o.err)
		msg := o.err.Error()
		assert.LessOrEqual(t, len(msg), 1500)
		assert.Contains(t, msg, "property Tags.bad!key-00")
		assert.Contains(t, msg, "property Tags.bad!key-02")
		assert.NotContains(t, msg, "bad!key-03")
		assert.Contains(t, msg, "and 37 more problems (all of them are in the log)")
		var pe *cfnprops.PropertyError
		assert.True(t, errors.As(o.err, &pe), "the error still unwraps to its problems")
		assert.Contains(t, x.logs.String(), "bad!key-39")
		assert.Empty(t, x.fake.Requests("CreateFHIRDatastore"))
	})

	t.Run("one very long problem is cut, and logged whole", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)
		// One name far longer than the reason budget, with a character
		// HealthLake refuses.
		e.ResourceProperties[datastoreprops.PropDatastoreName] = strings.Repeat("patients ", 400) + "#end"

		o := x.run(e)
		require.Error(t, o.err)
		msg := o.err.Error()
		assert.LessOrEqual(t, len(msg), 1500)
		assert.True(t, strings.HasPrefix(msg, "property DatastoreName: "), msg)
		assert.Contains(t, msg, "[...]")
		assert.Contains(t, x.logs.String(), "#end")
	})

	t.Run("a short reason is left as it is", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)
		delete(e.ResourceProperties, datastoreprops.PropDatastoreName)
		o := x.run(e)
		require.EqualError(t, o.err, "property DatastoreName: is required")
	})
}

// assertDeletionStarted passes once HealthLake is deleting the orphan: the
// handler does not wait for DELETED (see cleanUpOrphans).
func assertDeletionStarted(t *testing.T, status string, msgAndArgs ...any) {
	t.Helper()
	assert.Contains(t, []string{"DELETING", "DELETED"}, status, msgAndArgs...)
}
