// Package oktaprops is the contract of the Okta custom resources: their
// resource types, property and attribute names, the typed enums of their
// properties (enums.go), Okta's bounds on the token lifetimes, and the parser
// that turns the properties into
// a declarative description of everything that should exist in Okta (the
// authorization server, its scopes, claims, access policies and rules, and the
// OIDC clients). It does no I/O; package lambda/oktaauth/reconcile makes Okta
// match it. It imports no SDK, so the CDK constructs import it to name and
// check properties and to compute the scope catalogue at synthesis time.
//
// Two resource types share one handler. ResourceTypeAuthorizationServer
// (Custom::SmartOktaAuthorizationServer) is the authorization server and
// everything in it. Property contract (CloudFormation delivers every scalar as a
// string; lists are lists of strings; JSON-valued properties are strings holding
// JSON):
//
//	OktaOrgUrl                 string, required: https://<org>.okta.com (no path)
//	CredentialSecretArn        string, required: Secrets Manager secret with the Okta credentials
//	Name                       string, required: authorization server name (unique in the org)
//	Audience                   string, optional (Okta keeps exactly one). Absent: Create sets
//	                           PlaceholderAudience(Name) and Update leaves the server's current
//	                           audience as it is, so a Custom::SmartOktaAudience resource can own it
//	Description                string  default "SMART on FHIR authorization server"
//	IssuerMode                 IssuerMode: ORG_URL | CUSTOM_URL | DYNAMIC, default ORG_URL
//	Active                     bool, default true
//	SmartVersion               v1 | v2 (smart.Version) | both: the SMART scope syntax of the clinical
//	                           scopes, default v2. Stacks deployed before it was named so carry
//	                           ScopeFlavor (same values), still read when SmartVersion is absent
//	ScopeLevels                list of patient | user | system, default all three
//	ScopeResources             list of FHIR resource types, or "*"; default DefaultResources
//	ScopePermissionsV1         list of read | write | *, default [read]
//	ScopePermissionsV2         list of ordered subsets of "cruds" (rs, cud, cruds...), default [rs]
//	ScopeConsent               ScopeConsent: IMPLICIT | REQUIRED, default IMPLICIT (clinical scopes)
//	ScopeMetadataPublish       ScopeMetadataPublish: ALL_CLIENTS | NO_CLIENTS, default ALL_CLIENTS
//	ExtraScopes                list of scope names (names starting "system/" go to the backend rule;
//	                           a name holding both '<' and '>' is refused, as Okta does)
//	FhirUserAttribute          user profile attribute holding fhirUser, default fhirUser (this and
//	                           PatientAttribute are added to the user schema when missing, never removed)
//	PatientClaim               bool, default true
//	PatientClaimName           default "patient"
//	PatientAttribute           user profile attribute holding the patient id, default patientId
//	ExtraClaims                JSON: [{"name","value","claimType" (ClaimType: RESOURCE | IDENTITY),
//	                           "valueType" (ClaimValueType: EXPRESSION | GROUPS),
//	                           "groupFilterType" (GroupFilterType, GROUPS only),"scopes":[...],
//	                           "alwaysIncludeInToken":bool}]
//	PolicyAssignment           PolicyAssignment: CREATED_CLIENTS | ALL_CLIENTS, default CREATED_CLIENTS
//	UserGroupIds               list of Okta group ids for the user-facing rule, default [EVERYONE];
//	                           also assigned to the confidential and public apps (Okta signs in
//	                           only assigned users), EVERYONE as the built-in Everyone group
//	AccessTokenLifetimeMinutes        int 5..1440, default 60
//	RefreshTokenLifetimeMinutes       int, 0 = unlimited, else >= RefreshTokenWindowMinutes
//	                                  and at most 2628000, default 0
//	RefreshTokenWindowMinutes         int 10..2628000, >= AccessTokenLifetimeMinutes, default 10080
//	BackendAccessTokenLifetimeMinutes int 5..1440, default 5
//	                           (the bounds are Okta's, the Min*/Max*Minutes constants)
//	TokenInlineHookId          Okta inline hook id for the user-facing rule, default none
//	TokenHookUrl               https URL of a token inline hook this resource registers (with
//	                           TokenHookSecretArn; both or neither, not with TokenInlineHookId)
//	                           and references on the user-facing rule, default none
//	TokenHookSecretArn         Secrets Manager secret whose SecretString is the Authorization
//	                           header value Okta sends to TokenHookUrl; the handler reads it
//	ConfidentialClient         bool, default false
//	ConfidentialClientRedirectUris            list, required when ConfidentialClient
//	ConfidentialClientPostLogoutRedirectUris  list
//	PublicClient               bool, default false
//	PublicClientType           PublicClientType: browser | native, default browser
//	PublicClientRedirectUris   list, required when PublicClient
//	BackendClient              bool, default false
//	BackendClientJwks          JSON {"keys":[...]} of public keys, required when BackendClient
//	IntrospectionClient        bool, default false
//	ClientSecretArn            string, required when ConfidentialClient: the confidential
//	                           client's id and secret are written there (ClientSecretDocument)
//	IntrospectionSecretArn     string, required when IntrospectionClient: the introspection
//	                           client's credential is written there as exactly
//	                           {"client_id": "...", "client_secret": "..."}, the format the
//	                           token-validation Lambda reads (SMART_INTROSPECTION_SECRET_ARN)
//	Apps                       JSON: the app registry, a list of apps each with its own client
//	                           and policy; see PropApps (apps.go)
//	ProxyAssertionKeyArn       KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>; not an alias),
//	                           optional: the EHR launch proxy's assertion key (an RSA_2048
//	                           SIGN_VERIFY key, ehrlaunchenv.AssertionKeySpec). The handler reads its
//	                           public half (kms:GetPublicKey) on Create and Update and adds it, as an
//	                           RS256 JWK whose kid is its RFC 7638 thumbprint, to the JWKS of every
//	                           private_key_jwt client (BackendClient and the backend Apps), after the
//	                           service's own keys; removing it removes the key from them. With it,
//	                           every service key needs a kid (see PropProxyAssertionKeyARN)
//
// ResourceTypeAudience (Custom::SmartOktaAudience) binds the audience of a server
// made by the first type. It exists because the audience of a SMART HealthLake
// set-up is the data store endpoint, which depends (through the token Lambda
// that needs the issuer) on the authorization server: the server resource
// cannot take it as a property without a dependency cycle. Properties:
//
//	OktaOrgUrl                 string, required, as above
//	CredentialSecretArn        string, required, as above
//	AuthorizationServerId      string, required: the server's id (its resource's attribute)
//	Audience                   string, required
//
// The attributes (Fn::GetAtt) are the Attr* constants.
package oktaprops

