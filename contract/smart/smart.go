// Package smart holds the SMART on FHIR vocabulary shared by the constructs,
// the stacks and the Lambda handlers: the SMART version a deployment enforces
// and the SMART flows it serves. It imports nothing but the standard library,
// so that a consumer's synthesis binary links no SDK to use it.
package smart

import (
	"fmt"
	"slices"
)

// Version is the SMART on FHIR version a deployment enforces, spelled the same
// in cdk.json (datastore.smartVersion), in construct props (SmartVersion), in
// custom resource properties (SmartVersion) and in the token validator's
// environment (SMART_VERSION).
type Version string

const (
	// V1 accepts SMART v1 scopes only (patient/Observation.read).
	// HealthLake authorization strategy SMART_ON_FHIR_V1.
	V1 Version = "v1"
	// V2 accepts SMART v1 and v2 scopes (patient/Observation.rs).
	// HealthLake authorization strategy SMART_ON_FHIR.
	V2 Version = "v2"
)

// Versions are the known versions, oldest first.
var Versions = []Version{V1, V2}

// AuthorizationStrategy returns HealthLake's name for the version, or "" for
// an unknown version.
func (v Version) AuthorizationStrategy() string {
	switch v {
	case V1:
		return "SMART_ON_FHIR_V1"
	case V2:
		return "SMART_ON_FHIR"
	}
	return ""
}

// Valid reports whether v is a known version.
func (v Version) Valid() bool { return v.AuthorizationStrategy() != "" }

// VersionOfStrategy returns the version of HealthLake's authorization
// strategy name, and false for a strategy that is not SMART (AWS_AUTH).
func VersionOfStrategy(strategy string) (Version, bool) {
	for _, v := range Versions {
		if v.AuthorizationStrategy() == strategy {
			return v, true
		}
	}
	return "", false
}

// ParseVersion reads a version; the error lists the known ones.
func ParseVersion(s string) (Version, error) {
	if v := Version(s); v.Valid() {
		return v, nil
	}
	return "", fmt.Errorf(`must be "v1" (SMART_ON_FHIR_V1) or "v2" (SMART_ON_FHIR), got %q`, s)
}

// Support says which SMART flows the deployment serves, so that the data
// store's SMART configuration advertises those and nothing else (capabilities,
// grant types, token endpoint authentication methods). The Okta construct's
// SmartSupport reports its own. EHR launch is advertised only with EHRLaunch,
// when the deployment runs the EHR launch proxies, whose authorize and token
// endpoints must then be the document's endpoints.
type Support struct {
	// ConfidentialClients are user-facing apps authenticating with a client
	// secret (client_secret_basic): client-confidential-symmetric.
	ConfidentialClients bool
	// PublicClients are user-facing apps without a secret, relying on PKCE:
	// client-public (token endpoint auth method none).
	PublicClients bool
	// BackendServices are SMART Backend Services clients (client_credentials
	// with a private_key_jwt assertion): client-confidential-asymmetric, as the
	// IG's Backend Services example advertises it.
	BackendServices bool
	// PatientContext says a source of the standalone launch's patient is
	// configured (the Okta patient claim in tokens granted launch/patient):
	// context-standalone-patient, with a user-facing client.
	PatientContext bool
	// OpenIDConnect says user-facing apps get ID tokens with fhirUser:
	// sso-openid-connect, with a user-facing client.
	OpenIDConnect bool
	// RefreshTokens says user-facing apps get refresh tokens with
	// offline_access: permission-offline, with a user-facing client.
	RefreshTokens bool
	// EHRLaunch says the EHR launch proxy resolves launch contexts:
	// launch-ehr, context-ehr-patient and context-ehr-encounter, with a
	// user-facing client and the launch scope offered.
	EHRLaunch bool
}

// UserFacing reports whether any app signs a user in (SMART App Launch).
func (s Support) UserFacing() bool { return s.ConfidentialClients || s.PublicClients }

// Feature names of Support, as Features lists them.
const (
	FeatureConfidentialClients = "confidential-clients"
	FeaturePublicClients       = "public-clients"
	FeatureBackendServices     = "backend-services"
	FeaturePatientContext      = "patient-context"
	FeatureOpenIDConnect       = "openid-connect"
	FeatureRefreshTokens       = "refresh-tokens"
	FeatureEHRLaunch           = "ehr-launch"
)

type feature struct {
	name string
	on   *bool
}

func (s *Support) fields() []feature {
	return []feature{
		{FeatureConfidentialClients, &s.ConfidentialClients},
		{FeaturePublicClients, &s.PublicClients},
		{FeatureBackendServices, &s.BackendServices},
		{FeaturePatientContext, &s.PatientContext},
		{FeatureOpenIDConnect, &s.OpenIDConnect},
		{FeatureRefreshTokens, &s.RefreshTokens},
		{FeatureEHRLaunch, &s.EHRLaunch},
	}
}

// FeatureNames lists every feature name, in the order Features uses.
func FeatureNames() []string {
	var s Support
	var out []string
	for _, f := range s.fields() {
		out = append(out, f.name)
	}
	return out
}

// Features lists the features that are on, in a fixed order.
func (s Support) Features() []string {
	out := []string{}
	for _, f := range s.fields() {
		if *f.on {
			out = append(out, f.name)
		}
	}
	return out
}

// ParseFeatures reads a list of feature names; an unknown name is an error
// naming it.
func ParseFeatures(names []string) (Support, error) {
	var s Support
	for _, n := range names {
		i := slices.IndexFunc(s.fields(), func(f feature) bool { return f.name == n })
		if i < 0 {
			return Support{}, fmt.Errorf("unknown feature %q (known: %v)", n, FeatureNames())
		}
		*s.fields()[i].on = true
	}
	return s, nil
}
