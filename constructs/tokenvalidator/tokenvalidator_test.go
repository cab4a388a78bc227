package tokenvalidator_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

const (
	issuer  = "https://acme.okta.com/oauth2/aus1234567890abcdef"
	roleArn = "arn:aws:iam::123456789012:role/healthlake-smart"
)

func role(stack awscdk.Stack) awsiam.IRole {
	return awsiam.Role_FromRoleArn(stack, jsii.String("ServiceRole"), jsii.String(roleArn), &awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)})
}

func minimal(stack awscdk.Stack) *tokenvalidator.TokenValidatorProps {
	return &tokenvalidator.TokenValidatorProps{Issuer: jsii.String(issuer), ServiceRole: role(stack)}
}

func TestTheFunctionIsAnArm64GoFunctionConfiguredByEnvironment(t *testing.T) {
	stack := cdktest.NewStack(t)
	newBound(stack, jsii.String("Idp"), minimal(stack))
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Runtime":                      "provided.al2023",
			"Handler":                      "bootstrap",
			"Architectures":                []string{"arm64"},
			"MemorySize":                   512,
			"Timeout":                      5,
			"ReservedConcurrentExecutions": 100,
			"LoggingConfig":                map[string]any{"LogFormat": "JSON"},
			"Environment": map[string]any{"Variables": map[string]any{
				"SMART_ISSUER":               issuer,
				"HEALTHLAKE_ROLE_ARN":        roleArn,
				validatorenv.EnvSmartVersion: "v2",
				"SMART_VALIDATION":           "jwt",
				"SMART_LEEWAY_SECONDS":       "60",
			}},
		})
	})
	// No introspection secret in jwt mode, and no permission to read one.
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				"SMART_INTROSPECTION_SECRET_ARN": assertions.Match_Absent(),
			}},
		})
	})
	policies, err := json.Marshal(tpl.FindResources(jsii.String("AWS::IAM::Policy"), nil))
	require.NoError(t, err)
	require.NotContains(t, string(policies), "secretsmanager:", "jwt mode reads no secret")
	require.Contains(t, string(policies), "logs:PutLogEvents")
}

func TestHealthLakeMayInvokeOnlyForThisAccountsDatastores(t *testing.T) {
	stack := cdktest.NewStack(t)
	newBound(stack, jsii.String("Idp"), minimal(stack))
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.ResourceCountIs(jsii.String("AWS::Lambda::Permission"), jsii.Number(1))
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"Action":        "lambda:InvokeFunction",
			"Principal":     "healthlake.amazonaws.com",
			"SourceAccount": "123456789012",
			"SourceArn": map[string]any{"Fn::Join": []any{"", []any{
				"arn:", map[string]any{"Ref": "AWS::Partition"}, ":healthlake:us-east-1:123456789012:datastore/fhir/*",
			}}},
			"FunctionName": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^IdpFunction")), "Arn"}},
		})
	})
}

func TestProvisionedConcurrencyPutsHealthLakeOnAWarmAlias(t *testing.T) {
	stack := cdktest.NewStack(t)
	props := minimal(stack)
	props.ProvisionedConcurrency = jsii.Number(3)
	v := newBound(stack, jsii.String("Idp"), props)
	require.NotNil(t, v.Alias())
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Alias"), map[string]any{
			"Name":                         "live",
			"ProvisionedConcurrencyConfig": map[string]any{"ProvisionedConcurrentExecutions": 3},
		})
	})
	// The permission is on the alias, which is what the data store calls.
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), map[string]any{
			"Principal":    "healthlake.amazonaws.com",
			"FunctionName": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^IdpLive"))},
		})
	})
	arn, err := json.Marshal(stack.Resolve(v.IdpLambdaArn()))
	require.NoError(t, err)
	require.Contains(t, string(arn), `"Ref":"IdpLive`, "the data store must be given the alias ARN")
}

func TestLogsAreEncryptedAndRetained(t *testing.T) {
	stack := cdktest.NewStack(t)
	newBound(stack, jsii.String("Idp"), minimal(stack))
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResource(jsii.String("AWS::Logs::LogGroup"), map[string]any{
			"Properties": map[string]any{
				"RetentionInDays": 365,
				"KmsKeyId":        map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^IdpLogKey")), "Arn"}},
			},
			"DeletionPolicy": "Retain",
		})
	})
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
			"EnableKeyRotation": true,
			"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Sid":       "AllowCloudWatchLogs",
				"Principal": map[string]any{"Service": "logs.us-east-1.amazonaws.com"},
			})})},
		})
	})
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"LoggingConfig": map[string]any{"LogGroup": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^IdpLogs"))}},
		})
	})
}

