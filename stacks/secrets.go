package stacks

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// CredentialSecretFromNameOrArn imports a secret made outside the stack (the
// Okta credential, an external server's introspection client) from a Secrets
// Manager name, complete ARN or partial ARN, as cdk.json gives it. key is the
// customer-managed key the secret is encrypted with, or nil for Secrets
// Manager's AWS-managed key: with a key, whoever is granted the secret's
// read is granted kms:Decrypt on the key too (through Secrets Manager only);
// without it a reader of a secret under a customer key could not decrypt it.
func CredentialSecretFromNameOrArn(scope constructs.Construct, id *string, nameOrArn string, key awskms.IKey) awssecretsmanager.ISecret {
	if key == nil {
		switch {
		case completeSecretArn.MatchString(nameOrArn):
			return awssecretsmanager.Secret_FromSecretCompleteArn(scope, id, jsii.String(nameOrArn))
		case strings.HasPrefix(nameOrArn, "arn:"):
			return awssecretsmanager.Secret_FromSecretPartialArn(scope, id, jsii.String(nameOrArn))
		default:
			return awssecretsmanager.Secret_FromSecretNameV2(scope, id, jsii.String(nameOrArn))
		}
	}
	attrs := &awssecretsmanager.SecretAttributes{EncryptionKey: key}
	switch {
	case completeSecretArn.MatchString(nameOrArn):
		attrs.SecretCompleteArn = jsii.String(nameOrArn)
	case strings.HasPrefix(nameOrArn, "arn:"):
		attrs.SecretPartialArn = jsii.String(nameOrArn)
	default:
		// A name is the partial ARN's last part: Secrets Manager adds "-" and six
		// characters, which the grants match.
		attrs.SecretPartialArn = awscdk.Stack_Of(scope).FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("secretsmanager"),
			Resource:     jsii.String("secret"),
			ResourceName: jsii.String(nameOrArn),
			ArnFormat:    awscdk.ArnFormat_COLON_RESOURCE_NAME,
		})
	}
	return awssecretsmanager.Secret_FromSecretAttributes(scope, id, attrs)
}

// Secrets Manager appends "-" and six characters to a secret's name in its ARN.
var completeSecretArn = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+-[A-Za-z0-9]{6}$`)

// secretKey imports cdk.json's key ARN of a secret (construct id <id>Key
// beside the secret's), or nil when it names none.
func secretKey(scope constructs.Construct, id string, keyArn string) awskms.IKey {
	if keyArn == "" {
		return nil
	}
	return awskms.Key_FromKeyArn(scope, jsii.String(id+"Key"), jsii.String(keyArn))
}
