package idp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func TestBadTokensAreDeniedAndTheHandlerKeepsServing(t *testing.T) {
	f := newFakeIdP(t)
	k := getKeys(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	good := f.claims()
	valid := sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", good)
	header, payload, sig := split3(valid)

	pubDER, err := x509.MarshalPKIXPublicKey(&k.rsa1.PublicKey)
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	otherPayload := b64([]byte(`{"iss":"` + f.Issuer + `","aud":"` + endpoint + `","exp":1999999999,"scp":["system/*.cruds"]}`))

	for _, tc := range []struct {
		name   string
		token  string
		reason idp.Reason
	}{
		{"an empty token", "", idp.ReasonTokenMissing},
		{"a bare Bearer scheme", "Bearer ", idp.ReasonTokenMissing},
		{"white space", " \t\n", idp.ReasonTokenMissing},
		{"garbage", "not a token at all", idp.ReasonTokenMalformed},
		{"Bearer garbage", "Bearer garbage", idp.ReasonTokenMalformed},
		{"binary garbage", "\x00\xff\xfe.\x01.\x02", idp.ReasonTokenMalformed},
		{"a token truncated in the payload", valid[:len(header)+1+len(payload)/2], idp.ReasonTokenMalformed},
		{"a token truncated in the signature", valid[:len(valid)-6], idp.ReasonSignature},
		{"a token over 16 KiB", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "pad", strings.Repeat("x", 16<<10))), idp.ReasonTokenTooLarge},
		{"one segment", header, idp.ReasonTokenMalformed},
		{"two segments", header + "." + payload, idp.ReasonTokenMalformed},
		{"four segments", valid + "." + sig, idp.ReasonTokenMalformed},
		{"an empty signature segment", header + "." + payload + ".", idp.ReasonSignature},
		{"bad base64 in the header", "e!J." + payload + "." + sig, idp.ReasonTokenMalformed},
		{"standard instead of url base64", header + "." + payload + "." + strings.NewReplacer("-", "+", "_", "/").Replace(sig) + "+/", idp.ReasonTokenMalformed},
		{"non-canonical base64 padding bits", header + "." + payload + "." + flipLastBits(sig), idp.ReasonTokenMalformed},
		{"a header that is not JSON", b64([]byte("{not json")) + "." + payload + "." + sig, idp.ReasonTokenMalformed},
		{"a payload that is a JSON array", header + "." + b64([]byte("[1,2]")) + "." + sig, idp.ReasonTokenMalformed},
		{"a claim of the wrong type", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "exp", "tomorrow")), idp.ReasonTokenMalformed},
		{"scp of the wrong type", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "scp", 5)), idp.ReasonTokenMalformed},
		{"scp with a number in it", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "scp", []any{"patient/*.rs", 5})), idp.ReasonTokenMalformed},
		{"aud of the wrong type", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "aud", map[string]any{"x": endpoint})), idp.ReasonTokenMalformed},
		{"an absurd exp", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "exp", 1e300)), idp.ReasonTokenMalformed},
		{"a negative exp", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "exp", -1)), idp.ReasonTokenMalformed},
		{"alg none", b64([]byte(`{"alg":"none","kid":"k1"}`)) + "." + payload + ".", idp.ReasonAlgNotAllowed},
		{"alg none signed", b64([]byte(`{"alg":"none","kid":"k1"}`)) + "." + payload + "." + sig, idp.ReasonAlgNotAllowed},
		{"no alg", b64([]byte(`{"kid":"k1"}`)) + "." + payload + "." + sig, idp.ReasonAlgNotAllowed},
		{"an alg the library does not know", b64([]byte(`{"alg":"XX999","kid":"k1"}`)) + "." + payload + "." + sig, idp.ReasonAlgNotAllowed},
		{"HS256 signed with the public key PEM", sign(t, jwt.SigningMethodHS256, pubPEM, "k1", good), idp.ReasonAlgNotAllowed},
		{"HS256 signed with the public key DER", sign(t, jwt.SigningMethodHS256, pubDER, "k1", good), idp.ReasonAlgNotAllowed},
		{"HS256 signed with the modulus", sign(t, jwt.SigningMethodHS256, k.rsa1.N.Bytes(), "k1", good), idp.ReasonAlgNotAllowed},
		{"ES512, not on the list", sign(t, jwt.SigningMethodES512, mustEC521(t), "k1", good), idp.ReasonAlgNotAllowed},
		{"no kid", sign(t, jwt.SigningMethodRS256, k.rsa1, "", good), idp.ReasonKIDMissing},
		{"an unknown kid", sign(t, jwt.SigningMethodRS256, k.rsa1, "nope", good), idp.ReasonKIDUnknown},
		{"a known kid but the attacker's key", sign(t, jwt.SigningMethodRS256, k.attacker, "k1", good), idp.ReasonSignature},
		{"a tampered payload", header + "." + otherPayload + "." + sig, idp.ReasonSignature},
		{"a tampered header", b64([]byte(`{"alg":"RS256","kid":"k1","typ":"JWT","x":1}`)) + "." + payload + "." + sig, idp.ReasonSignature},
		{"an RS256 token naming an RS384 key", sign(t, jwt.SigningMethodRS256, k.rsa1, "k-rs384", good), idp.ReasonKeyMismatch},
		{"an RS256 token naming an EC key", sign(t, jwt.SigningMethodRS256, k.rsa1, "k-es256", good), idp.ReasonKeyMismatch},
		{"an ES256 token naming an EC P-384 key without alg", sign(t, jwt.SigningMethodES256, k.ec256, "k-p384-noalg", good), idp.ReasonKeyMismatch},
		{"an ES384 token naming an RSA key without alg", sign(t, jwt.SigningMethodES384, k.ec384, "k-noalg", good), idp.ReasonKeyMismatch},
		{"a key published for encryption", sign(t, jwt.SigningMethodRS256, k.rsa1, "k-enc", good), idp.ReasonKeyMismatch},
		{"a 1024-bit RSA key", sign(t, jwt.SigningMethodRS256, k.rsaWeak, "k-weak", good), idp.ReasonKeyMismatch},
		{"expired beyond the leeway", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "exp", t0.Add(-leeway-time.Second).Unix())), idp.ReasonExpired},
		{"not valid yet beyond the leeway", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "nbf", t0.Add(leeway+time.Minute).Unix())), idp.ReasonNotYetValid},
		{"issued in the future beyond the leeway", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "iat", t0.Add(leeway+time.Minute).Unix())), idp.ReasonIssuedInFuture},
		{"no exp", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "exp", nil)), idp.ReasonClaimMissing},
		{"another issuer", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "iss", "https://evil.example.com/oauth2/default")), idp.ReasonIssuer},
		{"the issuer with a trailing slash", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "iss", f.Issuer+"/")), idp.ReasonIssuer},
		{"no issuer", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "iss", nil)), idp.ReasonIssuer},
		{"another audience", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "aud", "api://default")), idp.ReasonAudience},
		{"another data store", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "aud", strings.Replace(endpoint, "0123", "9999", 1))), idp.ReasonAudience},
		{"no audience", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "aud", nil)), idp.ReasonAudience},
		{"no SMART scope", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "scp", []string{"openid", "profile", "launch/patient"})), idp.ReasonNoSMARTScope},
		{"no scope at all", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "scp", nil)), idp.ReasonNoSMARTScope},
		{"malformed resource scopes only", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "scp", []string{"patient/Observation.sr", "patient/observation.read"})), idp.ReasonNoSMARTScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, reason := th.call(t, tc.token)
			assert.False(t, bool(resp.AuthPayload.IsAuthorized))
			assert.Equal(t, string(tc.reason), reason)
			assert.Empty(t, resp.AuthPayload.Scope, "nothing is granted")
			assert.Equal(t, endpoint, resp.AuthPayload.Aud)
			assert.Equal(t, roleARN, resp.IAMRoleARN)
			assert.Equal(t, t0.Unix(), resp.AuthPayload.Exp, "a refusal's window is already over")

			// And the handler keeps serving.
			resp, reason = th.call(t, valid)
			assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		})
	}
	assert.Equal(t, int32(1), f.jwksHits.Load(), "bad tokens cost no JWK Set fetch: the refresh allowance was used at start")
}

