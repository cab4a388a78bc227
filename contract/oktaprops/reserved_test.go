package oktaprops_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// Names from Okta's published list of reserved claims beyond the JWT
// registered ones, which the parser used to let through.
var oktaReserved = []string{"acr", "sid", "scope", "scopes", "client_id", "token_type", "username", "role",
	"permissions", "cnf", "as_uri", "device_id", "okta_emailVerified", "pwd_exp_time", "sub", "exp"}

func TestReservedClaimNamesAreRefusedNamingTheProperty(t *testing.T) {
	for _, name := range oktaReserved {
		for _, claimType := range []string{"RESOURCE", "IDENTITY"} {
			t.Run(fmt.Sprintf("an extra %s claim named %s", claimType, name), func(t *testing.T) {
				raw := fmt.Sprintf(`[{"name":%q,"value":"user.x","claimType":%q}]`, name, claimType)
				_, err := oktaprops.Parse(with(base(), "ExtraClaims", raw))
				var perr *cfnprops.PropertyError
				require.True(t, errors.As(err, &perr), "got %v", err)
				assert.Equal(t, "ExtraClaims[0].name", perr.Property)
				assert.Contains(t, perr.Reason, "reserved by Okta")
			})
		}
		t.Run("the patient claim named "+name, func(t *testing.T) {
			_, err := oktaprops.Parse(with(base(), "PatientClaimName", name))
			var perr *cfnprops.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, "PatientClaimName", perr.Property)
			assert.Contains(t, perr.Reason, "reserved by Okta")
		})
	}
	t.Run("groups is reserved in access tokens only", func(t *testing.T) {
		assert.True(t, oktaprops.ReservedClaimName("groups", "RESOURCE"))
		assert.False(t, oktaprops.ReservedClaimName("groups", "IDENTITY"))
		_, err := oktaprops.Parse(with(base(), "ExtraClaims",
			`[{"name":"groups","value":"app","valueType":"GROUPS","groupFilterType":"STARTS_WITH","claimType":"IDENTITY"}]`))
		assert.NoError(t, err)
	})
	t.Run("ordinary names pass", func(t *testing.T) {
		for _, name := range []string{"organization", "fhirContext", "patient", "tenant"} {
			assert.False(t, oktaprops.ReservedClaimName(name, "RESOURCE"), name)
		}
	})
}

func TestAnUpdateAcceptsReservedClaimNamesAndReportsThem(t *testing.T) {
	roleClaim := `[{"name":"role","value":"user.title","claimType":"RESOURCE"}]`
	deployed := with(base(), "ExtraClaims", roleClaim, "PatientClaimName", "sid")
	t.Run("Parse, for synth and Create, refuses them", func(t *testing.T) {
		_, err := oktaprops.Parse(deployed)
		require.Error(t, err)
	})
	t.Run("an update that keeps them parses and reports them", func(t *testing.T) {
		next := with(deployed, "AccessTokenLifetimeMinutes", "15")
		s, kept, err := oktaprops.ParseUpdate(next, deployed)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"RESOURCE role", "RESOURCE sid"}, kept.ReservedClaims)
		var names []string
		for _, c := range s.Claims {
			names = append(names, c.ClaimType+" "+c.Name)
		}
		assert.Contains(t, names, "RESOURCE role")
		assert.Contains(t, names, "RESOURCE sid")
	})
	t.Run("a rollback, whose old properties are the failed update's, parses both ways", func(t *testing.T) {
		failed := with(deployed, "AccessTokenLifetimeMinutes", "15")
		_, _, err := oktaprops.ParseUpdate(deployed, failed)
		require.NoError(t, err)
		_, _, err = oktaprops.ParseUpdate(failed, failed)
		require.NoError(t, err, "the handler parses the old properties against themselves")
	})
	t.Run("the rollback of an update renaming a claim away from a reserved name parses, and reports the name", func(t *testing.T) {
		// The update renames role to jobTitle and fails elsewhere;
		// CloudFormation rolls back: new = deployed, old = renamed, which
		// has no role claim.
		renamed := with(base(), "ExtraClaims", `[{"name":"jobTitle","value":"user.title","claimType":"RESOURCE"}]`)
		deployed := with(base(), "ExtraClaims", roleClaim)
		_, kept, err := oktaprops.ParseUpdate(renamed, deployed)
		require.NoError(t, err, "the rename itself")
		assert.Empty(t, kept.ReservedClaims)
		s, kept, err := oktaprops.ParseUpdate(deployed, renamed)
		require.NoError(t, err, "the rollback")
		assert.Equal(t, []string{"RESOURCE role"}, kept.ReservedClaims)
		assert.True(t, slices.ContainsFunc(s.Claims, func(c oktaprops.Claim) bool { return c.Name == "role" }))
	})
	t.Run("on an update a new reserved name, in either token type or as the patient claim, is a warning too", func(t *testing.T) {
		next := with(deployed, "ExtraClaims", `[{"name":"role","value":"user.title","claimType":"IDENTITY"},`+
			`{"name":"permissions","value":"user.x","claimType":"RESOURCE"}]`)
		_, kept, err := oktaprops.ParseUpdate(next, deployed)
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"IDENTITY role", "RESOURCE permissions", "RESOURCE sid"}, kept.ReservedClaims)
		_, kept, err = oktaprops.ParseUpdate(with(base(), "PatientClaimName", "sid"), base())
		require.NoError(t, err)
		assert.Equal(t, []string{"RESOURCE sid"}, kept.ReservedClaims)
	})
	t.Run("an update without reserved names keeps nothing", func(t *testing.T) {
		_, kept, err := oktaprops.ParseUpdate(base(), deployed)
		require.NoError(t, err)
		assert.Empty(t, kept)
	})
}
