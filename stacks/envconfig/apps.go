package envconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// App is one app of the registry, okta.apps in cdk.json: its own Okta client
// and access policy (oktaauth.AppProps, which documents each setting; the
// keys here are the same in camelCase, durations in minutes). The name is
// the app's identity: renaming an app removes it and adds a new one.
//
//	"apps": [
//	  {"name": "patient-portal", "type": "public", "redirectUris": ["https://portal.example.com/cb"],
//	   "scopes": ["openid", "fhirUser", "launch/patient", "patient/*.rs"], "refreshTokens": true},
//	  {"name": "lab-feed", "type": "backend", "jwks": {"keys": [...]}, "scopes": ["system/Observation.rs"]}
//	]
type App struct {
	// Name: lower-case letters, digits and single hyphens, starting with a
	// letter, at most 32 characters, unique. Key: name. Required.
	Name string
	// Type is public, confidential or backend. Key: type. Required.
	Type oktaprops.AppType
	// ApplicationType of a public app: browser or native. Key:
	// applicationType. Default: browser.
	ApplicationType oktaprops.PublicClientType
	// RedirectURIs of a user-facing app. Key: redirectUris. Required for
	// public and confidential apps.
	RedirectURIs []string
	// PostLogoutRedirectURIs of a user-facing app. Key:
	// postLogoutRedirectUris. Default: none.
	PostLogoutRedirectURIs []string
	// JWKS is a backend app's PUBLIC JSON Web Key Set, as JSON. Key: jwks (an
	// object). Required for backend apps.
	JWKS string
	// Scopes (or patterns such as patient/*.rs) the app may be granted. Key:
	// scopes. Required.
	Scopes []string
	// GroupIDs assigned to a user-facing app. Key: groupIds. Default:
	// okta.userGroupIds.
	GroupIDs []string
	// AccessTokenLifetimeMinutes, RefreshTokenLifetimeMinutes and
	// RefreshTokenWindowMinutes; nil leaves the server's. Keys:
	// accessTokenLifetimeMinutes, refreshTokenLifetimeMinutes,
	// refreshTokenWindowMinutes.
	AccessTokenLifetimeMinutes, RefreshTokenLifetimeMinutes, RefreshTokenWindowMinutes *int
	// RefreshTokens gives a user-facing app refresh tokens (offline_access).
	// Key: refreshTokens. Default: false.
	RefreshTokens bool
}

// parseApps reads okta.apps; checkApps checks them with the contract once
// the settings their scopes depend on are read.
func parseApps(r *reader, okta *object) []App {
	v, ok := okta.get("apps")
	if !ok {
		return nil
	}
	list, isList := v.([]any)
	if !isList {
		r.fail("okta.apps", "must be a list of apps, got %s", typeName(v))
		return nil
	}
	before := len(r.errs)
	defer func() { r.appsBad = len(r.errs) > before }()
	out := make([]App, 0, len(list))
	for i, item := range list {
		m, isObject := item.(map[string]any)
		if !isObject {
			r.fail(fmt.Sprintf("okta.apps[%d]", i), "must be an object, got %s", typeName(item))
			continue
		}
		name, _ := m["name"].(string)
		o := &object{r: r, path: appPath(i, name), m: m, read: map[string]bool{}}
		a := App{
			Name:                   o.str("name", ""),
			Type:                   oktaprops.AppType(o.str("type", "")),
			ApplicationType:        oktaprops.PublicClientType(o.str("applicationType", "")),
			RedirectURIs:           o.stringList("redirectUris"),
			PostLogoutRedirectURIs: o.stringList("postLogoutRedirectUris"),
			JWKS:                   o.publicJWKS("jwks"),
			Scopes:                 o.stringList("scopes"),
			GroupIDs:               o.stringList("groupIds"),
			RefreshTokens:          o.boolean("refreshTokens", false),
		}
		for _, d := range []struct {
			key string
			to  **int
		}{
			{"accessTokenLifetimeMinutes", &a.AccessTokenLifetimeMinutes},
			{"refreshTokenLifetimeMinutes", &a.RefreshTokenLifetimeMinutes},
			{"refreshTokenWindowMinutes", &a.RefreshTokenWindowMinutes},
		} {
			if o.has(d.key) {
				n := o.integer(d.key, 0)
				*d.to = &n
			}
		}
		o.done()
		out = append(out, a)
	}
	return out
}

