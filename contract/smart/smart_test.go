package smart_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

func TestVersionsMapToHealthLakesStrategies(t *testing.T) {
	for v, strategy := range map[smart.Version]string{smart.V1: "SMART_ON_FHIR_V1", smart.V2: "SMART_ON_FHIR"} {
		assert.Equal(t, strategy, v.AuthorizationStrategy())
		back, ok := smart.VersionOfStrategy(strategy)
		assert.True(t, ok)
		assert.Equal(t, v, back)
	}
	t.Run("AWS_AUTH and unknown names are no SMART version", func(t *testing.T) {
		for _, s := range []string{"AWS_AUTH", "", "smart_on_fhir"} {
			_, ok := smart.VersionOfStrategy(s)
			assert.False(t, ok, s)
		}
	})
	t.Run("an unknown version is refused listing the known ones", func(t *testing.T) {
		_, err := smart.ParseVersion("v3")
		require.ErrorContains(t, err, `"v1" (SMART_ON_FHIR_V1) or "v2" (SMART_ON_FHIR), got "v3"`)
		assert.False(t, smart.Version("V2").Valid(), "versions are case-sensitive, as in cdk.json")
	})
}

func TestSupportRoundTripsThroughItsFeatureNames(t *testing.T) {
	all, err := smart.ParseFeatures(smart.FeatureNames())
	require.NoError(t, err)
	assert.Equal(t, smart.Support{ConfidentialClients: true, PublicClients: true, BackendServices: true,
		PatientContext: true, OpenIDConnect: true, RefreshTokens: true, EHRLaunch: true}, all)
	assert.Equal(t, smart.FeatureNames(), all.Features())
	one := smart.Support{BackendServices: true}
	assert.Equal(t, []string{smart.FeatureBackendServices}, one.Features())
	assert.False(t, one.UserFacing())
	assert.True(t, smart.Support{PublicClients: true}.UserFacing())
	_, err = smart.ParseFeatures([]string{"telepathy"})
	assert.ErrorContains(t, err, `unknown feature "telepathy"`)
}
