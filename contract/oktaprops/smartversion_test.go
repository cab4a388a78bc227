package oktaprops_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

func clinical(t *testing.T, p cfnprops.Properties) []string {
	t.Helper()
	s, err := oktaprops.Parse(with(p, "ScopeLevels", []any{"patient"}, "ScopeResources", []any{"Patient"}))
	require.NoError(t, err)
	return s.ScopeNames()[len(oktaprops.ContextScopes):]
}

func TestSmartVersionChoosesTheScopeSyntax(t *testing.T) {
	t.Run("SmartVersion is the property the construct writes, with smart.Version's values", func(t *testing.T) {
		assert.Equal(t, "SmartVersion", oktaprops.PropSmartVersion)
		assert.Equal(t, []string{"patient/Patient.read"}, clinical(t, with(base(), "SmartVersion", string(smart.V1))))
		assert.Equal(t, []string{"patient/Patient.rs"}, clinical(t, with(base(), "SmartVersion", string(smart.V2))))
		assert.Equal(t, []string{"patient/Patient.rs"}, clinical(t, base()), "v2 by default")
		assert.Equal(t, []string{"patient/Patient.read", "patient/Patient.rs"},
			clinical(t, with(base(), "SmartVersion", oktaprops.SmartVersionBoth)))
	})
	t.Run("a bad value is refused listing the allowed ones", func(t *testing.T) {
		_, err := oktaprops.Parse(with(base(), "SmartVersion", "v3"))
		var perr *cfnprops.PropertyError
		require.True(t, errors.As(err, &perr), "got %v", err)
		assert.Equal(t, "SmartVersion", perr.Property)
		assert.Equal(t, `must be one of v2, v1, both, got "v3"`, perr.Reason)
	})
}

// Stacks deployed by the previous version carry ScopeFlavor; CloudFormation
// hands it back in OldResourceProperties and, when rolling back to such a
// template, in ResourceProperties.
func TestTheOldNameScopeFlavorIsStillRead(t *testing.T) {
	old := with(base(), "ScopeFlavor", "v1")
	renamed := with(base(), "SmartVersion", "v1")

	t.Run("alone, it chooses the syntax as SmartVersion does", func(t *testing.T) {
		assert.Equal(t, clinical(t, renamed), clinical(t, old))
		assert.Equal(t, []string{"patient/Patient.read", "patient/Patient.rs"}, clinical(t, with(base(), "ScopeFlavor", "both")))
	})
	t.Run("it is a known property, not reported as unknown", func(t *testing.T) {
		assert.Empty(t, oktaprops.UnknownProperties(old))
	})
	t.Run("an update from old properties to renamed ones sees the same catalogue on both sides", func(t *testing.T) {
		spec, _, err := oktaprops.ParseUpdate(renamed, old)
		require.NoError(t, err)
		deployed, _, err := oktaprops.ParseUpdate(old, old)
		require.NoError(t, err)
		assert.Equal(t, deployed.ScopeNames(), spec.ScopeNames())
		assert.Contains(t, spec.ScopeNames(), "patient/Observation.read")
	})
	t.Run("the rollback of that update, whose new properties are the old template's, too", func(t *testing.T) {
		spec, _, err := oktaprops.ParseUpdate(old, renamed)
		require.NoError(t, err)
		current, _, err := oktaprops.ParseUpdate(renamed, renamed)
		require.NoError(t, err)
		assert.Equal(t, current.ScopeNames(), spec.ScopeNames())
	})
	t.Run("its bad value is refused naming it", func(t *testing.T) {
		for _, bad := range []any{"v9", []any{"v1"}} {
			_, err := oktaprops.Parse(with(base(), "ScopeFlavor", bad))
			var perr *cfnprops.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, "ScopeFlavor", perr.Property)
			_, err = oktaprops.Parse(with(base(), "ScopeFlavor", bad, "SmartVersion", bad))
			require.Error(t, err, "with both names too, never a panic")
		}
	})
	t.Run("with SmartVersion: the same value is accepted, another is refused naming the old name", func(t *testing.T) {
		assert.Equal(t, []string{"patient/Patient.read"}, clinical(t, with(renamed, "ScopeFlavor", "v1")))
		_, err := oktaprops.Parse(with(renamed, "ScopeFlavor", "v2"))
		var perr *cfnprops.PropertyError
		require.True(t, errors.As(err, &perr), "got %v", err)
		assert.Equal(t, "ScopeFlavor", perr.Property)
		assert.Contains(t, perr.Reason, "old name of SmartVersion")
	})
}
