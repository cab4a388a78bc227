package handler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/healthlakeapi"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

func (h *Handler) update(ctx context.Context, e customresource.Event, log *slog.Logger) (customresource.OnEventResponse, error) {
	spec, err := h.checkedSpec(ctx, e, log)
	if err != nil {
		return customresource.OnEventResponse{}, err
	}
	// The previous properties only tell which tags this stack owned and whether a
	// difference from HealthLake was asked for; an unreadable set (from another
	// handler version) just makes the comparison rely on HealthLake alone.
	var old *Spec
	if o, _, err := ParseUpdateSpec(e.OldResourceProperties); err == nil {
		old = &o
	} else {
		log.Warn("previous properties unreadable; comparing with the data store only", "error", err.Error())
	}

	id := e.PhysicalResourceID
	if !validDatastoreID.MatchString(id) {
		return customresource.OnEventResponse{}, fmt.Errorf("physical id %q is not a HealthLake data store id", id)
	}
	current, err := h.describe(ctx, id)
	if err != nil {
		return customresource.OnEventResponse{}, err
	}

	if changes := immutableChanges(old, spec, current); len(changes) > 0 {
		original, err := h.rollbackTarget(ctx, e, current, spec, log)
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		if original != nil {
			// CloudFormation's rollback of a failed replacement: answer with the
			// original, which the rollback's settings describe, so that the
			// clean-up deletes the replacement; the tag says it never served.
			originalID := aws.ToString(original.DatastoreId)
			log.Warn("rolling back a replacement: answering with the replaced data store; CloudFormation's clean-up will delete the replacement, which never served",
				"datastoreId", originalID, "replacementDatastoreId", id, "replacementStatus", string(current.DatastoreStatus))
			if err := h.tag(ctx, aws.ToString(current.DatastoreArn), tagAbandonedBy, e.RequestID); err != nil {
				// The clean-up still recognises a replacement created during the
				// update being rolled back by its creation time.
				log.Warn("could not mark the replacement as abandoned", "replacementDatastoreId", id, "error", err.Error())
			}
			id, current = originalID, original
		} else if !spec.AcknowledgeReplacement {
			return customresource.OnEventResponse{}, refusal(id, changes, spec)
		} else {
			return h.replace(ctx, e, spec, id, changes, log)
		}
	}
	resp, err := h.updateInPlace(ctx, old, spec, id, current, log)
	if err == nil {
		data := map[string]any{dataDeletingOrphans: "true"}
		if h.startReplacementCleanup(ctx, e, id, data, log) {
			resp.Data = data
		}
	}
	return resp, err
}

// startReplacementCleanup is onEvent's part of deleting the replacements of
// data store id that CloudFormation never learnt of, when this Update is part
// of the rollback of an update (the stack is UPDATE_ROLLBACK_IN_PROGRESS). It
// reports whether isComplete has to go on: some are not DELETED yet, or the
// look-up failed and is to be tried again.
func (h *Handler) startReplacementCleanup(ctx context.Context, e customresource.Event, id string, data map[string]any, log *slog.Logger) bool {
	if h.stacks == nil {
		return false
	}
	stack, err := h.describeStack(ctx, e.StackID)
	if err != nil {
		// Answering "nothing to clean up" here would leave a cancelled
		// replacement, which no stack knows, behind for good: isComplete reads
		// the stack again (see awaitCancelledReplacements).
		log.Warn("could not read the stack's status: cannot tell yet whether this Update is a rollback that must delete a cancelled replacement; "+
			"looking again while waiting", "error", err.Error())
		return true
	}
	if stack.StackStatus != cfntypes.StackStatusUpdateRollbackInProgress {
		return false
	}
	data[dataOrphansSince] = operationStart(stack).UTC().Format(time.RFC3339)
	pending, _, err := h.cleanUpOrphans(ctx, e, data, replacementOrphans(id), log)
	if err != nil {
		log.Warn("could not look for replacements cancelled before CloudFormation learnt their id; trying again while waiting", "error", err.Error())
		return true
	}
	return len(pending) > 0
}

