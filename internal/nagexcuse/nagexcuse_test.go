package nagexcuse_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

const specific = "The queue only buffers the handler's own retries, which CloudFormation already reports as failures."

func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		e    nagexcuse.Excuse
		want string // "" when accepted
	}{
		{"a pack's rule with a specific reason is accepted", nagexcuse.Excuse{Rule: "AwsSolutions-SQS3", Reason: specific}, ""},
		{"a HIPAA rule is accepted", nagexcuse.Excuse{Rule: "HIPAA.Security-LambdaDLQ", Reason: specific}, ""},
		{"a rule of no pack is refused", nagexcuse.Excuse{Rule: "IAM5", Reason: specific}, "not a rule"},
		{"a short reason is refused", nagexcuse.Excuse{Rule: "AwsSolutions-SQS3", Reason: "custom resource machinery"}, "at least 60"},
		{"a TODO is refused, however long", nagexcuse.Excuse{Rule: "AwsSolutions-SQS3", Reason: "todo: " + specific}, `not "todo"`},
		{"a false positive is no reason", nagexcuse.Excuse{Rule: "AwsSolutions-SQS3", Reason: "False positive. " + specific}, "false positive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := nagexcuse.Check(tc.e)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestOn(t *testing.T) {
	t.Run("the excuse sits on the resource with its rule, reason and findings", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		q := awssqs.NewQueue(stack, jsii.String("Queue"), nil)
		nagexcuse.On(q, true, nagexcuse.Excuse{Rule: "AwsSolutions-SQS3", Reason: specific},
			nagexcuse.Excuse{Rule: "AwsSolutions-IAM5", Reason: specific, AppliesTo: []any{
				"Resource::*", &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Action::sqs:.*$/`)}}})
		sup := cdktest.Suppressions(t, cdktest.Template(t, stack))
		require.Len(t, sup, 2)
		for _, s := range sup {
			require.True(t, strings.HasPrefix(s.Resource, "Queue"), s.Resource)
			require.Equal(t, specific, s.Reason)
		}
		require.Equal(t, "AwsSolutions-IAM5", sup[0].Rule)
		require.Equal(t, []any{"Resource::*", map[string]any{"regex": `/^Action::sqs:.*$/`}}, sup[0].AppliesTo)
		require.Equal(t, "AwsSolutions-SQS3", sup[1].Rule)
		require.Nil(t, sup[1].AppliesTo, "every finding of the rule")
	})
	t.Run("a vague reason fails the synthesis naming the resource", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		q := awssqs.NewQueue(stack, jsii.String("Queue"), nil)
		cdktest.PanicsNaming(t, func() {
			nagexcuse.On(q, false, nagexcuse.Excuse{Rule: "AwsSolutions-SQS3", Reason: "not needed"})
		}, "nagexcuse.On(S/Queue)", "AwsSolutions-SQS3")
	})
}