import (
	"net/url"
	"slices"
	"strings"
)

// Property names.
const (
	PropOrgURL                      = "OktaOrgUrl"
	PropCredentialSecretARN         = "CredentialSecretArn"
	PropClientSecretARN             = "ClientSecretArn"
	PropName                        = "Name"
	PropDescription                 = "Description"
	PropAudience                    = "Audience"
	PropIssuerMode                  = "IssuerMode"
	PropActive                      = "Active"
	PropSmartVersion                = "SmartVersion"
	PropScopeLevels                 = "ScopeLevels"
	PropScopeResources              = "ScopeResources"
	PropScopePermissionsV1          = "ScopePermissionsV1"
	PropScopePermissionsV2          = "ScopePermissionsV2"
	PropScopeConsent                = "ScopeConsent"
	PropScopeMetadataPublish        = "ScopeMetadataPublish"
	PropExtraScopes                 = "ExtraScopes"
	PropFhirUserAttribute           = "FhirUserAttribute"
	PropPatientClaim                = "PatientClaim"
	PropPatientClaimName            = "PatientClaimName"
	PropPatientAttribute            = "PatientAttribute"
	PropExtraClaims                 = "ExtraClaims"
	PropPolicyAssignment            = "PolicyAssignment"
	PropUserGroupIDs                = "UserGroupIds"
	PropAccessTokenLifetimeMinutes  = "AccessTokenLifetimeMinutes"
	PropRefreshTokenLifetimeMinutes = "RefreshTokenLifetimeMinutes"
	PropRefreshTokenWindowMinutes   = "RefreshTokenWindowMinutes"
	PropBackendAccessTokenLifetime  = "BackendAccessTokenLifetimeMinutes"
	PropTokenInlineHookID           = "TokenInlineHookId"
	PropTokenHookURL                = "TokenHookUrl"
	PropTokenHookSecretARN          = "TokenHookSecretArn"
	PropConfidentialClient          = "ConfidentialClient"
	PropConfidentialRedirectURIs    = "ConfidentialClientRedirectUris"
	PropConfidentialPostLogoutURIs  = "ConfidentialClientPostLogoutRedirectUris"
	PropPublicClient                = "PublicClient"
	PropPublicClientType            = "PublicClientType"
	PropPublicRedirectURIs          = "PublicClientRedirectUris"
	PropBackendClient               = "BackendClient"
	PropBackendClientJWKS           = "BackendClientJwks"
	PropIntrospectionClient         = "IntrospectionClient"
	PropIntrospectionSecretARN      = "IntrospectionSecretArn"
	// PropProxyAssertionKeyARN is the EHR launch proxy's assertion key
	// (contract/ehrlaunchenv): a SMART backend service signs its client
	// assertion for the proxy's token URL, which Okta refuses (its aud must
	// be Okta's own token URL), so the proxy verifies it and signs a fresh
	// one for Okta with this KMS key. Okta checks that one against the
	// client's JWKS, which therefore holds the key's public half besides the
	// service's own keys. Okta refuses a JWKS of several keys unless each has
	// a kid, unique in it (management API spec, addJwk: the Applications API
	// does not "allow the creation of multiple keys without kids";
	// ErrorClientJsonWebKeyDuplicateKid: "All keys in the 'jwks' must have a
	// unique kid"), so with this property every service key needs a kid.
	PropProxyAssertionKeyARN = "ProxyAssertionKeyArn"
	// PropLegacyScopeFlavor is PropSmartVersion's name in stacks deployed
	// before the rename: CloudFormation still delivers it, in
	// OldResourceProperties and, during a rollback to such a template, in
	// ResourceProperties. Nothing writes it any more.
	PropLegacyScopeFlavor = "ScopeFlavor"
	// PropAuthorizationServerID is a property of the audience binding only.
	PropAuthorizationServerID = "AuthorizationServerId"
	propServiceToken          = "ServiceToken"   // the Provider framework's own
	propServiceTimeout        = "ServiceTimeout" // CloudFormation's, passed along with the properties
)

