package smarthealthlake_test

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// An Amazon Cognito user pool as the authorization server: nothing is made in
// Okta; Cognito's access tokens carry no aud, so the listed app client stands
// in for it (explicitly: never by default).
func ExampleNewSmartHealthLake_externalAuthorizationServer() {
	app := awscdk.NewApp(nil)
	stack := awscdk.NewStack(app, jsii.String("Fhir"), nil)
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), &smarthealthlake.SmartHealthLakeProps{
		ExternalAuthorizationServer: &smarthealthlake.ExternalAuthorizationServer{
			Issuer:                jsii.String("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123"),
			AuthorizationEndpoint: jsii.String("https://smart.auth.us-east-1.amazoncognito.com/oauth2/authorize"),
			TokenEndpoint:         jsii.String("https://smart.auth.us-east-1.amazoncognito.com/oauth2/token"),
			JwksUri:               jsii.String("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123/.well-known/jwks.json"),
			ScopesSupported:       jsii.Strings("openid", "launch/patient", "patient/*.read"),
			Support:               &smart.Support{PublicClients: true, OpenIDConnect: true},
			TokenRules: &tokenvalidator.TokenRules{
				ScopeClaim:                  jsii.String("scope"),
				ClientIds:                   jsii.Strings("1example23456789"),
				ClientIdsStandInForAudience: jsii.Bool(true),
			},
		},
	})
}
