package oktaprops_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// withClient is base() with the confidential client and its secret.
func withClient(kv ...any) cfnprops.Properties {
	p := with(base(), "ConfidentialClient", "true",
		"ConfidentialClientRedirectUris", []any{"https://app.example.com/callback"},
		"ClientSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:client-AbCdEf")
	return with(p, kv...)
}

const hookARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:hook-AbCdEf"

// Values the previous version's rules (git 9102218) accepted and the current
// ones refuse: a stack may be deployed with them.
var accepted = []struct {
	name, prop string
	props      cfnprops.Properties
}{
	{"an org URL with an empty query", "OktaOrgUrl", with(base(), "OktaOrgUrl", "https://example.okta.com?")},
	{"an org URL with an empty fragment", "OktaOrgUrl", with(base(), "OktaOrgUrl", "https://example.okta.com#")},
	{"an org URL with a path of slashes", "OktaOrgUrl", with(base(), "OktaOrgUrl", "https://example.okta.com//")},
	{"a redirect URI with a wildcard", "ConfidentialClientRedirectUris[0]",
		withClient("ConfidentialClientRedirectUris", []any{"https://*.example.com/callback"})},
	{"a redirect URI with white space", "ConfidentialClientRedirectUris[0]",
		withClient("ConfidentialClientRedirectUris", []any{"https://app.example.com/call back"})},
	{"a redirect URI with user info", "ConfidentialClientRedirectUris[0]",
		withClient("ConfidentialClientRedirectUris", []any{"https://user:s3cret@app.example.com/callback"})},
	{"a redirect URI with an empty fragment", "ConfidentialClientRedirectUris[0]",
		withClient("ConfidentialClientRedirectUris", []any{"https://app.example.com/callback#"})},
	{"a post-logout URI with a wildcard", "ConfidentialClientPostLogoutRedirectUris[0]",
		withClient("ConfidentialClientPostLogoutRedirectUris", []any{"https://*.example.com/"})},
	{"a public client's redirect URI with an empty fragment", "PublicClientRedirectUris[1]",
		with(base(), "PublicClient", "true", "PublicClientRedirectUris", []any{"https://spa.example.com/cb", "https://spa.example.com/cb#"})},
	{"a token hook URL with user info", "TokenHookUrl",
		with(base(), "TokenHookUrl", "https://hook:s3cret@hook.example.com/okta", "TokenHookSecretArn", hookARN)},
}

func TestAnUpdateAcceptsValuesThePreviousVersionAccepted(t *testing.T) {
	for _, tc := range accepted {
		t.Run(tc.name+" is refused by Parse, for synth and Create", func(t *testing.T) {
			_, err := oktaprops.Parse(tc.props)
			var perr *cfnprops.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, tc.prop, perr.Property)
			assert.NotContains(t, err.Error(), "s3cret")
		})
		t.Run(tc.name+" is accepted by ParseUpdate and reported naming the property", func(t *testing.T) {
			// As in a rollback: new = deployed, old = the failed fix's, which
			// lacks the value.
			fixed := base()
			_, kept, err := oktaprops.ParseUpdate(tc.props, fixed)
			require.NoError(t, err)
			require.Len(t, kept.Relaxed, 1)
			assert.True(t, strings.HasPrefix(kept.Relaxed[0], tc.prop+" "), kept.Relaxed[0])
			assert.NotContains(t, kept.Relaxed[0], "s3cret", "the value is redacted: the warning is logged")
			assert.Empty(t, kept.ReservedClaims)
		})
	}
	t.Run("an accepted org URL is the same org as its corrected form", func(t *testing.T) {
		for _, raw := range []string{"https://example.okta.com?", "https://example.okta.com#", "https://example.okta.com//"} {
			s, _, err := oktaprops.ParseUpdate(with(base(), "OktaOrgUrl", raw), base())
			require.NoError(t, err, raw)
			assert.Equal(t, "https://example.okta.com", s.OrgURL, raw)
		}
	})
	t.Run("the accepted values reach the spec as they are", func(t *testing.T) {
		s, _, err := oktaprops.ParseUpdate(withClient("ConfidentialClientRedirectUris", []any{"https://app.example.com/callback#"}), base())
		require.NoError(t, err)
		c, ok := s.Client(oktaprops.ConfidentialClient)
		require.True(t, ok)
		assert.Equal(t, []string{"https://app.example.com/callback#"}, c.RedirectURIs)
	})
	t.Run("properties the current rules accept report nothing", func(t *testing.T) {
		_, kept, err := oktaprops.ParseUpdate(withClient(), base())
		require.NoError(t, err)
		assert.Empty(t, kept.Relaxed)
	})
}

