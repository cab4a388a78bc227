package ehrlaunch_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/ehrlaunch"
	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// rendered is what the function's environment in the synthesized template
// takes, measured as Lambda measures it (the variables' JSON object) once
// CloudFormation has filled it in: every literal as it is and each
// intrinsic (Ref, Fn::GetAtt) as the longest value of its kind, written out
// here rather than taken from the package's allowances (so that an
// allowance set too small fails this test): an Okta client id (an intrinsic
// of clientIDs) 20 characters, the Okta issuer (of issuers) 160 (a
// 124-character custom domain host), the region 14 ("ap-southeast-7"), the
// URL suffix 16 ("amazonaws.com.cn"), a REST API id 10, a generated secret
// ARN 127, a table name 98 (a 47-character stack name), a key ARN 85, any
// other ARN or URL 128. An Fn::Join is its parts joined.
func rendered(t *testing.T, resources map[string]cdktest.Resource, vars map[string]any, clientIDs, issuers []any) int {
	t.Helper()
	isClientID, isIssuer := map[string]bool{}, map[string]bool{}
	for _, c := range clientIDs {
		raw, err := json.Marshal(c)
		require.NoError(t, err)
		isClientID[string(raw)] = true
	}
	for _, c := range issuers {
		raw, err := json.Marshal(c)
		require.NoError(t, err)
		isIssuer[string(raw)] = true
	}
	var fill func(v any) string
	fill = func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		if j, ok := v.(map[string]any)["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, fill(p))
			}
			return strings.Join(parts, j[0].(string))
		}
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		if isClientID[string(raw)] {
			return strings.Repeat("x", 20)
		}
		if isIssuer[string(raw)] {
			return strings.Repeat("x", 160)
		}
		m, _ := v.(map[string]any)
		ref, _ := m["Ref"].(string)
		if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
			ref, _ = ga[0].(string)
		}
		switch {
		case ref == "AWS::Region":
			return "ap-southeast-7"
		case ref == "AWS::URLSuffix":
			return "amazonaws.com.cn"
		}
		switch resources[ref].Type {
		case "AWS::ApiGateway::RestApi":
			return strings.Repeat("x", 10)
		case "AWS::SecretsManager::Secret":
			return strings.Repeat("x", 127)
		case "AWS::DynamoDB::Table":
			return strings.Repeat("x", 98)
		case "AWS::KMS::Key":
			return strings.Repeat("x", 85)
		}
		return strings.Repeat("x", 128)
	}
	env := map[string]string{}
	for k, v := range vars {
		env[k] = fill(v)
	}
	raw, err := json.Marshal(env)
	require.NoError(t, err)
	return len(raw)
}

func origins(n int) *[]*string {
	var out []*string
	for i := range n {
		out = append(out, jsii.String(fmt.Sprintf("https://clinic-portal-%02d.hospital-network.example.org", i)))
	}
	return &out
}

func TestTheSizeEstimateIsAtLeastTheRenderedEnvironment(t *testing.T) {
	for _, c := range []struct {
		name string
		// edit returns the client ids that are deploy-time values.
		edit func(t *testing.T, stack awscdk.Stack, p *ehrlaunch.EhrLaunchProps) []*string
	}{
		{"literal props", func(*testing.T, awscdk.Stack, *ehrlaunch.EhrLaunchProps) []*string { return nil }},
		{"twenty CORS origins", func(_ *testing.T, _ awscdk.Stack, p *ehrlaunch.EhrLaunchProps) []*string {
			p.CorsOrigins = origins(20)
			return nil
		}},
		{"deploy-time issuer, endpoint, client ids and redirect URI, a backend service, roles of the stack, a lifetime",
			func(t *testing.T, stack awscdk.Stack, p *ehrlaunch.EhrLaunchProps) []*string {
				p.OktaIssuer = deployTimeValue(stack, "Issuer")
				p.FhirEndpoint = deployTimeValue(stack, "Endpoint")
				app, svc := deployTimeValue(stack, "AppClientId"), deployTimeValue(stack, "ServiceClientId")
				p.Apps = &[]*ehrlaunch.App{
					{ClientId: app, RedirectUris: &[]*string{jsii.String("https://app.example/cb"), deployTimeValue(stack, "RedirectUri")},
						PatientPicker: jsii.Bool(true)},
					{ClientId: jsii.String("0oa2literal"), RedirectUris: jsii.Strings("https://other.example/cb")},
				}
				p.BackendClients = &[]*ehrlaunch.BackendClient{{ClientId: svc, Jwks: jsii.String(publicJWKS(t, 2))}}
				p.EhrRoles = &[]awsiam.IRole{
					awsiam.NewRole(stack, jsii.String("EhrA"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()}),
					awsiam.NewRole(stack, jsii.String("EhrB"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()}),
				}
				p.CorsOrigins = &[]*string{jsii.String("https://app.example"), deployTimeValue(stack, "Origin")}
				p.LaunchLifetime = awscdk.Duration_Seconds(jsii.Number(120))
				return []*string{app, svc}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, regional := range []bool{true, false} {
				stack := cdktest.NewStack(t)
				if !regional {
					// Region and URL suffix are both deploy-time values then.
					stack = awscdk.NewStack(cdktest.NewApp(t, nil), jsii.String("Anywhere"), nil)
				}
				p := props(stack)
				ids := c.edit(t, stack, p)
				est, err := ehrlaunch.EstimateEnvironment(stack, p)
				require.NoError(t, err)
				ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p)
				var resolved []any
				for _, id := range ids {
					resolved = append(resolved, stack.Resolve(id))
				}
				issuers := []any{stack.Resolve(p.OktaIssuer)}
				resources := cdktest.Resources(t, cdktest.Template(t, stack))
				vars := functionVars(t, resources)
				got := rendered(t, resources, vars, resolved, issuers)
				require.GreaterOrEqual(t, est.Bytes, got, "regional %v: the estimate must not undercount", regional)
				require.Len(t, est.Variables, len(vars), "the estimate covers exactly the function's variables")
				for k := range vars {
					require.Contains(t, est.Variables, k)
				}
			}
		})
	}
}

