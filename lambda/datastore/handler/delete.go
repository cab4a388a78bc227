package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/healthlakeapi"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// Keys of the Data onEvent hands to isComplete (CloudFormation ignores the Data
// of a Delete).
const (
	// dataDeletingUnusable is set when onEvent deletes, or has isComplete delete,
	// whatever the removal policy, a data store that never held data; its value
	// is the reason.
	dataDeletingUnusable = "DeletingUnusableDatastore"
	// dataDeleteWhenCreated is set when the data store to delete was still
	// CREATING (or UPDATING), which HealthLake cannot delete: isComplete waits
	// until it settles, then deletes it. Its value is that status.
	dataDeleteWhenCreated = "DeleteWhenCreated"
	// dataDeletingOrphans is set on a Delete whose physical id is no data
	// store: isComplete looks for this resource's orphaned data stores again on
	// every poll and completes once none is left.
	dataDeletingOrphans = "DeletingOrphans"
	// dataOrphansSince is the start of the stack's current operation (RFC
	// 3339), which bounds the orphans' creation times.
	dataOrphansSince = "OrphansSince"
	// dataDeleteArrivedAt is when onEvent received a Delete whose physical id
	// CloudFormation made up (RFC 3339): the cancelled Create's onEvent may
	// still be starting the data store then, so isComplete takes "no orphan"
	// for an answer only once that onEvent must have ended.
	dataDeleteArrivedAt = "DeleteArrivedAt"
)

// The physical ids the Provider framework answers with when it has none
// (aws-cdk-lib, custom-resources/lib/provider-framework/runtime/cfn-response.ts:
// CREATE_FAILED_PHYSICAL_ID_MARKER after a failed Create, whose Delete the
// framework answers itself; MISSING_PHYSICAL_ID_MARKER). The framework answers
// only once onEvent has returned, so after either no Create of this resource is
// still running.
var frameworkMarkers = []string{
	"AWSCDK::CustomResourceProviderFramework::CREATE_FAILED",
	"AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID",
}

func (h *Handler) delete(ctx context.Context, e customresource.Event, log *slog.Logger) (customresource.OnEventResponse, error) {
	// Delete answers with the id it was given: the framework refuses a change.
	done := customresource.OnEventResponse{PhysicalResourceID: e.PhysicalResourceID}
	id := e.PhysicalResourceID
	if !isDatastoreID(id) {
		log.Info("the physical id is not a HealthLake data store id: CloudFormation never learnt the data store's id, " +
			"so looking for data stores this resource created in the stack's current operation")
		done.Data = map[string]any{}
		if !slices.Contains(frameworkMarkers, id) {
			// CloudFormation made the id up after cancelling the Create, whose
			// onEvent may still be in CreateFHIRDatastore's retries.
			done.Data[dataDeleteArrivedAt] = h.now().UTC().Format(time.RFC3339)
		}
		return h.startOrphanCleanup(ctx, e, done, log)
	}
	policy := removalPolicy(e, log)

	current, err := h.describe(ctx, id)
	if errors.Is(err, errNotFound) {
		log.Info("data store already gone; looking for others this resource created in the stack's current operation", "datastoreId", id)
		return h.startOrphanCleanup(ctx, e, done, log)
	}
	if err != nil {
		if policy == datastoreprops.Retain {
			log.Warn("could not check the data store's status; retaining it", "datastoreId", id, "error", err.Error())
			log.Info("retaining HealthLake data store: it leaves the stack but the data store and its data stay; delete it yourself when no longer needed",
				"datastoreId", id, "removalPolicy", string(datastoreprops.Retain))
			return done, nil
		}
		return done, err
	}
	if s := current.DatastoreStatus; s == types.DatastoreStatusDeleting || s == types.DatastoreStatusDeleted {
		log.Info("data store already being deleted", "datastoreId", id, "status", string(s))
		return done, nil
	}

	// Under retain, a data store that never served the stack is deleted all
	// the same: it holds no data, and retaining it would leave an empty, billed
	// data store behind every failed deployment.
	var unusable string // why, when the data store is deleted whatever the policy
	if policy == datastoreprops.Retain || current.DatastoreStatus == types.DatastoreStatusCreateFailed {
		unusable = h.whyNeverServed(ctx, e, current, log)
	}
	if policy == datastoreprops.Retain && unusable == "" {
		h.release(ctx, e, current, log)
		log.Info("retaining HealthLake data store: it leaves the stack but the data store and its data stay; delete it yourself when no longer needed",
			"datastoreId", id, "removalPolicy", string(datastoreprops.Retain))
		return done, nil
	}
	if unusable != "" {
		log.Warn("deleting HealthLake data store whatever the removal policy: "+unusable+", so it holds no data",
			"datastoreId", id, "removalPolicy", string(policy), "stackId", e.StackID, "datastoreStatus", string(current.DatastoreStatus),
			"errorCause", errorCause(current))
		// The reason is in the log; Data, which the framework sends on to
		// CloudFormation, stays small.
		done.Data = map[string]any{dataDeletingUnusable: "true"}
	}
	if s := current.DatastoreStatus; s == types.DatastoreStatusCreating || s == statusUpdating {
		log.Info("the data store is "+string(s)+", which HealthLake cannot delete: deleting it once it settles", "datastoreId", id)
		if done.Data == nil {
			done.Data = map[string]any{}
		}
		done.Data[dataDeleteWhenCreated] = string(s)
		return done, nil
	}

	started, err := h.deleteDatastore(ctx, id, policy, unusable != "", log)
	if err != nil || !started {
		done.Data = nil
		return done, err
	}
	return done, nil
}

