package idp_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/lambdalog"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// The decision line identifies who asked, for the dashboards and the saved
// Logs Insights queries (decisions by client): the client id and the Okta user
// id, once the token is known genuine. Never the login ("sub", an e-mail
// address at Okta) nor any other claim.
func TestTheDecisionLineSaysWhoAsked(t *testing.T) {
	f := newFakeIdP(t)
	k := getKeys(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	good := f.claims()
	cases := []struct {
		name           string
		token          string
		reason         string
		client, userID string // "" means absent
	}{
		{"a valid token names its client and user", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", good), "valid", "0oa-client", "00u-user-uid"},
		{"the same token again, from the cache, too", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", good), "cached", "0oa-client", "00u-user-uid"},
		{"a genuine token for another audience names them", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "aud", "api://other")),
			"audience_mismatch", "0oa-client", "00u-user-uid"},
		{"a genuine token without SMART scopes names them", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "scp", []string{"openid"})),
			"no_smart_scope", "0oa-client", "00u-user-uid"},
		{"a backend service's token names its client only (its sub is the client id, it has no uid)",
			sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "uid", nil, "sub", "0oa-backend", "cid", "0oa-backend", "scp", []string{"system/Patient.rs"})),
			"valid", "0oa-backend", ""},
		{"an RFC 9068 client_id claim names the client", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "cid", nil, "client_id", "rfc9068-client")),
			"valid", "rfc9068-client", "00u-user-uid"},
		{"a uid holding an e-mail address is not logged", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "uid", "jane.doe@example.com")),
			"valid", "0oa-client", ""},
		{"a cid with spaces (a name, or forged log text) is not logged", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "cid", "Jane Q. Doe")),
			"valid", "", "00u-user-uid"},
		{"a cid of another type is ignored, not a refusal", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "cid", 42)),
			"valid", "", "00u-user-uid"},
		{"an expired token names nobody", sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", with(good, "exp", t0.Add(-leeway*2).Unix())), "expired", "", ""},
		{"a forged signature names nobody", sign(t, jwt.SigningMethodRS256, k.attacker, "k1", good), "signature_invalid", "", ""},
		{"garbage names nobody", "garbage-token-value", "token_malformed", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, reason := th.call(t, c.token)
			require.Equal(t, c.reason, reason)
			line := th.logs.Last(t)
			for key, want := range map[string]string{"client_id": c.client, "user_id": c.userID} {
				if want == "" {
					assert.NotContains(t, line, key)
				} else {
					assert.Equal(t, want, line[key], key)
				}
			}
		})
	}

	t.Run("an introspected token names its client and user", func(t *testing.T) {
		s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
		_, reason := s.call(t, opaqueToken)
		require.Equal(t, "valid", reason)
		line := s.logs.Last(t)
		assert.Equal(t, "0oa-client", line["client_id"])
		assert.Equal(t, "00u-user-uid", line["user_id"])
	})
}

// Every other path that writes a line: the invalid configuration, a failed
// start-up and its retry, a key rotation, the Lambda request id, with the
// richest token. No token, secret, name or e-mail address on any of them.
func TestNoLogPathHoldsATokenASecretANameOrAnEmail(t *testing.T) {
	f := newFakeIdP(t)
	k := getKeys(t)
	rich := with(f.claims(), "name", "Jane Q. Doe", "email", "jane@clinic.example", "fhirUser", "Practitioner/pr-77", "patient", "patient-4242")
	tok := sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", rich)
	var all strings.Builder

	// A configuration error: one line at construction, one per request.
	broken := newTestHandler(t, env{validatorenv.EnvIssuer: f.Issuer}, idp.Options{})
	_, reason := broken.call(t, tok)
	require.Equal(t, "config_invalid", reason)
	all.WriteString(broken.logs.String())

	// The authorization server down at start-up, then back; then a new key
	// replaces the old one (the cache is cleared, and logged).
	f.set(func(f *fakeIdP) { f.down = true })
	th := newTestHandler(t, f.env(), idp.Options{SetupRetryInterval: time.Millisecond, KeyRefreshInterval: time.Millisecond})
	_, reason = th.call(t, tok)
	require.Equal(t, "keys_unavailable", reason)
	f.set(func(f *fakeIdP) { f.down = false })
	time.Sleep(2 * time.Millisecond)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-77"})
	resp, err := th.Handle(ctx, idp.Event{DatastoreEndpoint: endpoint, BearerToken: "Bearer " + tok, OperationName: "read"})
	require.NoError(t, err)
	require.True(t, bool(resp.AuthPayload.IsAuthorized), th.logs.String())
	assert.Equal(t, "req-77", th.logs.Last(t)["request_id"])
	f.set(func(f *fakeIdP) { f.jwks = append(f.jwks, rsaJWK("k-new", "RS256", "sig", &k.attacker.PublicKey)) })
	time.Sleep(2 * time.Millisecond)
	newTok := sign(t, jwt.SigningMethodRS256, k.attacker, "k-new", rich)
	_, reason = th.call(t, newTok)
	require.Equal(t, "valid", reason)
	require.Contains(t, th.logs.String(), "validated-token cache cleared", "the rotation path was taken")
	all.WriteString(th.logs.String())

	logs := all.String()
	for _, secretish := range append([]string{tok, newTok, "Jane Q. Doe", "Jane", "jane@clinic.example", "jane.doe@example.com"}, claimValues...) {
		assert.NotContains(t, logs, secretish)
	}
	for _, token := range []string{tok, newTok} {
		for seg := range strings.SplitSeq(token, ".") {
			assert.NotContains(t, logs, seg, "no part of a token is logged")
		}
	}
	assert.NotContains(t, logs, "@", "no e-mail address, whatever the path")
}

// BenchmarkDecisionLine measures what the per-request decision line costs: the
// same cached token answered by a handler logging JSON at INFO (to io.Discard,
// so the cost is building and encoding the line, not the pipe to Lambda) and
// by one at WARN, which is what AWS_LAMBDA_LOG_LEVEL=WARN gives (see
// lambda/internal/lambdalog). The difference per op is the line's cost.
func BenchmarkDecisionLine(b *testing.B) {
	f := newFakeIdP(b)
	k := getKeys(b)
	tok := sign(b, jwt.SigningMethodRS256, k.rsa1, "k1", f.claims())
	ev := idp.Event{DatastoreEndpoint: endpoint, BearerToken: tok, OperationName: "SearchWithGet"}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "8f5b3c2a-1d4e-4f6a-9b7c-0e1d2c3b4a59"})
	for _, c := range []struct {
		name, level string
	}{{"INFO_line_written", "INFO"}, {"WARN_no_line", "WARN"}} {
		b.Run(c.name, func(b *testing.B) {
			// The production logger (main.go), with its Lambda keys.
			logger := lambdalog.New(io.Discard, func(string) string { return c.level })
			h := idp.FromEnv(context.Background(), f.env().get, idp.Options{Now: newClock().Now, Logger: logger})
			if resp, _ := h.Handle(ctx, ev); !resp.AuthPayload.IsAuthorized {
				b.Fatal("the benchmark token was refused")
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = h.Handle(ctx, ev)
			}
		})
	}
}
