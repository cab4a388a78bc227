package handler

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// discoveryServer is an authorization server's metadata endpoint over TLS. It
// serves at the well-known paths OpenID Connect Discovery 1.0 (section 4) and
// RFC 8414 (section 3) define, appended to the issuer as Okta, Keycloak and
// Cognito serve them, a JSON object whose issuer is the server's own URL.
type discoveryServer struct {
	*httptest.Server
	mu sync.Mutex
	// docs by path; a path without a document answers 404.
	docs  map[string]map[string]any
	paths []string
	// redirect, when set, answers every request with a 302 to it.
	redirect string
}

func newDiscoveryServer(t *testing.T) *discoveryServer {
	t.Helper()
	d := &discoveryServer{docs: map[string]map[string]any{}}
	d.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.paths = append(d.paths, r.URL.Path)
		if d.redirect != "" {
			http.Redirect(w, r, d.redirect, http.StatusFound)
			return
		}
		doc, ok := d.docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(d.Close)
	return d
}

// issuer is the authorization server's issuer: its URL plus a path, as with
// Okta (/oauth2/<id>), Keycloak (/realms/<realm>) or Entra ID (/<tenant>/v2.0).
func (d *discoveryServer) issuer() string { return d.URL + "/realms/smart" }

// document is the metadata the server really has.
func (d *discoveryServer) document() map[string]any {
	iss := d.issuer()
	return map[string]any{
		"issuer":                   iss,
		"authorization_endpoint":   iss + "/protocol/openid-connect/auth",
		"token_endpoint":           iss + "/protocol/openid-connect/token",
		"jwks_uri":                 iss + "/protocol/openid-connect/certs",
		"introspection_endpoint":   iss + "/protocol/openid-connect/token/introspect",
		"revocation_endpoint":      iss + "/protocol/openid-connect/revoke",
		"response_types_supported": []any{"code"},
	}
}

func (d *discoveryServer) serve(path string, doc map[string]any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs["/realms/smart"+path] = doc
}

func (d *discoveryServer) requested() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.paths...)
}

// externalEvent is the test Create with the server's endpoints configured,
// as the data store construct renders them, and the check asked for.
func externalEvent(t *testing.T, d *discoveryServer) customresource.Event {
	t.Helper()
	e := createEvent(t)
	e.ResourceProperties = clone(t, e.ResourceProperties)
	doc := d.document()
	for prop, field := range map[string]string{
		datastoreprops.PropIssuer: "issuer", datastoreprops.PropAuthorizationEndpoint: "authorization_endpoint", datastoreprops.PropTokenEndpoint: "token_endpoint",
		datastoreprops.PropJwksUri: "jwks_uri", datastoreprops.PropIntrospectionEndpoint: "introspection_endpoint", datastoreprops.PropRevocationEndpoint: "revocation_endpoint",
	} {
		e.ResourceProperties[prop] = doc[field]
	}
	e.ResourceProperties[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoveryVerify)
	return e
}

// withDiscovery is the harness with the handler trusting d's certificate.
func withDiscovery(t *testing.T, d *discoveryServer) *harness {
	t.Helper()
	x := newHarness(t)
	x.h.WithDiscoveryTransport(d.Client().Transport)
	return x
}

