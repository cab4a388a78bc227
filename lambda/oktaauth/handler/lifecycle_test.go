package handler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/reconcile"
)

// Behind the CDK Provider framework the Delete that follows a failed Create
// never reaches the handler: cfn-response.js's safeHandler answers a failed
// Create with the physical id AWSCDK::CustomResourceProviderFramework::CREATE_FAILED
// and then answers that id's Delete itself. What a failed Create leaves in Okta
// stays there unless the Create removes it, or the next Create of the same
// resource does.

func TestACreateThatRunsOutOfTimeRemovesWhatItMadeBeforeTheDeadline(t *testing.T) {
	// Every Okta answer takes 25 ms; with 40 more claims a full create makes
	// some 95 calls, 2.4 s, more than the invocation's 2.1 s. The create must
	// stop 0.8 s before the deadline (among the claims, after the apps) and
	// remove what it made (about 11 calls, 0.3 s) in that time.
	e := newEnv(t, fakeokta.Options{Latency: 25 * time.Millisecond})
	e.h.CleanupReserve = 800 * time.Millisecond
	ev := e.fullEvent()
	var claims []string
	for i := range 40 {
		claims = append(claims, fmt.Sprintf(`{"name":"extra%02d","value":"user.extra%02d","scopes":["launch"]}`, i, i))
	}
	ev.ResourceProperties["ExtraClaims"] = "[" + strings.Join(claims, ",") + "]"
	ctx, cancel := context.WithTimeout(t.Context(), 2100*time.Millisecond)
	defer cancel()
	deadline, _ := ctx.Deadline()

	_, err := e.h.OnEvent(ctx, ev)
	returned := time.Now()

	require.Error(t, err)
	assert.Contains(t, err.Error(), "the create ran out of time: it stopped 800ms before the function's deadline to remove what it made")
	assert.True(t, returned.Before(deadline), "the failure is reported before the function's deadline (%s after it)", returned.Sub(deadline))
	assert.Len(t, e.okta.RequestsMatching("POST", "/api/v1/apps"), 4, "the create had made its apps when it stopped")
	assert.Empty(t, e.okta.AuthorizationServers(), "no server is left")
	assert.Empty(t, e.okta.Apps(), "no app is left")
	assert.Contains(t, e.logs.String(), `"msg":"removed everything the failed create made"`)
}

// crashDuring makes the next Create fail at the first request matching
// method and path, and makes its cleanup fail too, so that it leaves behind
// what it made, as a function killed at its timeout or out of memory would.
func crashDuring(e *env, method, path string) {
	e.okta.Faults.Add(fault.Rule{Op: method + " " + path, Kind: fault.Invalid})
	for _, p := range []string{"/api/v1/apps/*/lifecycle/deactivate", "/api/v1/authorizationServers/*/lifecycle/deactivate"} {
		e.okta.Faults.Add(fault.Rule{Op: "POST " + p, Times: 1000, Status: http.StatusServiceUnavailable})
	}
}

