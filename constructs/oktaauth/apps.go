package oktaauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// AppProps configure one app of the registry (props.Apps): its own Okta OIDC
// client and its own access policy, whose one rule grants the app's scopes
// with the app's grant types and lifetimes. The name is the app's identity:
// changing it is removing the app and adding another (a new client id and,
// for a confidential app, a new secret).
type AppProps struct {
	// Name identifies the app: lower-case letters, digits and single hyphens,
	// starting with a letter, at most 32 characters
	// (oktaprops.AppNamePattern), unique in props.Apps. It names the app's
	// Okta objects, its secret's construct id (acme-portal ->
	// AppAcmePortalSecret), its client id attribute (AppClientId) and, in the
	// stacks, its outputs. A literal. Required.
	Name *string
	// Type is oktaprops.AppPublic (PKCE, no secret), AppConfidential (a web
	// app with a client secret, written to AppClientSecret(Name)) or
	// AppBackend (SMART Backend Services: client_credentials with
	// private_key_jwt, system/ scopes only). Required.
	Type oktaprops.AppType
	// ApplicationType of a public app: oktaprops.PublicClientTypeBrowser or
	// PublicClientTypeNative (custom-scheme redirects). Public apps only.
	// Default: oktaprops.PublicClientTypeBrowser.
	ApplicationType oktaprops.PublicClientType
	// RedirectUris are the login callbacks of a user-facing app: https, http
	// only on localhost, 127.0.0.1 or [::1], custom schemes only for native
	// apps; no fragment, no wildcard. Required for public and confidential
	// apps, refused for backend apps.
	RedirectUris *[]*string
	// PostLogoutRedirectUris are where Okta may send users after logout, with
	// the rules of RedirectUris. User-facing apps only.
	// Default: none.
	PostLogoutRedirectUris *[]*string
	// Jwks is a backend app's PUBLIC JSON Web Key Set, {"keys": [...]}, RSA
	// keys only. It is a template value: a key with a private member (d, p, q,
	// dp, dq, qi, oth, k) is refused at synthesis. A literal. Required for
	// backend apps, refused otherwise.
	Jwks *string
	// Scopes the app may be granted: scope names or patterns in which * stands
	// for one resource type or permission (patient/*.rs, user/Observation.*),
	// each matching at least one scope of the server's catalogue (ScopeLevels,
	// ScopeResources, the permissions, ExtraScopes, openid, profile, ...),
	// checked at synthesis. User-facing apps get no system/ scope, backend
	// apps only system/ scopes; offline_access comes with RefreshTokens.
	// Literals. Required.
	Scopes *[]*string
	// GroupIds are the Okta groups (00g...) assigned to a user-facing app and
	// admitted by its rule, or EVERYONE. User-facing apps only.
	// Default: props.UserGroupIds.
	GroupIds *[]*string
	// AccessTokenLifetime of the app's access tokens: whole minutes, from 5
	// minutes to 1 day (oktaprops.MinAccessTokenLifetimeMinutes and Max...).
	// Default: props.AccessTokenLifetime (props.BackendAccessTokenLifetime for
	// backend apps).
	AccessTokenLifetime awscdk.Duration
	// RefreshTokenLifetime: whole minutes, zero (unlimited) or at least
	// RefreshTokenWindow, at most 5 years. User-facing apps only.
	// Default: props.RefreshTokenLifetime.
	RefreshTokenLifetime awscdk.Duration
	// RefreshTokenWindow: a refresh token unused this long expires. Whole
	// minutes from 10 minutes to 5 years, at least AccessTokenLifetime.
	// User-facing apps only.
	// Default: props.RefreshTokenWindow.
	RefreshTokenWindow awscdk.Duration
	// RefreshTokens gives a user-facing app the refresh_token grant and the
	// offline_access scope.
	// Default: false.
	RefreshTokens *bool
}

// appKeyProps maps the contract's JSON keys of an app to AppProps' fields,
// for errors that speak the props.
var appKeyProps = map[string]string{
	"name":                        "Name",
	"type":                        "Type",
	"applicationType":             "ApplicationType",
	"redirectUris":                "RedirectUris",
	"postLogoutRedirectUris":      "PostLogoutRedirectUris",
	"jwks":                        "Jwks",
	"scopes":                      "Scopes",
	"groupIds":                    "GroupIds",
	"accessTokenLifetimeMinutes":  "AccessTokenLifetime",
	"refreshTokenLifetimeMinutes": "RefreshTokenLifetime",
	"refreshTokenWindowMinutes":   "RefreshTokenWindow",
	"refreshTokens":               "RefreshTokens",
	// The construct makes the secret; an error on it is the construct's bug.
	"secretArn": "secretArn (the ARN of AppClientSecret, which the construct makes)",
}

