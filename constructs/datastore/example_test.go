package datastore_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/datastore"
	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
)

// The smallest SMART data store: SMART v2, fine-grained authorization, an
// AWS-owned key, retained on delete. idp is the token-validation function (or
// its alias) with HealthLake's invoke permission: here one deployed
// elsewhere, usually tokenvalidator.TokenValidator's IdpFunction().
func ExampleNewSmartDatastore() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Fhir"), nil)
	idp := awslambda.Function_FromFunctionArn(stack, jsii.String("Idp"),
		jsii.String("arn:aws:lambda:us-east-1:123456789012:function:smart-token-validator"))

	ds := datastore.NewSmartDatastore(stack, jsii.String("Datastore"), &datastore.SmartDatastoreProps{
		DatastoreName: jsii.String("patients"),
		Endpoints: &smartconfig.Endpoints{
			Issuer:                jsii.String("https://example.okta.com/oauth2/aus1"),
			JwksUri:               jsii.String("https://example.okta.com/oauth2/aus1/v1/keys"),
			AuthorizationEndpoint: jsii.String("https://example.okta.com/oauth2/aus1/v1/authorize"),
			TokenEndpoint:         jsii.String("https://example.okta.com/oauth2/aus1/v1/token"),
		},
		IdpFunction: idp,
	})

	// A backend that reads with SigV4 instead of SMART tokens.
	reader := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
	})
	ds.GrantRead(reader)
	awscdk.NewCfnOutput(stack, jsii.String("FhirEndpoint"), &awscdk.CfnOutputProps{Value: ds.DatastoreEndpoint()})
	// Output:
}
