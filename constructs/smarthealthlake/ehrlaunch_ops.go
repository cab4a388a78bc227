package smarthealthlake

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/jsii-runtime-go"
)

// Dashboard widget titles of the EHR launch row (only with EhrLaunch).
const (
	WidgetEhrLaunchInvocations = "EHR launch invocations and errors"
	WidgetEhrLaunchDuration    = "EHR launch duration (ms)"
	WidgetEhrLaunchApiErrors   = "EHR launch API 4xx and 5xx"
)

// ehrLaunchPeriod is the alarms' period.
const ehrLaunchPeriod = 5 // minutes

// ehrLaunchRow is the dashboard row of the EHR launch function and its REST
// API: is the sign-in path being used, failing, slow (Okta's hook timeout is
// 3 s), and what API Gateway answered.
func (s *SmartHealthLake) ehrLaunchRow(graph func(string, float64, []awscloudwatch.IMetric, []awscloudwatch.IMetric) awscloudwatch.IWidget) []awscloudwatch.IWidget {
	fn, api := s.ehr.Function(), s.ehr.Api()
	minute := awscdk.Duration_Minutes(jsii.Number(dashboardDecisionPeriod))
	opts := func(stat, label string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String(stat), Label: jsii.String(label)}
	}
	return []awscloudwatch.IWidget{
		graph(WidgetEhrLaunchInvocations, dashboardThirdWidth,
			[]awscloudwatch.IMetric{fn.MetricInvocations(opts("Sum", "invocations"))},
			[]awscloudwatch.IMetric{fn.MetricErrors(opts("Sum", "errors"))}),
		graph(WidgetEhrLaunchDuration, dashboardThirdWidth, []awscloudwatch.IMetric{
			fn.MetricDuration(opts("p50", "p50")), fn.MetricDuration(opts("p99", "p99")), fn.MetricDuration(opts("Maximum", "max")),
		}, nil),
		graph(WidgetEhrLaunchApiErrors, dashboardThirdWidth, []awscloudwatch.IMetric{
			api.MetricClientError(opts("Sum", "4xx")), api.MetricServerError(opts("Sum", "5xx")),
		}, nil),
	}
}

// newEhrLaunchAlarms alarms on the EHR launch function's errors and its API's
// 5xx answers, notifying the alarm topic: the flow fails closed, so either
// means users cannot sign in through the proxy.
func (s *SmartHealthLake) newEhrLaunchAlarms() []awscloudwatch.Alarm {
	period := awscdk.Duration_Minutes(jsii.Number(ehrLaunchPeriod))
	sum := &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}
	action := awscloudwatchactions.NewSnsAction(s.alarmTopic)
	var out []awscloudwatch.Alarm
	for _, a := range []struct {
		id, description string
		metric          awscloudwatch.IMetric
	}{
		{"EhrLaunchErrorsAlarm", "The SMART EHR launch function failed (an authorize, callback, hook or token request got no answer)",
			s.ehr.Function().MetricErrors(sum)},
		{"EhrLaunchApi5xxAlarm", "The SMART EHR launch API answered 5xx (sign-ins through the authorize and token proxies are failing)",
			s.ehr.Api().MetricServerError(sum)},
	} {
		alarm := awscloudwatch.NewAlarm(s, jsii.String(a.id), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(a.description),
			Metric:             a.metric,
			Threshold:          jsii.Number(0),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		out = append(out, alarm)
	}
	return out
}

// EhrLaunchAlarms returns the EHR launch alarms (function errors, API 5xx),
// or nil without EhrLaunch.
func (s *SmartHealthLake) EhrLaunchAlarms() []awscloudwatch.Alarm { return s.ehrAlarms }