// AppIdPart is the part of construct ids and output ids derived from an app
// name: acme-portal -> AcmePortal. oktaprops.AppNamePattern makes it
// one-to-one (lower case, every hyphen followed by a letter), and it depends
// on the name only, so adding or removing an app leaves the others' logical
// ids as they are.
func AppIdPart(name string) string {
	var b strings.Builder
	upper := true
	for _, r := range name {
		switch {
		case r == '-':
			upper = true
		case upper && r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
			upper = false
		default:
			b.WriteRune(r)
			upper = false
		}
	}
	return b.String()
}

// app is one app of props.Apps as the construct made it.
type app struct {
	name   string
	typ    oktaprops.AppType
	secret awssecretsmanager.Secret // confidential apps only
}

// appLabel names app i in errors: props.Apps[3] "acme-portal".
func appLabel(i int, a *AppProps) string {
	name := ""
	if a != nil && a.Name != nil {
		name = *a.Name
	}
	return fmt.Sprintf("props.Apps[%d] %q", i, name)
}

// appProblems checks what the Apps property cannot show (nil entries, tokens
// where a literal is needed, durations); the contract's parser checks the
// rest in checkCatalogue.
func (s *settings) appProblems() []string {
	if s.Apps == nil {
		return nil
	}
	var errs []string
	if n := len(*s.Apps); n > oktaprops.MaxApps {
		return []string{fmt.Sprintf("props.Apps lists %d apps; at most %d are supported in one environment", n, oktaprops.MaxApps)}
	}
	seen := map[string]int{}
	for i, a := range *s.Apps {
		bad := func(format string, args ...any) {
			errs = append(errs, appLabel(i, a)+": "+fmt.Sprintf(format, args...))
		}
		if a == nil {
			bad("is nil")
			continue
		}
		switch {
		case a.Name == nil || *a.Name == "":
			bad("Name is required")
		case !isLiteral(a.Name):
			bad("Name must be a literal: it derives the app's construct ids and Okta names")
		case len(*a.Name) > oktaprops.MaxAppNameLength || !oktaprops.AppNamePattern.MatchString(*a.Name):
			// Checked before the contract's parser runs: the name derives
			// construct ids, which must be valid first.
			bad("Name must be lower-case letters, digits and single hyphens, starting with a letter, at most %d characters (it names the app's Okta objects, secret and outputs)", oktaprops.MaxAppNameLength)
		default:
			if j, dup := seen[*a.Name]; dup {
				bad("Name is also the name of props.Apps[%d]: names must be unique", j)
			} else {
				seen[*a.Name] = i
			}
		}
		if a.Jwks != nil && !isLiteral(a.Jwks) {
			bad("Jwks must be a literal: it is checked for private key material at synthesis")
		} else if a.Jwks != nil && *a.Jwks != "" && !json.Valid([]byte(*a.Jwks)) {
			bad("Jwks must be a JSON Web Key Set {\"keys\": [...]}, got invalid JSON")
		}
		for _, l := range []struct {
			field string
			value *[]*string
		}{{"RedirectUris", a.RedirectUris}, {"PostLogoutRedirectUris", a.PostLogoutRedirectUris}, {"Scopes", a.Scopes}, {"GroupIds", a.GroupIds}} {
			if l.value != nil && *awscdk.Token_IsUnresolved(l.value) {
				// The list goes into a JSON string, which a list token can't.
				bad("%s must be a list of strings, not a list token", l.field)
			}
		}
		if a.Scopes != nil && !*awscdk.Token_IsUnresolved(a.Scopes) {
			for j, sc := range *a.Scopes {
				if sc != nil && !isLiteral(sc) {
					bad("Scopes[%d] must be a literal: it is matched against the scope catalogue at synthesis", j)
				}
			}
		}
		for _, d := range []struct {
			field string
			value awscdk.Duration
		}{
			{"AccessTokenLifetime", a.AccessTokenLifetime},
			{"RefreshTokenLifetime", a.RefreshTokenLifetime},
			{"RefreshTokenWindow", a.RefreshTokenWindow},
		} {
			if d.value == nil {
				continue
			}
			if _, err := wholeMinutes(d.value); err != nil {
				bad("%s %v", d.field, err)
			}
		}
	}
	return errs
}

// appStandIn replaces a token in an app's string by a valid value of its
// kind, for the synthesis-time check; the template keeps the token.
var appStandIn = map[string]string{
	"redirectUris":           "https://synth-time.example.com/callback",
	"postLogoutRedirectUris": "https://synth-time.example.com/",
	"groupIds":               "00gsynthtime00000000",
}

