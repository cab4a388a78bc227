package fakeokta

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Group is an Okta group as the fake stores it.
type Group struct {
	ID      string `json:"id"`
	Type    string `json:"type"` // BUILT_IN (Everyone), OKTA_GROUP
	Profile struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"profile"`
	Created time.Time `json:"created"`
}

// Assignment is one group assigned to an app.
type Assignment struct {
	GroupID     string    `json:"id"`
	Priority    int64     `json:"priority"`
	LastUpdated time.Time `json:"lastUpdated"`
}

// EveryoneGroupID is the id of the org's built-in Everyone group (every fake
// has one, as every Okta org does).
func (s *Server) EveryoneGroupID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.groups[0].ID
}

// AddGroup creates an OKTA_GROUP directly (not recorded) and returns its id.
func (s *Server) AddGroup(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &Group{ID: s.newID("00g"), Type: "OKTA_GROUP", Created: s.now().UTC()}
	g.Profile.Name = name
	s.groups = append(s.groups, g)
	return g.ID
}

// AppGroups lists the ids of the groups assigned to an app, in assignment
// order. Okta signs a user in to an app only when the user is assigned to it
// (directly or through one of these groups); otherwise sign-in fails with
// user_not_assigned, whatever the policy rules say.
func (s *Server) AppGroups(appID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, a := range s.assignments[appID] {
		out = append(out, a.GroupID)
	}
	return out
}

// AssignGroup assigns a group to an app directly (not recorded), as an admin
// would in the console.
func (s *Server) AssignGroup(appID, groupID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.assignments[appID] = append(s.assignments[appID], &Assignment{GroupID: groupID, LastUpdated: s.now().UTC()})
}

func (s *Server) group(id string) *Group {
	for _, g := range s.groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (s *Server) routeGroups(r *http.Request, segs []string) (int, any, []string, *apiError) {
	if len(segs) == 0 && r.Method == http.MethodGet {
		filter := r.URL.Query().Get("filter")
		q := strings.ToLower(r.URL.Query().Get("q"))
		var match func(*Group) bool
		switch {
		case filter == "":
			match = func(*Group) bool { return true }
		case strings.HasPrefix(filter, "type eq "):
			want := strings.Trim(strings.TrimPrefix(filter, "type eq "), `"`)
			match = func(g *Group) bool { return g.Type == want }
		default:
			return 0, nil, nil, invalid("filter", "Invalid filter expression")
		}
		var list []*Group
		for _, g := range s.groups {
			if match(g) && (q == "" || strings.HasPrefix(strings.ToLower(g.Profile.Name), q)) {
				list = append(list, g)
			}
		}
		page, links, err := paginate(s, r, list, func(g *Group) string { return g.ID })
		return 200, page, links, err
	}
	if len(segs) == 1 && r.Method == http.MethodGet {
		if g := s.group(segs[0]); g != nil {
			return 200, g, nil, nil
		}
		return 0, nil, nil, notFound(segs[0], "UserGroup")
	}
	return 0, nil, nil, methodNotAllowed()
}

// routeAppGroups serves /api/v1/apps/{appId}/groups[/{groupId}]
// (listApplicationGroupAssignments, assignGroupToApplication (PUT, optional
// priority), unassignApplicationFromGroup in the management API spec).
func (s *Server) routeAppGroups(r *http.Request, a *App, segs []string, body any) (int, any, []string, *apiError) {
	list := s.assignments[a.ID]
	if len(segs) == 0 {
		if r.Method != http.MethodGet {
			return 0, nil, nil, methodNotAllowed()
		}
		page, links, err := paginate(s, r, list, func(x *Assignment) string { return x.GroupID })
		return 200, page, links, err
	}
	gid := segs[0]
	idx := slices.IndexFunc(list, func(x *Assignment) bool { return x.GroupID == gid })
	switch r.Method {
	case http.MethodGet:
		if idx < 0 {
			return 0, nil, nil, notFound(gid, "ApplicationGroupAssignment")
		}
		return 200, list[idx], nil, nil
	case http.MethodPut:
		// "EVERYONE" is a policy-rule keyword (the spec's policy rule
		// examples, people.groups.include), not a group id: the Everyone group
		// is a BUILT_IN group with an id like any other (listGroups examples).
		if s.group(gid) == nil {
			return 0, nil, nil, notFound(gid, "UserGroup")
		}
		var in struct {
			Priority *int64 `json:"priority"`
		}
		if err := decode(body, &in); err != nil {
			return 0, nil, nil, err
		}
		if idx < 0 {
			list = append(list, &Assignment{GroupID: gid})
			idx = len(list) - 1
			s.assignments[a.ID] = list
		}
		x := list[idx]
		if in.Priority != nil {
			x.Priority = *in.Priority
		}
		x.LastUpdated = s.now().UTC()
		return 200, x, nil, nil
	case http.MethodDelete:
		if idx < 0 {
			return 0, nil, nil, notFound(gid, "ApplicationGroupAssignment")
		}
		s.assignments[a.ID] = slices.Delete(list, idx, idx+1)
		return http.StatusNoContent, nil, nil, nil
	}
	return 0, nil, nil, methodNotAllowed()
}

