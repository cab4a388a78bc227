package stacks_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/stacks"
)

// TestAnEhrLaunchEnvironmentWithBackendServicesMatchesItsSnapshot is the
// apps environment (testdata/apps-environment.json: its backend app
// lab-feed) with a backend client and EHR launch on: the proxy's assertion
// key, its grants and its registration in Okta are in the snapshot, and the
// stack synthesizes without a dependency cycle (key <- Okta resource <- the
// EHR launch function's environment).
func TestAnEhrLaunchEnvironmentWithBackendServicesMatchesItsSnapshot(t *testing.T) {
	config := appsConfig(t)
	okta := config["okta"].(map[string]any)
	okta["backendClientJwks"] = okta["apps"].([]any)[2].(map[string]any)["jwks"]
	config["ehrLaunch"] = map[string]any{"enabled": true, "ehrRoleArns": []any{ehrRoleArn}}
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{"ehr": config}
	out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.NoError(t, err)
	require.Len(t, out, 1)
	s := out[0]
	tpl := cdktest.Template(t, s.Stack)
	all := cdktest.Resources(t, tpl)

	var signing []string
	for id, k := range cdktest.OfType(all, "AWS::KMS::Key") {
		if k.Properties["KeyUsage"] == "SIGN_VERIFY" {
			signing = append(signing, id)
		}
	}
	require.Len(t, signing, 1, "one assertion key")
	arn := cdktest.GetAtt(signing[0], "Arn")
	_, okta2 := cdktest.Only(t, all, "Custom::SmartOktaAuthorizationServer")
	require.Equal(t, arn, okta2.Properties[oktaprops.PropProxyAssertionKeyARN])
	var launch map[string]any
	for _, fn := range cdktest.OfType(all, "AWS::Lambda::Function") {
		env, _ := fn.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if _, ok := vars[ehrlaunchenv.EnvEHRPrincipals]; ok {
			launch = vars
		}
	}
	require.Equal(t, arn, launch[ehrlaunchenv.EnvAssertionKeyARN])
	require.Contains(t, launch, ehrlaunchenv.EnvBackendClients)

	cdktest.Snapshot(t, tpl, filepath.Join(cdktest.RepoRoot(), "testdata", "snapshots", "SmartHealthLake-ehr-backend.template.json"))
}
