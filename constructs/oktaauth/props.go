package oktaauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// The enumerated props have the contract's types (package contract/oktaprops),
// whose constants are their values: IssuerMode, ScopeConsent,
// ScopeMetadataPublish, PolicyAssignment, PublicClientProps.Type and
// ExtraClaim's ClaimType, ValueType and GroupFilterType. The zero value ("")
// is the default.

// ExtraClaim is a custom claim besides fhirUser and the patient claim.
type ExtraClaim struct {
	// Name of the claim; not one Okta reserves (its published list: sub, iss,
	// aud, acr, sid, scope, scopes, client_id, token_type, username, role,
	// permissions, ...; groups only in access tokens), refused at synth.
	// Required.
	Name *string
	// Value is the Okta expression (user.department) or, for GROUPS claims, the
	// group filter. Required.
	Value *string
	// ClaimType is the token the claim goes into: oktaprops.ClaimTypeResource
	// (access tokens) or oktaprops.ClaimTypeIdentity (ID tokens).
	// Default: oktaprops.ClaimTypeResource.
	ClaimType oktaprops.ClaimType
	// ValueType is how Okta computes the value: oktaprops.ClaimValueExpression
	// or oktaprops.ClaimValueGroups.
	// Default: oktaprops.ClaimValueExpression.
	ValueType oktaprops.ClaimValueType
	// GroupFilterType is how Value selects the groups of a
	// oktaprops.ClaimValueGroups claim, and for those only:
	// oktaprops.GroupFilterStartsWith, GroupFilterEquals, GroupFilterContains
	// or GroupFilterRegex.
	// Default: none (required for GROUPS claims).
	GroupFilterType oktaprops.GroupFilterType
	// Scopes limit the claim to tokens granted one of them; each must be in the
	// catalogue or an Okta system scope.
	// Default: every token.
	Scopes *[]*string
	// AlwaysIncludeInToken puts the claim in the token even when the app does
	// not ask for it.
	// Default: true.
	AlwaysIncludeInToken *bool
}

// ConfidentialClientProps configure the confidential web app (authorization
// code with PKCE, client_secret_basic). Its id and secret are written to
// ClientSecret().
type ConfidentialClientProps struct {
	// RedirectUris are the app's login callbacks: https, or http on localhost.
	// Required.
	RedirectUris *[]*string
	// PostLogoutRedirectUris are where Okta may send users after logout.
	// Default: none.
	PostLogoutRedirectUris *[]*string
}

// PublicClientProps configure the public app (authorization code with PKCE, no
// secret).
type PublicClientProps struct {
	// Type is oktaprops.PublicClientTypeBrowser (a single-page app) or
	// oktaprops.PublicClientTypeNative (a mobile or desktop app).
	// Default: oktaprops.PublicClientTypeBrowser.
	Type oktaprops.PublicClientType
	// RedirectUris are the app's login callbacks (custom schemes only for native
	// apps). Required.
	RedirectUris *[]*string
}

// BackendClientProps configure the SMART Backend Services client
// (client_credentials with private_key_jwt).
type BackendClientProps struct {
	// Jwks is the service's PUBLIC JSON Web Key Set, {"keys": [...]}, RSA keys
	// only. It is a template value: a private key here is refused. Required.
	Jwks *string
}

