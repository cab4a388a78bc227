package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// The handler's own tags: which resource made a data store, by which request,
// and what became of it. Keys and values stay inside HealthLake's tag pattern
// (letters, digits, spaces and _.:/=+-@), which every value below meets: stack
// ARNs, logical ids, request ids (UUIDs) and data store ids.
const (
	// tagStackID and tagLogicalID name the resource that created the data store.
	tagStackID   = datastoreprops.TagPrefix + "stack-id"
	tagLogicalID = datastoreprops.TagPrefix + "logical-id"
	// tagRequestID and tagRequestType name the request that created it: a
	// Create, or the Update of an acknowledged replacement.
	tagRequestID   = datastoreprops.TagPrefix + "request-id"
	tagRequestType = datastoreprops.TagPrefix + "request-type"
	// tagReplaces is the id of the data store a replacement was made to replace.
	tagReplaces = datastoreprops.TagPrefix + "replaces"
	// tagRetainedBy is set, to the Delete's request id, when a Delete retains
	// the data store: it has left the stack, and no later Delete of the same
	// resource may treat it as the resource's own.
	tagRetainedBy = datastoreprops.TagPrefix + "retained-by"
	// tagAbandonedBy is set, to the rollback's request id, on a replacement
	// that a rollback Update turned away from, answering with the original: the
	// replacement never served, and the clean-up Delete deletes it.
	tagAbandonedBy = datastoreprops.TagPrefix + "abandoned-by"
)

// handlerTagKeys are every key the handler may set on one data store: at most
// 5 when it is created (stackId, logical id, request id and type, replaces),
// then abandoned-by and retained-by.
var handlerTagKeys = [...]string{tagStackID, tagLogicalID, tagRequestID, tagRequestType, tagReplaces, tagRetainedBy, tagAbandonedBy}

// The contract reserves room for exactly these keys beside the user's tags
// (datastoreprops.HandlerTagCount): both lines fail to compile when they
// disagree.
var (
	_ [datastoreprops.HandlerTagCount - len(handlerTagKeys)]struct{}
	_ [len(handlerTagKeys) - datastoreprops.HandlerTagCount]struct{}
)

// ownerTags are the tags a data store is created with.
func ownerTags(e customresource.Event, replaces string) []types.Tag {
	tags := []types.Tag{
		{Key: aws.String(tagStackID), Value: aws.String(e.StackID)},
		{Key: aws.String(tagLogicalID), Value: aws.String(e.LogicalResourceID)},
		{Key: aws.String(tagRequestID), Value: aws.String(e.RequestID)},
		{Key: aws.String(tagRequestType), Value: aws.String(string(e.RequestType))},
	}
	if replaces != "" {
		tags = append(tags, types.Tag{Key: aws.String(tagReplaces), Value: aws.String(replaces)})
	}
	// A value HealthLake would refuse (an event no CloudFormation sends) is left
	// out rather than failing the creation; the data store is then not found by
	// the look-ups that rely on it, which keeps it.
	kept := tags[:0]
	for _, t := range tags {
		if datastoreprops.TagProblem(aws.ToString(t.Key), aws.ToString(t.Value)) == "" {
			kept = append(kept, t)
		}
	}
	return kept
}

// ownedBy reports whether tags say the event's resource created the data store.
func ownedBy(tags map[string]string, e customresource.Event) bool {
	return e.StackID != "" && e.LogicalResourceID != "" &&
		tags[tagStackID] == e.StackID && tags[tagLogicalID] == e.LogicalResourceID
}

