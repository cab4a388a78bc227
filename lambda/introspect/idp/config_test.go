package idp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/smartscope"
)

const (
	okIssuer    = "https://example.okta.com/oauth2/default"
	okSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta-introspection-AbCdEf"
)

func minimalEnv(kv ...string) env {
	e := env{idp.EnvIssuer: okIssuer, idp.EnvRoleARN: roleARN}
	for i := 0; i < len(kv); i += 2 {
		e[kv[i]] = kv[i+1]
	}
	return e
}

func TestTheDefaultConfiguration(t *testing.T) {
	c, err := idp.ConfigFromEnv(minimalEnv().get)
	require.NoError(t, err)
	assert.Equal(t, idp.Config{
		Issuer:                okIssuer,
		Mode:                  idp.ModeJWT,
		RoleARN:               roleARN,
		Leeway:                60 * time.Second,
		IntrospectionCacheTTL: 60 * time.Second,
		ScopeVersion:          smartscope.V2,

		IntrospectionCallsPerSecond: 10,
	}, c)
}

func TestEverySettingIsRead(t *testing.T) {
	c, err := idp.ConfigFromEnv(minimalEnv(
		idp.EnvJWKSURL, "https://example.okta.com/oauth2/default/v1/keys",
		idp.EnvAudiences, " api://default ,, https://fhir.example.com/r4/ ",
		idp.EnvValidation, "introspection",
		idp.EnvIntrospectionURL, "https://example.okta.com/oauth2/default/v1/introspect",
		idp.EnvIntrospectionSecretARN, okSecretARN,
		idp.EnvIntrospectionCacheTTL, "30",
		idp.EnvIntrospectionRate, "50",
		idp.EnvLeeway, "0",
		idp.EnvScopeVersion, "v1",
	).get)
	require.NoError(t, err)
	assert.Equal(t, []string{"api://default", "https://fhir.example.com/r4/"}, c.Audiences)
	assert.Equal(t, idp.ModeIntrospection, c.Mode)
	assert.Equal(t, okSecretARN, c.IntrospectionSecretARN)
	assert.Equal(t, 30*time.Second, c.IntrospectionCacheTTL)
	assert.Equal(t, 50, c.IntrospectionCallsPerSecond)
	assert.Zero(t, c.Leeway)
	assert.Equal(t, smartscope.V1, c.ScopeVersion)
}

func TestLoopbackHTTPIsAcceptedForTests(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/oauth2/default", "http://localhost/x", "http://[::1]:9/x"} {
		_, err := idp.ConfigFromEnv(minimalEnv(idp.EnvIssuer, u).get)
		assert.NoError(t, err, u)
	}
}

func TestABrokenConfigurationNamesTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      env
		variable string
	}{
		{"no issuer", env{idp.EnvRoleARN: roleARN}, idp.EnvIssuer},
		{"a plain-http issuer", minimalEnv(idp.EnvIssuer, "http://example.okta.com/oauth2/default"), idp.EnvIssuer},
		{"a relative issuer", minimalEnv(idp.EnvIssuer, "example.okta.com"), idp.EnvIssuer},
		{"an issuer with a query", minimalEnv(idp.EnvIssuer, "https://example.okta.com/?x=1"), idp.EnvIssuer},
		{"an issuer with credentials", minimalEnv(idp.EnvIssuer, "https://user:pw@example.okta.com/"), idp.EnvIssuer},
		{"a plain-http JWKS URL", minimalEnv(idp.EnvJWKSURL, "http://example.okta.com/keys"), idp.EnvJWKSURL},
		{"an unknown mode", minimalEnv(idp.EnvValidation, "JWT"), idp.EnvValidation},
		{"introspection without a secret", minimalEnv(idp.EnvValidation, "introspection"), idp.EnvIntrospectionSecretARN},
		{"a secret that is not an ARN", minimalEnv(idp.EnvValidation, "introspection", idp.EnvIntrospectionSecretARN, "okta-secret"), idp.EnvIntrospectionSecretARN},
		{"a plain-http introspection URL", minimalEnv(idp.EnvValidation, "introspection", idp.EnvIntrospectionSecretARN, okSecretARN,
			idp.EnvIntrospectionURL, "http://example.okta.com/introspect"), idp.EnvIntrospectionURL},
		{"a negative cache TTL", minimalEnv(idp.EnvIntrospectionCacheTTL, "-1"), idp.EnvIntrospectionCacheTTL},
		{"no introspection calls at all", minimalEnv(idp.EnvIntrospectionRate, "0"), idp.EnvIntrospectionRate},
		{"an introspection rate too large", minimalEnv(idp.EnvIntrospectionRate, "5000"), idp.EnvIntrospectionRate},
		{"an introspection rate per minute", minimalEnv(idp.EnvIntrospectionRate, "10/m"), idp.EnvIntrospectionRate},
		{"no role", env{idp.EnvIssuer: okIssuer}, idp.EnvRoleARN},
		{"a role that is not an IAM role ARN", minimalEnv(idp.EnvRoleARN, "arn:aws:iam::123456789012:user/bob"), idp.EnvRoleARN},
		{"a leeway in minutes", minimalEnv(idp.EnvLeeway, "5m"), idp.EnvLeeway},
		{"a leeway too large", minimalEnv(idp.EnvLeeway, "3600"), idp.EnvLeeway},
		{"an unknown scope version", minimalEnv(idp.EnvScopeVersion, "v3"), idp.EnvScopeVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := idp.ConfigFromEnv(tc.env.get)
			var ce *idp.ConfigError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, tc.variable, ce.Variable())
			assert.Contains(t, err.Error(), tc.variable)
			assert.NotContains(t, err.Error(), "pw@", "credentials in a URL are not repeated")
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, err := idp.ConfigFromEnv(env{idp.EnvLeeway: "x"}.get)
	require.Error(t, err)
	for _, v := range []string{idp.EnvIssuer, idp.EnvRoleARN, idp.EnvLeeway} {
		assert.Contains(t, err.Error(), v)
	}
}

