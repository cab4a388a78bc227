// Package handler is the Lambda logic of the SMART-enabled HealthLake data store
// custom resource, run behind the CDK Provider framework with an isComplete poller.
//
// Lifecycle:
//   - Create starts CreateFHIRDatastore with a ClientToken derived from the
//     CloudFormation request, so a retried Create makes one data store; isComplete
//     waits for ACTIVE and returns the attributes, or fails with HealthLake's
//     ErrorCause on CREATE_FAILED.
//   - Update compares the desired properties with what HealthLake reports. SMART
//     settings and the name change in place through UpdateFHIRDatastore (full
//     configuration, same physical id); tags through TagResource/UntagResource.
//     isComplete waits until the data store is ACTIVE and reports the requested
//     configuration, since it may still show ACTIVE and the old configuration
//     right after accepting the update. Per the HealthLake Developer Guide,
//     name and identity-provider changes take effect at once and do not change
//     the status; only NLP/analytics changes go through UPDATING and
//     UPDATE_FAILED. So a data store already in UPDATE_FAILED (an analytics
//     change made outside the stack failed) stays there after our update:
//     isComplete then completes once the requested configuration shows, logging
//     the ErrorCause as a warning, and fails with it while the configuration
//     differs.
//     Encryption, FHIR version and preload cannot change: the update is refused
//     unless AcknowledgeReplacement is set, in which case a new data store is
//     created and CloudFormation then deletes the old one (per its RemovalPolicy).
//     Because the comparison is against the data store itself, CloudFormation's
//     rollback Update (old and new properties swapped) restores the previous
//     configuration.
//   - Create and Update first compare the authorization server's endpoints
//     with its live discovery document when DiscoveryCheck is verify (issuer
//     and jwks_uri only with verify-issuer, for proxied endpoints), and fail
//     naming both values on a mismatch, or the URLs tried when it cannot be
//     fetched (see discovery.go; not during a rollback).
//   - Every data store is created with the handler's own tags (TagPrefix):
//     the stack id and logical id of the resource that made it, the request
//     id and type (Create, or the Update of a replacement), and for a
//     replacement the id of the data store it replaces. Later tags record what
//     became of it: retained-by (a Delete retained it out of the stack) and
//     abandoned-by (a rollback turned away from it).
//   - Delete retains the data store unless RemovalPolicy is destroy; then it
//     deletes and isComplete waits for DELETED. A retained data store gets the
//     retained-by tag. A data store still CREATING (or UPDATING) cannot be
//     deleted: isComplete waits until it settles, then deletes it, instead of
//     retrying into a ConflictException, and completes once HealthLake is
//     DELETING one that was CREATING (it never held data, and CREATING plus
//     DELETING can outlast the Provider's 45-minute waiter). Every other
//     deletion waits for DELETED: it fits the waiter, and the stack goes on
//     (deleting the data store's key, say) only once HealthLake is done.
//   - A data store that never served the stack is deleted whatever the policy,
//     because retaining it would leave an empty, billed data store behind each
//     failed deployment. "Never served" is decided by one of these pieces of
//     evidence:
//     (a) it is CREATE_FAILED;
//     (b) the stack's first creation is being rolled back (ROLLBACK_IN_PROGRESS,
//     and the stack was not created with rollback disabled): every resource
//     of such a stack was made by the failed deployment;
//     (c) the stack is cleaning up after a failed update
//     (UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS), the data store's tags
//     name this resource, and either a rollback Update marked it abandoned
//     (a replacement it turned away from, see Update) or HealthLake reports
//     it created at or after the stack's LastUpdatedTime, the start of the
//     update being rolled back (to the second). The status alone is not taken
//     as evidence there. The CloudFormation API reference says only that
//     LastUpdatedTime is "the time the stack was last updated"; nothing found
//     (AWS docs, aws-cdk, SDK models, issues) says whether a rollback moves
//     it. The handler assumes it does not. Should CloudFormation move
//     LastUpdatedTime when the rollback starts, the rule errs towards keeping
//     the data store, and the look-up of cancelled replacements below misses
//     them (they are kept, billed, never data lost). DescribeStackEvents (the
//     stack's own UPDATE_IN_PROGRESS event) would give the bound without the
//     assumption, at the price of another permission and paging through the
//     stack's events; not done. Under UPDATE_COMPLETE_CLEANUP_IN_PROGRESS (a successful
//     replacement) the old data store follows the removal policy.
//     A status, of the data store, its tags or the stack, that cannot be read
//     keeps a retained data store; a failed clean-up is logged, not failed.
//   - A Delete whose physical id is not a data store id (32 lowercase hex
//     digits, the ids HealthLake issues), or
//     names one HealthLake does not know, comes after a creation that never
//     reached CloudFormation: CloudFormation cancelled the Create and made up
//     an id (<stack>-<logicalId>-<random>), or the framework answered with its
//     own marker. The Delete then looks for this resource's orphans
//     (ListFHIRDatastores, with ListTagsForResource on each): data stores whose
//     tags name the event's stack and logical id and a Create request, that no
//     Delete retained, not DELETED, and created at or after the start of the
//     stack's current operation (its LastUpdatedTime, else CreationTime), so a
//     data store the same logical id left behind earlier is never taken for
//     one. Those never held data: isComplete deletes them whatever the policy,
//     waiting for those still CREATING, and completes when all are DELETING
//     or DELETED. After an id CloudFormation made up, the cancelled Create's
//     onEvent may still be inside CreateFHIRDatastore's retries, so finding
//     none completes only once the Delete's arrival plus the onEvent
//     function's timeout (TimeoutMinutes) has passed; after one of the
//     framework's markers onEvent had returned, and none found completes at
//     once.
//   - Update recognises CloudFormation's rollback of a failed replacement: the
//     framework reported FAILED with the new data store's id, and
//     CloudFormation rolls back with an Update on that id carrying the old
//     properties. When the stack is UPDATE_ROLLBACK_IN_PROGRESS, the data store
//     is tagged as this resource's replacement of another, the old properties'
//     immutable settings are the original's, and the original is neither being
//     deleted nor retained out of the stack, the Update answers with the
//     original's id (updating it in place if needed) and marks the replacement
//     abandoned; CloudFormation's clean-up then deletes the replacement (c).
//     A rollback Update on the original itself (CloudFormation cancelled the
//     replacing Update before the framework answered, so it never learnt the
//     new id) deletes, whatever the policy, this resource's replacements of
//     that original made in the stack's current operation and not abandoned:
//     no stack knows them; isComplete waits until they are DELETED (the Data
//     keys DeletingOrphans and OrphansSince, then also among the attributes,
//     mark that wait). When the data store carries this resource's replaces
//     tag and any of these reads fails, the Update fails with the reason
//     instead of going on as an ordinary Update: with AcknowledgeReplacement
//     set that would make a third, empty data store for the stack to serve.
//   - isComplete answers "not complete yet" to an error that passes by itself
//     (throttling, a 5xx, a connection error, a ConflictException, after the
//     SDK's retries); only a terminal state or error fails.
//   - Failure reasons are kept short (the first few problems and a count, each
//     cut to a budget): the framework sends them in a response CloudFormation
//     limits to 4 KB. The whole error is logged.
//
// ConflictException and throttling are retried by the SDK retryer configured in
// package healthlakeapi. Nothing secret passes through this handler; events are
// never logged whole because their ResponseURL is a pre-signed URL.
package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/healthlakeapi"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// Handler serves the Provider framework's onEvent and isComplete calls.
type Handler struct {
	client *healthlake.Client
	stacks *cloudformation.Client
	log    *slog.Logger
	now    func() time.Time // the clock, replaced in tests
	// discoveryTransport carries the discovery check's requests; nil is
	// http.DefaultTransport.
	discoveryTransport http.RoundTripper
	// discoveryTimeout bounds each discovery fetch; zero is the default, 10 s.
	discoveryTimeout time.Duration
}