func TestTheNextCreateRecoversWhatACrashedCreateLeft(t *testing.T) {
	cases := []struct {
		name string
		// leave makes the leftovers; it may change the next create's event.
		leave func(t *testing.T, e *env, next *customresource.Event)
	}{
		{
			name: "a create that crashed among the scopes is run again as it was",
			leave: func(t *testing.T, e *env, next *customresource.Event) {
				crashDuring(e, "POST", "/api/v1/authorizationServers/*/scopes")
				_, err := e.run(*next)
				require.Error(t, err)
			},
		},
		{
			name: "a create that crashed after its apps is run again as it was",
			leave: func(t *testing.T, e *env, next *customresource.Event) {
				crashDuring(e, "POST", "/api/v1/authorizationServers/*/policies")
				_, err := e.run(*next)
				require.Error(t, err)
				require.Len(t, e.okta.Apps(), 4+2) // ours and the others'
			},
		},
		{
			name: "a create that crashed after its apps is run again under another name",
			leave: func(t *testing.T, e *env, next *customresource.Event) {
				crashDuring(e, "POST", "/api/v1/authorizationServers/*/policies")
				_, err := e.run(*next)
				require.Error(t, err)
				next.ResourceProperties = cloneProps(next.ResourceProperties)
				next.ResourceProperties["Name"] = "smart-healthlake-v2"
			},
		},
		{
			name: "the half-made server was deleted by hand, its apps left behind",
			leave: func(t *testing.T, e *env, next *customresource.Event) {
				crashDuring(e, "POST", "/api/v1/authorizationServers/*/policies")
				_, err := e.run(*next)
				require.Error(t, err)
				for _, as := range e.okta.AuthorizationServers() {
					if as.Name == "smart-healthlake" {
						e.okta.RemoveAuthorizationServer(as.ID)
					}
				}
			},
		},
		{
			name: "two half-made servers of the same name",
			leave: func(t *testing.T, e *env, next *customresource.Event) {
				own := reconcile.Owner{StackID: next.StackID, LogicalID: next.LogicalResourceID}
				for range 2 {
					e.okta.AddAuthorizationServer("smart-healthlake", own.Describe("SMART on FHIR for the HealthLake data store"), "api://half-made")
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{PageSize: 3})
			// Someone else's objects, which must come through untouched: a
			// server and an app of another stack, and an untagged app.
			other := reconcile.Owner{StackID: "arn:aws:cloudformation:us-east-1:123456789012:stack/other/1", LogicalID: "SmartAuthServer"}
			foreignServer := e.okta.AddAuthorizationServer("another-smart-server", other.Describe("x"), "api://other")
			foreignApps := []string{
				e.okta.AddApp("other stack's app", map[string]any{"managedBy": "smart-healthlake", "owner": other.Tag(),
					"authorizationServerId": foreignServer, "smartClient": "public"}),
				e.okta.AddApp("someone's app", nil),
			}
			next := e.fullEvent()
			tc.leave(t, e, &next)
			e.okta.Faults.Clear()

			resp, err := e.run(next)
			require.NoError(t, err, "no name clash: the leftovers carry this resource's marker")

			var ours []fakeokta.AuthorizationServer
			for _, as := range e.okta.AuthorizationServers() {
				if as.ID != foreignServer {
					ours = append(ours, as)
				}
			}
			require.Len(t, ours, 1, "exactly one server of this resource")
			as := ours[0]
			assert.Equal(t, as.ID, resp.PhysicalResourceID)
			assert.Equal(t, next.ResourceProperties["Name"], as.Name)
			assert.Len(t, as.Policies, 2)

			apps := map[string]fakeokta.App{}
			for _, a := range e.okta.Apps() {
				if a.Profile["owner"] != other.Tag() && a.Profile != nil {
					kind := a.Profile["smartClient"].(string)
					require.NotContains(t, apps, kind, "one app of each kind")
					apps[kind] = a
				}
			}
			require.Len(t, apps, 4)
			for kind, attr := range map[string]string{"confidential": oktaprops.AttrConfidentialClientID,
				"public": oktaprops.AttrPublicClientID, "backend": oktaprops.AttrBackendClientID, "introspection": oktaprops.AttrIntrospectionClientID} {
				assert.Equal(t, as.ID, apps[kind].Profile["authorizationServerId"], kind)
				assert.Equal(t, apps[kind].ID, resp.Data[attr], attr)
			}
			assert.Equal(t, apps["confidential"].ID, e.secretDoc()["confidentialClientId"])
			assert.Equal(t, apps["confidential"].Credentials.OauthClient.ClientSecret, e.secretDoc()["confidentialClientSecret"])
			assert.Equal(t, apps["introspection"].ID, e.introspectionDoc()["client_id"])

			_, ok := e.okta.AuthorizationServer(foreignServer)
			assert.True(t, ok, "another stack's server is never touched")
			for _, id := range foreignApps {
				_, ok := e.okta.App(id)
				assert.True(t, ok, "an app without this resource's tag is never touched")
			}
		})
	}
}

