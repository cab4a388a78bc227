// Package stacks turns the per-environment configuration in cdk.json into one
// CloudFormation stack per environment (SmartHealthLake-<env>).
package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

// AddEnvironments reads the environments from the app's context and adds a stack
// for each, or for the one named by `-c env=<name>`. A configuration error names
// the environment and the key; nothing is added then.
func AddEnvironments(app awscdk.App) ([]SmartHealthLakeStack, error) {
	envs, err := envconfig.Parse(app.Node().TryGetContext(jsii.String(envconfig.ContextKey)))
	if err != nil {
		return nil, err
	}
	envs, err = envconfig.Select(envs, app.Node().TryGetContext(jsii.String(envconfig.SelectKey)))
	if err != nil {
		return nil, err
	}
	out := make([]SmartHealthLakeStack, 0, len(envs))
	for _, env := range envs {
		out = append(out, NewSmartHealthLakeStack(app, env))
	}
	return out, nil
}

// SmartHealthLakeStack is one environment's stack.
type SmartHealthLakeStack struct {
	awscdk.Stack
	// Environment is the configuration the stack was built from.
	Environment envconfig.Environment
	// DataKey is the customer-managed KMS key of the data store, or nil when the
	// environment uses an AWS-owned key.
	DataKey awskms.IKey
}

// NewSmartHealthLakeStack builds the stack of one environment.
func NewSmartHealthLakeStack(scope constructs.Construct, env envconfig.Environment) SmartHealthLakeStack {
	props := &awscdk.StackProps{
		StackName:   jsii.String(env.StackName()),
		Description: jsii.String(fmt.Sprintf("SMART on FHIR HealthLake data store with Okta authorization (%s)", env.Name)),
		// Production stacks can't be deleted by accident; with the data store's
		// retain policy this is the second lock on patients' records.
		TerminationProtection: jsii.Bool(env.Production),
	}
	if env.Account != "" || env.Region != "" {
		props.Env = &awscdk.Environment{}
		if env.Account != "" {
			props.Env.Account = jsii.String(env.Account)
		}
		if env.Region != "" {
			props.Env.Region = jsii.String(env.Region)
		}
	}
	stack := awscdk.NewStack(scope, jsii.String(env.StackName()), props)

	tags := awscdk.Tags_Of(stack)
	tags.Add(jsii.String("Application"), jsii.String("smart-healthlake"), nil)
	tags.Add(jsii.String("Environment"), jsii.String(env.Name), nil)
	for k, v := range env.Tags {
		tags.Add(jsii.String(k), jsii.String(v), nil)
	}

	s := SmartHealthLakeStack{Stack: stack, Environment: env}
	if env.Datastore.Encryption == envconfig.EncryptionCustomerManaged {
		s.DataKey = awskms.NewKey(stack, jsii.String("DataKey"), &awskms.KeyProps{
			Description:       jsii.String(fmt.Sprintf("Encrypts the SMART HealthLake data store and logs (%s)", env.Name)),
			EnableKeyRotation: jsii.Bool(true),
			// A deleted key makes the data it encrypted unreadable: keep it even when
			// the stack goes.
			RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		})
	}

	// TODO(#5): the Okta SMART authorization server custom resource.
	// TODO(#3): the token-validation Lambda HealthLake calls on every request.
	// TODO(#4): the HealthLake service role and the SMART data store custom resource.
	// TODO(#6): the composite construct wiring them, and the stack outputs.
	return s
}
