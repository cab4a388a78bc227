package smarthealthlake_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/datastore"
	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

type widget struct {
	Type       string
	X, Y       int
	Width      int
	Properties struct {
		Title   string
		Metrics [][]any
		Query   string
	}
}

// dashboard returns the widgets of the stack's one dashboard. Its body is a
// Fn::Join of JSON text and references; a reference becomes "<Ref:Id>" or
// "<GetAtt:Id.Attr>".
func dashboard(t *testing.T, all map[string]cdktest.Resource) (name any, widgets []widget) {
	t.Helper()
	_, d := cdktest.Only(t, all, "AWS::CloudWatch::Dashboard")
	var body strings.Builder
	join := d.Properties["DashboardBody"].(map[string]any)["Fn::Join"].([]any)
	for _, part := range join[1].([]any) {
		switch p := part.(type) {
		case string:
			body.WriteString(p)
		case map[string]any:
			switch {
			case p["Ref"] != nil:
				fmt.Fprintf(&body, "<Ref:%s>", p["Ref"])
			case p["Fn::GetAtt"] != nil:
				ga := p["Fn::GetAtt"].([]any)
				fmt.Fprintf(&body, "<GetAtt:%s.%s>", ga[0], ga[1])
			default:
				t.Fatalf("unexpected token in the dashboard body: %v", p)
			}
		}
	}
	var doc struct{ Widgets []widget }
	require.NoError(t, json.Unmarshal([]byte(body.String()), &doc), body.String())
	return d.Properties["DashboardName"], doc.Widgets
}

func byTitle(widgets []widget) map[string]widget {
	out := map[string]widget{}
	for _, w := range widgets {
		out[w.Properties.Title] = w
	}
	return out
}

// metricsOf renders a widget's metrics as strings: "namespace name dim=value ... stat".
func metricsOf(w widget) []string {
	var out []string
	for _, m := range w.Properties.Metrics {
		var parts []string
		var opts map[string]any
		for _, e := range m {
			switch e := e.(type) {
			case string:
				if e != "." && e != "..." {
					parts = append(parts, e)
				}
			case map[string]any:
				opts = e
			}
		}
		if ex, ok := opts["expression"]; ok {
			parts = append(parts, fmt.Sprint(ex))
		}
		if st, ok := opts["stat"]; ok {
			parts = append(parts, fmt.Sprint(st))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func TestTheDashboardAnswersAreAppsBeingRefusedAndWhyInItsFirstRow(t *testing.T) {
	stack := newStack(t)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), smallest(stack))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	name, widgets := dashboard(t, all)
	assert.Equal(t, "Clinic-Smart-us-east-1", name, "default: <stack name>-<construct id>-<region>")
	ns := *shl.TokenValidator().MetricNamespace()
	validator := cdktest.LogicalID(t, shl.Function())

	var first []string
	for _, w := range widgets {
		if w.Y == 0 {
			first = append(first, w.Properties.Title)
		}
	}
	assert.Equal(t, []string{smarthealthlake.WidgetDecisions, smarthealthlake.WidgetDenialsByReason, smarthealthlake.WidgetDenialRate}, first)

	w := byTitle(widgets)
	assert.Equal(t, []string{ns + " Decisions Decision allow Sum", ns + " Decisions Decision deny Sum"}, metricsOf(w[smarthealthlake.WidgetDecisions]))
	require.Len(t, metricsOf(w[smarthealthlake.WidgetDenialsByReason]), 1)
	assert.Equal(t, fmt.Sprintf(`SEARCH('{"%s",Reason} MetricName="Denials"', 'Sum', 60)`, ns), metricsOf(w[smarthealthlake.WidgetDenialsByReason])[0],
		"one line per reason code the metric filter has published")
	rate := metricsOf(w[smarthealthlake.WidgetDenialRate])
	require.NotEmpty(t, rate)
	assert.Contains(t, rate[0], "100 * FILL(deny, 0)")

	fn := "FunctionName <Ref:" + validator + ">"
	assert.Equal(t, []string{"AWS/Lambda Duration " + fn + " p50", "AWS/Lambda Duration " + fn + " p99", "AWS/Lambda Duration " + fn + " Maximum"},
		metricsOf(w[smarthealthlake.WidgetDuration]))
	assert.Equal(t, []string{ns + " InitDuration SampleCount", ns + " InitDuration Maximum"}, metricsOf(w[smarthealthlake.WidgetColdStarts]))
	assert.Equal(t, []string{"AWS/Lambda Errors " + fn + " Sum", "AWS/Lambda Throttles " + fn + " Sum"}, metricsOf(w[smarthealthlake.WidgetErrorsThrottles]))

	var handlers []string
	ds := shl.Datastore().(*datastore.SmartDatastore) // made here, so the construct
	for _, f := range []string{cdktest.LogicalID(t, shl.AuthorizationServer().Function()),
		cdktest.LogicalID(t, ds.OnEventFunction()), cdktest.LogicalID(t, ds.IsCompleteFunction())} {
		handlers = append(handlers, "AWS/Lambda Errors FunctionName <Ref:"+f+"> Sum")
	}
	assert.Equal(t, handlers, metricsOf(w[smarthealthlake.WidgetHandlerErrors]))
	assert.NotContains(t, w, smarthealthlake.WidgetProvisioned, "no provisioned concurrency, no widget for it")

	q := w[smarthealthlake.WidgetRecentDenials]
	assert.Equal(t, "log", q.Type)
	assert.Contains(t, q.Properties.Query, "SOURCE '<Ref:"+cdktest.LogicalID(t, shl.TokenValidator().LogGroup())+">'")
	assert.Contains(t, q.Properties.Query, `filter msg = "authorization" and decision = "deny"`)
}

func TestWithProvisionedConcurrencyTheDashboardWatchesTheAlias(t *testing.T) {
	stack := newStack(t)
	props := smallest(stack)
	props.TokenValidator = &tokenvalidator.TokenValidatorOptions{ProvisionedConcurrency: jsii.Number(2)}
	props.DashboardName = jsii.String("clinic-ops")
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), props)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	name, widgets := dashboard(t, all)
	assert.Equal(t, "clinic-ops", name)
	w := byTitle(widgets)
	require.Contains(t, w, smarthealthlake.WidgetProvisioned)
	metrics := strings.Join(metricsOf(w[smarthealthlake.WidgetProvisioned]), "\n")
	assert.Contains(t, metrics, "AWS/Lambda ProvisionedConcurrencyUtilization FunctionName <Ref:"+cdktest.LogicalID(t, shl.Function())+"> Resource")
	assert.Contains(t, metrics, "ProvisionedConcurrencySpilloverInvocations")
	assert.Contains(t, strings.Join(metricsOf(w[smarthealthlake.WidgetDuration]), "\n"), "Resource", "latency of the alias HealthLake calls")
}

