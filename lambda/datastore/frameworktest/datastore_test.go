package frameworktest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/providerframework"
)

// The framework's marker for a failed Create (cfn-response.js
// CREATE_FAILED_PHYSICAL_ID_MARKER).
const createFailedMarker = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"

func TestCreate(t *testing.T) {
	t.Run("a create answers SUCCESS with the attributes once the data store is ACTIVE", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		res := e.stack.Create(datastoreResource(properties()))
		e.settle()
		require.Equal(t, "CREATE_COMPLETE", res.Status, res.Reason)

		r := e.stack.Resource(logicalID)
		assert.Equal(t, []string{r.PhysicalID}, e.live())
		assert.Equal(t, "ACTIVE", e.status(r.PhysicalID))
		assert.Equal(t, r.PhysicalID, r.Data[datastoreprops.AttrDatastoreID])
		assert.Contains(t, r.Data[datastoreprops.AttrDatastoreEndpoint], r.PhysicalID)
		ex := e.fw.Executions()
		require.Len(t, ex, 1)
		assert.Greater(t, ex[0].Attempts, 1, "the waiter polled isComplete until the data store was ACTIVE")
		assert.False(t, ex[0].TimedOut)
	})

	t.Run("a create HealthLake fails is rolled back and its data store deleted", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		e.hl.FailNextCreate("The KMS key is not usable")
		res := e.stack.Create(datastoreResource(properties()))
		e.settle()
		require.Equal(t, "ROLLBACK_COMPLETE", res.Status, res.Reason)
		assert.Contains(t, res.Reason, "The KMS key is not usable", "HealthLake's cause reaches the stack's events")

		h := e.stack.History()
		require.Len(t, h, 2)
		assert.Equal(t, "FAILED", h[0].Response.Status)
		assert.NotEqual(t, createFailedMarker, h[0].Response.PhysicalResourceID,
			"onEvent had answered, so the failure names the data store")
		assert.Equal(t, "Delete", h[1].Request.RequestType)
		assert.Equal(t, h[0].Response.PhysicalResourceID, h[1].Request.PhysicalResourceID)
		assert.Equal(t, "ROLLBACK_IN_PROGRESS", h[1].StackStatus)
		assert.Empty(t, e.live(), "the failed data store is deleted")
		assert.Len(t, e.hl.Requests("DeleteFHIRDatastore"), 1)
	})

	for _, policy := range []datastoreprops.RemovalPolicy{datastoreprops.Retain, datastoreprops.Destroy} {
		t.Run("a create another resource cancels leaves no data store behind under removal policy "+string(policy), func(t *testing.T) {
			e := newEnv(t, envOptions{pollsToSettle: 6})
			props := properties(set(datastoreprops.PropRemovalPolicy, string(policy)))
			res := e.stack.CreateCancelled(datastoreResource(props), func() bool { return len(e.live()) > 0 })
			e.settle()
			require.Equal(t, "ROLLBACK_COMPLETE", res.Status, res.Reason)

			h := e.stack.History()
			require.Len(t, h, 2)
			assert.Nil(t, h[0].Response, "CloudFormation stopped waiting for the Create")
			invented := h[1].Request.PhysicalResourceID
			assert.True(t, strings.HasPrefix(invented, stackName+"-"+logicalID+"-"), invented)
			assert.Equal(t, "ROLLBACK_IN_PROGRESS", h[1].StackStatus)
			assert.Empty(t, e.live(), "the data store the cancelled Create started is deleted: it never held data")
		})
	}
}

func TestFailureReason(t *testing.T) {
	t.Run("a refused create's reason reaches CloudFormation within its 4 KB response", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		// SMART v2 scopes on a SMART v1 data store: one problem per scope.
		var scopes []any
		for i := range 200 {
			scopes = append(scopes, fmt.Sprintf("patient/Observation%c%c.rs", rune('A'+i/26), rune('a'+i%26)))
		}
		res := e.stack.Create(datastoreResource(properties(
			set(datastoreprops.PropAuthorizationStrategy, "SMART_ON_FHIR_V1"), set(datastoreprops.PropScopesSupported, scopes))))
		e.settle()
		require.Equal(t, "ROLLBACK_COMPLETE", res.Status)
		h := e.stack.History()
		require.NotNil(t, h[0].Response)
		assert.LessOrEqual(t, h[0].Response.Size, 4096, "CloudFormation refuses a longer response and the cause is lost")
		assert.Contains(t, res.Reason, "patient/ObservationAa.rs", "the reason names the first problem")
		assert.Empty(t, e.live())
	})
}

