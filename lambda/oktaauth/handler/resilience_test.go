package handler_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
)

func TestRateLimitsAndServerErrorsAreRetried(t *testing.T) {
	cases := []struct {
		name   string
		faults []fault.Rule
		// retried: requests the fake failed that were then repeated
		retried int
	}{
		{"429 on listing scopes, honouring X-Rate-Limit-Reset", []fault.Rule{
			{Op: "GET /api/v1/authorizationServers/*/scopes", Times: 2, Status: http.StatusTooManyRequests},
		}, 2},
		{"429 on creating scopes and apps", []fault.Rule{
			{Op: "POST /api/v1/authorizationServers/*/scopes", After: 3, Times: 1, Status: http.StatusTooManyRequests},
			{Op: "POST /api/v1/apps", After: 1, Times: 2, Status: http.StatusTooManyRequests},
		}, 3},
		{"500 and 502 on reads, 504 on an app update path, 503 on creates", []fault.Rule{
			{Op: "GET /api/v1/apps", Times: 2, Status: http.StatusInternalServerError},
			{Op: "GET /api/v1/authorizationServers", Times: 1, Status: http.StatusBadGateway},
			{Op: "POST /api/v1/authorizationServers/*/policies", Times: 2, Status: http.StatusServiceUnavailable},
			{Op: "POST /api/v1/authorizationServers/*/claims", After: 2, Times: 1, Status: http.StatusServiceUnavailable},
		}, 6},
		{"server errors on lifecycle calls are retried too", []fault.Rule{
			{Op: "POST /api/v1/authorizationServers/*/lifecycle/deactivate", Times: 2, Status: http.StatusInternalServerError},
		}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			ev := e.fullEvent()
			if strings.Contains(tc.name, "lifecycle") {
				ev.ResourceProperties["Active"] = "false"
			}
			var faults []*fault.Rule
			for _, f := range tc.faults {
				faults = append(faults, e.okta.Faults.Add(f))
			}
			resp, err := e.run(ev)
			require.NoError(t, err)
			fired := 0
			for _, f := range faults {
				fired += e.okta.Faults.Fired(f)
			}
			assert.Equal(t, tc.retried, fired)
			as := e.onlyServer()
			assert.Equal(t, as.ID, resp.PhysicalResourceID)
			assert.Len(t, e.okta.Apps(), 4)
			assert.Len(t, as.Policies, 2, "no duplicates from retried creates")
			if strings.HasPrefix(tc.name, "429") {
				// The SDK's own 429 handling retried, marking its retries.
				var marked int
				for _, r := range e.okta.Requests() {
					if r.RetryCount != "" {
						marked++
					}
				}
				assert.Equal(t, tc.retried, marked)
			}
		})
	}
}

func TestAServerErrorOnACreateIsNotRepeated(t *testing.T) {
	// A 500 on a POST that creates might have been carried out; repeating it
	// could make a duplicate. It fails the create, whose cleanup leaves nothing.
	e := newEnv(t, fakeokta.Options{})
	f := e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/apps", Kind: fault.ServerError})
	_, err := e.run(e.fullEvent())
	require.Error(t, err)
	assert.Equal(t, 1, e.okta.Faults.Fired(f))
	assert.Len(t, e.okta.RequestsMatching("POST", "/api/v1/apps"), 1)
	assert.Empty(t, e.okta.AuthorizationServers())
}

func TestPrivateKeyCredentials(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	e.okta.RegisterServiceApp("0oaServiceAppForCfn1", &key.PublicKey, oktaclient.DefaultScopes...)
	secret, _ := json.Marshal(map[string]any{"clientId": "0oaServiceAppForCfn1", "privateKey": pemKey, "keyId": "kid-1"})
	e.sm.Put("okta-management-credentials", string(secret))

	ev := e.fullEvent()
	resp, err := e.run(ev)
	require.NoError(t, err)
	assert.Len(t, issuedTokens(e), 1, "one access token, reused for every call")
	_, err = e.run(deleteEvent(ev, resp.PhysicalResourceID))
	require.NoError(t, err)
	assert.Empty(t, e.okta.AuthorizationServers())

	t.Run("a service app without the needed scopes is refused by Okta, clearly", func(t *testing.T) {
		e.okta.RegisterServiceApp("0oaServiceAppForCfn1", &key.PublicKey, "okta.apps.manage")
		_, err := e.run(ev)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "okta.authorizationServers.manage")
	})
}

