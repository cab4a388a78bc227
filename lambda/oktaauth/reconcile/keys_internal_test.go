package reconcile

import (
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"
)

func TestAppEqualJWKS(t *testing.T) {
	app := func(keys ...*okta.JsonWebKey) *okta.OpenIdConnectApplication {
		return &okta.OpenIdConnectApplication{
			Label:       "svc",
			Credentials: &okta.OAuthApplicationCredentials{OauthClient: &okta.ApplicationCredentialsOAuthClient{TokenEndpointAuthMethod: "private_key_jwt"}},
			Settings: &okta.OpenIdConnectApplicationSettings{OauthClient: &okta.OpenIdConnectApplicationSettingsClient{
				ApplicationType: "service", Jwks: &okta.OpenIdConnectApplicationSettingsClientKeys{Keys: keys}}},
		}
	}
	desired := &okta.JsonWebKey{Kty: "RSA", Kid: "proxy", E: "AQAB", N: "n1", Alg: "RS256", Use: "sig"}
	t.Run("Okta's answer without alg and use (its response schema lists neither) is no change", func(t *testing.T) {
		echoed := &okta.JsonWebKey{Kty: "RSA", Kid: "proxy", E: "AQAB", N: "n1", Status: "ACTIVE"}
		if !appEqual(app(desired), app(echoed)) {
			t.Fatal("a JWK Okta echoes without alg/use counts as changed: every deployment would rewrite the client")
		}
	})
	for name, other := range map[string]*okta.JsonWebKey{
		"another modulus":   {Kty: "RSA", Kid: "proxy", E: "AQAB", N: "n2", Alg: "RS256", Use: "sig"},
		"another kid":       {Kty: "RSA", Kid: "other", E: "AQAB", N: "n1", Alg: "RS256", Use: "sig"},
		"another alg":       {Kty: "RSA", Kid: "proxy", E: "AQAB", N: "n1", Alg: "RS384", Use: "sig"},
		"an encryption use": {Kty: "RSA", Kid: "proxy", E: "AQAB", N: "n1", Use: "enc"},
	} {
		t.Run(name+" is a change", func(t *testing.T) {
			if appEqual(app(desired), app(other)) {
				t.Fatal("counted as equal")
			}
		})
	}
	t.Run("a key more is a change", func(t *testing.T) {
		if appEqual(app(desired), app(desired, desired)) {
			t.Fatal("counted as equal")
		}
	})
}
