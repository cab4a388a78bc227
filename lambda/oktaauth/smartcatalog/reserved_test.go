package smartcatalog_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/smartcatalog"
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
				_, err := smartcatalog.Parse(with(base(), "ExtraClaims", raw))
				var perr *customresource.PropertyError
				require.True(t, errors.As(err, &perr), "got %v", err)
				assert.Equal(t, "ExtraClaims[0].name", perr.Property)
				assert.Contains(t, perr.Reason, "reserved by Okta")
			})
		}
		t.Run("the patient claim named "+name, func(t *testing.T) {
			_, err := smartcatalog.Parse(with(base(), "PatientClaimName", name))
			var perr *customresource.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, "PatientClaimName", perr.Property)
			assert.Contains(t, perr.Reason, "reserved by Okta")
		})
	}
	t.Run("groups is reserved in access tokens only", func(t *testing.T) {
		assert.True(t, smartcatalog.ReservedClaimName("groups", "RESOURCE"))
		assert.False(t, smartcatalog.ReservedClaimName("groups", "IDENTITY"))
		_, err := smartcatalog.Parse(with(base(), "ExtraClaims",
			`[{"name":"groups","value":"app","valueType":"GROUPS","groupFilterType":"STARTS_WITH","claimType":"IDENTITY"}]`))
		assert.NoError(t, err)
	})
	t.Run("ordinary names pass", func(t *testing.T) {
		for _, name := range []string{"organization", "fhirContext", "patient", "tenant"} {
			assert.False(t, smartcatalog.ReservedClaimName(name, "RESOURCE"), name)
		}
	})
}
