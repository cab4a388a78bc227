package envconfig_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

// oktaWithApps is an Okta environment with both user-facing apps and the
// given ehrLaunch block.
func oktaWithApps(ehrLaunch string) string {
	return `{"okta": {"orgUrl": "https://dev-1.okta.com", "credentialSecret": "smart/okta",
		"confidentialClientRedirectUris": ["https://app.example.org/cb"],
		"publicClientRedirectUris": ["https://spa.example.org/cb"]},
		"ehrLaunch": ` + ehrLaunch + `}`
}

const ehrRole = "arn:aws:iam::123456789012:role/ehr/launcher"

func TestEhrLaunchIsOffByDefault(t *testing.T) {
	envs, err := envconfig.Parse(decode(t, `{"staging": `+minimal+`}`))
	require.NoError(t, err)
	require.Equal(t, envconfig.EhrLaunch{}, envs[0].EhrLaunch)

	t.Run("a disabled block keeps its settings unread and unchecked", func(t *testing.T) {
		envs, err := envconfig.Parse(decode(t, `{"staging": `+oktaWithApps(`{"enabled": false, "ehrRoleArns": ["not yet"]}`)+`}`))
		require.NoError(t, err)
		require.Equal(t, envconfig.EhrLaunch{}, envs[0].EhrLaunch)
	})
}

func TestEnabledEhrLaunchIsRead(t *testing.T) {
	t.Run("every key", func(t *testing.T) {
		envs, err := envconfig.Parse(decode(t, `{"staging": `+oktaWithApps(`{"enabled": true, "apps": ["public"], "pickerApps": ["public"],
			"ehrRoleArns": ["`+ehrRole+`"], "corsOrigins": ["https://spa.example.org"], "launchLifetimeSeconds": 120,
			"proxyBackendServices": false}`)+`}`))
		require.NoError(t, err)
		require.Equal(t, envconfig.EhrLaunch{Enabled: true, Apps: []string{"public"}, PickerApps: []string{"public"}, EHRRoleARNs: []string{ehrRole},
			CORSOrigins: []string{"https://spa.example.org"}, LaunchLifetimeSeconds: 120}, envs[0].EhrLaunch)
	})
	t.Run("proxyBackendServices false, which drops the kid rule", func(t *testing.T) {
		env := strings.Replace(withRegistry(`{"enabled": true, "ehrRoleArns": ["`+ehrRole+`"], "proxyBackendServices": false}`), `"kid": "lab-1", `, "", 1)
		envs, err := envconfig.Parse(decode(t, `{"staging": `+env+`}`))
		require.NoError(t, err)
		require.False(t, envs[0].EhrLaunch.ProxyBackendServices)
	})
	t.Run("apps default to every configured app, the lifetime to 5 minutes", func(t *testing.T) {
		envs, err := envconfig.Parse(decode(t, `{"staging": `+oktaWithApps(`{"enabled": true, "ehrRoleArns": ["`+ehrRole+`"]}`)+`}`))
		require.NoError(t, err)
		require.Equal(t, []string{"confidential", "public"}, envs[0].EhrLaunch.Apps)
		require.Equal(t, 300, envs[0].EhrLaunch.LaunchLifetimeSeconds)
		require.True(t, envs[0].EhrLaunch.ProxyBackendServices, "the backend services go through the proxy by default")
	})
}

// withRegistry is an Okta environment with a confidential client, a public
// and a backend app in okta.apps, and the given ehrLaunch block.
func withRegistry(ehrLaunch string) string {
	return `{"okta": {"orgUrl": "https://dev-1.okta.com", "credentialSecret": "smart/okta",
		"confidentialClientRedirectUris": ["https://app.example.org/cb"],
		"apps": [{"name": "portal", "type": "public", "redirectUris": ["https://portal.example.org/cb"], "scopes": ["openid", "launch/patient"]},
			{"name": "lab-feed", "type": "backend", "jwks": {"keys": [{"kty": "RSA", "kid": "lab-1", "n": "AQAB", "e": "AQAB"}]}, "scopes": ["system/Observation.rs"]}]},
		"ehrLaunch": ` + ehrLaunch + `}`
}