// whyNeverServed returns why the data store never served the stack, or "" when
// it may have. It reads the data store's tags and the stack only when needed.
func (h *Handler) whyNeverServed(ctx context.Context, e customresource.Event, p *types.DatastoreProperties, log *slog.Logger) string {
	if reason := neverServed(e, p, nil, nil); reason != "" {
		return reason
	}
	if h.stacks == nil {
		log.Warn("no CloudFormation client: cannot tell whether the stack is rolling back")
		return ""
	}
	stack, err := h.describeStack(ctx, e.StackID)
	if err != nil {
		log.Warn("could not read the stack's status; the retained data store is kept", "stackId", e.StackID, "error", err.Error())
		return ""
	}
	log = log.With("stackId", e.StackID, "stackStatus", string(stack.StackStatus))
	var tags map[string]string
	if stack.StackStatus == cfntypes.StackStatusUpdateRollbackCompleteCleanupInProgress {
		if tags, err = h.tagsOf(ctx, aws.ToString(p.DatastoreArn)); err != nil {
			log.Warn("could not read the data store's tags; the retained data store is kept", "error", err.Error())
			return ""
		}
	}
	reason := neverServed(e, p, tags, stack)
	switch {
	case reason != "":
	case stack.StackStatus == cfntypes.StackStatusRollbackInProgress:
		log.Info("the stack was created with rollback disabled, so this rollback was started by hand and the data store " +
			"may have been used in the meantime: the removal policy applies")
	case stack.StackStatus == cfntypes.StackStatusUpdateRollbackCompleteCleanupInProgress:
		log.Info("the stack is cleaning up after a failed update, but nothing shows that this resource created the data store during that update: the removal policy applies")
	default:
		log.Info("the stack is not rolling back its first creation: the removal policy applies")
	}
	return reason
}

// release marks a retained data store as out of the stack, so that no later
// Delete of the same resource takes it for one of its orphans. A failure is
// logged: the orphan look-up's time bound protects it too.
func (h *Handler) release(ctx context.Context, e customresource.Event, p *types.DatastoreProperties, log *slog.Logger) {
	if err := h.tag(ctx, aws.ToString(p.DatastoreArn), tagRetainedBy, e.RequestID); err != nil {
		log.Warn("could not mark the retained data store as retained", "datastoreId", aws.ToString(p.DatastoreId), "error", err.Error())
	}
}