func TestABrokenConfigurationLogsOneLineAndDeniesEverything(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, env{idp.EnvIssuer: f.Issuer}, idp.Options{})

	lines := th.logs.Lines(t)
	require.Len(t, lines, 1, "one line at start")
	assert.Equal(t, "ERROR", lines[0]["level"])
	assert.Equal(t, idp.EnvRoleARN, lines[0]["variable"])
	assert.Contains(t, lines[0]["error"], idp.EnvRoleARN)
	assert.Zero(t, f.jwksHits.Load()+f.rfc8414Hits.Load(), "nothing is fetched for a broken configuration")

	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims())
	for range 2 {
		resp, reason := th.call(t, tok)
		assert.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonConfigInvalid), reason)
		assert.Equal(t, endpoint, resp.AuthPayload.Aud)
	}
	assert.Len(t, th.logs.Lines(t), 3, "then one line per request")
}

func TestABrokenConfigurationStillAnswersWithTheRole(t *testing.T) {
	f := newFakeIdP(t)
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims())
	th := newTestHandler(t, env{idp.EnvIssuer: "http://example.okta.com/oauth2/default", idp.EnvRoleARN: roleARN}, idp.Options{})
	resp, reason := th.call(t, tok)
	assert.Equal(t, string(idp.ReasonConfigInvalid), reason)
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, roleARN, resp.IAMRoleARN, "HealthLake requires iamRoleARN; the role variable itself is valid")

	th = newTestHandler(t, env{idp.EnvIssuer: f.Issuer, idp.EnvRoleARN: "arn:aws:iam::123456789012:user/bob"}, idp.Options{})
	resp, _ = th.call(t, tok)
	assert.Empty(t, resp.IAMRoleARN, "an invalid role is never returned")
}

func TestNoURLIsLoggedWithItsQueryOrUserinfo(t *testing.T) {
	const secret = "SECRET-in-the-URL"
	for _, tc := range []struct {
		name string
		env  func(f *fakeIdP) env
		set  func(f *fakeIdP)
	}{
		{"a JWKS URL with a query", func(f *fakeIdP) env { return f.env(idp.EnvJWKSURL, "https://example.okta.com/keys?api_key="+secret) }, nil},
		{"a relative JWKS URL with a query", func(f *fakeIdP) env { return f.env(idp.EnvJWKSURL, "example.okta.com/keys?api_key="+secret) }, nil},
		{"a plain-http JWKS URL with a query and fragment", func(f *fakeIdP) env {
			return f.env(idp.EnvJWKSURL, "http://example.okta.com/keys?api_key="+secret+"#"+secret)
		}, nil},
		{"an issuer with userinfo", func(f *fakeIdP) env { return f.env(idp.EnvIssuer, "https://admin:"+secret+"@example.okta.com/x") }, nil},
		{"an introspection URL with a query", func(f *fakeIdP) env {
			return f.env(idp.EnvValidation, "introspection", idp.EnvIntrospectionSecretARN, okSecretARN,
				idp.EnvIntrospectionURL, "ftp://example.okta.com/introspect?k="+secret)
		}, nil},
		{"a discovered jwks_uri with a query", func(f *fakeIdP) env { return f.env() },
			func(f *fakeIdP) { f.metadataJWKS = "https://keys.example.com/keys?sig=" + secret }},
		{"a discovered jwks_uri with userinfo", func(f *fakeIdP) env { return f.env() },
			func(f *fakeIdP) { f.metadataJWKS = "https://u:" + secret + "@keys.example.com/keys" }},
		{"a discovery document naming an issuer with a query", func(f *fakeIdP) env { return f.env() },
			func(f *fakeIdP) { f.metadataIss = f.Issuer + "?x=" + secret }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIdP(t)
			if tc.set != nil {
				f.set(tc.set)
			}
			th := newTestHandler(t, tc.env(f), idp.Options{})
			th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
			logs := th.logs.String()
			assert.Contains(t, logs, `"level":"`, "something was logged")
			assert.NotContains(t, logs, secret)
		})
	}
}
