package envconfig_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

// rsaJWKS is a JWK Set of an RSA key generated here: its public half, or
// the whole key (private members and all) with private.
func rsaJWKS(t *testing.T, private bool) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	var k any = &key.PublicKey
	if private {
		k = key
	}
	jwk, err := jwkset.NewJWKFromKey(k, jwkset.JWKOptions{Marshal: jwkset.JWKMarshalOptions{Private: private},
		Metadata: jwkset.JWKMetadataOptions{KID: "k1", ALG: jwkset.AlgRS384, USE: jwkset.UseSig}})
	require.NoError(t, err)
	raw, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})
	require.NoError(t, err)
	return string(raw)
}

// appsEnv is a prod environment whose okta block has these apps (JSON).
func appsEnv(apps string) string {
	return `{"prod": {"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "apps": ` + apps + `}}}`
}

func TestOktaAppsAreReadWithEveryKey(t *testing.T) {
	jwks := rsaJWKS(t, false)
	envs, err := envconfig.Parse(decode(t, appsEnv(`[
		{"name": "patient-portal", "type": "public", "applicationType": "native",
		 "redirectUris": ["com.example.portal:/cb"], "postLogoutRedirectUris": ["com.example.portal:/out"],
		 "scopes": ["openid", "patient/*.rs"], "groupIds": ["00g1abcdefghijklmnop"],
		 "accessTokenLifetimeMinutes": 30, "refreshTokenLifetimeMinutes": 0, "refreshTokenWindowMinutes": 1440, "refreshTokens": true},
		{"name": "lab-feed", "type": "backend", "jwks": `+jwks+`, "scopes": ["system/Observation.rs"]}]`)))
	require.NoError(t, err)
	thirty, zero, day := 30, 0, 1440
	var want any
	require.NoError(t, json.Unmarshal([]byte(jwks), &want))
	apps := envs[0].Okta.Apps
	require.Len(t, apps, 2)
	var got any
	require.NoError(t, json.Unmarshal([]byte(apps[1].JWKS), &got))
	require.Equal(t, want, got)
	apps[1].JWKS = ""
	require.Equal(t, []envconfig.App{
		{Name: "patient-portal", Type: oktaprops.AppPublic, ApplicationType: oktaprops.PublicClientTypeNative,
			RedirectURIs: []string{"com.example.portal:/cb"}, PostLogoutRedirectURIs: []string{"com.example.portal:/out"},
			Scopes: []string{"openid", "patient/*.rs"}, GroupIDs: []string{"00g1abcdefghijklmnop"},
			AccessTokenLifetimeMinutes: &thirty, RefreshTokenLifetimeMinutes: &zero, RefreshTokenWindowMinutes: &day, RefreshTokens: true},
		{Name: "lab-feed", Type: oktaprops.AppBackend, Scopes: []string{"system/Observation.rs"}},
	}, apps)
	require.Equal(t, oktaprops.PolicyAssignmentCreatedClients, envs[0].Okta.PolicyAssignment, "admin-registered apps are not covered by default")
}

