// Command consumer is an example of another team's CDK app that imports this
// module's SmartHealthLake construct instead of forking the repository. It is a
// separate Go module (see go.mod); the root module's tests synthesize it, with
// its Lambdas bundled, as `cdk synth` would.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("ResearchFhir"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("eu-west-1")},
	})

	smart := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), &smarthealthlake.SmartHealthLakeProps{
		OktaOrgUrl:           jsii.String("https://research.okta.com"),
		OktaCredentialSecret: smarthealthlake.CredentialSecretFromNameOrArn(stack, jsii.String("OktaCredential"), "research/okta-management", ""),
		DatastoreName:        jsii.String("research-fhir"),
		// A v1-only data store: the token validator translates v2 scopes down.
		SmartVersion:           smart.V1,
		Validation:             validatorenv.ValidationIntrospection,
		ProvisionedConcurrency: jsii.Number(1),
		ReadOnly:               jsii.Bool(true),
		LogRetention:           awslogs.RetentionDays_TWO_YEARS,
		AuthorizationServer: &oktaauth.SmartAuthorizationServerProps{
			ScopeResources:      jsii.Strings("Patient", "Observation", "Condition"),
			AccessTokenLifetime: awscdk.Duration_Minutes(jsii.Number(15)),
			PublicClient: &oktaauth.PublicClientProps{
				RedirectUris: jsii.Strings("https://research.example.org/callback"),
			},
		},
	})

	// An analytics job reads the FHIR API with SigV4, beside the SMART apps.
	analytics := awsiam.NewRole(stack, jsii.String("Analytics"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
	})
	smart.GrantRead(analytics)

	awscdk.NewCfnOutput(stack, jsii.String("FhirEndpoint"), &awscdk.CfnOutputProps{Value: smart.DatastoreEndpoint()})
	app.Synth(nil)
}
