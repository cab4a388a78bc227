package ehrlaunch_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/ehrlaunch"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

const (
	issuer   = "https://acme.okta.com/oauth2/aus1234567890abcdef"
	endpoint = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"
	ehrRole  = "arn:aws:iam::123456789012:role/EhrLauncher"
)

func props(stack awscdk.Stack) *ehrlaunch.EhrLaunchProps {
	return &ehrlaunch.EhrLaunchProps{
		OktaIssuer: jsii.String(issuer), FhirEndpoint: jsii.String(endpoint),
		Apps:     &[]*ehrlaunch.App{{ClientId: jsii.String("0oa1app"), RedirectUris: jsii.Strings("https://app.example/cb")}},
		EhrRoles: &[]awsiam.IRole{awsiam.Role_FromRoleArn(stack, jsii.String("EhrSystemRole"), jsii.String(ehrRole), nil)},
	}
}

func TestTheTableIsEncryptedRecoverableAndExpires(t *testing.T) {
	stack := cdktest.NewStack(t)
	ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), props(stack))
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
			"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
			"BillingMode":                      "PAY_PER_REQUEST",
			"TimeToLiveSpecification":          map[string]any{"AttributeName": "expires_at", "Enabled": true},
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
			"SSESpecification": map[string]any{"SSEEnabled": true, "SSEType": "KMS",
				"KMSMasterKeyId": assertions.Match_AnyValue()},
		})
	})
}

func TestOnlyLaunchNeedsSigV4AndOnlyTheEHRRoleMayCallIt(t *testing.T) {
	stack := cdktest.NewStack(t)
	ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), props(stack))
	tpl := cdktest.Template(t, stack)
	methods := tpl.FindResources(jsii.String("AWS::ApiGateway::Method"), nil)
	auth := map[string]int{}
	for _, m := range *methods {
		p := (*m)["Properties"].(map[string]any)
		auth[p["HttpMethod"].(string)+" "+p["AuthorizationType"].(string)]++
	}
	require.Equal(t, map[string]int{"POST AWS_IAM": 1, "GET NONE": 2, "POST NONE": 4, "OPTIONS NONE": 1}, auth)

	policies, err := json.Marshal(tpl.FindResources(jsii.String("AWS::IAM::Policy"), nil))
	require.NoError(t, err)
	require.Contains(t, string(policies), `"execute-api:Invoke"`)
	require.Contains(t, string(policies), `/smart/POST/launch`)
	require.NotContains(t, string(policies), `dynamodb:Scan`, "the function needs item operations only")
	require.NotContains(t, string(policies), `dynamodb:*`)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				"EHRLAUNCH_OKTA_ISSUER":    issuer,
				"EHRLAUNCH_FHIR_AUDIENCE":  endpoint,
				"EHRLAUNCH_EHR_PRINCIPALS": ehrRole,
				"EHRLAUNCH_CLIENTS":        `[{"client_id":"0oa1app","redirect_uris":["https://app.example/cb"]}]`,
			}},
		})
	})
}

func TestOnlyAnAppMarkedForThePatientPickerGetsIt(t *testing.T) {
	stack := cdktest.NewStack(t)
	p := props(stack)
	*p.Apps = append(*p.Apps, &ehrlaunch.App{ClientId: jsii.String("0oa2clinic"), RedirectUris: jsii.Strings("https://clinic.example/cb"),
		PatientPicker: jsii.Bool(true)})
	ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p)
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{
				"EHRLAUNCH_CLIENTS": `[{"client_id":"0oa1app","redirect_uris":["https://app.example/cb"]},` +
					`{"client_id":"0oa2clinic","patient_picker":true,"redirect_uris":["https://clinic.example/cb"]}]`,
			}},
		})
		tpl.HasResourceProperties(jsii.String("AWS::ApiGateway::Resource"), map[string]any{"PathPart": "picker"})
	})
}

func TestTheLaunchFunctionLogsJSONAtInfo(t *testing.T) {
	stack := cdktest.NewStack(t)
	ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), props(stack))
	cdktest.Try(t, func() {
		cdktest.Template(t, stack).HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"LoggingConfig": map[string]any{"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO",
				"LogGroup": assertions.Match_AnyValue()},
		})
	})
}