func (h *Handler) tagsOf(ctx context.Context, arn string) (map[string]string, error) {
	out, err := h.client.ListTagsForResource(ctx, &healthlake.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return nil, wrapNotFound(err, "listing tags of "+arn)
	}
	tags := make(map[string]string, len(out.Tags))
	for _, t := range out.Tags {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

func (h *Handler) tag(ctx context.Context, arn, key, value string) error {
	_, err := h.client.TagResource(ctx, &healthlake.TagResourceInput{
		ResourceARN: aws.String(arn),
		Tags:        []types.Tag{{Key: aws.String(key), Value: aws.String(value)}},
	})
	if err != nil {
		return fmt.Errorf("tagging %s with %s: %w", arn, key, err)
	}
	return nil
}

// operationStart is when the stack's current operation began, as far as
// DescribeStacks tells: its LastUpdatedTime once it has been updated, else its
// CreationTime. Truncated to the second, since the two services report times
// with different precision.
func operationStart(stack *cfntypes.Stack) time.Time {
	t := aws.ToTime(stack.CreationTime)
	if stack.LastUpdatedTime != nil {
		t = *stack.LastUpdatedTime
	}
	return t.Truncate(time.Second)
}

// orphanKind says which of this resource's data stores, made during the
// stack's current operation, CloudFormation cannot know of in a given request.
type orphanKind func(tags map[string]string) bool

// createdOrphans are the orphans of a Delete whose physical id is no data store
// (a creation cancelled before the framework answered): data stores made by a
// Create request that no Delete retained.
func createdOrphans(tags map[string]string) bool {
	return tags[tagRequestType] == string(customresource.Create) && tags[tagRetainedBy] == ""
}

// replacementOrphans are the orphans of a rollback Update on data store
// original: replacements of it, made by an Update that CloudFormation
// cancelled before the framework answered. Had CloudFormation learnt a
// replacement's id, its rollback Update would be on that id instead (see
// rollbackTarget).
func replacementOrphans(original string) orphanKind {
	return func(tags map[string]string) bool {
		// An abandoned one is the id CloudFormation did learn: its clean-up
		// deletes it.
		return tags[tagRequestType] == string(customresource.Update) && tags[tagReplaces] == original && tags[tagAbandonedBy] == ""
	}
}

// findOrphans lists the data stores of the given kind that this resource
// created during the stack's current operation. A data store counts when its
// tags name the event's stack and logical id, it is not DELETED, and HealthLake
// reports it created at or after the start of the stack's current operation,
// so a data store this logical id made and left behind in an earlier operation
// is never taken for an orphan.
func (h *Handler) findOrphans(ctx context.Context, e customresource.Event, data map[string]any, kind orphanKind, log *slog.Logger) ([]types.DatastoreProperties, error) {
	since, err := h.orphansSince(ctx, e, data)
	if err != nil {
		return nil, err
	}
	// CreatedAfter narrows the listing; whether HealthLake's bound is inclusive
	// is not documented, so it starts a second early and the bound is checked
	// again below.
	pages := healthlake.NewListFHIRDatastoresPaginator(h.client, &healthlake.ListFHIRDatastoresInput{
		Filter: &types.DatastoreFilter{CreatedAfter: aws.Time(since.Add(-time.Second))},
	})
	var orphans []types.DatastoreProperties
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing HealthLake data stores: %w", err)
		}
		for _, p := range page.DatastorePropertiesList {
			if p.DatastoreStatus == types.DatastoreStatusDeleted || aws.ToTime(p.CreatedAt).Before(since) {
				continue
			}
			tags, err := h.tagsOf(ctx, aws.ToString(p.DatastoreArn))
			if errors.Is(err, errNotFound) {
				continue // deleted since it was listed
			}
			if err != nil {
				return nil, err
			}
			if ownedBy(tags, e) && kind(tags) && aws.ToString(p.DatastoreId) != e.PhysicalResourceID {
				orphans = append(orphans, p)
			}
		}
	}
	if len(orphans) > 0 {
		ids := make([]string, len(orphans))
		for i, p := range orphans {
			ids[i] = aws.ToString(p.DatastoreId)
		}
		log.Info("found data stores this resource created in the stack's current operation that CloudFormation does not know of",
			"datastoreIds", ids, "operationStart", since.Format(time.RFC3339))
	}
	return orphans, nil
}