// KnownProperties lists every property the handler reads.
var KnownProperties = []string{
	PropOrgURL, PropCredentialSecretARN, PropClientSecretARN, PropName, PropDescription, PropAudience,
	PropIssuerMode, PropActive, PropSmartVersion, PropLegacyScopeFlavor, PropScopeLevels, PropScopeResources, PropScopePermissionsV1,
	PropScopePermissionsV2, PropScopeConsent, PropScopeMetadataPublish, PropExtraScopes, PropFhirUserAttribute,
	PropPatientClaim, PropPatientClaimName, PropPatientAttribute, PropExtraClaims, PropPolicyAssignment,
	PropUserGroupIDs, PropAccessTokenLifetimeMinutes, PropRefreshTokenLifetimeMinutes,
	PropRefreshTokenWindowMinutes, PropBackendAccessTokenLifetime, PropTokenInlineHookID,
	PropTokenHookURL, PropTokenHookSecretARN,
	PropConfidentialClient, PropConfidentialRedirectURIs, PropConfidentialPostLogoutURIs, PropPublicClient,
	PropPublicClientType, PropPublicRedirectURIs, PropBackendClient, PropBackendClientJWKS,
	PropIntrospectionClient, PropIntrospectionSecretARN, PropApps, PropProxyAssertionKeyARN, propServiceToken, propServiceTimeout,
}

// KnownAudienceBindingProperties lists every property of the audience binding.
var KnownAudienceBindingProperties = []string{
	PropOrgURL, PropCredentialSecretARN, PropAuthorizationServerID, PropAudience, propServiceToken, propServiceTimeout,
}