// SmartAuthorizationServerOptions are the settings of a
// SmartAuthorizationServer besides the Okta org, its credential, the SMART
// version, the introspection client and the EHR launch proxy's assertion
// key: what a construct composing the server (smarthealthlake.SmartHealthLake)
// lets its users set, while it sets those itself. SmartAuthorizationServerProps embeds them.
type SmartAuthorizationServerOptions struct {
	// Name of the authorization server; unique in the Okta org. A server of that
	// name that this resource did not create is an error, never adopted.
	// Default: the stack name and this construct's path, such as "Fhir-Okta".
	Name *string
	// Description of the authorization server (an ownership note is appended).
	// Default: "SMART on FHIR authorization server".
	Description *string
	// Audience of the access tokens, when it is known up front. Leave it out and
	// call BindAudience when the audience is the data store endpoint.
	// Default: a placeholder, oktaprops.PlaceholderAudience(Name), until BindAudience.
	Audience *string
	// IssuerMode is oktaprops.IssuerModeOrgURL, IssuerModeCustomURL or
	// IssuerModeDynamic.
	// Default: oktaprops.IssuerModeOrgURL.
	IssuerMode oktaprops.IssuerMode
	// ScopeLevels are the levels clinical scopes are generated for: patient,
	// user and/or system.
	// Default: all three.
	ScopeLevels *[]*string
	// ScopeResources are the FHIR resource types clinical scopes are generated
	// for, or "*".
	// Default: oktaprops.DefaultResources (the US Core resource types).
	ScopeResources *[]*string
	// ScopePermissionsV1 are the v1 permissions (read, write, *) with SmartVersion V1.
	// Default: read.
	ScopePermissionsV1 *[]*string
	// ScopePermissionsV2 are the v2 permissions (ordered subsets of cruds: rs,
	// cud, cruds) with SmartVersion V2.
	// Default: rs.
	ScopePermissionsV2 *[]*string
	// ScopeConsent is oktaprops.ScopeConsentImplicit or ScopeConsentRequired
	// (Okta's consent screen) for clinical scopes.
	// Default: oktaprops.ScopeConsentImplicit.
	ScopeConsent oktaprops.ScopeConsent
	// ScopeMetadataPublish is oktaprops.ScopeMetadataPublishAllClients or
	// ScopeMetadataPublishNoClients.
	// Default: oktaprops.ScopeMetadataPublishAllClients.
	ScopeMetadataPublish oktaprops.ScopeMetadataPublish
	// ExtraScopes are more custom scopes; names starting "system/" are granted to
	// backend services, the others to user-facing apps.
	// Default: none.
	ExtraScopes *[]*string
	// FhirUserAttribute is the Okta user profile attribute holding the user's
	// FHIR resource (Practitioner/123), sent as the fhirUser claim.
	// Default: "fhirUser".
	FhirUserAttribute *string
	// PatientClaim adds a claim with the user's patient id to access tokens
	// granted launch/patient.
	// Default: true.
	PatientClaim *bool
	// PatientClaimName is the name of that claim: "patient" or
	// "launch_response_patient", the two the token validator reads.
	// Default: "patient".
	PatientClaimName *string
	// PatientAttribute is the user profile attribute holding the patient id.
	// Default: "patientId".
	PatientAttribute *string
	// ExtraClaims are more custom claims.
	// Default: none.
	ExtraClaims *[]*ExtraClaim
	// PolicyAssignment is oktaprops.PolicyAssignmentCreatedClients (the
	// clients this construct creates) or PolicyAssignmentAllClients (every
	// client of the org).
	// Default: oktaprops.PolicyAssignmentCreatedClients.
	PolicyAssignment oktaprops.PolicyAssignment
	// UserGroupIds are the Okta groups (00g...) whose users the user-facing rule
	// admits, or EVERYONE.
	// Default: EVERYONE.
	UserGroupIds *[]*string
	// AccessTokenLifetime of user-facing apps' access tokens: a whole number
	// of minutes from 5 minutes to 1 day (Okta's bounds,
	// oktaprops.MinAccessTokenLifetimeMinutes and Max...).
	// Default: 60 minutes.
	AccessTokenLifetime awscdk.Duration
	// RefreshTokenLifetime: a whole number of minutes, at least
	// RefreshTokenWindow and at most 5 years; zero means unlimited (a refresh
	// token then lives as long as it is used within RefreshTokenWindow).
	// Default: unlimited.
	RefreshTokenLifetime awscdk.Duration
	// RefreshTokenWindow: a refresh token unused this long expires. A whole
	// number of minutes from 10 minutes to 5 years (Okta's bounds), and at
	// least AccessTokenLifetime (Okta refuses a shorter window).
	// Default: 7 days.
	RefreshTokenWindow awscdk.Duration
	// BackendAccessTokenLifetime of backend services' access tokens: a whole
	// number of minutes from 5 minutes to 1 day.
	// Default: 5 minutes.
	BackendAccessTokenLifetime awscdk.Duration
	// TokenInlineHookId is an Okta token inline hook (cal...) made elsewhere
	// for the user-facing rule. Not with TokenHookUrl.
	// Default: none.
	TokenInlineHookId *string
	// TokenHookUrl is the https URL of a token inline hook that the resource
	// registers in Okta (type com.okta.oauth2.tokens.transform, named after the
	// server with the ownership marker) and references on the user-facing rule,
	// such as ehrlaunch.EhrLaunch's HookUrl(); a token is allowed. Set it with
	// TokenHookSecret, and not with TokenInlineHookId. Removing it removes the
	// hook from Okta.
	// Default: none.
	TokenHookUrl *string
	// TokenHookSecret holds, as its SecretString, the value of the
	// Authorization header Okta sends to TokenHookUrl (such as
	// ehrlaunch.EhrLaunch's HookSecret()). Only the handler reads it, at
	// deploy time, and puts it in the hook; the value is never in the template
	// or the resource's properties. A new value reaches Okta at the resource's
	// next update. If it is encrypted with a customer-managed key the handler
	// may decrypt it through Secrets Manager.
	// Default: none (required with TokenHookUrl).
	TokenHookSecret awssecretsmanager.ISecret
	// ConfidentialClient creates a confidential web app; its secret goes to
	// ClientSecret().
	// Default: none.
	ConfidentialClient *ConfidentialClientProps
	// PublicClient creates a public app (PKCE, no secret).
	// Default: none.
	PublicClient *PublicClientProps
	// BackendClient creates a SMART Backend Services client.
	// Default: none.
	BackendClient *BackendClientProps
	// Apps is the app registry: each app gets its own Okta client and access
	// policy (see AppProps), and a confidential app its own secret
	// (AppClientSecret). Adding, changing or removing one app leaves the
	// others' clients, policies and secrets as they are. A removed app's
	// client and policy are deleted from Okta and its secret is destroyed
	// (RemovalPolicy DESTROY: the credential it held died with the client); a
	// renamed app is a removed app plus a new one. At most oktaprops.MaxApps
	// apps.
	// Default: none.
	Apps *[]*AppProps
	// SecretsEncryptionKey encrypts ClientSecret(), IntrospectionSecret() and
	// the confidential apps' AppClientSecret().
	// Its key policy must let this account's IAM policies grant its use (the
	// awskms.NewKey default does). Import a key by its key ARN
	// (awskms.Key_FromKeyArn), not an alias: the handler's grants name the
	// key's ARN, and IAM does not match a key's use against an alias ARN.
	// Default: a new key with rotation, created only when there is a secret.
	SecretsEncryptionKey awskms.IKey
	// LogRetention of the handler's and the Provider framework's log groups.
	// Default: awslogs.RetentionDays_ONE_YEAR.
	LogRetention awslogs.RetentionDays
	// LogEncryptionKey encrypts those log groups; its key policy must let
	// CloudWatch Logs use it for this account's log groups (the
	// logs.<region>.amazonaws.com principal, on the
	// kms:EncryptionContext:aws:logs:arn condition, as the CloudWatch Logs
	// guide's "Encrypt log data using AWS KMS" shows).
	// Default: a new key with rotation, retained on delete, with that policy.
	LogEncryptionKey awskms.IKey
	// LogLevel is the application log level of the handler (LoggingConfig,
	// honoured by the Go code through AWS_LAMBDA_LOG_LEVEL). The Provider
	// framework's functions keep aws-cdk-lib's FATAL: at any lower level they
	// log CloudFormation's events, pre-signed response URLs included.
	// Default: awslambda.ApplicationLogLevel_INFO.
	LogLevel awslambda.ApplicationLogLevel
}

