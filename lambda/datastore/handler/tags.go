package handler

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
)

// syncTags makes the data store carry the desired tags. It removes only tags the
// previous properties set, so tags added outside the stack survive.
func (h *Handler) syncTags(ctx context.Context, arn string, old *Spec, spec Spec, log *slog.Logger) error {
	out, err := h.client.ListTagsForResource(ctx, &healthlake.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("listing tags of %s: %w", arn, err)
	}
	have := map[string]string{}
	for _, t := range out.Tags {
		have[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}

	var set []types.Tag
	var setKeys []string
	for _, k := range slices.Sorted(maps.Keys(spec.Tags)) {
		if v, ok := have[k]; !ok || v != spec.Tags[k] {
			set = append(set, types.Tag{Key: aws.String(k), Value: aws.String(spec.Tags[k])})
			setKeys = append(setKeys, k)
		}
	}
	var remove []string
	if old != nil {
		for k := range old.Tags {
			if _, keep := spec.Tags[k]; !keep {
				if _, present := have[k]; present {
					remove = append(remove, k)
				}
			}
		}
		sort.Strings(remove)
	}

	if len(set) > 0 {
		if _, err := h.client.TagResource(ctx, &healthlake.TagResourceInput{ResourceARN: aws.String(arn), Tags: set}); err != nil {
			return fmt.Errorf("tagging %s: %w", arn, err)
		}
	}
	if len(remove) > 0 {
		if _, err := h.client.UntagResource(ctx, &healthlake.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: remove}); err != nil {
			return fmt.Errorf("untagging %s: %w", arn, err)
		}
	}
	if len(set)+len(remove) > 0 {
		log.Info("tags changed", "datastoreArn", arn, "tagsSet", setKeys, "tagsRemoved", remove)
	}
	return nil
}