// New returns a Handler using client for every HealthLake call and stacks for
// the one CloudFormation call, DescribeStacks on the event's stack (when a
// retained data store is deleted, when orphans are looked for, and when an
// Update may be the rollback of a replacement). The HealthLake client's
// retryer should come from healthlakeapi.NewRetryer. A nil stacks is allowed:
// every retained data store that may hold data is then kept, no orphan is
// looked for, and an Update that may be the rollback of a replacement (on a
// data store this resource made to replace another, asking for settings it
// cannot take) fails rather than replace it.
func New(client *healthlake.Client, stacks *cloudformation.Client, logger *slog.Logger) *Handler {
	return &Handler{client: client, stacks: stacks, log: logger, now: time.Now}
}

// OnEvent starts the change CloudFormation asks for and returns the physical id
// (the DatastoreId) without waiting; IsComplete does the waiting.
func (h *Handler) OnEvent(ctx context.Context, e customresource.Event) (customresource.OnEventResponse, error) {
	log := h.eventLogger(e)
	resp, err := h.onEvent(ctx, e, log)
	return resp, shorten(err, log)
}

func (h *Handler) onEvent(ctx context.Context, e customresource.Event, log *slog.Logger) (customresource.OnEventResponse, error) {
	if unknown := datastoreprops.UnknownProperties(e.ResourceProperties); len(unknown) > 0 {
		log.Warn("ignoring unknown properties", "properties", unknown)
	}
	switch e.RequestType {
	case customresource.Create:
		return h.create(ctx, e, log)
	case customresource.Update:
		return h.update(ctx, e, log)
	case customresource.Delete:
		return h.delete(ctx, e, log)
	default:
		return customresource.OnEventResponse{}, fmt.Errorf("unknown request type %q", e.RequestType)
	}
}

