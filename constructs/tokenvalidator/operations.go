package tokenvalidator

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawslogs"
	"github.com/aws/jsii-runtime-go"
)

// The decision metrics come from CloudWatch Logs metric filters on the
// validator's log group, not from the embedded metric format (EMF):
//
//   - Hot path. The validator already writes one JSON decision line per
//     request (lambda/introspect/idp, about 3 us and 280 bytes of allocation
//     at INFO, BenchmarkDecisionLine). EMF would add an "_aws" block naming
//     the namespace, the dimensions and the metrics to every line: more bytes
//     to encode and ingest, inside HealthLake's 1-second budget, and code in
//     the validator that knows about CloudWatch. A metric filter reads the
//     line as it is.
//   - Cost. Ingestion is billed per GB, so EMF's extra ~150 bytes a line cost
//     on every request; metric filters are free, and both bill the same custom
//     metrics.
//   - Cardinality. Each dimension value is a custom metric, billed monthly.
//     The only dimensions are the outcome (allow, deny) and, on denials, the
//     reason code: a closed set of about 30 strings the code defines
//     (lambda/introspect/idp/reason.go), never request data, far below the
//     1,000 values per hour at which CloudWatch Logs disables a metric filter.
//     The client and user ids are left to the saved Logs Insights queries,
//     where their number costs nothing.
//   - Change. Metrics can be added or corrected by a stack update of the
//     filters, without a new function version.
//
// The price of both is the same: the metrics exist only while the decision
// lines are written, so an application log level of WARN (LogLevel) turns
// the decision metrics off with the lines.
const (
	// Metric filter patterns, in the subset internal/filterpattern evaluates
	// (the construct's tests run them against lines the validator writes).
	decisionPattern  = `{ $.msg = "authorization" }`
	denialPattern    = `{ $.msg = "authorization" && $.decision = "deny" }`
	coldStartPattern = `{ $.type = "platform.report" && $.record.metrics.initDurationMs > 0 }`
)

// Metric names in MetricNamespace.
const (
	MetricNameDecisions    = "Decisions"    // dimension Decision: allow or deny
	MetricNameDenials      = "Denials"      // dimension Reason: the deny reason code
	MetricNameInitDuration = "InitDuration" // ms per cold start; SampleCount counts cold starts
)

// Dimension names of the decision metrics.
const (
	DimensionDecision = "Decision"
	DimensionReason   = "Reason"
)

// Decision is the outcome a decision line records.
type Decision string

// The outcomes.
const (
	DecisionAllow Decision = "allow"
	DecisionDeny  Decision = "deny"
)

var (
	metricNamespace = regexp.MustCompile(`^[A-Za-z0-9.\-_/#: ]{1,255}$`)
	reasonCode      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// operations holds what the metric methods read.
type operations struct {
	namespace string
}

func newOperations(v *TokenValidator, p *TokenValidatorProps) operations {
	ns := "SmartHealthLake/" + *v.Node().Path()
	if p.MetricNamespace != nil {
		ns = *p.MetricNamespace
	}
	filter := func(id, pattern, name, value string, unit awscloudwatch.Unit, dims map[string]*string) {
		props := &awslogs.MetricFilterProps{
			LogGroup:        v.logGroup,
			FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(pattern)),
			MetricNamespace: jsii.String(ns),
			MetricName:      jsii.String(name),
			MetricValue:     jsii.String(value),
			Unit:            unit,
		}
		if dims != nil {
			props.Dimensions = &dims
		}
		awslogs.NewMetricFilter(v, jsii.String(id), props)
	}
	filter("DecisionsFilter", decisionPattern, MetricNameDecisions, "1", awscloudwatch.Unit_COUNT,
		map[string]*string{DimensionDecision: jsii.String("$.decision")})
	filter("DenialsFilter", denialPattern, MetricNameDenials, "1", awscloudwatch.Unit_COUNT,
		map[string]*string{DimensionReason: jsii.String("$.reason")})
	// Lambda's own JSON report line of an invocation that initialized its
	// environment; provisioned environments initialize before any request
	// and report no init duration, so this counts the cold starts requests
	// waited for.
	filter("ColdStartsFilter", coldStartPattern, MetricNameInitDuration, "$.record.metrics.initDurationMs", awscloudwatch.Unit_MILLISECONDS, nil)
	return operations{namespace: ns}
}

// MetricNamespace returns the namespace of the decision and cold-start metrics.
func (v *TokenValidator) MetricNamespace() *string { return jsii.String(v.ops.namespace) }

func (v *TokenValidator) metric(name string, dims map[string]*string, defaultStatistic string, o *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	p := &awscloudwatch.MetricProps{
		Namespace:  jsii.String(v.ops.namespace),
		MetricName: jsii.String(name),
		Statistic:  jsii.String(defaultStatistic),
		Period:     awscdk.Duration_Minutes(jsii.Number(5)),
	}
	if len(dims) > 0 {
		p.DimensionsMap = &dims
	}
	if o != nil {
		if o.Statistic != nil {
			p.Statistic = o.Statistic
		}
		if o.Period != nil {
			p.Period = o.Period
		}
		p.Label, p.Color, p.Unit, p.Account, p.Region = o.Label, o.Color, o.Unit, o.Account, o.Region
	}
	return awscloudwatch.NewMetric(p)
}

// MetricDecisions returns the number of decisions with one outcome, from the
// decision log. Default: Sum over 5 minutes.
func (v *TokenValidator) MetricDecisions(decision Decision, props *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	if decision != DecisionAllow && decision != DecisionDeny {
		panic(fmt.Sprintf("tokenvalidator.MetricDecisions: decision must be DecisionAllow or DecisionDeny, got %q", decision))
	}
	return v.metric(MetricNameDecisions, map[string]*string{DimensionDecision: jsii.String(string(decision))}, "Sum", props)
}

