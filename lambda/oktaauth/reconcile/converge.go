package reconcile

import (
	"context"
	"fmt"
	"slices"

	"github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// run is one convergence of a server with a spec.
type run struct {
	as    *okta.AuthorizationServer
	spec  *oktaprops.Spec
	owner Owner
	// serverIDs: apps tagged with any of these server ids are this resource's.
	// The first is the current server.
	serverIDs []string
	// writeClientSecret forces writing the client-secret secret (create, a new
	// secret ARN, a new issuer); writeIntrospectionSecret likewise the
	// introspection secret (create, a new secret ARN).
	writeClientSecret, writeIntrospectionSecret bool
	// journal, during a Create, records the apps and hooks made for the cleanup.
	journal *journal
	// hookID is the token hook the user-facing rule references (Spec.TokenHook).
	hookID string
	// old is the deployed spec on an Update (nil on a Create, or when the old
	// properties do not parse); issuerChanged tells the issuer moved. They
	// decide which app secrets are rewritten (writeAppSecrets).
	old           *oktaprops.Spec
	issuerChanged bool
	// owned are this owner's apps, listed once (convergeApps).
	owned []ownedApp
	// The registry apps (registry.go), by app name: client ids, clients, and
	// the secrets Okta returned for clients made in this run.
	appIDs     map[string]string
	regApps    map[string]*okta.OpenIdConnectApplication
	regSecrets map[string]string
	regMade    map[string]bool

	clientIDs      map[oktaprops.ClientKind]string
	apps           map[oktaprops.ClientKind]*okta.OpenIdConnectApplication
	createdSecrets map[oktaprops.ClientKind]string
	// secretsChanged marks the kinds whose credential changed in this run (made,
	// taken over, or removed), so their secret must be written.
	secretsChanged map[oktaprops.ClientKind]bool
	// What is no longer wanted, removed only at the very end (removeStale).
	staleApps        []ownedApp
	staleScopes      []*okta.OAuth2Scope
	staleClaims      []*okta.OAuth2Claim
	stalePolicies    []*okta.AuthorizationServerPolicy
	staleRules       []staleRule
	staleAssignments []staleAssignment
	staleHooks       []*okta.InlineHook
}

// staleRule is a rule no longer wanted in a policy that stays.
type staleRule struct {
	policyID, policyName string
	rule                 *okta.AuthorizationServerPolicyRule
}

// staleAssignment is a group no longer assigned to a user-facing app.
type staleAssignment struct {
	what           string // the app, for messages
	appID, groupID string
}

// converge makes the contents of r.as match the spec. Order matters: scopes
// before the claims and rules that name them, apps before the policies that name
// them, and every removal last (removeStale), after everything else succeeded,
// the secrets included. A run that fails before then has deleted nothing: the
// rollback Update CloudFormation sends next finds every client it restores
// still there and keeps its client_id and secret (an app deleted and made again
// gets new ones, and every application registered with the old ones breaks).
func (r *Reconciler) converge(ctx context.Context, x *run) (*Result, error) {
	x.clientIDs = map[oktaprops.ClientKind]string{}
	x.apps = map[oktaprops.ClientKind]*okta.OpenIdConnectApplication{}
	x.createdSecrets = map[oktaprops.ClientKind]string{}
	x.secretsChanged = map[oktaprops.ClientKind]bool{}
	steps := []func(context.Context, *run) error{
		r.convergeScopes,
		r.convergeApps,
		r.convergeRegistryApps,
		r.convergeAssignments,
		r.convergeRegistryAssignments,
		r.convergeUserSchema,
		r.convergeClaims,
		r.convergeHook,
		r.convergePolicies,
		r.convergeLifecycle,
		r.writeClientSecrets,
		r.writeAppSecrets,
		r.removeStale,
	}
	for _, step := range steps {
		if err := step(ctx, x); err != nil {
			return nil, err
		}
	}
	// The audience Okta has, which is the spec's unless the spec leaves it to an
	// audience binding.
	var audience string
	if len(x.as.Audiences) > 0 {
		audience = x.as.Audiences[0]
	}
	return &Result{ServerID: x.as.Id, Issuer: x.as.Issuer, Audience: audience, ClientIDs: x.clientIDs, AppClientIDs: x.appIDs}, nil
}

// ---- scopes ----

func (r *Reconciler) convergeScopes(ctx context.Context, x *run) error {
	asID := x.as.Id
	first, resp, err := r.Okta.AuthorizationServer.ListOAuth2Scopes(ctx, asID, nil)
	current, err := collect(ctx, first, resp, err)
	if err != nil {
		return fmt.Errorf("listing scopes of authorization server %s: %w", asID, err)
	}
	have := map[string]*okta.OAuth2Scope{}
	for _, sc := range current {
		if !isTrue(sc.System) {
			have[sc.Name] = sc
		}
	}
	for _, want := range x.spec.Scopes {
		body := scopeBody(want)
		got, ok := have[want.Name]
		delete(have, want.Name)
		switch {
		case !ok:
			created, _, err := r.Okta.AuthorizationServer.CreateOAuth2Scope(ctx, asID, body)
			if err != nil {
				return fmt.Errorf("creating scope %q on authorization server %s: %w", want.Name, asID, err)
			}
			r.logChange(ctx, "create", "scope", want.Name, created.Id)
		case !scopeEqual(got, body):
			if _, _, err := r.Okta.AuthorizationServer.UpdateOAuth2Scope(ctx, asID, got.Id, body); err != nil {
				return fmt.Errorf("updating scope %q (%s) on authorization server %s: %w", want.Name, got.Id, asID, err)
			}
			r.logChange(ctx, "update", "scope", want.Name, got.Id)
		}
	}
	for _, sc := range current {
		if _, stale := have[sc.Name]; stale && !isTrue(sc.System) {
			x.staleScopes = append(x.staleScopes, sc)
		}
	}
	return nil
}

func scopeBody(s oktaprops.Scope) okta.OAuth2Scope {
	return okta.OAuth2Scope{Name: s.Name, DisplayName: s.DisplayName, Description: s.Description,
		Consent: s.Consent, MetadataPublish: s.MetadataPublish, Default: boolPtr(false)}
}

func scopeEqual(a *okta.OAuth2Scope, b okta.OAuth2Scope) bool {
	return a.DisplayName == b.DisplayName && a.Description == b.Description && a.Consent == b.Consent &&
		a.MetadataPublish == b.MetadataPublish && isTrue(a.Default) == isTrue(b.Default)
}

// ---- claims ----

func (r *Reconciler) convergeClaims(ctx context.Context, x *run) error {
	asID := x.as.Id
	first, resp, err := r.Okta.AuthorizationServer.ListOAuth2Claims(ctx, asID)
	current, err := collect(ctx, first, resp, err)
	if err != nil {
		return fmt.Errorf("listing claims of authorization server %s: %w", asID, err)
	}
	key := func(name, claimType string) string { return claimType + " " + name }
	have := map[string]*okta.OAuth2Claim{}
	for _, c := range current {
		if !isTrue(c.System) {
			have[key(c.Name, c.ClaimType)] = c
		}
	}
	for _, want := range x.spec.Claims {
		k := key(want.Name, want.ClaimType)
		body := claimBody(want)
		got, ok := have[k]
		delete(have, k)
		switch {
		case !ok:
			created, _, err := r.Okta.AuthorizationServer.CreateOAuth2Claim(ctx, asID, body)
			if err != nil {
				return fmt.Errorf("creating %s claim %q on authorization server %s: %w", want.ClaimType, want.Name, asID, err)
			}
			r.logChange(ctx, "create", "claim", k, created.Id)
		case !claimEqual(got, body):
			if _, _, err := r.Okta.AuthorizationServer.UpdateOAuth2Claim(ctx, asID, got.Id, body); err != nil {
				return fmt.Errorf("updating %s claim %q (%s) on authorization server %s: %w", want.ClaimType, want.Name, got.Id, asID, err)
			}
			r.logChange(ctx, "update", "claim", k, got.Id)
		}
	}
	for _, c := range current {
		if _, stale := have[key(c.Name, c.ClaimType)]; stale && !isTrue(c.System) {
			x.staleClaims = append(x.staleClaims, c)
		}
	}
	return nil
}

func claimBody(c oktaprops.Claim) okta.OAuth2Claim {
	return okta.OAuth2Claim{Name: c.Name, ClaimType: c.ClaimType, ValueType: c.ValueType, Value: c.Value,
		GroupFilterType: c.GroupFilterType, Status: "ACTIVE", AlwaysIncludeInToken: boolPtr(c.AlwaysIncludeInToken),
		Conditions: &okta.OAuth2ClaimConditions{Scopes: slices.Clone(c.Scopes)}}
}

func claimEqual(a *okta.OAuth2Claim, b okta.OAuth2Claim) bool {
	var as []string
	if a.Conditions != nil {
		as = a.Conditions.Scopes
	}
	return a.ValueType == b.ValueType && a.Value == b.Value && a.GroupFilterType == b.GroupFilterType &&
		a.Status == b.Status && isTrue(a.AlwaysIncludeInToken) == isTrue(b.AlwaysIncludeInToken) &&
		sameSet(as, b.Conditions.Scopes)
}

// ---- policies and rules ----

func (r *Reconciler) convergePolicies(ctx context.Context, x *run) error {
	asID := x.as.Id
	first, resp, err := r.Okta.AuthorizationServer.ListAuthorizationServerPolicies(ctx, asID)
	current, err := collect(ctx, first, resp, err)
	if err != nil {
		return fmt.Errorf("listing policies of authorization server %s: %w", asID, err)
	}
	// The apps' own policies first: they come before the single-client
	// policies (registry.go).
	offset, created, err := r.convergeAppPolicies(ctx, x, current)
	if err != nil {
		return err
	}
	if created {
		// Okta moved the policies below the new ones: read their priorities again.
		first, resp, err := r.Okta.AuthorizationServer.ListAuthorizationServerPolicies(ctx, asID)
		if current, err = collect(ctx, first, resp, err); err != nil {
			return fmt.Errorf("listing policies of authorization server %s: %w", asID, err)
		}
	}
	have := map[string]*okta.AuthorizationServerPolicy{}
	for _, p := range current {
		if !isTrue(p.System) && !isAppPolicy(p) {
			have[p.Name] = p
		}
	}
	for _, want := range x.spec.Policies {
		want.Priority += offset // after the app policies
		body := policyBody(want, x.clientIDs)
		got, ok := have[want.Name]
		delete(have, want.Name)
		var policyID string
		switch {
		case !ok:
			created, _, err := r.Okta.AuthorizationServer.CreateAuthorizationServerPolicy(ctx, asID, body)
			if err != nil {
				return fmt.Errorf("creating policy %q on authorization server %s: %w", want.Name, asID, err)
			}
			policyID = created.Id
			r.logChange(ctx, "create", "policy", want.Name, policyID)
		default:
			policyID = got.Id
			if err := r.updatePolicy(ctx, asID, got, body, ""); err != nil {
				return err
			}
		}
		if err := r.convergeRules(ctx, x, policyID, want, !ok); err != nil {
			return err
		}
	}
	for _, p := range current {
		if _, stale := have[p.Name]; stale && !isTrue(p.System) && !isAppPolicy(p) {
			x.stalePolicies = append(x.stalePolicies, p)
		}
	}
	return nil
}

// updatePolicy replaces the existing policy got with body when they differ
// and activates it when it is inactive. of follows the policy's name in the
// update's error (" of app ..." for a registry app's policy).
func (r *Reconciler) updatePolicy(ctx context.Context, asID string, got *okta.AuthorizationServerPolicy, body okta.AuthorizationServerPolicy, of string) error {
	name, id := got.Name, got.Id
	if !policyEqual(got, body) {
		if _, _, err := r.Okta.AuthorizationServer.UpdateAuthorizationServerPolicy(ctx, asID, id, body); err != nil {
			return fmt.Errorf("updating policy %q (%s)%s on authorization server %s: %w", name, id, of, asID, err)
		}
		r.logChange(ctx, "update", "policy", name, id)
	}
	if got.Status == "INACTIVE" {
		if _, err := r.Okta.AuthorizationServer.ActivateAuthorizationServerPolicy(ctx, asID, id); err != nil {
			return fmt.Errorf("activating policy %q (%s) on authorization server %s: %w", name, id, asID, err)
		}
		r.logChange(ctx, "activate", "policy", name, id)
	}
	return nil
}

// convergeRules makes the rules of a policy the spec's; fresh says the policy
// was just made (it has no rules to list).
func (r *Reconciler) convergeRules(ctx context.Context, x *run, policyID string, policy oktaprops.Policy, fresh bool) error {
	asID := x.as.Id
	var current []*okta.AuthorizationServerPolicyRule
	if !fresh {
		first, resp, err := r.Okta.AuthorizationServer.ListAuthorizationServerPolicyRules(ctx, asID, policyID)
		if current, err = collect(ctx, first, resp, err); err != nil {
			return fmt.Errorf("listing rules of policy %q (%s) on authorization server %s: %w", policy.Name, policyID, asID, err)
		}
	}
	have := map[string]*okta.AuthorizationServerPolicyRule{}
	for _, rule := range current {
		if !isTrue(rule.System) {
			have[rule.Name] = rule
		}
	}
	for _, want := range policy.Rules {
		if want.ManagedTokenHook {
			want.InlineHookID = x.hookID
		}
		body := ruleBody(want)
		got, ok := have[want.Name]
		delete(have, want.Name)
		switch {
		case !ok:
			// Argument order (authServerId, policyId) is right from SDK v2.12.1 on.
			created, _, err := r.Okta.AuthorizationServer.CreateAuthorizationServerPolicyRule(ctx, asID, policyID, body)
			if err != nil {
				return fmt.Errorf("creating rule %q in policy %q on authorization server %s: %w", want.Name, policy.Name, asID, err)
			}
			r.logChange(ctx, "create", "rule", want.Name, created.Id)
		default:
			if !ruleEqual(got, body) {
				if _, _, err := r.Okta.AuthorizationServer.UpdateAuthorizationServerPolicyRule(ctx, asID, policyID, got.Id, body); err != nil {
					return fmt.Errorf("updating rule %q (%s) in policy %q on authorization server %s: %w", want.Name, got.Id, policy.Name, asID, err)
				}
				r.logChange(ctx, "update", "rule", want.Name, got.Id)
			}
			if got.Status == "INACTIVE" {
				if _, err := r.Okta.AuthorizationServer.ActivateAuthorizationServerPolicyRule(ctx, asID, policyID, got.Id); err != nil {
					return fmt.Errorf("activating rule %q (%s) in policy %q on authorization server %s: %w", want.Name, got.Id, policy.Name, asID, err)
				}
				r.logChange(ctx, "activate", "rule", want.Name, got.Id)
			}
		}
	}
	for _, rule := range current {
		if _, stale := have[rule.Name]; stale && !isTrue(rule.System) {
			x.staleRules = append(x.staleRules, staleRule{policyID: policyID, policyName: policy.Name, rule: rule})
		}
	}
	return nil
}

func policyBody(p oktaprops.Policy, clientIDs map[oktaprops.ClientKind]string) okta.AuthorizationServerPolicy {
	include := []string{"ALL_CLIENTS"}
	if !p.AllClients {
		include = nil
		for _, k := range p.ClientKinds {
			if id := clientIDs[k]; id != "" {
				include = append(include, id)
			}
		}
	}
	// PriorityPtr, not Priority: the SDK takes the body by value, so its
	// pointer-receiver MarshalJSON (which copies Priority into the pointer) never
	// runs and Priority alone would not be sent.
	return okta.AuthorizationServerPolicy{Name: p.Name, Description: p.Description, Type: "OAUTH_AUTHORIZATION_POLICY",
		PriorityPtr: int64Ptr(p.Priority), Conditions: &okta.PolicyRuleConditions{Clients: &okta.ClientPolicyCondition{Include: include}}}
}

func policyEqual(a *okta.AuthorizationServerPolicy, b okta.AuthorizationServerPolicy) bool {
	var clients []string
	if a.Conditions != nil && a.Conditions.Clients != nil {
		clients = a.Conditions.Clients.Include
	}
	return a.Description == b.Description && ptrValue(a.PriorityPtr) == ptrValue(b.PriorityPtr) &&
		sameSet(clients, b.Conditions.Clients.Include)
}

func ruleBody(rule oktaprops.Rule) okta.AuthorizationServerPolicyRule {
	token := &okta.TokenAuthorizationServerPolicyRuleAction{
		// Every lifetime through its ...Ptr field: an unset pointer is sent as
		// null, and 0 (unlimited refresh) must go out as 0.
		AccessTokenLifetimeMinutesPtr:  int64Ptr(rule.AccessTokenLifetimeMinutes),
		RefreshTokenLifetimeMinutesPtr: int64Ptr(rule.RefreshTokenLifetimeMinutes),
		RefreshTokenWindowMinutesPtr:   int64Ptr(rule.RefreshTokenWindowMinutes),
	}
	if rule.InlineHookID != "" {
		token.InlineHook = &okta.TokenAuthorizationServerPolicyRuleActionInlineHook{Id: rule.InlineHookID}
	}
	return okta.AuthorizationServerPolicyRule{
		Name: rule.Name, Type: "RESOURCE_ACCESS", PriorityPtr: int64Ptr(rule.Priority),
		Conditions: &okta.AuthorizationServerPolicyRuleConditions{
			People:     &okta.PolicyPeopleCondition{Groups: &okta.GroupCondition{Include: slices.Clone(rule.GroupIDs)}},
			GrantTypes: &okta.GrantTypePolicyRuleCondition{Include: slices.Clone(rule.GrantTypes)},
			Scopes:     &okta.OAuth2ScopesMediationPolicyRuleCondition{Include: slices.Clone(rule.Scopes)},
		},
		Actions: &okta.AuthorizationServerPolicyRuleActions{Token: token},
	}
}

func ruleEqual(a *okta.AuthorizationServerPolicyRule, b okta.AuthorizationServerPolicyRule) bool {
	if a.Conditions == nil || a.Actions == nil || a.Actions.Token == nil {
		return false
	}
	c := a.Conditions
	var groups, grants, scopes []string
	if c.People != nil && c.People.Groups != nil {
		groups = c.People.Groups.Include
	}
	if c.People != nil && c.People.Users != nil && len(c.People.Users.Include) > 0 {
		return false // users are never set by this resource
	}
	if c.GrantTypes != nil {
		grants = c.GrantTypes.Include
	}
	if c.Scopes != nil {
		scopes = c.Scopes.Include
	}
	at, bt := a.Actions.Token, b.Actions.Token
	hook := func(t *okta.TokenAuthorizationServerPolicyRuleAction) string {
		if t.InlineHook == nil {
			return ""
		}
		return t.InlineHook.Id
	}
	return ptrValue(a.PriorityPtr) == ptrValue(b.PriorityPtr) &&
		sameSet(groups, b.Conditions.People.Groups.Include) &&
		sameSet(grants, b.Conditions.GrantTypes.Include) &&
		sameSet(scopes, b.Conditions.Scopes.Include) &&
		ptrValue(at.AccessTokenLifetimeMinutesPtr) == ptrValue(bt.AccessTokenLifetimeMinutesPtr) &&
		ptrValue(at.RefreshTokenLifetimeMinutesPtr) == ptrValue(bt.RefreshTokenLifetimeMinutesPtr) &&
		ptrValue(at.RefreshTokenWindowMinutesPtr) == ptrValue(bt.RefreshTokenWindowMinutesPtr) &&
		hook(at) == hook(bt)
}

// ---- removals ----

// removeStale deletes what the spec no longer wants, once everything else has
// succeeded. Order: group assignments; claims, rules and policies, which may
// name the scopes that go next (Okta refuses to delete a scope in use); the
// token hooks, which no rule references any more; the scopes; the apps last of
// all, after the policies stopped naming them, so that a failure anywhere
// before leaves every client in place.
func (r *Reconciler) removeStale(ctx context.Context, x *run) error {
	asID := x.as.Id
	for _, a := range x.staleAssignments {
		resp, err := r.Okta.Application.DeleteApplicationGroupAssignment(ctx, a.appID, a.groupID)
		if err != nil && !isNotFound(resp, err) {
			return fmt.Errorf("unassigning group %s from %s %s: %w", a.groupID, a.what, a.appID, err)
		}
		r.logChange(ctx, "unassign", "appGroup", a.what, a.appID+"/"+a.groupID)
	}
	server := "authorization server " + asID
	for _, c := range x.staleClaims {
		if err := r.deleteStale(ctx, "claim", c.ClaimType+" "+c.Name, c.Id, server, func() (*okta.Response, error) {
			return r.Okta.AuthorizationServer.DeleteOAuth2Claim(ctx, asID, c.Id)
		}); err != nil {
			return err
		}
	}
	for _, s := range x.staleRules {
		if err := r.deleteStale(ctx, "rule", s.rule.Name, s.rule.Id, fmt.Sprintf("policy %q on %s", s.policyName, server), func() (*okta.Response, error) {
			return r.Okta.AuthorizationServer.DeleteAuthorizationServerPolicyRule(ctx, asID, s.policyID, s.rule.Id)
		}); err != nil {
			return err
		}
	}
	for _, p := range x.stalePolicies {
		// Deleting a policy deletes its rules.
		if err := r.deleteStale(ctx, "policy", p.Name, p.Id, server, func() (*okta.Response, error) {
			return r.Okta.AuthorizationServer.DeleteAuthorizationServerPolicy(ctx, asID, p.Id)
		}); err != nil {
			return err
		}
	}
	// After the rules: one may have referenced a hook until convergePolicies.
	for _, h := range x.staleHooks {
		if err := r.deleteHook(ctx, h); err != nil {
			return err
		}
	}
	for _, sc := range x.staleScopes {
		if err := r.deleteStale(ctx, "scope", sc.Name, sc.Id, server, func() (*okta.Response, error) {
			return r.Okta.AuthorizationServer.DeleteOAuth2Scope(ctx, asID, sc.Id)
		}); err != nil {
			return err
		}
	}
	for _, a := range x.staleApps {
		if err := r.deleteApp(ctx, a.id); err != nil {
			return err
		}
	}
	return nil
}

// deleteStale runs del, the deletion of one stale object, as every clean-up
// here does: a 404 is success (it is already gone), any other error is
// wrapped with what was being deleted from where, and the change is logged.
func (r *Reconciler) deleteStale(ctx context.Context, kind, name, id, from string, del func() (*okta.Response, error)) error {
	resp, err := del()
	if err != nil && !isNotFound(resp, err) {
		return fmt.Errorf("deleting %s %q (%s) from %s: %w", kind, name, id, from, err)
	}
	r.logChange(ctx, "delete", kind, name, id)
	return nil
}

// ---- server lifecycle ----

func (r *Reconciler) convergeLifecycle(ctx context.Context, x *run) error {
	id := x.as.Id
	switch {
	case x.spec.Server.Active && x.as.Status != "ACTIVE":
		if _, err := r.Okta.AuthorizationServer.ActivateAuthorizationServer(ctx, id); err != nil {
			return fmt.Errorf("activating authorization server %s: %w", id, err)
		}
		x.as.Status = "ACTIVE"
		r.logChange(ctx, "activate", "authorizationServer", x.as.Name, id)
	case !x.spec.Server.Active && x.as.Status != "INACTIVE":
		if _, err := r.Okta.AuthorizationServer.DeactivateAuthorizationServer(ctx, id); err != nil {
			return fmt.Errorf("deactivating authorization server %s: %w", id, err)
		}
		x.as.Status = "INACTIVE"
		r.logChange(ctx, "deactivate", "authorizationServer", x.as.Name, id)
	}
	return nil
}

// serverBody is the server the spec asks for. current is the server as Okta has
// it (nil before it exists): a spec without an audience keeps the current one,
// and a new server then gets oktaprops.PlaceholderAudience.
func serverBody(spec *oktaprops.Spec, owner Owner, current *okta.AuthorizationServer) okta.AuthorizationServer {
	audiences := []string{spec.Server.Audience}
	if spec.Server.Audience == "" {
		if current != nil && len(current.Audiences) > 0 {
			audiences = slices.Clone(current.Audiences)
		} else {
			audiences = []string{oktaprops.PlaceholderAudience(spec.Server.Name)}
		}
	}
	return okta.AuthorizationServer{Name: spec.Server.Name, Description: owner.Describe(spec.Server.Description),
		Audiences: audiences, IssuerMode: spec.Server.IssuerMode}
}

// ---- small helpers ----

func boolPtr(b bool) *bool    { return &b }
func int64Ptr(i int64) *int64 { return &i }
func isTrue(b *bool) bool     { return b != nil && *b }
func ptrValue(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

func containsString(list []string, s string) bool { return slices.Contains(list, s) }

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}
