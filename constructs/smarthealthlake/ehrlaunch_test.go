package smarthealthlake_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/ehrlaunch"
	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/handler"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/smartcatalog"
)

const (
	appRedirect = "https://app.clinic.example/callback"
	ehrRoleArn  = "arn:aws:iam::123456789012:role/ehr-launcher"
)

// withEhrLaunch is the smallest use with a confidential app EHRs launch.
func withEhrLaunch(stack awscdk.Stack) *smarthealthlake.SmartHealthLakeProps {
	p := smallest(stack)
	p.AuthorizationServer = &oktaauth.SmartAuthorizationServerProps{
		ConfidentialClient: &oktaauth.ConfidentialClientProps{RedirectUris: jsii.Strings(appRedirect)},
	}
	p.EhrLaunch = &smarthealthlake.EhrLaunchOptions{
		EhrRoles: &[]awsiam.IRole{awsiam.Role_FromRoleArn(stack, jsii.String("Ehr"), jsii.String(ehrRoleArn),
			&awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)})},
	}
	return p
}

// ehrFunctionEnv is the EHR launch function's environment.
func ehrFunctionEnv(t *testing.T, all map[string]cdktest.Resource) map[string]any {
	t.Helper()
	for _, fn := range cdktest.OfType(all, "AWS::Lambda::Function") {
		env, _ := fn.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if _, ok := vars[launchflow.EnvEHRPrincipals]; ok {
			return vars
		}
	}
	t.Fatal("no EHR launch function")
	return nil
}

func TestEhrLaunchIsWiredThroughOktaTheDatastoreAndTheValidator(t *testing.T) {
	stack := newStack(t)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), withEhrLaunch(stack))
	require.NotNil(t, shl.EhrLaunch())
	tpl := cdktest.Template(t, stack) // a dependency cycle fails synthesis here
	all := cdktest.Resources(t, tpl)
	apiID, _ := cdktest.Only(t, all, "AWS::ApiGateway::RestApi")
	oktaID, okta := cdktest.Only(t, all, oktaauth.ResourceType)
	dsID, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	url := func(path string) string {
		return cdktest.Resolved(t, stack, shl.EhrLaunch().Api().RestApiId()).(map[string]any)["Ref"].(string) + path
	}
	_ = url
	raw, _ := json.MarshalIndent(map[string]any{"okta": okta.Properties, "ds": ds.Properties, "ehr": ehrFunctionEnv(t, all)}, "", " ")
	t.Log(string(raw), apiID, oktaID, dsID, idp.EnvEHRLaunch, handler.PropDiscoveryCheck, smartmeta.PropSupport, smartcatalog.PropName, ehrlaunch.StageName)
}
