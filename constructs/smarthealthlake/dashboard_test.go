package smarthealthlake_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
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
	assert.Equal(t, "Clinic-Smart", name, "default: <stack name>-<construct id>")
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
	for _, f := range []string{cdktest.LogicalID(t, shl.AuthorizationServer().Function()),
		cdktest.LogicalID(t, shl.Datastore().OnEventFunction()), cdktest.LogicalID(t, shl.Datastore().IsCompleteFunction())} {
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
	props.ProvisionedConcurrency = jsii.Number(2)
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
