package handler_test

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// proxyEvent is the full create event with a registry of a confidential, a
// public and a backend app (app00, app01, app02) and, when keyARN is not
// empty, the proxy's assertion key.
func proxyEvent(t *testing.T, e *env, keyARN string) customresource.Event {
	t.Helper()
	ev := withApps(t, e.fullEvent(), registryApps(t, e, 3))
	if keyARN != "" {
		ev.ResourceProperties[oktaprops.PropProxyAssertionKeyARN] = keyARN
	}
	return ev
}

// addKey makes a signing key in the fake KMS.
func addKey(t *testing.T, e *env) string {
	t.Helper()
	arn, err := e.kms.AddSigningKey()
	require.NoError(t, err)
	return arn
}

// kidOf is the RFC 7638 thumbprint of the fake KMS key's public half, as
// the proxy names its key (contract/ehrlaunchenv).
func kidOf(t *testing.T, e *env, arn string) string {
	t.Helper()
	thumb, err := (&jose.JSONWebKey{Key: e.kms.PublicKey(arn)}).Thumbprint(crypto.SHA256)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(thumb)
}

// jwksKids lists, per app (by its smartClient or smartApp profile value),
// the kids of its JWKS ("-" for a key without kid); apps without a JWKS map
// to nil.
func jwksKids(e *env) map[string][]string {
	out := map[string][]string{}
	for _, a := range e.okta.Apps() {
		name, _ := a.Profile["smartClient"].(string)
		if app, ok := a.Profile["smartApp"].(string); ok {
			name = "app:" + app
		}
		var kids []string
		if j := a.Settings.OauthClient.Jwks; j != nil {
			for _, k := range j.Keys {
				kid, _ := k["kid"].(string)
				if kid == "" {
					kid = "-"
				}
				kids = append(kids, kid)
			}
		}
		out[name] = kids
	}
	return out
}