func TestEhrLaunchAcceptsRegistryApps(t *testing.T) {
	t.Run("a registry app named in apps and pickerApps", func(t *testing.T) {
		envs, err := envconfig.Parse(decode(t, `{"staging": `+withRegistry(`{"enabled": true, "apps": ["portal"], "pickerApps": ["portal"],
			"ehrRoleArns": ["`+ehrRole+`"]}`)+`}`))
		require.NoError(t, err)
		require.Equal(t, []string{"portal"}, envs[0].EhrLaunch.Apps)
		require.Equal(t, []string{"portal"}, envs[0].EhrLaunch.PickerApps)
	})
	t.Run("by default every user-facing app, single and registry, but no backend app", func(t *testing.T) {
		envs, err := envconfig.Parse(decode(t, `{"staging": `+withRegistry(`{"enabled": true, "ehrRoleArns": ["`+ehrRole+`"]}`)+`}`))
		require.NoError(t, err)
		require.Equal(t, []string{"confidential", "portal"}, envs[0].EhrLaunch.Apps)
	})
	t.Run("a registry app named like a single client is refused as ambiguous", func(t *testing.T) {
		env := strings.Replace(withRegistry(`{"enabled": true, "apps": ["confidential"], "ehrRoleArns": ["`+ehrRole+`"]}`), `"portal"`, `"confidential"`, 1)
		_, err := envconfig.Parse(decode(t, `{"qa": `+env+`}`))
		require.ErrorContains(t, err, `environment "qa": ehrLaunch.apps[0] is confidential, which names both`)
	})
}

