// Package logcheck_test runs the token validator's metric filters and saved
// queries, as the construct synthesizes them, against the lines the
// validator's handler (lambda/introspect/idp) really writes. It is a package of
// its own so that the construct packages, which other modules import, do not
// depend on the handler's libraries even in their tests: a consumer's go mod
// tidy would otherwise want their checksums.
package logcheck_test

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
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/jsii-runtime-go"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/internal/filterpattern"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

const (
	issuer  = "https://acme.okta.com/oauth2/aus1234567890abcdef"
	roleArn = "arn:aws:iam::123456789012:role/healthlake-smart"
)

func newValidator(t *testing.T) (awscdk.Stack, *tokenvalidator.TokenValidator) {
	stack := cdktest.NewStack(t)
	role := awsiam.Role_FromRoleArn(stack, jsii.String("ServiceRole"), jsii.String(roleArn), &awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)})
	v := tokenvalidator.NewTokenValidator(stack, jsii.String("Idp"), &tokenvalidator.TokenValidatorProps{Issuer: jsii.String(issuer), ServiceRole: role})
	v.BindAudience(nil)
	return stack, v
}

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
	env := map[string]string{validatorenv.EnvIssuer: iss, validatorenv.EnvJWKSURL: srv.URL + "/keys", validatorenv.EnvRoleARN: roleArn}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	h := idp.FromEnv(context.Background(), func(k string) string { return env[k] }, idp.Options{Logger: logger})
	broken := idp.FromEnv(context.Background(), func(k string) string { return "" }, idp.Options{Logger: logger})

	now := time.Now()
	token := func(kv ...any) string {
		c := jwt.MapClaims{"iss": iss, "aud": endpoint, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"cid": "0oa-client", "uid": "00u-user", "sub": "jane@example.com", "scp": []string{"patient/Observation.rs"},
			"patient": "p-1"} // patient/ scopes need their patient (validator rule)
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
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"})
		resp, err := r.h.Handle(ctx, idp.Event{DatastoreEndpoint: endpoint, BearerToken: r.token, OperationName: "read"})
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
	stack, v := newValidator(t)
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

// TestTheQueriesReadFieldsTheValidatorWrites checks that every field the
// saved decision queries show, group or sort by is one the validator's
// decision line carries (a renamed field would leave a query empty), and the
// cold-start query's fields are in Lambda's report line.
func TestTheQueriesReadFieldsTheValidatorWrites(t *testing.T) {
	stack, _ := newValidator(t)
	tpl := cdktest.Template(t, stack)
	lines, _ := validatorLines(t)
	written := map[string]bool{}
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		if m["msg"] == "authorization" {
			for k := range m {
				written[k] = true
			}
		}
	}
	var report map[string]any
	require.NoError(t, json.Unmarshal([]byte(lambdaReportLines(t)[0]), &report))

	checked := 0
	for _, q := range cdktest.OfType(cdktest.Resources(t, tpl), "AWS::Logs::QueryDefinition") {
		name := q.Properties["Name"].(string)
		for _, cmd := range strings.Split(q.Properties["QueryString"].(string), "\n") {
			cmd = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(cmd), "|"))
			var fields []string
			switch verb, args, _ := strings.Cut(cmd, " "); verb {
			case "fields":
				fields = strings.Split(args, ",")
			case "sort":
				fields = []string{strings.Fields(args)[0]}
			case "stats":
				if _, by, ok := strings.Cut(args, " by "); ok {
					fields = strings.Split(by, ",")
				}
			case "filter":
				if f, _, ok := strings.Cut(args, " = "); ok {
					fields = []string{f}
				}
			}
			for _, f := range fields {
				f = strings.TrimSpace(f)
				if strings.HasPrefix(f, "@") || f == "decisions" || f == "denials" || strings.HasPrefix(f, "ispresent(") {
					continue // Logs Insights' own fields and the queries' stats aliases
				}
				checked++
				if strings.HasSuffix(name, tokenvalidator.QueryColdStarts) {
					_, ok := filterpattern.Value("$."+f, lambdaReportLines(t)[0])
					assert.True(t, ok, "%s: %s is in Lambda's report line", name, f)
					continue
				}
				assert.True(t, written[f], "%s: the validator's decision line has %s", name, f)
			}
		}
	}
	assert.Greater(t, checked, 15)
	for _, f := range []string{"client_id", "user_id", "request_id", "duration_us"} {
		assert.True(t, written[f], f)
	}
}
