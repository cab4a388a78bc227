package idp_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// contractHandler uses a fixed, realistic issuer (the JWK Set URL is configured,
// so no discovery) so the answers can be compared with files.
func contractHandler(t *testing.T) (*testHandler, string) {
	f := newFakeIdP(t)
	const issuer = "https://example.okta.com/oauth2/default"
	th := newTestHandler(t, env{
		validatorenv.EnvIssuer:  issuer,
		validatorenv.EnvJWKSURL: f.Issuer + "/v1/keys",
		validatorenv.EnvRoleARN: roleARN,
	}, idp.Options{})
	tok := sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1",
		with(f.claims(), "iss", issuer, "fhirUser", "Patient/p-123", "launch_response_patient", "p-123"))
	return th, tok
}

func eventFromFile(t *testing.T, token string) idp.Event {
	raw, err := os.ReadFile("testdata/event.json")
	require.NoError(t, err)
	var ev idp.Event
	require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(string(raw), "{{TOKEN}}", token)), &ev),
		"unknown fields in HealthLake's event are tolerated")
	return ev
}

func TestTheAnswerIsExactlyTheDocumentedShape(t *testing.T) {
	th, tok := contractHandler(t)
	resp, err := th.Handle(context.Background(), eventFromFile(t, tok))
	require.NoError(t, err)
	got, err := json.Marshal(resp)
	require.NoError(t, err)
	want, err := os.ReadFile("testdata/allow_response.json")
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
}

func TestARefusalIsWellFormed(t *testing.T) {
	th, _ := contractHandler(t)
	resp, err := th.Handle(context.Background(), eventFromFile(t, "garbage"))
	require.NoError(t, err)
	got, err := json.Marshal(resp)
	require.NoError(t, err)
	want, err := os.ReadFile("testdata/deny_response.json")
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
}

func TestIsAuthorizedIsAJSONString(t *testing.T) {
	for _, tc := range []struct {
		v    idp.Authorized
		json string
	}{{true, `"true"`}, {false, `"false"`}} {
		b, err := json.Marshal(tc.v)
		require.NoError(t, err)
		assert.Equal(t, tc.json, string(b))
	}
	for in, want := range map[string]bool{`"true"`: true, `true`: true, `"false"`: false, `false`: false} {
		var a idp.Authorized
		require.NoError(t, json.Unmarshal([]byte(in), &a), in)
		assert.Equal(t, want, bool(a), in)
	}
	for _, in := range []string{`"yes"`, `1`, `null`, `"TRUE"`} {
		var a idp.Authorized
		assert.Error(t, json.Unmarshal([]byte(in), &a), in)
	}
}