// appsJSON renders props.Apps as the Apps property. secretARN gives a
// confidential app's secret ARN. With check, tokens are replaced by
// stand-ins so that the contract's parser can check the rest at synthesis;
// without, a token stays in the string as its placeholder, which
// CloudFormation replaces at deploy time (Fn::Join): secret ARNs, URLs and
// group ids need no JSON escaping.
func appsJSON(apps []*AppProps, secretARN func(name string) *string, check bool) string {
	str := func(v *string, key string) string {
		if v == nil {
			return ""
		}
		if check && !isLiteral(v) {
			return appStandIn[key]
		}
		return *v
	}
	list := func(v *[]*string, key string) []string {
		if v == nil {
			return nil
		}
		out := make([]string, 0, len(*v))
		for _, s := range *v {
			out = append(out, str(s, key))
		}
		return out
	}
	minutes := func(d awscdk.Duration) *int64 {
		if d == nil {
			return nil
		}
		m, _ := wholeMinutes(d) // validated by appProblems
		return &m
	}
	out := make([]oktaprops.AppJSON, 0, len(apps))
	for _, a := range apps {
		x := oktaprops.AppJSON{
			Name: str(a.Name, "name"), Type: a.Type, ApplicationType: a.ApplicationType,
			RedirectURIs: list(a.RedirectUris, "redirectUris"), PostLogoutRedirectURIs: list(a.PostLogoutRedirectUris, "postLogoutRedirectUris"),
			Scopes: list(a.Scopes, "scopes"), GroupIDs: list(a.GroupIds, "groupIds"),
			AccessTokenLifetimeMinutes:  minutes(a.AccessTokenLifetime),
			RefreshTokenLifetimeMinutes: minutes(a.RefreshTokenLifetime),
			RefreshTokenWindowMinutes:   minutes(a.RefreshTokenWindow),
			RefreshTokens:               a.RefreshTokens != nil && *a.RefreshTokens,
		}
		if a.Jwks != nil && *a.Jwks != "" {
			x.JWKS = json.RawMessage(*a.Jwks) // valid JSON (appProblems)
		}
		if arn := secretARN(x.Name); arn != nil {
			x.SecretARN = *arn
			if check && !isLiteral(arn) {
				// One per app: the contract refuses two apps sharing a secret.
				x.SecretARN = standIns[oktaprops.PropClientSecretARN] + "-app-" + x.Name
			}
		}
		out = append(out, x)
	}
	js, err := oktaprops.MarshalApps(out)
	if err != nil {
		panic(err) // strings, numbers and validated JSON only
	}
	return js
}

// newAppSecrets makes the secret of each confidential app, before the
// properties (which hold their ARNs). Each is its own resource with an id
// from the app's name, so adding or removing an app adds or removes only its
// secret.
func (a *SmartAuthorizationServer) newAppSecrets(newSecret func(id, description string) awssecretsmanager.Secret) {
	if a.settings.Apps == nil {
		return
	}
	for _, p := range *a.settings.Apps {
		x := app{name: *p.Name, typ: p.Type}
		if p.Type == oktaprops.AppConfidential {
			x.secret = newSecret("App"+AppIdPart(x.name)+"Secret", fmt.Sprintf(
				"Credential of the Okta confidential SMART app %s ({issuer, clientId, clientSecret}); written by the Okta custom resource", x.name))
		}
		a.apps = append(a.apps, x)
	}
}

// appSecretARN is the ARN of a confidential app's secret, or nil.
func (a *SmartAuthorizationServer) appSecretARN(name string) *string {
	for _, x := range a.apps {
		if x.name == name && x.secret != nil {
			return x.secret.SecretArn()
		}
	}
	return nil
}

