package reconcile

import (
	"context"
	"fmt"
	"strings"

	"github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// The app registry (oktaprops.PropApps). Each app has its own OIDC client and
// its own access policy, which names that client only and holds one rule.
//
// One policy per app, not one rule per app in a shared policy: a rule has no
// client condition (management API spec, AuthorizationServerPolicyRuleConditions:
// people, grantTypes, scopes), and Okta applies "the first policy and rule
// that matches the client request" (developer docs, "Create an authorization
// server" > Create access policies). In a shared policy one app's request
// could match another app's rule and be granted that app's scopes; only a
// policy's client list binds a rule to an app.
//
// Identity: an app's client is found by its Okta profile (owner tag and app
// name, see profileApp); its policy by its name (oktaprops.AppPolicyName),
// inside the server this resource owns; its rule by its name within that
// policy. None of them depends on the app's position in the list, so adding,
// changing or removing one app reads the others but writes none of them.
//
// Priorities. The rule is the only one in its policy: priority 1, which never
// changes. Policies are ordered app policies first, then the single-client
// policies (oktaprops.UserFacingPolicyName, BackendPolicyName). These are
// never ALL_CLIENTS catch-alls when there are apps: Okta would try them for an
// app whose own policy does not match its request, so the contract refuses
// Apps with PolicyAssignment ALL_CLIENTS (see oktaprops.PropApps). A new app
// policy is created right after the last app policy (Okta shifts the
// single-client policies below it down by one, developer docs "Policy and rule
// prioritization", automatic shifting); an existing one is sent back with the
// priority Okta has for it, so no app policy is ever moved by this resource.
// When an app policy is deleted Okta may renumber those below it; their order
// stays, and since no two app policies name the same client, which policy
// serves a request does not change.

// convergeRegistryApps makes each registry app's client exist as the spec
// says (found through x.owned, listed by convergeApps) and marks the clients
// of apps no longer listed for removal at the end of the run.
func (r *Reconciler) convergeRegistryApps(ctx context.Context, x *run) error {
	x.appIDs = map[string]string{}
	x.regApps = map[string]*okta.OpenIdConnectApplication{}
	x.regSecrets = map[string]string{}
	x.regMade = map[string]bool{}
	have := map[string]ownedApp{}
	for _, a := range x.owned {
		if a.app == "" {
			continue
		}
		if _, dup := have[a.app]; dup {
			// A second client for a name can only come from an interrupted
			// earlier run: ours, and surplus (the oldest is kept).
			x.staleApps = append(x.staleApps, a)
			continue
		}
		have[a.app] = a
	}
	for _, want := range x.spec.Apps {
		body := registryAppBody(want, x.owner, x.as.Id)
		got, ok := have[want.Name]
		delete(have, want.Name)
		what := fmt.Sprintf("the client of app %q", want.Name)
		if !ok {
			if err := r.createRegistryApp(ctx, x, want, body, what); err != nil {
				return err
			}
			continue
		}
		current, err := r.readApp(ctx, got.id, what)
		if err != nil {
			return err
		}
		if applicationType(current) != want.Client.ApplicationType {
			// Okta cannot change an app's application_type once it is made
			// (developer docs, Apps API reference: "After an app is created,
			// you can't change the application_type"), so a new type is a
			// new client under the same name. The old one goes first. Okta
			// does not force that order: an app's label has not been unique
			// since release 2021.06.3 (Apps API reference, label "Unique"
			// dropped by okta/okta-developer-docs PR #2230, OKTA-405368;
			// release notes 2021.06.3, OKTA-403289: duplicate labels were
			// refused "when some app types were created"), so the 400
			// E0000001 "An active OpenID Connect Client instance with the
			// label ... already exists" of okta/okta-cli issue 56 (2020) is
			// gone. Deleting first is this code's choice: no moment has two
			// clients for one app name. Comparing with Okta's client rather
			// than the deployed properties makes a rollback (or a rerun
			// after an interrupted one) do the same, back.
			r.Log.InfoContext(ctx, "an app's type changed; replacing its client", "app", want.Name,
				"clientId", clientID(current), "from", applicationType(current), "to", want.Client.ApplicationType)
			if err := r.deleteApp(ctx, got.id); err != nil {
				return fmt.Errorf("removing the %s client %s of app %q to make it a %s one: %w", applicationType(current), got.id,
					want.Name, want.Client.ApplicationType, err)
			}
			if err := r.createRegistryApp(ctx, x, want, body, what); err != nil {
				return err
			}
			continue
		}
		if err := r.updateApp(ctx, current, body, want.Client.Label, what); err != nil {
			return err
		}
		x.appIDs[want.Name] = clientID(current)
		x.regApps[want.Name] = current
	}
	for _, a := range have {
		x.staleApps = append(x.staleApps, a) // its app was removed from the registry
	}
	return nil
}

// createRegistryApp creates a registry app's client and records it in x.
func (r *Reconciler) createRegistryApp(ctx context.Context, x *run, want oktaprops.App, body *okta.OpenIdConnectApplication, what string) error {
	app, err := r.createApp(ctx, x, body, want.Client.Label, what)
	if err != nil {
		return err
	}
	x.appIDs[want.Name] = clientID(app)
	x.regApps[want.Name] = app
	x.regMade[want.Name] = true
	if app.Credentials != nil && app.Credentials.OauthClient != nil && want.Client.HasSecret() {
		x.regSecrets[want.Name] = app.Credentials.OauthClient.ClientSecret
	}
	return nil
}

// applicationType is a client's settings.oauthClient.application_type.
func applicationType(app *okta.OpenIdConnectApplication) string {
	if app.Settings == nil || app.Settings.OauthClient == nil {
		return ""
	}
	return app.Settings.OauthClient.ApplicationType
}

// registryAppBody is the Okta client of a registry app: appBody, with the
// app's name instead of a client kind in the profile.
func registryAppBody(a oktaprops.App, owner Owner, serverID string) *okta.OpenIdConnectApplication {
	app := appBody(a.Client, owner, serverID)
	p := app.Profile.(map[string]any)
	delete(p, profileClient)
	p[profileApp] = a.Name
	return app
}

// convergeRegistryAssignments assigns each user-facing registry app exactly
// its groups.
func (r *Reconciler) convergeRegistryAssignments(ctx context.Context, x *run) error {
	for _, a := range x.spec.Apps {
		if !a.Type.UserFacing() {
			continue
		}
		want, err := r.groupIDs(ctx, a.GroupIDs)
		if err != nil {
			return err
		}
		if err := r.convergeGroups(ctx, x, "app "+a.Name, x.regApps[a.Name].Id, want, x.regMade[a.Name]); err != nil {
			return err
		}
	}
	return nil
}

// convergeAppPolicies makes each registry app's policy and rule (see the
// comment at the top for priorities) and marks app policies of apps no longer
// listed for removal. current is the server's policies; it returns whether
// it created any (the single-client policies' priorities then moved).
func (r *Reconciler) convergeAppPolicies(ctx context.Context, x *run, current []*okta.AuthorizationServerPolicy) (maxPriority int64, created bool, err error) {
	asID := x.as.Id
	have := map[string]*okta.AuthorizationServerPolicy{}
	for _, p := range current {
		if isAppPolicy(p) {
			have[p.Name] = p
			maxPriority = max(maxPriority, ptrValue(p.PriorityPtr))
		}
	}
	for _, app := range x.spec.Apps {
		name := app.PolicyName()
		body := appPolicyBody(app, x.appIDs[app.Name])
		got, ok := have[name]
		delete(have, name)
		var policyID string
		fresh := !ok
		if !ok {
			maxPriority++
			body.PriorityPtr = int64Ptr(maxPriority)
			p, _, err := r.Okta.AuthorizationServer.CreateAuthorizationServerPolicy(ctx, asID, body)
			if err != nil {
				return 0, created, fmt.Errorf("creating policy %q of app %q on authorization server %s: %w", name, app.Name, asID, err)
			}
			policyID, created = p.Id, true
			r.logChange(ctx, "create", "policy", name, policyID)
		} else {
			policyID = got.Id
			// Okta's PUT replaces the policy: its own priority goes back, so
			// that it does not move (an absent priority would put it last).
			body.PriorityPtr = got.PriorityPtr
			if err := r.updatePolicy(ctx, asID, got, body, fmt.Sprintf(" of app %q", app.Name)); err != nil {
				return 0, created, err
			}
		}
		if err := r.convergeRules(ctx, x, policyID, oktaprops.Policy{Name: name, Rules: []oktaprops.Rule{app.Rule}}, fresh); err != nil {
			return 0, created, err
		}
	}
	for _, p := range current {
		if _, stale := have[p.Name]; stale && isAppPolicy(p) {
			x.stalePolicies = append(x.stalePolicies, p)
		}
	}
	return maxPriority, created, nil
}

// isAppPolicy reports whether a policy is a registry app's (by its name: the
// server is this resource's, and no other policy it makes has the prefix).
func isAppPolicy(p *okta.AuthorizationServerPolicy) bool {
	return !isTrue(p.System) && len(p.Name) > len(oktaprops.AppPolicyPrefix) && strings.HasPrefix(p.Name, oktaprops.AppPolicyPrefix)
}

func appPolicyBody(a oktaprops.App, clientID string) okta.AuthorizationServerPolicy {
	return okta.AuthorizationServerPolicy{Name: a.PolicyName(), Type: "OAUTH_AUTHORIZATION_POLICY",
		Description: fmt.Sprintf("SMART app %s (%s): its client only", a.Name, a.Type),
		Conditions:  &okta.PolicyRuleConditions{Clients: &okta.ClientPolicyCondition{Include: []string{clientID}}}}
}

// writeAppSecrets writes each confidential app's client id and secret to its
// secret when they may have changed: the app was made in this run, the
// secret's ARN is new to the deployed properties (or they are unknown), or
// the issuer changed.
func (r *Reconciler) writeAppSecrets(ctx context.Context, x *run) error {
	for _, a := range x.spec.Apps {
		if a.SecretARN == "" {
			continue
		}
		made := x.regMade[a.Name]
		var deployedARN string
		if x.old != nil {
			if old, ok := x.old.App(a.Name); ok {
				deployedARN = old.SecretARN
			}
		}
		if !made && !x.issuerChanged && x.old != nil && deployedARN == a.SecretARN {
			continue
		}
		secret := x.regSecrets[a.Name]
		if secret == "" {
			var err error
			if secret, err = r.clientSecret(ctx, x.regApps[a.Name]); err != nil {
				return fmt.Errorf("reading the client secret of app %q: %w", a.Name, err)
			}
		}
		doc := oktaprops.AppSecretDocument{Issuer: x.as.Issuer, ClientID: x.appIDs[a.Name], ClientSecret: secret}
		if err := r.putSecret(ctx, a.SecretARN, doc); err != nil {
			return fmt.Errorf("writing the client secret of app %q to %s: %w", a.Name, a.SecretARN, err)
		}
		r.Log.InfoContext(ctx, "wrote an app's client secret", "app", a.Name, "secretArn", a.SecretARN, "clientId", doc.ClientID)
	}
	return nil
}
