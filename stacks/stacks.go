// Package stacks turns the per-environment configuration in cdk.json into one
// CloudFormation stack per environment (SmartHealthLake-<env>), each holding the
// SmartHealthLake construct and the outputs a person needs after deploying.
package stacks

import (
	"errors"
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
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
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
			// Said in cdk.json's keys, which the composite's props came from.
			var size *smarthealthlake.EhrLaunchEnvironmentError
			if e, isErr := r.(error); isErr && errors.As(e, &size) {
				err = fmt.Errorf("environment %q: %s", env.Name, size.Explain(ehrLaunchNames))
			}
		}
	}()
	return NewSmartHealthLakeStack(app, jsii.String(env.StackName()), env), nil
}

// SmartHealthLakeStack is one environment's stack.
type SmartHealthLakeStack struct {
	awscdk.Stack
	// Environment is the configuration the stack was built from.
	Environment envconfig.Environment
	// SmartHealthLake is the composite construct (construct id "SmartHealthLake").
	SmartHealthLake *smarthealthlake.SmartHealthLake
}

// NewSmartHealthLakeStack builds the stack of one environment, with the
// construct id id (AddEnvironments gives env.StackName(), the stack's name
// too). The stack's name is always env.StackName(): a stack is deployed by
// its name, so a different id does not rename it.
func NewSmartHealthLakeStack(scope constructs.Construct, id *string, env envconfig.Environment) SmartHealthLakeStack {
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
	stack := awscdk.NewStack(scope, id, props)

	// The stack's own tags, under the keys envconfig counts against cdk.json's
	// tag limits (StackTagKeys: Application, then Environment).
	application, environment := envconfig.StackTagKeys[0], envconfig.StackTagKeys[1]
	tags := map[string]string{application: "smart-healthlake", environment: env.Name}
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
		AcknowledgeReplacement:   jsii.Bool(env.Datastore.AcknowledgeReplacement),
		DatastoreTags:            &datastoreTags,
		Validation:               env.TokenValidator.Validation,
		LogRetention:             retentionDays[env.LogRetentionDays],
		LogLevel:                 awslambda.ApplicationLogLevel(env.LogLevel),
		TokenValidator: &tokenvalidator.TokenValidatorOptions{
			ProvisionedConcurrency: jsii.Number(float64(env.TokenValidator.ProvisionedConcurrency)),
			LogLevel:               awslambda.ApplicationLogLevel(env.TokenValidator.LogLevel),
		},
		DashboardName: jsii.String(env.StackName()),
	}
	if env.External != nil {
		shlProps.ExternalAuthorizationServer = externalServer(stack, env.External)
	} else {
		shlProps.AuthorizationServer = authorizationServer(env.Okta)
		shlProps.OktaOrgUrl = jsii.String(env.Okta.OrgURL)
		shlProps.OktaCredentialSecret = CredentialSecretFromNameOrArn(stack, jsii.String("OktaCredential"),
			env.Okta.CredentialSecret, secretKey(stack, "OktaCredential", env.Okta.CredentialSecretKey))
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
		appOutputs(output, env, shl)
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
func authorizationServer(o envconfig.Okta) *oktaauth.SmartAuthorizationServerOptions {
	p := &oktaauth.SmartAuthorizationServerOptions{}
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
	// Only ALL_CLIENTS is passed: the default leaves the property out, as
	// before the key existed.
	if o.PolicyAssignment == oktaprops.PolicyAssignmentAllClients {
		p.PolicyAssignment = o.PolicyAssignment
	}
	if len(o.Apps) > 0 {
		apps := make([]*oktaauth.AppProps, 0, len(o.Apps))
		for _, a := range o.Apps {
			apps = append(apps, appProps(a))
		}
		p.Apps = &apps
	}
	return p
}

// appProps renders one app of cdk.json as construct props.
func appProps(a envconfig.App) *oktaauth.AppProps {
	p := &oktaauth.AppProps{Name: jsii.String(a.Name), Type: a.Type, ApplicationType: a.ApplicationType}
	list := func(v []string) *[]*string {
		if len(v) == 0 {
			return nil
		}
		return jsii.Strings(v...)
	}
	minutes := func(v *int) awscdk.Duration {
		if v == nil {
			return nil
		}
		return awscdk.Duration_Minutes(jsii.Number(float64(*v)))
	}
	p.RedirectUris = list(a.RedirectURIs)
	p.PostLogoutRedirectUris = list(a.PostLogoutRedirectURIs)
	p.Scopes = list(a.Scopes)
	p.GroupIds = list(a.GroupIDs)
	if a.JWKS != "" {
		p.Jwks = jsii.String(a.JWKS)
	}
	p.AccessTokenLifetime = minutes(a.AccessTokenLifetimeMinutes)
	p.RefreshTokenLifetime = minutes(a.RefreshTokenLifetimeMinutes)
	p.RefreshTokenWindow = minutes(a.RefreshTokenWindowMinutes)
	if a.RefreshTokens {
		p.RefreshTokens = jsii.Bool(true)
	}
	return p
}

// appOutputs are each app's client id and, for a confidential app, its
// secret's ARN (never the value), with ids from the app's name only
// (App<Name>ClientId, App<Name>SecretArn), so that adding or removing an app
// leaves the others' outputs as they are.
func appOutputs(output func(id, description string, value *string), env envconfig.Environment, shl *smarthealthlake.SmartHealthLake) {
	server := shl.AuthorizationServer()
	for _, a := range env.Okta.Apps {
		id := "App" + oktaauth.AppIdPart(a.Name)
		output(id+"ClientId", fmt.Sprintf("Okta client id of the %s app %s", a.Type, a.Name), server.AppClientId(a.Name))
		if secret := server.AppClientSecret(a.Name); secret != nil {
			output(id+"SecretArn", fmt.Sprintf("Secrets Manager secret holding the client id and secret of the app %s (the value is never output)", a.Name),
				secret.SecretArn())
		}
	}
}

// stackDescription says which authorization server the stack trusts.
func stackDescription(env envconfig.Environment) string {
	if env.External != nil {
		return fmt.Sprintf("SMART on FHIR HealthLake data store with an external OAuth 2.0 authorization server (%s)", env.Name)
	}
	return fmt.Sprintf("SMART on FHIR HealthLake data store with Okta authorization (%s)", env.Name)
}
