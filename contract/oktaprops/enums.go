package oktaprops

import (
	"fmt"
	"slices"
	"strings"
)

// The closed sets of values the properties take, one type each. The
// construct's props have these types and Parse reads the properties into
// them, so a value is spelled once. Each type's values are the subset of
// Okta's enum (management API spec, the schema named on the type) that this
// resource supports.

// IssuerMode is the domain in the server's issuer URL (IssuerMode property;
// Okta's schema IssuerMode).
type IssuerMode string

const (
	// IssuerModeOrgURL issues tokens as https://<org>/oauth2/<server id>. The default.
	IssuerModeOrgURL IssuerMode = "ORG_URL"
	// IssuerModeCustomURL issues tokens under the org's custom domain.
	IssuerModeCustomURL IssuerMode = "CUSTOM_URL"
	// IssuerModeDynamic issues tokens under the domain the request came to.
	IssuerModeDynamic IssuerMode = "DYNAMIC"
)

// IssuerModes lists the issuer modes, the default first.
func IssuerModes() []IssuerMode {
	return []IssuerMode{IssuerModeOrgURL, IssuerModeCustomURL, IssuerModeDynamic}
}

// Valid reports whether m is one of IssuerModes.
func (m IssuerMode) Valid() bool { return slices.Contains(IssuerModes(), m) }

// ScopeConsent says whether Okta asks the user to consent to the clinical
// scopes (ScopeConsent property; Okta's OAuth2ScopeConsentType, whose
// FLEXIBLE is not offered).
type ScopeConsent string

const (
	// ScopeConsentImplicit grants clinical scopes without a consent screen. The default.
	ScopeConsentImplicit ScopeConsent = "IMPLICIT"
	// ScopeConsentRequired shows Okta's consent screen for clinical scopes
	// (and makes the user-facing apps ask for consent).
	ScopeConsentRequired ScopeConsent = "REQUIRED"
)

// ScopeConsents lists the consent types, the default first.
func ScopeConsents() []ScopeConsent {
	return []ScopeConsent{ScopeConsentImplicit, ScopeConsentRequired}
}

// Valid reports whether c is one of ScopeConsents.
func (c ScopeConsent) Valid() bool { return slices.Contains(ScopeConsents(), c) }

// ScopeMetadataPublish says whether the scopes are listed in the server's
// metadata (ScopeMetadataPublish property; Okta's OAuth2ScopeMetadataPublish).
type ScopeMetadataPublish string

const (
	// ScopeMetadataPublishAllClients lists the scopes in the metadata. The default.
	ScopeMetadataPublishAllClients ScopeMetadataPublish = "ALL_CLIENTS"
	// ScopeMetadataPublishNoClients keeps them out of it.
	ScopeMetadataPublishNoClients ScopeMetadataPublish = "NO_CLIENTS"
)

// ScopeMetadataPublishes lists the publication settings, the default first.
func ScopeMetadataPublishes() []ScopeMetadataPublish {
	return []ScopeMetadataPublish{ScopeMetadataPublishAllClients, ScopeMetadataPublishNoClients}
}

// Valid reports whether m is one of ScopeMetadataPublishes.
func (m ScopeMetadataPublish) Valid() bool { return slices.Contains(ScopeMetadataPublishes(), m) }

// PolicyAssignment says which clients the access policies apply to
// (PolicyAssignment property).
type PolicyAssignment string

const (
	// PolicyAssignmentCreatedClients applies the access policies to the
	// clients this resource creates. The default.
	PolicyAssignmentCreatedClients PolicyAssignment = "CREATED_CLIENTS"
	// PolicyAssignmentAllClients applies them to every client of the org
	// (Okta's ALL_CLIENTS policy condition).
	PolicyAssignmentAllClients PolicyAssignment = "ALL_CLIENTS"
)

// PolicyAssignments lists the assignments, the default first.
func PolicyAssignments() []PolicyAssignment {
	return []PolicyAssignment{PolicyAssignmentCreatedClients, PolicyAssignmentAllClients}
}

