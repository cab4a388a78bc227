// Package tokenvalidator provides the Lambda function HealthLake calls on every
// FHIR request to a SMART-enabled data store to validate the bearer token (the
// "identity provider" Lambda), with its log group, concurrency, invoke permission
// and alarms. The function's code is lambda/introspect; the environment it
// renders is contract/validatorenv's, checked with validatorenv.Parse at
// synthesis.
//
// The validator accepts a token whose aud is the data store endpoint of the
// request (or one of props.Audiences). Tokens carry that endpoint only once
// the authorization server's audience is bound to it, which happens after the
// data store exists (oktaauth.SmartAuthorizationServer.BindAudience): call
// BindAudience on the validator then, or synthesis fails.
package tokenvalidator

import (
	"fmt"
	"math"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/golambda"
	"github.com/openhealthstack/smart-healthlake/internal/logkey"
	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

// Entry is the function's main package in this module.
const Entry = "lambda/introspect"

// TokenValidatorOptions are the validator's settings a composite such as
// smarthealthlake.SmartHealthLake passes through unchanged: capacity, timing,
// logging and alarms. TokenValidatorProps adds what the composite wires itself
// (issuer, keys, service role, SMART version, validation mode).
type TokenValidatorOptions struct {
	// Audiences are accepted token audiences besides the data store endpoint of
	// each request. Default: only the data store endpoint.
	Audiences *[]*string
	// IntrospectionCacheTtl is how long an introspection answer is reused (never
	// past the token's exp), in whole seconds up to 5 minutes; zero turns the
	// reuse off. Default: 60 seconds.
	IntrospectionCacheTtl awscdk.Duration
	// IntrospectionCallsPerSecond bounds each container's calls to the
	// introspection endpoint (a token bucket), so a flood of new tokens cannot
	// spend the authorization server's rate limit, which Okta counts per org
	// for all custom authorization servers together. Over it, new tokens are
	// refused (introspection_rate_limited) and cached ones still served. The
	// org-wide worst case is this times the reserved concurrency: set it so
	// that product stays under your org's limit for /v1/introspect.
	// Default: 10.
	IntrospectionCallsPerSecond *float64
	// TokenLeeway is the clock skew allowed on exp, nbf and iat, in whole
	// seconds up to 5 minutes. Default: 60 seconds.
	TokenLeeway awscdk.Duration
	// MemorySize in MB; more memory is more CPU for signature checks. Default: 512.
	MemorySize *float64
	// Timeout of the function. The handler answers within its own sub-second
	// deadline; this only bounds a stuck invocation. Default: 5 seconds.
	Timeout awscdk.Duration
	// ReservedConcurrentExecutions caps the function so a flood of FHIR requests
	// can't starve the account's other functions, and guarantees it capacity.
	// The account's unreserved concurrency must stay >= 100. Default: 100.
	ReservedConcurrentExecutions *float64
	// ProvisionedConcurrency keeps instances initialized behind the alias "live",
	// so cold starts never eat HealthLake's 1-second budget. The data store must
	// then call the alias (IdpFunction). Default: 0 (no alias).
	ProvisionedConcurrency *float64
	// LogLevel is the function's application log level (LoggingConfig), which
	// the function's code honours through AWS_LAMBDA_LOG_LEVEL: at WARN or above
	// the per-request decision lines, and with them the decision metrics and
	// queries, are off. Default: awslambda.ApplicationLogLevel_INFO.
	LogLevel awslambda.ApplicationLogLevel
	// Tracing is the function's X-Ray tracing mode. Active tracing makes
	// Lambda record a segment for the sampled invocations (by default one a
	// second and 5% of the rest) outside the function's process: the function
	// has no X-Ray SDK, and its Go runtime client handles the trace header on
	// every invocation in either mode, so the in-process cost per request is
	// the same (BenchmarkWarmInvokeTraceHeader in lambda/introspect finds no
	// difference above the noise of one loopback round trip). What tracing
	// adds is the X-Ray bill for the sampled traces and the daemon Lambda runs
	// beside the function, neither measurable here. Default:
	// awslambda.Tracing_ACTIVE; PASS_THROUGH saves the X-Ray charges at high
	// request rates.
	Tracing awslambda.Tracing
	// MetricNamespace is the CloudWatch namespace of the decision and
	// cold-start metrics the validator's metric filters publish. Default:
	// "SmartHealthLake/" followed by this construct's path, unique per stack
	// and validator.
	MetricNamespace *string
	// DurationP99Threshold fires DurationP99Alarm when the p99 duration over 5
	// minutes exceeds it. Default: 500 ms, half of HealthLake's 1-second budget.
	DurationP99Threshold awscdk.Duration
	// ErrorsThreshold fires ErrorsAlarm when more invocations than this fail in
	// 5 minutes (a failed invocation is an IdP error for HealthLake: the
	// handler answers bad tokens, it never fails on them). Default: 0.
	ErrorsThreshold *float64
	// DenialRateThresholdPercent fires DenialRateAlarm when more than this
	// share of the decisions in 5 minutes are denials: a client sending tokens
	// for the wrong audience, a changed signing key, an issuer mismatch after a
	// change. Expired tokens that apps then refresh keep the normal rate low.
	// Default: 25.
	DenialRateThresholdPercent *float64
	// DenialRateMinimumDecisions is the number of decisions in 5 minutes
	// below which the denial rate does not alarm, so that one app retrying one
	// bad token at night pages nobody. Default: 20.
	DenialRateMinimumDecisions *float64
}

// TokenValidatorProps configures a TokenValidator.
type TokenValidatorProps struct {
	TokenValidatorOptions
	// Issuer is the exact `iss` of accepted tokens (the Okta authorization
	// server's issuer). Required.
	Issuer *string
	// JwksUri serves the issuer's signing keys.
	// Default: discovered from the issuer's metadata at cold start.
	JwksUri *string
	// ServiceRole is the role HealthLake assumes for authorized requests; its ARN
	// is returned as iamRoleARN. Pass a reference that does not depend on the role
	// resource (servicerole.ServiceRole.RoleArn via awsiam.Role_FromRoleArn) to
	// avoid a dependency cycle. Required.
	ServiceRole awsiam.IRole
	// SmartVersion is the data store's SMART version: with V1, v2 scopes are
	// translated to the v1 scopes that grant no more. Default: smart.V2.
	SmartVersion smart.Version
	// Validation is validatorenv.ValidationJWT or
	// validatorenv.ValidationIntrospection. Default: validatorenv.ValidationJWT.
	Validation validatorenv.Validation
	// IntrospectionEndpoint is the RFC 7662 endpoint.
	// Default: discovered from the issuer's metadata (introspection mode only).
	IntrospectionEndpoint *string
	// IntrospectionSecret holds {"client_id": ..., "client_secret": ...} of the
	// client that may introspect. Required in introspection mode; the function may
	// read it only then.
	IntrospectionSecret awssecretsmanager.ISecret
	// LogRetention of the function's log group. Default: one year.
	LogRetention awslogs.RetentionDays
	// LogEncryptionKey encrypts the log group. Default: a new KMS key.
	LogEncryptionKey awskms.IKey
	// AlarmAction is notified when an alarm fires. Default: none (alarms only).
	AlarmAction awscloudwatch.IAlarmAction
	// TokenRules read the tokens of an authorization server other than the
	// provisioned Okta one (scope claim, client allow-list, audience rule,
	// scope mapping). Default: Okta's and RFC 9068's shapes, aud required.
	TokenRules *TokenRules
	// EhrLaunch says EHR launch (constructs/ehrlaunch) issues the tokens' launch
	// context: a token with the launch scope then has patient context only with
	// the launch hook's marker claim, else its patient/ scopes are dropped
	// (SMART_EHR_LAUNCH). Default: false.
	EhrLaunch *bool
}

// TokenValidator is the token-validation Lambda and what surrounds it.
type TokenValidator struct {
	constructs.Construct
	function awslambda.Function
	alias    awslambda.Alias
	logGroup awslogs.LogGroup
	alarms   []awscloudwatch.Alarm
	ops      operations
	// denialMinimum is DenialRateMinimumDecisions, which MetricDenialRate uses.
	denialMinimum float64
	// audienceBound says BindAudience was called (or props.Audiences set):
	// the tokens' audience is one the validator accepts.
	audienceBound bool
}

// NewTokenValidator creates the function. It panics, naming the prop, on invalid props.
func NewTokenValidator(scope constructs.Construct, id *string, props *TokenValidatorProps) *TokenValidator {
	p := withDefaults(props)
	if err := p.validate(); err != nil {
		panic(fmt.Sprintf("tokenvalidator.NewTokenValidator(%s): %v", *id, err))
	}
	v := &TokenValidator{}
	// _Override makes v itself the jsii object, so it can be passed wherever a
	// construct is expected (Tags_Of, NagSuppressions, a scope).
	constructs.NewConstruct_Override(v, scope, id)
	this := v
	stack := awscdk.Stack_Of(this)

	key := p.LogEncryptionKey
	if key == nil {
		key = logkey.New(this, jsii.String("LogKey"), jsii.String("Encrypts the SMART token validator's logs"))
	}
	v.logGroup = awslogs.NewLogGroup(this, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     p.LogRetention,
		EncryptionKey: key,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	env := p.environment()
	if err := checkEnvironment(env); err != nil {
		panic(fmt.Sprintf("tokenvalidator.NewTokenValidator(%s): %v", *id, err))
	}
	v.audienceBound = p.Audiences != nil && len(*p.Audiences) > 0
	v.Node().AddValidation(&audienceValidation{v})

	v.function = golambda.NewGoFunction(this, jsii.String("Function"), &golambda.GoFunctionProps{
		Entry: jsii.String(Entry),
		Options: &awslambda.FunctionOptions{
			Description:                  jsii.String("Validates SMART on FHIR bearer tokens for HealthLake"),
			MemorySize:                   p.MemorySize,
			Timeout:                      p.Timeout,
			ReservedConcurrentExecutions: p.ReservedConcurrentExecutions,
			Environment:                  &env,
			LogGroup:                     v.logGroup,
			LoggingFormat:                awslambda.LoggingFormat_JSON,
			ApplicationLogLevelV2:        p.LogLevel,
			// platform.report lines (INFO) carry the init duration the
			// cold-start metric filter reads.
			SystemLogLevelV2: awslambda.SystemLogLevel_INFO,
			Tracing:          p.Tracing,
		},
	})
	if p.Validation == validatorenv.ValidationIntrospection {
		p.IntrospectionSecret.GrantRead(v.function, nil)
		// GrantRead lets the key's policy allow the decryption when the stack owns
		// the key; an imported key's policy is not the stack's to change (an
		// external authorization server's client secret), so the function's own
		// policy allows it, through Secrets Manager only.
		if key := p.IntrospectionSecret.EncryptionKey(); key != nil && !*awscdk.Resource_IsOwnedResource(key) {
			v.function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("kms:Decrypt"),
				Resources: &[]*string{key.KeyArn()},
				Conditions: &map[string]any{"StringEquals": map[string]any{
					"kms:ViaService": "secretsmanager." + *stack.Region() + ".amazonaws.com",
				}},
			}))
		}
	}
	nagexcuse.On(v.function, false, []nagexcuse.Excuse{
		{
			Rule: "HIPAA.Security-LambdaDLQ",
			Reason: "HealthLake invokes the token validator synchronously on every FHIR request and reads its answer; " +
				"a dead-letter queue only receives failed asynchronous invocations, so it would never receive anything.",
		},
		{
			Rule: "HIPAA.Security-LambdaInsideVPC",
			Reason: "The token validator only fetches the authorization server's public keys (or calls its " +
				"introspection endpoint) over the internet and never touches the data store; a VPC would need a NAT gateway " +
				"and add cold-start latency against HealthLake's 1-second budget without isolating any PHI.",
		},
	}...)

	if *p.ProvisionedConcurrency > 0 {
		v.alias = awslambda.NewAlias(this, jsii.String("Live"), &awslambda.AliasProps{
			AliasName:                       jsii.String("live"),
			Version:                         v.function.CurrentVersion(),
			ProvisionedConcurrentExecutions: p.ProvisionedConcurrency,
			Description:                     jsii.String("Called by HealthLake; kept warm by provisioned concurrency"),
		})
	}

	// HealthLake invokes the function (or its alias) for data stores of this
	// account and region only.
	v.IdpFunction().AddPermission(jsii.String("HealthLakeInvoke"), &awslambda.Permission{
		Principal:     awsiam.NewServicePrincipal(jsii.String("healthlake.amazonaws.com"), nil),
		Action:        jsii.String("lambda:InvokeFunction"),
		SourceAccount: stack.Account(),
		SourceArn: stack.FormatArn(&awscdk.ArnComponents{
			Service:      jsii.String("healthlake"),
			Resource:     jsii.String("datastore"),
			ResourceName: jsii.String("fhir/*"),
		}),
	})

	v.denialMinimum = *p.DenialRateMinimumDecisions
	v.ops = newOperations(v, &p)
	v.addAlarms(&p)
	v.addQueries()
	return v
}

