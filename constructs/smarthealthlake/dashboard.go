package smarthealthlake

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
)

// Dashboard widget titles, in reading order; the first row answers "are apps
// being refused, and why".
const (
	WidgetDecisions         = "Token decisions per minute"
	WidgetDenialsByReason   = "Denials per minute by reason"
	WidgetDenialRate        = "Denial rate (%)"
	WidgetDuration          = "Validator duration (ms)"
	WidgetColdStarts        = "Cold starts and init duration"
	WidgetErrorsThrottles   = "Validator errors and throttles"
	WidgetProvisioned       = "Provisioned concurrency"
	WidgetHandlerErrors     = "Custom-resource handler errors"
	WidgetRecentDenials     = "Recent denials"
	dashboardRowHeight      = 6
	dashboardThirdWidth     = 8
	dashboardHalfWidth      = 12
	dashboardFullWidth      = 24
	dashboardDecisionPeriod = 1 // minute
)

// newDashboard lays out the operations dashboard of one SmartHealthLake.
func (s *SmartHealthLake) newDashboard(name *string, handlers map[string]awslambda.IFunction, handlerOrder []string) awscloudwatch.Dashboard {
	v := s.validator
	minute := awscdk.Duration_Minutes(jsii.Number(dashboardDecisionPeriod))
	graph := func(title string, width float64, left []awscloudwatch.IMetric, right []awscloudwatch.IMetric) awscloudwatch.IWidget {
		p := &awscloudwatch.GraphWidgetProps{
			Title:  jsii.String(title),
			Width:  jsii.Number(width),
			Height: jsii.Number(dashboardRowHeight),
			Left:   &left,
		}
		if len(right) > 0 {
			p.Right = &right
		}
		return awscloudwatch.NewGraphWidget(p)
	}
	sum := func(label string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("Sum"), Label: jsii.String(label)}
	}

	// Row 1: refused, and why.
	row1 := []awscloudwatch.IWidget{
		graph(WidgetDecisions, dashboardThirdWidth, []awscloudwatch.IMetric{
			v.MetricDecisions(tokenvalidator.DecisionAllow, sum("allowed")),
			v.MetricDecisions(tokenvalidator.DecisionDeny, sum("denied")),
		}, nil),
		// One line per reason code seen: a SEARCH, because the codes that
		// occur are not known in advance (and new ones may be added).
		graph(WidgetDenialsByReason, dashboardThirdWidth, []awscloudwatch.IMetric{
			awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
				Expression: jsii.String(fmt.Sprintf(`SEARCH('{"%s",%s} MetricName="%s"', 'Sum', 60)`,
					*v.MetricNamespace(), tokenvalidator.DimensionReason, tokenvalidator.MetricNameDenials)),
				Label:  jsii.String(""),
				Period: minute,
			}),
		}, nil),
		graph(WidgetDenialRate, dashboardThirdWidth, []awscloudwatch.IMetric{
			v.MetricDenialRate(&awscloudwatch.MathExpressionOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))}),
		}, nil),
	}

	// Row 2: how fast, how often cold, failing.
	duration := func(stat, label string) awscloudwatch.IMetric {
		return v.MetricDuration(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String(stat), Label: jsii.String(label)})
	}
	row2 := []awscloudwatch.IWidget{
		graph(WidgetDuration, dashboardThirdWidth, []awscloudwatch.IMetric{duration("p50", "p50"), duration("p99", "p99"), duration("Maximum", "max")}, nil),
		graph(WidgetColdStarts, dashboardThirdWidth,
			[]awscloudwatch.IMetric{v.MetricInitDuration(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("SampleCount"), Label: jsii.String("cold starts")})},
			[]awscloudwatch.IMetric{v.MetricInitDuration(&awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String("Maximum"), Label: jsii.String("max init duration (ms)")})}),
		graph(WidgetErrorsThrottles, dashboardThirdWidth, []awscloudwatch.IMetric{
			v.MetricErrors(sum("errors")), v.MetricThrottles(sum("throttles")),
		}, nil),
	}

	// Row 3: capacity and the deployment machinery.
	var handlerErrors []awscloudwatch.IMetric
	for _, label := range handlerOrder {
		handlerErrors = append(handlerErrors, handlers[label].MetricErrors(&awscloudwatch.MetricOptions{
			Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum"), Label: jsii.String(label),
		}))
	}
	var row3 []awscloudwatch.IWidget
	width := float64(dashboardFullWidth)
	if alias := v.Alias(); alias != nil {
		width = dashboardHalfWidth
		row3 = append(row3, graph(WidgetProvisioned, dashboardHalfWidth, []awscloudwatch.IMetric{
			alias.Metric(jsii.String("ProvisionedConcurrencyUtilization"), &awscloudwatch.MetricOptions{
				Period: minute, Statistic: jsii.String("Maximum"), Label: jsii.String("utilization (max)"),
			}),
		}, []awscloudwatch.IMetric{
			alias.Metric(jsii.String("ProvisionedConcurrencySpilloverInvocations"), &awscloudwatch.MetricOptions{
				Period: minute, Statistic: jsii.String("Sum"), Label: jsii.String("spillover invocations (cold)"),
			}),
		}))
	}
	row3 = append(row3, graph(WidgetHandlerErrors, width, handlerErrors, nil))

	// Row 4: the latest denials themselves.
	row4 := []awscloudwatch.IWidget{awscloudwatch.NewLogQueryWidget(&awscloudwatch.LogQueryWidgetProps{
		Title:         jsii.String(WidgetRecentDenials),
		LogGroupNames: &[]*string{v.LogGroup().LogGroupName()},
		QueryLines: jsii.Strings(
			"fields @timestamp, reason, client_id, operation, error",
			`filter msg = "authorization" and decision = "deny"`,
			"sort @timestamp desc",
			"limit 50",
		),
		Width:  jsii.Number(dashboardFullWidth),
		Height: jsii.Number(dashboardRowHeight),
	})}

	rows := []*[]awscloudwatch.IWidget{&row1, &row2, &row3}
	if s.ehr != nil {
		// Row 3b: the EHR launch proxy, when it is on.
		ehr := s.ehrLaunchRow(graph)
		rows = append(rows, &ehr)
	}
	rows = append(rows, &row4)
	return awscloudwatch.NewDashboard(s, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: name,
		Widgets:       &rows,
	})
}

// DashboardUrl returns the console URL of the operations dashboard.
func (s *SmartHealthLake) DashboardUrl() *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://"), awscdk.Aws_REGION(), jsii.String(".console.aws.amazon.com/cloudwatch/home?region="),
		awscdk.Aws_REGION(), jsii.String("#dashboards/dashboard/"), s.dashboard.DashboardName(),
	})
}

// Dashboard returns the operations dashboard.
func (s *SmartHealthLake) Dashboard() awscloudwatch.Dashboard { return s.dashboard }
