package tokenvalidator_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/jsii-runtime-go"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/internal/filterpattern"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

const endpoint = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"

// validatorLines runs the validator's own handler (lambda/introspect/idp)
// against a JWK Set on loopback, for requests that take its main paths, and
// returns every line it wrote, with the reason of each request in order.
func validatorLines(t *testing.T) (lines []string, reasons []string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	b64 := base64.RawURLEncoding.EncodeToString
	set, err := json.Marshal(map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "n": b64(key.N.Bytes()), "e": b64(big.NewInt(int64(key.E)).Bytes()),
	}}})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(set)
	}))
	t.Cleanup(srv.Close)
	iss := srv.URL + "/oauth2/default"
	env := map[string]string{idp.EnvIssuer: iss, idp.EnvJWKSURL: srv.URL + "/keys", idp.EnvRoleARN: roleArn}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	h := idp.FromEnv(context.Background(), func(k string) string { return env[k] }, idp.Options{Logger: logger})
	broken := idp.FromEnv(context.Background(), func(k string) string { return "" }, idp.Options{Logger: logger})

	now := time.Now()
	token := func(kv ...any) string {
		c := jwt.MapClaims{"iss": iss, "aud": endpoint, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"cid": "0oa-client", "uid": "00u-user", "sub": "jane@example.com", "scp": []string{"patient/Observation.rs"}}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}
	valid := token()
	requests := []struct {
		h     *idp.Handler
		token string
	}{
		{h, valid}, {h, valid}, // allowed, then from the cache
		{h, token("exp", now.Add(-time.Hour).Unix())},
		{h, token("aud", "api://other")},
		{h, token("scp", []string{"openid"})},
		{h, ""},
		{h, "garbage"},
		{broken, valid},
	}
	for _, r := range requests {
		resp, err := r.h.Handle(context.Background(), idp.Event{DatastoreEndpoint: endpoint, BearerToken: r.token, OperationName: "read"})
		require.NoError(t, err)
		_ = resp
	}
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		if m["msg"] == "authorization" {
			reasons = append(reasons, m["reason"].(string))
		}
	}
	require.Equal(t, []string{"valid", "cached", "expired", "audience_mismatch", "no_smart_scope", "token_missing", "token_malformed", "config_invalid"}, reasons,
		"the requests take the paths this test is about")
	return lines, reasons
}

// lambdaReportLines are Lambda's own system log lines in the JSON log format
// (the platform.report record of the Lambda Telemetry API's event schema
// reference: requestId, metrics with initDurationMs only after an init, status),
// one after a cold start and one warm.
func lambdaReportLines(t *testing.T) []string {
	raw, err := os.ReadFile("testdata/platform-report.jsonl")
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(raw)), "\n")
}

type metricFilter struct {
	pattern, namespace, name, value, unit string
	dims                                  map[string]string
}

func metricFilters(t *testing.T, tpl assertions.Template) map[string]metricFilter {
	t.Helper()
	out := map[string]metricFilter{}
	for _, r := range cdktest.OfType(cdktest.Resources(t, tpl), "AWS::Logs::MetricFilter") {
		tr := cdktest.AsList(r.Properties["MetricTransformations"])
		require.Len(t, tr, 1)
		m := tr[0].(map[string]any)
		f := metricFilter{pattern: r.Properties["FilterPattern"].(string), namespace: m["MetricNamespace"].(string),
			name: m["MetricName"].(string), value: m["MetricValue"].(string), dims: map[string]string{}}
		if u, ok := m["Unit"].(string); ok {
			f.unit = u
		}
		for _, d := range cdktest.AsList(m["Dimensions"]) {
			d := d.(map[string]any)
			f.dims[d["Key"].(string)] = d["Value"].(string)
		}
		require.NotContains(t, out, f.name, "one filter per metric")
		out[f.name] = f
	}
	return out
}

// A datum is what one log line puts into a metric.
type datum struct {
	value any
	dims  map[string]any
}

func (f metricFilter) data(t *testing.T, lines []string) []datum {
	t.Helper()
	p, err := filterpattern.Parse(f.pattern)
	require.NoError(t, err, "the deployed pattern is one the evaluator can check faithfully")
	var out []datum
	for _, l := range lines {
		if !p.Match(l) {
			continue
		}
		v, ok := filterpattern.Value(f.value, l)
		require.True(t, ok, "metric value %s resolves on %s", f.value, l)
		d := datum{value: v, dims: map[string]any{}}
		for k, sel := range f.dims {
			dv, ok := filterpattern.Value(sel, l)
			require.True(t, ok, "dimension %s (%s) resolves on %s", k, sel, l)
			d.dims[k] = dv
		}
		out = append(out, d)
	}
	return out
}

