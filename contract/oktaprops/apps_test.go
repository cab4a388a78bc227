package oktaprops_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

const appSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:smart-app-acme-AbCdEf"

// publicKey is a syntactically complete RSA public JWK (the modulus is not a
// real key: only its members are checked here).
var publicKey = map[string]any{"kty": "RSA", "kid": "k1", "alg": "RS384", "use": "sig", "e": "AQAB", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}

func appsProp(t *testing.T, apps ...map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(apps)
	require.NoError(t, err)
	return string(raw)
}

// registryBase is a catalogue with two resources, v2 rs and cruds, all three
// levels, and the resource-wide lifetimes the apps inherit.
func registryBase() cfnprops.Properties {
	return with(base(), "ScopeResources", []any{"Patient", "Observation"}, "ScopePermissionsV2", []any{"rs", "cruds"},
		"UserGroupIds", []any{"00gabcdefghijklmnopq"}, "AccessTokenLifetimeMinutes", "30",
		"RefreshTokenWindowMinutes", "720")
}

func TestAppsResolveAgainstTheCatalogue(t *testing.T) {
	p := with(registryBase(), "Apps", appsProp(t,
		map[string]any{"name": "acme-portal", "type": "confidential", "redirectUris": []string{"https://acme.example/cb"},
			"scopes": []string{"openid", "fhirUser", "launch/patient", "patient/*.rs"}, "refreshTokens": true, "secretArn": appSecretARN},
		map[string]any{"name": "mobile", "type": "public", "applicationType": "native",
			"redirectUris": []string{"com.example.mobile:/cb", "http://127.0.0.1:8080/cb", "http://[::1]:8080/cb"},
			"scopes":       []string{"user/Observation.*"}, "groupIds": []string{"EVERYONE"}, "accessTokenLifetimeMinutes": 15},
		map[string]any{"name": "lab-sync", "type": "backend", "jwks": map[string]any{"keys": []any{publicKey}},
			"scopes": []string{"system/Observation.cruds"}},
	))
	s, err := oktaprops.Parse(p)
	require.NoError(t, err)
	require.Len(t, s.Apps, 3)

	t.Run("a confidential app is a web client with a secret and PKCE, refresh tokens when asked", func(t *testing.T) {
		a := s.Apps[0]
		assert.Equal(t, oktaprops.AppConfidential, a.Type)
		assert.Equal(t, "web", a.Client.ApplicationType)
		assert.Equal(t, "client_secret_basic", a.Client.TokenEndpointAuthMethod)
		assert.True(t, a.Client.PKCERequired)
		assert.Equal(t, []string{"authorization_code", "refresh_token"}, a.Client.GrantTypes)
		assert.Equal(t, appSecretARN, a.SecretARN)
		assert.Equal(t, "SMART app acme-portal", a.PolicyName())
	})
	t.Run("patient/*.rs expands to each resource's rs scope, and refreshTokens adds offline_access", func(t *testing.T) {
		assert.Equal(t, []string{"openid", "launch/patient", "fhirUser", "patient/Patient.rs", "patient/Observation.rs", "offline_access"},
			s.Apps[0].Rule.Scopes)
		assert.Equal(t, []string{"authorization_code"}, s.Apps[0].Rule.GrantTypes, "Okta's rules have no refresh_token grant")
	})
	t.Run("an app inherits the resource's groups and lifetimes unless it sets its own", func(t *testing.T) {
		assert.Equal(t, []string{"00gabcdefghijklmnopq"}, s.Apps[0].Rule.GroupIDs)
		assert.Equal(t, []string{"00gabcdefghijklmnopq"}, s.Apps[0].GroupIDs)
		assert.Equal(t, int64(30), s.Apps[0].Rule.AccessTokenLifetimeMinutes)
		assert.Equal(t, int64(720), s.Apps[0].Rule.RefreshTokenWindowMinutes)
		assert.Equal(t, []string{"EVERYONE"}, s.Apps[1].GroupIDs)
		assert.Equal(t, int64(15), s.Apps[1].Rule.AccessTokenLifetimeMinutes)
	})
	t.Run("a native public app takes custom schemes and loopback http, has no secret and no refresh token", func(t *testing.T) {
		a := s.Apps[1]
		assert.Equal(t, "native", a.Client.ApplicationType)
		assert.Equal(t, "none", a.Client.TokenEndpointAuthMethod)
		assert.Equal(t, []string{"authorization_code"}, a.Client.GrantTypes)
		assert.Equal(t, []string{"user/Observation.rs", "user/Observation.cruds"}, a.Rule.Scopes,
			"user/Observation.* is every permission of Observation, no other resource")
		assert.Empty(t, a.SecretARN)
	})
	t.Run("a backend app is a private_key_jwt service with client credentials and its system/ scopes", func(t *testing.T) {
		a := s.Apps[2]
		assert.Equal(t, "service", a.Client.ApplicationType)
		assert.Equal(t, "private_key_jwt", a.Client.TokenEndpointAuthMethod)
		assert.Equal(t, []string{"client_credentials"}, a.Client.GrantTypes)
		assert.Equal(t, []string{"client_credentials"}, a.Rule.GrantTypes)
		assert.Equal(t, []string{"system/Observation.cruds"}, a.Rule.Scopes)
		assert.Equal(t, int64(5), a.Rule.AccessTokenLifetimeMinutes, "the backend lifetime")
		require.Len(t, a.Client.JWKS, 1)
		assert.Equal(t, "k1", a.Client.JWKS[0]["kid"])
	})
}

