// Package logkey lets CloudWatch Logs use a KMS key, so the Lambdas' log groups
// are encrypted with a customer-managed key.
package logkey

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// New creates a KMS key (rotation on, retained on delete) that CloudWatch Logs
// may use for this account's log groups in this region.
func New(scope constructs.Construct, id *string, description *string) awskms.Key {
	key := awskms.NewKey(scope, id, &awskms.KeyProps{
		Description:       description,
		EnableKeyRotation: jsii.Bool(true),
		// Logs encrypted with a deleted key can't be read: keep it.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	AllowLogs(key)
	return key
}

// AllowLogs adds the key-policy statement CloudWatch Logs needs to encrypt log
// groups of this account and region with key. It does nothing to an imported
// key, whose policy this app can't change.
func AllowLogs(key awskms.IKey) {
	stack := awscdk.Stack_Of(key)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+*stack.Region()+".amazonaws.com"), nil)},
		Actions: jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*",
			"kms:GenerateDataKey*", "kms:Describe*"),
		Resources: jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike": map[string]any{
				"kms:EncryptionContext:aws:logs:arn": stack.FormatArn(&awscdk.ArnComponents{
					Service:      jsii.String("logs"),
					Resource:     jsii.String("log-group"),
					ResourceName: jsii.String("*"),
					ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
				}),
			},
		},
	}), jsii.Bool(true))
}
