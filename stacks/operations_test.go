package stacks_test

import (
	"encoding/json"

	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/stacks"
)

// logConfigs returns every function's LoggingConfig and tracing mode, keyed by
// logical id, and which of them is the token validator.
func logConfigs(t *testing.T, s stacks.SmartHealthLakeStack) (configs map[string]map[string]any, tracing map[string]any, validator string, goFunctions map[string]bool) {
	t.Helper()
	tpl := cdktest.Template(t, s.Stack)
	validator = cdktest.LogicalID(t, s.SmartHealthLake.Function())
	configs, tracing, goFunctions = map[string]map[string]any{}, map[string]any{}, map[string]bool{}
	for id, fn := range cdktest.OfType(cdktest.Resources(t, tpl), "AWS::Lambda::Function") {
		lc, _ := fn.Properties["LoggingConfig"].(map[string]any)
		configs[id] = lc
		goFunctions[id] = fn.Properties["Runtime"] == "provided.al2023"
		if tc, ok := fn.Properties["TracingConfig"].(map[string]any); ok {
			tracing[id] = tc["Mode"]
		}
	}
	return configs, tracing, validator, goFunctions
}

func TestEveryFunctionLogsJSONAtTheLevelOfItsEnvironment(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"qa":    map[string]any{"okta": map[string]any{"orgUrl": "https://a.okta.com", "credentialSecret": "s"}},
		"quiet": map[string]any{"okta": map[string]any{"orgUrl": "https://a.okta.com", "credentialSecret": "s"}, "logLevel": "DEBUG", "tokenValidator": map[string]any{"logLevel": "WARN"}},
	}
	out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.NoError(t, err)
	require.Len(t, out, 2)
	for _, c := range []struct {
		stack               stacks.SmartHealthLakeStack
		handlers, validator string
	}{{out[0], "INFO", "INFO"}, {out[1], "DEBUG", "WARN"}} {
		t.Run(c.stack.Environment.Name, func(t *testing.T) {
			configs, tracing, validator, goFunctions := logConfigs(t, c.stack)
			require.Len(t, goFunctions, len(configs))
			require.GreaterOrEqual(t, len(configs), 6, "the validator, three Go handlers and the Provider framework's functions")
			goHandlers := 0
			for id, lc := range configs {
				require.NotNil(t, lc, "%s has a LoggingConfig", id)
				assert.Equal(t, "JSON", lc["LogFormat"], id)
				assert.NotNil(t, lc["LogGroup"], "%s writes to a log group of the stack", id)
				assert.Equal(t, "Active", tracing[id], "%s traces (trivy: X-Ray tracing on every function)", id)
				if !goFunctions[id] {
					// aws-cdk-lib's Provider framework (frameworkLambdaLoggingLevel):
					// below FATAL it logs CloudFormation's events with their
					// pre-signed response URLs. The environment's level must not lower it.
					assert.Equal(t, "FATAL", lc["ApplicationLogLevel"], id)
					continue
				}
				assert.Equal(t, "INFO", lc["SystemLogLevel"], id)
				want := c.handlers
				if id == validator {
					want = c.validator
				}
				assert.Equal(t, want, lc["ApplicationLogLevel"], id)
				if id != validator {
					goHandlers++
				}
			}
			assert.Equal(t, 3, goHandlers, "the Okta handler and the two data store handlers")
		})
	}
}

func TestTheDashboardURLIsAnOutput(t *testing.T) {
	for _, s := range environments(t, map[string]any{"env": "dev"}) {
		tpl := cdktest.Template(t, s.Stack)
		cdktest.Try(t, func() {
			tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Dashboard"), map[string]any{
				"DashboardName": "SmartHealthLake-dev",
				// Untagged: see stacks.go (cfn-lint E3002 on Dashboard Tags).
				"Tags": assertions.Match_Absent(),
			})
		})
		var outputs map[string]map[string]any
		require.NoError(t, json.Unmarshal([]byte(jsonOf(t, tpl.FindOutputs(jsii.String("DashboardUrl"), nil))), &outputs))
		require.Contains(t, outputs, "DashboardUrl")
		url := cdktest.Resolved(t, s.Stack, s.SmartHealthLake.DashboardUrl())
		assert.Equal(t, outputs["DashboardUrl"]["Value"], url)
		assert.Contains(t, jsonOf(t, url), `#dashboards/dashboard/`)
		assert.Contains(t, jsonOf(t, url), `.console.aws.amazon.com/cloudwatch/home?region=`)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return string(raw)
}
