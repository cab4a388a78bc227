// Package crprovider is the custom resource plumbing that this module's
// constructs share when their Go handlers run behind the CDK Provider framework
// (customresources.Provider): encrypted, retained log groups; execution roles
// without a managed policy; and the framework itself, hardened and with its
// cdk-nag findings excused.
//
// Everything is created directly in the given scope, under the construct ids
// the constructs have always used ("LogKey", "ProviderLogs",
// "ProviderOnEventRole", "ProviderWaiterRole", "Provider"), so logical ids
// don't depend on this package. What only one construct knows (what its
// handlers call, their permissions, their own suppressions) stays in that
// construct.
package crprovider

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/openhealthstack/smart-healthlake/internal/logkey"
	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

// Logs makes the log groups of one custom resource's functions, handlers and
// framework alike: one KMS key, one retention, all retained.
type Logs struct {
	scope     constructs.Construct
	key       awskms.IKey
	retention awslogs.RetentionDays
	groups    []awslogs.ILogGroup
}

// NewLogs uses key, or when it is nil a new log key (construct id "LogKey",
// see logkey.New) described as encrypting the logs of subject's handler.
// subject names what the custom resource manages, as it reads after "for":
// "the SMART HealthLake data store".
func NewLogs(scope constructs.Construct, subject string, key awskms.IKey, retention awslogs.RetentionDays) *Logs {
	if key == nil {
		// The handlers log what they change and the framework logs CloudFormation's
		// events: encrypted with a customer-managed key, as HIPAA asks of logs.
		key = logkey.New(scope, jsii.String("LogKey"), jsii.String("Encrypts the logs of "+subject+" handler"))
	}
	return &Logs{scope: scope, key: key, retention: retention}
}

// Key returns the key of the log groups.
func (l *Logs) Key() awskms.IKey { return l.key }

// NewGroup creates a log group. It is retained: it is the audit trail of what
// the custom resource changed, which must outlive the stack that made the
// changes.
func (l *Logs) NewGroup(id string) awslogs.LogGroup {
	lg := awslogs.NewLogGroup(l.scope, jsii.String(id), &awslogs.LogGroupProps{
		Retention:     l.retention,
		EncryptionKey: l.key,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	l.groups = append(l.groups, lg)
	return lg
}

// Groups returns the log groups in the order they were created.
func (l *Logs) Groups() []awslogs.ILogGroup {
	return append([]awslogs.ILogGroup(nil), l.groups...)
}

// NewRole creates a Lambda execution role that may write logs and nothing
// else: no AWSLambdaBasicExecutionRole, which allows writing to every log group
// of the account (and is cdk-nag's AwsSolutions-IAM4). The caller adds what the
// function calls.
func NewRole(scope constructs.Construct, id, description string, logs awslogs.ILogGroup) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(description),
	})
	logs.GrantWrite(role)
	return role
}

// Props configure New.
type Props struct {
	// Subject names what the custom resource manages, as it reads after "for":
	// "the SMART HealthLake data store". It goes into the framework roles'
	// descriptions.
	Subject string
	// Logs makes the framework's log group, "ProviderLogs".
	Logs *Logs
	// OnEvent is the handler of every request. Required.
	OnEvent awslambda.IFunction
	// IsComplete polls an operation that outlives one invocation; with it the
	// framework adds its waiter state machine. Default: none, onEvent finishes
	// every request.
	IsComplete awslambda.IFunction
	// QueryInterval and TotalTimeout of the isComplete polling, with IsComplete.
	QueryInterval awscdk.Duration
	TotalTimeout  awscdk.Duration
	// Concurrency reserved for each of the framework's functions.
	Concurrency float64
	// Excuses are the construct's reasons for the functions' findings. They
	// hold for the framework's functions too, which only relay CloudFormation's
	// requests to the handlers, and are applied to them. Required.
	Excuses FunctionExcuses
}

// FunctionExcuses are a custom resource's reasons for the cdk-nag findings
// that no function of custom resource machinery can fix; each construct words
// them for what its functions do. Both are required.
type FunctionExcuses struct {
	// NoDLQ excuses HIPAA.Security-LambdaDLQ: every failure is reported to
	// CloudFormation, which fails the deployment, so a dead-letter queue would
	// keep nothing but events with their pre-signed response URLs.
	NoDLQ string
	// NoVPC excuses HIPAA.Security-LambdaInsideVPC: say what the functions
	// call, and that it is no PHI.
	NoVPC string
}

// Apply adds the suppressions to each function (its CloudFormation resource).
func (e FunctionExcuses) Apply(functions ...constructs.IConstruct) {
	if e.NoDLQ == "" || e.NoVPC == "" {
		panic("crprovider.FunctionExcuses: NoDLQ and NoVPC are required")
	}
	for _, fn := range functions {
		// nagexcuse holds the construct's reasons to the module's standard.
		nagexcuse.On(fn, false,
			nagexcuse.Excuse{Rule: "HIPAA.Security-LambdaDLQ", Reason: e.NoDLQ},
			nagexcuse.Excuse{Rule: "HIPAA.Security-LambdaInsideVPC", Reason: e.NoVPC})
	}
}

// Construct ids of the Provider framework's parts, inside the Provider. They
// shape the logical ids of the deployed resources, so aws-cdk-lib keeps them;
// FindChild fails the synthesis if one ever goes.
const (
	onEventFunction    = "framework-onEvent"
	isCompleteFunction = "framework-isComplete"
	onTimeoutFunction  = "framework-onTimeout"
	waiterStateMachine = "waiter-state-machine"
)