func TestTheSizeCheckCountsEveryCorsOrigin(t *testing.T) {
	stack := cdktest.NewStack(t)
	p := props(stack)
	p.CorsOrigins = origins(70) // 70 x 58 bytes: over 4 KB by themselves
	msg := cdktest.Panics(t, func() { ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p) })
	require.Contains(t, msg, "ehrlaunch.NewEhrLaunch(Ehr): props.CorsOrigins: ")
	require.Contains(t, msg, "over Lambda's 4096-byte limit")
	require.Contains(t, msg, "allow fewer origins")
}

// launchedApps are n apps with deploy-time client ids, as the composite
// passes the Okta resource's attributes, and one redirect URI each.
func launchedApps(stack awscdk.Stack, p *ehrlaunch.EhrLaunchProps, n int) {
	var apps []*ehrlaunch.App
	for i := range n {
		apps = append(apps, &ehrlaunch.App{ClientId: deployTimeValue(stack, fmt.Sprintf("App%dClientId", i)),
			RedirectUris: jsii.Strings(fmt.Sprintf("https://app%02d.clinic.example.org/callback", i))})
	}
	p.Apps = &apps
}

func TestADeployTimeClientIdCountsAsAnOktaClientId(t *testing.T) {
	t.Run("30 launched apps synthesize (about 3.8 KB rendered with Okta's 20-character ids)", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		p := props(stack)
		launchedApps(stack, p, 30)
		est, err := ehrlaunch.EstimateEnvironment(stack, p)
		require.NoError(t, err)
		t.Logf("estimate with 30 apps: %d bytes", est.Bytes)
		ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p)
		cdktest.Template(t, stack)
	})
	t.Run("40 do not, naming props.Apps", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		p := props(stack)
		launchedApps(stack, p, 40)
		msg := cdktest.Panics(t, func() { ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p) })
		require.Contains(t, msg, "ehrlaunch.NewEhrLaunch(Ehr): props.Apps: ")
		require.Contains(t, msg, "each deploy-time client id counted as 24")
		require.Contains(t, msg, "launch fewer apps")
	})
}

func TestTheSizeErrorNamesEachBackendServiceWithItsShare(t *testing.T) {
	stack := cdktest.NewStack(t)
	p := props(stack)
	p.BackendClients = &[]*ehrlaunch.BackendClient{
		{ClientId: jsii.String("0oa1svc"), Jwks: jsii.String(publicJWKS(t, 1))},
		{ClientId: jsii.String("0oa2svc"), Jwks: jsii.String(publicJWKS(t, 8))},
	}
	est, err := ehrlaunch.EstimateEnvironment(stack, p)
	require.NoError(t, err)
	require.False(t, est.Fits())
	require.Len(t, est.BackendBytes, 2)
	require.Greater(t, est.BackendBytes[1], 6*est.BackendBytes[0], "eight keys against one")
	msg := est.Explain(ehrlaunch.EnvironmentNames{Apps: "apps", EhrRoles: "roles", CorsOrigins: "cors",
		Backend: []string{"first.jwks", "second.jwks"}, BackendOff: "turn the proxy off for them"})
	require.True(t, strings.HasPrefix(msg, "first.jwks, second.jwks: "), msg)
	require.Contains(t, msg, fmt.Sprintf("(%s) take %d (first.jwks %d, second.jwks %d)", ehrlaunchenv.EnvBackendClients,
		est.VariableBytes(ehrlaunchenv.EnvBackendClients), est.BackendBytes[0], est.BackendBytes[1]))
	require.True(t, strings.HasSuffix(msg, "or turn the proxy off for them"), msg)
}
