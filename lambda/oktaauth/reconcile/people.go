package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// assignedKinds are the apps users sign in to: Okta refuses sign-in
// (user_not_assigned) to users not assigned to the app, whatever the policy
// rule's groups say.
var assignedKinds = []oktaprops.ClientKind{oktaprops.ConfidentialClient, oktaprops.PublicClient}

// ---- app group assignments ----

// convergeAssignments makes the group assignments of the user-facing apps
// exactly the spec's UserGroupIDs. The apps are this resource's, so every group
// assignment on them is too: groups no longer listed are unassigned, at the end
// of the run with the other removals (removeStale).
func (r *Reconciler) convergeAssignments(ctx context.Context, x *run) error {
	var want []string
	for _, kind := range assignedKinds {
		app, ok := x.apps[kind]
		if !ok {
			continue
		}
		if want == nil {
			var err error
			if want, err = r.groupIDs(ctx, x.spec.UserGroupIDs); err != nil {
				return err
			}
		}
		if err := r.convergeGroups(ctx, x, string(kind)+" client", app.Id, want, false); err != nil {
			return err
		}
	}
	return nil
}

// convergeGroups assigns the app appID exactly the groups want (ids), what
// naming it in errors and logs; unassignments wait for removeStale. fresh
// says the app was made in this run: it has no assignments to list.
func (r *Reconciler) convergeGroups(ctx context.Context, x *run, what, appID string, want []string, fresh bool) error {
	var current []*okta.ApplicationGroupAssignment
	if !fresh {
		first, resp, err := r.Okta.Application.ListApplicationGroupAssignments(ctx, appID, query.NewQueryParams(query.WithLimit(200)))
		if current, err = collect(ctx, first, resp, err); err != nil {
			return fmt.Errorf("listing the group assignments of %s %s: %w", what, appID, err)
		}
	}
	have := map[string]bool{}
	for _, a := range current {
		have[a.Id] = true
	}
	for _, g := range want {
		if have[g] {
			delete(have, g)
			continue
		}
		if _, _, err := r.Okta.Application.CreateApplicationGroupAssignment(ctx, appID, g, okta.ApplicationGroupAssignment{}); err != nil {
			return fmt.Errorf("assigning group %s to %s %s: %w", g, what, appID, err)
		}
		r.logChange(ctx, "assign", "appGroup", what, appID+"/"+g)
	}
	for _, a := range current {
		if have[a.Id] {
			x.staleAssignments = append(x.staleAssignments, staleAssignment{what: what, appID: appID, groupID: a.Id})
		}
	}
	return nil
}

// groupIDs resolves the EVERYONE keyword to the id of the org's built-in
// Everyone group (app assignments need a real group id) and drops duplicates.
func (r *Reconciler) groupIDs(ctx context.Context, groups []string) ([]string, error) {
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		if g == oktaprops.EveryoneGroup {
			id, err := r.everyoneGroupID(ctx)
			if err != nil {
				return nil, err
			}
			g = id
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

func (r *Reconciler) everyoneGroupID(ctx context.Context) (string, error) {
	if r.everyone != "" {
		return r.everyone, nil // one look-up per run, however many apps are assigned it
	}
	first, resp, err := r.Okta.Group.ListGroups(ctx, query.NewQueryParams(query.WithFilter(`type eq "BUILT_IN"`)))
	groups, err := collect(ctx, first, resp, err)
	if err != nil {
		return "", fmt.Errorf("finding the built-in Everyone group (for UserGroupIds EVERYONE): %w", err)
	}
	for _, g := range groups {
		if g.Type == "BUILT_IN" && g.Profile != nil && g.Profile.Name == "Everyone" {
			r.everyone = g.Id
			return g.Id, nil
		}
	}
	return "", fmt.Errorf("the Okta org has no built-in Everyone group (for UserGroupIds EVERYONE)")
}

// ---- user profile attributes ----

// convergeUserSchema makes sure the user profile attributes the claims read
// exist in the default user schema, adding missing ones as custom string
// attributes that users can read but not change (they decide which FHIR
// resources a token speaks for). Attributes are never changed or removed, on
// Update or Delete: they may hold users' data, and other apps may use them.
func (r *Reconciler) convergeUserSchema(ctx context.Context, x *run) error {
	if len(x.spec.UserAttributes) == 0 {
		return nil
	}
	schema, _, err := r.Okta.UserSchema.GetUserSchema(ctx, "default")
	if err != nil {
		return fmt.Errorf("reading the default user schema: %w", err)
	}
	exists := func(name string) bool {
		if d := schema.Definitions; d != nil {
			if d.Base != nil && d.Base.Properties[name] != nil {
				return true
			}
			if d.Custom != nil && d.Custom.Properties[name] != nil {
				return true
			}
		}
		return false
	}
	missing := map[string]*okta.UserSchemaAttribute{}
	for _, name := range x.spec.UserAttributes {
		if exists(name) {
			continue
		}
		missing[name] = &okta.UserSchemaAttribute{
			Title:       name,
			Description: "SMART on FHIR: read into tokens by authorization servers of smart-healthlake",
			Type:        "string",
			Mutability:  "READ_WRITE",
			Scope:       "NONE",
			Master:      &okta.UserSchemaAttributeMaster{Type: "PROFILE_MASTER"},
			Permissions: []*okta.UserSchemaAttributePermission{{Principal: "SELF", Action: "READ_ONLY"}},
		}
	}
	if len(missing) == 0 {
		return nil
	}
	// A partial schema: Okta adds the listed custom properties and leaves the
	// others as they are.
	body := okta.UserSchema{Definitions: &okta.UserSchemaDefinitions{Custom: &okta.UserSchemaPublic{
		Id: "#custom", Type: "object", Properties: missing}}}
	if _, _, err := r.Okta.UserSchema.UpdateUserProfile(ctx, "default", body); err != nil {
		return fmt.Errorf("adding user profile attributes %v to the default user schema: %w", slices.Sorted(maps.Keys(missing)), err)
	}
	for _, name := range slices.Sorted(maps.Keys(missing)) {
		r.logChange(ctx, "create", "userSchemaAttribute", name, "default")
	}
	return nil
}
