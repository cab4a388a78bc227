package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// Keys of the Data onEvent hands to isComplete (CloudFormation ignores the Data
// of a Delete).
const (
	// dataDeletingUnusable is set when onEvent deletes, or has isComplete delete,
	// whatever the removal policy, a data store that never held data; its value
	// is the reason: the data store's CREATE_FAILED or the stack's
	// ROLLBACK_IN_PROGRESS.
	dataDeletingUnusable = "DeletingUnusableDatastore"
	// dataDeleteWhenCreated is set when that data store was still CREATING, which
	// HealthLake cannot delete: isComplete waits until it leaves CREATING, then
	// deletes it.
	dataDeleteWhenCreated = "DeleteWhenCreated"
)

func (h *Handler) delete(ctx context.Context, e customresource.Event, log *slog.Logger) (customresource.OnEventResponse, error) {
	// Delete answers with the id it was given: the framework refuses a change.
	done := customresource.OnEventResponse{PhysicalResourceID: e.PhysicalResourceID}
	id := e.PhysicalResourceID
	if !isDatastoreID(id) {
		log.Info("nothing to delete: the physical id is not a HealthLake data store id, so no data store was created")
		return done, nil
	}
	policy := removalPolicy(e, log)
	retain := func() (customresource.OnEventResponse, error) {
		log.Info("retaining HealthLake data store: it leaves the stack but the data store and its data stay; delete it yourself when no longer needed",
			"datastoreId", id, "removalPolicy", string(Retain))
		return done, nil
	}

	current, err := h.describe(ctx, id)
	if errors.Is(err, errNotFound) {
		log.Info("data store already gone", "datastoreId", id)
		return done, nil
	}
	if err != nil {
		if policy == Retain {
			log.Warn("could not check the data store's status; retaining it", "datastoreId", id, "error", err.Error())
			return retain()
		}
		return done, err
	}
	if s := current.DatastoreStatus; s == types.DatastoreStatusDeleting || s == types.DatastoreStatusDeleted {
		log.Info("data store already being deleted", "datastoreId", id, "status", string(s))
		return done, nil
	}

	// Under retain, two kinds of data store are deleted all the same, because
	// they never held data and retaining them would leave an empty, billed data
	// store behind every failed first deployment: one whose creation failed, and
	// one created by a stack whose first creation is being rolled back.
	var unusable string // why, when the data store is deleted whatever the policy
	switch {
	case current.DatastoreStatus == types.DatastoreStatusCreateFailed:
		unusable = string(types.DatastoreStatusCreateFailed)
		log.Warn("deleting HealthLake data store whatever the removal policy: its creation failed (CREATE_FAILED), so it holds no data",
			"datastoreId", id, "removalPolicy", string(policy), "errorCause", errorCause(current))
	case policy == Retain:
		if !h.firstCreationRollingBack(ctx, e.StackID, log) {
			return retain()
		}
		unusable = string(cfntypes.StackStatusRollbackInProgress)
		log.Warn("deleting HealthLake data store whatever the removal policy: the stack's first creation is being rolled back "+
			"(ROLLBACK_IN_PROGRESS), so the data store was made by the failed deployment, never handed over, and holds no data",
			"datastoreId", id, "removalPolicy", string(policy), "stackId", e.StackID, "datastoreStatus", string(current.DatastoreStatus))
		if current.DatastoreStatus == types.DatastoreStatusCreating {
			log.Info("the data store is still CREATING, which HealthLake cannot delete: deleting it once it leaves CREATING", "datastoreId", id)
			done.Data = map[string]any{dataDeletingUnusable: unusable, dataDeleteWhenCreated: "true"}
			return done, nil
		}
	}

	started, err := h.deleteDatastore(ctx, id, policy, unusable != "", log)
	if err != nil || !started {
		return done, err
	}
	if unusable != "" {
		done.Data = map[string]any{dataDeletingUnusable: unusable}
	}
	return done, nil
}

// deleteDatastore starts the deletion and reports whether there is a deletion to
// wait for. A failure is an error under destroy; under retain (an unusable data
// store, deleted though the user did not ask for it) it is logged, and the data
// store retained, since the clean-up must not fail the deployment.
func (h *Handler) deleteDatastore(ctx context.Context, id string, policy RemovalPolicy, unusable bool, log *slog.Logger) (bool, error) {
	_, err := h.client.DeleteFHIRDatastore(ctx, &healthlake.DeleteFHIRDatastoreInput{DatastoreId: aws.String(id)})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		log.Info("data store already gone", "datastoreId", id)
		return false, nil
	}
	if err != nil {
		err = fmt.Errorf("deleting HealthLake data store %s: %w", id, err)
		if policy == Retain && unusable {
			log.Error("could not delete the failed, empty data store; it is retained: delete it yourself", "datastoreId", id, "error", err.Error())
			return false, nil
		}
		return false, err
	}
	log.Info("deleting HealthLake data store", "datastoreId", id, "removalPolicy", string(policy))
	return true, nil
}

func (h *Handler) awaitDeleted(ctx context.Context, e customresource.IsCompleteEvent, log *slog.Logger) (customresource.IsCompleteResponse, error) {
	id := e.PhysicalResourceID
	policy := removalPolicy(e.Event, log)
	deleting := policy == Destroy || e.Data[dataDeletingUnusable] != nil
	if !isDatastoreID(id) || !deleting {
		return customresource.IsCompleteResponse{IsComplete: true}, nil
	}
	complete := customresource.IsCompleteResponse{IsComplete: true}
	p, err := h.describe(ctx, id)
	if errors.Is(err, errNotFound) {
		return complete, nil
	}
	deleteWhenCreated := e.Data[dataDeleteWhenCreated] != nil
	if err != nil {
		if deleteWhenCreated && policy == Retain {
			// Deleting was not asked for, so it must not fail the deployment.
			log.Error("could not check the data store's status; it may be retained: check it and delete it yourself",
				"datastoreId", id, "error", err.Error())
			return complete, nil
		}
		return customresource.IsCompleteResponse{}, err
	}
	switch s := p.DatastoreStatus; {
	case s == types.DatastoreStatusDeleted:
		log.Info("data store deleted", "datastoreId", id)
		return complete, nil
	case deleteWhenCreated && s == types.DatastoreStatusCreating:
		log.Info("waiting for the data store to leave CREATING before deleting it", "datastoreId", id,
			"reason", fmt.Sprint(e.Data[dataDeletingUnusable]))
		return customresource.IsCompleteResponse{}, nil
	case deleteWhenCreated && s != types.DatastoreStatusDeleting:
		log.Warn("deleting HealthLake data store whatever the removal policy: it has left CREATING and the stack's first creation is being rolled back, so it holds no data",
			"datastoreId", id, "removalPolicy", string(policy), "status", string(s))
		started, err := h.deleteDatastore(ctx, id, policy, true, log)
		if err != nil || !started {
			return complete, err
		}
		return customresource.IsCompleteResponse{}, nil
	}
	log.Info("waiting for data store deletion", "datastoreId", id, "status", string(p.DatastoreStatus))
	return customresource.IsCompleteResponse{}, nil
}

// removalPolicy reads only RemovalPolicy, leniently: a Delete must not fail over
// properties it does not need, and when in doubt the data is kept.
func removalPolicy(e customresource.Event, log *slog.Logger) RemovalPolicy {
	policy, err := parseRemovalPolicy(e.ResourceProperties)
	if err != nil {
		log.Warn("unreadable removal policy; retaining the data store", "error", err.Error())
		return Retain
	}
	return policy
}