// TestNoSecretLeaks runs every lifecycle path, failures included, in both
// credential modes and checks that no client secret, API token or private key
// appears in Data, the returned errors or the logs.
func TestNoSecretLeaks(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	keyBody := strings.Split(pemKey, "\n")[1] // a line of the key's base64

	for _, mode := range []string{"api token", "private key"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{OmitClientSecretsOnRead: true})
			forbidden := []string{fakeokta.DefaultAPIToken}
			if mode == "private key" {
				e.okta.RegisterServiceApp("0oaServiceAppForCfn2", &key.PublicKey, oktaclient.DefaultScopes...)
				secret, _ := json.Marshal(map[string]any{"clientId": "0oaServiceAppForCfn2", "privateKey": pemKey})
				e.sm.Put("okta-management-credentials", string(secret))
				forbidden = []string{keyBody, "PRIVATE KEY"}
			}
			var outputs []string
			secrets := append([]string(nil), forbidden...)
			record := func(resp customresource.OnEventResponse, err error) {
				raw, _ := json.Marshal(resp)
				outputs = append(outputs, string(raw))
				if err != nil {
					outputs = append(outputs, err.Error())
				}
				// Every client secret that ever existed: in Okta now, or written.
				secrets = append(secrets, e.okta.ClientSecrets()...)
				for k, v := range e.secretDoc() {
					if strings.HasSuffix(k, "Secret") {
						secrets = append(secrets, v)
					}
				}
				if v := e.introspectionDoc()["client_secret"]; v != "" {
					secrets = append(secrets, v)
				}
			}
			ev := e.fullEvent()
			resp, err := e.run(ev)
			require.NoError(t, err)
			record(resp, err)
			id := resp.PhysicalResourceID

			// An update that adds a secret-holding client after others exist
			// (so existing secrets are read back from Okta), one that fails, a
			// failed create with cleanup, and the delete.
			ev2 := updateEvent(ev, id, func(p map[string]any) { p["IntrospectionClient"] = "false" })
			record(e.run(ev2))
			ev3 := updateEvent(ev2, id, func(p map[string]any) { p["IntrospectionClient"] = "true" })
			record(e.run(ev3))
			e.okta.Faults.Add(fault.Rule{Op: "PUT /api/v1/authorizationServers/*/policies/*/rules/*", Kind: fault.Invalid})
			record(e.run(updateEvent(ev3, id, func(p map[string]any) { p["AccessTokenLifetimeMinutes"] = "30" })))
			// The audience binding, its failure on a foreign server, and its delete.
			bind := bindEvent(e, id, endpoint)
			record(e.run(bind))
			record(e.run(bindEvent(e, e.okta.AddAuthorizationServer("foreign", "not ours", "api://x"), endpoint)))
			bind.RequestType = customresource.Delete
			bind.PhysicalResourceID = id + "/audience"
			record(e.run(bind))
			other := e.fullEvent()
			other.ResourceProperties["Name"] = "second"
			e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/policies/*/rules", After: 2, Kind: fault.Invalid})
			record(e.run(other))
			record(e.run(deleteEvent(ev3, id)))

			require.Greater(t, len(secrets), len(forbidden)+4)
			logs := e.logs.String()
			require.NotEmpty(t, logs)
			for _, s := range secrets {
				assert.NotContains(t, logs, s, "a secret is in the logs")
				for _, out := range outputs {
					assert.NotContains(t, out, s, "a secret is in a response or error")
				}
			}
			// Every log line is JSON with the stable keys.
			for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
				var m map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &m), line)
				assert.Contains(t, m, "requestType")
				assert.Contains(t, m, "msg")
			}
		})
	}
}

func TestOktaErrorsStayInspectableThroughTheWrapping(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers", Kind: fault.Invalid,
		Code: "E0000001", Message: "Api validation failed: name"})
	_, err := e.run(e.fullEvent())
	var oe *okta.Error
	require.True(t, errors.As(err, &oe), "got %T", err)
	assert.Equal(t, "E0000001", oe.ErrorCode)
	assert.Equal(t, `creating authorization server "smart-healthlake": the API returned an error: Api validation failed: name`, err.Error())
}

func TestAnUnreachableOrgFailsWithoutLeakingTheClientAssertion(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	secret, _ := json.Marshal(map[string]any{"clientId": "0oaServiceAppForCfn3", "privateKey": pemKey})
	e.sm.Put("okta-management-credentials", string(secret))
	ev := e.fullEvent()
	closed := fakeokta.New(t, fakeokta.Options{})
	closed.Close() // connection refused from now on
	ev.ResourceProperties["OktaOrgUrl"] = closed.URL

	_, err = e.run(ev)
	require.Error(t, err)
	t.Log(err)
	assert.NotContains(t, err.Error(), "eyJ", "the assertion travels in the form body, never in a URL an error quotes")
	assert.NotContains(t, err.Error(), "client_assertion=ey")
	assert.NotContains(t, e.logs.String(), "client_assertion=ey")
	assert.Contains(t, e.logs.String(), `"msg":"retrying okta request"`, "transport errors on the token request are retried")
}
