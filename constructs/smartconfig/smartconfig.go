// Package smartconfig holds the values that connect the authorization server
// (Okta) to the SMART-enabled HealthLake data store: the endpoints a SMART
// configuration advertises and how the data store checks them. The SMART
// version and the flows served (smart.Version, smart.Support) are in
// contract/smart, shared with the handlers.
//
// It has no constructs of its own, so that the Okta and data store constructs can
// share these types without importing each other.
package smartconfig

// Endpoints are the authorization server's URLs, as CloudFormation values (they are
// usually tokens resolved at deploy time from the Okta custom resource). The data
// store renders its SMART configuration document
// (`<endpoint>/.well-known/smart-configuration`) from them at deploy time.
type Endpoints struct {
	// Issuer is the exact `iss` of the access tokens. Required.
	Issuer *string
	// JwksUri serves the authorization server's signing keys. Required.
	JwksUri *string
	// AuthorizationEndpoint is where apps send users to log in and consent. Required.
	AuthorizationEndpoint *string
	// TokenEndpoint issues access tokens. Required.
	TokenEndpoint *string
	// IntrospectionEndpoint implements RFC 7662.
	// Default: not advertised.
	IntrospectionEndpoint *string
	// RevocationEndpoint implements RFC 7009.
	// Default: not advertised.
	RevocationEndpoint *string
	// ManagementEndpoint is where users review and revoke app access.
	// Default: not advertised.
	ManagementEndpoint *string
}

// Discovery asks the data store's handler to compare the Endpoints with the
// authorization server's live discovery document at deploy time (Create and
// Update): a mismatch, or a document that cannot be fetched, fails the
// deployment naming both values, so a typo in an endpoint never reaches the
// SMART configuration apps read.
type Discovery struct {
	// Url is where the server's metadata is served (https).
	// Default: Issuer + "/.well-known/openid-configuration", then
	// Issuer + "/.well-known/oauth-authorization-server".
	Url *string
	// Skip turns the check off, for a server the handler cannot reach (a
	// private IdP: the handler runs outside any VPC). Default: false.
	Skip *bool
	// IssuerAndKeysOnly compares only the issuer and jwks_uri: the
	// authorization, token and introspection endpoints are proxies in front of
	// the server (EHR launch, constructs/ehrlaunch), which differ from its
	// discovery document on purpose. Default: false (every configured
	// endpoint is compared).
	IssuerAndKeysOnly *bool
}
