// Package smartconfig holds the values that connect the authorization server
// (Okta) to the SMART-enabled HealthLake data store: the endpoints a SMART
// configuration advertises, and the SMART flavour.
//
// It has no constructs of its own, so that the Okta and data store constructs can
// share these types without importing each other.
package smartconfig

// Flavour is the SMART on FHIR version a data store enforces.
type Flavour string

const (
	// V1 accepts SMART v1 scopes only (patient/Observation.read).
	// HealthLake authorization strategy SMART_ON_FHIR_V1.
	V1 Flavour = "v1"
	// V2 accepts SMART v1 and v2 scopes (patient/Observation.rs).
	// HealthLake authorization strategy SMART_ON_FHIR.
	V2 Flavour = "v2"
)

// AuthorizationStrategy returns HealthLake's name for the flavour, or "" for an
// unknown flavour.
func (f Flavour) AuthorizationStrategy() string {
	switch f {
	case V1:
		return "SMART_ON_FHIR_V1"
	case V2:
		return "SMART_ON_FHIR"
	}
	return ""
}

// Valid reports whether f is a known flavour.
func (f Flavour) Valid() bool { return f.AuthorizationStrategy() != "" }

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

// Support says which SMART flows the authorization server serves, so the data
// store's SMART configuration advertises those and nothing else (capabilities,
// grant types, token endpoint authentication methods). The Okta construct's
// SmartSupport reports its own. EHR launch (EHRLaunch) is advertised only when
// constructs/ehrlaunch is deployed and its proxies are the Endpoints'
// AuthorizationEndpoint and TokenEndpoint.
type Support struct {
	// ConfidentialClients: user-facing apps with a client secret
	// (client-confidential-symmetric, client_secret_basic).
	ConfidentialClients bool
	// PublicClients: user-facing apps without a secret, PKCE only
	// (client-public).
	PublicClients bool
	// BackendServices: SMART Backend Services clients, client_credentials with
	// private_key_jwt (client-confidential-asymmetric).
	BackendServices bool
	// PatientContext: tokens granted launch/patient carry the patient, such as
	// the Okta patient claim (context-standalone-patient, with a user-facing app).
	PatientContext bool
	// OpenIDConnect: user-facing apps get ID tokens with fhirUser
	// (sso-openid-connect).
	OpenIDConnect bool
	// RefreshTokens: user-facing apps get refresh tokens with offline_access
	// (permission-offline).
	RefreshTokens bool
	// EHRLaunch: the EHR launch proxy (constructs/ehrlaunch) resolves launch
	// contexts (launch-ehr, context-ehr-patient, context-ehr-encounter, with a
	// user-facing app and the launch scope).
	EHRLaunch bool
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