// awaitCancelledReplacements is isComplete's part of startReplacementCleanup:
// it reports whether cancelled replacements are still to be deleted. When
// onEvent could not read the stack (no OrphansSince in the Data), it reads it
// here and looks only if the stack is rolling back an update. An error that
// passes by itself is returned, to be tried again at the next poll; any other
// is logged and the wait given up, since the replacements never held data.
func (h *Handler) awaitCancelledReplacements(ctx context.Context, e customresource.IsCompleteEvent, log *slog.Logger) (bool, error) {
	data := e.Data
	if _, known := data[dataOrphansSince]; !known {
		stack, err := h.describeStack(ctx, e.StackID)
		switch {
		case err != nil && healthlakeapi.IsTransient(err):
			return false, err
		case err != nil:
			log.Error("could not read the stack's status: cannot tell whether this Update is a rollback that must delete replacements "+
				"cancelled before CloudFormation learnt their id; look for data stores tagged "+tagReplaces+" with this data store's id",
				"datastoreId", e.PhysicalResourceID, "error", err.Error())
			return false, nil
		case stack.StackStatus != cfntypes.StackStatusUpdateRollbackInProgress:
			return false, nil
		}
		data = maps.Clone(data)
		data[dataOrphansSince] = operationStart(stack).UTC().Format(time.RFC3339)
	}
	pending, _, err := h.cleanUpOrphans(ctx, e.Event, data, replacementOrphans(e.PhysicalResourceID), log)
	switch {
	case err != nil && healthlakeapi.IsTransient(err):
		return false, err
	case err != nil:
		log.Error("could not delete replacements cancelled before CloudFormation learnt their id: look for data stores tagged "+
			tagReplaces+" with this data store's id and delete them yourself", "datastoreId", e.PhysicalResourceID, "error", err.Error())
		return false, nil
	case len(pending) > 0:
		log.Info("waiting for cancelled replacements to be deleted", "datastoreIds", pending)
		return true, nil
	}
	return false, nil
}

// replace starts the acknowledged replacement of data store id: a new data
// store, tagged as replacing id. CloudFormation then deletes id per its removal
// policy once the stack update succeeds.
func (h *Handler) replace(ctx context.Context, e customresource.Event, spec Spec, id string, changes []change, log *slog.Logger) (customresource.OnEventResponse, error) {
	newID, err := h.createDatastore(ctx, e, spec, id, log)
	if err != nil {
		return customresource.OnEventResponse{}, err
	}
	log.Warn("replacing data store: the new one starts empty; CloudFormation will delete the old one per its removal policy",
		"datastoreId", newID, "replacedDatastoreId", id, "changedProperties", changedNames(changes))
	return customresource.OnEventResponse{PhysicalResourceID: newID}, nil
}

// updateInPlace changes data store id's name, identity provider and tags.
func (h *Handler) updateInPlace(ctx context.Context, old *Spec, spec Spec, id string, current *types.DatastoreProperties, log *slog.Logger) (customresource.OnEventResponse, error) {

	// In UPDATE_FAILED the desired configuration is sent again even if the data
	// store reports it. Where the name and identity provider change through
	// UPDATING, that clears a failure an earlier update caused. Where they take
	// effect at once and leave the status alone, as the HealthLake Developer
	// Guide documents (UPDATE_FAILED then concerns an NLP/analytics change), it
	// is harmless: the status stays, and isComplete accepts it once the
	// configuration shows.
	if current.DatastoreStatus == statusUpdateFailed || configDiffers(spec, current) {
		_, err := healthlakeapi.UpdateFHIRDatastore(ctx, h.client, &healthlakeapi.UpdateFHIRDatastoreInput{
			DatastoreId:                   aws.String(id),
			DatastoreName:                 aws.String(spec.Name),
			IdentityProviderConfiguration: identityProvider(spec),
		})
		if err != nil {
			return customresource.OnEventResponse{}, fmt.Errorf("updating HealthLake data store %s in place: %w", id, err)
		}
		log.Info("data store update started", "datastoreId", id)
	}
	if err := h.syncTags(ctx, aws.ToString(current.DatastoreArn), old, spec, log); err != nil {
		return customresource.OnEventResponse{}, err
	}
	return customresource.OnEventResponse{PhysicalResourceID: id}, nil
}

// change is a property HealthLake cannot change on an existing data store.
type change struct {
	property, from, to string
}

