package oktaprops

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
)

// PropApps is the app registry: a JSON string holding a list of apps (JSON
// because CloudFormation delivers nested values of a custom resource as
// strings; see ExtraClaims and BackendClientJwks). Each element:
//
//	{
//	  "name": "acme-portal",                  required, AppNamePattern, unique
//	  "type": "public|confidential|backend",  required
//	  "applicationType": "browser|native",    public apps only, default browser
//	  "redirectUris": ["https://..."],        required for public and confidential apps
//	  "postLogoutRedirectUris": ["https://..."],
//	  "jwks": {"keys": [...]},                required for backend apps: RSA public keys
//	  "scopes": ["patient/*.rs", "openid"],   required: patterns expanded against the catalogue
//	  "groupIds": ["00g..."],                 user-facing apps, default UserGroupIds
//	  "accessTokenLifetimeMinutes": 60,       default AccessTokenLifetimeMinutes
//	                                          (BackendAccessTokenLifetimeMinutes for backend apps)
//	  "refreshTokenLifetimeMinutes": 0,       user-facing apps, default RefreshTokenLifetimeMinutes
//	  "refreshTokenWindowMinutes": 10080,     user-facing apps, default RefreshTokenWindowMinutes
//	  "refreshTokens": false,                 user-facing apps: refresh_token grant and offline_access
//	  "secretArn": "arn:aws:secretsmanager:..." required for confidential apps, refused otherwise
//	}
//
// Unknown keys are refused, so that a misspelt key is not silently ignored.
// Apps are refused with PolicyAssignment ALL_CLIENTS (see allClientsWithApps).
// Changing an app's type, or a public app's applicationType, gives it a new
// client (a new client id and, for a confidential app, a new secret): Okta
// cannot change a client's application_type after creation.
const PropApps = "Apps"

// AppType is the kind of an app in the registry.
type AppType string

// The app types.
const (
	// AppPublic is a user-facing app without a secret (browser or native, PKCE).
	AppPublic AppType = "public"
	// AppConfidential is a user-facing web app with a client secret.
	AppConfidential AppType = "confidential"
	// AppBackend is a SMART Backend Services client (client_credentials,
	// private_key_jwt, system/ scopes only).
	AppBackend AppType = "backend"
)

// Valid reports whether t is one of the app types.
func (t AppType) Valid() bool {
	return t == AppPublic || t == AppConfidential || t == AppBackend
}

// UserFacing reports whether users sign in to the app.
func (t AppType) UserFacing() bool { return t == AppPublic || t == AppConfidential }

