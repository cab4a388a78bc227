package handler

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// firstCreationRollingBack reports whether stackID's first creation is being
// rolled back (ROLLBACK_IN_PROGRESS) after a failure, so that every resource of
// the stack, this data store included, was created by the failed deployment and
// never handed to anyone: the data store holds no data. It logs why when it
// answers false, which keeps the data store: another status (a stack deletion,
// an update's rollback, a creation still running), a stack created with rollback
// disabled (its ROLLBACK_IN_PROGRESS is a manual rollback, possibly long after
// the data store became usable), or a status that cannot be read.
func (h *Handler) firstCreationRollingBack(ctx context.Context, stackID string, log *slog.Logger) bool {
	log = log.With("stackId", stackID)
	if h.stacks == nil {
		log.Warn("no CloudFormation client: cannot tell whether the stack's first creation is being rolled back")
		return false
	}
	stack, err := h.describeStack(ctx, stackID)
	if err != nil {
		log.Warn("could not read the stack's status; the retained data store is kept", "error", err.Error())
		return false
	}
	status := stack.StackStatus
	if status != cfntypes.StackStatusRollbackInProgress {
		log.Info("the stack is not rolling back its first creation: the removal policy applies",
			"stackStatus", string(status))
		return false
	}
	if aws.ToBool(stack.DisableRollback) {
		log.Info("the stack was created with rollback disabled, so this rollback was started by hand and the data store "+
			"may have been used in the meantime: the removal policy applies", "stackStatus", string(status))
		return false
	}
	return true
}

func (h *Handler) describeStack(ctx context.Context, stackID string) (*cfntypes.Stack, error) {
	if stackID == "" {
		return nil, fmt.Errorf("the event has no StackId")
	}
	out, err := h.stacks.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
	if err != nil {
		return nil, fmt.Errorf("describing CloudFormation stack %s: %w", stackID, err)
	}
	for i := range out.Stacks {
		if aws.ToString(out.Stacks[i].StackId) == stackID {
			return &out.Stacks[i], nil
		}
	}
	return nil, fmt.Errorf("describing CloudFormation stack %s: not in the answer (%d stacks)", stackID, len(out.Stacks))
}