// ---- the default user schema ----

// baseUserAttributes are the base profile attributes of Okta's default user
// schema; they cannot be added as custom attributes.
var baseUserAttributes = []string{"login", "firstName", "lastName", "middleName", "honorificPrefix", "honorificSuffix",
	"email", "title", "displayName", "nickName", "profileUrl", "secondEmail", "mobilePhone", "primaryPhone",
	"streetAddress", "city", "state", "zipCode", "countryCode", "postalAddress", "preferredLanguage", "locale",
	"timezone", "userType", "employeeNumber", "costCenter", "organization", "division", "department", "managerId", "manager"}

// UserAttribute is a custom attribute of the default user schema.
type UserAttribute struct {
	Title       string           `json:"title"`
	Description string           `json:"description,omitempty"`
	Type        string           `json:"type"`
	Mutability  string           `json:"mutability,omitempty"`
	Scope       string           `json:"scope,omitempty"`
	Master      map[string]any   `json:"master,omitempty"`
	Permissions []map[string]any `json:"permissions,omitempty"`
}

// CustomUserAttributes returns a copy of the custom attributes of the default
// user schema.
func (s *Server) CustomUserAttributes() map[string]UserAttribute {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]UserAttribute{}
	for k, v := range s.userSchema {
		out[k] = clone(*v)
	}
	return out
}

// AddCustomUserAttribute adds a custom string attribute directly (not
// recorded), as an admin would in the profile editor.
func (s *Server) AddCustomUserAttribute(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userSchema[name] = &UserAttribute{Title: name, Type: "string", Mutability: "READ_WRITE", Scope: "NONE"}
}

func (s *Server) userSchemaWire() map[string]any {
	base := map[string]any{}
	for _, n := range baseUserAttributes {
		base[n] = map[string]any{"title": n, "type": "string"}
	}
	custom := map[string]any{}
	for k, v := range s.userSchema {
		custom[k] = v
	}
	return map[string]any{
		"id":      s.URL + "/meta/schemas/user/default",
		"$schema": "http://json-schema.org/draft-04/schema#",
		"name":    "user", "title": "User", "type": "object",
		"definitions": map[string]any{
			"base":   map[string]any{"id": "#base", "type": "object", "properties": base, "required": []string{"login", "firstName", "lastName", "email"}},
			"custom": map[string]any{"id": "#custom", "type": "object", "properties": custom, "required": []string{}},
		},
	}
}

// routeSchemas serves /api/v1/meta/schemas/user/default: GET reads it
// (getUserSchema), POST adds or changes the custom properties it lists
// (updateUserProfile, a partial update), and a property sent as null is
// removed (developer docs, Schemas API, "Remove a property from the user
// profile schema": set it to null); base properties cannot be changed this way.
func (s *Server) routeSchemas(r *http.Request, segs []string, body any) (int, any, []string, *apiError) {
	if len(segs) != 3 || segs[0] != "schemas" || segs[1] != "user" {
		return 0, nil, nil, notFound(r.URL.Path, "Endpoint")
	}
	if segs[2] != "default" {
		return 0, nil, nil, notFound(segs[2], "UserSchema")
	}
	switch r.Method {
	case http.MethodGet:
		return 200, s.userSchemaWire(), nil, nil
	case http.MethodPost:
		if v, ok := lookup(body, "definitions", "base", "properties"); ok && v != nil {
			if m, _ := v.(map[string]any); len(m) > 0 {
				return 0, nil, nil, invalid("definitions.base", "Base attributes cannot be changed this way")
			}
		}
		props, _ := lookup(body, "definitions", "custom", "properties")
		m, _ := props.(map[string]any)
		changes := map[string]*UserAttribute{}
		for name, raw := range m {
			if raw == nil {
				changes[name] = nil
				continue
			}
			if slices.Contains(baseUserAttributes, name) {
				return 0, nil, nil, invalid("definitions.custom.properties."+name, "An attribute with this name already exists in the base schema")
			}
			var a UserAttribute
			if err := decode(raw, &a); err != nil {
				return 0, nil, nil, err
			}
			switch {
			case strings.TrimSpace(a.Title) == "":
				return 0, nil, nil, invalid("definitions.custom.properties."+name+".title", "The field cannot be left blank")
			case !slices.Contains([]string{"string", "boolean", "number", "integer", "array"}, a.Type):
				return 0, nil, nil, invalid("definitions.custom.properties."+name+".type", "must be string, boolean, number, integer or array")
			}
			changes[name] = &a
		}
		for name, a := range changes {
			if a == nil {
				delete(s.userSchema, name)
			} else {
				s.userSchema[name] = a
			}
		}
		return 200, s.userSchemaWire(), nil, nil
	}
	return 0, nil, nil, methodNotAllowed()
}