func TestALiteralWildcardScopeInTheCatalogueKeepsItsSMARTMeaning(t *testing.T) {
	// With "*" among the resources, patient/*.rs is a scope of its own (all
	// resources): the pattern names it and grants exactly it.
	p := with(registryBase(), "ScopeResources", []any{"*", "Patient"}, "Apps", appsProp(t,
		map[string]any{"name": "viewer", "type": "public", "redirectUris": []string{"https://v.example/cb"}, "scopes": []string{"patient/*.rs"}}))
	s, err := oktaprops.Parse(p)
	require.NoError(t, err)
	assert.Equal(t, []string{"patient/*.rs"}, s.Apps[0].Rule.Scopes)
}

func TestBadAppsAreRefusedNamingTheAppAndTheKey(t *testing.T) {
	good := func(name string) map[string]any {
		return map[string]any{"name": name, "type": "public", "redirectUris": []string{"https://x.example/cb"}, "scopes": []string{"openid"}}
	}
	edit := func(m map[string]any, kv ...any) map[string]any {
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	privateKey := map[string]any{}
	for k, v := range publicKey {
		privateKey[k] = v
	}
	privateKey["d"] = "c2VjcmV0"
	cases := []struct {
		name string
		apps []map[string]any
		want string
	}{
		{"a name used twice", []map[string]any{good("a"), good("b"), good("a")},
			`Apps[2] "a": name is also the name of Apps[0]: names must be unique`},
		{"an http redirect URI off localhost", []map[string]any{good("a"), edit(good("acme-portal"), "redirectUris", []string{"https://ok.example/cb", "http://acme.example/cb"})},
			`Apps[1] "acme-portal": redirectUris[1] must be https (http only for localhost, 127.0.0.1 or [::1]), got "http://acme.example/cb"`},
		{"a custom scheme on a browser app", []map[string]any{edit(good("spa"), "redirectUris", []string{"com.example:/cb"})},
			`Apps[0] "spa": redirectUris[0] must be https (custom schemes only for native public apps)`},
		{"a scope pattern matching nothing", []map[string]any{edit(good("acme"), "scopes", []string{"openid", "patient/Medication.*"})},
			`Apps[0] "acme": scopes[1] "patient/Medication.*" matches no scope in the catalogue`},
		{"a misspelt scope", []map[string]any{edit(good("acme"), "scopes", []string{"launch/patinet"})},
			`Apps[0] "acme": scopes[0] "launch/patinet" matches no scope in the catalogue`},
		{"system scopes for a user-facing app", []map[string]any{edit(good("acme"), "scopes", []string{"system/*.rs"})},
			`Apps[0] "acme": scopes[0] "system/*.rs" matches only system/ scopes, which only backend apps may be granted`},
		{"user scopes for a backend app", []map[string]any{{"name": "svc", "type": "backend", "jwks": map[string]any{"keys": []any{publicKey}}, "scopes": []string{"patient/*.rs"}}},
			`Apps[0] "svc": scopes[0] "patient/*.rs" matches no system/ scope`},
		{"private key material in a backend app's JWKS", []map[string]any{{"name": "svc", "type": "backend", "jwks": map[string]any{"keys": []any{privateKey}}, "scopes": []string{"system/*.rs"}}},
			`Apps[0] "svc": jwks keys[0] is a private key (has "d"): register the public key only`},
		{"a symmetric key in a backend app's JWKS", []map[string]any{{"name": "svc", "type": "backend", "jwks": map[string]any{"keys": []any{map[string]any{"kty": "oct", "k": "c2VjcmV0"}}}, "scopes": []string{"system/*.rs"}}},
			`Apps[0] "svc": jwks keys[0] is a private key (has "k")`},
		{"a confidential app without its secret", []map[string]any{edit(good("web"), "type", "confidential")},
			`Apps[0] "web": secretArn is required for a confidential app`},
		{"a name that cannot name the app's outputs", []map[string]any{good("Acme_Portal")},
			`Apps[0] "Acme_Portal": name must be lower-case letters, digits and single hyphens`},
		{"an unknown key", []map[string]any{edit(good("a"), "redirectUri", "https://x.example/cb")},
			`property Apps: must be a JSON array of apps: json: unknown field "redirectUri"`},
		{"offline_access listed instead of refreshTokens", []map[string]any{edit(good("a"), "scopes", []string{"offline_access"})},
			`Apps[0] "a": scopes[0] offline_access is not listed as a scope: set refreshTokens to true instead`},
		{"a pattern that is only wildcards", []map[string]any{edit(good("a"), "scopes", []string{"*/*.*"})},
			`Apps[0] "a": scopes[0] "*/*.*" matches everything`},
		{"refresh tokens for a backend app", []map[string]any{{"name": "svc", "type": "backend", "jwks": map[string]any{"keys": []any{publicKey}}, "scopes": []string{"system/*.rs"}, "refreshTokens": true}},
			`Apps[0] "svc": refreshTokens apply to user-facing apps only`},
		{"an access token lifetime out of range", []map[string]any{edit(good("a"), "accessTokenLifetimeMinutes", 2000)},
			`Apps[0] "a": accessTokenLifetimeMinutes must be between 5 and 1440, got 2000`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oktaprops.Parse(with(registryBase(), "Apps", appsProp(t, tc.apps...)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var pe *cfnprops.PropertyError
			require.True(t, errors.As(err, &pe), "a property error, for callers that know no more")
			assert.Equal(t, "Apps", pe.Property)
		})
	}
}

func TestTheRegistryFitsTheCustomResourceResponse(t *testing.T) {
	many := func(n, nameLen int) string {
		var apps []map[string]any
		for i := range n {
			name := fmt.Sprintf("app%d", i)
			name += strings.Repeat("x", nameLen-len(name))
			apps = append(apps, map[string]any{"name": name, "type": "public", "redirectUris": []string{"https://x.example/cb"}, "scopes": []string{"openid"}})
		}
		raw, _ := json.Marshal(apps)
		return string(raw)
	}
	t.Run("fifty apps with 16-character names fit", func(t *testing.T) {
		s, err := oktaprops.Parse(with(registryBase(), "Apps", many(50, 16)))
		require.NoError(t, err)
		assert.Len(t, s.Apps, 50)
	})
	t.Run("fifty apps with 32-character names do not: their client ids would overflow the 4096-byte response", func(t *testing.T) {
		_, err := oktaprops.Parse(with(registryBase(), "Apps", many(50, 32)))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "over CloudFormation's 4096-byte limit on a response: the apps' client ids take 3100")
	})
	t.Run("fifty apps with 17-character names on a long custom-domain org do not: the issuer's URLs count too", func(t *testing.T) {
		// The reviewer's case: the org URL's length counts some six times
		// (the issuer and its five endpoints), and a CUSTOM_URL issuer's
		// domain is not known until Okta answers.
		p := with(registryBase(), "OktaOrgUrl", "https://login.regional-health-partners.org", "Apps", many(50, 17))
		_, err := oktaprops.Parse(p)
		require.NoError(t, err, "with the org's own domain in the issuer they fit")
		_, err = oktaprops.Parse(with(p, "IssuerMode", "CUSTOM_URL"))
		var pe *cfnprops.PropertyError
		require.True(t, errors.As(err, &pe), "got %v", err)
		assert.Equal(t, "Apps", pe.Property)
		assert.Contains(t, pe.Reason, "over CloudFormation's 4096-byte limit on a response")
		assert.Contains(t, pe.Reason, "the issuer and its endpoints")
		assert.Contains(t, pe.Reason, "Provider framework's fields")
	})
	t.Run("an update is not refused on the budget: its rollback must parse the deployed properties", func(t *testing.T) {
		p := with(registryBase(), "Apps", many(50, 32))
		_, _, err := oktaprops.ParseUpdate(p, p)
		require.NoError(t, err)
	})
	t.Run("fifty-one apps are refused", func(t *testing.T) {
		_, err := oktaprops.Parse(with(registryBase(), "Apps", many(51, 8)))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "lists 51 apps; at most 50")
	})
}

