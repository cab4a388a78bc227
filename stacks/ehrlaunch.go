package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

// ehrLaunch renders cdk.json's ehrLaunch block as the composite's option, or
// nil when it is off; envconfig has validated it.
func ehrLaunch(stack awscdk.Stack, x envconfig.EhrLaunch) *smarthealthlake.EhrLaunchOptions {
	if !x.Enabled {
		return nil
	}
	o := &smarthealthlake.EhrLaunchOptions{
		EhrRoles:             &[]awsiam.IRole{},
		LaunchLifetime:       awscdk.Duration_Seconds(jsii.Number(float64(x.LaunchLifetimeSeconds))),
		ProxyBackendServices: jsii.Bool(x.ProxyBackendServices),
	}
	app := func(a string) smarthealthlake.EhrLaunchApp {
		if envconfig.IsEhrLaunchSingleApp(a) {
			return smarthealthlake.EhrLaunchApp(a)
		}
		return smarthealthlake.EhrLaunchRegistryApp(a) // a name of okta.apps
	}
	for _, a := range x.Apps {
		o.Apps = append(o.Apps, app(a))
	}
	for _, a := range x.PickerApps {
		o.PickerApps = append(o.PickerApps, app(a))
	}
	// Imported immutable: the EHRs' roles belong to their own stacks or
	// accounts; the API's resource-level IAM authorization and the function's
	// own check of the caller admit exactly these.
	for i, arn := range x.EHRRoleARNs {
		*o.EhrRoles = append(*o.EhrRoles, awsiam.Role_FromRoleArn(stack, jsii.String(fmt.Sprintf("EhrRole%d", i)), jsii.String(arn),
			&awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)}))
	}
	if len(x.CORSOrigins) > 0 {
		o.CorsOrigins = jsii.Strings(x.CORSOrigins...)
	}
	return o
}

// ehrLaunchNames are cdk.json's keys for what the composite's EHR launch
// size error blames (okta.apps is rendered in order as
// AuthorizationServer.Apps, see authorizationServer).
var ehrLaunchNames = smarthealthlake.EhrLaunchNames{
	Apps: "ehrLaunch.apps", EhrRoles: "ehrLaunch.ehrRoleArns", CorsOrigins: "ehrLaunch.corsOrigins",
	BackendClientJwks:    "okta.backendClientJwks",
	AppJwks:              func(i int) string { return fmt.Sprintf("okta.apps[%d].jwks", i) },
	ProxyBackendServices: "ehrLaunch.proxyBackendServices",
}

// ehrLaunchOutputs tell the EHR's integrators where to register launches.
func ehrLaunchOutputs(output func(id, description string, value *string), shl *smarthealthlake.SmartHealthLake) {
	ehr := shl.EhrLaunch()
	if ehr == nil {
		return
	}
	output("EhrLaunchUrl", "POST launch contexts here (SigV4 by one of ehrLaunch.ehrRoleArns) to get a SMART launch id", ehr.LaunchUrl())
	output("EhrLaunchApiUrl", "Base URL of the EHR launch API: the authorize, token and introspection proxies apps use", ehr.BaseUrl())
	if ehr.AssertionKey() != nil {
		// The proxy serves the backend services (ehrLaunch.proxyBackendServices):
		// the token endpoint they and smartcheck's token check use.
		output("BackendTokenEndpoint", "Token endpoint of the SMART backend services: the EHR launch token proxy, which the SMART configuration advertises",
			ehr.TokenUrl())
	}
}