func TestBadAppsNameTheEnvironmentTheAppAndTheKey(t *testing.T) {
	app := func(fields string) string {
		return `{"name": "acme-portal", "type": "confidential", "redirectUris": ["https://portal.example.com/cb"], "scopes": ["openid"]` + fields + `}`
	}
	ok := app("")
	cases := []struct {
		name, apps, want string
	}{
		{"an http redirect URI off localhost", `[` + ok + `, {"name": "b", "type": "public", "scopes": ["openid"], "redirectUris": ["https://b.example.com/cb"]}, ` +
			`{"name": "acme-portal2", "type": "public", "scopes": ["openid"], "redirectUris": ["http://portal.example.com/cb"]}]`,
			`environment "prod": okta.apps[2] "acme-portal2".redirectUris[0] must be https (http only for localhost, 127.0.0.1 or [::1]), got "http://portal.example.com/cb"`},
		{"two apps of one name", `[` + ok + `, ` + ok + `]`,
			`environment "prod": okta.apps[1] "acme-portal".name is also the name of okta.apps[0]: names must be unique`},
		{"a scope pattern matching nothing", `[{"name": "acme-portal", "type": "public", "redirectUris": ["https://p.example.com/cb"], "scopes": ["openid", "user/Obsrvation.*"]}]`,
			`environment "prod": okta.apps[0] "acme-portal".scopes[1] "user/Obsrvation.*" matches no scope in the catalogue`},
		{"private key material in a JWKS", `[{"name": "lab-feed", "type": "backend", "scopes": ["system/*.rs"], "jwks": ` + rsaJWKS(t, true) + `}]`,
			`environment "prod": okta.apps[0] "lab-feed".jwks.keys[0] holds private key material ("d")`},
		{"an unknown key", `[` + app(`, "redirectURIs": ["https://x.example.com"]`) + `]`,
			`environment "prod": okta.apps[0] "acme-portal".redirectURIs is not a known key`},
		{"an unknown type", `[{"name": "x", "type": "spa", "scopes": ["openid"], "redirectUris": ["https://x.example.com/cb"]}]`,
			`environment "prod": okta.apps[0] "x".type must be public, confidential or backend, got "spa"`},
		{"a bad name", `[{"name": "Acme Portal", "type": "public", "scopes": ["openid"], "redirectUris": ["https://x.example.com/cb"]}]`,
			`environment "prod": okta.apps[0] "Acme Portal".name must be lower-case letters, digits and single hyphens`},
		{"a lifetime out of Okta's bounds", `[` + app(`, "accessTokenLifetimeMinutes": 2`) + `]`,
			`environment "prod": okta.apps[0] "acme-portal".accessTokenLifetimeMinutes must be between 5 and 1440, got 2`},
		{"a lifetime that is not a number", `[` + app(`, "refreshTokenWindowMinutes": "1d"`) + `]`,
			`environment "prod": okta.apps[0] "acme-portal".refreshTokenWindowMinutes must be a whole number`},
		{"an app that is not an object", `["acme-portal"]`, `environment "prod": okta.apps[0] must be an object, got a string ("acme-portal")`},
		{"apps that are not a list", `{"acme-portal": {}}`, `environment "prod": okta.apps must be a list of apps, got an object`},
		{"system scopes for a user-facing app", `[{"name": "a", "type": "public", "redirectUris": ["https://p.example.com/cb"], "scopes": ["system/*.rs"]}]`,
			`environment "prod": okta.apps[0] "a".scopes[0] "system/*.rs" matches only system/ scopes`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := envconfig.Parse(decode(t, appsEnv(tc.apps)))
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), "check.okta.com", "a stand-in leaked into the message")
		})
	}

	t.Run("more than 50 apps", func(t *testing.T) {
		var apps []string
		for i := range oktaprops.MaxApps + 1 {
			apps = append(apps, fmt.Sprintf(`{"name": "app%d", "type": "public", "scopes": ["openid"], "redirectUris": ["https://a.example.com/cb"]}`, i))
		}
		_, err := envconfig.Parse(decode(t, appsEnv("["+strings.Join(apps, ",")+"]")))
		require.ErrorContains(t, err, `environment "prod": okta.apps lists 51 apps; at most 50 are supported in one environment`)
	})

	t.Run("the scopes are matched against the environment's own catalogue", func(t *testing.T) {
		// With only Patient in scopeResources there is no Observation scope.
		_, err := envconfig.Parse(decode(t, `{"prod": {"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "scopeResources": ["Patient"],
			"apps": [{"name": "a", "type": "public", "redirectUris": ["https://p.example.com/cb"], "scopes": ["patient/Observation.rs"]}]}}}`))
		require.ErrorContains(t, err, `okta.apps[0] "a".scopes[0] "patient/Observation.rs" matches no scope`)
		// And in v1 syntax when datastore.smartVersion is v1.
		_, err = envconfig.Parse(decode(t, `{"prod": {"datastore": {"smartVersion": "v1"}, "okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s",
			"apps": [{"name": "a", "type": "public", "redirectUris": ["https://p.example.com/cb"], "scopes": ["patient/Observation.read"]}]}}}`))
		require.NoError(t, err)
	})
}

func TestPolicyAssignment(t *testing.T) {
	t.Run("ALL_CLIENTS is read", func(t *testing.T) {
		envs, err := envconfig.Parse(decode(t, `{"prod": {"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "policyAssignment": "ALL_CLIENTS"}}}`))
		require.NoError(t, err)
		require.Equal(t, oktaprops.PolicyAssignmentAllClients, envs[0].Okta.PolicyAssignment)
	})
	t.Run("another value names the choices", func(t *testing.T) {
		_, err := envconfig.Parse(decode(t, `{"prod": {"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "policyAssignment": "all"}}}`))
		require.ErrorContains(t, err, `environment "prod": okta.policyAssignment must be CREATED_CLIENTS (the clients and apps the stack creates) or ALL_CLIENTS`)
	})
}