func TestTheLiveDiscoveryDocumentIsCheckedAtDeployTime(t *testing.T) {
	t.Run("a Create whose endpoints match the issuer's openid-configuration creates the data store", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.serve("/.well-known/openid-configuration", d.document())
		x := withDiscovery(t, d)

		o := x.run(externalEvent(t, d))
		require.NoError(t, o.err)
		assert.Equal(t, "ACTIVE", x.datastore(o.id).Status)
		assert.Equal(t, []string{"/realms/smart/.well-known/openid-configuration"}, d.requested())
		assert.Contains(t, x.logs.String(), "match the authorization server's discovery document")
	})

	t.Run("a Create whose token endpoint differs from the live document fails naming both values and creates nothing", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.serve("/.well-known/openid-configuration", d.document())
		x := withDiscovery(t, d)
		e := externalEvent(t, d)
		e.ResourceProperties[datastoreprops.PropTokenEndpoint] = d.issuer() + "/protocol/openid-connect/tokens"

		o := x.run(e)
		require.Error(t, o.err)
		msg := o.err.Error()
		assert.Contains(t, msg, `token_endpoint is "`+d.issuer()+`/protocol/openid-connect/token" there`)
		assert.Contains(t, msg, `but "`+d.issuer()+`/protocol/openid-connect/tokens" in TokenEndpoint`)
		assert.Contains(t, msg, d.issuer()+"/.well-known/openid-configuration", "the document is named")
		assert.NotContains(t, msg, "jwks_uri", "only what differs")
		assert.Empty(t, x.fake.Requests("CreateFHIRDatastore"), "nothing is created")
	})

	t.Run("a document naming another issuer fails the Create", func(t *testing.T) {
		d := newDiscoveryServer(t)
		doc := d.document()
		doc["issuer"] = d.URL + "/realms/other"
		d.serve("/.well-known/openid-configuration", doc)
		x := withDiscovery(t, d)

		o := x.run(externalEvent(t, d))
		require.ErrorContains(t, o.err, `issuer is "`+d.URL+`/realms/other" there but "`+d.issuer()+`" in Issuer`)
		assert.Empty(t, x.fake.Requests("CreateFHIRDatastore"))
	})

	t.Run("a configured introspection endpoint the document does not advertise fails the Create", func(t *testing.T) {
		d := newDiscoveryServer(t)
		doc := d.document()
		delete(doc, "introspection_endpoint")
		d.serve("/.well-known/openid-configuration", doc)
		x := withDiscovery(t, d)

		o := x.run(externalEvent(t, d))
		require.ErrorContains(t, o.err, "introspection_endpoint is absent there but")
	})

	t.Run("an optional endpoint left unconfigured is not compared", func(t *testing.T) {
		d := newDiscoveryServer(t)
		doc := d.document()
		delete(doc, "revocation_endpoint")
		d.serve("/.well-known/openid-configuration", doc)
		x := withDiscovery(t, d)
		e := externalEvent(t, d)
		delete(e.ResourceProperties, datastoreprops.PropRevocationEndpoint)

		require.NoError(t, x.run(e).err)
	})

	t.Run("an Update to a JWKS URL the server does not advertise fails and leaves the data store as it was", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.serve("/.well-known/openid-configuration", d.document())
		x := withDiscovery(t, d)
		created := externalEvent(t, d)
		o := x.mustRun(created)
		before := *x.datastore(o.id).IdentityProvider
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")

		u := updateEvent(t, created, o.id, "update-1", func(p map[string]any) {
			p[datastoreprops.PropJwksUri] = "https://keys.example.org/jwks"
		})
		res := x.run(u)
		require.ErrorContains(t, res.err, `jwks_uri is "`+d.issuer()+`/protocol/openid-connect/certs" there but "https://keys.example.org/jwks" in JwksUri`)
		assert.Empty(t, x.fake.Requests("UpdateFHIRDatastore"))
		assert.Equal(t, before, *x.datastore(o.id).IdentityProvider)
	})

	t.Run("the rollback of a failed Update restores the old endpoints without checking them", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.serve("/.well-known/openid-configuration", d.document())
		x := withDiscovery(t, d)
		created := externalEvent(t, d)
		o := x.mustRun(created)
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		u := updateEvent(t, created, o.id, "update-1", func(p map[string]any) { p[datastoreprops.PropDatastoreName] = "renamed" })
		x.mustRun(u)
		// The server has moved its token endpoint since the first deployment.
		moved := d.document()
		moved["token_endpoint"] = d.issuer() + "/v2/token"
		d.serve("/.well-known/openid-configuration", moved)

		x.stacks.SetStatus(testStackID, "UPDATE_ROLLBACK_IN_PROGRESS")
		res := x.run(rollbackOf(u, "rollback-1"))
		require.NoError(t, res.err, "a failed rollback would strand the stack in UPDATE_ROLLBACK_FAILED")
		assert.Equal(t, "patients-prod", x.datastore(o.id).Name)

		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		again := updateEvent(t, created, o.id, "update-2", func(p map[string]any) {
			p[datastoreprops.PropTokenEndpoint] = d.issuer() + "/v3/token"
		})
		require.ErrorContains(t, x.run(again).err, "token_endpoint", "an ordinary Update of the endpoints checks again")
	})

	t.Run("an Update that leaves the compared endpoints alone does not fetch the document", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.serve("/.well-known/openid-configuration", d.document())
		x := withDiscovery(t, d)
		created := externalEvent(t, d)
		o := x.mustRun(created)
		fetched := len(d.requested())
		// The authorization server is down: a rename must still deploy.
		d.serve("/.well-known/openid-configuration", nil)
		x.stacks.SetStatus(testStackID, "UPDATE_IN_PROGRESS")
		u := updateEvent(t, created, o.id, "update-1", func(p map[string]any) { p[datastoreprops.PropDatastoreName] = "renamed" })
		require.NoError(t, x.run(u).err)
		assert.Len(t, d.requested(), fetched)
		assert.Equal(t, "renamed", x.datastore(o.id).Name)
	})

	t.Run("an Update whose stack status cannot be read is not checked, since it may be a rollback", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.serve("/.well-known/openid-configuration", d.document())
		x := withDiscovery(t, d)
		created := externalEvent(t, d)
		o := x.mustRun(created)
		x.stacks.Faults.Add(fault.Rule{Kind: fault.Throttle, Times: 20})
		u := updateEvent(t, created, o.id, "update-1", func(p map[string]any) {
			p[datastoreprops.PropTokenEndpoint] = d.issuer() + "/v3/token" // would be a mismatch
		})
		require.NoError(t, x.run(u).err, "a consistency check must not wedge a rollback")
		assert.Contains(t, x.logs.String(), "discovery check skipped: could not read the stack's status")
	})

	t.Run("with verify-issuer, proxied authorize, token and introspection endpoints pass when issuer and keys match", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.serve("/.well-known/openid-configuration", d.document())
		x := withDiscovery(t, d)
		e := externalEvent(t, d)
		// The EHR launch proxies (constructs/ehrlaunch) stand in front of the server.
		proxy := "https://abc123.execute-api.us-east-1.amazonaws.com/smart"
		e.ResourceProperties[datastoreprops.PropAuthorizationEndpoint] = proxy + "/authorize"
		e.ResourceProperties[datastoreprops.PropTokenEndpoint] = proxy + "/token"
		e.ResourceProperties[datastoreprops.PropIntrospectionEndpoint] = proxy + "/introspect"
		e.ResourceProperties[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoveryVerifyIssuer)

		o := x.run(e)
		require.NoError(t, o.err)
		assert.Equal(t, "ACTIVE", x.datastore(o.id).Status)
		assert.Equal(t, []string{"/realms/smart/.well-known/openid-configuration"}, d.requested(), "the document is still fetched")

		// The same properties under verify are refused: the mode is what lets them through.
		d2 := newDiscoveryServer(t)
		d2.serve("/.well-known/openid-configuration", d2.document())
		e2 := externalEvent(t, d2)
		e2.ResourceProperties[datastoreprops.PropTokenEndpoint] = proxy + "/token"
		require.ErrorContains(t, withDiscovery(t, d2).run(e2).err, "token_endpoint is")
	})

	t.Run("with verify-issuer, another issuer or JWKS URL still fails the Create", func(t *testing.T) {
		for field, prop := range map[string]string{"issuer": datastoreprops.PropIssuer, "jwks_uri": datastoreprops.PropJwksUri} {
			d := newDiscoveryServer(t)
			doc := d.document()
			doc[field] = d.URL + "/realms/other"
			d.serve("/.well-known/openid-configuration", doc)
			x := withDiscovery(t, d)
			e := externalEvent(t, d)
			e.ResourceProperties[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoveryVerifyIssuer)

			o := x.run(e)
			require.ErrorContains(t, o.err, field+` is "`+d.URL+`/realms/other" there but`, prop)
			assert.Empty(t, x.fake.Requests("CreateFHIRDatastore"))
		}
	})

	t.Run("with verify-issuer, a server that serves no document still fails the deployment", func(t *testing.T) {
		d := newDiscoveryServer(t)
		e := externalEvent(t, d)
		e.ResourceProperties[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoveryVerifyIssuer)
		require.ErrorContains(t, withDiscovery(t, d).run(e).err, "could not fetch the discovery document")
	})

	t.Run("an unknown DiscoveryCheck mode is refused naming the three", func(t *testing.T) {
		d := newDiscoveryServer(t)
		e := externalEvent(t, d)
		e.ResourceProperties[datastoreprops.PropDiscoveryCheck] = "verify-some"
		require.ErrorContains(t, withDiscovery(t, d).run(e).err, "must be verify, verify-issuer or skip")
	})

	t.Run("when the OpenID document is missing, the RFC 8414 metadata is used", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.serve("/.well-known/oauth-authorization-server", d.document())
		x := withDiscovery(t, d)

		require.NoError(t, x.run(externalEvent(t, d)).err)
		assert.Equal(t, []string{"/realms/smart/.well-known/openid-configuration", "/realms/smart/.well-known/oauth-authorization-server"}, d.requested())
	})

	t.Run("a configured discovery URL is the only one fetched", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.serve("/metadata", d.document())
		d.serve("/.well-known/openid-configuration", map[string]any{"issuer": "https://wrong.example.org"})
		x := withDiscovery(t, d)
		e := externalEvent(t, d)
		e.ResourceProperties[datastoreprops.PropDiscoveryUrl] = d.issuer() + "/metadata"

		require.NoError(t, x.run(e).err)
		assert.Equal(t, []string{"/realms/smart/metadata"}, d.requested())
	})

	t.Run("a server that serves no document fails the deployment naming the URLs tried and how to skip the check", func(t *testing.T) {
		d := newDiscoveryServer(t)
		x := withDiscovery(t, d)

		o := x.run(externalEvent(t, d))
		require.Error(t, o.err)
		msg := o.err.Error()
		assert.Contains(t, msg, d.issuer()+"/.well-known/openid-configuration: HTTP 404")
		assert.Contains(t, msg, d.issuer()+"/.well-known/oauth-authorization-server: HTTP 404")
		assert.Contains(t, msg, "set DiscoveryCheck to skip")
		assert.Contains(t, msg, "for an external server: external.skipDiscoveryCheck")
		assert.Contains(t, msg, "an Okta server this stack provisions is public", "the cdk.json key exists for external servers only")
		assert.Empty(t, x.fake.Requests("CreateFHIRDatastore"))
	})

	t.Run("an unreachable server fails the deployment", func(t *testing.T) {
		d := newDiscoveryServer(t)
		x := withDiscovery(t, d)
		e := externalEvent(t, d)
		d.Close()

		o := x.run(e)
		require.ErrorContains(t, o.err, "could not fetch the discovery document")
		assert.Empty(t, x.fake.Requests("CreateFHIRDatastore"))
	})

	t.Run("a document that is not JSON is not accepted", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<html>login</html>"))
		})
		x := withDiscovery(t, d)

		require.ErrorContains(t, x.run(externalEvent(t, d)).err, "not a JSON object")
	})

	t.Run("a redirect to another host is not followed", func(t *testing.T) {
		d := newDiscoveryServer(t)
		other := newDiscoveryServer(t)
		// The other host serves a document that would match: following the
		// redirect would let any host vouch for this issuer.
		doc := d.document()
		other.docs["/elsewhere"] = doc
		d.redirect = other.URL + "/elsewhere"
		x := withDiscovery(t, d)

		o := x.run(externalEvent(t, d))
		require.ErrorContains(t, o.err, "redirected to another host")
		assert.Empty(t, other.requested())
	})

	t.Run("a redirect on the same host is followed", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
				http.Redirect(w, r, "/realms/smart/metadata.json", http.StatusMovedPermanently)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(d.document())
		})
		x := withDiscovery(t, d)

		require.NoError(t, x.run(externalEvent(t, d)).err)
	})

	t.Run("a redirect from https to http is not followed", func(t *testing.T) {
		d := newDiscoveryServer(t)
		plain := httptest.NewServer(http.NotFoundHandler())
		t.Cleanup(plain.Close)
		d.redirect = plain.URL + "/x"
		x := withDiscovery(t, d)

		require.ErrorContains(t, x.run(externalEvent(t, d)).err, "which is not https")
	})

	t.Run("a server that does not answer fails the deployment once the fetch's time is up", func(t *testing.T) {
		d := newDiscoveryServer(t)
		release := make(chan struct{})
		d.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		t.Cleanup(func() { close(release) })
		x := withDiscovery(t, d)
		x.h.discoveryTimeout = 50 * time.Millisecond

		start := time.Now()
		o := x.run(externalEvent(t, d))
		require.ErrorContains(t, o.err, "could not fetch the discovery document")
		assert.Less(t, time.Since(start), 5*time.Second, "each of the two fetches ends at its timeout")
		assert.Contains(t, o.err.Error(), "context deadline exceeded")
	})

	t.Run("a document larger than 1 MiB is not read", func(t *testing.T) {
		d := newDiscoveryServer(t)
		d.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"issuer": "`))
			_, _ = w.Write(bytes.Repeat([]byte("x"), maxDiscoveryBody))
			_, _ = w.Write([]byte(`"}`))
		})
		x := withDiscovery(t, d)

		require.ErrorContains(t, x.run(externalEvent(t, d)).err, "document larger than 1048576 bytes")
	})

	t.Run("a check asked to skip fetches nothing and says so", func(t *testing.T) {
		d := newDiscoveryServer(t)
		x := withDiscovery(t, d)
		e := externalEvent(t, d)
		e.ResourceProperties[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoverySkip)

		require.NoError(t, x.run(e).err)
		assert.Empty(t, d.requested())
		assert.Contains(t, x.logs.String(), "discovery check skipped as configured")
	})

	t.Run("an unknown check mode is a property error", func(t *testing.T) {
		d := newDiscoveryServer(t)
		x := withDiscovery(t, d)
		e := externalEvent(t, d)
		e.ResourceProperties[datastoreprops.PropDiscoveryCheck] = "maybe"

		require.ErrorContains(t, x.run(e).err, "DiscoveryCheck")
		assert.Empty(t, d.requested())
	})

	t.Run("a discovery URL over http is a property error", func(t *testing.T) {
		d := newDiscoveryServer(t)
		x := withDiscovery(t, d)
		e := externalEvent(t, d)
		e.ResourceProperties[datastoreprops.PropDiscoveryUrl] = "http://idp.example.org/metadata"

		require.ErrorContains(t, x.run(e).err, "DiscoveryUrl")
		assert.Empty(t, d.requested())
	})
}
