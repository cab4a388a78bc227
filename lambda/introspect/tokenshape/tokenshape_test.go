package tokenshape_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/tokenshape"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestTheDefaultsReadOktaAndRFC9068AndRequireAnAudience(t *testing.T) {
	r, problems := tokenshape.FromEnv(env())
	require.Empty(t, problems)
	okta := []any{"patient/Observation.rs", "openid"}
	assert.Equal(t, okta, r.Pick(okta, nil), "Okta's scp")
	assert.Equal(t, "patient/Observation.rs openid", r.Pick(nil, "patient/Observation.rs openid"), "RFC 9068's scope")
	assert.Equal(t, okta, r.Pick(okta, "system/*.cruds"), "scp first, as the validator always read them")
	assert.False(t, r.MissingAudienceAccepted(nil), "a token without aud is refused")
	assert.True(t, r.ClientAllowed(""), "no allow-list: any client")
	assert.False(t, r.Rewrites())
	assert.Equal(t, "patient.Observation.read", r.Rewrite("patient.Observation.read"), "nothing is rewritten")
}

func TestTheScopeClaimIsTheOnlyOneReadWhenConfigured(t *testing.T) {
	scope, _ := tokenshape.FromEnv(env(tokenshape.EnvScopeClaim, "scope"))
	assert.Equal(t, "patient/Patient.rs", scope.Pick([]any{"system/*.cruds"}, "patient/Patient.rs"), "scp is ignored")
	assert.Nil(t, scope.Pick([]any{"system/*.cruds"}, nil), "no fallback to scp")

	scp, _ := tokenshape.FromEnv(env(tokenshape.EnvScopeClaim, "scp"))
	assert.Equal(t, "patient.Patient.read launch.patient", scp.Pick("patient.Patient.read launch.patient", "system/*.cruds"),
		"Entra ID's scp is a string")
	assert.Nil(t, scp.Pick(nil, "system/*.cruds"), "no fallback to scope")
}

func TestTheScopeMapRewritesTheLongestMatchingPrefix(t *testing.T) {
	r, problems := tokenshape.FromEnv(env(tokenshape.EnvScopeMap,
		`{"patient.": "patient/", "launch.": "launch/", "https://fhir.example.org/": "", "https://fhir.example.org/patient.": "patient/"}`))
	require.Empty(t, problems)
	for in, want := range map[string]string{
		"patient.Observation.read":                   "patient/Observation.read",
		"launch.patient":                             "launch/patient",
		"https://fhir.example.org/user/*.rs":         "user/*.rs",
		"https://fhir.example.org/patient.Patient.r": "patient/Patient.r",
		"openid":            "openid",
		"user.Patient.read": "user.Patient.read",
	} {
		assert.Equal(t, want, r.Rewrite(in), in)
	}
	assert.True(t, r.Rewrites())
}

func TestTheClientIsReadFromEachServersClaim(t *testing.T) {
	assert.Equal(t, "rfc9068", tokenshape.Client("rfc9068", "okta", "oidc", "entra-v1"))
	assert.Equal(t, "okta", tokenshape.Client("", "okta", "oidc", "entra-v1"))
	assert.Equal(t, "oidc", tokenshape.Client("", "", "oidc", "entra-v1"))
	assert.Equal(t, "entra-v1", tokenshape.Client("", "", "", "entra-v1"))
	assert.Equal(t, "", tokenshape.Client("", "", "", ""))
}

func TestAClientAllowListStandsInForTheAudienceOnlyWhenAskedTo(t *testing.T) {
	listed, problems := tokenshape.FromEnv(env(tokenshape.EnvClientIDs, "app-1, app-2"))
	require.Empty(t, problems)
	assert.True(t, listed.ClientAllowed("app-2"))
	assert.False(t, listed.ClientAllowed("app-3"))
	assert.False(t, listed.ClientAllowed(""), "a token naming no client is not on the list")
	assert.False(t, listed.MissingAudienceAccepted(nil), "the list alone does not stand in for aud")

	standIn, problems := tokenshape.FromEnv(env(tokenshape.EnvClientIDs, "app-1", tokenshape.EnvAudienceRule, "aud-or-allowed-client"))
	require.Empty(t, problems)
	assert.True(t, standIn.MissingAudienceAccepted(nil))
	assert.True(t, standIn.MissingAudienceAccepted([]string{""}))
	assert.False(t, standIn.MissingAudienceAccepted([]string{"https://other.api"}), "a token with an aud must match it")
}

func TestBadVariablesAreNamed(t *testing.T) {
	for name, c := range map[string]struct {
		env      func(string) string
		variable string
		reason   string
	}{
		"an unknown scope claim":        {env(tokenshape.EnvScopeClaim, "roles"), tokenshape.EnvScopeClaim, `must be "scope" or "scp"`},
		"a stand-in without a list":     {env(tokenshape.EnvAudienceRule, "aud-or-allowed-client"), tokenshape.EnvAudienceRule, "needs SMART_CLIENT_IDS"},
		"an unknown audience rule":      {env(tokenshape.EnvAudienceRule, "none"), tokenshape.EnvAudienceRule, `must be "aud" or "aud-or-allowed-client"`},
		"a scope map that is not JSON":  {env(tokenshape.EnvScopeMap, "patient.=patient/"), tokenshape.EnvScopeMap, "must be a JSON object"},
		"a scope map with a space":      {env(tokenshape.EnvScopeMap, `{"patient.": "patient /"}`), tokenshape.EnvScopeMap, "may hold spaces"},
		"a scope map with an empty key": {env(tokenshape.EnvScopeMap, `{"": "patient/"}`), tokenshape.EnvScopeMap, "must be non-empty"},
		"a scope map prefix that does not end at a separator": {env(tokenshape.EnvScopeMap, `{"patient": "patient/"}`),
			tokenshape.EnvScopeMap, "must end at a separator"},
	} {
		t.Run(name, func(t *testing.T) {
			r, problems := tokenshape.FromEnv(c.env)
			require.Len(t, problems, 1)
			assert.Equal(t, c.variable, problems[0].Variable)
			assert.Contains(t, problems[0].Reason, c.reason)
			assert.False(t, r.MissingAudienceAccepted(nil), "the safe default stays")
		})
	}
}

func TestOnlyAccessTokensAreAccessTokens(t *testing.T) {
	assert.True(t, tokenshape.AccessTokenUse(""))
	assert.True(t, tokenshape.AccessTokenUse("access"))
	assert.False(t, tokenshape.AccessTokenUse("id"), "a Cognito ID token")
}
