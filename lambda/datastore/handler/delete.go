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

func (h *Handler) delete(ctx context.Context, e customresource.Event, log *slog.Logger) (customresource.OnEventResponse, error) {
	// Delete answers with the id it was given: the framework refuses a change.
	done := customresource.OnEventResponse{PhysicalResourceID: e.PhysicalResourceID}
	id := e.PhysicalResourceID
	if !isDatastoreID(id) {
		log.Info("nothing to delete: the physical id is not a HealthLake data store id, so no data store was created")
		return done, nil
	}
	if removalPolicy(e, log) == Retain {
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
		return done, err
	}
	if s := current.DatastoreStatus; s == types.DatastoreStatusDeleting || s == types.DatastoreStatusDeleted {
		log.Info("data store already being deleted", "datastoreId", id, "status", string(s))
		return done, nil
	}
	_, err = h.client.DeleteFHIRDatastore(ctx, &healthlake.DeleteFHIRDatastoreInput{DatastoreId: aws.String(id)})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		log.Info("data store already gone", "datastoreId", id)
		return done, nil
	}
	if err != nil {
		return done, fmt.Errorf("deleting HealthLake data store %s: %w", id, err)
	}
	log.Info("deleting HealthLake data store", "datastoreId", id, "removalPolicy", string(Destroy))
	return done, nil
}

func (h *Handler) awaitDeleted(ctx context.Context, e customresource.Event, log *slog.Logger) (customresource.IsCompleteResponse, error) {
	id := e.PhysicalResourceID
	if !isDatastoreID(id) || removalPolicy(e, log) == Retain {
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
