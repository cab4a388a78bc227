package handler_test

import (
	"context"
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

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/reconcile"
)

// issuedTokens are the token requests the fake answered with a token.
func issuedTokens(e *env) []fakeokta.Request {
	var out []fakeokta.Request
	for _, r := range e.okta.RequestsMatching("POST", "/oauth2/v1/token") {
		if r.Status == http.StatusOK {
			out = append(out, r)
		}
	}
	return out
}

// managementWrites are e.writes() without the token requests.
func managementWrites(e *env) []string {
	var out []string
	for _, w := range e.writes() {
		if w != "POST /oauth2/v1/token" {
			out = append(out, w)
		}
	}
	return out
}

// useServiceApp registers a service app in the fake and puts its key in the
// credential secret.
func useServiceApp(t *testing.T, e *env, app fakeokta.ServiceApp) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	app.Key = &key.PublicKey
	if app.Scopes == nil {
		app.Scopes = oktaclient.DefaultScopes
	}
	e.okta.AddServiceApp(app)
	secret, _ := json.Marshal(map[string]any{"clientId": app.ClientID, "keyId": "kid-1",
		"privateKey": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))})
	e.sm.Put("okta-management-credentials", string(secret))
}

// assertProvisionedEverything checks what the full create event must leave in
// Okta and Secrets Manager (the essentials of TestCreateFromScratchMakesEveryObject).
func assertProvisionedEverything(t *testing.T, e *env, ev customresource.Event, resp customresource.OnEventResponse) {
	t.Helper()
	as := e.onlyServer()
	owner := reconcile.Owner{StackID: ev.StackID, LogicalID: ev.LogicalResourceID}
	assert.Equal(t, as.ID, resp.PhysicalResourceID)
	assert.True(t, owner.Owns(as.Description))
	assert.Equal(t, "ACTIVE", as.Status)
	assert.Equal(t, []string{"https://healthlake.us-east-1.amazonaws.com/datastore/placeholder/r4/"}, as.Audiences)
	assert.Len(t, as.CustomScopeNames(), 5+3*2*3+1, "context scopes, levels x resources x permissions, the extra")
	assert.Len(t, as.Claims, 4)
	assert.Len(t, as.Policies, 2)
	apps := map[string]fakeokta.App{}
	for _, a := range e.okta.Apps() {
		apps[a.Profile["smartClient"].(string)] = a
	}
	require.Len(t, apps, 4)
	doc := e.secretDoc()
	assert.Equal(t, apps["confidential"].ID, doc["confidentialClientId"])
	assert.Equal(t, apps["confidential"].Credentials.OauthClient.ClientSecret, doc["confidentialClientSecret"])
	assert.Len(t, doc["confidentialClientSecret"], 64)
	assert.Equal(t, apps["introspection"].Credentials.OauthClient.ClientSecret, e.introspectionDoc()["client_secret"])
	assert.Equal(t, as.Issuer, resp.Data[oktaprops.AttrIssuer])
	assert.Equal(t, apps["backend"].ID, resp.Data[oktaprops.AttrBackendClientID])
}

func TestProvisionsEverythingWithEachKindOfCredential(t *testing.T) {
	cases := []struct {
		name   string
		app    *fakeokta.ServiceApp
		scheme string // on every management call
	}{
		{"an API token", nil, "SSWS"},
		{"a service app that does not require DPoP", &fakeokta.ServiceApp{ClientID: "0oaServiceNoDPoP00001", DPoPNotRequired: true}, "Bearer"},
		{"a service app that requires DPoP", &fakeokta.ServiceApp{ClientID: "0oaServiceDPoP000001"}, "DPoP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			if tc.app != nil {
				useServiceApp(t, e, *tc.app)
			}
			ev := e.fullEvent()
			resp, err := e.run(ev)
			require.NoError(t, err)
			assertProvisionedEverything(t, e, ev, resp)

			t.Run("every management call used the expected scheme, with a proof exactly when DPoP-bound", func(t *testing.T) {
				for _, r := range e.okta.Requests() {
					if r.Path == "/oauth2/v1/token" {
						continue
					}
					assert.Equal(t, tc.scheme, r.AuthScheme, "%s %s", r.Method, r.Path)
					assert.Equal(t, tc.scheme == "DPoP", r.DPoPProof, "%s %s", r.Method, r.Path)
					assert.Less(t, r.Status, 300, "%s %s: %s", r.Method, r.Path, r.Error)
				}
			})
			if tc.app != nil {
				t.Run("one token for the whole event", func(t *testing.T) {
					assert.Len(t, issuedTokens(e), 1)
				})
			}
			t.Run("a re-run changes nothing and the delete removes everything", func(t *testing.T) {
				e.okta.ResetRequests()
				_, err := e.run(updateEvent(ev, resp.PhysicalResourceID, nil))
				require.NoError(t, err)
				assert.Empty(t, managementWrites(e), "the token request of the new invocation aside")
				_, err = e.run(deleteEvent(ev, resp.PhysicalResourceID))
				require.NoError(t, err)
				assert.Empty(t, e.okta.AuthorizationServers())
				assert.Empty(t, e.okta.Apps())
			})
		})
	}
}