func TestAlarmsWatchErrorsThrottlesP99DurationAndTheDenialRate(t *testing.T) {
	stack := cdktest.NewStack(t)
	props := minimal(stack)
	props.ProvisionedConcurrency = jsii.Number(1)
	v := newBound(stack, jsii.String("Idp"), props)
	require.Len(t, v.Alarms(), 4)
	tpl := cdktest.Template(t, stack)
	for _, c := range []struct {
		metric    string
		statistic string
		threshold float64
	}{{"Errors", "Sum", 0}, {"Throttles", "Sum", 0}} {
		cdktest.Try(t, func() {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
				"MetricName": c.metric, "Statistic": c.statistic, "Threshold": c.threshold,
				"ComparisonOperator": "GreaterThanThreshold",
				// On the alias: the function's unqualified metrics would miss the traffic.
				"Dimensions": assertions.Match_ArrayWith(&[]any{map[string]any{"Name": "Resource", "Value": assertions.Match_AnyValue()}}),
			})
		})
	}
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"MetricName": "Duration", "ExtendedStatistic": "p99", "Threshold": 500,
		})
	})
}

func TestIntrospectionModeMayReadOnlyItsSecret(t *testing.T) {
	stack := cdktest.NewStack(t)
	secret := awssecretsmanager.NewSecret(stack, jsii.String("Introspection"), nil)
	props := minimal(stack)
	props.Validation = validatorenv.ValidationIntrospection
	props.IntrospectionSecret = secret
	props.IntrospectionEndpoint = jsii.String(issuer + "/v1/introspect")
	props.IntrospectionCacheTtl = awscdk.Duration_Seconds(jsii.Number(30))
	props.IntrospectionCallsPerSecond = jsii.Number(4)
	newBound(stack, jsii.String("Idp"), props)
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				"SMART_VALIDATION":                  "introspection",
				"SMART_INTROSPECTION_SECRET_ARN":    map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Introspection"))},
				"SMART_INTROSPECTION_URL":           issuer + "/v1/introspect",
				"SMART_INTROSPECTION_CACHE_SECONDS": "30",
				validatorenv.EnvIntrospectionRate:   "4",
			}},
		})
	})
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Effect":   "Allow",
				"Action":   []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
				"Resource": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Introspection"))},
			}})},
		})
	})
}

func TestAV1DatastoreGetsTranslatedScopes(t *testing.T) {
	stack := cdktest.NewStack(t)
	props := minimal(stack)
	props.SmartVersion = smart.V1
	props.Audiences = jsii.Strings("https://fhir.example.org", "api://smart")
	newBound(stack, jsii.String("Idp"), props)
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				validatorenv.EnvSmartVersion: "v1",
				"SMART_AUDIENCES":            "https://fhir.example.org,api://smart",
			}},
		})
	})
}

func TestBadPropsAreNamed(t *testing.T) {
	cases := map[string]struct {
		edit func(awscdk.Stack, *tokenvalidator.TokenValidatorProps)
		want string
	}{
		"no issuer":      {func(_ awscdk.Stack, p *tokenvalidator.TokenValidatorProps) { p.Issuer = nil }, "props.Issuer is required"},
		"http issuer":    {func(_ awscdk.Stack, p *tokenvalidator.TokenValidatorProps) { p.Issuer = jsii.String("http://x") }, "props.Issuer: must be https (http only on a loopback host)"},
		"no role":        {func(_ awscdk.Stack, p *tokenvalidator.TokenValidatorProps) { p.ServiceRole = nil }, "props.ServiceRole is required"},
		"odd validation": {func(_ awscdk.Stack, p *tokenvalidator.TokenValidatorProps) { p.Validation = "trust" }, `props.Validation: must be "jwt" or "introspection", not "trust" (SMART_VALIDATION)`},
		"introspection alone": {func(_ awscdk.Stack, p *tokenvalidator.TokenValidatorProps) {
			p.Validation = validatorenv.ValidationIntrospection
		}, "props.IntrospectionSecret is required"},
		"odd scope version": {func(_ awscdk.Stack, p *tokenvalidator.TokenValidatorProps) { p.SmartVersion = "v3" }, "props.SmartVersion: must be \"v1\" (SMART_ON_FHIR_V1) or \"v2\""},
		"too much provisioned": {func(_ awscdk.Stack, p *tokenvalidator.TokenValidatorProps) {
			p.ProvisionedConcurrency = jsii.Number(10)
			p.ReservedConcurrentExecutions = jsii.Number(5)
		}, "props.ProvisionedConcurrency (10) must not exceed props.ReservedConcurrentExecutions (5)"},
		"huge leeway": {func(_ awscdk.Stack, p *tokenvalidator.TokenValidatorProps) {
			p.TokenLeeway = awscdk.Duration_Hours(jsii.Number(1))
		},
			`props.TokenLeeway: must be a whole number of seconds from 0 to 300, not "3600" (SMART_LEEWAY_SECONDS)`},
		"fractional leeway": {func(_ awscdk.Stack, p *tokenvalidator.TokenValidatorProps) {
			p.TokenLeeway = awscdk.Duration_Millis(jsii.Number(30500))
		},
			`props.TokenLeeway: must be a whole number of seconds from 0 to 300, not "30.5"`},
		"long introspection cache": {func(s awscdk.Stack, p *tokenvalidator.TokenValidatorProps) {
			introspection(s, p)
			p.IntrospectionCacheTtl = awscdk.Duration_Minutes(jsii.Number(10))
		}, `props.IntrospectionCacheTtl: must be a whole number of seconds from 0 to 300, not "600"`},
		"no introspection calls": {func(s awscdk.Stack, p *tokenvalidator.TokenValidatorProps) {
			introspection(s, p)
			p.IntrospectionCallsPerSecond = jsii.Number(0)
		}, `props.IntrospectionCallsPerSecond: must be a whole number of calls from 1 to 1000, not "0"`},
		"a client standing in for the audience in introspection mode": {func(s awscdk.Stack, p *tokenvalidator.TokenValidatorProps) {
			introspection(s, p)
			p.TokenRules = &tokenvalidator.TokenRules{ClientIds: jsii.Strings("app"), ClientIdsStandInForAudience: jsii.Bool(true)}
		}, "props.TokenRules.ClientIdsStandInForAudience: aud-or-allowed-client applies to JWT validation only"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			stack := cdktest.NewStack(t)
			props := minimal(stack)
			c.edit(stack, props)
			msg := cdktest.Panics(t, func() { newBound(stack, jsii.String("Idp"), props) })
			require.Contains(t, msg, c.want)
		})
	}
}