// IsComplete reports whether the change OnEvent started has finished. Create
// completes at ACTIVE with the attributes as Data; Update at ACTIVE once the data
// store reports the requested name and identity-provider configuration, because
// HealthLake may still report ACTIVE with the old configuration just after
// accepting UpdateFHIRDatastore (or at UPDATE_FAILED left by an unrelated
// NLP/analytics change, which such an update does not clear); Delete at DELETED
// when onEvent deleted the data store (RemovalPolicy destroy, or a data store
// that never held data, flagged in the Data onEvent returned), at once when it
// is retained. A data store to delete that was still CREATING when onEvent ran
// is deleted here once it leaves CREATING, and its Delete completes at DELETING.
// A Delete whose physical id is no
// data store completes once this resource's orphans are DELETED.
//
// An error that passes by itself (throttling, a 5xx, a connection error, a
// ConflictException, once the SDK's retries are spent) answers "not complete
// yet": the framework polls again, and only a terminal state fails.
func (h *Handler) IsComplete(ctx context.Context, e customresource.IsCompleteEvent) (customresource.IsCompleteResponse, error) {
	log := h.eventLogger(e.Event)
	resp, err := h.isComplete(ctx, e, log)
	if err != nil && healthlakeapi.IsTransient(err) {
		log.Warn("transient error while polling; not complete yet, trying again at the next poll", "error", err.Error())
		return customresource.IsCompleteResponse{}, nil
	}
	return resp, shorten(err, log)
}

func (h *Handler) isComplete(ctx context.Context, e customresource.IsCompleteEvent, log *slog.Logger) (customresource.IsCompleteResponse, error) {
	switch e.RequestType {
	case customresource.Create:
		return h.awaitActive(ctx, e.PhysicalResourceID, nil, log)
	case customresource.Update:
		// As onEvent parsed them (which warned about what is relaxed).
		spec, _, err := ParseUpdateSpec(e.ResourceProperties)
		if err != nil {
			return customresource.IsCompleteResponse{}, err
		}
		if e.Data[dataDeletingOrphans] != nil {
			if pending, err := h.awaitCancelledReplacements(ctx, e, log); err != nil || pending {
				return customresource.IsCompleteResponse{}, err
			}
		}
		return h.awaitActive(ctx, e.PhysicalResourceID, &spec, log)
	case customresource.Delete:
		return h.awaitDeleted(ctx, e, log)
	default:
		return customresource.IsCompleteResponse{}, fmt.Errorf("unknown request type %q", e.RequestType)
	}
}

// eventLogger carries the identifying fields of the event, never the event itself.
func (h *Handler) eventLogger(e customresource.Event) *slog.Logger {
	return h.log.With(
		"requestType", string(e.RequestType),
		"requestId", e.RequestID,
		"logicalResourceId", e.LogicalResourceID,
		"physicalResourceId", e.PhysicalResourceID,
	)
}