func TestAFailedUpdateAndItsRollbackKeepEveryClientID(t *testing.T) {
	cases := []struct {
		name    string
		removed string // the client kind the update removes
		edit    func(p map[string]any)
		fail    func(e *env)
	}{
		{
			name:    "the update removes the confidential client and the client-secret secret cannot be written",
			removed: "confidential",
			edit:    func(p map[string]any) { p["ConfidentialClient"] = "false" },
			fail:    func(e *env) { e.sm.Faults.Add(fault.Rule{Op: "PutSecretValue", Times: 3}) }, // every attempt of the SDK
		},
		{
			name:    "the update removes the confidential client and a resource type, and a scope removal fails",
			removed: "confidential",
			edit: func(p map[string]any) {
				p["ConfidentialClient"] = "false"
				p["ScopeResources"] = []any{"Patient"}
			},
			fail: func(e *env) {
				e.okta.Faults.Add(fault.Rule{Op: "DELETE /api/v1/authorizationServers/*/scopes/*", Kind: fault.Invalid})
			},
		},
		{
			name:    "the update removes the backend client and deactivates the server, which fails",
			removed: "backend",
			edit: func(p map[string]any) {
				p["BackendClient"] = "false"
				p["Active"] = "false"
			},
			fail: func(e *env) {
				e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/lifecycle/deactivate", Kind: fault.Denied})
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			create := e.fullEvent()
			resp := e.create()
			before := appsByKind(e.okta)
			require.Len(t, before, 4)

			update := updateEvent(create, resp.PhysicalResourceID, tc.edit)
			tc.fail(e)
			_, err := e.run(update)
			require.Error(t, err)
			e.okta.Faults.Clear()

			t.Run("the failed update kept the removed client, active, with its id", func(t *testing.T) {
				kept, ok := e.okta.App(before[tc.removed].ID)
				require.True(t, ok, "%s client deleted by an update that failed", tc.removed)
				assert.Equal(t, "ACTIVE", kept.Status)
			})

			// CloudFormation rolls back with an Update back to the old
			// properties, on the same physical id.
			e.okta.ResetRequests()
			rollback := updateEvent(update, resp.PhysicalResourceID, nil)
			rollback.ResourceProperties = create.ResourceProperties
			out, err := e.run(rollback)
			require.NoError(t, err)

			t.Run("the rollback creates no app and every client keeps its id", func(t *testing.T) {
				assert.Empty(t, e.okta.RequestsMatching("POST", "/api/v1/apps"))
				after := appsByKind(e.okta)
				require.Len(t, after, 4)
				for kind, a := range before {
					assert.Equal(t, a.ID, after[kind].ID, kind)
					assert.Equal(t, "ACTIVE", after[kind].Status, kind)
				}
				assert.Equal(t, before["confidential"].ID, out.Data[oktaprops.AttrConfidentialClientID])
				assert.Equal(t, before["backend"].ID, out.Data[oktaprops.AttrBackendClientID])
			})

			t.Run("the policies name the clients again and the secret holds the confidential client", func(t *testing.T) {
				as := e.onlyServer()
				assert.Equal(t, "ACTIVE", as.Status)
				user, _ := as.Policy(oktaprops.UserFacingPolicyName)
				assert.ElementsMatch(t, []string{before["confidential"].ID, before["public"].ID}, user.Conditions.Clients.Include)
				backend, ok := as.Policy(oktaprops.BackendPolicyName)
				require.True(t, ok)
				assert.Equal(t, []string{before["backend"].ID}, backend.Conditions.Clients.Include)
				assert.Equal(t, before["confidential"].ID, e.secretDoc()["confidentialClientId"])
				assert.Equal(t, before["confidential"].Credentials.OauthClient.ClientSecret, e.secretDoc()["confidentialClientSecret"])
			})
		})
	}
}