func TestDPoPTokenRequestsFollowOktasExchange(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	useServiceApp(t, e, fakeokta.ServiceApp{ClientID: "0oaServiceDPoP000002"})
	_, err := e.run(e.fullEvent())
	require.NoError(t, err)
	tokens := e.okta.RequestsMatching("POST", "/oauth2/v1/token")
	require.Len(t, tokens, 3)
	t.Run("without a proof Okta answers invalid_dpop_proof", func(t *testing.T) {
		assert.False(t, tokens[0].DPoPProof)
		assert.Equal(t, http.StatusBadRequest, tokens[0].Status)
		assert.Equal(t, "invalid_dpop_proof", tokens[0].Error)
	})
	t.Run("a proof without the nonce is answered use_dpop_nonce, and the one with it gets the token", func(t *testing.T) {
		assert.True(t, tokens[1].DPoPProof)
		assert.Equal(t, "use_dpop_nonce", tokens[1].Error)
		assert.True(t, tokens[2].DPoPProof)
		assert.Equal(t, http.StatusOK, tokens[2].Status)
	})
	t.Run("the assertion travels in the form body and is recorded without it", func(t *testing.T) {
		for _, r := range tokens {
			assert.Empty(t, r.Query)
			assert.Equal(t, "[recorded without the assertion]", r.Body.(map[string]any)["client_assertion"])
		}
	})
}

func TestOktaRefusingTheCredentialSaysWhatToFix(t *testing.T) {
	t.Run("a 401 E0000011 (an API token expired after 30 days unused) names the secret to rotate", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{APIToken: "00theTokenOktaKnows"})
		e.sm.Put("okta-management-credentials", `{"apiToken":"00anExpiredToken"}`)
		_, err := e.run(e.fullEvent())
		require.Error(t, err)
		var oe *okta.Error
		require.True(t, errors.As(err, &oe), "the SDK's error stays reachable")
		assert.Equal(t, "E0000011", oe.ErrorCode)
		assert.Contains(t, err.Error(), "401 E0000011")
		assert.Contains(t, err.Error(), "30 days")
		assert.Contains(t, err.Error(), "credential secret "+e.credARN)
		assert.NotContains(t, err.Error(), "00anExpiredToken")
		assert.NotContains(t, e.logs.String(), "00anExpiredToken")
	})
	t.Run("a 403 E0000006 (a service app without an admin role) says the admin role is missing", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		useServiceApp(t, e, fakeokta.ServiceApp{ClientID: "0oaServiceNoRole00001", NoAdminRole: true})
		_, err := e.run(e.fullEvent())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "403 E0000006")
		assert.Contains(t, err.Error(), "admin role")
		assert.Contains(t, err.Error(), e.credARN)
		assert.Empty(t, e.okta.AuthorizationServers())
	})
	t.Run("a service app Okta does not know (invalid_client) names the secret holding its id and key", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		useServiceApp(t, e, fakeokta.ServiceApp{ClientID: "0oaServiceRekeyed0001"})
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		// Someone replaced the app's public key in Okta: our key no longer signs for it.
		e.okta.AddServiceApp(fakeokta.ServiceApp{ClientID: "0oaServiceRekeyed0001", Key: &other.PublicKey, Scopes: oktaclient.DefaultScopes})
		_, err = e.run(e.fullEvent())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "invalid_client")
		assert.Contains(t, err.Error(), "client id or key in the credential secret "+e.credARN)
	})
	t.Run("other errors are left as they are", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers", Kind: fault.Invalid})
		_, err := e.run(e.fullEvent())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "credential")
	})
}

