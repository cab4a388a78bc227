// Command consumer is an example of another team's CDK app that imports this
// module's SmartHealthLake construct instead of forking the repository. It is a
// separate Go module (see go.mod); the root module's tests synthesize it, with
// its Lambdas bundled, as `cdk synth` would.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/datastore"
	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("ResearchFhir"), &awscdk.StackProps{
		Env: &awscdk.Environment{Region: jsii.String("eu-west-1")},
	})

	lake := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), &smarthealthlake.SmartHealthLakeProps{
		OktaOrgUrl: jsii.String("https://research.okta.com"),
		OktaCredentialSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("OktaCredential"),
			jsii.String("research/okta-management")),
		DatastoreName: jsii.String("research-fhir"),
		// A v1-only data store: the token validator translates v2 scopes down.
		SmartVersion: smart.V1,
		Validation:   validatorenv.ValidationIntrospection,
		// The token validator's options (capacity, timing, logging, alarms).
		TokenValidator: &tokenvalidator.TokenValidatorOptions{
			ProvisionedConcurrency: jsii.Number(1),
			TokenLeeway:            awscdk.Duration_Seconds(jsii.Number(30)),
		},
		ReadOnly:     jsii.Bool(true),
		LogRetention: awslogs.RetentionDays_TWO_YEARS,
		// The Okta server's options; the org, its credential, the SMART version
		// and the introspection client come from the props above.
		AuthorizationServer: &oktaauth.SmartAuthorizationServerOptions{
			ScopeResources:      jsii.Strings("Patient", "Observation", "Condition"),
			AccessTokenLifetime: awscdk.Duration_Minutes(jsii.Number(15)),
			PublicClient: &oktaauth.PublicClientProps{
				RedirectUris: jsii.Strings("https://research.example.org/callback"),
			},
		},
	})

	// An analytics job reads the FHIR API with SigV4, beside the SMART apps:
	// this stack's data store, and the archive another team's stack made
	// (its id from that stack's output).
	analytics := awsiam.NewRole(stack, jsii.String("Analytics"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
	})
	lake.Datastore().GrantRead(analytics)
	archive := datastore.SmartDatastore_FromDatastoreAttributes(stack, jsii.String("Archive"), &datastore.SmartDatastoreAttributes{
		DatastoreId: jsii.String("0123456789abcdef0123456789abcdef"),
	})
	archive.GrantRead(analytics)

	output := func(id string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Value: value})
	}
	output("FhirEndpoint", lake.DatastoreEndpoint())
	output("ArchiveEndpoint", archive.DatastoreEndpoint())
	output("OktaAuthorizationServerId", lake.AuthorizationServer().AuthorizationServerId())
	output("TokenValidatorLogGroup", lake.TokenValidator().LogGroup().LogGroupName())
	output("HealthLakeServiceRoleArn", lake.ServiceRole().RoleArn())
	app.Synth(nil)
}
