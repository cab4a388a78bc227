package handler_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

func TestDeleteRemovesEverythingThisResourceMade(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	resp := e.create()
	foreignApp := e.okta.AddApp("someone else's app", nil)
	foreignServer := e.okta.AddAuthorizationServer("someone else's server", "not ours", "api://x")
	e.okta.ResetRequests()

	out, err := e.run(deleteEvent(create, resp.PhysicalResourceID))
	require.NoError(t, err)
	assert.Equal(t, resp.PhysicalResourceID, out.PhysicalResourceID)

	servers := e.okta.AuthorizationServers()
	require.Len(t, servers, 1)
	assert.Equal(t, foreignServer, servers[0].ID)
	apps := e.okta.Apps()
	require.Len(t, apps, 1)
	assert.Equal(t, foreignApp, apps[0].ID)

	// Each app is deactivated before it is deleted (Okta refuses otherwise);
	// the server goes last, also deactivated first.
	writes := e.writes()
	require.Len(t, writes, 10)
	for i := 0; i < 8; i += 2 {
		assert.True(t, strings.HasSuffix(writes[i], "/lifecycle/deactivate"), writes[i])
		assert.True(t, strings.HasPrefix(writes[i+1], "DELETE /api/v1/apps/"), writes[i+1])
	}
	assert.Equal(t, "POST /api/v1/authorizationServers/"+resp.PhysicalResourceID+"/lifecycle/deactivate", writes[8])
	assert.Equal(t, "DELETE /api/v1/authorizationServers/"+resp.PhysicalResourceID, writes[9])

	t.Run("deleting again is done at once: 404 means gone", func(t *testing.T) {
		e.okta.ResetRequests()
		_, err := e.run(deleteEvent(create, resp.PhysicalResourceID))
		require.NoError(t, err)
		assert.Empty(t, e.writes())
		var notFound int
		for _, r := range e.okta.Requests() {
			if r.Status == http.StatusNotFound {
				notFound++
			}
		}
		assert.Equal(t, 1, notFound)
	})
}

func TestDeleteFinishesWhenPartsAreAlreadyGone(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	resp := e.create()
	// An app vanishes between the listing and its deactivation.
	e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/apps/*/lifecycle/deactivate", Kind: fault.NotFound})
	_, err := e.run(deleteEvent(create, resp.PhysicalResourceID))
	require.NoError(t, err)
	assert.Len(t, e.okta.Apps(), 1, "the app Okta called gone is skipped")
	assert.Empty(t, e.okta.AuthorizationServers())
}

func TestDeleteWithProperiesThatNoLongerParse(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	resp := e.create()
	ev := deleteEvent(create, resp.PhysicalResourceID)
	ev.ResourceProperties = cloneProps(ev.ResourceProperties)
	ev.ResourceProperties["ScopeFlavor"] = "v9"          // an old, now invalid shape
	ev.ResourceProperties["RemovedLongAgo"] = "whatever" // and an unknown property
	_, err := e.run(ev)
	require.NoError(t, err)
	assert.Empty(t, e.okta.AuthorizationServers())
	assert.Empty(t, e.okta.Apps())
	assert.Contains(t, e.logs.String(), `"msg":"ignoring unknown properties"`)
}

func TestCreateFailureHalfwayRemovesEverythingItMade(t *testing.T) {
	cases := []struct {
		name  string
		fault fault.Rule
		smErr bool
		want  string
	}{
		{"the 10th scope is refused", fault.Rule{Op: "POST /api/v1/authorizationServers/*/scopes", After: 9,
			Kind: fault.Invalid}, false, `creating scope "patient/Observation.rs"`},
		{"the third app is refused", fault.Rule{Op: "POST /api/v1/apps", After: 2,
			Kind: fault.Invalid}, false, `creating backend client "smart-healthlake backend service"`},
		{"a claim create fails on the server", fault.Rule{Op: "POST /api/v1/authorizationServers/*/claims", After: 1,
			Kind: fault.ServerError}, false, `creating RESOURCE claim "fhirUser"`},
		{"the second policy is refused", fault.Rule{Op: "POST /api/v1/authorizationServers/*/policies", After: 1,
			Kind: fault.Invalid}, false, `creating policy "SMART backend services"`},
		{"the last rule is refused", fault.Rule{Op: "POST /api/v1/authorizationServers/*/policies/*/rules", After: 1,
			Kind: fault.Invalid}, false, `creating rule "SMART client credentials"`},
		{"rate limited beyond the retries", fault.Rule{Op: "POST /api/v1/authorizationServers/*/claims", Times: 100,
			Kind: fault.Throttle}, false, `creating IDENTITY claim "fhirUser"`},
		{"the client secret cannot be written", fault.Rule{}, true, "writing client secrets"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fakeokta.Options{})
			if tc.smErr {
				e.sm.Faults.Add(fault.Rule{Op: "PutSecretValue", Times: 100})
			} else {
				e.okta.Faults.Add(tc.fault)
			}
			_, err := e.run(e.fullEvent())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, e.okta.AuthorizationServers(), "no orphan server")
			assert.Empty(t, e.okta.Apps(), "no orphan app")
			assert.Contains(t, e.logs.String(), `"msg":"removed everything the failed create made"`)
		})
	}
}

func TestDeleteAfterAPartialCreateWhoseCleanupFailedToo(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	// The create fails at the policies, and Okta is down for the cleanup's app
	// deletions as well.
	e.okta.Faults.Add(fault.Rule{Op: "POST /api/v1/authorizationServers/*/policies", Kind: fault.Invalid})
	e.okta.Faults.Add(fault.Rule{Op: "DELETE /api/v1/apps/*", Times: 1000, Status: http.StatusServiceUnavailable})
	_, err := e.run(create)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cleanup of authorization server")
	assert.Contains(t, err.Error(), "objects may remain in Okta")
	require.Len(t, e.okta.AuthorizationServers(), 1, "the server is kept so its apps can still be found")
	require.Len(t, e.okta.Apps(), 4)
	e.okta.Faults.Clear()

	// CloudFormation rolls back with a Delete. Behind the Provider framework
	// the physical id of a failed Create is a made-up marker, not a server id:
	// the leftovers are found by this resource's marker under its name.
	for _, physicalID := range []string{"AWSCDK::CustomResourceProviderFramework::CREATE_FAILED", create.RequestID} {
		_, err = e.run(deleteEvent(create, physicalID))
		require.NoError(t, err)
		assert.Empty(t, e.okta.AuthorizationServers())
		assert.Empty(t, e.okta.Apps())
	}
}

func TestDeleteAfterAPartialCreateLeavesOthersAlone(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	e.okta.AddAuthorizationServer("smart-healthlake", "same name, not ours", "api://x")
	_, err := e.run(create) // the name clash: nothing made
	require.Error(t, err)
	_, err = e.run(deleteEvent(create, "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"))
	require.NoError(t, err)
	require.Len(t, e.okta.AuthorizationServers(), 1, "a server without this resource's marker is never deleted")
}

func TestDeleteOfACreateThatFailedOnItsProperties(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := e.fullEvent()
	delete(create.ResourceProperties, "OktaOrgUrl")
	_, err := e.run(create)
	require.Error(t, err)
	out, err := e.run(deleteEvent(create, create.RequestID))
	require.NoError(t, err)
	assert.Equal(t, customresource.OnEventResponse{PhysicalResourceID: create.RequestID}, out)
	assert.Empty(t, e.okta.Requests())
}