// orphansSince is the start of the stack's current operation. onEvent reads it
// with DescribeStacks and records it in data (dataOrphansSince), so isComplete
// reads it from its Data and needs DescribeStacks only when onEvent could not.
func (h *Handler) orphansSince(ctx context.Context, e customresource.Event, data map[string]any) (time.Time, error) {
	if s, ok := data[dataOrphansSince].(string); ok {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
	}
	if h.stacks == nil {
		return time.Time{}, errors.New("no CloudFormation client: cannot tell when the stack's operation started")
	}
	stack, err := h.describeStack(ctx, e.StackID)
	if err != nil {
		return time.Time{}, err
	}
	since := operationStart(stack)
	if data != nil {
		data[dataOrphansSince] = since.UTC().Format(time.RFC3339)
	}
	return since, nil
}

// cleanUpOrphans moves each orphan towards DELETED: it deletes those that can
// be deleted and waits for those still CREATING (HealthLake cannot delete them
// yet) or UPDATING. It returns the ids whose deletion has not started yet, and
// how many orphans it found (those being deleted included).
//
// An orphan that is DELETING counts as done: HealthLake finishes the deletion
// on its own, the orphan never held data, and waiting for DELETED as well
// (15-20 minutes, after up to 30 minutes of CREATING) would run past the
// Provider's 45-minute waiter and fail the stack's rollback.
//
// data is onEvent's Data, or isComplete's (see orphansSince).
func (h *Handler) cleanUpOrphans(ctx context.Context, e customresource.Event, data map[string]any, kind orphanKind, log *slog.Logger) ([]string, int, error) {
	orphans, err := h.findOrphans(ctx, e, data, kind, log)
	if err != nil {
		return nil, 0, err
	}
	var pending []string
	for _, o := range orphans {
		id := aws.ToString(o.DatastoreId)
		p, err := h.describe(ctx, id)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		switch p.DatastoreStatus {
		case types.DatastoreStatusDeleted, types.DatastoreStatusDeleting:
			continue
		case types.DatastoreStatusCreating, statusUpdating:
			log.Info("waiting for the orphaned data store", "datastoreId", id, "status", string(p.DatastoreStatus))
		default:
			_, err := h.client.DeleteFHIRDatastore(ctx, &healthlake.DeleteFHIRDatastoreInput{DatastoreId: aws.String(id)})
			var notFound *types.ResourceNotFoundException
			if errors.As(err, &notFound) {
				continue
			}
			if err != nil {
				return nil, 0, fmt.Errorf("deleting orphaned HealthLake data store %s: %w", id, err)
			}
			log.Warn("deleting HealthLake data store whatever the removal policy: its creation was cancelled before CloudFormation "+
				"learnt its id, so it never served the stack and holds no data", "datastoreId", id, "status", string(p.DatastoreStatus),
				"requestType", string(e.RequestType))
		}
		pending = append(pending, id)
	}
	return pending, len(orphans), nil
}

// neverServed returns why the data store, which a Delete targets, never
// served the stack, or "" when it may have. See the package documentation for
// the rules; stack is nil when its status could not be read.
func neverServed(e customresource.Event, p *types.DatastoreProperties, tags map[string]string, stack *cfntypes.Stack) string {
	if p.DatastoreStatus == types.DatastoreStatusCreateFailed {
		return "its creation failed (CREATE_FAILED)"
	}
	if stack == nil {
		return ""
	}
	switch stack.StackStatus {
	case cfntypes.StackStatusRollbackInProgress:
		if !aws.ToBool(stack.DisableRollback) {
			return "the stack's first creation is being rolled back (ROLLBACK_IN_PROGRESS): the data store was made by the failed deployment and never handed over"
		}
	case cfntypes.StackStatusUpdateRollbackCompleteCleanupInProgress:
		if !ownedBy(tags, e) {
			return ""
		}
		if by := tags[tagAbandonedBy]; by != "" {
			return "it is a replacement that the rollback of its update (request " + by + ") turned away from, back to the " +
				"original, and is being cleaned up (UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS)"
		}
		if stack.LastUpdatedTime != nil && !aws.ToTime(p.CreatedAt).Before(operationStart(stack)) {
			return "this resource created it during the update that was rolled back, and it is being cleaned up " +
				"(UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS): it never served the stack"
		}
	}
	return ""
}