func TestAppsAreRefusedWithPoliciesForAllClients(t *testing.T) {
	// Okta considers the next policy when no rule of a policy matches
	// (management API spec, Policy evaluation), and a policy cannot exclude
	// clients: with ALL_CLIENTS catch-alls an app's own policy bounds nothing.
	app := map[string]any{"name": "lab-sync", "type": "backend", "jwks": map[string]any{"keys": []any{publicKey}},
		"scopes": []string{"system/Observation.rs"}}
	_, err := oktaprops.Parse(with(registryBase(), "PolicyAssignment", "ALL_CLIENTS", "Apps", appsProp(t, app)))
	var pe *cfnprops.PropertyError
	require.True(t, errors.As(err, &pe), "got %v", err)
	assert.Equal(t, "Apps", pe.Property)
	assert.Contains(t, pe.Reason, "cannot be used with PolicyAssignment ALL_CLIENTS")
	assert.Contains(t, pe.Reason, "beyond its own", "the message says why")

	t.Run("apps with policies for the created clients are accepted", func(t *testing.T) {
		s, err := oktaprops.Parse(with(registryBase(), "PolicyAssignment", "CREATED_CLIENTS", "Apps", appsProp(t, app)))
		require.NoError(t, err)
		assert.Len(t, s.Apps, 1)
	})
	t.Run("ALL_CLIENTS with an empty registry is accepted: no app to escape its bounds", func(t *testing.T) {
		_, err := oktaprops.Parse(with(registryBase(), "PolicyAssignment", "ALL_CLIENTS", "Apps", "[]"))
		require.NoError(t, err)
	})
}