// AppNamePattern is what an app name must match: lower-case letters, digits
// and single hyphens, starting with a letter. The name is the app's identity
// everywhere (its Okta profile key, its policy and rule names, the construct's
// ids, Secrets Manager names and output ids), so it must survive all of them:
// lower case because Okta compares profile values exactly and a case-only
// rename would look like a remove plus an add; no leading digit or hyphen and
// no double hyphen so that the construct can derive alphanumeric
// CloudFormation logical ids (acme-portal -> AcmePortal) one-to-one; at most
// MaxAppNameLength characters because each name is a key of the custom
// resource's response (see checkResponseBudget).
var AppNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*$`)

// Limits of the registry.
const (
	// MaxApps bounds the registry: every app costs four to six Okta calls on
	// create, against Okta's per-minute rate limits, within the handler's
	// time (see the README's scale figures).
	MaxApps = 50
	// MaxAppNameLength bounds a name (see AppNamePattern). The names' total
	// is bounded by the response (each app adds "App.<name>":"<client id>",
	// len(name)+31 bytes; see checkResponseBudget).
	MaxAppNameLength = 32
)

// AppDataKey is the response Data key (Fn::GetAtt attribute) holding an
// app's client id.
func AppDataKey(name string) string { return "App." + name }

// App is one app of the registry, resolved against the catalogue.
type App struct {
	Name string
	Type AppType
	// Client is the app's OIDC client; Client.Kind is empty (the kinds are the
	// single-client properties').
	Client Client
	// Rule is the app's rule: its scopes (Patterns expanded), grant types,
	// groups and token lifetimes. It lives in the app's own policy.
	Rule Rule
	// Patterns are the scope patterns as given; Rule.Scopes their expansion.
	Patterns []string
	// GroupIDs are assigned to a user-facing app (Okta signs in only assigned
	// users); EVERYONE stands for the built-in Everyone group.
	GroupIDs []string
	// SecretARN is where a confidential app's client id and secret are
	// written (AppSecretDocument); "" for the other types.
	SecretARN string
}

// PolicyName is the name of the app's access policy. Policy names are
// unique per authorization server, and the server is this resource's, so the
// name (derived from the app's name only, never from its position) is the
// policy's identity.
func (a App) PolicyName() string { return AppPolicyName(a.Name) }

// AppPolicyPrefix starts the name of every app policy; no other policy this
// resource makes starts with it.
const AppPolicyPrefix = "SMART app "

// AppPolicyName is the policy name of the app named name.
func AppPolicyName(name string) string { return AppPolicyPrefix + name }

// AppRuleName is the name of the one rule in an app's policy.
const AppRuleName = "SMART app access"

// AppError is an error in one app of the registry. It unwraps to a
// *cfnprops.PropertyError naming PropApps, so code that only knows property
// errors still names the property.
type AppError struct {
	// Index is the app's position in the list; Name its name ("" when the name
	// itself is missing).
	Index int
	Name  string
	// Key is the JSON key at fault, e.g. redirectUris[0]; "" for the app as a whole.
	Key    string
	Reason string
}

func (e *AppError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s[%d] %q: %s", PropApps, e.Index, e.Name, e.Reason)
	}
	return fmt.Sprintf("%s[%d] %q: %s %s", PropApps, e.Index, e.Name, e.Key, e.Reason)
}

// Unwrap returns the error as a property error on PropApps.
func (e *AppError) Unwrap() error {
	return &cfnprops.PropertyError{Property: PropApps, Reason: strings.TrimPrefix(e.Error(), PropApps)}
}

// AppJSON is one element of the Apps property as it travels: the keys the
// parser reads and the construct and stacks/envconfig write (MarshalApps).
// Unset values are left out, so the resource-wide settings apply.
type AppJSON struct {
	Name                        string           `json:"name"`
	Type                        AppType          `json:"type"`
	ApplicationType             PublicClientType `json:"applicationType,omitempty"`
	RedirectURIs                []string         `json:"redirectUris,omitempty"`
	PostLogoutRedirectURIs      []string         `json:"postLogoutRedirectUris,omitempty"`
	JWKS                        json.RawMessage  `json:"jwks,omitempty"`
	Scopes                      []string         `json:"scopes,omitempty"`
	GroupIDs                    []string         `json:"groupIds,omitempty"`
	AccessTokenLifetimeMinutes  *int64           `json:"accessTokenLifetimeMinutes,omitempty"`
	RefreshTokenLifetimeMinutes *int64           `json:"refreshTokenLifetimeMinutes,omitempty"`
	RefreshTokenWindowMinutes   *int64           `json:"refreshTokenWindowMinutes,omitempty"`
	RefreshTokens               bool             `json:"refreshTokens,omitempty"`
	SecretARN                   string           `json:"secretArn,omitempty"`
}

// MarshalApps renders apps as the Apps property's value (URLs with & kept
// readable).
func MarshalApps(apps []AppJSON) (string, error) {
	if apps == nil {
		apps = []AppJSON{}
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(apps); err != nil {
		return "", fmt.Errorf("encoding %s: %w", PropApps, err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// parseApps reads PropApps into s.Apps. It runs after the scopes (patterns
// are expanded against s.Scopes) and the policies (the defaults are the
// resource's own groups and lifetimes, read from its rules).
func (s *Spec) parseApps(p cfnprops.Properties) error {
	var in []AppJSON
	if set, err := jsonArray(p, PropApps, "apps", &in); !set || err != nil {
		return err
	}
	if len(in) > 0 {
		if assign, _ := p.OptionalString(PropPolicyAssignment, ""); assign == string(PolicyAssignmentAllClients) {
			return propErr(PropApps, allClientsWithApps)
		}
	}
	if len(in) > MaxApps {
		return propErr(PropApps, fmt.Sprintf("lists %d apps; at most %d are supported in one environment", len(in), MaxApps))
	}
	d := s.appDefaults(p)
	for i, x := range in {
		app, err := s.resolveApp(i, x, d)
		if err != nil {
			return err
		}
		if j := slices.IndexFunc(s.Apps, func(a App) bool { return a.Name == x.Name }); j >= 0 {
			return &AppError{Index: i, Name: x.Name, Key: "name", Reason: fmt.Sprintf("is also the name of Apps[%d]: names must be unique", j)}
		}
		if err := s.checkAppSecretARN(i, app); err != nil {
			return err
		}
		s.Apps = append(s.Apps, app)
	}
	return nil
}

// allClientsWithApps says why Apps and PolicyAssignment ALL_CLIENTS are
// refused together. An app's scopes are bounded by its own policy only if no
// later policy admits it: Okta evaluates the policies in priority order and,
// "If none of the policy rules have conditions that can be met, then the next
// policy in the list is considered" (management API spec, Policy
// evaluation). With ALL_CLIENTS the single-client policies admit every
// client, so an app asking for a scope its rule does not list would fall
// through to them and be granted it; a policy's client condition
// (ClientPolicyCondition) has include only, so the catch-alls cannot exclude
// the apps.
const allClientsWithApps = "cannot be used with PolicyAssignment ALL_CLIENTS: Okta tries the next policy when an app's own " +
	"policy does not match its request, so an app asking for scopes beyond its own would be granted them by the " +
	"ALL_CLIENTS policies (an Okta policy cannot exclude clients); use PolicyAssignment CREATED_CLIENTS with Apps"

// checkAppSecretARN refuses an app secret that is another app's or one of the
// resource's other secrets: the handler writes the app's client id and secret
// to it, so a shared one would be overwritten by the other app (which would
// then hold the wrong client's secret) and, for CredentialSecretArn, the Okta
// management credential itself would be lost.
func (s *Spec) checkAppSecretARN(i int, app App) error {
	if app.SecretARN == "" {
		return nil
	}
	fail := func(reason string) error {
		return &AppError{Index: i, Name: app.Name, Key: "secretArn", Reason: reason}
	}
	if j := slices.IndexFunc(s.Apps, func(a App) bool { return a.SecretARN == app.SecretARN }); j >= 0 {
		return fail(fmt.Sprintf("is also the secret of Apps[%d] %q: each confidential app needs its own secret (its client id and secret are written there)", j, s.Apps[j].Name))
	}
	others := []struct{ property, arn, why string }{
		{PropCredentialSecretARN, s.CredentialSecretARN, "the Okta management credential would be overwritten"},
		{PropClientSecretARN, s.ClientSecretARN, "the confidential client's secret is written there"},
		{PropIntrospectionSecretARN, s.IntrospectionSecretARN, "the introspection client's credential is written there"},
	}
	if s.TokenHook != nil {
		others = append(others, struct{ property, arn, why string }{PropTokenHookSecretARN, s.TokenHook.SecretARN,
			"it holds the token hook's Authorization header value"})
	}
	for _, o := range others {
		if o.arn == app.SecretARN {
			return fail(fmt.Sprintf("is also %s: the app needs a secret of its own (%s)", o.property, o.why))
		}
	}
	return nil
}

// appDefaults are the resource-wide settings an app inherits.
type appDefaults struct {
	groups                  []string
	access, refresh, window int64
	backendAccess           int64
	// The user-facing rule's token hook applies to user-facing apps too: it is
	// the resource's launch-context hook.
	hookID      string
	managedHook bool
}

func (s *Spec) appDefaults(p cfnprops.Properties) appDefaults {
	// Parse has validated these already; reading them again keeps this file
	// independent of how parsePolicies stores them.
	d := appDefaults{groups: s.UserGroupIDs, access: DefaultAccessTokenLifetimeMinutes,
		refresh: DefaultRefreshTokenLifetimeMinutes, window: DefaultRefreshTokenWindowMinutes,
		backendAccess: DefaultBackendAccessTokenLifetimeMinutes, managedHook: s.TokenHook != nil}
	d.hookID, _ = p.OptionalString(PropTokenInlineHookID, "")
	if v, err := p.Int(PropAccessTokenLifetimeMinutes, DefaultAccessTokenLifetimeMinutes); err == nil {
		d.access = int64(v)
	}
	if v, err := p.Int(PropRefreshTokenLifetimeMinutes, DefaultRefreshTokenLifetimeMinutes); err == nil {
		d.refresh = int64(v)
	}
	if v, err := p.Int(PropRefreshTokenWindowMinutes, DefaultRefreshTokenWindowMinutes); err == nil {
		d.window = int64(v)
	}
	if v, err := p.Int(PropBackendAccessTokenLifetime, DefaultBackendAccessTokenLifetimeMinutes); err == nil {
		d.backendAccess = int64(v)
	}
	return d
}

func (s *Spec) resolveApp(i int, x AppJSON, d appDefaults) (App, error) {
	fail := func(key, reason string) (App, error) {
		return App{}, &AppError{Index: i, Name: x.Name, Key: key, Reason: reason}
	}
	switch {
	case x.Name == "":
		return fail("name", "is required")
	case len(x.Name) > MaxAppNameLength || !AppNamePattern.MatchString(x.Name):
		return fail("name", fmt.Sprintf("must be lower-case letters, digits and single hyphens, starting with a letter, at most %d characters (it names the app's Okta objects, secret and outputs)", MaxAppNameLength))
	case !x.Type.Valid():
		return fail("type", fmt.Sprintf("must be public, confidential or backend, got %q", x.Type))
	}
	app := App{Name: x.Name, Type: x.Type, Patterns: slices.Clone(x.Scopes)}
	consent := "TRUSTED"
	if slices.ContainsFunc(s.Scopes, func(sc Scope) bool { return sc.Consent == "REQUIRED" }) {
		consent = "REQUIRED"
	}
	label := s.Server.Name + " app " + x.Name

	if x.Type == AppBackend {
		switch {
		case len(x.RedirectURIs) > 0:
			return fail("redirectUris", "apply to user-facing apps only: a backend app has no redirect")
		case len(x.PostLogoutRedirectURIs) > 0:
			return fail("postLogoutRedirectUris", "apply to user-facing apps only")
		case x.ApplicationType != "":
			return fail("applicationType", "applies to public apps only")
		case len(x.GroupIDs) > 0:
			return fail("groupIds", "apply to user-facing apps only: client credentials act for no user")
		case x.RefreshTokens:
			return fail("refreshTokens", "apply to user-facing apps only: client credentials get no refresh token")
		case x.RefreshTokenLifetimeMinutes != nil:
			return fail("refreshTokenLifetimeMinutes", "applies to user-facing apps only")
		case x.RefreshTokenWindowMinutes != nil:
			return fail("refreshTokenWindowMinutes", "applies to user-facing apps only")
		case x.SecretARN != "":
			return fail("secretArn", "applies to confidential apps only: a backend app authenticates with its own key (private_key_jwt)")
		}
		keys, err := appJWKS(x.JWKS)
		if err != nil {
			return fail("jwks", err.Error())
		}
		app.Client = Client{Label: label, ApplicationType: "service", GrantTypes: []string{"client_credentials"},
			ResponseTypes: []string{"token"}, TokenEndpointAuthMethod: "private_key_jwt", ConsentMethod: "TRUSTED", JWKS: keys}
		access := d.backendAccess
		if x.AccessTokenLifetimeMinutes != nil {
			access = *x.AccessTokenLifetimeMinutes
		}
		if access < MinAccessTokenLifetimeMinutes || access > MaxAccessTokenLifetimeMinutes {
			return fail("accessTokenLifetimeMinutes", fmt.Sprintf("must be between %d and %d, got %d",
				MinAccessTokenLifetimeMinutes, MaxAccessTokenLifetimeMinutes, access))
		}
		scopes, key, reason := s.expandScopes(x.Scopes, false)
		if reason != "" {
			return fail(key, reason)
		}
		app.Rule = Rule{Name: AppRuleName, Priority: 1, GrantTypes: []string{"client_credentials"}, Scopes: scopes,
			GroupIDs: []string{EveryoneGroup}, AccessTokenLifetimeMinutes: access, RefreshTokenLifetimeMinutes: DefaultRefreshTokenLifetimeMinutes,
			RefreshTokenWindowMinutes: DefaultRefreshTokenWindowMinutes}
		return app, nil
	}

	// User-facing.
	if len(x.JWKS) > 0 {
		return fail("jwks", "applies to backend apps only")
	}
	appType := "web"
	switch {
	case x.Type == AppConfidential && x.ApplicationType != "":
		return fail("applicationType", "applies to public apps only (a confidential app is a web app)")
	case x.Type == AppPublic && (x.ApplicationType == "" || x.ApplicationType == "browser"):
		appType = "browser"
	case x.Type == AppPublic && x.ApplicationType == "native":
		appType = "native"
	case x.Type == AppPublic:
		return fail("applicationType", fmt.Sprintf("must be browser or native, got %q", x.ApplicationType))
	}
	switch {
	case x.Type == AppConfidential && x.SecretARN == "":
		return fail("secretArn", "is required for a confidential app: its client id and secret are written there")
	case x.Type == AppConfidential && !secretARN.MatchString(x.SecretARN):
		return fail("secretArn", fmt.Sprintf("must be a Secrets Manager secret ARN, got %q", x.SecretARN))
	case x.Type == AppPublic && x.SecretARN != "":
		return fail("secretArn", "applies to confidential apps only: a public app has no secret")
	}
	if len(x.RedirectURIs) == 0 {
		return fail("redirectUris", "is required: list at least one redirect URI")
	}
	for j, u := range x.RedirectURIs {
		if err := httpsurl.CheckRedirect(u, appType == "native"); err != nil {
			return fail(fmt.Sprintf("redirectUris[%d]", j), err.Error())
		}
	}
	for j, u := range x.PostLogoutRedirectURIs {
		if err := httpsurl.CheckRedirect(u, appType == "native"); err != nil {
			return fail(fmt.Sprintf("postLogoutRedirectUris[%d]", j), err.Error())
		}
	}
	groups := d.groups
	if len(x.GroupIDs) > 0 {
		groups = x.GroupIDs
	}
	for j, g := range x.GroupIDs {
		if g != EveryoneGroup && !oktaID.MatchString(g) {
			return fail(fmt.Sprintf("groupIds[%d]", j), fmt.Sprintf("must be an Okta group id (00g...) or EVERYONE, got %q", g))
		}
	}
	access, refresh, window := d.access, d.refresh, d.window
	if x.AccessTokenLifetimeMinutes != nil {
		access = *x.AccessTokenLifetimeMinutes
	}
	if x.RefreshTokenLifetimeMinutes != nil {
		refresh = *x.RefreshTokenLifetimeMinutes
	}
	if x.RefreshTokenWindowMinutes != nil {
		window = *x.RefreshTokenWindowMinutes
	}
	// Management API spec, TokenAuthorizationServerPolicyRuleAction, as for
	// the resource-wide lifetimes (parsePolicies).
	switch {
	case access < MinAccessTokenLifetimeMinutes || access > MaxAccessTokenLifetimeMinutes:
		return fail("accessTokenLifetimeMinutes", fmt.Sprintf("must be between %d and %d, got %d",
			MinAccessTokenLifetimeMinutes, MaxAccessTokenLifetimeMinutes, access))
	case window < MinRefreshTokenWindowMinutes || window > MaxRefreshTokenWindowMinutes:
		return fail("refreshTokenWindowMinutes", fmt.Sprintf("must be between %d and %d, got %d",
			MinRefreshTokenWindowMinutes, MaxRefreshTokenWindowMinutes, window))
	case window < access:
		return fail("refreshTokenWindowMinutes", fmt.Sprintf("must be at least the access token lifetime (%d), got %d", access, window))
	case refresh < 0 || refresh > MaxRefreshTokenLifetimeMinutes:
		return fail("refreshTokenLifetimeMinutes", fmt.Sprintf("must be 0 (unlimited) to %d, got %d", MaxRefreshTokenLifetimeMinutes, refresh))
	case refresh != 0 && refresh < window:
		return fail("refreshTokenLifetimeMinutes", fmt.Sprintf("must be 0 (unlimited) or at least the refresh token window (%d), got %d", window, refresh))
	}
	scopes, key, reason := s.expandScopes(x.Scopes, true)
	if reason != "" {
		return fail(key, reason)
	}
	grants := []string{"authorization_code"}
	if x.RefreshTokens {
		grants = append(grants, "refresh_token")
		scopes = append(scopes, "offline_access")
	}
	method := "client_secret_basic"
	if x.Type == AppPublic {
		method = "none"
	}
	app.Client = Client{Label: label, ApplicationType: appType, GrantTypes: grants, ResponseTypes: []string{"code"},
		RedirectURIs: slices.Clone(x.RedirectURIs), PostLogoutRedirectURIs: slices.Clone(x.PostLogoutRedirectURIs),
		TokenEndpointAuthMethod: method, PKCERequired: true, ConsentMethod: consent}
	app.GroupIDs = slices.Clone(groups)
	app.SecretARN = x.SecretARN
	// Okta's rules have no refresh_token grant: refresh is the app's grant
	// type plus offline_access, as for the user-facing rule (parsePolicies).
	app.Rule = Rule{Name: AppRuleName, Priority: 1, GrantTypes: []string{"authorization_code"}, Scopes: scopes,
		GroupIDs: slices.Clone(groups), AccessTokenLifetimeMinutes: access, RefreshTokenLifetimeMinutes: refresh,
		RefreshTokenWindowMinutes: window, InlineHookID: d.hookID, ManagedTokenHook: d.managedHook}
	return app, nil
}

// appJWKS validates a backend app's JWK Set: public RSA keys only. A
// private member (d, p, q, dp, dq, qi, oth, or k of a symmetric key) means a
// private key was pasted where the public one belongs; it would end up in the
// template, so it is refused outright.
func appJWKS(raw json.RawMessage) ([]map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("is required for a backend app: the service's public JWK Set {\"keys\": [...]}")
	}
	keys, i, reason := decodePublicJWKS(raw)
	switch {
	case reason == "":
		return keys, nil
	case i < 0:
		return nil, errors.New(reason)
	case strings.HasPrefix(reason, "is "):
		// A predicate reads with the key as its subject.
		return nil, fmt.Errorf("keys[%d] %s", i, reason)
	}
	return nil, fmt.Errorf("keys[%d]: %s", i, reason)
}

// expandScopes resolves an app's scope patterns against the catalogue (the
// custom scopes and Okta's system scopes). A pattern that names a scope is
// that scope, so a literal SMART wildcard scope such as patient/*.rs (in the
// catalogue when ScopeResources lists "*") keeps its SMART meaning; otherwise
// each * matches one segment part (a resource type, a permission) and the
// pattern stands for every scope it matches. A pattern matching nothing is
// an error: a typo must not silently grant nothing (or, worse, be
// "fixed" later by a catalogue change). User-facing apps get no system/
// scope; backend apps only system/ scopes. offline_access comes with
// refreshTokens only. The result keeps catalogue order, without duplicates.
func (s *Spec) expandScopes(patterns []string, userFacing bool) (scopes []string, key, reason string) {
	if len(patterns) == 0 {
		return nil, "scopes", "is required: list the scopes (or patterns such as patient/*.rs) the app may be granted"
	}
	catalogue := append(slices.Clone(OktaSystemScopes), s.ScopeNames()...)
	allowed := func(name string) bool {
		system := strings.HasPrefix(name, "system/")
		if !userFacing {
			return system
		}
		return !system && name != "offline_access"
	}
	picked := map[string]bool{}
	for j, pat := range patterns {
		k := fmt.Sprintf("scopes[%d]", j)
		switch {
		case strings.TrimSpace(pat) == "":
			return nil, k, "must not be empty"
		case pat == "offline_access" && userFacing:
			return nil, k, "offline_access is not listed as a scope: set refreshTokens to true instead"
		case strings.Trim(pat, "*/.") == "":
			return nil, k, fmt.Sprintf("%q matches everything: list the scopes or name a level and a resource or permission", pat)
		}
		var matched []string
		if slices.Contains(catalogue, pat) {
			matched = []string{pat}
		} else if strings.Contains(pat, "*") {
			re := scopePattern(pat)
			for _, name := range catalogue {
				if re.MatchString(name) {
					matched = append(matched, name)
				}
			}
		}
		if len(matched) == 0 {
			return nil, k, fmt.Sprintf("%q matches no scope in the catalogue (ScopeLevels, ScopeResources, ScopePermissions*, ExtraScopes and Okta's system scopes)", pat)
		}
		var ok []string
		for _, name := range matched {
			if allowed(name) {
				ok = append(ok, name)
			}
		}
		if len(ok) == 0 {
			if userFacing {
				return nil, k, fmt.Sprintf("%q matches only system/ scopes, which only backend apps may be granted", pat)
			}
			return nil, k, fmt.Sprintf("%q matches no system/ scope: backend apps are granted system/ scopes only", pat)
		}
		for _, name := range ok {
			picked[name] = true
		}
	}
	for _, name := range catalogue {
		if picked[name] {
			scopes = append(scopes, name)
		}
	}
	return scopes, "", ""
}

// scopePattern compiles a scope pattern: each * matches one or more
// characters other than / and . (a resource type, a permission), or a
// literal *.
func scopePattern(pat string) *regexp.Regexp {
	parts := strings.Split(pat, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `(?:[^/.*]+|\*)`) + `$`)
}

// AppSecretDocument is the JSON the handler writes to a confidential app's
// secret (App.SecretARN).
type AppSecretDocument struct {
	Issuer       string `json:"issuer"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// App returns the app of that name, if the spec has it.
func (s *Spec) App(name string) (App, bool) {
	i := slices.IndexFunc(s.Apps, func(a App) bool { return a.Name == name })
	if i < 0 {
		return App{}, false
	}
	return s.Apps[i], true
}
