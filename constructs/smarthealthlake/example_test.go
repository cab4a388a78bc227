package smarthealthlake_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// Okta as the authorization server, with a web app and shorter-lived
// tokens: AuthorizationServer takes the Okta server's options (the org, its
// credential and the SMART version are the composite's own props). The parts
// are there for what the composite does not wire: the analytics role reads
// the FHIR data with SigV4, and the validator's function and the service role
// are the parts' own.
func ExampleNewSmartHealthLake() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Fhir"), nil)
	lake := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), &smarthealthlake.SmartHealthLakeProps{
		OktaOrgUrl:           jsii.String("https://example.okta.com"),
		OktaCredentialSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Okta"), jsii.String("smart/okta")),
		AuthorizationServer: &oktaauth.SmartAuthorizationServerOptions{
			ScopeResources:      jsii.Strings("Patient", "Observation"),
			AccessTokenLifetime: awscdk.Duration_Minutes(jsii.Number(15)),
			ConfidentialClient: &oktaauth.ConfidentialClientProps{
				RedirectUris: jsii.Strings("https://app.example.com/callback"),
			},
		},
	})

	analytics := awsiam.NewRole(stack, jsii.String("Analytics"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
	})
	lake.Datastore().GrantRead(analytics) // the same as lake.GrantRead(analytics)

	awscdk.NewCfnOutput(stack, jsii.String("ValidatorFunction"), &awscdk.CfnOutputProps{
		Value: lake.TokenValidator().Function().FunctionName(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("ServiceRoleArn"), &awscdk.CfnOutputProps{Value: lake.ServiceRole().RoleArn()})
	awscdk.NewCfnOutput(stack, jsii.String("OktaServerId"), &awscdk.CfnOutputProps{
		Value: lake.AuthorizationServer().AuthorizationServerId(), // nil AuthorizationServer() with an external server
	})
	// Output:
}

// An Amazon Cognito user pool as the authorization server: nothing is made in
// Okta; Cognito's access tokens carry no aud, so the listed app client stands
// in for it (explicitly: never by default).
func ExampleNewSmartHealthLake_externalAuthorizationServer() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Fhir"), nil)
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), &smarthealthlake.SmartHealthLakeProps{
		ExternalAuthorizationServer: &smarthealthlake.ExternalAuthorizationServer{
			Issuer:                jsii.String("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123"),
			AuthorizationEndpoint: jsii.String("https://smart.auth.us-east-1.amazoncognito.com/oauth2/authorize"),
			TokenEndpoint:         jsii.String("https://smart.auth.us-east-1.amazoncognito.com/oauth2/token"),
			JwksUri:               jsii.String("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123/.well-known/jwks.json"),
			ScopesSupported:       jsii.Strings("openid", "launch/patient", "patient/*.read"),
			Support:               &smart.Support{PublicClients: true, OpenIDConnect: true},
			TokenRules: &tokenvalidator.TokenRules{
				ScopeClaim:                  jsii.String("scope"),
				ClientIds:                   jsii.Strings("1example23456789"),
				ClientIdsStandInForAudience: jsii.Bool(true),
			},
		},
	})
	// Output:
}