func TestWithEhrLaunchTheDashboardWatchesItAndItsAlarmsNotifyTheTopic(t *testing.T) {
	stack := newStack(t)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), withEhrLaunch(stack))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	_, widgets := dashboard(t, all)
	w := byTitle(widgets)
	fn := "FunctionName <Ref:" + cdktest.LogicalID(t, shl.EhrLaunch().Function()) + ">"
	_, api := cdktest.Only(t, all, "AWS::ApiGateway::RestApi")
	apiName := api.Properties["Name"].(string)

	t.Run("a row shows the launch function's invocations, errors and duration and its API's 4xx and 5xx", func(t *testing.T) {
		assert.Equal(t, []string{"AWS/Lambda Invocations " + fn + " Sum", "AWS/Lambda Errors " + fn + " Sum"},
			metricsOf(w[smarthealthlake.WidgetEhrLaunchInvocations]))
		assert.Equal(t, []string{"AWS/Lambda Duration " + fn + " p50", "AWS/Lambda Duration " + fn + " p99", "AWS/Lambda Duration " + fn + " Maximum"},
			metricsOf(w[smarthealthlake.WidgetEhrLaunchDuration]))
		assert.Equal(t, []string{"AWS/ApiGateway 4XXError ApiName " + apiName + " Sum", "AWS/ApiGateway 5XXError ApiName " + apiName + " Sum"},
			metricsOf(w[smarthealthlake.WidgetEhrLaunchApiErrors]))
		ehrRow := w[smarthealthlake.WidgetEhrLaunchInvocations].Y
		assert.Equal(t, ehrRow, w[smarthealthlake.WidgetEhrLaunchApiErrors].Y, "one row")
		assert.Greater(t, ehrRow, w[smarthealthlake.WidgetHandlerErrors].Y)
		assert.Less(t, ehrRow, w[smarthealthlake.WidgetRecentDenials].Y, "the recent denials stay last")
	})

	t.Run("the function's errors and the API's 5xx alarm to the alarm topic", func(t *testing.T) {
		topic := cdktest.Ref(cdktest.LogicalID(t, shl.AlarmTopic()))
		found := map[string]bool{}
		for _, a := range cdktest.OfType(all, "AWS::CloudWatch::Alarm") {
			key := fmt.Sprint(a.Properties["Namespace"], " ", a.Properties["MetricName"], " ", a.Properties["Dimensions"])
			switch {
			case a.Properties["Namespace"] == "AWS/Lambda" && a.Properties["MetricName"] == "Errors" &&
				strings.Contains(key, cdktest.LogicalID(t, shl.EhrLaunch().Function())):
			case a.Properties["Namespace"] == "AWS/ApiGateway" && a.Properties["MetricName"] == "5XXError" && strings.Contains(key, apiName):
			default:
				continue
			}
			assert.Equal(t, []any{topic}, a.Properties["AlarmActions"], key)
			assert.Equal(t, "GreaterThanThreshold", a.Properties["ComparisonOperator"], key)
			assert.EqualValues(t, 0, a.Properties["Threshold"], key)
			assert.Equal(t, "Sum", a.Properties["Statistic"], key)
			assert.Equal(t, "notBreaching", a.Properties["TreatMissingData"], key)
			found[fmt.Sprint(a.Properties["MetricName"])] = true
		}
		assert.Equal(t, map[string]bool{"Errors": true, "5XXError": true}, found)
		assert.Len(t, shl.EhrLaunchAlarms(), 2)
	})
}

func TestWithoutEhrLaunchTheDashboardAndAlarmsHaveNoneOfIt(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.EhrLaunch = nil
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	_, widgets := dashboard(t, all)
	w := byTitle(widgets)
	for _, title := range []string{smarthealthlake.WidgetEhrLaunchInvocations, smarthealthlake.WidgetEhrLaunchDuration, smarthealthlake.WidgetEhrLaunchApiErrors} {
		assert.NotContains(t, w, title)
	}
	for _, a := range cdktest.OfType(all, "AWS::CloudWatch::Alarm") {
		assert.NotEqual(t, "AWS/ApiGateway", a.Properties["Namespace"])
	}
	assert.Nil(t, shl.EhrLaunchAlarms())
}
