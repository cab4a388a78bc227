package handler_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// Okta signs a user in to an app only when the user is assigned to it; the
// policy rule's groups (EVERYONE included) do not replace the assignment.
func TestUserFacingAppsAreAssignedTheUserGroups(t *testing.T) {
	t.Run("create assigns the built-in Everyone group for EVERYONE, to the confidential and public apps only", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		e.create()
		everyone := e.okta.EveryoneGroupID()
		apps := appsByKind(e.okta)
		assert.Equal(t, []string{everyone}, e.okta.AppGroups(apps["confidential"].ID))
		assert.Equal(t, []string{everyone}, e.okta.AppGroups(apps["public"].ID))
		assert.Empty(t, e.okta.AppGroups(apps["backend"].ID), "no user signs in to a backend service")
		assert.Empty(t, e.okta.AppGroups(apps["introspection"].ID))
		groupLists := e.okta.RequestsMatching("GET", "/api/v1/groups")
		require.Len(t, groupLists, 1, "the Everyone group is looked up once")
		assert.Equal(t, `type eq "BUILT_IN"`, groupLists[0].Query.Get("filter"))
		user, _ := e.onlyServer().Policy(oktaprops.UserFacingPolicyName)
		rule, _ := user.Rule(oktaprops.UserFacingRuleName)
		assert.Equal(t, []string{"EVERYONE"}, rule.Conditions.People.Groups.Include, "the rule keeps the keyword")
	})

	t.Run("update assigns new groups and unassigns the ones no longer listed, also ones added by hand", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		g1, g2, other := e.okta.AddGroup("clinicians"), e.okta.AddGroup("patients"), e.okta.AddGroup("added by hand")
		create := e.fullEvent()
		resp, err := e.run(create)
		require.NoError(t, err)
		conf := appsByKind(e.okta)["confidential"].ID
		e.okta.AssignGroup(conf, other)
		e.okta.ResetRequests()

		ev := updateEvent(create, resp.PhysicalResourceID, func(p map[string]any) { p["UserGroupIds"] = []any{g1, g2} })
		_, err = e.run(ev)
		require.NoError(t, err)
		apps := appsByKind(e.okta)
		assert.ElementsMatch(t, []string{g1, g2}, e.okta.AppGroups(apps["confidential"].ID))
		assert.ElementsMatch(t, []string{g1, g2}, e.okta.AppGroups(apps["public"].ID))
		assert.Empty(t, e.okta.RequestsMatching("GET", "/api/v1/groups"), "no EVERYONE, no lookup")

		e.okta.ResetRequests()
		ev2 := updateEvent(ev, resp.PhysicalResourceID, func(p map[string]any) { p["UserGroupIds"] = []any{g2} })
		ev2.OldResourceProperties = ev.ResourceProperties
		_, err = e.run(ev2)
		require.NoError(t, err)
		assert.Equal(t, []string{g2}, e.okta.AppGroups(apps["confidential"].ID))
		assert.Equal(t, []string{g2}, e.okta.AppGroups(apps["public"].ID))
		assert.Len(t, e.okta.RequestsMatching("DELETE", "/api/v1/apps/*/groups/*"), 2)

		e.okta.ResetRequests()
		again := updateEvent(ev2, resp.PhysicalResourceID, nil)
		again.OldResourceProperties = ev2.ResourceProperties
		_, err = e.run(again)
		require.NoError(t, err)
		assert.Empty(t, e.writes(), "assignments that are right are left alone")
	})

	t.Run("a group that does not exist fails the create, naming the group, and leaves nothing", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		ev := e.fullEvent()
		ev.ResourceProperties["UserGroupIds"] = []any{"00gNoSuchGroup000000"}
		_, err := e.run(ev)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "00gNoSuchGroup000000")
		assert.Empty(t, e.okta.AuthorizationServers())
		assert.Empty(t, e.okta.Apps())
	})
}

// The fhirUser and patient claims read user profile attributes: they must
// exist in the user schema, and once made they are never removed.
func TestClaimAttributesExistInTheUserSchema(t *testing.T) {
	t.Run("missing attributes are added as custom strings users cannot change, before the claims", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		resp := e.create()
		attrs := e.okta.CustomUserAttributes()
		for _, name := range []string{"fhirUser", "patientId"} {
			require.Contains(t, attrs, name)
			assert.Equal(t, "string", attrs[name].Type)
			assert.Equal(t, []map[string]any{{"principal": "SELF", "action": "READ_ONLY"}}, attrs[name].Permissions)
		}
		var schemaPost, firstClaim int = -1, -1
		for i, r := range e.okta.Requests() {
			if r.Method == "POST" && r.Path == "/api/v1/meta/schemas/user/default" {
				schemaPost = i
			}
			if r.Method == "POST" && fakeokta.PathMatches("/api/v1/authorizationServers/*/claims", r.Path) && firstClaim < 0 {
				firstClaim = i
			}
		}
		require.GreaterOrEqual(t, schemaPost, 0)
		assert.Less(t, schemaPost, firstClaim)

		t.Run("and never removed on delete: they may hold users' data", func(t *testing.T) {
			e.okta.ResetRequests()
			_, err := e.run(deleteEvent(e.fullEvent(), resp.PhysicalResourceID))
			require.NoError(t, err)
			assert.Empty(t, e.okta.AuthorizationServers())
			assert.Contains(t, e.okta.CustomUserAttributes(), "fhirUser")
			assert.Contains(t, e.okta.CustomUserAttributes(), "patientId")
			assert.Empty(t, e.okta.RequestsMatching("", "/api/v1/meta/**"))
		})
	})

	t.Run("attributes that exist (custom or base) are left alone", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		e.okta.AddCustomUserAttribute("fhirUser")
		ev := e.fullEvent()
		ev.ResourceProperties["PatientAttribute"] = "employeeNumber" // a base attribute
		_, err := e.run(ev)
		require.NoError(t, err)
		assert.Empty(t, e.okta.RequestsMatching("POST", "/api/v1/meta/schemas/user/default"))
		assert.Len(t, e.okta.RequestsMatching("GET", "/api/v1/meta/schemas/user/default"), 1)
		assert.Equal(t, "READ_WRITE", e.okta.CustomUserAttributes()["fhirUser"].Mutability, "not rewritten")
	})

	t.Run("an update that drops the patient claim removes no attribute", func(t *testing.T) {
		e := newEnv(t, fakeokta.Options{})
		create := e.fullEvent()
		resp, err := e.run(create)
		require.NoError(t, err)
		e.okta.ResetRequests()
		_, err = e.run(updateEvent(create, resp.PhysicalResourceID, func(p map[string]any) { p["PatientClaim"] = "false" }))
		require.NoError(t, err)
		assert.Contains(t, e.okta.CustomUserAttributes(), "patientId")
		assert.Empty(t, e.okta.RequestsMatching("POST", "/api/v1/meta/**"))
	})
}
