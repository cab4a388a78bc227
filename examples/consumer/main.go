// Command consumer is an example of another team's CDK app that imports this
// module's constructs instead of forking it. It is a separate Go module (see
// go.mod); the root module's tests synthesize it.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/stacks"
	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	stacks.NewSmartHealthLakeStack(app, envconfig.Environment{
		Name:   "research",
		Region: "eu-west-1",
		Okta: envconfig.Okta{
			OrgURL:           "https://research.okta.com",
			CredentialSecret: "research/okta-management",
		},
		Datastore: envconfig.Datastore{
			Name:                     "research-fhir",
			SmartVersion:             smartconfig.V1,
			FineGrainedAuthorization: true,
			Encryption:               envconfig.EncryptionCustomerManaged,
			RemovalPolicy:            envconfig.RemovalRetain,
		},
		TokenValidator:   envconfig.TokenValidator{ProvisionedConcurrency: 1, Validation: envconfig.ValidationJWT},
		LogRetentionDays: 90,
		Tags:             map[string]string{"Team": "research"},
	})
	app.Synth(nil)
}
