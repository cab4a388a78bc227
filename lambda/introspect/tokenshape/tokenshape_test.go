package tokenshape_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/tokenshape"
)

func TestTheDefaultsReadOktaAndRFC9068AndRequireAnAudience(t *testing.T) {
	r := tokenshape.New(validatorenv.TokenRules{})
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
	scope := tokenshape.New(validatorenv.TokenRules{ScopeClaim: validatorenv.ClaimScope})
	assert.Equal(t, "patient/Patient.rs", scope.Pick([]any{"system/*.cruds"}, "patient/Patient.rs"), "scp is ignored")
	assert.Nil(t, scope.Pick([]any{"system/*.cruds"}, nil), "no fallback to scp")

	scp := tokenshape.New(validatorenv.TokenRules{ScopeClaim: validatorenv.ClaimScp})
	assert.Equal(t, "patient.Patient.read launch.patient", scp.Pick("patient.Patient.read launch.patient", "system/*.cruds"),
		"Entra ID's scp is a string")
	assert.Nil(t, scp.Pick(nil, "system/*.cruds"), "no fallback to scope")
}

func TestTheScopeMapRewritesTheLongestMatchingPrefix(t *testing.T) {
	r := tokenshape.New(validatorenv.TokenRules{ScopeMap: map[string]string{
		"patient.": "patient/", "launch.": "launch/", "https://fhir.example.org/": "", "https://fhir.example.org/patient.": "patient/",
	}})
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
	listed := tokenshape.New(validatorenv.TokenRules{ClientIDs: []string{"app-1", "app-2"}})
	assert.True(t, listed.ClientAllowed("app-2"))
	assert.False(t, listed.ClientAllowed("app-3"))
	assert.False(t, listed.ClientAllowed(""), "a token naming no client is not on the list")
	assert.False(t, listed.MissingAudienceAccepted(nil), "the list alone does not stand in for aud")

	standIn := tokenshape.New(validatorenv.TokenRules{ClientIDs: []string{"app-1"}, AudienceRule: validatorenv.AudienceOrAllowedClient})
	assert.True(t, standIn.MissingAudienceAccepted(nil))
	assert.True(t, standIn.MissingAudienceAccepted([]string{""}))
	assert.False(t, standIn.MissingAudienceAccepted([]string{"https://other.api"}), "a token with an aud must match it")
}

func TestOnlyAccessTokensAreAccessTokens(t *testing.T) {
	assert.True(t, tokenshape.AccessTokenUse(""))
	assert.True(t, tokenshape.AccessTokenUse("access"))
	assert.False(t, tokenshape.AccessTokenUse("id"), "a Cognito ID token")
}

func TestTheStandInRuleWithoutAnAllowListNeverStandsIn(t *testing.T) {
	// validatorenv.Parse refuses the combination; New stays safe if handed it anyway.
	r := tokenshape.New(validatorenv.TokenRules{AudienceRule: validatorenv.AudienceOrAllowedClient})
	assert.False(t, r.MissingAudienceAccepted(nil), "a token without aud from any client would get in")
}
