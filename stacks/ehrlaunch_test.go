package stacks_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/stacks"
)

const ehrRoleArn = "arn:aws:iam::123456789012:role/ehr-launcher"

// ehrLaunchEnvironment is an Okta environment with both apps and EHR launch
// turned on, for every app or for those listed.
func ehrLaunchEnvironment(t *testing.T, apps ...any) stacks.SmartHealthLakeStack {
	t.Helper()
	launch := map[string]any{
		"enabled":               true,
		"ehrRoleArns":           []any{ehrRoleArn},
		"corsOrigins":           []any{"https://spa.example.org"},
		"launchLifetimeSeconds": 120,
		"pickerApps":            []any{"public"},
	}
	if apps != nil {
		launch["apps"] = apps
	}
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"ehr": map[string]any{
			"region": "us-east-1",
			"okta": map[string]any{
				"orgUrl": "https://a.okta.com", "credentialSecret": "s",
				"confidentialClientRedirectUris": []any{"https://app.example.org/callback"},
				"publicClientRedirectUris":       []any{"https://spa.example.org/callback"},
			},
			"ehrLaunch": launch,
		},
	}
	out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.NoError(t, err)
	require.Len(t, out, 1)
	return out[0]
}

func TestAnEhrLaunchEnvironmentBuildsFromCdkJson(t *testing.T) {
	s := ehrLaunchEnvironment(t, "public")
	tpl := cdktest.Template(t, s.Stack)
	all := cdktest.Resources(t, tpl)
	apiID, _ := cdktest.Only(t, all, "AWS::ApiGateway::RestApi")
	_, okta := cdktest.Only(t, all, "Custom::SmartOktaAuthorizationServer")
	_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	js := func(v any) string { raw, _ := json.Marshal(v); return string(raw) }

	require.Equal(t, []any{"https://app.example.org/callback"}, okta.Properties["ConfidentialClientRedirectUris"], "only the public app is launched")
	require.Contains(t, js(okta.Properties["PublicClientRedirectUris"]), "/smart/callback")
	require.Contains(t, js(ds.Properties["AuthorizationEndpoint"]), `{"Ref":"`+apiID+`"}`)
	require.Equal(t, "verify-issuer", ds.Properties["DiscoveryCheck"])

	var validator, launch map[string]any
	for _, fn := range cdktest.OfType(all, "AWS::Lambda::Function") {
		env, _ := fn.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if _, ok := vars["SMART_ISSUER"]; ok {
			validator = vars
		}
		if _, ok := vars[ehrlaunchenv.EnvEHRPrincipals]; ok {
			launch = vars
		}
	}
	require.Equal(t, "true", validator[validatorenv.EnvEHRLaunch])
	require.Equal(t, ehrRoleArn, launch[ehrlaunchenv.EnvEHRPrincipals])
	require.Equal(t, "https://spa.example.org", launch[ehrlaunchenv.EnvCORSOrigins])
	require.Equal(t, "120", launch[ehrlaunchenv.EnvLaunchSeconds])
	require.Contains(t, js(launch[ehrlaunchenv.EnvClients]), `patient_picker`, "ehrLaunch.pickerApps reaches the function")

	for _, name := range []string{"EhrLaunchUrl", "EhrLaunchApiUrl"} {
		cdktest.Must(t, func() { tpl.HasOutput(jsii.String(name), map[string]any{}) })
	}
	outputs := js(tpl.FindOutputs(jsii.String("EhrLaunchUrl"), nil))
	require.Contains(t, outputs, "/smart/launch")
	require.Empty(t, *tpl.FindOutputs(jsii.String("BackendTokenEndpoint"), nil), "no backend service, no proxied token endpoint for them")
}

func TestAnEnvironmentWithoutEhrLaunchHasNoneOfIt(t *testing.T) {
	for _, s := range environments(t, nil) {
		t.Run(s.Environment.Name, func(t *testing.T) {
			tpl := cdktest.Template(t, s.Stack)
			require.Empty(t, cdktest.OfType(cdktest.Resources(t, tpl), "AWS::ApiGateway::RestApi"))
			require.Empty(t, *tpl.FindOutputs(jsii.String("EhrLaunchUrl"), nil))
		})
	}
}

func TestEhrLaunchWithAnExternalServerStopsSynthesisNamingTheKey(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"qa": map[string]any{
			"authorizationServer": "external",
			"external": map[string]any{
				"issuer":                "https://id.example.org/realms/smart",
				"authorizationEndpoint": "https://id.example.org/realms/smart/auth",
				"tokenEndpoint":         "https://id.example.org/realms/smart/token",
				"jwksUri":               "https://id.example.org/realms/smart/certs",
			},
			"ehrLaunch": map[string]any{"enabled": true, "ehrRoleArns": []any{ehrRoleArn}},
		},
	}
	_, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.ErrorContains(t, err, `environment "qa": ehrLaunch.enabled needs authorizationServer okta`)
}

func TestARegistryAppOfCdkJsonIsLaunched(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"ehr": map[string]any{
			"region": "us-east-1",
			"okta": map[string]any{
				"orgUrl": "https://a.okta.com", "credentialSecret": "s",
				"confidentialClientRedirectUris": []any{"https://app.example.org/callback"},
				"apps": []any{map[string]any{"name": "acme-portal", "type": "public",
					"redirectUris": []any{"https://portal.example.org/cb"}, "scopes": []any{"openid", "launch/patient", "patient/*.rs"}}},
			},
			"ehrLaunch": map[string]any{"enabled": true, "ehrRoleArns": []any{ehrRoleArn}, "apps": []any{"acme-portal"}},
		},
	}
	out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.NoError(t, err)
	all := cdktest.Resources(t, cdktest.Template(t, out[0].Stack))
	oktaID, okta := cdktest.Only(t, all, "Custom::SmartOktaAuthorizationServer")
	js := func(v any) string { raw, _ := json.Marshal(v); return string(raw) }

	require.Equal(t, []any{"https://app.example.org/callback"}, okta.Properties["ConfidentialClientRedirectUris"], "only the registry app is launched")
	require.Contains(t, js(okta.Properties["Apps"]), "/smart/callback", "the app's redirect URIs gain the proxy's callback")
	var clients string
	for _, fn := range cdktest.OfType(all, "AWS::Lambda::Function") {
		env, _ := fn.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if v, ok := vars[ehrlaunchenv.EnvClients]; ok {
			clients = js(v)
		}
	}
	require.Contains(t, clients, `"`+oktaID+`","App.acme-portal"`)
	require.Contains(t, clients, "https://portal.example.org/cb")
	require.NotContains(t, clients, "ConfidentialClientId")
}
