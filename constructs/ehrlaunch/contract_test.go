package ehrlaunch_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/ehrlaunch"
	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
)

// The function's own packages are imported by this test only: the construct
// links neither them nor their SDKs, and a consumer's go mod tidy still keeps
// the checksums the function's build needs.

func TestTheApiRoutesAreTheFunctionsPaths(t *testing.T) {
	stack := cdktest.NewStack(t)
	ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), props(stack))
	var parts []string
	for _, r := range cdktest.OfType(cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::ApiGateway::Resource") {
		parts = append(parts, "/"+r.Properties["PathPart"].(string))
	}
	served := []string{ehrlaunchenv.PathLaunch, ehrlaunchenv.PathAuthorize, ehrlaunchenv.PathCallback, ehrlaunchenv.PathPicker,
		ehrlaunchenv.PathHook, ehrlaunchenv.PathToken, ehrlaunchenv.PathIntrospect}
	slices.Sort(parts)
	slices.Sort(served)
	require.Equal(t, served, parts, "every route the function serves, and no other")
}

func TestTheRenderedEnvironmentStartsTheFunction(t *testing.T) {
	stack := cdktest.NewStack(t)
	p := props(stack)
	p.LaunchLifetime = awscdk.Duration_Minutes(jsii.Number(2))
	p.CorsOrigins = jsii.Strings("https://spa.example.org")
	ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p)
	_, fn := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::Lambda::Function")
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	// What CloudFormation fills in at deploy time, as it would.
	deployTime := map[string]string{
		ehrlaunchenv.EnvTable:         "Ehr-Table-1ABC",
		ehrlaunchenv.EnvPublicURL:     "https://abc123.execute-api.us-east-1.amazonaws.com/smart",
		ehrlaunchenv.EnvHookSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:EhrHookSecret-AbCdEf",
	}
	env := map[string]string{}
	for k, v := range vars {
		if s, ok := v.(string); ok {
			env[k] = s
		} else {
			require.Contains(t, deployTime, k, "only the table, the API's URL and the secret are deploy-time values")
			env[k] = deployTime[k]
		}
	}
	cfg, err := ehrlaunchenv.Parse(func(k string) string { return env[k] })
	require.NoError(t, err)
	require.Equal(t, 2*time.Minute, cfg.LaunchLifetime)
	require.Equal(t, []string{ehrRole}, cfg.EHRPrincipals)
	require.Equal(t, map[string][]string{"0oa1app": {"https://app.example/cb"}}, cfg.Clients)
	_, err = launchflow.New(cfg, nil, launchflow.Options{HookSecret: "hook-secret"})
	require.NoError(t, err, "the function starts with it")
}
