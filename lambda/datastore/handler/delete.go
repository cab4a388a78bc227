package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// dataDeletingUnusable is the key of the Data onEvent hands to isComplete when it
// deletes, whatever the removal policy, a data store that never held data; its
// value is the reason. (CloudFormation ignores the Data of a Delete.)
const dataDeletingUnusable = "DeletingUnusableDatastore"

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

	// A data store whose creation failed never became usable, so it holds no
	// data; retaining it would leave an empty, billed data store behind every
	// failed first deployment.
	unusable := current.DatastoreStatus == types.DatastoreStatusCreateFailed
	if policy == Retain && !unusable {
		return retain()
	}
	if unusable {
		log.Warn("deleting HealthLake data store whatever the removal policy: its creation failed (CREATE_FAILED), so it holds no data",
			"datastoreId", id, "removalPolicy", string(policy), "errorCause", errorCause(current))
	}

	_, err = h.client.DeleteFHIRDatastore(ctx, &healthlake.DeleteFHIRDatastoreInput{DatastoreId: aws.String(id)})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		log.Info("data store already gone", "datastoreId", id)
		return done, nil
	}
	if err != nil {
		err = fmt.Errorf("deleting HealthLake data store %s: %w", id, err)
		if policy == Retain {
			// The clean-up was not asked for: it must not fail the deployment.
			log.Error("could not delete the failed, empty data store; it is retained: delete it yourself", "datastoreId", id, "error", err.Error())
			return done, nil
		}
		return done, err
	}
	log.Info("deleting HealthLake data store", "datastoreId", id, "removalPolicy", string(policy))
	if unusable {
		done.Data = map[string]any{dataDeletingUnusable: string(types.DatastoreStatusCreateFailed)}
	}
	return done, nil
}

func (h *Handler) awaitDeleted(ctx context.Context, e customresource.IsCompleteEvent, log *slog.Logger) (customresource.IsCompleteResponse, error) {
	id := e.PhysicalResourceID
	deleting := removalPolicy(e.Event, log) == Destroy || e.Data[dataDeletingUnusable] != nil
	if !isDatastoreID(id) || !deleting {
		return customresource.IsCompleteResponse{IsComplete: true}, nil
	}
	p, err := h.describe(ctx, id)
	if errors.Is(err, errNotFound) {
		return customresource.IsCompleteResponse{IsComplete: true}, nil
	}
	if err != nil {
		return customresource.IsCompleteResponse{}, err
	}
	if p.DatastoreStatus == types.DatastoreStatusDeleted {
		log.Info("data store deleted", "datastoreId", id)
		return customresource.IsCompleteResponse{IsComplete: true}, nil
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