func TestTheMetricFiltersCountTheLinesTheValidatorWrites(t *testing.T) {
	stack := cdktest.NewStack(t)
	v := tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), minimal(stack))
	tpl := cdktest.Template(t, stack)
	filters := metricFilters(t, tpl)
	require.Len(t, filters, 3)
	lines, reasons := validatorLines(t)
	all := append(lines, lambdaReportLines(t)...)
	ns := *v.MetricNamespace()
	assert.Equal(t, "SmartHealthLake/S/Idp", ns, "the construct's path: unique per stack and validator")

	t.Run("every decision is counted once, by outcome", func(t *testing.T) {
		f := filters[tokenvalidator.MetricNameDecisions]
		assert.Equal(t, ns, f.namespace)
		assert.Equal(t, "Count", f.unit)
		var got []any
		for _, d := range f.data(t, all) {
			assert.Equal(t, 1.0, d.value)
			got = append(got, d.dims["Decision"])
		}
		assert.Equal(t, []any{"allow", "allow", "deny", "deny", "deny", "deny", "deny", "deny"}, got)
	})
	t.Run("every denial is counted once, by its reason code", func(t *testing.T) {
		f := filters[tokenvalidator.MetricNameDenials]
		assert.Equal(t, ns, f.namespace)
		var got []any
		for _, d := range f.data(t, all) {
			assert.Equal(t, 1.0, d.value)
			got = append(got, d.dims["Reason"])
		}
		want := []any{}
		for _, r := range reasons[2:] {
			want = append(want, r)
		}
		assert.Equal(t, want, got)
	})
	t.Run("the cold start's init duration is read from Lambda's report line, and only there", func(t *testing.T) {
		f := filters[tokenvalidator.MetricNameInitDuration]
		assert.Equal(t, "Milliseconds", f.unit)
		d := f.data(t, all)
		require.Len(t, d, 1, "the warm report and the validator's own lines are no cold start")
		assert.Equal(t, 136.09, d[0].value)
		assert.Empty(t, d[0].dims)
	})
	t.Run("the metric methods read what the filters publish", func(t *testing.T) {
		for _, c := range []struct {
			metric awscloudwatch.Metric
			filter string
			dims   map[string]string
		}{
			{v.MetricDecisions(tokenvalidator.DecisionAllow, nil), tokenvalidator.MetricNameDecisions, map[string]string{"Decision": "allow"}},
			{v.MetricDecisions(tokenvalidator.DecisionDeny, nil), tokenvalidator.MetricNameDecisions, map[string]string{"Decision": "deny"}},
			{v.MetricDenials("audience_mismatch", nil), tokenvalidator.MetricNameDenials, map[string]string{"Reason": "audience_mismatch"}},
			{v.MetricInitDuration(nil), tokenvalidator.MetricNameInitDuration, map[string]string{}},
		} {
			f := filters[c.filter]
			assert.Equal(t, f.namespace, *c.metric.Namespace())
			assert.Equal(t, f.name, *c.metric.MetricName())
			got := map[string]string{}
			if d := c.metric.Dimensions(); d != nil {
				for k, val := range *d {
					got[k] = fmt.Sprint(val)
				}
			}
			assert.Equal(t, c.dims, got)
			for k := range c.dims {
				assert.Contains(t, f.dims, k, "the filter publishes the dimension the method selects")
			}
		}
	})
}

func TestAlarmThresholdsAreProps(t *testing.T) {
	stack := cdktest.NewStack(t)
	props := minimal(stack)
	props.DurationP99Threshold = awscdk.Duration_Millis(jsii.Number(300))
	props.ErrorsThreshold = jsii.Number(5)
	props.DenialRateThresholdPercent = jsii.Number(40)
	props.DenialRateMinimumDecisions = jsii.Number(100)
	v := tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), props)
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
	tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), minimal(stack))
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

func TestAlarmActionsReachEveryAlarm(t *testing.T) {
	stack := cdktest.NewStack(t)
	props := minimal(stack)
	props.AlarmAction = awscloudwatchactions.NewSnsAction(awssns.Topic_FromTopicArn(stack, jsii.String("OnCall"), jsii.String("arn:aws:sns:us-east-1:123456789012:oncall")))
	tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), props)
	tpl := cdktest.Template(t, stack)
	alarms := cdktest.OfType(cdktest.Resources(t, tpl), "AWS::CloudWatch::Alarm")
	require.Len(t, alarms, 4)
	for id, a := range alarms {
		assert.Equal(t, []any{"arn:aws:sns:us-east-1:123456789012:oncall"}, a.Properties["AlarmActions"], id)
	}
}

func TestTheSavedQueriesReadTheValidatorsLogGroup(t *testing.T) {
	stack := cdktest.NewStack(t)
	v := tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), minimal(stack))
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

	// The fields the queries group and sort by are those the validator writes.
	lines, _ := validatorLines(t)
	var allow map[string]any
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		if m["reason"] == "valid" {
			allow = m
		}
	}
	for _, field := range []string{"msg", "decision", "reason", "operation", "client_id", "user_id", "duration_us", "cached"} {
		assert.Contains(t, allow, field)
	}
}

func TestLoggingConfigAndTracing(t *testing.T) {
	t.Run("by default: JSON, INFO and active tracing", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), minimal(stack))
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
		tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), props)
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
		"an AWS-like namespace with odd characters": {func(p *tokenvalidator.TokenValidatorProps) { p.MetricNamespace = jsii.String("a$b") }, "props.MetricNamespace"},
	} {
		t.Run(name, func(t *testing.T) {
			stack := cdktest.NewStack(t)
			props := minimal(stack)
			c.edit(props)
			msg := cdktest.Panics(t, func() { tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), props) })
			assert.Contains(t, msg, c.want)
		})
	}
	t.Run("an unknown reason code", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		v := tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), minimal(stack))
		msg := cdktest.Panics(t, func() { v.MetricDenials("Expired Token", nil) })
		assert.Contains(t, msg, "reason must be a reason code")
	})
}