// immutableChanges lists the immutable properties whose desired value differs
// from the data store. A difference counts only if the deployment asked for it
// (the old properties differ too, when known): that keeps a rollback, whose new
// properties describe the data store as it is, from being refused, and keeps an
// alias ARN that HealthLake reports as a key ARN from looking like a change.
func immutableChanges(old *Spec, spec Spec, current *types.DatastoreProperties) []change {
	var changes []change
	consider := func(property, oldValue, want, have string, matches bool) {
		if matches || (old != nil && oldValue == want) {
			return
		}
		changes = append(changes, change{property, have, want})
	}
	var oldVersion, oldKey, oldPreload string
	if old != nil {
		oldVersion, oldKey, oldPreload = string(old.Version), old.KMSKeyARN, strconv.FormatBool(old.PreloadSynthea)
	}

	consider(datastoreprops.PropFhirVersion, oldVersion, string(spec.Version), string(current.DatastoreTypeVersion),
		spec.Version == current.DatastoreTypeVersion)

	haveKey := ""
	if sse := current.SseConfiguration; sse != nil && sse.KmsEncryptionConfig != nil && sse.KmsEncryptionConfig.CmkType == types.CmkTypeCmCmk {
		haveKey = aws.ToString(sse.KmsEncryptionConfig.KmsKeyId)
	}
	consider(datastoreprops.PropKmsKeyArn, oldKey, spec.KMSKeyARN, haveKey, sameKey(spec.KMSKeyARN, haveKey))

	havePreload := current.PreloadDataConfig != nil && current.PreloadDataConfig.PreloadDataType == types.PreloadDataTypeSynthea
	consider(datastoreprops.PropPreloadSynthea, oldPreload, strconv.FormatBool(spec.PreloadSynthea), strconv.FormatBool(havePreload),
		spec.PreloadSynthea == havePreload)
	return changes
}

// sameKey compares key references that may be an ARN or a bare key id.
func sameKey(a, b string) bool {
	last := func(s string) string { return s[strings.LastIndex(s, "/")+1:] }
	return a == b || (a != "" && b != "" && last(a) == last(b))
}

func refusal(id string, changes []change, spec Spec) error {
	describe := func(property, v string) string {
		if property == datastoreprops.PropKmsKeyArn && v == "" {
			return "an AWS-owned key"
		}
		return strconv.Quote(v)
	}
	var parts []string
	for _, c := range changes {
		parts = append(parts, fmt.Sprintf("%s (%s now, %s requested)", c.property, describe(c.property, c.from), describe(c.property, c.to)))
	}
	return fmt.Errorf("HealthLake data store %s cannot change in place: %s can only be set when a data store is created "+
		"(%s). Revert the change, or, to replace the data store deliberately, set %s to true for this deployment "+
		"(construct: AcknowledgeReplacement; cdk.json: datastore.acknowledgeReplacement): "+
		"a new, EMPTY data store is created (nothing is copied) and the current one then follows %s (now %s; "+
		"construct: RemovalPolicy; cdk.json: datastore.removalPolicy)",
		id, strings.Join(parts, "; "), settingNames(changes), datastoreprops.PropAcknowledgeReplacement,
		datastoreprops.PropRemovalPolicy, spec.RemovalPolicy)
}

// settingNames says where a user sets the changed properties: the
// construct's props and the cdk.json keys, which the handler's property
// names are not.
func settingNames(changes []change) string {
	where := map[string]string{
		datastoreprops.PropKmsKeyArn:      "construct: EncryptionKey or AwsOwnedKey; cdk.json: datastore.encryption",
		datastoreprops.PropPreloadSynthea: "construct: PreloadSynthea; cdk.json: datastore.preloadSynthea",
	}
	var out []string
	for _, c := range changes {
		if w, ok := where[c.property]; ok {
			out = append(out, c.property+" is "+w)
		}
	}
	return strings.Join(out, "; ")
}

func changedNames(changes []change) []string {
	names := make([]string, len(changes))
	for i, c := range changes {
		names[i] = c.property
	}
	return names
}

// configDiffers reports whether the name or the identity-provider configuration
// of the data store differs from the desired one.
func configDiffers(spec Spec, current *types.DatastoreProperties) bool {
	return len(configDifferences(spec, current)) > 0
}

// configDifferences names the settings UpdateFHIRDatastore changes (the name and
// the identity-provider configuration) whose reported value differs from the
// desired one.
func configDifferences(spec Spec, current *types.DatastoreProperties) []string {
	var diff []string
	if aws.ToString(current.DatastoreName) != spec.Name {
		diff = append(diff, datastoreprops.PropDatastoreName)
	}
	c := current.IdentityProviderConfiguration
	if c == nil {
		return append(diff, "IdentityProviderConfiguration")
	}
	if c.AuthorizationStrategy != spec.Strategy {
		diff = append(diff, datastoreprops.PropAuthorizationStrategy)
	}
	if c.FineGrainedAuthorizationEnabled != spec.FineGrained {
		diff = append(diff, datastoreprops.PropFineGrainedAuthorization)
	}
	if aws.ToString(c.IdpLambdaArn) != spec.IdpLambdaARN {
		diff = append(diff, datastoreprops.PropIdpLambdaArn)
	}
	if !sameJSON(aws.ToString(c.Metadata), spec.Metadata) {
		diff = append(diff, "Metadata")
	}
	return diff
}

// sameJSON compares documents by meaning, so HealthLake reformatting the metadata
// it stores does not cause an update on every deployment.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	return reflect.DeepEqual(x, y)
}
