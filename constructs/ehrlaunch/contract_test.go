package ehrlaunch_test

import (
	"slices"
	"strings"
	"testing"

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
	served := []string{launchflow.PathLaunch, launchflow.PathAuthorize, launchflow.PathCallback, launchflow.PathPicker,
		launchflow.PathHook, launchflow.PathToken, launchflow.PathIntrospect}
	slices.Sort(parts)
	slices.Sort(served)
	require.Equal(t, served, parts, "every route the function serves, and no other")
}

func TestTheRenderedEnvironmentIsOneTheFunctionAccepts(t *testing.T) {
	stack := cdktest.NewStack(t)
	p := props(stack)
	p.LaunchLifetime = nil
	ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p)
	_, fn := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::Lambda::Function")
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	literal := map[string]string{}
	for k, v := range vars {
		if s, ok := v.(string); ok {
			literal[k] = s
		}
	}
	_, err := ehrlaunchenv.Parse(func(k string) string { return literal[k] })
	require.Error(t, err, "deploy-time values (table, URL, secret) are absent from the literal environment")
	for _, k := range []string{ehrlaunchenv.EnvOktaIssuer, ehrlaunchenv.EnvFHIRAudience, ehrlaunchenv.EnvEHRPrincipals} {
		require.Contains(t, literal, k)
		require.NotContains(t, err.Error(), k+":", "the literal %s is one the function accepts", k)
	}
	require.True(t, strings.Contains(err.Error(), ehrlaunchenv.EnvTable), "the table's name is a deploy-time value")
}