func (v *TokenValidator) addAlarms(p *TokenValidatorProps) {
	action := p.AlarmAction
	target := v.IdpFunction()
	period := awscdk.Duration_Minutes(jsii.Number(5))
	add := func(id, description string, metric awscloudwatch.IMetric, threshold float64) {
		alarm := awscloudwatch.NewAlarm(v, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(description),
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		if action != nil {
			alarm.AddAlarmAction(action)
		}
		v.alarms = append(v.alarms, alarm)
	}
	p99 := *p.DurationP99Threshold.ToMilliseconds(nil)
	add("ErrorsAlarm", "The SMART token validator failed (HealthLake answers such requests with an IdP error)",
		target.MetricErrors(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}), *p.ErrorsThreshold)
	add("ThrottlesAlarm", "The SMART token validator was throttled (FHIR requests are being refused)",
		target.MetricThrottles(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}), 0)
	add("DurationP99Alarm", fmt.Sprintf("The SMART token validator's p99 duration is above %v ms of HealthLake's 1-second budget", p99),
		target.MetricDuration(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("p99")}), p99)
	if !decisionsLogged(p.LogLevel) {
		// Without decision lines the denial rate has no data, and an alarm on
		// it would stay OK whatever happens: leave it out and say so.
		awscdk.Annotations_Of(v).AddWarningV2(jsii.String("smart-healthlake:denial-rate-alarm-off"), jsii.String(fmt.Sprintf(
			"props.LogLevel is %s: the validator writes no decision lines, so the decision metrics, the denial-rate alarm "+
				"and the decision queries have no data; DenialRateAlarm is not created", p.LogLevel)), nil)
		return
	}
	add("DenialRateAlarm", fmt.Sprintf("More than %v%% of the SMART token validator's decisions are denials (with at least %v decisions in 5 minutes): "+
		"apps are being refused; the Denials by reason query says why", *p.DenialRateThresholdPercent, *p.DenialRateMinimumDecisions),
		v.MetricDenialRate(&awscloudwatch.MathExpressionOptions{Period: period}), *p.DenialRateThresholdPercent)
}

