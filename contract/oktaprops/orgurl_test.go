package oktaprops_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// TestCheckOrgURL is the one org-URL rule of envconfig, the construct and the
// parser; each case names the copy whose stricter behaviour it keeps.
func TestCheckOrgURL(t *testing.T) {
	t.Run("an org address is returned as scheme and host", func(t *testing.T) {
		for raw, want := range map[string]string{
			"https://dev-123456.okta.com":  "https://dev-123456.okta.com",
			"https://dev-123456.okta.com/": "https://dev-123456.okta.com",
			"https://Example.okta.com":     "https://Example.okta.com",
		} {
			got, err := oktaprops.CheckOrgURL(raw, false)
			require.NoError(t, err, raw)
			assert.Equal(t, want, got, raw)
		}
	})
	t.Run("http on loopback is accepted only when asked for (the handler's tests' fake)", func(t *testing.T) {
		got, err := oktaprops.CheckOrgURL("http://127.0.0.1:8080", true)
		require.NoError(t, err)
		assert.Equal(t, "http://127.0.0.1:8080", got)
		_, err = oktaprops.CheckOrgURL("http://127.0.0.1:8080", false)
		assert.ErrorContains(t, err, "must be an https URL")
	})
	cases := []struct {
		name, raw, want string
	}{
		{"http off loopback is refused even for tests", "http://example.okta.com", "must be an https URL"},
		{"a bare host is refused", "example.okta.com", "must be an https URL"},
		{"a path is refused", "https://example.okta.com/oauth2/default", "no path"},
		{"a path of slashes is refused (the parser accepted it)", "https://example.okta.com//", "no path"},
		{"a query is refused", "https://example.okta.com?x=1", "no path, query"},
		{"an empty query is refused (envconfig accepted it)", "https://example.okta.com?", "no path, query"},
		{"an empty fragment is refused (every copy accepted it)", "https://example.okta.com#", "fragment"},
		{"credentials are refused, and not quoted", "https://admin:s3cret@example.okta.com", "without credentials"},
		{"the admin console's address is refused (envconfig accepted it)", "https://example-admin.okta.com", "-admin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, loopback := range []bool{false, true} {
				_, err := oktaprops.CheckOrgURL(tc.raw, loopback)
				require.ErrorContains(t, err, tc.want)
				assert.NotContains(t, err.Error(), "s3cret")
			}
		})
	}
}
