package oktaclient_test

import (
	"context"
	"errors"
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
)

// post sends body to path through c's request executor (the SDK's own path
// for every typed call), so that any field can be sent.
func post(c *okta.Client, path string, body any) error {
	re := c.CloneRequestExecutor()
	req, err := re.WithAccept("application/json").WithContentType("application/json").
		NewRequest("POST", path, body)
	if err != nil {
		return err
	}
	_, err = re.Do(context.Background(), req, nil)
	return err
}

func TestOktaErrorAnswersComeWithoutTheSecretsTheRequestSent(t *testing.T) {
	fake := fakeokta.New(t, fakeokta.Options{})
	c, err := oktaclient.New(context.Background(), fake.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, fastOptions())
	require.NoError(t, err)
	// echo makes the next call to op fail with a cause that quotes secret.
	echo := func(op, field, secret string) {
		fake.Faults.Clear()
		fake.Faults.Add(fault.Rule{Op: op, Kind: fault.Invalid, Message: "Api validation failed: " + field,
			Causes: []string{field + ": '" + secret + "' is not valid"}})
	}
	for _, tc := range []struct {
		name, op, path, field, secret string
		body                          func(secret string) any
	}{
		{"a client secret", "POST /api/v1/apps", "/api/v1/apps", "credentials.oauthClient.client_secret", "cs-7c1f0e2b9a4d4f8e",
			func(s string) any {
				return map[string]any{"name": "oidc_client", "credentials": map[string]any{"oauthClient": map[string]any{"client_secret": s}}}
			}},
		{"a hook's Authorization value, with characters JSON escapes", "POST /api/v1/inlineHooks", "/api/v1/inlineHooks",
			"channel.config.authScheme.value", "Basic <a&b>-5d0e1c",
			func(s string) any {
				return map[string]any{"channel": map[string]any{"config": map[string]any{"authScheme": map[string]any{
					"type": "HEADER", "key": "Authorization", "value": s}}}}
			}},
		{"a hook's custom header value", "POST /api/v1/inlineHooks", "/api/v1/inlineHooks", "channel.config.headers",
			"hdr-9e8d7c6b5a", func(s string) any {
				return map[string]any{"channel": map[string]any{"config": map[string]any{"headers": []any{
					map[string]any{"key": "X-Api-Key", "value": s}}}}}
			}},
		{"a JWK's private exponent", "POST /api/v1/apps", "/api/v1/apps", "settings.oauthClient.jwks", "d-0f1e2d3c4b5a",
			func(s string) any {
				return map[string]any{"settings": map[string]any{"oauthClient": map[string]any{"jwks": map[string]any{
					"keys": []any{map[string]any{"kty": "RSA", "n": "AQAB", "e": "AQAB", "d": s}}}}}}
			}},
		{"the API token", "POST /api/v1/apps", "/api/v1/apps", "label", fakeokta.DefaultAPIToken,
			func(string) any { return map[string]any{"label": "x"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			echo(tc.op, tc.field, tc.secret)
			err := post(c, tc.path, tc.body(tc.secret))
			var oe *okta.Error
			require.True(t, errors.As(err, &oe), "%v", err)
			assert.NotContains(t, err.Error(), tc.secret)
			assert.Equal(t, "E0000001", oe.ErrorCode, "the code stays")
			assert.Equal(t, "Api validation failed: "+tc.field, oe.ErrorSummary, "the summary stays")
			require.Len(t, oe.ErrorCauses, 1)
			assert.Equal(t, tc.field+": '[redacted]' is not valid", oe.ErrorCauses[0]["errorSummary"], "the field stays")
		})
	}
	t.Run("a value that is not secret is kept", func(t *testing.T) {
		echo("POST /api/v1/apps", "label", "clinic-portal")
		err := post(c, "/api/v1/apps", map[string]any{"label": "clinic-portal"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "label: 'clinic-portal' is not valid")
	})
	t.Run("a service app's calls are scrubbed too", func(t *testing.T) {
		pemKey, key := rsaPEM(t, true)
		fake.RegisterServiceApp("0oaServiceApp", &key.PublicKey, oktaclient.DefaultScopes...)
		sc, err := oktaclient.New(context.Background(), fake.URL,
			oktaclient.Credentials{ClientID: "0oaServiceApp", PrivateKey: pemKey, KeyID: "kid-1"}, fastOptions())
		require.NoError(t, err)
		echo("POST /api/v1/inlineHooks", "channel.config.authScheme.value", "svc-hook-3a2b1c")
		_, _, err = sc.InlineHook.CreateInlineHook(context.Background(), okta.InlineHook{Name: "h", Type: "com.okta.oauth2.tokens.transform",
			Version: "1.0.0", Channel: &okta.InlineHookChannel{Type: "HTTP", Version: "1.0.0", Config: &okta.InlineHookChannelConfig{
				Uri:        "https://hook.example.com",
				AuthScheme: &okta.InlineHookChannelConfigAuthScheme{Type: "HEADER", Key: "Authorization", Value: "svc-hook-3a2b1c"}}}})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "svc-hook-3a2b1c")
		assert.Contains(t, err.Error(), "channel.config.authScheme.value: '[redacted]' is not valid")
	})
}