// Function returns the Lambda function.
func (v *TokenValidator) Function() awslambda.Function { return v.function }

// Alias returns the provisioned-concurrency alias, or nil when there is none.
func (v *TokenValidator) Alias() awslambda.Alias { return v.alias }

// IdpFunction returns what HealthLake must call: the alias when provisioned
// concurrency is on (so the warm instances serve the requests), else the function.
func (v *TokenValidator) IdpFunction() awslambda.IFunction {
	if v.alias != nil {
		return v.alias
	}
	return v.function
}

// IdpLambdaArn returns the ARN for the data store's IdpLambdaArn (qualified with
// the alias when there is one).
func (v *TokenValidator) IdpLambdaArn() *string { return v.IdpFunction().FunctionArn() }

// LogGroup returns the function's log group.
func (v *TokenValidator) LogGroup() awslogs.ILogGroup { return v.logGroup }

// Alarms returns the errors, throttles, p99-duration and denial-rate alarms.
func (v *TokenValidator) Alarms() []awscloudwatch.Alarm { return v.alarms }

func withDefaults(in *TokenValidatorProps) TokenValidatorProps {
	var p TokenValidatorProps
	if in != nil {
		p = *in
	}
	if p.SmartVersion == "" {
		p.SmartVersion = smart.V2
	}
	if p.Validation == "" {
		p.Validation = validatorenv.ValidationJWT
	}
	if p.IntrospectionCacheTtl == nil {
		p.IntrospectionCacheTtl = awscdk.Duration_Seconds(jsii.Number(validatorenv.DefaultIntrospectionCacheTTL.Seconds()))
	}
	if p.TokenLeeway == nil {
		p.TokenLeeway = awscdk.Duration_Seconds(jsii.Number(validatorenv.DefaultLeeway.Seconds()))
	}
	if p.MemorySize == nil {
		p.MemorySize = jsii.Number(512)
	}
	if p.Timeout == nil {
		p.Timeout = awscdk.Duration_Seconds(jsii.Number(5))
	}
	if p.ReservedConcurrentExecutions == nil {
		p.ReservedConcurrentExecutions = jsii.Number(100)
	}
	if p.ProvisionedConcurrency == nil {
		p.ProvisionedConcurrency = jsii.Number(0)
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_YEAR
	}
	if p.LogLevel == "" {
		p.LogLevel = awslambda.ApplicationLogLevel_INFO
	}
	if p.Tracing == "" {
		p.Tracing = awslambda.Tracing_ACTIVE
	}
	if p.DurationP99Threshold == nil {
		p.DurationP99Threshold = awscdk.Duration_Millis(jsii.Number(500))
	}
	if p.ErrorsThreshold == nil {
		p.ErrorsThreshold = jsii.Number(0)
	}
	if p.DenialRateThresholdPercent == nil {
		p.DenialRateThresholdPercent = jsii.Number(25)
	}
	if p.DenialRateMinimumDecisions == nil {
		p.DenialRateMinimumDecisions = jsii.Number(20)
	}
	return p
}

