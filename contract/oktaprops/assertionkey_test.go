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

const proxyKeyARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

func withBackends(p cfnprops.Properties, serviceJWKS string) cfnprops.Properties {
	return with(p, oktaprops.PropBackendClient, "true", oktaprops.PropBackendClientJWKS, serviceJWKS,
		oktaprops.PropApps, `[{"name":"reporting","type":"backend","scopes":["system/Patient.rs"],"jwks":`+serviceJWKS+`},`+
			`{"name":"portal","type":"public","redirectUris":["https://portal.example/cb"],"scopes":["openid"]}]`)
}

const serviceJWKS = `{"keys":[{"kty":"RSA","kid":"svc-1","n":"sXch","e":"AQAB"}]}`

var proxyJWK = map[string]any{"kty": "RSA", "kid": "thumb", "n": "proxyN", "e": "AQAB", "use": "sig", "alg": "RS256"}

func TestProxyAssertionKeyARN(t *testing.T) {
	t.Run("a key ARN is read into the spec", func(t *testing.T) {
		s, err := oktaprops.Parse(withBackends(with(base(), oktaprops.PropProxyAssertionKeyARN, proxyKeyARN), serviceJWKS))
		require.NoError(t, err)
		assert.Equal(t, proxyKeyARN, s.ProxyAssertionKeyARN)
	})
	t.Run("absent, the spec names no key", func(t *testing.T) {
		s, err := oktaprops.Parse(withBackends(base(), serviceJWKS))
		require.NoError(t, err)
		assert.Empty(t, s.ProxyAssertionKeyARN)
	})
	for _, bad := range []string{
		"arn:aws:kms:us-east-1:123456789012:alias/ehr-proxy",
		"alias/ehr-proxy",
		"1234abcd-12ab-34cd-56ef-1234567890ab",
		"arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
	} {
		t.Run(fmt.Sprintf("%q is refused naming the property", bad), func(t *testing.T) {
			_, err := oktaprops.Parse(withBackends(with(base(), oktaprops.PropProxyAssertionKeyARN, bad), serviceJWKS))
			var perr *oktaprops.PropertyError
			require.True(t, errors.As(err, &perr), "%v", err)
			assert.Equal(t, oktaprops.PropProxyAssertionKeyARN, perr.Property)
			assert.Contains(t, perr.Reason, "KMS key ARN")
			if strings.Contains(bad, "alias") {
				assert.Contains(t, perr.Reason, "not an alias")
			}
		})
	}
	t.Run("a known property: no unknown-property warning", func(t *testing.T) {
		assert.Empty(t, oktaprops.UnknownProperties(with(base(), oktaprops.PropProxyAssertionKeyARN, proxyKeyARN)))
	})
}

func TestProxyAssertionKeyNeedsServiceKeysWithKids(t *testing.T) {
	noKid := `{"keys":[{"kty":"RSA","n":"sXch","e":"AQAB"}]}`
	t.Run("without the property a single key without kid is fine", func(t *testing.T) {
		_, err := oktaprops.Parse(withBackends(base(), noKid))
		require.NoError(t, err)
	})
	t.Run("with it, the backend client's key without kid is refused naming the key", func(t *testing.T) {
		p := with(base(), oktaprops.PropProxyAssertionKeyARN, proxyKeyARN, oktaprops.PropBackendClient, "true",
			oktaprops.PropBackendClientJWKS, noKid)
		_, err := oktaprops.Parse(p)
		var perr *oktaprops.PropertyError
		require.True(t, errors.As(err, &perr), "%v", err)
		assert.Equal(t, oktaprops.PropBackendClientJWKS+".keys[0]", perr.Property)
		assert.Contains(t, perr.Reason, "needs a kid")
		// The migration the key asks of a service that keeps calling Okta.
		assert.Contains(t, perr.Reason, "a service that calls Okta's token endpoint directly must then send its key's kid "+
			"in its client assertion's header")
	})
	t.Run("with it, a backend app's key without kid is refused naming the app", func(t *testing.T) {
		var aerr *oktaprops.AppError
		// The backend client is checked first; give it kids to reach the app.
		p := withBackends(with(base(), oktaprops.PropProxyAssertionKeyARN, proxyKeyARN), noKid)
		p[oktaprops.PropBackendClientJWKS] = serviceJWKS
		_, err := oktaprops.Parse(p)
		require.True(t, errors.As(err, &aerr), "%v", err)
		assert.Equal(t, "reporting", aerr.Name)
		assert.Equal(t, "jwks.keys[0]", aerr.Key)
	})
	t.Run("with it, a repeated kid is refused", func(t *testing.T) {
		twice := `{"keys":[{"kty":"RSA","kid":"a","n":"x","e":"AQAB"},{"kty":"RSA","kid":"a","n":"y","e":"AQAB"}]}`
		p := with(base(), oktaprops.PropProxyAssertionKeyARN, proxyKeyARN, oktaprops.PropBackendClient, "true",
			oktaprops.PropBackendClientJWKS, twice)
		_, err := oktaprops.Parse(p)
		require.ErrorContains(t, err, `repeats kid "a"`)
	})
	t.Run("with it, a JWKS already at Okta's key limit is refused", func(t *testing.T) {
		var keys []string
		for i := range oktaprops.MaxClientKeys {
			keys = append(keys, fmt.Sprintf(`{"kty":"RSA","kid":"k%d","n":"x","e":"AQAB"}`, i))
		}
		p := with(base(), oktaprops.PropProxyAssertionKeyARN, proxyKeyARN, oktaprops.PropBackendClient, "true",
			oktaprops.PropBackendClientJWKS, `{"keys":[`+strings.Join(keys, ",")+`]}`)
		_, err := oktaprops.Parse(p)
		require.ErrorContains(t, err, "at most 50")
	})
}