// Valid reports whether a is one of PolicyAssignments.
func (a PolicyAssignment) Valid() bool { return slices.Contains(PolicyAssignments(), a) }

// PublicClientType is the kind of public app (PublicClientType property); it
// is the app's Okta application_type.
type PublicClientType string

const (
	// PublicClientTypeBrowser is a single-page app. The default.
	PublicClientTypeBrowser PublicClientType = "browser"
	// PublicClientTypeNative is a mobile or desktop app: custom-scheme redirect
	// URIs are allowed.
	PublicClientTypeNative PublicClientType = "native"
)

// PublicClientTypes lists the public app types, the default first.
func PublicClientTypes() []PublicClientType {
	return []PublicClientType{PublicClientTypeBrowser, PublicClientTypeNative}
}

// Valid reports whether t is one of PublicClientTypes.
func (t PublicClientType) Valid() bool { return slices.Contains(PublicClientTypes(), t) }

// ClaimType is the token a claim goes into (claimType of an ExtraClaims
// element; Okta's OAuth2ClaimType).
type ClaimType string

const (
	// ClaimTypeResource puts the claim in access tokens. The default.
	ClaimTypeResource ClaimType = "RESOURCE"
	// ClaimTypeIdentity puts the claim in ID tokens.
	ClaimTypeIdentity ClaimType = "IDENTITY"
)

// ClaimTypes lists the claim types, the default first.
func ClaimTypes() []ClaimType { return []ClaimType{ClaimTypeResource, ClaimTypeIdentity} }

// Valid reports whether t is one of ClaimTypes.
func (t ClaimType) Valid() bool { return slices.Contains(ClaimTypes(), t) }

// ClaimValueType is how Okta computes a claim's value (valueType of an
// ExtraClaims element; Okta's OAuth2ClaimValueType, whose SYSTEM is Okta's
// own claims only).
type ClaimValueType string

const (
	// ClaimValueExpression is an Okta expression such as user.department. The default.
	ClaimValueExpression ClaimValueType = "EXPRESSION"
	// ClaimValueGroups is the user's groups, filtered by the claim's
	// GroupFilterType and value.
	ClaimValueGroups ClaimValueType = "GROUPS"
)

// ClaimValueTypes lists the value types, the default first.
func ClaimValueTypes() []ClaimValueType {
	return []ClaimValueType{ClaimValueExpression, ClaimValueGroups}
}

// Valid reports whether t is one of ClaimValueTypes.
func (t ClaimValueType) Valid() bool { return slices.Contains(ClaimValueTypes(), t) }

// GroupFilterType is how a GROUPS claim's value selects the user's groups
// (groupFilterType of an ExtraClaims element; Okta's
// OAuth2ClaimGroupFilterType). It has no default: a GROUPS claim needs one.
type GroupFilterType string

const (
	// GroupFilterStartsWith keeps the groups whose name starts with the value
	// (not case-sensitive).
	GroupFilterStartsWith GroupFilterType = "STARTS_WITH"
	// GroupFilterEquals keeps the group whose name is the value (case-sensitive).
	GroupFilterEquals GroupFilterType = "EQUALS"
	// GroupFilterContains keeps the groups whose name contains the value (not
	// case-sensitive).
	GroupFilterContains GroupFilterType = "CONTAINS"
	// GroupFilterRegex keeps the groups whose name matches the regular
	// expression in the value (case-sensitive).
	GroupFilterRegex GroupFilterType = "REGEX"
)

// GroupFilterTypes lists the group filter types.
func GroupFilterTypes() []GroupFilterType {
	return []GroupFilterType{GroupFilterStartsWith, GroupFilterEquals, GroupFilterContains, GroupFilterRegex}
}

// Valid reports whether t is one of GroupFilterTypes.
func (t GroupFilterType) Valid() bool { return slices.Contains(GroupFilterTypes(), t) }

// oneOf is the reason given for a value outside allowed: it lists them.
func oneOf[T ~string](allowed []T, got T) string {
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return fmt.Sprintf("must be one of %s, got %q", strings.Join(names, ", "), got)
}