func TestBadEhrLaunchSettingsNameEnvironmentAndKey(t *testing.T) {
	noApps := `{"okta": {"orgUrl": "https://dev-1.okta.com", "credentialSecret": "smart/okta"}, "ehrLaunch": {"enabled": true, "ehrRoleArns": ["` + ehrRole + `"]}}`
	external := strings.TrimSuffix(cognito, "}") + `, "ehrLaunch": {"enabled": true, "ehrRoleArns": ["` + ehrRole + `"]}}`
	for name, c := range map[string]struct{ env, want string }{
		"an external authorization server": {external,
			`environment "qa": ehrLaunch.enabled needs authorizationServer okta`},
		"an app okta.apps does not have": {withRegistry(`{"enabled": true, "apps": ["confidential", "portl"], "ehrRoleArns": ["` + ehrRole + `"]}`),
			`environment "qa": ehrLaunch.apps[1] must be confidential, public or the name of an app of okta.apps, got "portl"`},
		"a backend app of okta.apps": {withRegistry(`{"enabled": true, "apps": ["lab-feed"], "ehrRoleArns": ["` + ehrRole + `"]}`),
			`environment "qa": ehrLaunch.apps[0] is "lab-feed", a backend app of okta.apps: only public and confidential apps can be launched`},
		"a backend app's key without kid": {strings.Replace(withRegistry(`{"enabled": true, "ehrRoleArns": ["`+ehrRole+`"]}`), `"kid": "lab-1", `, "", 1),
			`environment "qa": okta.apps[1].jwks.keys[0] needs a kid: with ehrLaunch.enabled the JWKS also holds the EHR launch proxy's key`},
		"a backend app's key without kid, and how to do without": {strings.Replace(withRegistry(`{"enabled": true, "ehrRoleArns": ["`+ehrRole+`"]}`), `"kid": "lab-1", `, "", 1),
			`must then send its key's kid in its client assertion's header (or set ehrLaunch.proxyBackendServices to false)`},
		"proxyBackendServices as a string": {oktaWithApps(`{"enabled": true, "ehrRoleArns": ["` + ehrRole + `"], "proxyBackendServices": "no"}`),
			`environment "qa": ehrLaunch.proxyBackendServices must be true or false, got a string`},
		"the backend client's key without kid": {strings.Replace(oktaWithApps(`{"enabled": true, "ehrRoleArns": ["`+ehrRole+`"]}`),
			`"publicClientRedirectUris"`, `"backendClientJwks": {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}, "publicClientRedirectUris"`, 1),
			`environment "qa": okta.backendClientJwks.keys[0] needs a kid`},
		"no EHR role": {oktaWithApps(`{"enabled": true}`),
			`environment "qa": ehrLaunch.ehrRoleArns is required`},
		"a user instead of a role": {oktaWithApps(`{"enabled": true, "ehrRoleArns": ["arn:aws:iam::123456789012:user/ehr"]}`),
			`environment "qa": ehrLaunch.ehrRoleArns[0] must be an IAM role ARN`},
		"an unknown app": {oktaWithApps(`{"enabled": true, "apps": ["backend"], "ehrRoleArns": ["` + ehrRole + `"]}`),
			`environment "qa": ehrLaunch.apps[0] must be confidential, public or the name of an app of okta.apps, got "backend"`},
		"an app twice": {oktaWithApps(`{"enabled": true, "apps": ["public", "public"], "ehrRoleArns": ["` + ehrRole + `"]}`),
			`environment "qa": ehrLaunch.apps[1] repeats "public"`},
		"a picker app that is not launched": {oktaWithApps(`{"enabled": true, "apps": ["public"], "pickerApps": ["confidential"], "ehrRoleArns": ["` + ehrRole + `"]}`),
			`environment "qa": ehrLaunch.pickerApps[0] is "confidential", which is not among the launched apps`},
		"a picker app twice": {oktaWithApps(`{"enabled": true, "pickerApps": ["public", "public"], "ehrRoleArns": ["` + ehrRole + `"]}`),
			`environment "qa": ehrLaunch.pickerApps[1] repeats "public"`},
		"an empty app list": {oktaWithApps(`{"enabled": true, "apps": [], "ehrRoleArns": ["` + ehrRole + `"]}`),
			`environment "qa": ehrLaunch.apps must list at least one app`},
		"an app the stack does not create": {`{"okta": {"orgUrl": "https://dev-1.okta.com", "credentialSecret": "smart/okta",
			"publicClientRedirectUris": ["https://spa.example.org/cb"]},
			"ehrLaunch": {"enabled": true, "apps": ["confidential"], "ehrRoleArns": ["` + ehrRole + `"]}}`,
			`environment "qa": ehrLaunch.apps[0] is confidential, but okta.confidentialClientRedirectUris is not set`},
		"no app at all": {noApps,
			`environment "qa": ehrLaunch.enabled needs an app to launch`},
		"a CORS origin with a path": {oktaWithApps(`{"enabled": true, "ehrRoleArns": ["` + ehrRole + `"], "corsOrigins": ["https://spa.example.org/app"]}`),
			`environment "qa": ehrLaunch.corsOrigins[0] must be an https origin`},
		"a launch lifetime over 5 minutes": {oktaWithApps(`{"enabled": true, "ehrRoleArns": ["` + ehrRole + `"], "launchLifetimeSeconds": 600}`),
			`environment "qa": ehrLaunch.launchLifetimeSeconds must be between 1 and 300`},
		"a misspelt key": {oktaWithApps(`{"enabled": true, "ehrRoleArns": ["` + ehrRole + `"], "corsOrigin": []}`),
			`environment "qa": ehrLaunch.corsOrigin is not a known key`},
		"enabled as a string": {oktaWithApps(`{"enabled": "yes"}`),
			`environment "qa": ehrLaunch.enabled must be true or false`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := envconfig.Parse(decode(t, `{"qa": `+c.env+`}`))
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
		})
	}
}