// lossyTransport carries every request to the fake but, for the first n
// matching method and path, drops the answer and returns err instead: the
// connection was cut after Okta got the request, so Okta carried it out and the
// client never learns the new object's id.
type lossyTransport struct {
	method, path string
	err          error
	mu           sync.Mutex
	n            int
}

func (l *lossyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != l.method || req.URL.Path != l.path {
		return resp, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return resp, nil
	}
	l.n--
	_ = resp.Body.Close()
	return nil, l.err
}

func TestAFailedCreateRemovesWhatItMadeEvenWhenOktasAnswerWasLost(t *testing.T) {
	reset := errors.New("read tcp: connection reset by peer")
	cases := []struct {
		name  string
		lost  *lossyTransport
		fault *fault.Rule
		posts int // creates Okta carried out at the lost path
	}{
		{name: "the answer to the server's create is lost",
			lost: &lossyTransport{method: "POST", path: "/api/v1/authorizationServers", err: reset, n: 1}, posts: 1},
		{name: "the answer to an app's create is lost",
			lost: &lossyTransport{method: "POST", path: "/api/v1/apps", err: reset, n: 1}, posts: 1},
		// okta-sdk-golang v2 would send a create cut off by an EOF again
		// (doWithRetries); oktaclient stops it (RetryTransport, hideEOF).
		{name: "the answer to the server's create ends in EOF and the create is not sent again",
			lost: &lossyTransport{method: "POST", path: "/api/v1/authorizationServers", err: io.EOF, n: 1}, posts: 1},
		{name: "the answer to an app's create ends in EOF and the create is not sent again",
			lost: &lossyTransport{method: "POST", path: "/api/v1/apps", err: io.EOF, n: 1}, posts: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			e.h.Okta.Transport = tc.lost
			if tc.fault != nil {
				e.okta.Faults.Add(*tc.fault)
			}
			_, err := e.run(e.fullEvent())
			require.Error(t, err)
			assert.Len(t, e.okta.RequestsMatching("POST", tc.lost.path), tc.posts, "Okta carried the requests out")
			assert.Empty(t, e.okta.AuthorizationServers(), "no server is left")
			assert.Empty(t, e.okta.Apps(), "no app is left")
		})
	}
}

func TestAnUpdateRemovesNothingUntilEverythingElseSucceeded(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	clinicians := e.okta.AddGroup("clinicians")
	create := e.fullEvent()
	create.ResourceProperties["UserGroupIds"] = []any{"EVERYONE", clinicians}
	resp, err := e.run(create)
	require.NoError(t, err)
	e.okta.ResetRequests()

	// One update that adds, changes and removes a bit of everything.
	_, err = e.run(updateEvent(create, resp.PhysicalResourceID, func(p map[string]any) {
		p["ScopeResources"] = []any{"Patient", "Condition"} // scopes added and removed, rules changed
		p["PatientClaim"] = "false"                         // a claim removed
		p["ExtraClaims"] = `[{"name":"site","value":"user.site","scopes":["launch"]}]`
		p["UserGroupIds"] = []any{"EVERYONE"} // a group unassigned
		p["ConfidentialClient"] = "false"     // clients removed, with the backend policy
		p["BackendClient"] = "false"
		p["AccessTokenLifetimeMinutes"] = "30"
	}))
	require.NoError(t, err)

	// What each write removes ("" for a write that adds or changes).
	removes := func(w string) string {
		method, path, _ := cut(w)
		for _, x := range []struct{ method, pattern, what string }{
			{"DELETE", "/api/v1/apps/*/groups/*", "group assignment"},
			{"DELETE", "/api/v1/authorizationServers/*/claims/*", "claim"},
			{"DELETE", "/api/v1/authorizationServers/*/policies/*/rules/*", "rule"},
			{"DELETE", "/api/v1/authorizationServers/*/policies/*", "policy"},
			{"DELETE", "/api/v1/authorizationServers/*/scopes/*", "scope"},
			{"POST", "/api/v1/apps/*/lifecycle/deactivate", "app (deactivation)"},
			{"DELETE", "/api/v1/apps/*", "app"},
		} {
			if method == x.method && fakeokta.PathMatches(x.pattern, path) {
				return x.what
			}
		}
		require.NotEqual(t, "DELETE", method, "an unexpected removal: %s", w)
		return ""
	}
	writes := e.writes()
	first := slices.IndexFunc(writes, func(w string) bool { return removes(w) != "" })
	require.Positive(t, first, "writes: %v", writes)
	var order []string
	for _, w := range writes[first:] {
		what := removes(w)
		require.NotEmpty(t, what, "%s comes after a removal: %v", w, writes)
		if len(order) == 0 || order[len(order)-1] != what {
			order = append(order, what)
		}
	}
	assert.Equal(t, []string{
		"group assignment",   // the unassigned group
		"claim",              // the removed claim, before the scopes claims may name
		"policy",             // the backend policy (its rule goes with it)
		"scope",              // the removed resource type's scopes
		"app (deactivation)", // the removed clients, last of all
		"app",
		"app (deactivation)",
		"app",
	}, order)
}

