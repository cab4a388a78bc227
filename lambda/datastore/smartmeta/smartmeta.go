// Package smartmeta builds and validates the SMART on FHIR configuration document
// (the JSON a SMART-enabled HealthLake data store serves at
// <endpoint>.well-known/smart-configuration and receives as
// IdentityProviderConfiguration.Metadata).
//
// The document is built from the authorization server's endpoints and the SMART
// version, never copied from AWS's examples, which contain invalid values. Validate
// checks any document against the SMART App Launch IG (2.x) conformance rules and
// HealthLake's own restrictions, so the CDK construct can reuse it at synth time.
package smartmeta

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// Endpoints are the authorization server's URLs. Issuer, JWKSURI, Authorization and
// Token are required; the others are left out of the document when empty.
type Endpoints struct {
	Issuer        string
	JWKSURI       string
	Authorization string
	Token         string
	Introspection string
	Revocation    string
	Management    string
}

// Config is what Build needs.
type Config struct {
	Version   smart.Version
	Endpoints Endpoints
	// ScopesSupported is advertised as scopes_supported; left out when empty.
	// When given, a capability that needs a scope (context-standalone-patient
	// needs launch/patient, permission-offline offline_access,
	// sso-openid-connect openid and fhirUser, permission-patient and
	// permission-user a patient/ or user/ scope) is advertised only when the
	// scope is listed, and permission-v1 on a SMART v2 data store only when a v1
	// scope is.
	ScopesSupported []string
	// Support is what the deployment lets apps do; the zero value (nothing
	// configured) advertises the data store's SMART version only.
	Support smart.Support
}

// Document is the SMART configuration, with the key names of the SMART App Launch IG.
type Document struct {
	Issuer                            string   `json:"issuer"`
	JWKSURI                           string   `json:"jwks_uri"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	ManagementEndpoint                string   `json:"management_endpoint,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	// TokenEndpointAuthSigningAlgValuesSupported are the client assertion
	// algorithms (RFC 8414); SMART's asymmetric client authentication page
	// lists it among the properties of a server advertising
	// client-confidential-asymmetric, with at least one of RS384 and ES384.
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	Capabilities                               []string `json:"capabilities"`
}

// Build returns the validated SMART configuration for c, as the JSON string
// HealthLake expects in IdentityProviderConfiguration.Metadata.
func Build(c Config) (string, error) {
	if !c.Version.Valid() {
		return "", fmt.Errorf("SMART version must be %q or %q, got %q", smart.V1, smart.V2, c.Version)
	}
	doc := Document{
		Issuer:                c.Endpoints.Issuer,
		JWKSURI:               c.Endpoints.JWKSURI,
		AuthorizationEndpoint: c.Endpoints.Authorization,
		TokenEndpoint:         c.Endpoints.Token,
		IntrospectionEndpoint: c.Endpoints.Introspection,
		RevocationEndpoint:    c.Endpoints.Revocation,
		ManagementEndpoint:    c.Endpoints.Management,
		// PKCE with S256 only: "plain" would let an intercepted code be redeemed.
		CodeChallengeMethodsSupported: []string{"S256"},
		ScopesSupported:               c.ScopesSupported,
		Capabilities:                  capabilities(c),
	}
	doc.GrantTypesSupported, doc.ResponseTypesSupported = grantTypes(c.Support)
	doc.TokenEndpointAuthMethodsSupported = authMethods(c.Support)
	if c.Support.BackendServices {
		// The two algorithms SMART clients must support (Client Authentication:
		// Asymmetric); Okta accepts both for private_key_jwt.
		doc.TokenEndpointAuthSigningAlgValuesSupported = []string{"RS384", "ES384"}
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("encoding SMART configuration: %w", err)
	}
	if err := Validate(raw, c.Version); err != nil {
		return "", err
	}
	return string(raw), nil
}

// capabilities are the SMART App Launch 2.x capability codes the deployment
// makes true (the IG's Conformance page defines them).
func capabilities(c Config) []string {
	offered := func(match func(string) bool) bool {
		return len(c.ScopesSupported) == 0 || slices.ContainsFunc(c.ScopesSupported, match)
	}
	scope := func(name string) func(string) bool { return func(s string) bool { return s == name } }
	prefix := func(p string) func(string) bool { return func(s string) bool { return strings.HasPrefix(s, p) } }
	s := c.Support
	user := s.UserFacing()
	var caps []string
	add := func(on bool, capability string) {
		if on {
			caps = append(caps, capability)
		}
	}
	// An app a user opens on its own, outside an EHR: every user-facing client.
	add(user, "launch-standalone")
	ehr := user && s.EHRLaunch && offered(scope("launch"))
	add(ehr, "launch-ehr")
	add(s.PublicClients, "client-public")
	add(s.ConfidentialClients, "client-confidential-symmetric")
	add(s.BackendServices, "client-confidential-asymmetric")
	add(user && s.PatientContext && offered(scope("launch/patient")), "context-standalone-patient")
	add(ehr, "context-ehr-patient")
	add(ehr, "context-ehr-encounter")
	add(user && s.OpenIDConnect && offered(scope("openid")) && offered(scope("fhirUser")), "sso-openid-connect")
	add(user && s.RefreshTokens && offered(scope("offline_access")), "permission-offline")
	add(user && offered(prefix("patient/")), "permission-patient")
	add(user && offered(prefix("user/")), "permission-user")
	// SMART_ON_FHIR_V1 accepts v1 scopes only; SMART_ON_FHIR accepts both, so
	// v1 is advertised there when v1 scopes are offered (or none are listed).
	add(c.Version == smart.V1 || offered(isV1Scope), "permission-v1")
	add(c.Version == smart.V2, "permission-v2")
	return caps
}

// isV1Scope reports whether s is a SMART v1 resource scope (read, write, *).
func isV1Scope(s string) bool {
	m := resourceScope.FindStringSubmatch(s)
	return m != nil && slices.Contains([]string{"read", "write", "*"}, m[3])
}

// grantTypes are the token endpoint's grant types and the authorize
// endpoint's response types: authorization_code (response type code) for
// user-facing apps, client_credentials for backend services. HealthLake
// refuses an empty grant_types_supported, so a deployment without any client
// advertises authorization_code, the SMART App Launch flow an app registered
// later would use, and no capability that goes with it.
func grantTypes(s smart.Support) (grants, responses []string) {
	if s.UserFacing() || !s.BackendServices {
		grants, responses = append(grants, "authorization_code"), []string{"code"}
	}
	if s.BackendServices {
		grants = append(grants, "client_credentials")
	}
	return grants, responses
}

// authMethods are the token endpoint authentication methods of the
// configured clients: client_secret_basic for confidential apps (Okta's web
// apps here authenticate so), private_key_jwt for backend services, none for
// public apps. Left out when there is no client.
func authMethods(s smart.Support) []string {
	var out []string
	if s.ConfidentialClients {
		out = append(out, "client_secret_basic")
	}
	if s.BackendServices {
		out = append(out, "private_key_jwt")
	}
	if s.PublicClients {
		out = append(out, "none")
	}
	return out
}
