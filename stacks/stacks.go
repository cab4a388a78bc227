// Package stacks turns the per-environment configuration in cdk.json into one
// CloudFormation stack per environment (SmartHealthLake-<env>), each holding the
// SmartHealthLake construct and the outputs a person needs after deploying.
package stacks

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
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
		s, err := newStackOrError(app, env)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// newStackOrError turns a construct's validation panic (which names the bad
// prop) into an error naming the environment too, instead of a Go stack trace.
func newStackOrError(app awscdk.App, env envconfig.Environment) (s SmartHealthLakeStack, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("environment %q: %v", env.Name, r)
		}
	}()
	return NewSmartHealthLakeStack(app, env), nil
}

// SmartHealthLakeStack is one environment's stack.
type SmartHealthLakeStack struct {
	awscdk.Stack
	// Environment is the configuration the stack was built from.
	Environment envconfig.Environment
	// SmartHealthLake is the composite construct (construct id "SmartHealthLake").
	SmartHealthLake *smarthealthlake.SmartHealthLake
}

// NewSmartHealthLakeStack builds the stack of one environment.
func NewSmartHealthLakeStack(scope constructs.Construct, env envconfig.Environment) SmartHealthLakeStack {
	props := &awscdk.StackProps{
		StackName:   jsii.String(env.StackName()),
		Description: jsii.String(stackDescription(env)),
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

	tags := map[string]string{"Application": "smart-healthlake", "Environment": env.Name}
	for k, v := range env.Tags {
		tags[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		awscdk.Tags_Of(stack).Add(jsii.String(k), jsii.String(tags[k]), &awscdk.TagProps{
			// Tags on AWS::CloudWatch::Dashboard are recent in CloudFormation
			// (aws-cdk-lib 2.276 renders them; cfn-lint 1.51's schema refuses
			// them, E3002): a dashboard costs nothing to attribute, so it goes
			// untagged rather than risk a region that does not take them yet.
			ExcludeResourceTypes: jsii.Strings("AWS::CloudWatch::Dashboard"),
		})
	}

	removal := awscdk.RemovalPolicy_RETAIN
	if env.Datastore.RemovalPolicy == envconfig.RemovalDestroy && !env.Production {
		removal = awscdk.RemovalPolicy_DESTROY
	}
	datastoreTags := map[string]*string{}
	for k, v := range tags {
		datastoreTags[k] = jsii.String(v)
	}
	shlProps := &smarthealthlake.SmartHealthLakeProps{
		DatastoreName:            jsii.String(env.Datastore.Name),
		SmartVersion:             env.Datastore.SmartVersion,
		FineGrainedAuthorization: jsii.Bool(env.Datastore.FineGrainedAuthorization),
		AwsOwnedKey:              jsii.Bool(env.Datastore.Encryption == envconfig.EncryptionAWSOwned),
		PreloadSynthea:           jsii.Bool(env.Datastore.PreloadSynthea),
		RemovalPolicy:            removal,
		DatastoreTags:            &datastoreTags,
		Validation:               jsii.String(env.TokenValidator.Validation),
		ProvisionedConcurrency:   jsii.Number(float64(env.TokenValidator.ProvisionedConcurrency)),
		LogRetention:             retentionDays[env.LogRetentionDays],
		LogLevel:                 awslambda.ApplicationLogLevel(env.LogLevel),
		TokenValidatorLogLevel:   awslambda.ApplicationLogLevel(env.TokenValidator.LogLevel),
		DashboardName:            jsii.String(env.StackName()),
	}
	if env.External != nil {
		shlProps.ExternalAuthorizationServer = externalServer(stack, env.External)
	} else {
		shlProps.AuthorizationServer = authorizationServer(env.Okta)
		shlProps.OktaOrgUrl = jsii.String(env.Okta.OrgURL)
		shlProps.OktaCredentialSecret = smarthealthlake.CredentialSecretFromNameOrArn(stack, jsii.String("OktaCredential"),
			env.Okta.CredentialSecret, env.Okta.CredentialSecretKey)
		shlProps.EhrLaunch = ehrLaunch(stack, env.EhrLaunch)
	}
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("SmartHealthLake"), shlProps)

	output := func(id, description string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
			Description: jsii.String(description),
			Value:       value,
		})
	}
	output("FhirEndpoint", "FHIR base URL of the HealthLake data store (send SMART bearer tokens here)", shl.DatastoreEndpoint())
	output("SmartConfigurationUrl", "SMART configuration document apps discover the authorization server from", shl.SmartConfigurationUrl())
	output("DatastoreId", "HealthLake data store id", shl.DatastoreId())
	if env.External != nil {
		externalOutputs(output, shl)
	} else {
		oktaOutputs(output, env, shl)
		ehrLaunchOutputs(output, shl)
	}
	output("DashboardUrl", "CloudWatch dashboard of the token validator's decisions, latency and errors", shl.DashboardUrl())
	output("AlarmTopicArn", "SNS topic of the token validator's alarms: subscribe your on-call here", shl.AlarmTopic().TopicArn())
	if secret := shl.ClientSecret(); secret != nil {
		output("ClientSecretArn", "Secrets Manager secret holding the confidential client's secret (the value is never output)", secret.SecretArn())
	}

	return SmartHealthLakeStack{Stack: stack, Environment: env, SmartHealthLake: shl}
}