func TestTheRollbackOfAMoveToAnotherOrgTakesTheOriginalServerBack(t *testing.T) {
	for _, fails := range []bool{false, true} {
		name := "the original server and its clients serve again, with their ids"
		if fails {
			name = "a rollback that fails never deletes the original server or its clients"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			create := e.fullEvent()
			resp := e.create()
			before := appsByKind(e.okta)
			other := fakeokta.New(t, fakeokta.Options{})
			move := updateEvent(create, resp.PhysicalResourceID, func(p map[string]any) { p["OktaOrgUrl"] = other.URL })
			moved, err := e.run(move)
			require.NoError(t, err)

			// Another resource of the stack fails: CloudFormation rolls back
			// with the old properties on the new physical id.
			rollback := updateEvent(move, moved.PhysicalResourceID, nil)
			rollback.ResourceProperties = create.ResourceProperties
			if fails {
				e.sm.Faults.Add(fault.Rule{Op: "PutSecretValue", Times: 3}) // every attempt of the SDK
			}
			out, err := e.run(rollback)
			if fails {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, resp.PhysicalResourceID, out.PhysicalResourceID, "the original server's id")
			}
			as := e.onlyServer()
			assert.Equal(t, resp.PhysicalResourceID, as.ID)
			after := appsByKind(e.okta)
			require.Len(t, after, 4)
			for kind, a := range before {
				assert.Equal(t, a.ID, after[kind].ID, kind)
			}
		})
	}
}

// The usual crash is a first deployment that times out: its stack ends
// ROLLBACK_COMPLETE, must be deleted, and the redeploy is a new stack (a new
// stack id, so a new owner) that cannot take the leftover over.
func TestARedeployAfterAFailedFirstDeploymentNamesTheLeftover(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	first := e.fullEvent()
	crashDuring(e, "POST", "/api/v1/authorizationServers/*/policies")
	_, err := e.run(first)
	require.Error(t, err)
	e.okta.Faults.Clear()
	var leftover string
	for _, as := range e.okta.AuthorizationServers() {
		leftover = as.ID
	}
	require.NotEmpty(t, leftover)

	redeploy := e.fullEvent()
	redeploy.StackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/smart-healthlake/9a0b7c10-7f01-11ef-8c3e-0a8c3f5e1d88"
	redeploy.RequestID = "a-new-request"
	_, err = e.run(redeploy)
	var clash *reconcile.NameClashError
	require.True(t, errors.As(err, &clash), "got %v", err)
	assert.Equal(t, leftover, clash.ExistingID)
	require.NotNil(t, clash.Leftover)
	assert.Len(t, clash.Leftover.AppIDs, 4, "the crashed create's apps are named for deletion")
	assert.Contains(t, err.Error(), "leftover of a failed earlier deployment of this stack")
	assert.Contains(t, err.Error(), "deactivate "+leftover+", then delete it")
}