// appPath names app i in errors: okta.apps[2] "acme-portal".
func appPath(i int, name string) string { return fmt.Sprintf("okta.apps[%d] %q", i, name) }

// checkApps runs the Okta resource's own parser (the one the construct and
// the handler run) on the apps, so that cdk.json's errors name the
// environment, the app and the key: duplicate names, a scope pattern
// matching nothing in the environment's catalogue, redirect URIs, JWKS,
// lifetimes. The other properties are the environment's own where they
// decide the catalogue and the defaults (smartVersion, scopeResources,
// userGroupIds, accessTokenLifetimeMinutes) and stand-ins otherwise.
func checkApps(r *reader, e *Environment) {
	if len(e.Okta.Apps) == 0 || r.appsBad {
		// Nothing to check, or errors of type already reported.
		return
	}
	props := oktaprops.Properties{
		oktaprops.PropOrgURL:              "https://check.okta.com",
		oktaprops.PropCredentialSecretARN: "arn:aws:secretsmanager:us-east-1:000000000000:secret:check-credential",
		oktaprops.PropName:                "check",
		oktaprops.PropSmartVersion:        string(e.Datastore.SmartVersion),
		oktaprops.PropApps: appsJSON(e.Okta.Apps, func(name string) string {
			// One per app, as the construct makes them: the contract refuses
			// two apps (or an app and the credential) sharing a secret.
			return "arn:aws:secretsmanager:us-east-1:000000000000:secret:check-app-" + name
		}),
	}
	strs := func(v []string) []any {
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	if len(e.Okta.ScopeResources) > 0 {
		props[oktaprops.PropScopeResources] = strs(e.Okta.ScopeResources)
	}
	if len(e.Okta.UserGroupIDs) > 0 {
		props[oktaprops.PropUserGroupIDs] = strs(e.Okta.UserGroupIDs)
	}
	if e.Okta.AccessTokenLifetimeMinutes > 0 {
		props[oktaprops.PropAccessTokenLifetimeMinutes] = strconv.Itoa(e.Okta.AccessTokenLifetimeMinutes)
	}
	_, err := oktaprops.Parse(props)
	var appErr *oktaprops.AppError
	switch {
	case err == nil:
	case errors.As(err, &appErr):
		// "is also the name of Apps[0]" speaks the property: say okta.apps.
		reason := strings.ReplaceAll(appErr.Reason, oktaprops.PropApps+"[", "okta.apps[")
		if appErr.Key == "" {
			r.fail(appPath(appErr.Index, appErr.Name), "%s", reason)
		} else {
			r.fail(appPath(appErr.Index, appErr.Name)+"."+appErr.Key, "%s", reason)
		}
	default:
		// A list-wide error (too many apps, names too long in total), or
		// one of another key already reported by its own check.
		var perr *oktaprops.PropertyError
		if errors.As(err, &perr) && perr.Property == oktaprops.PropApps {
			r.fail("okta.apps", "%s", perr.Reason)
		}
	}
}

// appsJSON renders apps with the Apps property's keys (oktaprops.PropApps),
// with secretARN giving a confidential app's secret ARN.
func appsJSON(apps []App, secretARN func(name string) string) string {
	out := make([]oktaprops.AppJSON, 0, len(apps))
	for _, a := range apps {
		x := oktaprops.AppJSON{Name: a.Name, Type: a.Type, ApplicationType: a.ApplicationType,
			RedirectURIs: a.RedirectURIs, PostLogoutRedirectURIs: a.PostLogoutRedirectURIs, Scopes: a.Scopes,
			GroupIDs: a.GroupIDs, AccessTokenLifetimeMinutes: minutes64(a.AccessTokenLifetimeMinutes),
			RefreshTokenLifetimeMinutes: minutes64(a.RefreshTokenLifetimeMinutes), RefreshTokenWindowMinutes: minutes64(a.RefreshTokenWindowMinutes),
			RefreshTokens: a.RefreshTokens}
		if a.JWKS != "" {
			x.JWKS = json.RawMessage(a.JWKS)
		}
		if a.Type == oktaprops.AppConfidential {
			x.SecretARN = secretARN(a.Name)
		}
		out = append(out, x)
	}
	js, err := oktaprops.MarshalApps(out)
	if err != nil {
		panic(err) // strings, numbers and JSON already encoded
	}
	return js
}

func minutes64(m *int) *int64 {
	if m == nil {
		return nil
	}
	v := int64(*m)
	return &v
}