// appWrites are the writes to apps (creates, replacements) in the fake's
// request log since index from.
func appWrites(e *env, from int) []string {
	var out []string
	for _, r := range e.okta.Requests()[from:] {
		if r.Method != "GET" && r.Status < 300 && strings.HasPrefix(r.Path, "/api/v1/apps") {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func appID(t *testing.T, e *env, profileKey, value string) string {
	t.Helper()
	for _, a := range e.okta.Apps() {
		if a.Profile[profileKey] == value {
			return a.ID
		}
	}
	t.Fatalf("no app with %s %s", profileKey, value)
	return ""
}

func TestTheProxyAssertionKeyIsRegisteredOnEveryPrivateKeyJWTClient(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	arn := addKey(t, e)
	ev := proxyEvent(t, e, arn)
	resp, err := e.run(ev)
	require.NoError(t, err)
	kid := kidOf(t, e, arn)

	t.Run("the backend client and the backend app hold their own key, then the proxy's", func(t *testing.T) {
		kids := jwksKids(e)
		assert.Equal(t, []string{"backend-1", kid}, kids["backend"])
		assert.Equal(t, []string{"svc-1", kid}, kids["app:app02"])
	})
	t.Run("no other client gets a JWKS", func(t *testing.T) {
		kids := jwksKids(e)
		for _, name := range []string{"confidential", "public", "introspection", "app:app00", "app:app01"} {
			assert.Nil(t, kids[name], name)
		}
	})
	t.Run("the registered key is the KMS key's public half, RS256 for signatures, and nothing private", func(t *testing.T) {
		a, _ := e.okta.App(appID(t, e, "smartClient", "backend"))
		k := a.Settings.OauthClient.Jwks.Keys[1]
		pub := e.kms.PublicKey(arn)
		assert.Equal(t, "RSA", k["kty"])
		assert.Equal(t, base64.RawURLEncoding.EncodeToString(pub.N.Bytes()), k["n"])
		assert.Equal(t, "AQAB", k["e"])
		assert.Equal(t, "RS256", k["alg"])
		assert.Equal(t, "sig", k["use"])
		for _, m := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			assert.NotContains(t, k, m)
		}
	})
	t.Run("the key's ARN and kid are logged, not the key", func(t *testing.T) {
		logs := e.logs.String()
		assert.Contains(t, logs, arn)
		assert.Contains(t, logs, kid)
		assert.NotContains(t, logs, base64.RawURLEncoding.EncodeToString(e.kms.PublicKey(arn).N.Bytes()))
	})
	t.Run("an update with the same properties sees the key already there and writes no app", func(t *testing.T) {
		from := len(e.okta.Requests())
		_, err := e.run(updateEvent(ev, resp.PhysicalResourceID, nil))
		require.NoError(t, err)
		assert.Empty(t, appWrites(e, from))
	})
}

func TestUpdatesKeepTheClientsJWKSExactlyAsThePropertiesSay(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	first, second := addKey(t, e), addKey(t, e)
	ev := proxyEvent(t, e, "")
	resp, err := e.run(ev)
	require.NoError(t, err)
	id := resp.PhysicalResourceID
	backend, app02 := appID(t, e, "smartClient", "backend"), appID(t, e, "smartApp", "app02")
	onlyThem := []string{"PUT /api/v1/apps/" + backend, "PUT /api/v1/apps/" + app02}

	added := updateEvent(ev, id, func(p map[string]any) { p[oktaprops.PropProxyAssertionKeyARN] = first })
	t.Run("adding the property adds the key to the private_key_jwt clients and writes no other client", func(t *testing.T) {
		from := len(e.okta.Requests())
		_, err := e.run(added)
		require.NoError(t, err)
		assert.ElementsMatch(t, onlyThem, appWrites(e, from))
		kids := jwksKids(e)
		assert.Equal(t, []string{"backend-1", kidOf(t, e, first)}, kids["backend"])
		assert.Equal(t, []string{"svc-1", kidOf(t, e, first)}, kids["app:app02"])
	})
	changed := updateEvent(added, id, func(p map[string]any) { p[oktaprops.PropProxyAssertionKeyARN] = second })
	t.Run("changing it replaces the old key by the new one", func(t *testing.T) {
		from := len(e.okta.Requests())
		_, err := e.run(changed)
		require.NoError(t, err)
		assert.ElementsMatch(t, onlyThem, appWrites(e, from))
		kids := jwksKids(e)
		assert.Equal(t, []string{"backend-1", kidOf(t, e, second)}, kids["backend"])
		assert.Equal(t, []string{"svc-1", kidOf(t, e, second)}, kids["app:app02"])
	})
	t.Run("the rollback of that update (old properties back) restores the first key", func(t *testing.T) {
		rollback := changed
		rollback.ResourceProperties, rollback.OldResourceProperties = changed.OldResourceProperties, changed.ResourceProperties
		_, err := e.run(rollback)
		require.NoError(t, err)
		assert.Equal(t, []string{"backend-1", kidOf(t, e, first)}, jwksKids(e)["backend"])
	})
	t.Run("removing the property leaves the services' own keys only", func(t *testing.T) {
		removed := updateEvent(added, id, func(p map[string]any) { delete(p, oktaprops.PropProxyAssertionKeyARN) })
		from := len(e.okta.Requests())
		_, err := e.run(removed)
		require.NoError(t, err)
		assert.ElementsMatch(t, onlyThem, appWrites(e, from))
		kids := jwksKids(e)
		assert.Equal(t, []string{"backend-1"}, kids["backend"])
		assert.Equal(t, []string{"svc-1"}, kids["app:app02"])
	})
}

func TestAnUnreadableProxyAssertionKeyFailsNamingTheKey(t *testing.T) {
	t.Run("on Create, before anything is made in Okta", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		arn := addKey(t, e)
		e.kms.Faults.Add(fault.Rule{Op: "GetPublicKey", Kind: fault.Denied, Times: 10})
		_, err := e.run(proxyEvent(t, e, arn))
		require.ErrorContains(t, err, arn)
		assert.ErrorContains(t, err, "AccessDeniedException")
		assert.Empty(t, e.okta.AuthorizationServers())
		assert.Empty(t, e.okta.Apps())
		assert.Empty(t, e.writes(), "no Okta object made, so none left behind")
	})
	t.Run("on Create, a disabled key", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		arn := addKey(t, e)
		e.kms.Disable(arn)
		_, err := e.run(proxyEvent(t, e, arn))
		require.ErrorContains(t, err, arn)
		assert.Empty(t, e.okta.Apps())
	})
	t.Run("on Update, leaving Okta as it was", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		arn := addKey(t, e)
		ev := proxyEvent(t, e, arn)
		resp, err := e.run(ev)
		require.NoError(t, err)
		before := jwksKids(e)
		other := addKey(t, e)
		e.kms.Disable(other)
		from := len(e.okta.Requests())
		_, err = e.run(updateEvent(ev, resp.PhysicalResourceID, func(p map[string]any) { p[oktaprops.PropProxyAssertionKeyARN] = other }))
		require.ErrorContains(t, err, other)
		assert.Empty(t, appWrites(e, from))
		assert.Equal(t, before, jwksKids(e))
	})
	t.Run("a Delete does not read the key: a disabled or deleted key cannot wedge it", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		arn := addKey(t, e)
		ev := proxyEvent(t, e, arn)
		resp, err := e.run(ev)
		require.NoError(t, err)
		e.kms.Disable(arn)
		calls := e.kms.Calls("GetPublicKey")
		_, err = e.run(deleteEvent(ev, resp.PhysicalResourceID))
		require.NoError(t, err)
		assert.Equal(t, calls, e.kms.Calls("GetPublicKey"))
		assert.Empty(t, e.okta.Apps())
	})
}

func TestAServiceKeyWithTheProxyKeysKidButOtherMaterialFailsBeforeOkta(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	arn := addKey(t, e)
	ev := proxyEvent(t, e, arn)
	ev.ResourceProperties[oktaprops.PropBackendClientJWKS] = `{"keys":[{"kty":"RSA","kid":"` + kidOf(t, e, arn) +
		`","e":"AQAB","n":"sXch"}]}`
	_, err := e.run(ev)
	require.ErrorContains(t, err, arn)
	assert.Empty(t, e.okta.Apps())
}

func TestACreateWithTheProxyKeyThatFailsLaterInOktaRemovesTheClientsItMade(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	arn := addKey(t, e)
	// Refused once the apps, with the proxy's key in their JWKS, exist.
	e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/policies/*/rules", Kind: fault.Invalid, Times: 1000})
	_, err := e.run(proxyEvent(t, e, arn))
	require.Error(t, err)
	kid := kidOf(t, e, arn)
	withKey := 0
	for _, r := range e.okta.Requests() {
		if r.Method == "POST" && r.Path == "/api/v1/apps" && r.Status < 300 {
			raw, _ := json.Marshal(r.Body)
			if strings.Contains(string(raw), kid) {
				withKey++
			}
		}
	}
	assert.Equal(t, 2, withKey, "the backend client and the backend app were made with the proxy's key before the failure")
	assert.Empty(t, e.okta.Apps(), "the failed Create's cleanup removed them")
	assert.Empty(t, e.okta.AuthorizationServers())
}
