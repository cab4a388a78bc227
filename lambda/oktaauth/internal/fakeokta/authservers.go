package fakeokta

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// AuthorizationServer is a custom authorization server as the fake stores it
// (and, minus the nested collections, as it answers on the wire).
type AuthorizationServer struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Audiences   []string  `json:"audiences"`
	Issuer      string    `json:"issuer"`
	IssuerMode  string    `json:"issuerMode"`
	Status      string    `json:"status"`
	Created     time.Time `json:"created"`
	LastUpdated time.Time `json:"lastUpdated"`
	Scopes      []*Scope  `json:"-"`
	Claims      []*Claim  `json:"-"`
	Policies    []*Policy `json:"-"`
	credentials credential
}

type credential struct {
	Signing struct {
		RotationMode string `json:"rotationMode"`
		Kid          string `json:"kid"`
		Use          string `json:"use"`
	} `json:"signing"`
}

// Scope is an authorization server scope.
type Scope struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Description     string `json:"description,omitempty"`
	DisplayName     string `json:"displayName,omitempty"`
	Consent         string `json:"consent"`
	MetadataPublish string `json:"metadataPublish"`
	Default         bool   `json:"default"`
	System          bool   `json:"system"`
	Optional        bool   `json:"optional"`
}

// Claim is an authorization server claim.
type Claim struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	Status               string          `json:"status"`
	ClaimType            string          `json:"claimType"`
	ValueType            string          `json:"valueType"`
	Value                string          `json:"value"`
	AlwaysIncludeInToken bool            `json:"alwaysIncludeInToken"`
	System               bool            `json:"system"`
	GroupFilterType      string          `json:"group_filter_type,omitempty"`
	Conditions           ClaimConditions `json:"conditions"`
}

// ClaimConditions restrict a claim to tokens granted some scopes.
type ClaimConditions struct {
	Scopes []string `json:"scopes"`
}

