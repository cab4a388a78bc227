package handler

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

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