// oktaOutputs are the Okta server's issuer, endpoints, id and client ids.
func oktaOutputs(output func(id, description string, value *string), env envconfig.Environment, shl *smarthealthlake.SmartHealthLake) {
	output("Issuer", "Okta authorization server issuer (iss of the access tokens)", shl.Issuer())
	output("AuthorizationEndpoint", "Okta authorize endpoint", shl.AuthorizationEndpoint())
	output("TokenEndpoint", "Okta token endpoint", shl.TokenEndpoint())
	output("AuthorizationServerId", "Okta authorization server id", shl.AuthorizationServer().AuthorizationServerId())
	for _, c := range []struct {
		id, description string
		enabled         bool
		value           *string
	}{
		{"ConfidentialClientId", "Okta client id of the confidential web app", len(env.Okta.ConfidentialClientRedirectURIs) > 0, shl.ConfidentialClientId()},
		{"PublicClientId", "Okta client id of the public app", len(env.Okta.PublicClientRedirectURIs) > 0, shl.PublicClientId()},
		{"BackendClientId", "Okta client id of the SMART backend service", env.Okta.BackendClientJWKS != "", shl.BackendClientId()},
	} {
		if c.enabled {
			output(c.id, c.description, c.value)
		}
	}
}

// retentionDays maps the day counts CloudWatch Logs accepts (the only ones
// envconfig lets through) to CDK's names for them.
var retentionDays = map[int]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// authorizationServer renders the Okta settings of cdk.json as construct props;
// unset keys keep the construct's defaults.
func authorizationServer(o envconfig.Okta) *oktaauth.SmartAuthorizationServerProps {
	p := &oktaauth.SmartAuthorizationServerProps{}
	if len(o.ScopeResources) > 0 {
		p.ScopeResources = jsii.Strings(o.ScopeResources...)
	}
	if len(o.UserGroupIDs) > 0 {
		p.UserGroupIds = jsii.Strings(o.UserGroupIDs...)
	}
	if o.AccessTokenLifetimeMinutes > 0 {
		p.AccessTokenLifetime = awscdk.Duration_Minutes(jsii.Number(float64(o.AccessTokenLifetimeMinutes)))
	}
	if len(o.ConfidentialClientRedirectURIs) > 0 {
		p.ConfidentialClient = &oktaauth.ConfidentialClientProps{RedirectUris: jsii.Strings(o.ConfidentialClientRedirectURIs...)}
	}
	if len(o.PublicClientRedirectURIs) > 0 {
		p.PublicClient = &oktaauth.PublicClientProps{RedirectUris: jsii.Strings(o.PublicClientRedirectURIs...)}
	}
	if o.BackendClientJWKS != "" {
		p.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(o.BackendClientJWKS)}
	}
	return p
}

// stackDescription says which authorization server the stack trusts.
func stackDescription(env envconfig.Environment) string {
	if env.External != nil {
		return fmt.Sprintf("SMART on FHIR HealthLake data store with an external OAuth 2.0 authorization server (%s)", env.Name)
	}
	return fmt.Sprintf("SMART on FHIR HealthLake data store with Okta authorization (%s)", env.Name)
}
