package oktaprops_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

func strs[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func scopeOf(s *oktaprops.Spec, name string) oktaprops.Scope {
	for _, sc := range s.Scopes {
		if sc.Name == name {
			return sc
		}
	}
	return oktaprops.Scope{}
}

// Each enumerated property is read into its type: every listed value reaches
// the spec, the first listed is the default, and anything else is refused
// with the list of allowed values.
func TestEachEnumeratedPropertyTakesItsTypesValues(t *testing.T) {
	public := with(base(), "PublicClient", "true", "PublicClientRedirectUris", []any{"https://spa.example.com/cb"})
	claim := func(field string) func(v string) cfnprops.Properties {
		return func(v string) cfnprops.Properties {
			x := `{"name":"x","value":"user.x"`
			if field == "groupFilterType" {
				x += `,"valueType":"GROUPS"`
			}
			if v != "" {
				x += fmt.Sprintf(",%q:%q", field, v)
			}
			return with(base(), "ExtraClaims", "["+x+"}]")
		}
	}
	lastClaim := func(get func(c oktaprops.Claim) string) func(s *oktaprops.Spec) string {
		return func(s *oktaprops.Spec) string { return get(s.Claims[len(s.Claims)-1]) }
	}
	cases := []struct {
		property  string
		allowed   []string
		props     func(v string) cfnprops.Properties // "" leaves the property out
		get       func(s *oktaprops.Spec) string
		noDefault bool
	}{
		{"IssuerMode", strs(oktaprops.IssuerModes()),
			func(v string) cfnprops.Properties { return with(base(), "IssuerMode", v) },
			func(s *oktaprops.Spec) string { return s.Server.IssuerMode }, false},
		{"ScopeConsent", strs(oktaprops.ScopeConsents()),
			func(v string) cfnprops.Properties { return with(base(), "ScopeConsent", v) },
			func(s *oktaprops.Spec) string { return scopeOf(s, "patient/Patient.rs").Consent }, false},
		{"ScopeMetadataPublish", strs(oktaprops.ScopeMetadataPublishes()),
			func(v string) cfnprops.Properties { return with(base(), "ScopeMetadataPublish", v) },
			func(s *oktaprops.Spec) string { return scopeOf(s, "patient/Patient.rs").MetadataPublish }, false},
		{"PolicyAssignment", strs(oktaprops.PolicyAssignments()),
			func(v string) cfnprops.Properties { return with(public, "PolicyAssignment", v) },
			func(s *oktaprops.Spec) string {
				if s.Policies[0].AllClients {
					return "ALL_CLIENTS"
				}
				return "CREATED_CLIENTS"
			}, false},
		{"PublicClientType", strs(oktaprops.PublicClientTypes()),
			func(v string) cfnprops.Properties { return with(public, "PublicClientType", v) },
			func(s *oktaprops.Spec) string { c, _ := s.Client(oktaprops.PublicClient); return c.ApplicationType }, false},
		{"ExtraClaims[0].claimType", strs(oktaprops.ClaimTypes()), claim("claimType"),
			lastClaim(func(c oktaprops.Claim) string { return c.ClaimType }), false},
		{"ExtraClaims[0].valueType", strs(oktaprops.ClaimValueTypes()),
			func(v string) cfnprops.Properties {
				if v == string(oktaprops.ClaimValueGroups) {
					return with(base(), "ExtraClaims", `[{"name":"x","value":"smart-","valueType":"GROUPS","groupFilterType":"STARTS_WITH"}]`)
				}
				return claim("valueType")(v)
			},
			lastClaim(func(c oktaprops.Claim) string { return c.ValueType }), false},
		{"ExtraClaims[0].groupFilterType", strs(oktaprops.GroupFilterTypes()), claim("groupFilterType"),
			lastClaim(func(c oktaprops.Claim) string { return c.GroupFilterType }), true},
	}
	for _, tc := range cases {
		t.Run(tc.property, func(t *testing.T) {
			for _, v := range tc.allowed {
				s, err := oktaprops.Parse(tc.props(v))
				require.NoError(t, err, v)
				assert.Equal(t, v, tc.get(s))
			}
			_, err := oktaprops.Parse(tc.props(""))
			if tc.noDefault {
				require.Error(t, err, "no default")
			} else {
				require.NoError(t, err)
			}
			_, err = oktaprops.Parse(tc.props("lower-case-or-unknown"))
			var perr *cfnprops.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, tc.property, perr.Property)
			assert.Contains(t, perr.Reason, "must be one of "+strings.Join(tc.allowed, ", ")+`, got "lower-case-or-unknown"`)
		})
	}
	t.Run("the default is the first value listed", func(t *testing.T) {
		s, err := oktaprops.Parse(with(public, "ExtraClaims", `[{"name":"x","value":"user.x"}]`))
		require.NoError(t, err)
		assert.Equal(t, string(oktaprops.IssuerModes()[0]), s.Server.IssuerMode)
		assert.Equal(t, string(oktaprops.ScopeConsents()[0]), scopeOf(s, "patient/Patient.rs").Consent)
		assert.Equal(t, string(oktaprops.ScopeMetadataPublishes()[0]), scopeOf(s, "patient/Patient.rs").MetadataPublish)
		assert.False(t, s.Policies[0].AllClients, oktaprops.PolicyAssignments()[0])
		c, _ := s.Client(oktaprops.PublicClient)
		assert.Equal(t, string(oktaprops.PublicClientTypes()[0]), c.ApplicationType)
		x := s.Claims[len(s.Claims)-1]
		assert.Equal(t, string(oktaprops.ClaimTypes()[0]), x.ClaimType)
		assert.Equal(t, string(oktaprops.ClaimValueTypes()[0]), x.ValueType)
	})
}

func TestValidAcceptsExactlyTheListedValues(t *testing.T) {
	assert.True(t, oktaprops.IssuerModeDynamic.Valid())
	assert.False(t, oktaprops.IssuerMode("dynamic").Valid(), "Okta's enums are case-sensitive")
	assert.False(t, oktaprops.IssuerMode("").Valid(), "empty means the default to a prop, but is not a value")
	assert.True(t, oktaprops.ScopeConsentRequired.Valid())
	assert.False(t, oktaprops.ScopeConsent("FLEXIBLE").Valid(), "Okta's, not offered here")
	assert.True(t, oktaprops.ScopeMetadataPublishNoClients.Valid())
	assert.False(t, oktaprops.ScopeMetadataPublish("SOME_CLIENTS").Valid())
	assert.True(t, oktaprops.PolicyAssignmentAllClients.Valid())
	assert.False(t, oktaprops.PolicyAssignment("EVERYONE").Valid())
	assert.True(t, oktaprops.PublicClientTypeNative.Valid())
	assert.False(t, oktaprops.PublicClientType("spa").Valid())
	assert.True(t, oktaprops.ClaimTypeIdentity.Valid())
	assert.False(t, oktaprops.ClaimType("ACCESS").Valid())
	assert.True(t, oktaprops.ClaimValueGroups.Valid())
	assert.False(t, oktaprops.ClaimValueType("SYSTEM").Valid(), "Okta's own claims only")
	assert.True(t, oktaprops.GroupFilterRegex.Valid())
	assert.False(t, oktaprops.GroupFilterType("ENDS_WITH").Valid())
}
