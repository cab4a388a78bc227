package stacks_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/stacks"
)

func TestCredentialSecretsImportByNameOrArn(t *testing.T) {
	stack := cdktest.NewStack(t)
	byName := stacks.CredentialSecretFromNameOrArn(stack, jsii.String("A"), "clinic/okta", nil)
	complete := stacks.CredentialSecretFromNameOrArn(stack, jsii.String("B"),
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:clinic/okta-AbC123", nil)
	partial := stacks.CredentialSecretFromNameOrArn(stack, jsii.String("C"),
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:clinic/okta", nil)
	require.Equal(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinic/okta-AbC123", *complete.SecretArn())
	require.Equal(t, "clinic/okta", *byName.SecretName())
	require.Equal(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinic/okta", *partial.SecretArn())
	for _, s := range []any{byName.EncryptionKey(), complete.EncryptionKey(), partial.EncryptionKey()} {
		require.Nil(t, s, "no key given, none imported")
	}
}

func TestACredentialSecretOnItsOwnKeyCanBeDecryptedByTheOktaHandler(t *testing.T) {
	const keyArn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	for name, nameOrArn := range map[string]string{
		"by name":         "clinic/okta",
		"by complete ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinic/okta-AbC123",
		"by partial ARN":  "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinic/okta",
	} {
		t.Run(name, func(t *testing.T) {
			stack := cdktest.NewStack(t)
			key := awskms.Key_FromKeyArn(stack, jsii.String("CredKey"), jsii.String(keyArn))
			secret := stacks.CredentialSecretFromNameOrArn(stack, jsii.String("Cred"), nameOrArn, key)
			require.NotNil(t, secret.EncryptionKey())
			smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), &smarthealthlake.SmartHealthLakeProps{
				OktaOrgUrl:           jsii.String("https://clinic.okta.com"),
				OktaCredentialSecret: secret,
			})
			policies, err := json.Marshal(cdktest.Template(t, stack).FindResources(jsii.String("AWS::IAM::Policy"), nil))
			require.NoError(t, err)
			require.Contains(t, string(policies), keyArn, "kms:Decrypt on the credential secret's key")
			require.Contains(t, string(policies), ":secret:clinic/okta-", "the secret's own ARN")
		})
	}
}
