package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

// externalServer renders cdk.json's external block as the composite's props;
// envconfig has validated it.
func externalServer(stack awscdk.Stack, x *envconfig.External) *smarthealthlake.ExternalAuthorizationServer {
	optional := func(s string) *string {
		if s == "" {
			return nil
		}
		return jsii.String(s)
	}
	list := func(l []string) *[]*string {
		if len(l) == 0 {
			return nil
		}
		return jsii.Strings(l...)
	}
	// envconfig accepted the names, so ParseFeatures cannot fail here.
	support, _ := smart.ParseFeatures(x.Supports)
	p := &smarthealthlake.ExternalAuthorizationServer{
		Issuer:                jsii.String(x.Issuer),
		DiscoveryUrl:          optional(x.DiscoveryURL),
		SkipDiscoveryCheck:    jsii.Bool(x.SkipDiscoveryCheck),
		AuthorizationEndpoint: jsii.String(x.AuthorizationEndpoint),
		TokenEndpoint:         jsii.String(x.TokenEndpoint),
		JwksUri:               jsii.String(x.JwksURI),
		IntrospectionEndpoint: optional(x.IntrospectionEndpoint),
		RevocationEndpoint:    optional(x.RevocationEndpoint),
		ManagementEndpoint:    optional(x.ManagementEndpoint),
		ScopesSupported:       list(x.ScopesSupported),
		Support: &smart.Support{
			ConfidentialClients: support.ConfidentialClients, PublicClients: support.PublicClients,
			BackendServices: support.BackendServices, PatientContext: support.PatientContext,
			OpenIDConnect: support.OpenIDConnect, RefreshTokens: support.RefreshTokens,
		},
		Audiences: list(x.Audiences),
		TokenRules: &tokenvalidator.TokenRules{
			ScopeClaim:                  optional(x.ScopeClaim),
			ClientIds:                   list(x.ClientIDs),
			ClientIdsStandInForAudience: jsii.Bool(x.ClientIDsStandInForAudience),
		},
	}
	if len(x.ScopeMap) > 0 {
		m := map[string]*string{}
		for k, v := range x.ScopeMap {
			m[k] = jsii.String(v)
		}
		p.TokenRules.ScopeMap = &m
	}
	if x.IntrospectionClientSecret != "" {
		p.IntrospectionSecret = CredentialSecretFromNameOrArn(stack, jsii.String("IntrospectionClient"),
			x.IntrospectionClientSecret, secretKey(stack, "IntrospectionClient", x.IntrospectionClientSecretKey))
	}
	return p
}

// externalOutputs are the external server's issuer and endpoints: its clients
// are its own, so no client id is output.
func externalOutputs(output func(id, description string, value *string), shl *smarthealthlake.SmartHealthLake) {
	output("Issuer", "Authorization server issuer (iss of the access tokens)", shl.Issuer())
	output("AuthorizationEndpoint", "Authorization server's authorize endpoint", shl.AuthorizationEndpoint())
	output("TokenEndpoint", "Authorization server's token endpoint", shl.TokenEndpoint())
}