// CloudFormation resource types the handler serves.
const (
	// ResourceTypeAuthorizationServer is the authorization server and everything in it.
	ResourceTypeAuthorizationServer = "Custom::SmartOktaAuthorizationServer"
	// ResourceTypeAudience binds the audience of a server made by the first type.
	ResourceTypeAudience = "Custom::SmartOktaAudience"
)

// PlaceholderAudiencePrefix starts the audience a server gets when it is
// created without one. The api:// scheme makes it obviously not a resource
// server URL: tokens minted for it are refused by the data store until the real
// audience is bound.
const PlaceholderAudiencePrefix = "api://smart-healthlake/"

// PlaceholderAudience is the audience Create gives a server whose Audience
// property is absent: PlaceholderAudiencePrefix followed by the server name,
// path-escaped (names may hold spaces, audiences may not).
func PlaceholderAudience(serverName string) string {
	return PlaceholderAudiencePrefix + url.PathEscape(serverName)
}

// DefaultResources are the FHIR resource types scopes are generated for when
// ScopeResources is not set: the US Core profiles' resource types. Per-resource
// rather than "*" because Okta's acceptance of "*" in a custom scope name is not
// documented, and Okta's SMART reference deployment creates per-resource scopes;
// "*" can be listed explicitly once an org has been checked.
var DefaultResources = []string{
	"AllergyIntolerance", "CarePlan", "CareTeam", "Condition", "Coverage", "Device", "DiagnosticReport",
	"DocumentReference", "Encounter", "Goal", "Immunization", "Location", "Medication", "MedicationDispense",
	"MedicationRequest", "Observation", "Organization", "Patient", "Practitioner", "PractitionerRole",
	"Procedure", "Provenance", "RelatedPerson", "ServiceRequest", "Specimen",
}

// ContextScopes are SMART's non-resource scopes this resource creates. openid,
// profile and offline_access are Okta system scopes and exist already.
var ContextScopes = []string{"launch", "launch/patient", "launch/encounter", "fhirUser", "online_access"}

// OktaSystemScopes exist on every custom authorization server and cannot be
// created, changed or deleted.
var OktaSystemScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access", "device_sso"}

// Spec is everything the resource should make exist in Okta.
type Spec struct {
	// OrgURL is the Okta org, e.g. https://example.okta.com.
	OrgURL string
	// CredentialSecretARN names the secret holding the Okta credentials.
	CredentialSecretARN string
	// ClientSecretARN names the stack-owned secret the confidential client's
	// secret is written to ("" when there is none).
	ClientSecretARN string
	// IntrospectionSecretARN names the stack-owned secret the introspection
	// client's credential is written to ("" when there is none).
	IntrospectionSecretARN string

	Server Server
	// TokenHook is the token inline hook this resource registers, or nil.
	TokenHook *TokenHook
	Scopes    []Scope
	Claims    []Claim
	Clients   []Client
	Policies  []Policy
	// Apps is the app registry (PropApps, apps.go): each app its own client
	// and its own policy with one rule.
	Apps []App
	// ProxyAssertionKeyARN is the EHR launch proxy's assertion key
	// (PropProxyAssertionKeyARN), or "". Parse only names it: the handler
	// reads its public half and adds it with AddProxyAssertionKey.
	ProxyAssertionKeyARN string

	// UserGroupIDs are the groups (UserGroupIds) assigned to the user-facing
	// apps (confidential and public): Okta signs in only users assigned to an
	// app. "EVERYONE" stands for the org's built-in Everyone group.
	UserGroupIDs []string
	// UserAttributes are the user profile attributes the fhirUser and patient
	// claims read (FhirUserAttribute, PatientAttribute). Each must exist in the
	// default user schema; a missing one is added as a custom string attribute.
	UserAttributes []string
}

// TokenHook is a token inline hook (com.okta.oauth2.tokens.transform) this
// resource registers in Okta and references on the user-facing rule.
type TokenHook struct {
	// URL is the hook endpoint Okta calls (https).
	URL string
	// SecretARN names the secret whose SecretString is the Authorization
	// header value Okta sends. The value itself is never a property.
	SecretARN string
}

