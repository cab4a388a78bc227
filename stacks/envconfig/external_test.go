package envconfig_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

// cognito is a complete external block of an Amazon Cognito user pool.
const cognito = `{"authorizationServer": "external", "external": {
	"issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123",
	"authorizationEndpoint": "https://smart.auth.us-east-1.amazoncognito.com/oauth2/authorize",
	"tokenEndpoint": "https://smart.auth.us-east-1.amazoncognito.com/oauth2/token",
	"jwksUri": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123/.well-known/jwks.json",
	"revocationEndpoint": "https://smart.auth.us-east-1.amazoncognito.com/oauth2/revoke",
	"scopesSupported": ["openid", "launch/patient", "patient/*.read"],
	"supports": ["public-clients", "openid-connect"],
	"clientIds": ["1example23456789"],
	"clientIdsStandInForAudience": true,
	"scopeClaim": "scope"}}`

func TestAnExternalAuthorizationServerIsReadWithoutOkta(t *testing.T) {
	envs, err := envconfig.Parse(decode(t, `{"qa": `+cognito+`}`))
	require.NoError(t, err)
	e := envs[0]
	require.Equal(t, envconfig.AuthorizationServerExternal, e.AuthorizationServer())
	require.Equal(t, envconfig.Okta{}, e.Okta, "nothing of Okta")
	require.Equal(t, &envconfig.External{
		Issuer:                      "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123",
		AuthorizationEndpoint:       "https://smart.auth.us-east-1.amazoncognito.com/oauth2/authorize",
		TokenEndpoint:               "https://smart.auth.us-east-1.amazoncognito.com/oauth2/token",
		JwksURI:                     "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123/.well-known/jwks.json",
		RevocationEndpoint:          "https://smart.auth.us-east-1.amazoncognito.com/oauth2/revoke",
		ScopesSupported:             []string{"openid", "launch/patient", "patient/*.read"},
		Supports:                    []string{"public-clients", "openid-connect"},
		ClientIDs:                   []string{"1example23456789"},
		ClientIDsStandInForAudience: true,
		ScopeClaim:                  "scope",
	}, e.External)
}

func TestOktaStaysTheDefault(t *testing.T) {
	envs, err := envconfig.Parse(decode(t, `{"qa": `+minimal+`, "eu": {"authorizationServer": "okta", "okta": `+oktaOK+`}}`))
	require.NoError(t, err)
	for _, e := range envs {
		require.Equal(t, envconfig.AuthorizationServerOkta, e.AuthorizationServer(), e.Name)
		require.Nil(t, e.External, e.Name)
	}
}

func TestEveryExternalKeyIsRead(t *testing.T) {
	envs, err := envconfig.Parse(decode(t, `{"qa": {"authorizationServer": "external",
		"tokenValidator": {"validation": "introspection"},
		"external": {
		"issuer": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
		"discoveryUrl": "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration",
		"skipDiscoveryCheck": true,
		"authorizationEndpoint": "https://login.microsoftonline.com/t/oauth2/v2.0/authorize",
		"tokenEndpoint": "https://login.microsoftonline.com/t/oauth2/v2.0/token",
		"jwksUri": "https://login.microsoftonline.com/t/discovery/v2.0/keys?appid=abc",
		"introspectionEndpoint": "https://idp.example.org/introspect",
		"revocationEndpoint": "https://idp.example.org/revoke",
		"managementEndpoint": "https://idp.example.org/apps",
		"audiences": ["api://fhir", "6731de76-14a6-49ae-97bc-6eba6914391e"],
		"clientIds": ["c1", "c2"],
		"scopeClaim": "scp",
		"scopeMap": {"patient.": "patient/", "user.": "user/"},
		"introspectionClientSecret": "smart/introspection",
		"introspectionClientSecretKey": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}}`))
	require.NoError(t, err)
	x := envs[0].External
	require.Equal(t, "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration", x.DiscoveryURL)
	require.True(t, x.SkipDiscoveryCheck)
	require.Equal(t, "https://login.microsoftonline.com/t/discovery/v2.0/keys?appid=abc", x.JwksURI)
	require.Equal(t, "https://idp.example.org/introspect", x.IntrospectionEndpoint)
	require.Equal(t, "https://idp.example.org/apps", x.ManagementEndpoint)
	require.Equal(t, []string{"api://fhir", "6731de76-14a6-49ae-97bc-6eba6914391e"}, x.Audiences)
	require.Equal(t, []string{"c1", "c2"}, x.ClientIDs)
	require.False(t, x.ClientIDsStandInForAudience)
	require.Equal(t, "scp", x.ScopeClaim)
	require.Equal(t, map[string]string{"patient.": "patient/", "user.": "user/"}, x.ScopeMap)
	require.Equal(t, "smart/introspection", x.IntrospectionClientSecret)
	require.Equal(t, "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", x.IntrospectionClientSecretKey)
}