// MetricDenials returns the number of denials for one reason code (see
// lambda/introspect/idp/reason.go: "expired", "audience_mismatch", ...).
// Default: Sum over 5 minutes.
func (v *TokenValidator) MetricDenials(reason string, props *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	if !reasonCode.MatchString(reason) {
		panic(fmt.Sprintf("tokenvalidator.MetricDenials: reason must be a reason code such as \"expired\", got %q", reason))
	}
	return v.metric(MetricNameDenials, map[string]*string{DimensionReason: jsii.String(reason)}, "Sum", props)
}

// MetricDenialRate returns the share of decisions that were denials, in
// percent, or 0 when fewer than DenialRateMinimumDecisions decisions were made
// in the period. Default: 5-minute periods.
func (v *TokenValidator) MetricDenialRate(props *awscloudwatch.MathExpressionOptions) awscloudwatch.MathExpression {
	p := &awscloudwatch.MathExpressionProps{
		Expression: jsii.String(fmt.Sprintf("IF((FILL(allow, 0) + FILL(deny, 0)) >= %v, 100 * FILL(deny, 0) / (FILL(allow, 0) + FILL(deny, 0)), 0)",
			v.denialMinimum)),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"allow": v.MetricDecisions(DecisionAllow, nil),
			"deny":  v.MetricDecisions(DecisionDeny, nil),
		},
		Label:  jsii.String("Denial rate (%)"),
		Period: awscdk.Duration_Minutes(jsii.Number(5)),
	}
	if props != nil {
		if props.Period != nil {
			p.Period = props.Period
		}
		if props.Label != nil {
			p.Label = props.Label
		}
		p.Color = props.Color
	}
	return awscloudwatch.NewMathExpression(p)
}

// MetricDuration returns the duration of the invocations HealthLake makes
// (of the alias with provisioned concurrency). Default: Average over 5 minutes.
func (v *TokenValidator) MetricDuration(props *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return v.IdpFunction().MetricDuration(props)
}

// MetricErrors returns the failed invocations. Default: Sum over 5 minutes.
func (v *TokenValidator) MetricErrors(props *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return v.IdpFunction().MetricErrors(props)
}

// MetricThrottles returns the throttled invocations. Default: Sum over 5 minutes.
func (v *TokenValidator) MetricThrottles(props *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return v.IdpFunction().MetricThrottles(props)
}

// MetricInitDuration returns the init duration of the cold starts requests
// waited for, in ms, from Lambda's report lines; with the SampleCount
// statistic it counts them. Default: Maximum over 5 minutes.
func (v *TokenValidator) MetricInitDuration(props *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return v.metric(MetricNameInitDuration, nil, "Maximum", props)
}

// Query names of the saved Logs Insights queries, after the QueryNamePrefix.
const (
	QueryDenialsByReason      = "Denials by reason"
	QueryDecisionsByClient    = "Decisions by client"
	QueryDecisionsByOperation = "Decisions by operation"
	QuerySlowestRequests      = "Slowest requests"
	QueryColdStarts           = "Cold starts"
)

// QueryNamePrefix returns what the saved queries' names start with: the
// construct's path, so the Logs Insights console shows them in a folder per
// stack and validator.
func (v *TokenValidator) QueryNamePrefix() string { return *v.Node().Path() + "/" }

func (v *TokenValidator) addQueries() {
	groups := &[]interfacesawslogs.ILogGroupRef{v.logGroup}
	add := func(id, name string, q *awslogs.QueryStringProps) {
		awslogs.NewQueryDefinition(v, jsii.String(id), &awslogs.QueryDefinitionProps{
			QueryDefinitionName: jsii.String(v.QueryNamePrefix() + name),
			QueryString:         awslogs.NewQueryString(q),
			LogGroups:           groups,
		})
	}
	decisions := `msg = "authorization"`
	add("DenialsByReasonQuery", QueryDenialsByReason, &awslogs.QueryStringProps{
		FilterStatements: jsii.Strings(decisions, `decision = "deny"`),
		StatsStatements:  jsii.Strings("count(*) as denials by reason"),
		Sort:             jsii.String("denials desc"),
	})
	add("DecisionsByClientQuery", QueryDecisionsByClient, &awslogs.QueryStringProps{
		FilterStatements: jsii.Strings(decisions),
		StatsStatements:  jsii.Strings("count(*) as decisions by client_id, decision, reason"),
		Sort:             jsii.String("decisions desc"),
	})
	add("DecisionsByOperationQuery", QueryDecisionsByOperation, &awslogs.QueryStringProps{
		FilterStatements: jsii.Strings(decisions),
		StatsStatements:  jsii.Strings("count(*) as decisions by operation, decision"),
		Sort:             jsii.String("decisions desc"),
	})
	add("SlowestRequestsQuery", QuerySlowestRequests, &awslogs.QueryStringProps{
		Fields:           jsii.Strings("@timestamp", "duration_us", "decision", "reason", "cached", "operation", "client_id", "request_id"),
		FilterStatements: jsii.Strings(decisions),
		Sort:             jsii.String("duration_us desc"),
		Limit:            jsii.Number(50),
	})
	add("ColdStartsQuery", QueryColdStarts, &awslogs.QueryStringProps{
		Fields:           jsii.Strings("@timestamp", "record.requestId", "record.metrics.initDurationMs", "record.metrics.durationMs"),
		FilterStatements: jsii.Strings(`type = "platform.report"`, "ispresent(record.metrics.initDurationMs)"),
		Sort:             jsii.String("@timestamp desc"),
		Limit:            jsii.Number(100),
	})
}