func TestAddProxyAssertionKey(t *testing.T) {
	parse := func(t *testing.T, jwks string) *oktaprops.Spec {
		s, err := oktaprops.Parse(withBackends(with(base(), oktaprops.PropProxyAssertionKeyARN, proxyKeyARN,
			oktaprops.PropConfidentialClient, "true", oktaprops.PropConfidentialRedirectURIs, []any{"https://app.example/cb"},
			oktaprops.PropClientSecretARN, "arn:aws:secretsmanager:us-east-1:123456789012:secret:client-AbCdEf"), jwks))
		require.NoError(t, err)
		return s
	}
	t.Run("every private_key_jwt client gets the key after its own, and no other client", func(t *testing.T) {
		s := parse(t, serviceJWKS)
		require.NoError(t, s.AddProxyAssertionKey(proxyJWK))
		be, _ := s.Client(oktaprops.BackendClient)
		require.Len(t, be.JWKS, 2)
		assert.Equal(t, "svc-1", be.JWKS[0]["kid"])
		assert.Equal(t, proxyJWK, be.JWKS[1])
		app, _ := s.App("reporting")
		require.Len(t, app.Client.JWKS, 2)
		assert.Equal(t, proxyJWK, app.Client.JWKS[1])
		conf, _ := s.Client(oktaprops.ConfidentialClient)
		assert.Empty(t, conf.JWKS)
		portal, _ := s.App("portal")
		assert.Empty(t, portal.Client.JWKS)
	})
	t.Run("the clients get copies: changing one leaves the others", func(t *testing.T) {
		s := parse(t, serviceJWKS)
		require.NoError(t, s.AddProxyAssertionKey(proxyJWK))
		be, _ := s.Client(oktaprops.BackendClient)
		be.JWKS[1]["n"] = "changed"
		app, _ := s.App("reporting")
		assert.Equal(t, "proxyN", app.Client.JWKS[1]["n"])
		assert.Equal(t, "proxyN", proxyJWK["n"])
	})
	t.Run("a service JWKS that already holds the same key keeps one copy", func(t *testing.T) {
		s := parse(t, `{"keys":[{"kty":"RSA","kid":"svc-1","n":"sXch","e":"AQAB"},{"kty":"RSA","kid":"thumb","n":"proxyN","e":"AQAB"}]}`)
		require.NoError(t, s.AddProxyAssertionKey(proxyJWK))
		be, _ := s.Client(oktaprops.BackendClient)
		assert.Len(t, be.JWKS, 2)
	})
	t.Run("a service key with the proxy key's kid but other material is an error naming the key", func(t *testing.T) {
		s := parse(t, `{"keys":[{"kty":"RSA","kid":"thumb","n":"other","e":"AQAB"}]}`)
		err := s.AddProxyAssertionKey(proxyJWK)
		require.ErrorContains(t, err, `kid "thumb"`)
		assert.ErrorContains(t, err, proxyKeyARN)
	})
	t.Run("a JWK without kid is refused", func(t *testing.T) {
		s := parse(t, serviceJWKS)
		require.Error(t, s.AddProxyAssertionKey(map[string]any{"kty": "RSA", "n": "x", "e": "AQAB"}))
	})
}

func TestPublicJWKSIsTheAppsRule(t *testing.T) {
	_, err := oktaprops.PublicJWKS([]byte(`{"keys":[{"kty":"RSA","n":"x","e":"AQAB","d":"secret"}]}`))
	require.ErrorContains(t, err, `private key (has "d")`)
	_, err = oktaprops.PublicJWKS([]byte(`{"keys":[]}`))
	require.Error(t, err)
	keys, err := oktaprops.PublicJWKS([]byte(serviceJWKS))
	require.NoError(t, err)
	assert.Len(t, keys, 1)
}