func (p TokenValidatorProps) validate() error {
	var errs []string
	// What the environment cannot show (a missing object, a list's
	// separators) is checked here; the values it holds by checkEnvironment.
	if p.Issuer == nil || *p.Issuer == "" {
		errs = append(errs, "props.Issuer is required")
	}
	if p.ServiceRole == nil {
		errs = append(errs, "props.ServiceRole is required")
	}
	if p.Validation == validatorenv.ValidationIntrospection && p.IntrospectionSecret == nil {
		errs = append(errs, "props.IntrospectionSecret is required when props.Validation is introspection")
	}
	if *p.ProvisionedConcurrency < 0 {
		errs = append(errs, "props.ProvisionedConcurrency must not be negative")
	}
	if *p.ReservedConcurrentExecutions < 1 {
		errs = append(errs, "props.ReservedConcurrentExecutions must be at least 1")
	} else if *p.ProvisionedConcurrency > *p.ReservedConcurrentExecutions {
		errs = append(errs, fmt.Sprintf("props.ProvisionedConcurrency (%v) must not exceed props.ReservedConcurrentExecutions (%v)",
			*p.ProvisionedConcurrency, *p.ReservedConcurrentExecutions))
	}
	errs = append(errs, p.TokenRules.problems()...)
	if t := *p.DenialRateThresholdPercent; t <= 0 || t >= 100 {
		errs = append(errs, fmt.Sprintf("props.DenialRateThresholdPercent must be above 0 and below 100, got %v", t))
	}
	if m := *p.DenialRateMinimumDecisions; m < 1 || m != math.Trunc(m) {
		errs = append(errs, fmt.Sprintf("props.DenialRateMinimumDecisions must be a whole number of at least 1, got %v", m))
	}
	if e := *p.ErrorsThreshold; e < 0 {
		errs = append(errs, fmt.Sprintf("props.ErrorsThreshold must not be negative, got %v", e))
	}
	if !*awscdk.Token_IsUnresolved(p.DurationP99Threshold.ToString()) {
		if ms := *p.DurationP99Threshold.ToMilliseconds(nil); ms <= 0 || ms >= 1000 {
			errs = append(errs, fmt.Sprintf("props.DurationP99Threshold must be above 0 and below HealthLake's 1-second budget, got %v ms", ms))
		}
	}
	if p.MetricNamespace != nil && !*awscdk.Token_IsUnresolved(p.MetricNamespace) && (!metricNamespace.MatchString(*p.MetricNamespace) || strings.HasPrefix(*p.MetricNamespace, "AWS/")) {
		errs = append(errs, fmt.Sprintf("props.MetricNamespace must be 1-255 letters, digits or . - _ / # : and spaces, not starting with AWS/, got %q", *p.MetricNamespace))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// decisionsLogged reports whether the validator writes its per-request
// decision lines (at INFO) at this application log level.
func decisionsLogged(level awslambda.ApplicationLogLevel) bool {
	switch level {
	case awslambda.ApplicationLogLevel_WARN, awslambda.ApplicationLogLevel_ERROR, awslambda.ApplicationLogLevel_FATAL:
		return false
	}
	return true
}