// SmartAuthorizationServerProps configure a SmartAuthorizationServer: the
// Options and the settings a composite sets. Only OrgUrl and
// CredentialSecret are required.
type SmartAuthorizationServerProps struct {
	SmartAuthorizationServerOptions
	// OrgUrl is the Okta org, such as https://example.okta.com: https, no path,
	// not the -admin console address. Changing it moves the server to the new org
	// (the old org's server is deleted). Required.
	OrgUrl *string
	// CredentialSecret holds the credentials for Okta's management API:
	// {"apiToken": "..."} (an SSWS token) or {"clientId": "...", "privateKey":
	// "<PEM>", "keyId": "..."} (an OAuth service app granted the
	// okta.authorizationServers.manage, okta.apps.manage, okta.groups.read,
	// okta.schemas.manage and, with TokenHookUrl, okta.inlineHooks.manage scopes; an API token's admin needs the same rights:
	// the handler assigns UserGroupIds to the user-facing apps and adds the
	// fhirUser and patient profile attributes to the user schema). Only the
	// handler reads it, at deploy time. If it is encrypted with a customer-managed
	// key, import it with that key (awssecretsmanager.Secret_FromSecretAttributes)
	// so the handler may decrypt it. Required.
	CredentialSecret awssecretsmanager.ISecret
	// SmartVersion is the SMART scope syntax of the generated clinical scopes: V1
	// (patient/Observation.read) or V2 (patient/Observation.rs).
	// Default: smart.V2.
	SmartVersion smart.Version
	// IntrospectionClient creates the client the token-validation Lambda uses
	// to call the introspection endpoint; its credential goes to
	// IntrospectionSecret() as {"client_id", "client_secret"}.
	// Default: false.
	IntrospectionClient *bool
	// ProxyAssertionKey is the EHR launch proxy's assertion key
	// (ehrlaunch.EhrLaunch's AssertionKey()), set by smarthealthlake with
	// EhrLaunch and backend services: an RSA_2048 SIGN_VERIFY KMS key whose
	// public half the handler reads (kms:GetPublicKey on this key only) and
	// adds to the JWKS of every private_key_jwt client (BackendClient and the
	// backend Apps), so that Okta accepts the assertions the proxy signs for
	// those clients. With it, every key of those JWKS needs a kid (Okta
	// refuses several keys without kids). A key, not an alias: import one by
	// its key ARN (awskms.Key_FromKeyArn). Removing it removes the key from
	// the clients at the next update.
	// Default: none (the clients' JWKS hold the services' keys only).
	ProxyAssertionKey awskms.IKey
}