func TestUpdate(t *testing.T) {
	t.Run("an in-place update keeps the data store and its id", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create(datastoreResource(properties())).Status)
		id := e.stack.Resource(logicalID).PhysicalID

		res := e.stack.Update(providerframework.Change{LogicalID: logicalID,
			Properties: properties(set(datastoreprops.PropIssuer, "https://example.okta.com/oauth2/aus2"))})
		e.settle()
		require.Equal(t, "UPDATE_COMPLETE", res.Status, res.Reason)
		assert.Equal(t, id, e.stack.Resource(logicalID).PhysicalID)
		assert.Equal(t, []string{id}, e.live())
		assert.Contains(t, e.hl.Requests("UpdateFHIRDatastore")[0].Body["IdentityProviderConfiguration"].(map[string]any)["Metadata"], "aus2")
	})

	for _, policy := range []datastoreprops.RemovalPolicy{datastoreprops.Retain, datastoreprops.Destroy} {
		t.Run("an acknowledged replacement hands over to the new data store; the old one follows removal policy "+string(policy), func(t *testing.T) {
			e := newEnv(t, envOptions{})
			props := properties(set(datastoreprops.PropRemovalPolicy, string(policy)))
			require.Equal(t, "CREATE_COMPLETE", e.stack.Create(datastoreResource(props)).Status)
			oldID := e.stack.Resource(logicalID).PhysicalID

			res := e.stack.Update(providerframework.Change{LogicalID: logicalID, Properties: properties(append(replaced, set(datastoreprops.PropRemovalPolicy, string(policy)))...)})
			e.settle()
			require.Equal(t, "UPDATE_COMPLETE", res.Status, res.Reason)
			require.Empty(t, res.CleanupFailures)
			newID := e.stack.Resource(logicalID).PhysicalID
			assert.NotEqual(t, oldID, newID)
			assert.Equal(t, "ACTIVE", e.status(newID))
			assert.Equal(t, newID, e.stack.Resource(logicalID).Data[datastoreprops.AttrDatastoreID])

			h := e.stack.History()
			last := h[len(h)-1]
			assert.Equal(t, "Delete", last.Request.RequestType)
			assert.Equal(t, oldID, last.Request.PhysicalResourceID)
			assert.Equal(t, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", last.StackStatus)
			if policy == datastoreprops.Retain {
				assert.Equal(t, "ACTIVE", e.status(oldID), "the data store that served the stack is retained")
				assert.ElementsMatch(t, []string{oldID, newID}, e.live())
			} else {
				assert.Equal(t, []string{newID}, e.live(), "removal policy destroy deletes the replaced data store")
			}
		})
	}

	t.Run("a replacement that fails rolls back to the original and deletes the new data store", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create(datastoreResource(properties())).Status)
		oldID := e.stack.Resource(logicalID).PhysicalID

		e.hl.FailNextCreate("The KMS key is not usable")
		res := e.stack.Update(providerframework.Change{LogicalID: logicalID, Properties: properties(replaced...)})
		e.settle()
		require.Equal(t, "UPDATE_ROLLBACK_COMPLETE", res.Status, "the rollback must not wedge: %s", res.Reason)
		assert.Contains(t, res.Reason, "The KMS key is not usable")
		assert.Equal(t, oldID, e.stack.Resource(logicalID).PhysicalID, "the stack is back on the original data store")
		assert.Equal(t, []string{oldID}, e.live(), "the failed replacement is deleted in the clean-up")
		assert.Equal(t, "ACTIVE", e.status(oldID))
	})

	t.Run("a replacement rolled back for another resource's failure returns to the original", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create(datastoreResource(properties())).Status)
		oldID := e.stack.Resource(logicalID).PhysicalID

		res := e.stack.Update(providerframework.Change{LogicalID: logicalID, Properties: properties(replaced...)},
			providerframework.Change{LogicalID: "SmartAuthorizationServer", Type: providerframework.Failure})
		e.settle()
		require.Equal(t, "UPDATE_ROLLBACK_COMPLETE", res.Status, "the rollback must not wedge: %s", res.Reason)
		assert.Equal(t, oldID, e.stack.Resource(logicalID).PhysicalID)
		assert.Equal(t, []string{oldID}, e.live(), "the replacement never served the stack: the clean-up deletes it")
	})

	t.Run("a rollback that cannot tell it is one fails rather than make a third data store, with replacement still acknowledged", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		// AcknowledgeReplacement left true since an earlier replacement: the
		// rollback's properties carry it too.
		acknowledged := set(datastoreprops.PropAcknowledgeReplacement, "true")
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create(datastoreResource(properties(acknowledged))).Status)
		oldID := e.stack.Resource(logicalID).PhysicalID
		onStatus := e.stack.OnStatus
		e.stack.OnStatus = func(status string) {
			onStatus(status)
			if status == "UPDATE_ROLLBACK_IN_PROGRESS" {
				e.cfn.Faults.Add(fault.Rule{Kind: fault.Denied}) // the rollback Update's look at the stack
			}
		}

		res := e.stack.Update(providerframework.Change{LogicalID: logicalID, Properties: properties(replaced...)},
			providerframework.Change{LogicalID: "SmartAuthorizationServer", Type: providerframework.Failure})
		e.settle()
		require.Equal(t, "UPDATE_ROLLBACK_FAILED", res.Status, res.Reason)
		h := e.stack.History()
		last := h[len(h)-1]
		assert.Equal(t, "Update", last.Request.RequestType)
		assert.Equal(t, "UPDATE_ROLLBACK_IN_PROGRESS", last.StackStatus)
		require.NotNil(t, last.Response)
		assert.Equal(t, "FAILED", last.Response.Status)
		assert.Contains(t, last.Response.Reason, "cannot tell whether this Update is CloudFormation's rollback of a replacement")
		assert.Len(t, e.live(), 2, "the original and the replacement, no third")
		assert.Equal(t, "ACTIVE", e.status(oldID), "the original with the data is untouched")
	})

	t.Run("the clean-up after a failed update deletes the data store the update added", func(t *testing.T) {
		e := newEnv(t, envOptions{})
		require.Equal(t, "CREATE_COMPLETE", e.stack.Create(datastoreResource(properties())).Status)
		keptID := e.stack.Resource(logicalID).PhysicalID

		res := e.stack.Update(
			providerframework.Change{LogicalID: "SecondDatastore", Type: resourceType, Properties: properties(set(datastoreprops.PropDatastoreName, "second"))},
			providerframework.Change{LogicalID: "SmartAuthorizationServer", Type: providerframework.Failure})
		e.settle()
		require.Equal(t, "UPDATE_ROLLBACK_COMPLETE", res.Status, res.Reason)
		require.Empty(t, res.CleanupFailures)
		h := e.stack.History()
		last := h[len(h)-1]
		assert.Equal(t, "Delete", last.Request.RequestType)
		assert.Equal(t, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", last.StackStatus)
		assert.Equal(t, []string{keptID}, e.live(), "the added data store never served the stack and is deleted; the original stays")
	})
}

func TestStackDeletion(t *testing.T) {
	for _, tc := range []struct {
		policy datastoreprops.RemovalPolicy
		kept   bool
	}{{datastoreprops.Retain, true}, {datastoreprops.Destroy, false}} {
		t.Run("deleting the stack under removal policy "+string(tc.policy)+" keeps the data store only when retained", func(t *testing.T) {
			e := newEnv(t, envOptions{})
			require.Equal(t, "CREATE_COMPLETE", e.stack.Create(datastoreResource(properties(set(datastoreprops.PropRemovalPolicy, string(tc.policy))))).Status)
			id := e.stack.Resource(logicalID).PhysicalID

			res := e.stack.Delete()
			e.settle()
			require.Equal(t, "DELETE_COMPLETE", res.Status, res.Reason)
			if tc.kept {
				assert.Equal(t, []string{id}, e.live())
				assert.Equal(t, "ACTIVE", e.status(id))
				assert.Empty(t, e.hl.Requests("DeleteFHIRDatastore"))
			} else {
				assert.Empty(t, e.live())
				assert.Equal(t, "DELETED", e.status(id))
			}
		})
	}
}
