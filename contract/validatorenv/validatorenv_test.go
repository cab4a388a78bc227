package validatorenv_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

const (
	issuer    = "https://example.okta.com/oauth2/default"
	role      = "arn:aws:iam::123456789012:role/HealthLakeSmart"
	secretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta-introspection-AbCdEf"
)

func env(kv ...string) func(string) string {
	m := map[string]string{validatorenv.EnvIssuer: issuer, validatorenv.EnvRoleARN: role}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func problems(t *testing.T, err error) []validatorenv.Problem {
	t.Helper()
	var e *validatorenv.Error
	require.True(t, errors.As(err, &e), "got %v", err)
	return e.Problems
}

func TestTheSmartVersionIsReadFromSMART_VERSION(t *testing.T) {
	assert.Equal(t, "SMART_VERSION", validatorenv.EnvSmartVersion, "the one name cdk.json, props and properties share")
	c, err := validatorenv.Parse(env(validatorenv.EnvSmartVersion, "v1"))
	require.NoError(t, err)
	assert.Equal(t, smart.V1, c.SmartVersion)

	c, err = validatorenv.Parse(env())
	require.NoError(t, err)
	assert.Equal(t, smart.V2, c.SmartVersion, "the default")

	_, err = validatorenv.Parse(env(validatorenv.EnvSmartVersion, "V1"))
	assert.Equal(t, validatorenv.EnvSmartVersion, problems(t, err)[0].Variable)
}

func TestTheOldNameSMART_SCOPE_VERSIONIsStillRead(t *testing.T) {
	assert.Equal(t, "SMART_SCOPE_VERSION", validatorenv.EnvLegacySmartVersion)
	t.Run("alone, it sets the version", func(t *testing.T) {
		c, err := validatorenv.Parse(env(validatorenv.EnvLegacySmartVersion, "v1"))
		require.NoError(t, err)
		assert.Equal(t, smart.V1, c.SmartVersion, "a v1 data store's function configured before the rename stays v1")
	})
	t.Run("a bad value is named by the old name", func(t *testing.T) {
		_, err := validatorenv.Parse(env(validatorenv.EnvLegacySmartVersion, "3"))
		assert.Equal(t, validatorenv.EnvLegacySmartVersion, problems(t, err)[0].Variable)
	})
	t.Run("with SMART_VERSION agreeing, both are accepted", func(t *testing.T) {
		c, err := validatorenv.Parse(env(validatorenv.EnvSmartVersion, "v1", validatorenv.EnvLegacySmartVersion, "v1"))
		require.NoError(t, err)
		assert.Equal(t, smart.V1, c.SmartVersion)
	})
	t.Run("with SMART_VERSION disagreeing, it fails naming both", func(t *testing.T) {
		_, err := validatorenv.Parse(env(validatorenv.EnvSmartVersion, "v2", validatorenv.EnvLegacySmartVersion, "v1"))
		p := problems(t, err)
		require.Len(t, p, 1)
		assert.Equal(t, validatorenv.EnvSmartVersion, p[0].Variable)
		assert.Contains(t, p[0].Reason, validatorenv.EnvLegacySmartVersion)
		assert.Contains(t, err.Error(), "SMART_VERSION")
	})
}

func TestBadTokenRulesAreNamed(t *testing.T) {
	for name, c := range map[string]struct {
		env      func(string) string
		variable string
		reason   string
	}{
		"an unknown scope claim":    {env(validatorenv.EnvScopeClaim, "roles"), validatorenv.EnvScopeClaim, `must be "scope" or "scp"`},
		"a stand-in without a list": {env(validatorenv.EnvAudienceRule, "aud-or-allowed-client"), validatorenv.EnvAudienceRule, "needs SMART_CLIENT_IDS"},
		"an unknown audience rule":  {env(validatorenv.EnvAudienceRule, "none"), validatorenv.EnvAudienceRule, `must be "aud" or "aud-or-allowed-client"`},
		"a scope map that is not JSON": {env(validatorenv.EnvScopeMap, "patient.=patient/"), validatorenv.EnvScopeMap,
			"must be a JSON object"},
		"a scope map with a space": {env(validatorenv.EnvScopeMap, `{"patient.": "patient /"}`), validatorenv.EnvScopeMap,
			"may hold spaces"},
		"a scope map with an empty key": {env(validatorenv.EnvScopeMap, `{"": "patient/"}`), validatorenv.EnvScopeMap,
			"must be non-empty"},
		"a scope map prefix that does not end at a separator": {env(validatorenv.EnvScopeMap, `{"patient": "patient/"}`),
			validatorenv.EnvScopeMap, "must end at a separator"},
	} {
		t.Run(name, func(t *testing.T) {
			parsed, err := validatorenv.Parse(c.env)
			got := problems(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, c.variable, got[0].Variable)
			assert.Contains(t, got[0].Reason, c.reason)
			assert.Equal(t, validatorenv.AudienceRequired, parsed.TokenRules.AudienceRule, "the safe default stays")
		})
	}
}

func TestAClientStandingInForTheAudienceIsRefusedInIntrospectionMode(t *testing.T) {
	standIn := []string{validatorenv.EnvClientIDs, "app-1", validatorenv.EnvAudienceRule, string(validatorenv.AudienceOrAllowedClient)}

	c, err := validatorenv.Parse(env(standIn...))
	require.NoError(t, err, "JWT mode applies the rule")
	assert.Equal(t, validatorenv.AudienceOrAllowedClient, c.TokenRules.AudienceRule)

	_, err = validatorenv.Parse(env(append(standIn, validatorenv.EnvValidation, string(validatorenv.ValidationIntrospection),
		validatorenv.EnvIntrospectionSecretARN, secretARN)...))
	got := problems(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, validatorenv.EnvAudienceRule, got[0].Variable)
	assert.Contains(t, got[0].Reason, "JWT validation only")
}

func TestTheScopeMapIsKeptEntryByEntry(t *testing.T) {
	c, err := validatorenv.Parse(env(validatorenv.EnvScopeMap, `{"patient.": "patient/", "user.": "user/"}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"patient.": "patient/", "user.": "user/"}, c.TokenRules.ScopeMap)
}

func TestValidationNamesItsModes(t *testing.T) {
	assert.True(t, validatorenv.ValidationJWT.Valid())
	assert.True(t, validatorenv.ValidationIntrospection.Valid())
	assert.False(t, validatorenv.Validation("JWT").Valid(), "modes are case-sensitive, as the validator reads them")
	assert.False(t, validatorenv.Validation("").Valid(), "the default is the parser's, not a mode")
}
