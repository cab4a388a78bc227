package smarthealthlake

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"

	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

// ExternalAuthorizationServer is an OAuth 2.0 authorization server the team
// already runs (Amazon Cognito, Microsoft Entra ID, Keycloak, Auth0, Ping,
// ...), used instead of the Okta one this construct otherwise provisions.
// Nothing is created on it: the data store's SMART configuration is rendered
// from these endpoints at synth time (offline), the data store handler
// compares them with the server's live discovery document at deploy time, and
// the token validator trusts the issuer, its keys and the audiences.
type ExternalAuthorizationServer struct {
	// Issuer is the exact iss of the access tokens (https). Required.
	Issuer *string
	// DiscoveryUrl serves the server's metadata, compared at deploy time.
	// Default: Issuer + /.well-known/openid-configuration, then
	// Issuer + /.well-known/oauth-authorization-server.
	DiscoveryUrl *string
	// SkipDiscoveryCheck deploys without comparing the endpoints with the
	// discovery document, for a server the handler cannot reach (it runs
	// outside any VPC). Default: false.
	SkipDiscoveryCheck *bool
	// AuthorizationEndpoint, TokenEndpoint and JwksUri are required (https).
	AuthorizationEndpoint *string
	TokenEndpoint         *string
	JwksUri               *string
	// IntrospectionEndpoint (RFC 7662; required with ValidationIntrospection),
	// RevocationEndpoint (RFC 7009) and ManagementEndpoint are advertised when
	// given. Default: not advertised.
	IntrospectionEndpoint *string
	RevocationEndpoint    *string
	ManagementEndpoint    *string
	// ScopesSupported are advertised in the SMART configuration.
	// Default: none advertised.
	ScopesSupported *[]*string
	// Support are the SMART flows the server serves (its clients, patient
	// context, ID and refresh tokens). Default: none: the SMART version and
	// the authorization_code grant only.
	Support *smart.Support
	// Audiences are accepted token aud values besides the data store endpoint
	// (an Entra ID application id URI, an Auth0 API identifier, a Keycloak
	// audience mapper's value). Default: the data store endpoint only.
	Audiences *[]*string
	// TokenRules read the server's token shape: the scope claim, a client
	// allow-list (which may stand in for a missing aud only when explicitly
	// set), a scope mapping. Default: scp, else scope; aud required.
	TokenRules *tokenvalidator.TokenRules
	// IntrospectionSecret holds {"client_id", "client_secret"} of a client the
	// server lets introspect. Required with ValidationIntrospection.
	IntrospectionSecret awssecretsmanager.ISecret
}

// authorizationServer is what the composite wires from the authorization
// server, Okta's (oktaauth.SmartAuthorizationServer) or an external one.
type authorizationServer interface {
	Issuer() *string
	JwksUri() *string
	AuthorizationEndpoint() *string
	TokenEndpoint() *string
	IntrospectionEndpoint() *string
	IntrospectionSecret() awssecretsmanager.ISecret
	SmartEndpoints() *smartconfig.Endpoints
	ScopesSupported() *[]*string
	SmartSupport() *smart.Support
}

// external adapts the props to authorizationServer.
type external struct{ p *ExternalAuthorizationServer }

func (x external) Issuer() *string                                { return x.p.Issuer }
func (x external) JwksUri() *string                               { return x.p.JwksUri }
func (x external) AuthorizationEndpoint() *string                 { return x.p.AuthorizationEndpoint }
func (x external) TokenEndpoint() *string                         { return x.p.TokenEndpoint }
func (x external) IntrospectionEndpoint() *string                 { return x.p.IntrospectionEndpoint }
func (x external) IntrospectionSecret() awssecretsmanager.ISecret { return x.p.IntrospectionSecret }
func (x external) ScopesSupported() *[]*string                    { return x.p.ScopesSupported }
func (x external) SmartSupport() *smart.Support                   { return x.p.Support }
func (x external) SmartEndpoints() *smartconfig.Endpoints {
	return &smartconfig.Endpoints{
		Issuer:                x.p.Issuer,
		JwksUri:               x.p.JwksUri,
		AuthorizationEndpoint: x.p.AuthorizationEndpoint,
		TokenEndpoint:         x.p.TokenEndpoint,
		IntrospectionEndpoint: x.p.IntrospectionEndpoint,
		RevocationEndpoint:    x.p.RevocationEndpoint,
		ManagementEndpoint:    x.p.ManagementEndpoint,
	}
}

// discovery is the deploy-time check of the external server's endpoints.
func (x external) discovery() *smartconfig.Discovery {
	return &smartconfig.Discovery{Url: x.p.DiscoveryUrl, Skip: x.p.SkipDiscoveryCheck}
}

// problems names every invalid field of the external server's props.
func (x *ExternalAuthorizationServer) problems(validation validatorenv.Validation) []string {
	var errs []string
	for _, f := range []struct {
		name     string
		value    *string
		required bool
	}{
		{"Issuer", x.Issuer, true},
		{"DiscoveryUrl", x.DiscoveryUrl, false},
		{"AuthorizationEndpoint", x.AuthorizationEndpoint, true},
		{"TokenEndpoint", x.TokenEndpoint, true},
		{"JwksUri", x.JwksUri, true},
		{"IntrospectionEndpoint", x.IntrospectionEndpoint, validation == validatorenv.ValidationIntrospection},
		{"RevocationEndpoint", x.RevocationEndpoint, false},
		{"ManagementEndpoint", x.ManagementEndpoint, false},
	} {
		switch {
		case f.value == nil || *f.value == "":
			if f.required {
				errs = append(errs, fmt.Sprintf("props.ExternalAuthorizationServer.%s is required", f.name))
			}
		case !*awscdk.Token_IsUnresolved(f.value) && !isHTTPSURL(*f.value):
			errs = append(errs, fmt.Sprintf("props.ExternalAuthorizationServer.%s must be an absolute https URL without user info or fragment, got %q", f.name, *f.value))
		}
	}
	if validation == validatorenv.ValidationIntrospection && x.IntrospectionSecret == nil {
		errs = append(errs, "props.ExternalAuthorizationServer.IntrospectionSecret is required when props.Validation is introspection")
	}
	// TokenRules are checked by the token validator, which names them
	// props.TokenRules; the audience rule is repeated here so the refusal
	// names this construct's prop.
	if r := x.TokenRules; r != nil && r.ClientIdsStandInForAudience != nil && *r.ClientIdsStandInForAudience &&
		(r.ClientIds == nil || len(*r.ClientIds) == 0) {
		errs = append(errs, "props.ExternalAuthorizationServer.TokenRules.ClientIdsStandInForAudience needs TokenRules.ClientIds: "+
			"without an allow-list of client ids, tokens with no audience would be accepted from any client of the issuer")
	}
	return errs
}

func isHTTPSURL(s string) bool { return httpsurl.Check(s) == nil }
