package idp_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// signRaw signs a header and payload given as JSON text, byte for byte (member
// order and spelling kept), with RS256 and the test key rsa1.
func signRaw(t testing.TB, header, payload string) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	sig, err := jwt.SigningMethodRS256.Sign(input, getKeys(t).rsa1)
	require.NoError(t, err)
	return input + "." + b64(sig)
}

// signHeader signs claims with rsa1 and kid k1 under a header with the given
// members (a nil value deletes one; jwt/v5 sets typ JWT by default).
func signHeader(t testing.TB, claims jwt.MapClaims, kv ...any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(tok.Header, kv[i].(string))
		} else {
			tok.Header[kv[i].(string)] = kv[i+1]
		}
	}
	s, err := tok.SignedString(getKeys(t).rsa1)
	require.NoError(t, err)
	return s
}

// jsonText writes v as JSON, for payloads assembled by hand.
func jsonText(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestTheJOSEHeaderRules(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	good := f.claims()
	for _, tc := range []struct {
		name   string
		header []any
		reason idp.Reason
	}{
		{"no typ, as Okta sends", []any{"typ", nil}, idp.ReasonValid},
		{"typ JWT", []any{"typ", "JWT"}, idp.ReasonValid},
		{"typ jwt in lower case", []any{"typ", "jwt"}, idp.ReasonValid},
		{"typ at+jwt (RFC 9068)", []any{"typ", "at+jwt"}, idp.ReasonValid},
		{"typ AT+JWT in upper case", []any{"typ", "AT+JWT"}, idp.ReasonValid},
		{"typ application/at+jwt", []any{"typ", "application/at+jwt"}, idp.ReasonValid},
		{"a DPoP proof", []any{"typ", "dpop+jwt"}, idp.ReasonTypNotAllowed},
		{"a logout token", []any{"typ", "logout+jwt"}, idp.ReasonTypNotAllowed},
		{"a security event token", []any{"typ", "secevent+jwt"}, idp.ReasonTypNotAllowed},
		{"an ID token typ", []any{"typ", "id_token+jwt"}, idp.ReasonTypNotAllowed},
		{"typ JOSE", []any{"typ", "JOSE"}, idp.ReasonTypNotAllowed},
		{"an empty typ", []any{"typ", ""}, idp.ReasonTypNotAllowed},
		{"typ that is not a string", []any{"typ", 5}, idp.ReasonTypNotAllowed},
		{"an unknown crit extension", []any{"crit", []string{"exp"}, "exp", 1}, idp.ReasonCritUnsupported},
		{"crit naming b64 (RFC 7797)", []any{"crit", []string{"b64"}, "b64", true}, idp.ReasonCritUnsupported},
		{"an empty crit", []any{"crit", []string{}}, idp.ReasonCritUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, reason := th.call(t, signHeader(t, good, tc.header...))
			assert.Equal(t, string(tc.reason), reason)
			assert.Equal(t, tc.reason == idp.ReasonValid, bool(resp.AuthPayload.IsAuthorized))
		})
	}
}