func TestAnUpdateStillRefusesWhatThePreviousVersionRefused(t *testing.T) {
	cases := []struct {
		name, prop string
		props      cfnprops.Properties
	}{
		{"an org URL with a path", "OktaOrgUrl", with(base(), "OktaOrgUrl", "https://example.okta.com/oauth2/default")},
		{"an org URL with a query", "OktaOrgUrl", with(base(), "OktaOrgUrl", "https://example.okta.com?x=1")},
		{"an org URL with credentials", "OktaOrgUrl", with(base(), "OktaOrgUrl", "https://admin:s3cret@example.okta.com")},
		{"the admin console's address", "OktaOrgUrl", with(base(), "OktaOrgUrl", "https://example-admin.okta.com")},
		{"an http org URL off loopback", "OktaOrgUrl", with(base(), "OktaOrgUrl", "http://example.okta.com")},
		{"a redirect URI with a fragment", "ConfidentialClientRedirectUris[0]",
			withClient("ConfidentialClientRedirectUris", []any{"https://app.example.com/callback#x"})},
		{"an http redirect URI off loopback", "ConfidentialClientRedirectUris[0]",
			withClient("ConfidentialClientRedirectUris", []any{"http://app.example.com/callback"})},
		{"a custom scheme for a web app", "ConfidentialClientRedirectUris[0]",
			withClient("ConfidentialClientRedirectUris", []any{"com.example.app:/callback"})},
		{"a relative redirect URI", "ConfidentialClientRedirectUris[0]",
			withClient("ConfidentialClientRedirectUris", []any{"/callback"})},
		{"an http token hook URL", "TokenHookUrl",
			with(base(), "TokenHookUrl", "http://hook.example.com/okta", "TokenHookSecretArn", hookARN)},
		{"a token hook URL with white space", "TokenHookUrl",
			with(base(), "TokenHookUrl", "https://hook.example.com/ok ta", "TokenHookSecretArn", hookARN)},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is refused naming the property", func(t *testing.T) {
			// Even when the other side holds it: no version accepted it, so
			// no stack holds it.
			_, _, err := oktaprops.ParseUpdate(tc.props, tc.props)
			var perr *cfnprops.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, tc.prop, perr.Property)
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
}

func TestADeleteReadsTheOrgURLAsThePreviousVersionDid(t *testing.T) {
	t.Run("an org URL the previous version accepted is read and reported", func(t *testing.T) {
		c, kept, err := oktaprops.ParseConnectionForDelete(with(base(), "OktaOrgUrl", "https://example.okta.com?"))
		require.NoError(t, err)
		assert.Equal(t, "https://example.okta.com", c.OrgURL)
		require.Len(t, kept.Relaxed, 1)
		assert.True(t, strings.HasPrefix(kept.Relaxed[0], "OktaOrgUrl "))
		_, err = oktaprops.ParseConnection(with(base(), "OktaOrgUrl", "https://example.okta.com?"))
		assert.Error(t, err, "ParseConnection keeps the current rule")
	})
	t.Run("one it refused is refused", func(t *testing.T) {
		_, _, err := oktaprops.ParseConnectionForDelete(with(base(), "OktaOrgUrl", "https://example.okta.com/oauth2/default"))
		var perr *cfnprops.PropertyError
		require.True(t, errors.As(err, &perr), "got %v", err)
		assert.Equal(t, "OktaOrgUrl", perr.Property)
	})
}

func TestAnAudienceBindingUpdateReadsTheOrgURLAsThePreviousVersionDid(t *testing.T) {
	p := cfnprops.Properties{
		"OktaOrgUrl":            "https://example.okta.com#",
		"CredentialSecretArn":   "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta-AbCdEf",
		"AuthorizationServerId": "aus1234567890abcdefg",
		"Audience":              "https://healthlake.us-east-1.amazonaws.com/datastore/abc/r4/",
	}
	_, err := oktaprops.ParseAudienceBinding(p)
	require.Error(t, err, "Create refuses it")
	b, kept, err := oktaprops.ParseAudienceBindingUpdate(p)
	require.NoError(t, err)
	assert.Equal(t, "https://example.okta.com", b.OrgURL)
	assert.Len(t, kept.Relaxed, 1)
}