func TestABadExternalBlockNamesTheEnvironmentAndTheKey(t *testing.T) {
	const endpoints = `"issuer": "https://idp.example.org", "authorizationEndpoint": "https://idp.example.org/authorize",
		"tokenEndpoint": "https://idp.example.org/token", "jwksUri": "https://idp.example.org/jwks"`
	ext := func(extra string) string {
		return `{"authorizationServer": "external", "external": {` + endpoints + extra + `}}`
	}
	cases := []struct {
		name, env, want string
	}{
		{"an unknown authorization server", `{"authorizationServer": "keycloak"}`,
			`environment "prod": authorizationServer must be okta (the stack provisions an Okta authorization server) or external`},
		{"the external block missing", `{"authorizationServer": "external"}`, `environment "prod": external is required`},
		{"the issuer missing", `{"authorizationServer": "external", "external": {"authorizationEndpoint": "https://a/x", "tokenEndpoint": "https://a/t", "jwksUri": "https://a/k"}}`,
			`environment "prod": external.issuer is required when authorizationServer is external`},
		{"an endpoint over http", ext(`, "revocationEndpoint": "http://idp.example.org/revoke"`),
			`environment "prod": external.revocationEndpoint must be an absolute https URL`},
		{"the JWKS with a fragment", `{"authorizationServer": "external", "external": {"issuer": "https://a", "authorizationEndpoint": "https://a/x", "tokenEndpoint": "https://a/t", "jwksUri": "https://a/k#x"}}`,
			`environment "prod": external.jwksUri must be an absolute https URL`},
		{"a client stand-in without an allow-list", ext(`, "clientIdsStandInForAudience": true`),
			`environment "prod": external.clientIdsStandInForAudience needs external.clientIds: without an allow-list of client ids, tokens with no audience would be accepted from any client`},
		{"an unknown scope claim", ext(`, "scopeClaim": "roles"`), `environment "prod": external.scopeClaim must be scope`},
		{"an unknown SMART feature", ext(`, "supports": ["launch-ehr"]`), `environment "prod": external.supports[0] must be one of confidential-clients, public-clients`},
		{"an audience with a comma", ext(`, "audiences": ["a,b"]`), `environment "prod": external.audiences[0] must not contain commas`},
		{"a scope map entry with a space", ext(`, "scopeMap": {"patient.": "patient /"}`), `environment "prod": external.scopeMap.patient. must map`},
		{"a scope map prefix that does not end at a separator", ext(`, "scopeMap": {"patient": "patient/"}`), `environment "prod": external.scopeMap.patient must map a scope prefix to a replacement: the prefix must end at a separator`},
		{"a typo in an external key", ext(`, "jwksURI": "https://idp.example.org/jwks"`), `environment "prod": external.jwksURI is not a known key`},
		{"okta beside an external server", `{"authorizationServer": "external", "okta": ` + oktaOK + `, "external": {` + endpoints + `}}`,
			`environment "prod": okta must be left out when authorizationServer is external`},
		{"an external block beside Okta", `{"okta": ` + oktaOK + `, "external": {` + endpoints + `}}`,
			`environment "prod": external is only read when authorizationServer is external`},
		{"introspection without an endpoint", `{"authorizationServer": "external", "tokenValidator": {"validation": "introspection"}, "external": {` + endpoints + `, "introspectionClientSecret": "s"}}`,
			`environment "prod": external.introspectionEndpoint is required when tokenValidator.validation is introspection`},
		{"a secret key that is not a key ARN", ext(`, "introspectionClientSecret": "s", "introspectionClientSecretKey": "alias/x"`),
			`environment "prod": external.introspectionClientSecretKey must be a KMS key ARN`},
		{"a secret key without the secret", ext(`, "introspectionClientSecretKey": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"`),
			`environment "prod": external.introspectionClientSecretKey is the key of external.introspectionClientSecret, which is not set`},
		{"introspection without a client secret", `{"authorizationServer": "external", "tokenValidator": {"validation": "introspection"}, "external": {` + endpoints + `, "introspectionEndpoint": "https://idp.example.org/i"}}`,
			`environment "prod": external.introspectionClientSecret is required when tokenValidator.validation is introspection`},
		{"a client stand-in with introspection", `{"authorizationServer": "external", "tokenValidator": {"validation": "introspection"}, "external": {` + endpoints +
			`, "introspectionEndpoint": "https://idp.example.org/i", "introspectionClientSecret": "s", "clientIds": ["app"], "clientIdsStandInForAudience": true}}`,
			`environment "prod": external.clientIdsStandInForAudience applies to tokenValidator.validation jwt only`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := envconfig.Parse(decode(t, `{"dev": `+minimal+`, "prod": `+c.env+`}`))
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.NotContains(t, err.Error(), `environment "dev"`, "only the bad environment is named")
		})
	}
	t.Run("a key set where it does not belong is reported once", func(t *testing.T) {
		_, err := envconfig.Parse(decode(t, `{"prod": {"okta": `+oktaOK+`, "external": {}}}`))
		require.EqualError(t, err, `environment "prod": external is only read when authorizationServer is external`)
	})
}
