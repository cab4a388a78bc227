package smarthealthlake

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// The Okta construct renders TokenHookUrl and TokenHookSecret itself (its
// InlineHook); here the composite is shown to hand it the EHR launch API's.
func TestTheOktaServerGetsTheLaunchHookAndTheCallback(t *testing.T) {
	stack := cdktest.NewStackIn(cdktest.NewApp(t, nil), "Clinic")
	own := jsii.Strings("https://app.clinic.example/callback")
	server := &oktaauth.SmartAuthorizationServerOptions{ConfidentialClient: &oktaauth.ConfidentialClientProps{RedirectUris: own}}
	shl := NewSmartHealthLake(stack, jsii.String("Smart"), &SmartHealthLakeProps{
		OktaOrgUrl:           jsii.String("https://clinic.okta.com"),
		OktaCredentialSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Cred"), jsii.String("clinic/okta")),
		AuthorizationServer:  server,
		EhrLaunch: &EhrLaunchOptions{EhrRoles: &[]awsiam.IRole{
			awsiam.Role_FromRoleArn(stack, jsii.String("Ehr"), jsii.String("arn:aws:iam::123456789012:role/ehr"), nil)}},
	})
	got := withEhrLaunch(*server, []EhrLaunchApp{EhrLaunchConfidentialApp}, shl.ehr)
	resolve := func(v any) any { return cdktest.Resolved(t, awscdk.Stack_Of(shl), v) }
	require.Equal(t, resolve(shl.ehr.HookUrl()), resolve(got.TokenHookUrl))
	require.Equal(t, resolve(shl.ehr.HookSecret().SecretArn()), resolve(got.TokenHookSecret.SecretArn()))
	require.Equal(t, resolve(shl.ehr.CallbackUrl()), resolve((*got.ConfidentialClient.RedirectUris)[1]))
	require.Len(t, *own, 1, "the caller's redirect URIs are left as they were")
	require.Nil(t, server.TokenHookUrl, "and so are its props")
}