// Policy is an OAUTH_AUTHORIZATION_POLICY.
type Policy struct {
	ID          string           `json:"id"`
	Type        string           `json:"type"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Status      string           `json:"status"`
	Priority    int64            `json:"priority"`
	System      bool             `json:"system"`
	Conditions  PolicyConditions `json:"conditions"`
	Created     time.Time        `json:"created"`
	LastUpdated time.Time        `json:"lastUpdated"`
	Rules       []*Rule          `json:"-"`
}

// PolicyConditions name the clients a policy applies to.
type PolicyConditions struct {
	Clients Include `json:"clients"`
}

// Include is Okta's {"include": [...]}.
type Include struct {
	Include []string `json:"include"`
}

// Rule is a RESOURCE_ACCESS policy rule.
type Rule struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Name        string         `json:"name"`
	Status      string         `json:"status"`
	Priority    int64          `json:"priority"`
	System      bool           `json:"system"`
	Conditions  RuleConditions `json:"conditions"`
	Actions     RuleActions    `json:"actions"`
	Created     time.Time      `json:"created"`
	LastUpdated time.Time      `json:"lastUpdated"`
}

// RuleConditions select the people, grant types and scopes a rule applies to.
type RuleConditions struct {
	People struct {
		Groups *Include `json:"groups,omitempty"`
		Users  *Include `json:"users,omitempty"`
	} `json:"people"`
	GrantTypes Include `json:"grantTypes"`
	Scopes     Include `json:"scopes"`
}

// RuleActions set token lifetimes and the optional token inline hook.
type RuleActions struct {
	Token struct {
		AccessTokenLifetimeMinutes  int64 `json:"accessTokenLifetimeMinutes"`
		RefreshTokenLifetimeMinutes int64 `json:"refreshTokenLifetimeMinutes"`
		RefreshTokenWindowMinutes   int64 `json:"refreshTokenWindowMinutes"`
		InlineHook                  *struct {
			ID string `json:"id"`
		} `json:"inlineHook,omitempty"`
	} `json:"token"`
}

// systemScopes are the scopes every custom authorization server has (developer
// docs, "OpenID Connect & OAuth 2.0 API" > Scopes; system: true in the
// listOAuth2Scopes examples): they cannot be changed or deleted.
var systemScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access", "device_sso"}

// Reserved claim names Okta refuses for custom claims, by the token they are
// reserved in: Okta support, "OIDC Bearer Tokens: List of Reserved Claims"
// (support.okta.com/help/s/article/list-of-reserved-claim-names), plus the
// RFC 7519 §4.1 registered claims and scp that Okta's tokens always carry.
var (
	reservedAccessTokenClaims = []string{"acr", "amr", "as_uri", "cid", "groups", "rpt", "rsi", "uid", "username"}
	reservedIDTokenClaims     = []string{"active", "aid", "aud", "app_id", "app_type", "at_hash", "auth_time",
		"client_id", "client_ip", "client_req_id", "client_type", "client_user_agent", "cnf", "c_hash",
		"device_compliance", "device_id", "device_known", "device_managed", "device_name", "device_trust", "did",
		"dst", "group", "hotk", "idp", "idp_iss", "mac_key", "may_act", "nonce", "oid", "okta_emailVerified",
		"okta_lastUpdated", "orig", "permissions", "purpose", "pwd_exp_days", "pwd_exp_time", "rid", "role", "scope",
		"scopes", "sid", "sub", "term", "user_ip"}
	reservedInBothTokens = []string{"iss", "jti", "token_type", "ver", "exp", "iat", "nbf", "scp"}
)

// reservedClaim reports whether Okta refuses a custom claim's name. The
// article gives the token each name is reserved in; which names Okta accepts
// in the other token it does not say, so the fake refuses them in both, except
// groups, which Okta's guide "Add a Groups claim for a Custom Authorization
// Server" uses in ID tokens.
func reservedClaim(name, claimType string) bool {
	if name == "groups" {
		return claimType == "RESOURCE"
	}
	return slices.Contains(reservedAccessTokenClaims, name) || slices.Contains(reservedIDTokenClaims, name) ||
		slices.Contains(reservedInBothTokens, name)
}

// ruleGrantTypes are the grant types a policy rule may include (management
// API spec, AuthorizationServerPolicyRuleConditions grantTypes).
var ruleGrantTypes = []string{"authorization_code", "implicit", "password", "client_credentials",
	"urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:token-exchange",
	"urn:ietf:params:oauth:grant-type:saml2-bearer", "interaction_code"}

// ---- test helpers ----

// AuthorizationServers returns a deep copy of every server with its scopes,
// claims, policies and rules.
func (s *Server) AuthorizationServers() []AuthorizationServer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]AuthorizationServer, 0, len(s.servers))
	for _, as := range s.servers {
		out = append(out, copyServer(as))
	}
	return out
}

// AuthorizationServer returns a deep copy of one server.
func (s *Server) AuthorizationServer(id string) (AuthorizationServer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	as := s.server(id)
	if as == nil {
		return AuthorizationServer{}, false
	}
	return copyServer(as), true
}

func copyServer(as *AuthorizationServer) AuthorizationServer {
	c := clone(*as)
	c.credentials = as.credentials
	c.Scopes = clone(as.Scopes)
	c.Claims = clone(as.Claims)
	c.Policies = clone(as.Policies)
	for i, p := range as.Policies {
		c.Policies[i].Rules = clone(p.Rules)
	}
	return c
}

// AddAuthorizationServer creates a server directly (not recorded as a request),
// as someone else in the org would have: for name-clash tests.
func (s *Server) AddAuthorizationServer(name, description, audience string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	as := s.newServer(name, description, []string{audience}, "ORG_URL")
	return as.ID
}

// AddClaim adds a custom claim to a server directly (not recorded as a
// request) and returns its id. It skips writeClaim's checks, reserved names
// included: it stands for a claim made before a name was refused, by this
// project's parser or by Okta, as an existing stack can have. It panics if
// the server does not exist.
func (s *Server) AddClaim(serverID string, c Claim) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	as := s.server(serverID)
	if as == nil {
		panic("fakeokta: AddClaim: no server " + serverID)
	}
	c.ID = s.newID("ocl")
	if c.Status == "" {
		c.Status = "ACTIVE"
	}
	if c.Conditions.Scopes == nil {
		c.Conditions.Scopes = []string{}
	}
	as.Claims = append(as.Claims, &c)
	return c.ID
}

// RemoveAuthorizationServer deletes a server behind the client's back, as an
// admin clicking in the console would.
func (s *Server) RemoveAuthorizationServer(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servers = slices.DeleteFunc(s.servers, func(as *AuthorizationServer) bool { return as.ID == id })
}

// Policy returns a copy of the named policy of a server, with its rules.
func (as AuthorizationServer) Policy(name string) (*Policy, bool) {
	for _, p := range as.Policies {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Scope returns the named scope.
func (as AuthorizationServer) Scope(name string) (*Scope, bool) {
	for _, sc := range as.Scopes {
		if sc.Name == name {
			return sc, true
		}
	}
	return nil, false
}

// Claim returns the claim with this name and type.
func (as AuthorizationServer) Claim(name, claimType string) (*Claim, bool) {
	for _, c := range as.Claims {
		if c.Name == name && c.ClaimType == claimType {
			return c, true
		}
	}
	return nil, false
}

// CustomScopeNames lists the names of the non-system scopes, in creation order.
func (as AuthorizationServer) CustomScopeNames() []string {
	var out []string
	for _, sc := range as.Scopes {
		if !sc.System {
			out = append(out, sc.Name)
		}
	}
	return out
}

// Rule returns the named rule.
func (p *Policy) Rule(name string) (*Rule, bool) {
	for _, r := range p.Rules {
		if r.Name == name {
			return r, true
		}
	}
	return nil, false
}

// ---- routing ----

func (s *Server) route(r *http.Request, body any) (int, any, []string, *apiError) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) < 3 || segs[0] != "api" || segs[1] != "v1" {
		return 0, nil, nil, &apiError{status: http.StatusNotFound, code: "E0000022", summary: "The endpoint does not support the provided HTTP method"}
	}
	switch segs[2] {
	case "authorizationServers":
		return s.routeServers(r, segs[3:], body)
	case "apps":
		return s.routeApps(r, segs[3:], body)
	case "groups":
		return s.routeGroups(r, segs[3:])
	case "meta":
		return s.routeSchemas(r, segs[3:], body)
	case "inlineHooks":
		return s.routeInlineHooks(r, segs[3:], body)
	}
	return 0, nil, nil, notFound(r.URL.Path, "Endpoint")
}

func methodNotAllowed() *apiError {
	return &apiError{status: http.StatusMethodNotAllowed, code: "E0000022", summary: "The endpoint does not support the provided HTTP method"}
}

func (s *Server) routeServers(r *http.Request, segs []string, body any) (int, any, []string, *apiError) {
	m := r.Method
	if len(segs) == 0 {
		switch m {
		case http.MethodGet:
			q := strings.ToLower(r.URL.Query().Get("q"))
			var list []*AuthorizationServer
			for _, as := range s.servers {
				if q == "" || strings.HasPrefix(strings.ToLower(as.Name), q) ||
					slices.ContainsFunc(as.Audiences, func(a string) bool { return strings.HasPrefix(strings.ToLower(a), q) }) {
					list = append(list, as)
				}
			}
			page, links, err := paginate(s, r, list, func(as *AuthorizationServer) string { return as.ID })
			if err != nil {
				return 0, nil, nil, err
			}
			out := make([]any, 0, len(page))
			for _, as := range page {
				out = append(out, s.serverWire(as))
			}
			return 200, out, links, nil
		case http.MethodPost:
			return s.createServer(body)
		}
		return 0, nil, nil, methodNotAllowed()
	}
	as := s.server(segs[0])
	if as == nil {
		return 0, nil, nil, notFound(segs[0], "AuthorizationServer")
	}
	if len(segs) == 1 {
		switch m {
		case http.MethodGet:
			return 200, s.serverWire(as), nil, nil
		case http.MethodPut:
			return s.updateServer(as, body)
		case http.MethodDelete:
			s.servers = slices.DeleteFunc(s.servers, func(x *AuthorizationServer) bool { return x == as })
			return http.StatusNoContent, nil, nil, nil
		}
		return 0, nil, nil, methodNotAllowed()
	}
	switch segs[1] {
	case "lifecycle":
		if m != http.MethodPost || len(segs) != 3 {
			return 0, nil, nil, methodNotAllowed()
		}
		return s.lifecycle(&as.Status, segs[2])
	case "scopes":
		return s.routeScopes(r, as, segs[2:], body)
	case "claims":
		return s.routeClaims(r, as, segs[2:], body)
	case "policies":
		return s.routePolicies(r, as, segs[2:], body)
	}
	return 0, nil, nil, notFound(r.URL.Path, "Endpoint")
}

func (s *Server) lifecycle(status *string, action string) (int, any, []string, *apiError) {
	switch action {
	case "activate":
		*status = "ACTIVE"
	case "deactivate":
		*status = "INACTIVE"
	default:
		return 0, nil, nil, notFound(action, "Lifecycle")
	}
	return http.StatusNoContent, nil, nil, nil
}

func (s *Server) server(id string) *AuthorizationServer {
	for _, as := range s.servers {
		if as.ID == id {
			return as
		}
	}
	return nil
}

func (s *Server) serverWire(as *AuthorizationServer) map[string]any {
	base := s.URL + "/api/v1/authorizationServers/" + as.ID
	wire := map[string]any{
		"id": as.ID, "name": as.Name, "description": as.Description, "audiences": as.Audiences,
		"issuer": as.Issuer, "status": as.Status,
		"created": as.Created, "lastUpdated": as.LastUpdated, "credentials": as.credentials,
		"_links": map[string]any{
			"self":     map[string]any{"href": base},
			"scopes":   map[string]any{"href": base + "/scopes"},
			"claims":   map[string]any{"href": base + "/claims"},
			"policies": map[string]any{"href": base + "/policies"},
			"metadata": []any{map[string]any{"href": as.Issuer + "/.well-known/oauth-authorization-server"}},
		},
	}
	// Management API spec, AuthorizationServer.issuerMode: "visible if you
	// have a custom URL domain configured or the Dynamic Issuer Mode feature
	// enabled".
	if s.opts.CustomDomain != "" || s.opts.DynamicIssuer {
		wire["issuerMode"] = as.IssuerMode
	}
	return wire
}

func (s *Server) newServer(name, description string, audiences []string, mode string) *AuthorizationServer {
	now := s.now().UTC()
	as := &AuthorizationServer{ID: s.newID("aus"), Name: name, Description: description, Audiences: audiences,
		IssuerMode: mode, Status: "ACTIVE", Created: now, LastUpdated: now}
	as.Issuer = s.issuer(as)
	as.credentials.Signing.RotationMode = "AUTO"
	as.credentials.Signing.Kid = s.newID("kid")
	as.credentials.Signing.Use = "sig"
	for _, n := range systemScopes {
		as.Scopes = append(as.Scopes, &Scope{ID: s.newID("scp"), Name: n, Description: "Okta system scope " + n,
			Consent: "IMPLICIT", MetadataPublish: "ALL_CLIENTS", System: true})
	}
	s.servers = append(s.servers, as)
	return as
}

func (s *Server) issuer(as *AuthorizationServer) string {
	if as.IssuerMode == "CUSTOM_URL" {
		return strings.TrimRight(s.opts.CustomDomain, "/") + "/oauth2/" + as.ID
	}
	return s.URL + "/oauth2/" + as.ID
}

type serverInput struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Audiences   []string `json:"audiences"`
	IssuerMode  string   `json:"issuerMode"`
}

// validateServer checks a server body (createAuthorizationServer /
// replaceAuthorizationServer): a name unique in the org and exactly one
// audience (developer docs, "Create an authorization server": Okta takes one
// audience), an issuerMode the org supports.
func (s *Server) validateServer(in *serverInput, self *AuthorizationServer) *apiError {
	if strings.TrimSpace(in.Name) == "" {
		return invalid("name", "The field cannot be left blank")
	}
	if len(in.Audiences) != 1 || strings.TrimSpace(in.Audiences[0]) == "" {
		return invalid("audiences", "An authorization server must have exactly one audience")
	}
	if in.IssuerMode == "" {
		in.IssuerMode = "ORG_URL"
	}
	switch in.IssuerMode {
	case "ORG_URL":
	case "DYNAMIC":
		// Management API spec, AuthorizationServer.issuerMode: DYNAMIC comes
		// with the Dynamic Issuer Mode feature.
		if !s.opts.DynamicIssuer {
			return invalid("issuerMode", "The Dynamic Issuer Mode feature is not enabled for this org")
		}
	case "CUSTOM_URL":
		if s.opts.CustomDomain == "" {
			return invalid("issuerMode", "A custom URL domain must be configured to use CUSTOM_URL")
		}
	default:
		return invalid("issuerMode", fmt.Sprintf("'%s' is not a valid issuer mode", in.IssuerMode))
	}
	for _, other := range s.servers {
		if other != self && other.Name == in.Name {
			return invalid("name", "An object with this field already exists in the current organization")
		}
	}
	return nil
}

func (s *Server) createServer(body any) (int, any, []string, *apiError) {
	var in serverInput
	if err := decode(body, &in); err != nil {
		return 0, nil, nil, err
	}
	if err := s.validateServer(&in, nil); err != nil {
		return 0, nil, nil, err
	}
	as := s.newServer(in.Name, in.Description, in.Audiences, in.IssuerMode)
	return http.StatusCreated, s.serverWire(as), nil, nil
}

func (s *Server) updateServer(as *AuthorizationServer, body any) (int, any, []string, *apiError) {
	var in serverInput
	if err := decode(body, &in); err != nil {
		return 0, nil, nil, err
	}
	if err := s.validateServer(&in, as); err != nil {
		return 0, nil, nil, err
	}
	as.Name, as.Description, as.Audiences, as.IssuerMode = in.Name, in.Description, in.Audiences, in.IssuerMode
	as.Issuer = s.issuer(as)
	as.LastUpdated = s.now().UTC()
	return 200, s.serverWire(as), nil, nil
}

// ---- scopes ----

func (s *Server) routeScopes(r *http.Request, as *AuthorizationServer, segs []string, body any) (int, any, []string, *apiError) {
	if len(segs) == 0 {
		switch r.Method {
		case http.MethodGet:
			q := r.URL.Query().Get("q")
			var list []*Scope
			for _, sc := range as.Scopes {
				if q == "" || strings.Contains(sc.Name, q) {
					list = append(list, sc)
				}
			}
			page, links, err := paginate(s, r, list, func(sc *Scope) string { return sc.ID })
			return 200, page, links, err
		case http.MethodPost:
			sc := &Scope{}
			if err := s.writeScope(as, sc, body); err != nil {
				return 0, nil, nil, err
			}
			sc.ID = s.newID("scp")
			as.Scopes = append(as.Scopes, sc)
			return http.StatusCreated, sc, nil, nil
		}
		return 0, nil, nil, methodNotAllowed()
	}
	idx := slices.IndexFunc(as.Scopes, func(sc *Scope) bool { return sc.ID == segs[0] })
	if idx < 0 || len(segs) > 1 {
		return 0, nil, nil, notFound(segs[0], "OAuth2Scope")
	}
	sc := as.Scopes[idx]
	switch r.Method {
	case http.MethodGet:
		return 200, sc, nil, nil
	case http.MethodPut:
		if sc.System {
			return 0, nil, nil, forbidden("E0000006", "System scopes cannot be modified")
		}
		if err := s.writeScope(as, sc, body); err != nil {
			return 0, nil, nil, err
		}
		return 200, sc, nil, nil
	case http.MethodDelete:
		if sc.System {
			return 0, nil, nil, forbidden("E0000006", "System scopes cannot be deleted")
		}
		// Okta refuses to delete a scope a claim or rule still uses. Not in
		// the spec (deleteOAuth2Scope lists 403/404 only): modelled strictly so
		// that the handler removes the claims and rules using a scope first.
		for _, c := range as.Claims {
			if slices.Contains(c.Conditions.Scopes, sc.Name) {
				return 0, nil, nil, invalid("scope", fmt.Sprintf("The scope %s is used by claim %s", sc.Name, c.Name))
			}
		}
		for _, p := range as.Policies {
			for _, rule := range p.Rules {
				if slices.Contains(rule.Conditions.Scopes.Include, sc.Name) {
					return 0, nil, nil, invalid("scope", fmt.Sprintf("The scope %s is used by rule %s", sc.Name, rule.Name))
				}
			}
		}
		as.Scopes = slices.Delete(as.Scopes, idx, idx+1)
		return http.StatusNoContent, nil, nil, nil
	}
	return 0, nil, nil, methodNotAllowed()
}

// writeScope validates a custom scope (createOAuth2Scope / replaceOAuth2Scope).
// Consent and metadataPublish enums and defaults (IMPLICIT, NO_CLIENTS) are the
// spec's OAuth2ScopeConsentType and OAuth2ScopeMetadataPublish; the name rules
// (no okta. prefix, no whitespace, quotes or backslashes, not both < and >,
// at most 1024 characters) are the Admin Console's validation messages, not in
// the spec (which says only "Scope name").
func (s *Server) writeScope(as *AuthorizationServer, sc *Scope, body any) *apiError {
	var in Scope
	if err := decode(body, &in); err != nil {
		return err
	}
	name := in.Name
	switch {
	case strings.TrimSpace(name) == "":
		return invalid("name", "The field cannot be left blank")
	case strings.ContainsAny(name, " \t\n\"\\"):
		return invalid("name", "Scope names cannot contain whitespace, quotes or backslashes")
	case strings.HasPrefix(name, "okta."):
		return invalid("name", "Scope names cannot start with okta.")
	case strings.Contains(name, "<") && strings.Contains(name, ">"):
		return invalid("name", "Scope names cannot contain both < and >")
	case len(name) > 1024:
		return invalid("name", "Scope names cannot be longer than 1024 characters")
	}
	if v, ok := lookup(body, "system"); ok && v == true {
		return invalid("system", "Custom scopes cannot be system scopes")
	}
	for _, other := range as.Scopes {
		if other != sc && other.Name == name {
			return invalid("name", "An object with this field already exists in the current organization")
		}
	}
	if in.Consent == "" {
		in.Consent = "IMPLICIT"
	}
	if !slices.Contains([]string{"IMPLICIT", "REQUIRED", "FLEXIBLE"}, in.Consent) {
		return invalid("consent", fmt.Sprintf("'%s' is not a valid consent type", in.Consent))
	}
	if in.MetadataPublish == "" {
		in.MetadataPublish = "NO_CLIENTS"
	}
	if !slices.Contains([]string{"ALL_CLIENTS", "NO_CLIENTS"}, in.MetadataPublish) {
		return invalid("metadataPublish", fmt.Sprintf("'%s' is not a valid value", in.MetadataPublish))
	}
	id := sc.ID
	*sc = in
	sc.ID, sc.System = id, false
	return nil
}

// ---- claims ----

func (s *Server) routeClaims(r *http.Request, as *AuthorizationServer, segs []string, body any) (int, any, []string, *apiError) {
	if len(segs) == 0 {
		switch r.Method {
		case http.MethodGet:
			page, links, err := paginate(s, r, as.Claims, func(c *Claim) string { return c.ID })
			return 200, page, links, err
		case http.MethodPost:
			c := &Claim{}
			if err := s.writeClaim(as, c, body); err != nil {
				return 0, nil, nil, err
			}
			c.ID = s.newID("ocl")
			as.Claims = append(as.Claims, c)
			return http.StatusCreated, c, nil, nil
		}
		return 0, nil, nil, methodNotAllowed()
	}
	idx := slices.IndexFunc(as.Claims, func(c *Claim) bool { return c.ID == segs[0] })
	if idx < 0 || len(segs) > 1 {
		return 0, nil, nil, notFound(segs[0], "OAuth2Claim")
	}
	c := as.Claims[idx]
	switch r.Method {
	case http.MethodGet:
		return 200, c, nil, nil
	case http.MethodPut:
		if err := s.writeClaim(as, c, body); err != nil {
			return 0, nil, nil, err
		}
		return 200, c, nil, nil
	case http.MethodDelete:
		as.Claims = slices.Delete(as.Claims, idx, idx+1)
		return http.StatusNoContent, nil, nil, nil
	}
	return 0, nil, nil, methodNotAllowed()
}

// writeClaim validates a custom claim (createOAuth2Claim / replaceOAuth2Claim):
// claimType RESOURCE or IDENTITY (OAuth2ClaimType), valueType OAuth2ClaimValueType,
// names unique per claim type (an ID-token and an access-token claim may share
// one), conditions naming existing scopes, reserved names refused.
func (s *Server) writeClaim(as *AuthorizationServer, c *Claim, body any) *apiError {
	var in Claim
	if err := decode(body, &in); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(in.Name) == "":
		return invalid("name", "The field cannot be left blank")
	case reservedClaim(in.Name, in.ClaimType):
		return invalid("name", fmt.Sprintf("'%s' is a reserved claim name", in.Name))
	case in.ClaimType != "RESOURCE" && in.ClaimType != "IDENTITY":
		return invalid("claimType", "must be RESOURCE or IDENTITY")
	case !slices.Contains([]string{"EXPRESSION", "GROUPS", "SYSTEM"}, in.ValueType):
		return invalid("valueType", "must be EXPRESSION, GROUPS or SYSTEM")
	case strings.TrimSpace(in.Value) == "":
		return invalid("value", "The field cannot be left blank")
	}
	if in.Status == "" {
		in.Status = "ACTIVE"
	}
	for _, name := range in.Conditions.Scopes {
		if !slices.ContainsFunc(as.Scopes, func(sc *Scope) bool { return sc.Name == name }) {
			return invalid("conditions.scopes", fmt.Sprintf("The scope %s does not exist", name))
		}
	}
	for _, other := range as.Claims {
		if other != c && other.Name == in.Name && other.ClaimType == in.ClaimType {
			return invalid("name", "An object with this field already exists in the current organization")
		}
	}
	if in.Conditions.Scopes == nil {
		in.Conditions.Scopes = []string{}
	}
	id := c.ID
	*c = in
	c.ID, c.System = id, false
	return nil
}

// ---- policies and rules ----

func (s *Server) routePolicies(r *http.Request, as *AuthorizationServer, segs []string, body any) (int, any, []string, *apiError) {
	now := s.now().UTC()
	if len(segs) == 0 {
		switch r.Method {
		case http.MethodGet:
			page, links, err := paginate(s, r, as.Policies, func(p *Policy) string { return p.ID })
			return 200, page, links, err
		case http.MethodPost:
			p := &Policy{Created: now}
			if err := s.writePolicy(as, p, body); err != nil {
				return 0, nil, nil, err
			}
			p.ID = s.newID("00p")
			as.Policies = place(as.Policies, p, p.Priority, policyPriority)
			return http.StatusCreated, p, nil, nil
		}
		return 0, nil, nil, methodNotAllowed()
	}
	pidx := slices.IndexFunc(as.Policies, func(p *Policy) bool { return p.ID == segs[0] })
	if pidx < 0 {
		return 0, nil, nil, notFound(segs[0], "AuthorizationServerPolicy")
	}
	p := as.Policies[pidx]
	if len(segs) == 1 {
		switch r.Method {
		case http.MethodGet:
			return 200, p, nil, nil
		case http.MethodPut:
			if err := s.writePolicy(as, p, body); err != nil {
				return 0, nil, nil, err
			}
			p.LastUpdated = now
			as.Policies = place(as.Policies, p, p.Priority, policyPriority)
			return 200, p, nil, nil
		case http.MethodDelete:
			as.Policies = place(slices.Delete(as.Policies, pidx, pidx+1), nil, 0, policyPriority)
			return http.StatusNoContent, nil, nil, nil
		}
		return 0, nil, nil, methodNotAllowed()
	}
	switch segs[1] {
	case "lifecycle":
		if r.Method != http.MethodPost || len(segs) != 3 {
			return 0, nil, nil, methodNotAllowed()
		}
		return s.lifecycle(&p.Status, segs[2])
	case "rules":
	default:
		return 0, nil, nil, notFound(r.URL.Path, "Endpoint")
	}
	segs = segs[2:]
	if len(segs) == 0 {
		switch r.Method {
		case http.MethodGet:
			page, links, err := paginate(s, r, p.Rules, func(x *Rule) string { return x.ID })
			return 200, page, links, err
		case http.MethodPost:
			rule := &Rule{Created: now}
			if err := s.writeRule(as, p, rule, body); err != nil {
				return 0, nil, nil, err
			}
			rule.ID = s.newID("0pr")
			p.Rules = place(p.Rules, rule, rule.Priority, rulePriority)
			return http.StatusCreated, rule, nil, nil
		}
		return 0, nil, nil, methodNotAllowed()
	}
	ridx := slices.IndexFunc(p.Rules, func(x *Rule) bool { return x.ID == segs[0] })
	if ridx < 0 {
		return 0, nil, nil, notFound(segs[0], "AuthorizationServerPolicyRule")
	}
	rule := p.Rules[ridx]
	if len(segs) == 3 && segs[1] == "lifecycle" && r.Method == http.MethodPost {
		return s.lifecycle(&rule.Status, segs[2])
	}
	if len(segs) != 1 {
		return 0, nil, nil, notFound(r.URL.Path, "Endpoint")
	}
	switch r.Method {
	case http.MethodGet:
		return 200, rule, nil, nil
	case http.MethodPut:
		if err := s.writeRule(as, p, rule, body); err != nil {
			return 0, nil, nil, err
		}
		rule.LastUpdated = now
		p.Rules = place(p.Rules, rule, rule.Priority, rulePriority)
		return 200, rule, nil, nil
	case http.MethodDelete:
		p.Rules = place(slices.Delete(p.Rules, ridx, ridx+1), nil, 0, rulePriority)
		return http.StatusNoContent, nil, nil, nil
	}
	return 0, nil, nil, methodNotAllowed()
}

// writePolicy validates an OAUTH_AUTHORIZATION_POLICY
// (createAuthorizationServerPolicy): the spec's AuthorizationServerPolicy,
// with clients to include (client ids or ALL_CLIENTS) and a name unique on the
// server; the priority defaults to last.
func (s *Server) writePolicy(as *AuthorizationServer, p *Policy, body any) *apiError {
	var in Policy
	if err := decode(body, &in); err != nil {
		return err
	}
	switch {
	case in.Type != "OAUTH_AUTHORIZATION_POLICY":
		return invalid("type", "must be OAUTH_AUTHORIZATION_POLICY")
	case strings.TrimSpace(in.Name) == "":
		return invalid("name", "The field cannot be left blank")
	case len(in.Conditions.Clients.Include) == 0:
		return invalid("conditions.clients", "A policy must apply to at least one client (or ALL_CLIENTS)")
	}
	for _, cid := range in.Conditions.Clients.Include {
		if cid == "ALL_CLIENTS" {
			continue
		}
		if s.app(cid) == nil {
			return invalid("conditions.clients.include", fmt.Sprintf("The client %s does not exist", cid))
		}
	}
	for _, other := range as.Policies {
		if other != p && other.Name == in.Name {
			return invalid("name", "An object with this field already exists in the current organization")
		}
	}
	if _, ok := lookup(body, "priority"); !ok {
		in.Priority = int64(len(as.Policies) + 1)
	}
	if in.Status == "" {
		in.Status = "ACTIVE"
	}
	in.ID, in.Created, in.LastUpdated, in.Rules = p.ID, p.Created, p.LastUpdated, p.Rules
	*p = in
	return nil
}

// writeRule validates a RESOURCE_ACCESS rule
// (createAuthorizationServerPolicyRule): grant types, scopes and people to
// include, a priority and every token lifetime sent, within the spec's ranges.
// okta-sdk-golang v2 marshals an unset lifetime as null
// (TokenAuthorizationServerPolicyRuleAction.MarshalJSON); that Okta refuses a
// null lifetime is an assumption the fake makes strictly.
func (s *Server) writeRule(as *AuthorizationServer, p *Policy, rule *Rule, body any) *apiError {
	var in Rule
	if err := decode(body, &in); err != nil {
		return err
	}
	switch {
	case in.Type != "RESOURCE_ACCESS":
		return invalid("type", "must be RESOURCE_ACCESS")
	case strings.TrimSpace(in.Name) == "":
		return invalid("name", "The field cannot be left blank")
	case len(in.Conditions.GrantTypes.Include) == 0:
		return invalid("conditions.grantTypes", "At least one grant type is required")
	case len(in.Conditions.Scopes.Include) == 0:
		return invalid("conditions.scopes", "At least one scope is required")
	case (in.Conditions.People.Groups == nil || len(in.Conditions.People.Groups.Include) == 0) &&
		(in.Conditions.People.Users == nil || len(in.Conditions.People.Users.Include) == 0):
		return invalid("conditions.people", "Specify groups or users")
	}
	if v, ok := lookup(body, "priority"); !ok || v == nil {
		return invalid("priority", "The field cannot be left blank")
	}
	for _, g := range in.Conditions.GrantTypes.Include {
		if !slices.Contains(ruleGrantTypes, g) {
			return invalid("conditions.grantTypes.include", fmt.Sprintf("'%s' is not a valid grant type", g))
		}
	}
	for _, name := range in.Conditions.Scopes.Include {
		if name != "*" && !slices.ContainsFunc(as.Scopes, func(sc *Scope) bool { return sc.Name == name }) {
			return invalid("conditions.scopes.include", fmt.Sprintf("The scope %s does not exist", name))
		}
	}
	for _, f := range []string{"accessTokenLifetimeMinutes", "refreshTokenLifetimeMinutes", "refreshTokenWindowMinutes"} {
		if v, ok := lookup(body, "actions", "token", f); !ok || v == nil {
			return invalid("actions.token."+f, "The field cannot be left blank")
		}
	}
	// Ranges: management API spec, TokenAuthorizationServerPolicyRuleAction
	// (access token 5 minutes to one day; refresh window 10 minutes to five
	// years); the orderings are the Admin Console's rule editor checks.
	t := in.Actions.Token
	switch {
	case t.AccessTokenLifetimeMinutes < 5 || t.AccessTokenLifetimeMinutes > 1440:
		return invalid("actions.token.accessTokenLifetimeMinutes", "must be between 5 and 1440")
	case t.RefreshTokenWindowMinutes < 10 || t.RefreshTokenWindowMinutes > 2628000:
		return invalid("actions.token.refreshTokenWindowMinutes", "must be between 10 minutes and 5 years")
	case t.RefreshTokenWindowMinutes < t.AccessTokenLifetimeMinutes:
		return invalid("actions.token.refreshTokenWindowMinutes", "must be at least the access token lifetime")
	case t.RefreshTokenLifetimeMinutes != 0 && t.RefreshTokenLifetimeMinutes < t.RefreshTokenWindowMinutes:
		return invalid("actions.token.refreshTokenLifetimeMinutes", "must be unlimited (0) or at least the refresh token window")
	}
	for _, other := range p.Rules {
		if other != rule && other.Name == in.Name {
			return invalid("name", "An object with this field already exists in the current organization")
		}
	}
	if h := t.InlineHook; h != nil && h.ID != "" {
		if err := s.checkRuleHook(h.ID); err != nil {
			return err
		}
	}
	if in.Status == "" {
		in.Status = "ACTIVE"
	}
	in.ID, in.Created, in.LastUpdated = rule.ID, rule.Created, rule.LastUpdated
	*rule = in
	return nil
}

func policyPriority(p *Policy) *int64 { return &p.Priority }
func rulePriority(r *Rule) *int64     { return &r.Priority }

// place puts x (nil: none) at priority want among list and numbers the list
// 1..n in order, as Okta numbers authorization server policies and rules: a
// priority already in use moves that item and those below it down by one
// ("automatic shifting", developer docs, "Policy and rule prioritization");
// a priority past the end is the last one (terraform-provider-okta#2305: a
// rule created with priority 99 alone in its policy is stored with 1); and a
// delete closes the gap. The guide documents the closing of gaps for the
// "v1" policies of /api/v1/policies; that authorization server policies and
// rules follow the same sequential model is this fake's assumption, the
// stricter one: a client that relied on other items keeping their numbers
// across a delete would be caught here. The list is kept in priority order,
// the order Okta lists them in.
func place[T comparable](list []T, x T, want int64, prio func(T) *int64) []T {
	var zero T
	if x != zero {
		list = slices.DeleteFunc(list, func(y T) bool { return y == x })
		i := int(min(max(want, 1), int64(len(list)+1))) - 1
		list = slices.Insert(list, i, x)
	}
	for i, y := range list {
		*prio(y) = int64(i + 1)
	}
	return list
}