// startOrphanCleanup is onEvent's part of a Delete whose physical id is no data
// store: it deletes the orphans it can, and hands the waiting to isComplete,
// which looks again on each poll (a data store whose creation was just started
// may not be listed yet). A failure is logged here and met again there.
func (h *Handler) startOrphanCleanup(ctx context.Context, e customresource.Event, done customresource.OnEventResponse, log *slog.Logger) (customresource.OnEventResponse, error) {
	if done.Data == nil {
		done.Data = map[string]any{}
	}
	done.Data[dataDeletingOrphans] = "true"
	if _, _, err := h.cleanUpOrphans(ctx, e, done.Data, createdOrphans, log); err != nil {
		log.Warn("could not look for orphaned data stores yet; trying again while waiting", "error", err.Error())
	}
	return done, nil
}

// deleteDatastore starts the deletion and reports whether there is a deletion to
// wait for. A failure is an error under destroy; under retain (an unusable data
// store, deleted though the user did not ask for it) it is logged, and the data
// store retained, since the clean-up must not fail the deployment.
func (h *Handler) deleteDatastore(ctx context.Context, id string, policy datastoreprops.RemovalPolicy, unusable bool, log *slog.Logger) (bool, error) {
	_, err := h.client.DeleteFHIRDatastore(ctx, &healthlake.DeleteFHIRDatastoreInput{DatastoreId: aws.String(id)})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		log.Info("data store already gone", "datastoreId", id)
		return false, nil
	}
	if err != nil {
		err = fmt.Errorf("deleting HealthLake data store %s: %w", id, err)
		if policy == datastoreprops.Retain && unusable {
			log.Error("could not delete the empty data store that never served the stack; it is retained: delete it yourself", "datastoreId", id, "error", err.Error())
			return false, nil
		}
		return false, err
	}
	log.Info("deleting HealthLake data store", "datastoreId", id, "removalPolicy", string(policy))
	return true, nil
}

func (h *Handler) awaitDeleted(ctx context.Context, e customresource.IsCompleteEvent, log *slog.Logger) (customresource.IsCompleteResponse, error) {
	id := e.PhysicalResourceID
	complete := customresource.IsCompleteResponse{IsComplete: true}
	if e.Data[dataDeletingOrphans] != nil || !isDatastoreID(id) {
		return h.awaitOrphansDeleted(ctx, e, log)
	}
	policy := removalPolicy(e.Event, log)
	unusable := e.Data[dataDeletingUnusable] != nil
	if policy != datastoreprops.Destroy && !unusable {
		return complete, nil
	}
	p, err := h.describe(ctx, id)
	if errors.Is(err, errNotFound) {
		return complete, nil
	}
	deleteWhenCreated := e.Data[dataDeleteWhenCreated] != nil
	if err != nil {
		if deleteWhenCreated && policy == datastoreprops.Retain && !healthlakeapi.IsTransient(err) {
			// Deleting was not asked for, so it must not fail the deployment.
			log.Error("could not check the data store's status; it may be retained: check it and delete it yourself",
				"datastoreId", id, "error", err.Error())
			return complete, nil
		}
		return customresource.IsCompleteResponse{}, err
	}
	// A data store that was still CREATING when the Delete came never held
	// data, and its Delete completes once HealthLake is DELETING it, as an
	// orphan's does (see cleanUpOrphans): CREATING (up to 30 minutes) and
	// DELETING (15-20) together can outlast the Provider's 45-minute waiter and
	// fail the stack's rollback or deletion. Every other deletion, of a data
	// store that may have served (destroy) or of an ACTIVE or CREATE_FAILED one
	// that never did, waits for DELETED: DELETING alone fits the waiter, and
	// the stack then goes on (deleting the data store's KMS key, say) only once
	// HealthLake is done with it.
	createdAtDelete := e.Data[dataDeleteWhenCreated] == string(types.DatastoreStatusCreating)
	switch s := p.DatastoreStatus; {
	case s == types.DatastoreStatusDeleted:
		log.Info("data store deleted", "datastoreId", id)
		return complete, nil
	case s == types.DatastoreStatusDeleting && createdAtDelete:
		log.Info("HealthLake is deleting the data store, which never held data: not waiting for DELETED", "datastoreId", id)
		return complete, nil
	case deleteWhenCreated && (s == types.DatastoreStatusCreating || s == statusUpdating):
		log.Info("waiting for the data store to settle before deleting it", "datastoreId", id, "status", string(s))
		return customresource.IsCompleteResponse{}, nil
	case deleteWhenCreated && s != types.DatastoreStatusDeleting:
		log.Info("the data store has settled: deleting it", "datastoreId", id, "removalPolicy", string(policy), "status", string(s))
		started, err := h.deleteDatastore(ctx, id, policy, unusable, log)
		if err != nil || !started {
			return complete, err
		}
		return customresource.IsCompleteResponse{}, nil
	}
	log.Info("waiting for data store deletion", "datastoreId", id, "status", string(p.DatastoreStatus))
	return customresource.IsCompleteResponse{}, nil
}