func TestAnAppsSecretIsItsOwn(t *testing.T) {
	conf := func(name, arn string) map[string]any {
		return map[string]any{"name": name, "type": "confidential", "redirectUris": []string{"https://x.example/cb"},
			"scopes": []string{"openid"}, "secretArn": arn}
	}
	const other = "arn:aws:secretsmanager:us-east-1:123456789012:secret:smart-app-other-AbCdEf"
	clientSecret := "arn:aws:secretsmanager:us-east-1:123456789012:secret:smart-client-AbCdEf"
	introSecret := "arn:aws:secretsmanager:us-east-1:123456789012:secret:smart-intro-AbCdEf"
	hookSecret := "arn:aws:secretsmanager:us-east-1:123456789012:secret:smart-hook-AbCdEf"
	p := with(registryBase(), "ClientSecretArn", clientSecret, "IntrospectionSecretArn", introSecret,
		"TokenHookUrl", "https://hook.example.com/launch", "TokenHookSecretArn", hookSecret)
	credential := p["CredentialSecretArn"].(string)
	cases := []struct {
		name string
		apps []map[string]any
		want string
	}{
		{"two apps sharing a secret", []map[string]any{conf("a", appSecretARN), conf("b", other), conf("c", appSecretARN)},
			`Apps[2] "c": secretArn is also the secret of Apps[0] "a": each confidential app needs its own secret`},
		{"the Okta management credential", []map[string]any{conf("a", credential)},
			`Apps[0] "a": secretArn is also CredentialSecretArn: the app needs a secret of its own (the Okta management credential would be overwritten)`},
		{"the confidential client's secret", []map[string]any{conf("a", clientSecret)},
			`Apps[0] "a": secretArn is also ClientSecretArn`},
		{"the introspection credential", []map[string]any{conf("a", introSecret)},
			`Apps[0] "a": secretArn is also IntrospectionSecretArn`},
		{"the token hook's secret", []map[string]any{conf("a", hookSecret)},
			`Apps[0] "a": secretArn is also TokenHookSecretArn`},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is refused naming the app and the key", func(t *testing.T) {
			_, err := oktaprops.Parse(with(p, "Apps", appsProp(t, tc.apps...)))
			var pe *cfnprops.PropertyError
			require.True(t, errors.As(err, &pe), "got %v", err)
			assert.Equal(t, "Apps", pe.Property)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("apps with secrets of their own are accepted", func(t *testing.T) {
		s, err := oktaprops.Parse(with(p, "Apps", appsProp(t, conf("a", appSecretARN), conf("b", other))))
		require.NoError(t, err)
		assert.Len(t, s.Apps, 2)
	})
}