// grantAppSecrets lets the handler write the app secrets. PutSecretValue is
// granted by each secret's resource policy, not by the handler's role
// policy: a role's inline policies share a 10,240-character quota (IAM), and
// 50 secret ARNs in the role's statements would take most of it. A resource
// policy per secret scales with the apps and comes and goes with its app.
// The custom resource depends on the policies, so the handler never writes
// before it may. The key is granted through the role, for secrets of this
// account and region only and only through Secrets Manager: the ARNs can't
// be listed there for the same quota, and Secrets Manager uses the key only
// for operations the handler is allowed, which on app secrets is the
// PutSecretValue above.
func (a *SmartAuthorizationServer) grantAppSecrets() {
	role := a.function.Role()
	stack := awscdk.Stack_Of(a)
	granted := false
	for _, x := range a.apps {
		if x.secret == nil {
			continue
		}
		granted = true
		res := x.secret.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("OktaHandlerWritesTheCredential"),
			Actions:    jsii.Strings("secretsmanager:PutSecretValue"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(role.RoleArn())},
			Resources:  jsii.Strings("*"),
		}))
		if res.PolicyDependable != nil {
			a.resource.Node().AddDependency(res.PolicyDependable)
		}
	}
	if !granted {
		return
	}
	a.function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("EncryptAppSecrets"),
		Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources: &[]*string{a.secretsKey.KeyArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": "secretsmanager." + *stack.Region() + ".amazonaws.com"},
			"StringLike": map[string]any{"kms:EncryptionContext:SecretARN": "arn:" + *stack.Partition() + ":secretsmanager:" +
				*stack.Region() + ":" + *stack.Account() + ":secret:*"},
		},
	}))
}

// hasConfidentialApp reports whether props.Apps has a confidential app.
func (s *settings) hasConfidentialApp() bool {
	return s.Apps != nil && slices.ContainsFunc(*s.Apps, func(a *AppProps) bool {
		return a != nil && a.Type == oktaprops.AppConfidential
	})
}

// describeApp says an app error of the contract in the props' words:
// Apps[3] "acme-portal": redirectUris[0] ... becomes
// props.Apps[3] "acme-portal": RedirectUris[0] ....
func describeApp(e *oktaprops.AppError) string {
	label := fmt.Sprintf("props.Apps[%d] %q", e.Index, e.Name)
	if e.Key == "" {
		return label + ": " + inPropWords(e.Reason)
	}
	key, rest := e.Key, ""
	if i := strings.IndexAny(key, "[."); i >= 0 {
		key, rest = key[:i], key[i:]
	}
	if p, ok := appKeyProps[key]; ok {
		key = p
	}
	return fmt.Sprintf("%s: %s%s %s", label, key, rest, appPropWords(inPropWords(e.Reason)))
}

// appKeyWord matches the camelCase keys of an app as words ("set
// refreshTokens to true"); the one-word keys (name, scopes) are left alone,
// being ordinary words in the reasons too.
var appKeyWord = regexp.MustCompile(`\b(applicationType|redirectUris|postLogoutRedirectUris|groupIds|` +
	`accessTokenLifetimeMinutes|refreshTokenLifetimeMinutes|refreshTokenWindowMinutes|refreshTokens)\b`)

// appPropWords replaces the app keys in a reason, outside quoted values, by
// the AppProps fields that set them.
func appPropWords(reason string) string {
	return outsideQuotes(reason, func(s string) string {
		return appKeyWord.ReplaceAllStringFunc(s, func(k string) string { return appKeyProps[k] })
	})
}

// asAppError finds an app error in err.
func asAppError(err error) (*oktaprops.AppError, bool) {
	var e *oktaprops.AppError
	ok := errors.As(err, &e)
	return e, ok
}

// appNames lists the apps' names for messages.
func (a *SmartAuthorizationServer) appNames() string {
	names := make([]string, 0, len(a.apps))
	for _, x := range a.apps {
		names = append(names, x.name)
	}
	if len(names) == 0 {
		return "props.Apps is empty"
	}
	return "props.Apps has " + strings.Join(names, ", ")
}

func (a *SmartAuthorizationServer) app(method, name string) app {
	for _, x := range a.apps {
		if x.name == name {
			return x
		}
	}
	panic(fmt.Sprintf("oktaauth.SmartAuthorizationServer.%s: no app named %q (%s)", method, name, a.appNames()))
}

// AppClientId returns the Okta client id of the app of props.Apps named
// name (the resource's oktaprops.AppDataKey attribute). It panics on a name
// props.Apps does not have.
func (a *SmartAuthorizationServer) AppClientId(name string) *string {
	a.app("AppClientId", name)
	return a.attr(oktaprops.AppDataKey(name))
}

// AppClientSecret returns the secret holding the credential of the
// confidential app named name (oktaprops.AppSecretDocument: {"issuer",
// "clientId", "clientSecret"}), or nil when the app is not confidential. Grant
// reads with its GrantRead. It panics on a name props.Apps does not have.
func (a *SmartAuthorizationServer) AppClientSecret(name string) awssecretsmanager.ISecret {
	x := a.app("AppClientSecret", name)
	if x.secret == nil {
		return nil
	}
	return x.secret
}

// hasApp reports whether props.Apps has an app of type t.
func (a *SmartAuthorizationServer) hasApp(t oktaprops.AppType) bool {
	return slices.ContainsFunc(a.apps, func(x app) bool { return x.typ == t })
}
