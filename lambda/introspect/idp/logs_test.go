package idp_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// claimValues are claim values that must never reach a log line: the login
// (sub, an e-mail address at Okta), names, e-mail, FHIR user, patient, token id.
// The client id ("cid") and the Okta user id ("uid") are logged: they say who
// asked (see TestTheDecisionLineSaysWhoAsked).
var claimValues = []string{"jane.doe@example.com", "Jane Q. Doe", "jane@clinic.example", "Practitioner/pr-77", "patient-4242", "AT.abc"}

func TestLogsNeverHoldTokensSecretsOrClaims(t *testing.T) {
	f := newFakeIdP(t)
	k := getKeys(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	rich := with(f.claims(), "fhirUser", "Practitioner/pr-77", "patient", "patient-4242", "name", "Jane Q. Doe", "email", "jane@clinic.example")
	tokens := []string{
		sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", rich),
		sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(rich, "aud", "api://other")),
		sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(rich, "exp", t0.Add(-leeway*2).Unix())),
		sign(t, jwt.SigningMethodRS256, k.rsa1, "unknown-kid-value", rich),
		sign(t, jwt.SigningMethodRS256, k.attacker, "k1", rich),
		sign(t, jwt.SigningMethodHS256, []byte("hmac-key"), "k1", rich),
		"garbage-token-value",
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJqYW5lLmRvZUBleGFtcGxlLmNvbSJ9.",
	}
	for _, tok := range tokens {
		th.call(t, tok)
		th.call(t, tok) // cached paths log too
	}

	s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
	s.call(t, opaqueToken)
	s.setAnswer(func(url.Values) (int, any) { return 502, map[string]any{"error": "bad gateway"} })
	s.call(t, opaqueToken+"-2")

	badSecret := newIntrospectionSetup(t, "client_id=x&client_secret="+clientSecret, idp.Options{})
	badSecret.call(t, opaqueToken)

	all := th.logs.String() + s.logs.String() + badSecret.logs.String()
	for _, tok := range append(tokens, opaqueToken) {
		assert.NotContains(t, all, tok)
		for seg := range strings.SplitSeq(tok, ".") {
			if len(seg) > 8 {
				assert.NotContains(t, all, seg, "no part of a token is logged")
			}
		}
	}
	assert.NotContains(t, all, clientSecret)
	assert.NotContains(t, all, "fake-aws-secret")
	assert.NotContains(t, all, "unknown-kid-value", "nothing taken from the token header either")
	for _, v := range claimValues {
		assert.NotContains(t, all, v)
	}

	hash := regexp.MustCompile(`^[0-9a-f]{12}$`)
	n := 0
	for _, logs := range []*logBuffer{th.logs, s.logs, badSecret.logs} {
		for _, line := range logs.Lines(t) {
			if line["msg"] != "authorization" {
				continue
			}
			n++
			assert.Contains(t, []any{"allow", "deny"}, line["decision"])
			assert.NotEmpty(t, line["reason"])
			assert.Regexp(t, hash, line["token_sha256"])
			assert.Contains(t, line, "duration_us")
		}
	}
	require.Equal(t, 2*len(tokens)+3, n, "one line per request")
}