// settings are the props with defaults applied.
type settings struct {
	SmartAuthorizationServerProps
	introspection bool
}

func withDefaults(in *SmartAuthorizationServerProps) settings {
	var s settings
	if in != nil {
		s.SmartAuthorizationServerProps = *in
	}
	if s.SmartVersion == "" {
		s.SmartVersion = smart.V2
	}
	if s.LogRetention == "" {
		s.LogRetention = awslogs.RetentionDays_ONE_YEAR
	}
	s.introspection = s.IntrospectionClient != nil && *s.IntrospectionClient
	return s
}

// validate checks what the property map cannot show: required objects,
// literal https, durations. Everything else is checked by checkCatalogue with
// the handler's own parser.
func (s *settings) validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	switch {
	case s.OrgUrl == nil || *s.OrgUrl == "":
		bad("props.OrgUrl is required (https://<org>.okta.com)")
	case isLiteral(s.OrgUrl):
		// The handler also accepts http on loopback (its tests' fake Okta); a
		// deployment never does.
		if _, err := oktaprops.CheckOrgURL(*s.OrgUrl, false); err != nil {
			bad("props.OrgUrl %v", err)
		}
	}
	if s.CredentialSecret == nil {
		bad("props.CredentialSecret is required (the secret with the Okta management API credentials)")
	}
	if _, alias := s.ProxyAssertionKey.(awskms.IAlias); alias {
		bad("props.ProxyAssertionKey must be a key, not an alias: the handler's kms:GetPublicKey permission names the " +
			"key's ARN, which IAM does not match against an alias; import the key by its key ARN (awskms.Key_FromKeyArn)")
	}
	if !s.SmartVersion.Valid() {
		bad("props.SmartVersion must be smart.V1 or smart.V2, got %q", s.SmartVersion)
	}
	for _, d := range s.durations() {
		if d.value == nil {
			continue
		}
		if _, err := wholeMinutes(d.value); err != nil {
			bad("props.%s %v", propName(d.property), err)
		}
	}
	if s.ConfidentialClient != nil && s.ConfidentialClient.RedirectUris == nil {
		bad("props.ConfidentialClient.RedirectUris is required: list at least one redirect URI")
	}
	if s.PublicClient != nil && s.PublicClient.RedirectUris == nil {
		bad("props.PublicClient.RedirectUris is required: list at least one redirect URI")
	}
	hookURL := s.TokenHookUrl != nil && *s.TokenHookUrl != ""
	switch {
	case hookURL && s.TokenHookSecret == nil:
		bad("props.TokenHookSecret is required with props.TokenHookUrl: the secret holding the Authorization header value Okta sends to the hook")
	case !hookURL && s.TokenHookSecret != nil:
		bad("props.TokenHookUrl is required with props.TokenHookSecret: the https URL of the token inline hook")
	case hookURL && s.TokenInlineHookId != nil && *s.TokenInlineHookId != "":
		bad("props.TokenHookUrl cannot be used with props.TokenInlineHookId: the user-facing rule references one hook, " +
			"either the one this construct registers or one made elsewhere")
	}
	if s.BackendClient != nil && (s.BackendClient.Jwks == nil || *s.BackendClient.Jwks == "") {
		bad("props.BackendClient.Jwks is required: the service's public JSON Web Key Set")
	}
	if n := s.PatientClaimName; n != nil && isLiteral(n) && *n != "patient" && *n != "launch_response_patient" {
		// The token validator reads the patient context from these two names
		// only; a claim of another name would refuse every patient/ token.
		bad("props.PatientClaimName must be \"patient\" (the default) or \"launch_response_patient\": the token validator "+
			"reads the patient context from those claims only, got %q", *n)
	}
	if s.ExtraClaims != nil {
		for i, c := range *s.ExtraClaims {
			switch {
			case c == nil:
				bad("props.ExtraClaims[%d] is nil", i)
			case c.Name == nil || *c.Name == "":
				bad("props.ExtraClaims[%d].Name is required", i)
			case c.Value == nil || *c.Value == "":
				bad("props.ExtraClaims[%d].Value is required", i)
			}
		}
	}
	errs = append(errs, s.appProblems()...)
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// duration is a Duration prop and the minutes property it becomes.
type duration struct {
	property string
	value    awscdk.Duration
}

