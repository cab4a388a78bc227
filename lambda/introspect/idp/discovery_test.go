package idp_test

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func TestDiscoveryTriesRFC8414First(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, int32(1), f.rfc8414Hits.Load())
	assert.Zero(t, f.oidcHits.Load())
}

func TestDiscoveryFallsBackToOpenIDConfiguration(t *testing.T) {
	f := newFakeIdP(t)
	f.set(func(f *fakeIdP) { f.noRFC8414 = true })
	th := newTestHandler(t, f.env(), idp.Options{})
	resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, int32(1), f.oidcHits.Load())
}

func TestAConfiguredJWKSURLSkipsDiscovery(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(validatorenv.EnvJWKSURL, f.Issuer+"/v1/keys"), idp.Options{})
	resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Zero(t, f.rfc8414Hits.Load()+f.oidcHits.Load())
}

func TestDiscoveredMetadataMustBeTrustworthy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(f *fakeIdP)
		logged string
	}{
		{"a document naming another issuer", func(f *fakeIdP) { f.metadataIss = "https://evil.example.com/oauth2/default" }, "names issuer"},
		{"a plain-http JWK Set URL", func(f *fakeIdP) { f.metadataJWKS = "http://keys.example.com/keys" }, "must be https"},
		{"a JWK Set URL that is no URL", func(f *fakeIdP) { f.metadataJWKS = "keys" }, "not an absolute URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIdP(t)
			f.set(tc.change)
			th := newTestHandler(t, f.env(), idp.Options{})
			resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
			assert.False(t, bool(resp.AuthPayload.IsAuthorized))
			assert.Equal(t, string(idp.ReasonKeysUnavailable), reason)
			assert.Contains(t, th.logs.String(), tc.logged)
			assert.Zero(t, f.jwksHits.Load(), "an untrusted document's keys are never fetched")
		})
	}
}

func TestTheKeyURLIsNotLeftByARedirectOrForAHugeAnswer(t *testing.T) {
	for _, path := range []string{"/v1/moved-keys", "/v1/huge-keys"} {
		t.Run(path, func(t *testing.T) {
			f := newFakeIdP(t)
			th := newTestHandler(t, f.env(validatorenv.EnvJWKSURL, f.Issuer+path), idp.Options{})
			_, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
			assert.Equal(t, string(idp.ReasonKeysUnavailable), reason)
			assert.Zero(t, f.jwksHits.Load())
		})
	}
}