// awaitOrphansDeleted completes a Delete whose physical id is no data store once
// every orphan it finds is DELETING or DELETED. A failure that is not transient
// is logged and the Delete completes: the orphans never held data, and a
// clean-up must not wedge the stack's rollback.
//
// After a cancelled Create (dataDeleteArrivedAt), finding no orphan is not
// enough: that Create's onEvent may still be inside CreateFHIRDatastore's
// retries, and start the data store after this Delete has finished. It ends by
// the time the Delete arrived plus the onEvent function's timeout, so none
// found is taken for an answer only then. Once one is found, no other can
// appear: the Create's ClientToken makes its retries return the same one.
func (h *Handler) awaitOrphansDeleted(ctx context.Context, e customresource.IsCompleteEvent, log *slog.Logger) (customresource.IsCompleteResponse, error) {
	pending, found, err := h.cleanUpOrphans(ctx, e.Event, e.Data, createdOrphans, log)
	if err != nil {
		if healthlakeapi.IsTransient(err) {
			return customresource.IsCompleteResponse{}, err
		}
		log.Error("could not look for or delete the data stores this resource created and CloudFormation does not know of: "+
			"look for data stores tagged "+tagStackID+" and "+tagLogicalID+" with this stack and logical id, and delete them yourself",
			"stackId", e.StackID, "logicalResourceId", e.LogicalResourceID, "error", err.Error())
		return customresource.IsCompleteResponse{IsComplete: true}, nil
	}
	if len(pending) > 0 {
		log.Info("waiting for orphaned data stores to be deleted", "datastoreIds", pending)
		return customresource.IsCompleteResponse{}, nil
	}
	if found == 0 {
		if arrived, ok := e.Data[dataDeleteArrivedAt].(string); ok {
			t, err := time.Parse(time.RFC3339, arrived)
			if until := t.Add(datastoreprops.HandlerTimeoutMinutes * time.Minute); err == nil && h.now().Before(until) {
				log.Info("no data store of this resource found yet; the cancelled Create may still be starting one: looking again until its onEvent must have ended",
					"until", until.Format(time.RFC3339))
				return customresource.IsCompleteResponse{}, nil
			}
		}
	}
	log.Info("no data store of this resource is left")
	return customresource.IsCompleteResponse{IsComplete: true}, nil
}

// removalPolicy reads only RemovalPolicy, leniently: a Delete must not fail over
// properties it does not need, and when in doubt the data is kept.
func removalPolicy(e customresource.Event, log *slog.Logger) datastoreprops.RemovalPolicy {
	policy, err := datastoreprops.RemovalPolicyOf(e.ResourceProperties)
	if err != nil {
		log.Warn("unreadable removal policy; retaining the data store", "error", err.Error())
		return datastoreprops.Retain
	}
	return policy
}