func TestTheFunctionKnowsItsOwnStageURL(t *testing.T) {
	stack := cdktest.NewStack(t)
	e := ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), props(stack))
	tpl := cdktest.Template(t, stack)
	fns, err := json.Marshal(tpl.FindResources(jsii.String("AWS::Lambda::Function"), nil))
	require.NoError(t, err)
	// https://<api id>.execute-api.<region>.<suffix>/smart, built from the API id
	// (not the stage, which depends on the function: a cycle).
	require.Contains(t, string(fns), `"EHRLAUNCH_PUBLIC_URL":{"Fn::Join":["",["https://",{"Ref":"`)
	require.Contains(t, string(fns), `".execute-api.us-east-1.",{"Ref":"AWS::URLSuffix"},"/smart"]]}`)
	cb, err := json.Marshal(stack.Resolve(e.CallbackUrl()))
	require.NoError(t, err)
	require.Contains(t, string(cb), `/smart`)
	require.Contains(t, string(cb), `/callback`)
}

func TestAccessLogsLeaveQueriesOut(t *testing.T) {
	stack := cdktest.NewStack(t)
	ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), props(stack))
	tpl := cdktest.Template(t, stack)
	stages, err := json.Marshal(tpl.FindResources(jsii.String("AWS::ApiGateway::Stage"), nil))
	require.NoError(t, err)
	s := string(stages)
	require.Contains(t, s, "AccessLogSetting")
	require.Contains(t, s, `"TracingEnabled":true`)
	require.Contains(t, s, `"DataTraceEnabled":false`)
	for _, leak := range []string{"$context.requestOverride", "querystring", "$input"} {
		require.NotContains(t, s, leak, "the access log format must not log query strings or bodies")
	}
}

func TestBadPropsNameTheProp(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*ehrlaunch.EhrLaunchProps)
		want string
	}{
		{"no issuer", func(p *ehrlaunch.EhrLaunchProps) { p.OktaIssuer = nil }, "props.OktaIssuer"},
		{"no apps", func(p *ehrlaunch.EhrLaunchProps) { p.Apps = nil }, "props.Apps"},
		{"no EHR role", func(p *ehrlaunch.EhrLaunchProps) { p.EhrRoles = nil }, "props.EhrRoles"},
		{"an app without redirect URIs", func(p *ehrlaunch.EhrLaunchProps) { (*p.Apps)[0].RedirectUris = nil }, "props.Apps[0].RedirectUris"},
		{"a launch lifetime above five minutes", func(p *ehrlaunch.EhrLaunchProps) { p.LaunchLifetime = awscdk.Duration_Minutes(jsii.Number(6)) }, "props.LaunchLifetime"},
		{"a launch lifetime in fractions of a second", func(p *ehrlaunch.EhrLaunchProps) { p.LaunchLifetime = awscdk.Duration_Millis(jsii.Number(1500)) },
			"props.LaunchLifetime must be whole seconds from 1s to 5m0s, not 1.5 seconds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := cdktest.NewStack(t)
			p := props(stack)
			c.edit(p)
			msg := cdktest.Panics(t, func() { ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p) })
			require.Contains(t, msg, c.want)
		})
	}
}

// TestNagFindingsAreFixedOrExcused: every HIPAA and AWS Solutions finding is
// fixed or suppressed next to its resource with a reason, except the
// project-wide HIPAA.Security-IAMNoInlinePolicy (as in the other constructs' tests).
func TestNagFindingsAreFixedOrExcused(t *testing.T) {
	stack := cdktest.NewStack(t)
	ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), props(stack))
	cdktest.SuppressInStack(stack, "project-wide choice left to the app", "HIPAA.Security-IAMNoInlinePolicy")
	cdktest.ApplyNagPacks(stack)
	require.Empty(t, cdktest.NagFindings(t, stack))
	var ours []cdktest.Suppression
	for _, s := range cdktest.Suppressions(t, cdktest.Template(t, stack)) {
		if strings.HasPrefix(s.Resource, "Ehr") {
			ours = append(ours, s)
		}
	}
	require.NotEmpty(t, ours, "the construct's suppressions are in the template")
	cdktest.RequireJustified(t, ours)
}
