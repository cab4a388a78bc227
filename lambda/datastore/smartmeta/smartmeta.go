// Package smartmeta builds and validates the SMART on FHIR configuration document
// (the JSON a SMART-enabled HealthLake data store serves at
// <endpoint>.well-known/smart-configuration and receives as
// IdentityProviderConfiguration.Metadata).
//
// The document is built from the authorization server's endpoints and the SMART
// flavour, never copied from AWS's examples, which contain invalid values. Validate
// checks any document against the SMART App Launch IG (2.x) conformance rules and
// HealthLake's own restrictions, so the CDK construct can reuse it at synth time.
package smartmeta

import (
	"encoding/json"
	"fmt"
)

// Version is the SMART flavour the data store enforces.
type Version string

const (
	// V1 matches HealthLake's SMART_ON_FHIR_V1 strategy: SMART v1 scopes only.
	V1 Version = "v1"
	// V2 matches HealthLake's SMART_ON_FHIR strategy: SMART v1 and v2 scopes.
	V2 Version = "v2"
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
	Version   Version
	Endpoints Endpoints
	// ScopesSupported is advertised as scopes_supported; left out when empty.
	ScopesSupported []string
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
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	Capabilities                      []string `json:"capabilities"`
}

// Build returns the validated SMART configuration for c, as the JSON string
// HealthLake expects in IdentityProviderConfiguration.Metadata.
func Build(c Config) (string, error) {
	if c.Version != V1 && c.Version != V2 {
		return "", fmt.Errorf("SMART version must be %q or %q, got %q", V1, V2, c.Version)
	}
	doc := Document{
		Issuer:                c.Endpoints.Issuer,
		JWKSURI:               c.Endpoints.JWKSURI,
		AuthorizationEndpoint: c.Endpoints.Authorization,
		TokenEndpoint:         c.Endpoints.Token,
		IntrospectionEndpoint: c.Endpoints.Introspection,
		RevocationEndpoint:    c.Endpoints.Revocation,
		ManagementEndpoint:    c.Endpoints.Management,
		// HealthLake accepts only these two grant types.
		GrantTypesSupported: []string{"authorization_code", "client_credentials"},
		// PKCE with S256 only: "plain" would let an intercepted code be redeemed.
		CodeChallengeMethodsSupported: []string{"S256"},
		// One method per client capability advertised below: secret for
		// confidential-symmetric, private_key_jwt for confidential-asymmetric,
		// none for public clients (which rely on PKCE).
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		ResponseTypesSupported:            []string{"code"},
		ScopesSupported:                   c.ScopesSupported,
		Capabilities:                      capabilities(c.Version),
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

func capabilities(v Version) []string {
	caps := []string{
		"launch-standalone",
		"launch-ehr",
		"client-public",
		"client-confidential-symmetric",
		"client-confidential-asymmetric",
		"context-standalone-patient",
		"sso-openid-connect",
		"permission-offline",
		"permission-patient",
		"permission-user",
		"permission-v1",
	}
	if v == V2 {
		caps = append(caps, "permission-v2")
	}
	return caps
}