// New creates the Provider framework (construct id "Provider") for the
// handlers, with:
//
//   - a log group of its own, "ProviderLogs" (the Provider API takes one for
//     all its functions): without it the framework's Node.js functions log
//     CloudFormation's events, pre-signed response URLs included, to log groups
//     Lambda creates outside the stack, without a key of ours and kept forever;
//   - its own roles, "ProviderOnEventRole" and, with IsComplete,
//     "ProviderWaiterRole" (the Provider API requires them to differ, against a
//     dependency cycle), made by NewRole: they get their log group and what
//     the framework adds itself (invoking the handlers, starting the waiter),
//     instead of the managed policy the Provider would attach;
//   - active X-Ray tracing on its functions (with the trace actions on their
//     roles), which the Provider API does not expose either;
//   - reserved concurrency on its functions, which the Provider API does not
//     expose, set through the functions' CloudFormation resources:
//     CloudFormation invokes onEvent once per request and the waiter calls
//     isComplete and onTimeout one at a time, so a small reservation is
//     plenty, keeps the account's unreserved pool intact and satisfies
//     cdk-nag's HIPAA.Security-LambdaConcurrency;
//   - cdk-nag suppressions, with reasons, for what the framework does and
//     cannot be configured not to do (see suppressNagFindings).
//
// It panics when props lacks Logs, OnEvent or Excuses.
func New(scope constructs.Construct, props *Props) customresources.Provider {
	if props == nil || props.Logs == nil || props.OnEvent == nil || props.Excuses.NoDLQ == "" || props.Excuses.NoVPC == "" {
		panic("crprovider.New: props.Logs, props.OnEvent and props.Excuses are required")
	}
	logs := props.Logs.NewGroup("ProviderLogs")
	onEventRole := NewRole(scope, "ProviderOnEventRole", "Provider framework onEvent for "+props.Subject, logs)
	roles := []awsiam.Role{onEventRole}
	pp := &customresources.ProviderProps{
		OnEventHandler:       props.OnEvent,
		LogGroup:             logs,
		FrameworkOnEventRole: onEventRole,
	}
	functions := []string{onEventFunction}
	if props.IsComplete != nil {
		waiterRole := NewRole(scope, "ProviderWaiterRole", "Provider framework isComplete and onTimeout for "+props.Subject, logs)
		roles = append(roles, waiterRole)
		pp.IsCompleteHandler = props.IsComplete
		pp.QueryInterval = props.QueryInterval
		pp.TotalTimeout = props.TotalTimeout
		pp.FrameworkCompleteAndTimeoutRole = waiterRole
		functions = append(functions, isCompleteFunction, onTimeoutFunction)
	}
	provider := customresources.NewProvider(scope, jsii.String("Provider"), pp)

	var fns []constructs.IConstruct
	for _, id := range functions {
		fn := provider.Node().FindChild(jsii.String(id))
		cfn := fn.Node().DefaultChild().(awslambda.CfnFunction)
		cfn.SetReservedConcurrentExecutions(jsii.Number(props.Concurrency))
		// Active tracing like the handlers it calls, so a deployment's trace
		// shows the framework's hops too (the Provider API has no tracing prop).
		cfn.SetTracingConfig(&awslambda.CfnFunction_TracingConfigProperty{Mode: jsii.String("Active")})
		fns = append(fns, fn)
	}
	for _, r := range roles {
		r.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("xray:PutTraceSegments", "xray:PutTelemetryRecords"),
			Resources: jsii.Strings("*"),
		}))
	}
	suppressNagFindings(provider, props, fns, roles)
	return provider
}

// suppressNagFindings excuses, with reasons, the cdk-nag findings on the
// framework's resources. The reasons are kept in the template's metadata, so
// their wording is part of it.
func suppressNagFindings(provider customresources.Provider, props *Props, functions []constructs.IConstruct, roles []awsiam.Role) {
	props.Excuses.Apply(functions...)

	// CDK's grantInvoke adds "<function ARN>:*" so qualified invocations work;
	// the functions are the construct's own handlers (worded "functions" for a
	// pair, as the deployed templates have it).
	handlers := "handler function"
	if props.IsComplete != nil {
		handlers = "functions"
	}
	versions := nagexcuse.Excuse{
		Rule:      "AwsSolutions-IAM5",
		Reason:    "Added by CDK's grantInvoke for the versions of this construct's own " + handlers + " (<function ARN>:*).",
		AppliesTo: []any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<[A-Za-z0-9]+\.Arn>:\*$/`)}},
	}
	var excused []constructs.IConstruct
	for _, r := range roles {
		excused = append(excused, r)
	}
	var waiter constructs.IConstruct
	if props.IsComplete != nil {
		// Its role invokes the isComplete and onTimeout functions.
		waiter = provider.Node().FindChild(jsii.String(waiterStateMachine))
		excused = append(excused, waiter)
	}
	for _, c := range excused {
		nagexcuse.On(c, true, versions)
	}
	for _, r := range roles {
		nagexcuse.On(r, true, nagexcuse.Excuse{
			Rule: "AwsSolutions-IAM5",
			Reason: "Active X-Ray tracing of the framework's functions: xray:PutTraceSegments and " +
				"xray:PutTelemetryRecords support no resource-level permissions, so the resource is *.",
			AppliesTo: []any{jsii.String("Resource::*")},
		})
	}
	if waiter == nil {
		return
	}
	nagexcuse.On(waiter, false,
		nagexcuse.Excuse{
			Rule: "AwsSolutions-SF1",
			Reason: "The Provider framework's waiter runs one isComplete task in a retry loop; logging ALL events " +
				"would write the CloudFormation event, including its pre-signed response URL, to the logs. The handlers log " +
				"every poll themselves.",
		},
		nagexcuse.Excuse{
			Rule:   "AwsSolutions-SF2",
			Reason: "One Lambda task retried on a fixed interval: X-Ray traces would show nothing the handler logs do not.",
		})
}