func TestEhrLaunchTellsTheFunctionToRequireTheLaunchMarker(t *testing.T) {
	for name, c := range map[string]struct {
		ehrLaunch *bool
		want      any
	}{
		"by default the variable is left out (EHR launch off)": {nil, assertions.Match_Absent()},
		"false leaves it out too":                              {jsii.Bool(false), assertions.Match_Absent()},
		"true sets the variable the function reads to true":    {jsii.Bool(true), "true"},
	} {
		t.Run(name, func(t *testing.T) {
			stack := cdktest.NewStack(t)
			p := minimal(stack)
			p.EhrLaunch = c.ehrLaunch
			newBound(stack, jsii.String("Idp"), p)
			tpl := cdktest.Template(t, stack)
			cdktest.Must(t, func() {
				tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
					"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
						"SMART_ISSUER":            issuer,
						validatorenv.EnvEHRLaunch: c.want,
					})},
				})
			})
		})
	}
}

// newBound is NewTokenValidator with its audience bound, as every deployment
// must (TestAnUnboundAudienceFailsSynthesis).
func newBound(scope constructs.Construct, id *string, props *tokenvalidator.TokenValidatorProps) *tokenvalidator.TokenValidator {
	v := tokenvalidator.NewTokenValidator(scope, id, props)
	v.BindAudience(nil)
	return v
}

// introspection switches props to introspection mode with a secret.
func introspection(stack awscdk.Stack, p *tokenvalidator.TokenValidatorProps) {
	p.Validation = validatorenv.ValidationIntrospection
	p.IntrospectionSecret = awssecretsmanager.NewSecret(stack, jsii.String("Introspection"), nil)
}

func TestAnUnboundAudienceFailsSynthesis(t *testing.T) {
	t.Run("a validator never bound fails synthesis saying what to do", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), minimal(stack))
		msg := cdktest.Panics(t, func() { awscdk.Stage_Of(stack).Synth(nil) })
		require.Contains(t, msg, "Idp")
		require.Contains(t, msg, "the tokens' audience is never bound")
		require.Contains(t, msg, "BindAudience")
	})
	t.Run("BindAudience lets it synthesize", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		v := tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), minimal(stack))
		v.BindAudience(nil)
		cdktest.Must(t, func() { awscdk.Stage_Of(stack).Synth(nil) })
	})
	t.Run("an audience set up front is bound", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		p := minimal(stack)
		p.Audiences = jsii.Strings("api://smart")
		tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), p)
		cdktest.Must(t, func() { awscdk.Stage_Of(stack).Synth(nil) })
	})
}

func TestTokenLeewayIsADuration(t *testing.T) {
	env := functionEnv(t, func(p *tokenvalidator.TokenValidatorProps) { p.TokenLeeway = awscdk.Duration_Minutes(jsii.Number(2)) })
	require.Equal(t, "120", env[validatorenv.EnvLeeway])
}

func TestTokenValuesAreLeftToTheFunction(t *testing.T) {
	env := functionEnv(t, func(p *tokenvalidator.TokenValidatorProps) {
		p.Issuer = awscdk.Fn_ImportValue(jsii.String("Issuer")) // not a URL at synthesis
	})
	require.Equal(t, map[string]any{"Fn::ImportValue": "Issuer"}, env[validatorenv.EnvIssuer])
}