func TestClaimNamesAreCaseSensitive(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	header := `{"alg":"RS256","kid":"k1"}`
	iat, exp := t0.Add(-time.Minute).Unix(), t0.Add(time.Hour).Unix()
	// member writes one JSON member; the payloads below keep their order.
	member := func(name string, v any) string { return jsonText(t, name) + ":" + jsonText(t, v) }
	obj := func(members ...string) string { return "{" + strings.Join(members, ",") + "}" }
	iss, aud := member("iss", f.Issuer), member("aud", endpoint)
	scp := member("scp", []string{"patient/Observation.rs"})
	pat := member("patient", "p-1")

	for _, tc := range []struct {
		name    string
		payload string
		reason  idp.Reason
		patient string
	}{
		{"EXP is not exp", obj(iss, aud, scp, pat, member("iat", iat), member("EXP", exp)), idp.ReasonClaimMissing, ""},
		{"Exp is not exp", obj(iss, aud, scp, pat, member("Exp", exp)), idp.ReasonClaimMissing, ""},
		{"ISS is not iss", obj(member("ISS", f.Issuer), aud, scp, pat, member("exp", exp)), idp.ReasonIssuer, ""},
		{"SCP is not scp", obj(iss, aud, member("SCP", []string{"system/*.cruds"}), pat, member("exp", exp)), idp.ReasonNoSMARTScope, ""},
		{"Scope is not scope", obj(iss, aud, member("Scope", "system/*.cruds"), pat, member("exp", exp)), idp.ReasonNoSMARTScope, ""},
		{"a long s (U+017F) in scp is not scp", obj(iss, aud, member("ſcp", []string{"system/*.cruds"}), pat, member("exp", exp)), idp.ReasonNoSMARTScope, ""},
		{"AUD is not aud", obj(iss, member("AUD", endpoint), scp, pat, member("exp", exp)), idp.ReasonAudience, ""},
		{"a later PATIENT does not override patient", obj(iss, aud, scp, pat, member("exp", exp), member("PATIENT", "p-2")), idp.ReasonValid, "p-1"},
		{"a later Scp does not widen scp", obj(iss, aud, scp, pat, member("exp", exp), member("Scp", []string{"system/*.cruds"})), idp.ReasonValid, "p-1"},
		{"an exact name spelled with an escape counts", obj(iss, aud, `"\u0073cp":["patient/Observation.rs"]`, pat, member("exp", exp)), idp.ReasonValid, "p-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, reason := th.call(t, signRaw(t, header, tc.payload))
			assert.Equal(t, string(tc.reason), reason)
			if tc.reason == idp.ReasonValid {
				assert.Equal(t, "patient/Observation.rs", resp.AuthPayload.Scope)
				assert.Equal(t, tc.patient, resp.AuthPayload.Patient)
			}
		})
	}
}

func TestOktaAndRFC9068TokensAreBothAccepted(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	iat, exp := t0.Add(-time.Minute).Unix(), t0.Add(time.Hour).Unix()
	// Okta: no typ, scp array, cid and uid (Okta's access token reference).
	okta := signHeader(t, jwt.MapClaims{
		"ver": 1, "jti": "AT.x", "iss": f.Issuer, "aud": endpoint, "iat": iat, "exp": exp,
		"cid": "0oa-client", "uid": "00u-uid", "sub": "jane@example.com",
		"scp": []string{"openid", "fhirUser", "user/Observation.rs"}, "fhirUser": "Practitioner/pr-1",
	}, "typ", nil)
	// RFC 9068: typ at+jwt, scope string, client_id, sub, jti, iat.
	rfc9068 := signHeader(t, jwt.MapClaims{
		"iss": f.Issuer, "aud": endpoint, "iat": iat, "exp": exp, "jti": "at-1",
		"client_id": "client-1", "sub": "user-1", "scope": "openid launch/patient patient/Observation.rs",
		"patient": "p-1",
	}, "typ", "at+jwt")

	resp, reason := th.call(t, okta)
	require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, "openid fhirUser user/Observation.rs", resp.AuthPayload.Scope)
	assert.Equal(t, "00u-uid", resp.AuthPayload.Uid)
	assert.Equal(t, "Practitioner/pr-1", resp.AuthPayload.FhirUser)

	resp, reason = th.call(t, rfc9068)
	require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, "openid launch/patient patient/Observation.rs", resp.AuthPayload.Scope)
	assert.Equal(t, "user-1", resp.AuthPayload.Uid, "uid falls back to sub")
	assert.Equal(t, "p-1", resp.AuthPayload.Patient)
}

func TestAnUnknownIssuerCannotSpendTheJWKSRefreshAllowance(t *testing.T) {
	const interval = 300 * time.Millisecond
	f := newFakeIdP(t)
	k := getKeys(t)
	th := newTestHandler(t, f.env(), idp.Options{KeyRefreshInterval: interval, RequestBudget: 100 * time.Millisecond})
	// The authorization server starts signing with k2; the held set lacks it.
	f.set(func(f *fakeIdP) { f.jwks = append(defaultJWKS(k), rsaJWK("k2", "RS256", "sig", &k.rsa2.PublicKey)) })
	time.Sleep(interval) // a refresh is allowed from now on

	foreign := with(f.claims(), "iss", "https://evil.example.com/oauth2/default")
	for range 3 {
		_, reason := th.call(t, sign(t, jwt.SigningMethodRS256, k.attacker, "k2", foreign))
		assert.Equal(t, string(idp.ReasonIssuer), reason)
	}
	assert.Equal(t, int32(1), f.jwksHits.Load(), "another issuer's unknown kid fetched nothing")

	// The allowance is still there: the first token of ours naming k2 gets it.
	resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, k.rsa2, "k2", f.claims()))
	assert.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, int32(2), f.jwksHits.Load())
}