func (s *settings) durations() []duration {
	return []duration{
		{oktaprops.PropAccessTokenLifetimeMinutes, s.AccessTokenLifetime},
		{oktaprops.PropRefreshTokenLifetimeMinutes, s.RefreshTokenLifetime},
		{oktaprops.PropRefreshTokenWindowMinutes, s.RefreshTokenWindow},
		{oktaprops.PropBackendAccessTokenLifetime, s.BackendAccessTokenLifetime},
	}
}

// wholeMinutes converts a literal duration to whole minutes: Okta's token
// lifetimes are in minutes, and rounding would quietly change a lifetime. The
// contract's parser then checks Okta's bounds on the minutes.
func wholeMinutes(d awscdk.Duration) (int64, error) {
	if *d.IsUnresolved() {
		return 0, errors.New("must be a literal duration, not a token")
	}
	ms := *d.ToMilliseconds(nil)
	if ms != math.Trunc(ms) || int64(ms)%60000 != 0 {
		return 0, fmt.Errorf("must be a whole number of minutes, got %s", *d.ToHumanString())
	}
	return int64(ms) / 60000, nil
}

// secretRefs are the ARNs of the stack-owned secrets, when they exist.
type secretRefs struct {
	clientSecret, introspectionSecret awssecretsmanager.ISecret
}

// properties renders the custom resource's properties, named by the
// handler's oktaprops.Prop* constants. Scalars are strings because
// CloudFormation delivers them so; unset props are left out, so the handler's
// defaults (documented on the props) apply.
func (s *settings) properties(name *string, secrets secretRefs) map[string]any {
	p := map[string]any{
		oktaprops.PropOrgURL:              s.OrgUrl,
		oktaprops.PropCredentialSecretARN: s.CredentialSecret.SecretArn(),
		oktaprops.PropName:                name,
		oktaprops.PropSmartVersion:        string(s.SmartVersion),
		oktaprops.PropConfidentialClient:  strconv.FormatBool(s.ConfidentialClient != nil),
		oktaprops.PropPublicClient:        strconv.FormatBool(s.PublicClient != nil),
		oktaprops.PropBackendClient:       strconv.FormatBool(s.BackendClient != nil),
		oktaprops.PropIntrospectionClient: strconv.FormatBool(s.introspection),
	}
	optional := func(name string, v *string) {
		if v != nil && *v != "" {
			p[name] = v
		}
	}
	enum := func(name, v string) {
		if v != "" {
			p[name] = v
		}
	}
	list := func(name string, v *[]*string) {
		if v != nil {
			p[name] = v
		}
	}
	optional(oktaprops.PropDescription, s.Description)
	optional(oktaprops.PropAudience, s.Audience)
	enum(oktaprops.PropIssuerMode, string(s.IssuerMode))
	list(oktaprops.PropScopeLevels, s.ScopeLevels)
	list(oktaprops.PropScopeResources, s.ScopeResources)
	list(oktaprops.PropScopePermissionsV1, s.ScopePermissionsV1)
	list(oktaprops.PropScopePermissionsV2, s.ScopePermissionsV2)
	enum(oktaprops.PropScopeConsent, string(s.ScopeConsent))
	enum(oktaprops.PropScopeMetadataPublish, string(s.ScopeMetadataPublish))
	list(oktaprops.PropExtraScopes, s.ExtraScopes)
	optional(oktaprops.PropFhirUserAttribute, s.FhirUserAttribute)
	if s.PatientClaim != nil {
		p[oktaprops.PropPatientClaim] = strconv.FormatBool(*s.PatientClaim)
	}
	optional(oktaprops.PropPatientClaimName, s.PatientClaimName)
	optional(oktaprops.PropPatientAttribute, s.PatientAttribute)
	if s.ExtraClaims != nil && len(*s.ExtraClaims) > 0 {
		p[oktaprops.PropExtraClaims] = extraClaimsJSON(*s.ExtraClaims)
	}
	enum(oktaprops.PropPolicyAssignment, string(s.PolicyAssignment))
	list(oktaprops.PropUserGroupIDs, s.UserGroupIds)
	for _, d := range s.durations() {
		if d.value != nil {
			m, _ := wholeMinutes(d.value) // validated
			p[d.property] = strconv.FormatInt(m, 10)
		}
	}
	optional(oktaprops.PropTokenInlineHookID, s.TokenInlineHookId)
	// The hook secret by ARN only: the handler reads the value.
	optional(oktaprops.PropTokenHookURL, s.TokenHookUrl)
	if s.TokenHookSecret != nil {
		p[oktaprops.PropTokenHookSecretARN] = s.TokenHookSecret.SecretArn()
	}
	if c := s.ConfidentialClient; c != nil {
		list(oktaprops.PropConfidentialRedirectURIs, c.RedirectUris)
		list(oktaprops.PropConfidentialPostLogoutURIs, c.PostLogoutRedirectUris)
	}
	if c := s.PublicClient; c != nil {
		enum(oktaprops.PropPublicClientType, string(c.Type))
		list(oktaprops.PropPublicRedirectURIs, c.RedirectUris)
	}
	if c := s.BackendClient; c != nil {
		optional(oktaprops.PropBackendClientJWKS, c.Jwks)
	}
	if s.ProxyAssertionKey != nil {
		p[oktaprops.PropProxyAssertionKeyARN] = s.ProxyAssertionKey.KeyArn()
	}
	if secrets.clientSecret != nil {
		p[oktaprops.PropClientSecretARN] = secrets.clientSecret.SecretArn()
	}
	if secrets.introspectionSecret != nil {
		p[oktaprops.PropIntrospectionSecretARN] = secrets.introspectionSecret.SecretArn()
	}
	return p
}