// awaitActive completes when the data store is ACTIVE and, when want is given,
// reports want's name and identity-provider configuration. With want given, an
// UPDATE_FAILED data store that reports that configuration completes too (with
// a warning): the failure is of an NLP/analytics change made outside the stack,
// which an UpdateFHIRDatastore of the name and identity provider does not clear.
func (h *Handler) awaitActive(ctx context.Context, id string, want *Spec, log *slog.Logger) (customresource.IsCompleteResponse, error) {
	p, err := h.describe(ctx, id)
	if err != nil {
		return customresource.IsCompleteResponse{}, err
	}
	switch p.DatastoreStatus {
	case types.DatastoreStatusActive:
		if want != nil {
			if diff := configDifferences(*want, p); len(diff) > 0 {
				log.Info("waiting for data store: ACTIVE but the update is not applied yet", "datastoreId", id, "differs", diff)
				return customresource.IsCompleteResponse{}, nil
			}
		}
		log.Info("data store is active", "datastoreId", id)
		return customresource.IsCompleteResponse{IsComplete: true, Data: attributes(p)}, nil
	case types.DatastoreStatusCreating, statusUpdating:
		log.Info("waiting for data store", "datastoreId", id, "status", string(p.DatastoreStatus))
		return customresource.IsCompleteResponse{}, nil
	case statusUpdateFailed:
		// Name and identity-provider changes take effect at once and leave the
		// status alone; only NLP/analytics changes go through UPDATING and
		// UPDATE_FAILED. An update of ours that shows its configuration is done,
		// and the failure it finds concerns something else.
		if want != nil {
			if diff := configDifferences(*want, p); len(diff) == 0 {
				log.Warn("data store is UPDATE_FAILED from a change this stack does not make (NLP or analytics); "+
					"its name and identity-provider configuration are as requested, so the update is complete",
					"datastoreId", id, "errorCause", errorCause(p))
				return customresource.IsCompleteResponse{IsComplete: true, Data: attributes(p)}, nil
			}
		}
		return customresource.IsCompleteResponse{}, fmt.Errorf("HealthLake data store %s is %s: %s", id, p.DatastoreStatus, errorCause(p))
	case types.DatastoreStatusCreateFailed:
		return customresource.IsCompleteResponse{}, fmt.Errorf("HealthLake data store %s is %s: %s", id, p.DatastoreStatus, errorCause(p))
	default:
		return customresource.IsCompleteResponse{}, fmt.Errorf("HealthLake data store %s is %s, expected it to become ACTIVE", id, p.DatastoreStatus)
	}
}

// attributes are the Data returned to CloudFormation: a few hundred bytes, no secret.
func attributes(p *types.DatastoreProperties) map[string]any {
	endpoint := aws.ToString(p.DatastoreEndpoint)
	return map[string]any{
		datastoreprops.AttrDatastoreID:           aws.ToString(p.DatastoreId),
		datastoreprops.AttrDatastoreArn:          aws.ToString(p.DatastoreArn),
		datastoreprops.AttrDatastoreEndpoint:     endpoint,
		datastoreprops.AttrSmartConfigurationURL: strings.TrimSuffix(endpoint, "/") + "/.well-known/smart-configuration",
	}
}

func errorCause(p *types.DatastoreProperties) string {
	if p.ErrorCause == nil || aws.ToString(p.ErrorCause.ErrorMessage) == "" {
		return "HealthLake gave no ErrorCause"
	}
	return fmt.Sprintf("%s (%s)", aws.ToString(p.ErrorCause.ErrorMessage), p.ErrorCause.ErrorCategory)
}

// Statuses HealthLake reports since UpdateFHIRDatastore exists, missing from the
// enum of the SDK version in use.
const (
	statusUpdating     types.DatastoreStatus = "UPDATING"
	statusUpdateFailed types.DatastoreStatus = "UPDATE_FAILED"
)

// errNotFound marks a data store HealthLake does not know.
var errNotFound = errors.New("data store not found")

func (h *Handler) describe(ctx context.Context, id string) (*types.DatastoreProperties, error) {
	out, err := h.client.DescribeFHIRDatastore(ctx, &healthlake.DescribeFHIRDatastoreInput{DatastoreId: aws.String(id)})
	if err != nil {
		return nil, wrapNotFound(err, "describing HealthLake data store "+id)
	}
	return out.DatastoreProperties, nil
}

// wrapNotFound wraps err with what was being done, and with errNotFound too
// when HealthLake answered ResourceNotFoundException, so callers can tell a
// data store that is gone from a call that failed.
func wrapNotFound(err error, doing string) error {
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return fmt.Errorf("%s: %w: %w", doing, errNotFound, err)
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// datastoreID is the shape of the ids HealthLake issues: 32 lowercase hex
// digits (e.g. 65e74e6cd81e2afd862c4e9dc0b159c1 in public endpoint URLs;
// the data store ARN's datastore/fhir/.{32} fixes the length). Whether a
// physical id names a data store decides whether a Delete looks for orphans, so
// it is matched against what HealthLake issues, not against what its API
// would accept: an id CloudFormation made up (<stack>-<logicalId>-<random>,
// after a creation cancelled before the framework answered) or the
// framework's marker after a failed Create never matches, whatever its length.
var datastoreID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func isDatastoreID(id string) bool { return datastoreID.MatchString(id) }

// validDatastoreID is botocore's constraint on the DatastoreId shape (its
// pattern, 1-32 characters), for checks that only decide whether an id can be
// sent to HealthLake at all.
var validDatastoreID = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-%@]{1,32}$`)