func TestAnEventWithoutADataStoreIsDenied(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	resp, reason := th.callAt(t, "", sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", f.claims()))
	assert.False(t, bool(resp.AuthPayload.IsAuthorized))
	assert.Equal(t, string(idp.ReasonEventInvalid), reason)
}

func TestATokenAtThe16KiBLimitIsStillConsidered(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	padded := func(n int) string {
		return sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(f.claims(), "pad", strings.Repeat("x", n)))
	}
	// base64 grows in steps of 4 characters: find the largest token that fits.
	n := (idp.MaxTokenBytes - len(padded(0))) * 3 / 4
	for len(padded(n)) > idp.MaxTokenBytes {
		n--
	}
	for len(padded(n+1)) <= idp.MaxTokenBytes {
		n++
	}
	tok := padded(n)
	require.Greater(t, len(tok), idp.MaxTokenBytes-4)
	resp, reason := th.call(t, tok)
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)

	_, reason = th.call(t, padded(n+3))
	assert.Equal(t, string(idp.ReasonTokenTooLarge), reason)
}

func TestValidTokensAreAccepted(t *testing.T) {
	f := newFakeIdP(t)
	k := getKeys(t)
	th := newTestHandler(t, f.env(validatorenv.EnvAudiences, "api://default, https://fhir.example.com/r4/"), idp.Options{})
	good := f.claims()
	rs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", c) }

	for _, tc := range []struct {
		name  string
		token string
		check func(t *testing.T, p idp.AuthPayload)
	}{
		{"Okta's scp array becomes one scope string", rs(good), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "launch/patient openid fhirUser patient/Observation.rs patient/Patient.rs", p.Scope)
		}},
		{"a scope string", rs(with(good, "scp", nil, "scope", "openid patient/*.read")), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "openid patient/*.read", p.Scope)
		}},
		{"scp as a string", rs(with(good, "scp", "openid patient/*.rs")), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "openid patient/*.rs", p.Scope)
		}},
		{"scope as an array", rs(with(good, "scp", nil, "scope", []string{"openid", "patient/*.rs"})), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "openid patient/*.rs", p.Scope)
		}},
		{"fractional times are truncated to seconds", rs(with(good, "exp", float64(t0.Add(time.Hour).Unix())+0.75)), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, t0.Add(time.Hour).Unix(), p.Exp)
		}},
		{"scp wins over scope when both are present", rs(with(good, "scope", "system/*.cruds")), func(t *testing.T, p idp.AuthPayload) {
			assert.NotContains(t, p.Scope, "system/")
		}},
		{"unknown scopes are not passed on", rs(with(good, "scp", []string{"profile", "email", "user/*.cruds"})), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "user/*.cruds", p.Scope)
		}},
		{"aud as an array", rs(with(good, "aud", []string{"api://other", endpoint})), nil},
		{"aud without the trailing slash", rs(with(good, "aud", strings.TrimSuffix(endpoint, "/"))), nil},
		{"a configured audience", rs(with(good, "aud", "api://default")), nil},
		{"a configured audience with a trailing slash added", rs(with(good, "aud", "api://default/")), nil},
		{"a configured audience without its trailing slash", rs(with(good, "aud", "https://fhir.example.com/r4")), nil},
		{"a Bearer prefix", "Bearer " + rs(good), nil},
		{"a lower-case bearer prefix and white space", "  bearer   " + rs(good) + "\n", nil},
		{"fhirUser passes through", rs(with(good, "fhirUser", "Practitioner/123")), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "Practitioner/123", p.FhirUser)
		}},
		{"patient passes through", rs(with(good, "patient", "p-1", "launch_response_patient", "p-2")), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "p-1", p.Patient)
		}},
		{"launch_response_patient passes through as patient", rs(with(good, "launch_response_patient", "p-2")), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "p-2", p.Patient)
		}},
		{"no patient, no fhirUser", rs(with(good, "launch_response_patient", nil, "scp", []string{"openid", "user/*.rs"})), func(t *testing.T, p idp.AuthPayload) {
			assert.Empty(t, p.Patient)
			assert.Empty(t, p.FhirUser)
		}},
		{"uid comes from uid", rs(good), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "00u-user-uid", p.Uid)
		}},
		{"uid falls back to sub", rs(with(good, "uid", nil)), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, "jane.doe@example.com", p.Uid)
		}},
		{"nbf falls back to iat", rs(good), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, t0.Add(-time.Minute).Unix(), p.Iat)
			assert.Equal(t, p.Iat, p.Nbf)
		}},
		{"nbf is kept when present", rs(with(good, "nbf", t0.Add(-30*time.Second).Unix())), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, t0.Add(-30*time.Second).Unix(), p.Nbf)
		}},
		{"neither nbf nor iat: nbf is now", rs(with(good, "iat", nil)), func(t *testing.T, p idp.AuthPayload) {
			assert.Equal(t, t0.Unix(), p.Nbf)
			assert.Zero(t, p.Iat)
		}},
		{"expired within the leeway", rs(with(good, "exp", t0.Add(-leeway+time.Second).Unix())), nil},
		{"not valid yet within the leeway", rs(with(good, "nbf", t0.Add(leeway-time.Second).Unix(), "iat", t0.Add(leeway-time.Second).Unix())), nil},
		{"RS384", sign(t, jwt.SigningMethodRS384, k.rsa1, "k-rs384", good), nil},
		{"RS512", sign(t, jwt.SigningMethodRS512, k.rsa1, "k-rs512", good), nil},
		{"PS256", sign(t, jwt.SigningMethodPS256, k.rsa1, "k-ps256", good), nil},
		{"ES256", sign(t, jwt.SigningMethodES256, k.ec256, "k-es256", good), nil},
		{"ES384", sign(t, jwt.SigningMethodES384, k.ec384, "k-es384", good), nil},
		{"ES384 with a key without alg", sign(t, jwt.SigningMethodES384, k.ec384, "k-p384-noalg", good), nil},
		{"a key without alg or use", sign(t, jwt.SigningMethodRS256, k.rsa1, "k-noalg", good), nil},
		{"unknown extra claims", rs(with(good, "groups", []string{"a"}, "custom", map[string]any{"x": 1})), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, reason := th.call(t, tc.token)
			require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
			p := resp.AuthPayload
			assert.Equal(t, endpoint, p.Aud, "aud is the event's data store, byte for byte")
			assert.Equal(t, f.Issuer, p.Iss)
			assert.Equal(t, roleARN, resp.IAMRoleARN)
			assert.NotZero(t, p.Exp)
			assert.NotZero(t, p.Nbf)
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestAV1DataStoreGetsV1Scopes(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(validatorenv.EnvSmartVersion, "v1"), idp.Options{})
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(f.claims(), "scp",
		[]string{"launch/patient", "patient/Observation.rs", "patient/Encounter.r", "user/*.cruds", "patient/Condition.rs?category=problem-list-item"}))
	resp, reason := th.call(t, tok)
	require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, "launch/patient patient/Observation.read user/*.*", resp.AuthPayload.Scope)

	tok = sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(f.claims(), "scp", []string{"openid", "patient/Encounter.r"}))
	_, reason = th.call(t, tok)
	assert.Equal(t, string(idp.ReasonNoSMARTScope), reason, "nothing a v1 data store can grant")
}

func split3(tok string) (string, string, string) {
	p := strings.Split(tok, ".")
	return p[0], p[1], p[2]
}

// flipLastBits changes the unused low bits of the last base64 character, which
// a lenient decoder ignores.
func flipLastBits(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last^1])
}

func mustEC521(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	return k
}
