package golambda_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/internal/golambda"
)

func TestEveryFunctionLogsJSONAtALevelItsCodeHonours(t *testing.T) {
	for _, c := range []struct {
		name      string
		options   *awslambda.FunctionOptions
		wantLevel string
	}{
		{"without options: JSON at INFO", nil, "INFO"},
		{"a level of one's own", &awslambda.FunctionOptions{ApplicationLogLevelV2: awslambda.ApplicationLogLevel_WARN}, "WARN"},
	} {
		t.Run(c.name, func(t *testing.T) {
			app := cdktest.NewApp(t, nil)
			stack := awscdk.NewStack(app, jsii.String("S"), nil)
			golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{Entry: jsii.String(hello), Options: c.options})
			_, fn := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::Lambda::Function")
			assert.Equal(t, map[string]any{"LogFormat": "JSON", "ApplicationLogLevel": c.wantLevel, "SystemLogLevel": "INFO"}, fn.Properties["LoggingConfig"])
		})
	}
}

func TestActiveTracingsWildcardIsExcusedOnTheRoleOnly(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	logs := awslogs.NewLogGroup(stack, jsii.String("Logs"), nil)
	golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{Entry: jsii.String(hello),
		Options: &awslambda.FunctionOptions{Tracing: awslambda.Tracing_ACTIVE, LogGroup: logs}})
	golambda.NewGoFunction(stack, jsii.String("Plain"), &golambda.GoFunctionProps{Entry: jsii.String(hello),
		Options: &awslambda.FunctionOptions{LogGroup: awslogs.NewLogGroup(stack, jsii.String("PlainLogs"), nil)}})
	tpl := cdktest.Template(t, stack)
	var excused []string
	for _, s := range cdktest.Suppressions(t, tpl) {
		if s.Rule == "AwsSolutions-IAM5" {
			excused = append(excused, s.Resource)
			assert.Equal(t, []any{"Resource::*"}, s.AppliesTo)
			require.Contains(t, s.Reason, "X-Ray")
		}
	}
	require.NotEmpty(t, excused)
	for _, id := range excused {
		assert.Regexp(t, `^FnRole`, id, "only the tracing function's role (and its policy)")
	}
}
