package tokenvalidator_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

func TestAlarmThresholdsAreProps(t *testing.T) {
	stack := cdktest.NewStack(t)
	props := minimal(stack)
	props.DurationP99Threshold = awscdk.Duration_Millis(jsii.Number(300))
	props.ErrorsThreshold = jsii.Number(5)
	props.DenialRateThresholdPercent = jsii.Number(40)
	props.DenialRateMinimumDecisions = jsii.Number(100)
	v := newBound(stack, jsii.String("Idp"), props)
	require.Len(t, v.Alarms(), 4)
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{"MetricName": "Duration", "ExtendedStatistic": "p99", "Threshold": 300})
	})
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{"MetricName": "Errors", "Threshold": 5})
	})
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
			"Threshold": 40,
			"Metrics": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Expression": assertions.Match_StringLikeRegexp(jsii.String(`^IF\(\(FILL\(allow, 0\) \+ FILL\(deny, 0\)\) >= 100, 100 \* FILL\(deny, 0\)`)),
			})}),
		})
	})
}

func TestTheDenialRateAlarmJoinsTheOthersOnTheAlarmAction(t *testing.T) {
	stack := cdktest.NewStack(t)
	newBound(stack, jsii.String("Idp"), minimal(stack))
	tpl := cdktest.Template(t, stack)
	alarms := cdktest.OfType(cdktest.Resources(t, tpl), "AWS::CloudWatch::Alarm")
	require.Len(t, alarms, 4)
	var rate map[string]any
	for _, a := range alarms {
		if _, ok := a.Properties["Metrics"]; ok {
			rate = a.Properties
		}
	}
	require.NotNil(t, rate, "the denial-rate alarm is a metric-math alarm")
	assert.EqualValues(t, 25, rate["Threshold"], "default: 25%")
	assert.Equal(t, "GreaterThanThreshold", rate["ComparisonOperator"])
	assert.Equal(t, "notBreaching", rate["TreatMissingData"])
	byID := map[string]map[string]any{}
	for _, m := range cdktest.AsList(rate["Metrics"]) {
		m := m.(map[string]any)
		byID[m["Id"].(string)] = m
	}
	require.Contains(t, byID, "allow")
	require.Contains(t, byID, "deny")
	assert.Contains(t, byID["expr_1"]["Expression"], ">= 20,", "default: at least 20 decisions")
	for id, want := range map[string]string{"allow": "allow", "deny": "deny"} {
		stat := byID[id]["MetricStat"].(map[string]any)
		metric := stat["Metric"].(map[string]any)
		assert.Equal(t, "Decisions", metric["MetricName"])
		assert.Equal(t, "SmartHealthLake/S/Idp", metric["Namespace"])
		assert.Equal(t, []any{map[string]any{"Name": "Decision", "Value": want}}, metric["Dimensions"])
		assert.Equal(t, "Sum", stat["Stat"])
		assert.EqualValues(t, 300, stat["Period"])
	}
}

func TestAtWARNTheDenialRateAlarmIsLeftOutWithAWarning(t *testing.T) {
	// At WARN and above the validator writes no decision lines: an alarm on the
	// denial rate would have no data and stay OK through any outage.
	for _, level := range []awslambda.ApplicationLogLevel{awslambda.ApplicationLogLevel_WARN, awslambda.ApplicationLogLevel_ERROR} {
		t.Run(string(level), func(t *testing.T) {
			stack := cdktest.NewStack(t)
			props := minimal(stack)
			props.LogLevel = level
			newBound(stack, jsii.String("Idp"), props)
			tpl := cdktest.Template(t, stack)
			alarms := cdktest.OfType(cdktest.Resources(t, tpl), "AWS::CloudWatch::Alarm")
			assert.Len(t, alarms, 3, "errors, throttles and duration come from Lambda's own metrics and stay")
			for id, a := range alarms {
				assert.NotContains(t, a.Properties, "Metrics", "%s: no metric-math denial-rate alarm", id)
			}
			warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("DenialRateAlarm is not created")))
			assert.Len(t, *warnings, 1)
		})
	}
}

func TestAlarmActionsReachEveryAlarm(t *testing.T) {
	stack := cdktest.NewStack(t)
	props := minimal(stack)
	props.AlarmAction = awscloudwatchactions.NewSnsAction(awssns.Topic_FromTopicArn(stack, jsii.String("OnCall"), jsii.String("arn:aws:sns:us-east-1:123456789012:oncall")))
	newBound(stack, jsii.String("Idp"), props)
	tpl := cdktest.Template(t, stack)
	alarms := cdktest.OfType(cdktest.Resources(t, tpl), "AWS::CloudWatch::Alarm")
	require.Len(t, alarms, 4)
	for id, a := range alarms {
		assert.Equal(t, []any{"arn:aws:sns:us-east-1:123456789012:oncall"}, a.Properties["AlarmActions"], id)
	}
}

