package oktaauth_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// The smallest SMART authorization server: SMART v2 scopes for the US Core
// resource types, the fhirUser and patient claims, no clients yet. The
// credential secret holds {"apiToken": "..."} for Okta's management API.
func ExampleNewSmartAuthorizationServer() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Fhir"), nil)

	okta := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), &oktaauth.SmartAuthorizationServerProps{
		OrgUrl:           jsii.String("https://example.okta.com"),
		CredentialSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("OktaApi"), jsii.String("okta/management")),
	})
	awscdk.NewCfnOutput(stack, jsii.String("Issuer"), &awscdk.CfnOutputProps{Value: okta.Issuer()})
	// Output:
}

// A server with a web app and token introspection, wired to the data store:
// the token validator needs the issuer, the data store needs the token
// validator, and the audience is the data store endpoint, bound last.
func ExampleSmartAuthorizationServer_BindAudience() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Fhir"), nil)

	okta := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), &oktaauth.SmartAuthorizationServerProps{
		OrgUrl:              jsii.String("https://example.okta.com"),
		CredentialSecret:    awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("OktaApi"), jsii.String("okta/management")),
		IntrospectionClient: jsii.Bool(true),
		SmartAuthorizationServerOptions: oktaauth.SmartAuthorizationServerOptions{
			ConfidentialClient: &oktaauth.ConfidentialClientProps{
				RedirectUris: jsii.Strings("https://app.example.com/callback"),
			},
			AccessTokenLifetime: awscdk.Duration_Minutes(jsii.Number(15)),
		},
	})
	// tokenvalidator.NewTokenValidator(..., &TokenValidatorProps{Issuer: okta.Issuer(),
	//     Validation: jsii.String(tokenvalidator.ValidationIntrospection), IntrospectionSecret: okta.IntrospectionSecret(), ...})
	// ds := datastore.NewSmartDatastore(..., &SmartDatastoreProps{Endpoints: okta.SmartEndpoints(),
	//     ScopesSupported: okta.ScopesSupported(), IdpFunction: validator.IdpFunction(), ...})
	var datastoreEndpoint *string // ds.DatastoreEndpoint()
	if datastoreEndpoint != nil {
		okta.BindAudience(datastoreEndpoint)
	}
	// Output:
}

// An app registry: a patient app, a clinic's web app with its own secret and
// a lab's backend service, each with its own Okta client and access policy
// limited to its scopes.
func ExampleAppProps() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Fhir"), nil)

	okta := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), &oktaauth.SmartAuthorizationServerProps{
		OrgUrl:           jsii.String("https://example.okta.com"),
		CredentialSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("OktaApi"), jsii.String("okta/management")),
		SmartAuthorizationServerOptions: oktaauth.SmartAuthorizationServerOptions{
			Apps: &[]*oktaauth.AppProps{
				{Name: jsii.String("patient-portal"), Type: oktaprops.AppPublic,
					RedirectUris: jsii.Strings("https://portal.example.com/callback"),
					Scopes:       jsii.Strings("openid", "fhirUser", "launch/patient", "patient/*.rs"), RefreshTokens: jsii.Bool(true)},
				{Name: jsii.String("acme-clinic"), Type: oktaprops.AppConfidential,
					RedirectUris:        jsii.Strings("https://clinic.example.com/callback"),
					Scopes:              jsii.Strings("openid", "fhirUser", "user/*.rs"),
					AccessTokenLifetime: awscdk.Duration_Minutes(jsii.Number(30))},
				{Name: jsii.String("lab-feed"), Type: oktaprops.AppBackend,
					Jwks:   jsii.String(`{"keys":[{"kty":"RSA","kid":"lab-1","e":"AQAB","n":"..."}]}`),
					Scopes: jsii.Strings("system/Observation.*")},
			},
		},
	})
	awscdk.NewCfnOutput(stack, jsii.String("ClinicClientId"), &awscdk.CfnOutputProps{Value: okta.AppClientId("acme-clinic")})
	// The secret's ARN, never its value.
	awscdk.NewCfnOutput(stack, jsii.String("ClinicSecretArn"), &awscdk.CfnOutputProps{Value: okta.AppClientSecret("acme-clinic").SecretArn()})
}
