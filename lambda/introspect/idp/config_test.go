package idp_test

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

const (
	okIssuer    = "https://example.okta.com/oauth2/default"
	okSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta-introspection-AbCdEf"
)

func minimalEnv(kv ...string) env {
	e := env{validatorenv.EnvIssuer: okIssuer, validatorenv.EnvRoleARN: roleARN}
	for i := 0; i < len(kv); i += 2 {
		e[kv[i]] = kv[i+1]
	}
	return e
}

func TestTheDefaultConfiguration(t *testing.T) {
	c, err := idp.ConfigFromEnv(minimalEnv().get)
	require.NoError(t, err)
	assert.Equal(t, validatorenv.Env{
		Issuer:                okIssuer,
		Validation:            validatorenv.ValidationJWT,
		RoleARN:               roleARN,
		Leeway:                60 * time.Second,
		IntrospectionCacheTTL: 60 * time.Second,
		SmartVersion:          smart.V2,
		TokenRules:            validatorenv.TokenRules{AudienceRule: validatorenv.AudienceRequired},

		IntrospectionCallsPerSecond: 10,
	}, c.Env)
}

func TestEverySettingIsRead(t *testing.T) {
	c, err := idp.ConfigFromEnv(minimalEnv(
		validatorenv.EnvJWKSURL, "https://example.okta.com/oauth2/default/v1/keys",
		validatorenv.EnvAudiences, " api://default ,, https://fhir.example.com/r4/ ",
		validatorenv.EnvValidation, "introspection",
		validatorenv.EnvIntrospectionURL, "https://example.okta.com/oauth2/default/v1/introspect",
		validatorenv.EnvIntrospectionSecretARN, okSecretARN,
		validatorenv.EnvIntrospectionCacheTTL, "30",
		validatorenv.EnvIntrospectionRate, "50",
		validatorenv.EnvLeeway, "0",
		validatorenv.EnvSmartVersion, "v1",
	).get)
	require.NoError(t, err)
	assert.Equal(t, []string{"api://default", "https://fhir.example.com/r4/"}, c.Audiences)
	assert.Equal(t, validatorenv.ValidationIntrospection, c.Validation)
	assert.Equal(t, okSecretARN, c.IntrospectionSecretARN)
	assert.Equal(t, 30*time.Second, c.IntrospectionCacheTTL)
	assert.Equal(t, 50, c.IntrospectionCallsPerSecond)
	assert.Zero(t, c.Leeway)
	assert.Equal(t, smart.V1, c.SmartVersion)
}

func TestLoopbackHTTPIsAcceptedForTests(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080/oauth2/default", "http://localhost/x", "http://[::1]:9/x"} {
		_, err := idp.ConfigFromEnv(minimalEnv(validatorenv.EnvIssuer, u).get)
		assert.NoError(t, err, u)
	}
}

func TestABrokenConfigurationNamesTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      env
		variable string
	}{
		{"no issuer", env{validatorenv.EnvRoleARN: roleARN}, validatorenv.EnvIssuer},
		{"a plain-http issuer", minimalEnv(validatorenv.EnvIssuer, "http://example.okta.com/oauth2/default"), validatorenv.EnvIssuer},
		{"a relative issuer", minimalEnv(validatorenv.EnvIssuer, "example.okta.com"), validatorenv.EnvIssuer},
		{"an issuer with a query", minimalEnv(validatorenv.EnvIssuer, "https://example.okta.com/?x=1"), validatorenv.EnvIssuer},
		{"an issuer with credentials", minimalEnv(validatorenv.EnvIssuer, "https://user:pw@example.okta.com/"), validatorenv.EnvIssuer},
		{"a plain-http JWKS URL", minimalEnv(validatorenv.EnvJWKSURL, "http://example.okta.com/keys"), validatorenv.EnvJWKSURL},
		{"an unknown mode", minimalEnv(validatorenv.EnvValidation, "JWT"), validatorenv.EnvValidation},
		{"introspection without a secret", minimalEnv(validatorenv.EnvValidation, "introspection"), validatorenv.EnvIntrospectionSecretARN},
		{"a secret that is not an ARN", minimalEnv(validatorenv.EnvValidation, "introspection", validatorenv.EnvIntrospectionSecretARN, "okta-secret"), validatorenv.EnvIntrospectionSecretARN},
		{"a plain-http introspection URL", minimalEnv(validatorenv.EnvValidation, "introspection", validatorenv.EnvIntrospectionSecretARN, okSecretARN,
			validatorenv.EnvIntrospectionURL, "http://example.okta.com/introspect"), validatorenv.EnvIntrospectionURL},
		{"a negative cache TTL", minimalEnv(validatorenv.EnvIntrospectionCacheTTL, "-1"), validatorenv.EnvIntrospectionCacheTTL},
		{"no introspection calls at all", minimalEnv(validatorenv.EnvIntrospectionRate, "0"), validatorenv.EnvIntrospectionRate},
		{"an introspection rate too large", minimalEnv(validatorenv.EnvIntrospectionRate, "5000"), validatorenv.EnvIntrospectionRate},
		{"an introspection rate per minute", minimalEnv(validatorenv.EnvIntrospectionRate, "10/m"), validatorenv.EnvIntrospectionRate},
		{"no role", env{validatorenv.EnvIssuer: okIssuer}, validatorenv.EnvRoleARN},
		{"a role that is not an IAM role ARN", minimalEnv(validatorenv.EnvRoleARN, "arn:aws:iam::123456789012:user/bob"), validatorenv.EnvRoleARN},
		{"a leeway in minutes", minimalEnv(validatorenv.EnvLeeway, "5m"), validatorenv.EnvLeeway},
		{"a leeway too large", minimalEnv(validatorenv.EnvLeeway, "3600"), validatorenv.EnvLeeway},
		{"an unknown scope version", minimalEnv(validatorenv.EnvSmartVersion, "v3"), validatorenv.EnvSmartVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := idp.ConfigFromEnv(tc.env.get)
			var ce *validatorenv.Error
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, tc.variable, ce.Variable())
			assert.Contains(t, err.Error(), tc.variable)
			assert.NotContains(t, err.Error(), "pw@", "credentials in a URL are not repeated")
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, err := idp.ConfigFromEnv(env{validatorenv.EnvLeeway: "x"}.get)
	require.Error(t, err)
	for _, v := range []string{validatorenv.EnvIssuer, validatorenv.EnvRoleARN, validatorenv.EnvLeeway} {
		assert.Contains(t, err.Error(), v)
	}
}

func TestABrokenConfigurationLogsOneLineAndDeniesEverything(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, env{validatorenv.EnvIssuer: f.Issuer}, idp.Options{})

	lines := th.logs.Lines(t)
	require.Len(t, lines, 1, "one line at start")
	assert.Equal(t, "ERROR", lines[0]["level"])
	assert.Equal(t, validatorenv.EnvRoleARN, lines[0]["variable"])
	assert.Contains(t, lines[0]["error"], validatorenv.EnvRoleARN)
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
	th := newTestHandler(t, env{validatorenv.EnvIssuer: "http://example.okta.com/oauth2/default", validatorenv.EnvRoleARN: roleARN}, idp.Options{})
	resp, reason := th.call(t, tok)
	assert.Equal(t, string(idp.ReasonConfigInvalid), reason)
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, roleARN, resp.IAMRoleARN, "HealthLake requires iamRoleARN; the role variable itself is valid")

	th = newTestHandler(t, env{validatorenv.EnvIssuer: f.Issuer, validatorenv.EnvRoleARN: "arn:aws:iam::123456789012:user/bob"}, idp.Options{})
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
		{"a JWKS URL with a query", func(f *fakeIdP) env {
			return f.env(validatorenv.EnvJWKSURL, "https://example.okta.com/keys?api_key="+secret)
		}, nil},
		{"a relative JWKS URL with a query", func(f *fakeIdP) env { return f.env(validatorenv.EnvJWKSURL, "example.okta.com/keys?api_key="+secret) }, nil},
		{"a plain-http JWKS URL with a query and fragment", func(f *fakeIdP) env {
			return f.env(validatorenv.EnvJWKSURL, "http://example.okta.com/keys?api_key="+secret+"#"+secret)
		}, nil},
		{"an issuer with userinfo", func(f *fakeIdP) env {
			return f.env(validatorenv.EnvIssuer, "https://admin:"+secret+"@example.okta.com/x")
		}, nil},
		{"an introspection URL with a query", func(f *fakeIdP) env {
			return f.env(validatorenv.EnvValidation, "introspection", validatorenv.EnvIntrospectionSecretARN, okSecretARN,
				validatorenv.EnvIntrospectionURL, "ftp://example.okta.com/introspect?k="+secret)
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