func TestIssuerModeAbsentFromOktasAnswersCausesNoUpdate(t *testing.T) {
	e := newEnv(t, fakeokta.Options{}) // no custom domain, no dynamic issuer: Okta omits issuerMode
	ev := e.fullEvent()
	resp := e.create()
	as, _, err := directClient(t, e).AuthorizationServer.GetAuthorizationServer(context.Background(), resp.PhysicalResourceID)
	require.NoError(t, err)
	require.Empty(t, as.IssuerMode, "the fake leaves issuerMode out, as Okta does on such orgs")

	e.okta.ResetRequests()
	_, err = e.run(updateEvent(ev, resp.PhysicalResourceID, nil))
	require.NoError(t, err)
	assert.Empty(t, e.okta.RequestsMatching("PUT", "/api/v1/authorizationServers/*"), "no PUT of the server on a re-run")
	assert.Empty(t, e.writes())

	t.Run("on an org that shows it, a real change of issuer mode is still put", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{DynamicIssuer: true})
		ev := e.fullEvent()
		resp := e.create()
		e.okta.ResetRequests()
		_, err := e.run(updateEvent(ev, resp.PhysicalResourceID, func(p map[string]any) { p["IssuerMode"] = "DYNAMIC" }))
		require.NoError(t, err)
		puts := e.okta.RequestsMatching("PUT", "/api/v1/authorizationServers/*")
		require.Len(t, puts, 1)
		assert.Equal(t, "DYNAMIC", puts[0].Body.(map[string]any)["issuerMode"])
		assert.Equal(t, "DYNAMIC", e.onlyServer().IssuerMode)
	})
}

func TestClientSecretsAreNeverReadBackFromAppReads(t *testing.T) {
	e := newEnv(t, fakeokta.Options{}) // the default: no client_secret on GET or list
	ev := e.fullEvent()
	resp := e.create()
	ctx := context.Background()
	apps, _, err := directClient(t, e).Application.ListApplications(ctx, nil)
	require.NoError(t, err)
	require.NotEmpty(t, apps)
	for _, a := range apps {
		raw, _ := json.Marshal(a)
		assert.NotContains(t, string(raw), `"client_secret":"`, "a list shows no secret")
	}

	// A new client-secret secret makes the handler rewrite the document from
	// what Okta has, which it can only get from /credentials/secrets.
	newARN := e.sm.Put("smart-client-secrets-2", `{}`)
	e.okta.ResetRequests()
	_, err = e.run(updateEvent(ev, resp.PhysicalResourceID, func(p map[string]any) { p["ClientSecretArn"] = newARN }))
	require.NoError(t, err)
	v, ok := e.sm.Value(newARN)
	require.True(t, ok)
	var doc map[string]string
	require.NoError(t, json.Unmarshal([]byte(v), &doc))
	var confidential fakeokta.App
	for _, a := range e.okta.Apps() {
		if a.Profile["smartClient"] == "confidential" {
			confidential = a
		}
	}
	assert.Equal(t, confidential.Credentials.OauthClient.ClientSecret, doc["confidentialClientSecret"])
	assert.NotEmpty(t, e.okta.RequestsMatching("GET", "/api/v1/apps/*/credentials/secrets"))
	assert.False(t, strings.Contains(e.logs.String(), doc["confidentialClientSecret"]))
}

func TestServiceAppTokensAndAssertionsNeverLeak(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	useServiceApp(t, e, fakeokta.ServiceApp{ClientID: "0oaServiceLeak000001"})
	// Retries (logged) and a failure (returned) on the way.
	e.okta.Faults.Add(fault.Rule{Op: "GET /api/v1/apps", Times: 2, Status: http.StatusServiceUnavailable})
	e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/claims", Kind: fault.Invalid})
	_, err := e.run(e.fullEvent())
	require.Error(t, err)
	require.Contains(t, e.logs.String(), `"msg":"retrying okta request"`)
	tokens := e.okta.IssuedAccessTokens()
	require.NotEmpty(t, tokens)
	for _, tok := range tokens {
		assert.NotContains(t, err.Error(), tok)
		assert.NotContains(t, e.logs.String(), tok)
	}
	for _, out := range []string{err.Error(), e.logs.String()} {
		assert.NotContains(t, out, "eyJhbGciOi", "no signed JWT (assertion or proof) in errors or logs")
	}
}