func TestTheSavedQueriesReadTheValidatorsLogGroup(t *testing.T) {
	stack := cdktest.NewStack(t)
	v := newBound(stack, jsii.String("Idp"), minimal(stack))
	tpl := cdktest.Template(t, stack)
	logGroup := cdktest.LogicalID(t, v.LogGroup())
	queries := map[string]string{}
	for _, q := range cdktest.OfType(cdktest.Resources(t, tpl), "AWS::Logs::QueryDefinition") {
		assert.Equal(t, []any{cdktest.Ref(logGroup)}, q.Properties["LogGroupNames"])
		queries[q.Properties["Name"].(string)] = q.Properties["QueryString"].(string)
	}
	prefix := "S/Idp/"
	require.Equal(t, prefix, v.QueryNamePrefix())
	for name, want := range map[string][]string{
		tokenvalidator.QueryDenialsByReason:      {`filter msg = "authorization"`, `filter decision = "deny"`, "stats count(*) as denials by reason", "sort denials desc"},
		tokenvalidator.QueryDecisionsByClient:    {"stats count(*) as decisions by client_id, decision, reason"},
		tokenvalidator.QueryDecisionsByOperation: {"stats count(*) as decisions by operation, decision"},
		tokenvalidator.QuerySlowestRequests:      {"sort duration_us desc", "limit 50", "client_id", "request_id"},
		tokenvalidator.QueryColdStarts:           {`filter type = "platform.report"`, "ispresent(record.metrics.initDurationMs)"},
	} {
		q, ok := queries[prefix+name]
		if assert.True(t, ok, "query %q", name) {
			for _, w := range want {
				assert.Contains(t, q, w, name)
			}
		}
	}
	assert.Len(t, queries, 5)
}

func TestLoggingConfigAndTracing(t *testing.T) {
	t.Run("by default: JSON, INFO and active tracing", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		newBound(stack, jsii.String("Idp"), minimal(stack))
		tpl := cdktest.Template(t, stack)
		cdktest.Try(t, func() {
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"LoggingConfig": map[string]any{"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"},
				"TracingConfig": map[string]any{"Mode": "Active"},
			})
		})
		cdktest.Try(t, func() {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
				"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Action": []any{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, "Resource": "*",
				})})},
			})
		})
	})
	t.Run("a level and a tracing mode of one's own", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		props := minimal(stack)
		props.LogLevel = awslambda.ApplicationLogLevel_WARN
		props.Tracing = awslambda.Tracing_PASS_THROUGH
		newBound(stack, jsii.String("Idp"), props)
		tpl := cdktest.Template(t, stack)
		cdktest.Try(t, func() {
			tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
				"LoggingConfig": map[string]any{"LogFormat": "JSON", "ApplicationLogLevel": "WARN"},
				"TracingConfig": map[string]any{"Mode": "PassThrough"},
			})
		})
	})
}

func TestBadOperationsPropsAreNamed(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*tokenvalidator.TokenValidatorProps)
		want string
	}{
		"a rate of 100%":         {func(p *tokenvalidator.TokenValidatorProps) { p.DenialRateThresholdPercent = jsii.Number(100) }, "props.DenialRateThresholdPercent"},
		"no minimum":             {func(p *tokenvalidator.TokenValidatorProps) { p.DenialRateMinimumDecisions = jsii.Number(0) }, "props.DenialRateMinimumDecisions"},
		"a negative error count": {func(p *tokenvalidator.TokenValidatorProps) { p.ErrorsThreshold = jsii.Number(-1) }, "props.ErrorsThreshold"},
		"a p99 beyond the budget": {func(p *tokenvalidator.TokenValidatorProps) {
			p.DurationP99Threshold = awscdk.Duration_Seconds(jsii.Number(2))
		},
			"props.DurationP99Threshold must be above 0 and below HealthLake's 1-second budget, got 2000 ms"},
		"a namespace with odd characters": {func(p *tokenvalidator.TokenValidatorProps) { p.MetricNamespace = jsii.String("a$b") }, "props.MetricNamespace"},
		"an AWS namespace":                {func(p *tokenvalidator.TokenValidatorProps) { p.MetricNamespace = jsii.String("AWS/Lambda") }, "props.MetricNamespace"},
	} {
		t.Run(name, func(t *testing.T) {
			stack := cdktest.NewStack(t)
			props := minimal(stack)
			c.edit(props)
			msg := cdktest.Panics(t, func() { newBound(stack, jsii.String("Idp"), props) })
			assert.Contains(t, msg, c.want)
		})
	}
	t.Run("an unknown reason code", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		v := newBound(stack, jsii.String("Idp"), minimal(stack))
		msg := cdktest.Panics(t, func() { v.MetricDenials("Expired Token", nil) })
		assert.Contains(t, msg, "reason must be a reason code")
	})
}

func TestAMetricNamespaceOfOnesOwnReachesFiltersAlarmsAndMetrics(t *testing.T) {
	stack := cdktest.NewStack(t)
	props := minimal(stack)
	props.MetricNamespace = jsii.String("Clinic/SMART")
	v := newBound(stack, jsii.String("Idp"), props)
	tpl := cdktest.Template(t, stack)
	filters := cdktest.OfType(cdktest.Resources(t, tpl), "AWS::Logs::MetricFilter")
	require.Len(t, filters, 3)
	for id, f := range filters {
		tr := cdktest.AsList(f.Properties["MetricTransformations"])[0].(map[string]any)
		require.Equal(t, "Clinic/SMART", tr["MetricNamespace"], id)
	}
	require.Equal(t, "Clinic/SMART", *v.MetricDenials("expired", nil).Namespace())
	require.Equal(t, "Clinic/SMART", *v.MetricDecisions(tokenvalidator.DecisionAllow, nil).Namespace())
}
