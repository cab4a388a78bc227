package fakecloudformation_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakecloudformation"
)

const stackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/FhirStack/1e2b5f10-8c5e-11ef-9d3a-0a1b2c3d4e5f"

// These tests pin the protocol details the handler tests rely on, through the
// real SDK client.
func TestFake(t *testing.T) {
	ctx := context.Background()
	static := credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")
	newClient := func(fake *fakecloudformation.Server, creds aws.CredentialsProvider) *cloudformation.Client {
		return cloudformation.New(cloudformation.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(fake.URL()), Credentials: creds, RetryMaxAttempts: 1,
		})
	}

	t.Run("DescribeStacks by id or name reports the status set, sent as a Query request", func(t *testing.T) {
		fake := fakecloudformation.New(t, "")
		fake.PutStack(fakecloudformation.Stack{ID: stackID, Name: "FhirStack", Status: "CREATE_IN_PROGRESS"})
		c := newClient(fake, static)

		out, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
		require.NoError(t, err)
		require.Len(t, out.Stacks, 1)
		assert.Equal(t, types.StackStatusCreateInProgress, out.Stacks[0].StackStatus)
		assert.Equal(t, stackID, aws.ToString(out.Stacks[0].StackId))
		assert.Equal(t, "FhirStack", aws.ToString(out.Stacks[0].StackName))
		assert.False(t, aws.ToBool(out.Stacks[0].DisableRollback))
		assert.False(t, aws.ToTime(out.Stacks[0].CreationTime).IsZero())
		assert.Nil(t, out.Stacks[0].LastUpdatedTime, "a stack never updated has no LastUpdatedTime")
		updated := time.Date(2026, 12, 1, 10, 0, 0, 500_000_000, time.UTC)
		fake.SetLastUpdated(stackID, updated)
		out, err = c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
		require.NoError(t, err)
		assert.Equal(t, updated, aws.ToTime(out.Stacks[0].LastUpdatedTime))

		fake.SetStatus("FhirStack", "ROLLBACK_IN_PROGRESS")
		fake.PutStack(fakecloudformation.Stack{ID: "arn:other", Name: "Other", Status: "CREATE_COMPLETE", DisableRollback: true})
		out, err = c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("FhirStack")})
		require.NoError(t, err)
		require.Len(t, out.Stacks, 1)
		assert.Equal(t, types.StackStatusRollbackInProgress, out.Stacks[0].StackStatus)

		all, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
		require.NoError(t, err)
		require.Len(t, all.Stacks, 2)
		assert.True(t, aws.ToBool(all.Stacks[1].DisableRollback))

		reqs := fake.Requests("DescribeStacks")
		require.Len(t, reqs, 4)
		assert.Equal(t, stackID, reqs[0].Form.Get("StackName"))
		assert.Equal(t, fakecloudformation.APIVersion, reqs[0].Form.Get("Version"))
		assert.Contains(t, reqs[0].Authorization, "/us-east-1/cloudformation/aws4_request")
	})

	t.Run("errors arrive as the SDK's API errors with CloudFormation's codes", func(t *testing.T) {
		fake := fakecloudformation.New(t, "")
		c := newClient(fake, static)

		_, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
		var apiErr smithy.APIError
		require.True(t, errors.As(err, &apiErr), "got %v", err)
		assert.Equal(t, "ValidationError", apiErr.ErrorCode())
		assert.Contains(t, apiErr.ErrorMessage(), "does not exist")

		fake.PutStack(fakecloudformation.Stack{ID: stackID, Name: "FhirStack", Status: "CREATE_IN_PROGRESS"})
		fake.Faults.Add(fault.Rule{Kind: fault.Denied})
		_, err = c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
		require.True(t, errors.As(err, &apiErr), "got %v", err)
		assert.Equal(t, "AccessDenied", apiErr.ErrorCode())
		assert.Equal(t, "AccessDenied", fake.Requests()[1].ErrorCode)

		_, err = c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
		assert.NoError(t, err, "the fault was used up")
	})

	t.Run("throttling is retried by the SDK's standard retryer", func(t *testing.T) {
		fake := fakecloudformation.New(t, "")
		fake.PutStack(fakecloudformation.Stack{ID: stackID, Name: "FhirStack", Status: "CREATE_IN_PROGRESS"})
		fake.Faults.Add(fault.Rule{Kind: fault.Throttle})
		c := cloudformation.New(cloudformation.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(fake.URL()), Credentials: static, RetryMaxAttempts: 2,
		})
		_, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
		require.NoError(t, err)
		assert.Len(t, fake.Requests(), 2)
	})

	t.Run("unsigned requests are refused", func(t *testing.T) {
		fake := fakecloudformation.New(t, "")
		_, err := newClient(fake, aws.AnonymousCredentials{}).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{})
		assert.ErrorContains(t, err, "MissingAuthenticationToken")
	})
}