// EveryoneGroup is the UserGroupIds keyword for all users. Policy rules take it
// as is; app assignments need the id of the org's built-in Everyone group.
const EveryoneGroup = "EVERYONE"

// Server is the custom authorization server.
type Server struct {
	Name        string
	Description string
	// Audience is "" when the property is absent: the audience is then not
	// managed by this resource (see PlaceholderAudience).
	Audience   string
	IssuerMode string
	Active     bool
}

// Scope is one custom scope.
type Scope struct {
	Name            string
	DisplayName     string
	Description     string
	Consent         string
	MetadataPublish string
}

// Claim is one custom claim.
type Claim struct {
	Name                 string
	ClaimType            string // RESOURCE (access token) or IDENTITY (ID token)
	ValueType            string // EXPRESSION or GROUPS
	Value                string
	GroupFilterType      string // GROUPS only
	Scopes               []string
	AlwaysIncludeInToken bool
}

// ClientKind names one of the optional OIDC clients.
type ClientKind string

// The client kinds.
const (
	ConfidentialClient  ClientKind = "confidential"
	PublicClient        ClientKind = "public"
	BackendClient       ClientKind = "backend"
	IntrospectionClient ClientKind = "introspection"
)

// ClientKinds lists every kind in a fixed order.
var ClientKinds = []ClientKind{ConfidentialClient, PublicClient, BackendClient, IntrospectionClient}

// Client is one OIDC application.
type Client struct {
	Kind                    ClientKind
	Label                   string
	ApplicationType         string // web, browser, native, service
	GrantTypes              []string
	ResponseTypes           []string
	RedirectURIs            []string
	PostLogoutRedirectURIs  []string
	TokenEndpointAuthMethod string // client_secret_basic, none, private_key_jwt
	PKCERequired            bool
	ConsentMethod           string // TRUSTED or REQUIRED
	// JWKS holds the public keys of a private_key_jwt client.
	JWKS []map[string]any
}

// HasSecret reports whether Okta generates a client secret for the client.
func (c Client) HasSecret() bool {
	return strings.HasPrefix(c.TokenEndpointAuthMethod, "client_secret")
}

// Policy is an OAUTH_AUTHORIZATION_POLICY with its rules.
type Policy struct {
	Name        string
	Description string
	Priority    int64
	// AllClients assigns the policy to ALL_CLIENTS; otherwise to the clients of
	// ClientKinds that exist.
	AllClients  bool
	ClientKinds []ClientKind
	Rules       []Rule
}

// Rule is a RESOURCE_ACCESS policy rule.
type Rule struct {
	Name                        string
	Priority                    int64
	GrantTypes                  []string
	Scopes                      []string
	GroupIDs                    []string
	AccessTokenLifetimeMinutes  int64
	RefreshTokenLifetimeMinutes int64
	RefreshTokenWindowMinutes   int64
	// InlineHookID is a hook made elsewhere (TokenInlineHookId).
	InlineHookID string
	// ManagedTokenHook makes the rule reference the hook this resource
	// registers (Spec.TokenHook); its id is known only once it exists.
	ManagedTokenHook bool
}

// Client returns the client of a kind, if the spec has it.
func (s *Spec) Client(kind ClientKind) (Client, bool) {
	i := slices.IndexFunc(s.Clients, func(c Client) bool { return c.Kind == kind })
	if i < 0 {
		return Client{}, false
	}
	return s.Clients[i], true
}

// ScopeNames lists the custom scope names in catalogue order.
func (s *Spec) ScopeNames() []string {
	out := make([]string, len(s.Scopes))
	for i, sc := range s.Scopes {
		out[i] = sc.Name
	}
	return out
}

// Policy returns the named policy.
func (s *Spec) Policy(name string) (Policy, bool) {
	i := slices.IndexFunc(s.Policies, func(p Policy) bool { return p.Name == name })
	if i < 0 {
		return Policy{}, false
	}
	return s.Policies[i], true
}

// Names of the policies and rules this resource manages.
const (
	UserFacingPolicyName = "SMART user-facing apps"
	UserFacingRuleName   = "SMART authorization code"
	BackendPolicyName    = "SMART backend services"
	BackendRuleName      = "SMART client credentials"
)
