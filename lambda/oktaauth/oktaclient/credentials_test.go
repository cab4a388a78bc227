package oktaclient_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fakesecretsmanager"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
)

func rsaPEM(t *testing.T, pkcs8 bool) (string, *rsa.PrivateKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		require.NoError(t, err)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), key
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), key
}

func TestParseCredentials(t *testing.T) {
	pkcs1, _ := rsaPEM(t, false)
	pkcs8, _ := rsaPEM(t, true)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	cases := []struct {
		name       string
		secret     string
		wantErr    string
		privateKey bool
		scopes     []string
	}{
		{"api token", `{"apiToken":" 00abcDEF "}`, "", false, nil},
		{"private key PKCS#1 with default scopes", js(map[string]any{"clientId": "0oa1", "privateKey": pkcs1}), "", true, oktaclient.DefaultScopes},
		{"private key PKCS#8 with scopes and kid", js(map[string]any{"clientId": "0oa1", "privateKey": pkcs8, "keyId": "k1",
			"scopes": []string{"okta.apps.manage"}}), "", true, []string{"okta.apps.manage"}},
		{"private key typed with literal \\n", js(map[string]any{"clientId": "0oa1", "privateKey": strings.ReplaceAll(pkcs1, "\n", `\n`)}), "", true, oktaclient.DefaultScopes},
		{"empty", `{}`, `needs "apiToken"`, false, nil},
		{"both", js(map[string]any{"apiToken": "x", "clientId": "0oa1", "privateKey": pkcs1}), "not both", false, nil},
		{"client id without key", `{"clientId":"0oa1"}`, `needs both "clientId" and "privateKey"`, false, nil},
		{"not PEM", `{"clientId":"0oa1","privateKey":"MIIEvg-secret-bits"}`, "not a PEM block", false, nil},
		{"EC key", js(map[string]any{"clientId": "0oa1", "privateKey": ecPEM}), "need an RSA key", false, nil},
		{"unknown field", `{"token":"00abc"}`, `unknown field "token"`, false, nil},
		{"wrong type", `{"apiToken":42}`, "cannot unmarshal number", false, nil},
		{"not JSON", `apiToken=00abc-secret`, "not valid JSON (offset", false, nil},
		{"trailing data", `{"apiToken":"x"} 00abc`, "trailing data", false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := oktaclient.ParseCredentials([]byte(tc.secret))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotContains(t, err.Error(), "secret-bits")
				assert.NotContains(t, err.Error(), "00abc")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.privateKey, c.PrivateKeyMode())
			assert.Equal(t, tc.scopes, c.Scopes)
			if !tc.privateKey {
				assert.Equal(t, "00abcDEF", c.APIToken)
			}
		})
	}
}

func TestCredentialsNeverPrintTheirSecrets(t *testing.T) {
	pemKey, _ := rsaPEM(t, false)
	for _, c := range []oktaclient.Credentials{
		{APIToken: "00supersecret"},
		{ClientID: "0oa1", PrivateKey: pemKey},
	} {
		var logs bytes.Buffer
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("creds", "c", c)
		for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logs.String()} {
			assert.NotContains(t, out, "00supersecret")
			assert.NotContains(t, out, "PRIVATE KEY")
			assert.Contains(t, out, "redacted")
		}
	}
}

func TestReadCredentialsFromSecretsManager(t *testing.T) {
	sm := fakesecretsmanager.New(t)
	client := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(sm.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	arn := sm.Put("okta", `{"apiToken":"00tok"}`)

	c, err := oktaclient.ReadCredentials(context.Background(), client, arn)
	require.NoError(t, err)
	assert.Equal(t, "00tok", c.APIToken)

	_, err = oktaclient.ReadCredentials(context.Background(), client, "missing")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reading okta credential secret missing")

	sm.Put("bad", `{"apiToken":""}`)
	_, err = oktaclient.ReadCredentials(context.Background(), client, "bad")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(secret bad)")
}

func TestRedactRemovesClientAssertions(t *testing.T) {
	raw := fmt.Errorf(`listing: %w`, &url.Error{Op: "Post",
		URL: "https://x.okta.com/oauth2/v1/token?client_assertion=eyJhbGciOi.eyJzdWIi.c2ln&grant_type=client_credentials",
		Err: errors.New("connection refused")})
	red := oktaclient.RedactError(raw)
	assert.Equal(t, `listing: Post "https://x.okta.com/oauth2/v1/token?client_assertion=[redacted]&grant_type=client_credentials": connection refused`, red.Error())
	var ue *url.Error
	assert.True(t, errors.As(red, &ue), "the original error stays reachable")
	plain := errors.New("nothing to hide")
	assert.Same(t, plain, oktaclient.RedactError(plain))
	assert.Nil(t, oktaclient.RedactError(nil))
}