// extraClaimsJSON renders the claims as the ExtraClaims JSON property
// (oktaprops.ExtraClaim, which leaves out what is unset). A token among the
// values stays in the string as its placeholder, which CloudFormation replaces
// at deploy time (with Fn::Join); its value is inserted as it is, so it must
// not need JSON escaping (ids, ARNs and URLs don't).
func extraClaimsJSON(claims []*ExtraClaim) *string {
	str := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	out := make([]oktaprops.ExtraClaim, 0, len(claims))
	for _, c := range claims {
		x := oktaprops.ExtraClaim{Name: str(c.Name), Value: str(c.Value), ClaimType: c.ClaimType,
			ValueType: c.ValueType, GroupFilterType: c.GroupFilterType, AlwaysIncludeInToken: c.AlwaysIncludeInToken}
		if c.Scopes != nil {
			for _, sc := range *c.Scopes {
				x.Scopes = append(x.Scopes, str(sc))
			}
		}
		out = append(out, x)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // Okta expressions may hold < > &; keep them readable
	if err := enc.Encode(out); err != nil {
		panic(err) // strings and bools only
	}
	return jsii.String(strings.TrimSuffix(b.String(), "\n"))
}

// Stand-ins for values that are tokens at synthesis time, so the rest of the
// properties can still be checked with the handler's parser. They are valid
// values of the property's kind and never reach the template.
// standIns replace deploy-time values for the synth-time parse. The secret
// ARNs differ from each other, and from each app's (the client one with
// "-app-<name>"), because the contract refuses two properties naming one
// secret.
var standIns = map[string]string{
	oktaprops.PropOrgURL:                     "https://synth-time.okta.com",
	oktaprops.PropCredentialSecretARN:        "arn:aws:secretsmanager:us-east-1:000000000000:secret:synth-time-credential",
	oktaprops.PropClientSecretARN:            "arn:aws:secretsmanager:us-east-1:000000000000:secret:synth-time-client",
	oktaprops.PropIntrospectionSecretARN:     "arn:aws:secretsmanager:us-east-1:000000000000:secret:synth-time-introspection",
	oktaprops.PropName:                       "synth-time",
	oktaprops.PropDescription:                "synth-time",
	oktaprops.PropAudience:                   "api://synth-time",
	oktaprops.PropConfidentialRedirectURIs:   "https://synth-time.example.com/callback",
	oktaprops.PropConfidentialPostLogoutURIs: "https://synth-time.example.com/",
	oktaprops.PropPublicRedirectURIs:         "https://synth-time.example.com/callback",
	oktaprops.PropUserGroupIDs:               "00gsynthtime00000000",
	oktaprops.PropTokenInlineHookID:          "calsynthtime00000000",
	oktaprops.PropTokenHookURL:               "https://synth-time.example.com/hook",
	oktaprops.PropTokenHookSecretARN:         "arn:aws:secretsmanager:us-east-1:000000000000:secret:synth-time-token-hook",
	oktaprops.PropBackendClientJWKS:          `{"keys":[{"kty":"RSA","kid":"synth-time","n":"AQAB","e":"AQAB"}]}`,
	oktaprops.PropProxyAssertionKeyARN:       "arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000",
}

// scopeProperties decide the scope catalogue.
var scopeProperties = []string{oktaprops.PropSmartVersion, oktaprops.PropScopeLevels, oktaprops.PropScopeResources,
	oktaprops.PropScopePermissionsV1, oktaprops.PropScopePermissionsV2, oktaprops.PropExtraScopes}

// checkCatalogue runs the handler's own parser on the properties, with
// tokens replaced by stand-ins (or left to the handler's defaults), so a bad
// value fails synthesis instead of the deployment. It returns the scope names
// the catalogue will create, or nil with the first scope property that is a
// token when they can't be known.
func checkCatalogue(props map[string]any) (scopes []string, tokenProp string, err error) {
	lit := oktaprops.Properties{}
	for name, v := range props {
		value, literal := literalValue(v, standIns[name])
		switch {
		case literal:
			lit[name] = value
		case slices.Contains(scopeProperties, name):
			if tokenProp == "" {
				tokenProp = name
			}
		case value != nil:
			lit[name] = value // tokens replaced by stand-ins
		}
		// Otherwise a token without a stand-in: the handler's default is checked instead.
	}
	spec, err := oktaprops.Parse(lit)
	if err != nil {
		if aerr, ok := asAppError(err); ok {
			return nil, "", errors.New(describeApp(aerr))
		}
		var perr *oktaprops.PropertyError
		if errors.As(err, &perr) {
			return nil, "", errors.New(describe(perr))
		}
		return nil, "", err
	}
	if tokenProp != "" {
		return nil, tokenProp, nil
	}
	return spec.ScopeNames(), "", nil
}

// literalValue turns a property value into what CloudFormation would deliver
// (strings and lists of strings). literal is false when a token was found;
// then tokens are replaced by standIn, or value is nil when there is none.
func literalValue(v any, standIn string) (value any, literal bool) {
	swap := func(s *string) (string, bool) {
		if s == nil {
			return "", true
		}
		if isLiteral(s) {
			return *s, true
		}
		return standIn, false
	}
	switch x := v.(type) {
	case string:
		v, ok := swap(&x)
		if !ok && standIn == "" {
			return nil, false
		}
		return v, ok
	case *string:
		v, ok := swap(x)
		if !ok && standIn == "" {
			return nil, false
		}
		return v, ok
	case *[]*string:
		if *awscdk.Token_IsUnresolved(x) {
			// A list token (Fn::Split, a CommaDelimitedList parameter) is one
			// encoded element that is not a string token itself.
			if standIn == "" {
				return nil, false
			}
			return []any{standIn}, false
		}
		out, all := []any{}, true
		for _, s := range *x {
			v, ok := swap(s)
			all = all && ok
			out = append(out, v)
		}
		if !all && standIn == "" {
			return nil, false
		}
		return out, all
	}
	panic(fmt.Sprintf("oktaauth: unexpected property value %T", v))
}

// propNames maps every property of the contract to the prop that sets it,
// for errors that speak the props. A test checks that every oktaprops.Prop*
// constant is here or in ownProperties.
var propNames = map[string]string{
	oktaprops.PropOrgURL:                      "OrgUrl",
	oktaprops.PropCredentialSecretARN:         "CredentialSecret",
	oktaprops.PropName:                        "Name",
	oktaprops.PropDescription:                 "Description",
	oktaprops.PropAudience:                    "Audience",
	oktaprops.PropIssuerMode:                  "IssuerMode",
	oktaprops.PropSmartVersion:                "SmartVersion",
	oktaprops.PropLegacyScopeFlavor:           "SmartVersion",
	oktaprops.PropScopeLevels:                 "ScopeLevels",
	oktaprops.PropScopeResources:              "ScopeResources",
	oktaprops.PropScopePermissionsV1:          "ScopePermissionsV1",
	oktaprops.PropScopePermissionsV2:          "ScopePermissionsV2",
	oktaprops.PropScopeConsent:                "ScopeConsent",
	oktaprops.PropScopeMetadataPublish:        "ScopeMetadataPublish",
	oktaprops.PropExtraScopes:                 "ExtraScopes",
	oktaprops.PropFhirUserAttribute:           "FhirUserAttribute",
	oktaprops.PropPatientClaim:                "PatientClaim",
	oktaprops.PropPatientClaimName:            "PatientClaimName",
	oktaprops.PropPatientAttribute:            "PatientAttribute",
	oktaprops.PropExtraClaims:                 "ExtraClaims",
	oktaprops.PropPolicyAssignment:            "PolicyAssignment",
	oktaprops.PropUserGroupIDs:                "UserGroupIds",
	oktaprops.PropAccessTokenLifetimeMinutes:  "AccessTokenLifetime",
	oktaprops.PropRefreshTokenLifetimeMinutes: "RefreshTokenLifetime",
	oktaprops.PropRefreshTokenWindowMinutes:   "RefreshTokenWindow",
	oktaprops.PropBackendAccessTokenLifetime:  "BackendAccessTokenLifetime",
	oktaprops.PropTokenInlineHookID:           "TokenInlineHookId",
	oktaprops.PropTokenHookURL:                "TokenHookUrl",
	oktaprops.PropTokenHookSecretARN:          "TokenHookSecret",
	oktaprops.PropConfidentialClient:          "ConfidentialClient",
	oktaprops.PropConfidentialRedirectURIs:    "ConfidentialClient.RedirectUris",
	oktaprops.PropConfidentialPostLogoutURIs:  "ConfidentialClient.PostLogoutRedirectUris",
	oktaprops.PropPublicClient:                "PublicClient",
	oktaprops.PropPublicClientType:            "PublicClient.Type",
	oktaprops.PropPublicRedirectURIs:          "PublicClient.RedirectUris",
	oktaprops.PropBackendClient:               "BackendClient",
	oktaprops.PropBackendClientJWKS:           "BackendClient.Jwks",
	oktaprops.PropIntrospectionClient:         "IntrospectionClient",
	oktaprops.PropApps:                        "Apps",
	oktaprops.PropProxyAssertionKeyARN:        "ProxyAssertionKey",
}

// ownProperties are the properties no prop sets: the construct sets them
// itself, so an error on one is a bug of the construct, reported with the
// property's name and why.
var ownProperties = map[string]string{
	oktaprops.PropActive:                 "left to its default: the construct makes an active server",
	oktaprops.PropClientSecretARN:        "the ARN of ClientSecret(), which the construct makes",
	oktaprops.PropIntrospectionSecretARN: "the ARN of IntrospectionSecret(), which the construct makes",
	oktaprops.PropAuthorizationServerID:  "set by BindAudience from the server's attribute",
}

// propName is the prop that sets a property, as "props.X" would name it.
func propName(property string) string {
	if p, ok := propNames[property]; ok {
		return p
	}
	return property
}

// propertyWord matches a property name as a word. Longest first, so that
// PatientClaimName is not read as PatientClaim.
var propertyWord = func() *regexp.Regexp {
	names := slices.Collect(maps.Keys(propNames))
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
}()

// quoted matches a %q-quoted value in a reason, which is the user's and is
// left as it is.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// jsonMember matches the start of a JSON member in a property path.
var jsonMember = regexp.MustCompile(`\.([a-z])`)

// describe says a contract error in the props' words:
// "property ScopeLevels[1]: ..." becomes "props.ScopeLevels[1]: ...", and a
// property named in the reason ("at least AccessTokenLifetimeMinutes") becomes
// its prop ("at least props.AccessTokenLifetime").
func describe(e *oktaprops.PropertyError) string {
	head, rest := e.Property, ""
	if i := strings.IndexAny(head, "[."); i >= 0 {
		head, rest = head[:i], head[i:]
	}
	if why, own := ownProperties[head]; own {
		return fmt.Sprintf("property %s (%s): %s", e.Property, why, e.Reason)
	}
	if head == oktaprops.PropExtraClaims {
		// The JSON members of an element are ExtraClaim's fields: name -> Name.
		rest = jsonMember.ReplaceAllStringFunc(rest, strings.ToUpper)
	}
	return fmt.Sprintf("props.%s%s: %s", propName(head), rest, inPropWords(e.Reason))
}

// inPropWords replaces the property names in a reason, outside quoted values,
// by the props that set them.
func inPropWords(reason string) string {
	return outsideQuotes(reason, func(s string) string {
		return propertyWord.ReplaceAllStringFunc(s, func(p string) string { return "props." + propName(p) })
	})
}

// outsideQuotes applies replace to the parts of reason outside quoted
// values, so a value that happens to spell a property name stays as given.
func outsideQuotes(reason string, replace func(string) string) string {
	var b strings.Builder
	last := 0
	for _, q := range quoted.FindAllStringIndex(reason, -1) {
		b.WriteString(replace(reason[last:q[0]]))
		b.WriteString(reason[q[0]:q[1]])
		last = q[1]
	}
	b.WriteString(replace(reason[last:]))
	return b.String()
}

// isLiteral reports whether s is known at synthesis time.
func isLiteral(s *string) bool { return !*awscdk.Token_IsUnresolved(s) }