// rollbackTarget recognises CloudFormation's rollback of a failed replacement:
// an Update, while the stack is UPDATE_ROLLBACK_IN_PROGRESS, on a data store
// this resource created to replace another, asking for settings the
// replacement cannot take but the original has, while the original is still
// there (neither deleted nor retained out of the stack). It returns the
// original, to be answered with so that CloudFormation's clean-up deletes the
// replacement; nil when the Update is no such rollback. It returns an error
// when it could not tell: carrying on as an ordinary Update could then replace
// the replacement, and the stack would end with a third, empty data store.
func (h *Handler) rollbackTarget(ctx context.Context, e customresource.Event, current *types.DatastoreProperties, spec Spec, log *slog.Logger) (*types.DatastoreProperties, error) {
	undecided := func(what string, err error) error {
		return fmt.Errorf("HealthLake data store %s: cannot tell whether this Update is CloudFormation's rollback of a replacement, "+
			"which must return to the replaced data store rather than create another: %s: %w", aws.ToString(current.DatastoreId), what, err)
	}
	tags, err := h.tagsOf(ctx, aws.ToString(current.DatastoreArn))
	if err != nil {
		return nil, undecided("reading the data store's tags", err)
	}
	originalID := tags[tagReplaces]
	if originalID == "" || !ownedBy(tags, e) {
		return nil, nil
	}
	log = log.With("replacedDatastoreId", originalID)
	if h.stacks == nil {
		return nil, undecided("reading the stack's status", errors.New("no CloudFormation client"))
	}
	stack, err := h.describeStack(ctx, e.StackID)
	if err != nil {
		return nil, undecided("reading the stack's status", err)
	}
	if stack.StackStatus != cfntypes.StackStatusUpdateRollbackInProgress {
		log.Info("the data store replaced another, but the stack is not rolling back an update", "stackStatus", string(stack.StackStatus))
		return nil, nil
	}
	original, err := h.describe(ctx, originalID)
	if errors.Is(err, errNotFound) {
		log.Info("the replaced data store is gone: it cannot be returned to")
		return nil, nil
	}
	if err != nil {
		return nil, undecided("reading the replaced data store "+originalID, err)
	}
	if s := original.DatastoreStatus; s == types.DatastoreStatusDeleting || s == types.DatastoreStatusDeleted {
		log.Info("the replaced data store is being deleted: it cannot be returned to", "status", string(s))
		return nil, nil
	}
	originalTags, err := h.tagsOf(ctx, aws.ToString(original.DatastoreArn))
	if errors.Is(err, errNotFound) {
		log.Info("the replaced data store is gone: it cannot be returned to")
		return nil, nil
	}
	if err != nil {
		return nil, undecided("reading the replaced data store's tags", err)
	}
	if originalTags[tagRetainedBy] != "" {
		log.Info("the replaced data store was retained out of the stack by an earlier Delete: it cannot be returned to")
		return nil, nil
	}
	var differ []string
	for _, c := range immutableChanges(nil, spec, original) {
		// HealthLake reports a key ARN for a key given by alias: an alias cannot
		// be compared, and the tags above already tie the two data stores.
		if c.property == datastoreprops.PropKmsKeyArn && strings.Contains(spec.KMSKeyARN, ":alias/") {
			continue
		}
		differ = append(differ, c.property)
	}
	if len(differ) > 0 {
		log.Info("the requested settings are not the replaced data store's either", "differs", differ)
		return nil, nil
	}
	return original, nil
}
