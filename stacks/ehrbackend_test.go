package stacks_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
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
	// The services' token endpoint is the proxy's (smartcheck's token check
	// reads it).
	backend := jsonOf(t, tpl.FindOutputs(jsii.String("BackendTokenEndpoint"), nil))
	require.Contains(t, backend, "/smart/token")

	cdktest.Snapshot(t, tpl, filepath.Join(cdktest.RepoRoot(), "testdata", "snapshots", "SmartHealthLake-ehr-backend.template.json"))
}

// manyBackendApps is the apps environment with EHR launch on and n more
// backend apps, each with a freshly generated RSA-2048 public key.
func manyBackendApps(t *testing.T, n int, ehrLaunch map[string]any) map[string]any {
	config := appsConfig(t)
	okta := config["okta"].(map[string]any)
	apps := okta["apps"].([]any)
	for i := range n {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		apps = append(apps, map[string]any{"name": fmt.Sprintf("feed-%c", 'a'+i), "type": "backend", "scopes": []any{"system/Observation.rs"},
			"jwks": map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "k1",
				"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()), "e": "AQAB"}}}})
	}
	okta["apps"] = apps
	config["ehrLaunch"] = ehrLaunch
	return config
}

func TestAnEhrLaunchEnvironmentTooLargeForLambdaIsNamedInCdkJSONKeys(t *testing.T) {
	t.Run("seven backend apps through the proxy fail, naming okta.apps[i].jwks and ehrLaunch.proxyBackendServices", func(t *testing.T) {
		ctx := cdktest.CdkJSONContext(t)
		ctx["smart-healthlake:environments"] = map[string]any{"ehr": manyBackendApps(t, 6,
			map[string]any{"enabled": true, "ehrRoleArns": []any{ehrRoleArn}})}
		_, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
		require.Error(t, err)
		msg := err.Error()
		require.True(t, strings.HasPrefix(msg, `environment "ehr": okta.apps[2].jwks, okta.apps[3].jwks, `), msg)
		require.Contains(t, msg, "okta.apps[8].jwks")
		require.Contains(t, msg, "or set ehrLaunch.proxyBackendServices to false")
		require.NotContains(t, msg, "props.", "the user wrote cdk.json, not props")
	})
	t.Run("with ehrLaunch.proxyBackendServices false they stay on Okta, with an info message (no warning to fail --strict)", func(t *testing.T) {
		ctx := cdktest.CdkJSONContext(t)
		ctx["smart-healthlake:environments"] = map[string]any{"ehr": manyBackendApps(t, 6,
			map[string]any{"enabled": true, "ehrRoleArns": []any{ehrRoleArn}, "proxyBackendServices": false})}
		out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
		require.NoError(t, err)
		all := cdktest.Resources(t, cdktest.Template(t, out[0].Stack))
		for id, k := range cdktest.OfType(all, "AWS::KMS::Key") {
			require.NotEqual(t, "SIGN_VERIFY", k.Properties["KeyUsage"], id)
		}
		notes := assertions.Annotations_FromStack(out[0].Stack)
		found := notes.FindInfo(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("ProxyBackendServices is false.*TokenEndpoint output")))
		require.Len(t, *found, 1)
		require.Empty(t, *notes.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("ProxyBackendServices"))))
		tpl := cdktest.Template(t, out[0].Stack)
		require.Empty(t, *tpl.FindOutputs(jsii.String("BackendTokenEndpoint"), nil), "services left on Okta get no proxied token endpoint output")
	})
}
