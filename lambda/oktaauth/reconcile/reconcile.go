// Package reconcile makes Okta match a oktaprops.Spec: it creates, updates
// and deletes the custom authorization server, its scopes, claims, access
// policies and rules, and the OIDC apps, through okta-sdk-golang/v2.
//
// Ownership. The authorization server this resource creates carries an
// ownership marker in its description, derived from the CloudFormation stack id
// and logical resource id (Owner). Everything inside that server (non-system
// scopes, claims, policies, rules) belongs to the resource and is reconciled to
// exactly the catalogue: objects are found by name within the server the
// physical id names, so an Update needs no state beyond the physical id and the
// properties (the Provider framework does not hand previous Data to Update).
// Objects added inside the server by hand are drift and are removed on the next
// Update. Apps live outside the server; each app this resource creates carries
// the owner tag, the server id and its client kind in its Okta app profile (a
// free-form, non-secret JSON object), and apps are found by listing OIDC apps and
// matching that profile. Nothing without the marker is ever changed or deleted.
// Registry apps (oktaprops.PropApps) carry their app name in the profile
// instead of a client kind, and each has its own policy, named for the app;
// see registry.go.
//
// A server with the wanted name but without this resource's marker is a
// NameClashError, never adopted. One with the marker is this resource's own
// (left by a Create that could not clean up) and is reconciled; see Create for
// how a Create cleans up after itself and recovers such leftovers.
//
// Failed updates. An Update removes what the spec no longer wants (clients,
// rules, policies, scopes, claims, group assignments) only after everything
// else has succeeded, apps last: until then a failure has deleted nothing, and
// the rollback Update finds every client it restores, with its client_id and
// secret.
//
// Sign-in. Okta lets a user sign in to an app only when the user is assigned to
// it; a policy rule's groups (EVERYONE included) do not replace that. The
// confidential and public apps are therefore assigned each of the spec's
// UserGroupIDs, EVERYONE being resolved to the org's built-in Everyone group
// (listed with filter type eq "BUILT_IN"). The apps are this resource's, so
// every group assignment on them is too: an Update unassigns groups no longer
// listed, those added by hand included, and the assignments go with the apps.
//
// User profile attributes. The fhirUser and patient claims read user profile
// attributes (spec UserAttributes). Before the claims are made, the default user
// schema is read and each missing attribute is added as a custom string that
// users can read but not change. Attributes are never changed or removed, on
// Update or Delete: they may hold users' data and other apps may read them;
// remove one by hand in Okta's profile editor if it is really unused.
//
// Token inline hook. With Spec.TokenHook the resource registers a token
// inline hook (an HTTP channel whose Authorization header carries the value of
// the secret Spec.TokenHook.SecretARN, read at every create and update and
// never logged) and references it on the user-facing rule. An inline hook has
// no description, so its name carries the marker (HookName); a hook with the
// wanted name without this owner's marker is a HookNameClashError. A server's
// hooks are those its rules reference: removing the server (Delete, a failed
// Create's cleanup) first detaches them from the rules, deactivates and deletes
// them; an Update that drops the hook removes it last, like everything else.
//
// Okta rights the credential needs: okta.authorizationServers.manage,
// okta.apps.manage, okta.groups.read, okta.schemas.manage and
// okta.inlineHooks.manage (see oktaclient.DefaultScopes).
package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// SecretPutter is the part of the Secrets Manager client that writes a secret.
type SecretPutter interface {
	PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// Reconciler applies specs to one Okta org.
type Reconciler struct {
	Okta    *okta.Client
	Secrets SecretPutter
	// SecretReader reads the token hook's header secret (Spec.TokenHook).
	SecretReader SecretGetter
	Log          *slog.Logger
	// CleanupReserve is the time a Create keeps, before its context's deadline
	// (the Lambda's), for removing what it made when it fails: it stops
	// provisioning that long before the deadline. At most half the time left
	// when the Create starts is kept. Without a deadline it bounds the removal.
	// Default: 3 min.
	CleanupReserve time.Duration
	// Accept, when set, checks a Create's (or CreateReplacement's) result
	// before it is returned. An error fails the create like any other: what
	// it made is removed. The handler uses it for the response's size, which
	// is only known once Okta has answered and which CloudFormation would
	// refuse after the objects exist.
	Accept func(*Result) error

	// everyone caches the built-in Everyone group's id (everyoneGroupID).
	everyone string
}

// Owner identifies the CloudFormation resource that owns the Okta objects.
type Owner struct {
	StackID   string
	LogicalID string
}

// Tag is a short, stable token for the owner: a hash of the stack id (an ARN
// with a unique suffix, so a re-created stack of the same name is a different
// owner) and the logical id.
func (o Owner) Tag() string {
	sum := sha256.Sum256([]byte(o.StackID + "|" + o.LogicalID))
	return "cfn-" + hex.EncodeToString(sum[:8])
}

// Marker is the text that marks a server description as this owner's.
func (o Owner) Marker() string { return "[" + o.Tag() + "]" }

// Owns reports whether a server description carries this owner's marker.
func (o Owner) Owns(description string) bool { return strings.Contains(description, o.Marker()) }

// Describe appends the human-readable ownership note and the marker.
func (o Owner) Describe(description string) string {
	return fmt.Sprintf("%s (managed by CloudFormation stack %s, resource %s) %s",
		description, stackName(o.StackID), o.LogicalID, o.Marker())
}

func stackName(stackID string) string {
	// arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>
	if _, rest, ok := strings.Cut(stackID, ":stack/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		return name
	}
	return stackID
}

// Result is what the resource reports back.
type Result struct {
	ServerID  string
	Issuer    string
	Audience  string
	ClientIDs map[oktaprops.ClientKind]string
	// AppClientIDs are the registry apps' client ids, by app name.
	AppClientIDs map[string]string
}

// ownerNote matches the note Describe appends: the stack name (CloudFormation
// stack names are letters, digits and hyphens), the logical id (alphanumeric)
// and the marker.
var ownerNote = regexp.MustCompile(`\(managed by CloudFormation stack ([A-Za-z][-A-Za-z0-9]*), resource ([A-Za-z0-9]+)\) \[(cfn-[0-9a-f]{16})\]`)

// earlierOwner reports whether description carries the ownership note of
// another owner with this owner's stack name and logical id, and that owner's
// tag. A stack deleted and deployed again under the same name has a new stack
// id, so it is a new owner: the usual case is a first deployment that timed
// out, which leaves the stack ROLLBACK_COMPLETE (it must be deleted before a
// redeploy) and, if its cleanup could not run, this server. The marker is a
// hash, so the stack id, and with it the account and region, cannot be told
// from it: a live stack of the same name in another account or region looks
// the same.
func (o Owner) earlierOwner(description string) (tag string, ok bool) {
	notes := ownerNote.FindAllStringSubmatch(description, -1)
	if len(notes) == 0 {
		return "", false
	}
	n := notes[len(notes)-1] // Describe appends it last
	if n[1] != stackName(o.StackID) || n[2] != o.LogicalID || n[3] == o.Tag() {
		return "", false
	}
	return n[3], true
}

// NameClashError reports an existing authorization server with the wanted name
// that this resource did not create.
type NameClashError struct {
	Name       string
	ExistingID string
	// Leftover is set when the server carries the ownership note of a stack
	// with this stack's name and this resource's logical id (see
	// Owner.earlierOwner).
	Leftover *Leftover
}

// Leftover describes a clashing server that an earlier stack of the same name
// left behind.
type Leftover struct {
	StackName, LogicalID string
	// AppIDs are the OIDC apps that earlier owner's tag marks.
	AppIDs []string
}

func (e *NameClashError) Error() string {
	if l := e.Leftover; l != nil {
		apps := ""
		if len(l.AppIDs) > 0 {
			apps = fmt.Sprintf(", and its apps %s under Applications > Applications (deactivate, then delete)", strings.Join(l.AppIDs, ", "))
		}
		return fmt.Sprintf("an Okta authorization server named %q already exists (%s): it carries the ownership marker of resource %s "+
			"of an earlier CloudFormation stack named %s, so it is most likely the leftover of a failed earlier deployment of this stack "+
			"(a first deployment that fails ends ROLLBACK_COMPLETE and must be deleted; the redeployed stack has a new stack id, "+
			"so the leftover is not recognised as its own). Unless a stack named %s in another AWS account or region still uses it, "+
			"delete it in the Okta Admin Console (Security > API > Authorization Servers: deactivate %s, then delete it%s) and deploy again",
			e.Name, e.ExistingID, l.LogicalID, l.StackName, l.StackName, e.ExistingID, apps)
	}
	return fmt.Sprintf("an Okta authorization server named %q already exists (%s) and was not created by this stack resource "+
		"(its description lacks this resource's ownership marker); it is never adopted: choose another Name, or rename or delete that server in Okta",
		e.Name, e.ExistingID)
}

// nameClash is the error for x, a server with the wanted name that owner does
// not own, saying so when it is an earlier stack's leftover (with that
// owner's apps, when they can be listed).
func (r *Reconciler) nameClash(ctx context.Context, x *okta.AuthorizationServer, owner Owner) error {
	e := &NameClashError{Name: x.Name, ExistingID: x.Id}
	if tag, ok := owner.earlierOwner(x.Description); ok {
		e.Leftover = &Leftover{StackName: stackName(owner.StackID), LogicalID: owner.LogicalID}
		apps, err := r.appsTagged(ctx, tag, nil)
		if err != nil {
			r.Log.WarnContext(ctx, "could not list the leftover server's apps", "error", err.Error())
		}
		for _, a := range apps {
			e.Leftover.AppIDs = append(e.Leftover.AppIDs, a.id)
		}
	}
	return e
}

var serverIDPattern = regexp.MustCompile(`^aus[A-Za-z0-9]{17}$`)

// Update reconciles the server the physical id names with the spec. old is the
// previous spec (nil when the old properties are unusable). If the server no
// longer exists (deleted outside CloudFormation) it is created again and the
// Result carries the new id: a replacement, after which CloudFormation deletes
// the old id (a 404, so nothing).
func (r *Reconciler) Update(ctx context.Context, serverID string, spec, old *oktaprops.Spec, owner Owner) (*Result, error) {
	as, resp, err := r.Okta.AuthorizationServer.GetAuthorizationServer(ctx, serverID)
	if isNotFound(resp, err) {
		r.Log.WarnContext(ctx, "the authorization server no longer exists in Okta; creating it again (its id changes)",
			"authorizationServerId", serverID)
		return r.create(ctx, spec, owner, createOptions{previous: []string{serverID}, keepAdopted: true})
	}
	if err != nil {
		return nil, fmt.Errorf("reading authorization server %s: %w", serverID, err)
	}
	if as.Name != spec.Server.Name {
		others, err := r.serversNamed(ctx, spec.Server.Name)
		if err != nil {
			return nil, err
		}
		for _, x := range others {
			if x.Id != as.Id {
				return nil, r.nameClash(ctx, x, owner)
			}
		}
	}
	oldIssuer := as.Issuer
	if as, err = r.updateServer(ctx, as, spec, owner); err != nil {
		return nil, err
	}
	// The handler cannot read the secrets back (its role only writes them), so
	// they are rewritten whenever they might be out of date: a new secret, a
	// new issuer in the client-secret document, or a client the old properties
	// did not have (a rollback restoring a client the failed update removed: its
	// app is still there, but that update may have written the document
	// without it).
	return r.converge(ctx, &run{as: as, spec: spec, owner: owner, serverIDs: []string{as.Id},
		old: old, issuerChanged: oldIssuer != as.Issuer,
		writeClientSecret: old == nil || old.ClientSecretARN != spec.ClientSecretARN || oldIssuer != as.Issuer ||
			restored(old, spec, oktaprops.ConfidentialClient),
		writeIntrospectionSecret: old == nil || old.IntrospectionSecretARN != spec.IntrospectionSecretARN ||
			restored(old, spec, oktaprops.IntrospectionClient),
	})
}

// restored reports whether spec has a client of this kind that old lacks.
func restored(old, spec *oktaprops.Spec, kind oktaprops.ClientKind) bool {
	_, had := old.Client(kind)
	_, has := spec.Client(kind)
	return has && !had
}

// updateServer puts the server's own fields (name, description with the
// marker, audience, issuer mode) when they differ from the spec. Without an
// audience in the spec the server's current one is kept: it belongs to a
// Custom::SmartOktaAudience resource, and resetting it would break every token.
func (r *Reconciler) updateServer(ctx context.Context, as *okta.AuthorizationServer, spec *oktaprops.Spec, owner Owner) (*okta.AuthorizationServer, error) {
	want := serverBody(spec, owner, as)
	if as.Name == want.Name && as.Description == want.Description && effectiveIssuerMode(as) == want.IssuerMode &&
		equalStrings(as.Audiences, want.Audiences) {
		return as, nil
	}
	updated, _, err := r.Okta.AuthorizationServer.UpdateAuthorizationServer(ctx, as.Id, want)
	if err != nil {
		return nil, fmt.Errorf("updating authorization server %s: %w", as.Id, err)
	}
	r.logChange(ctx, "update", "authorizationServer", want.Name, as.Id)
	if updated.Status == "" {
		updated.Status = as.Status
	}
	return updated, nil
}

// effectiveIssuerMode is the server's issuer mode. Okta returns issuerMode
// only on orgs with a custom URL domain or the Dynamic Issuer Mode feature
// (management API spec, AuthorizationServer.issuerMode); without either, the
// only mode there is ORG_URL, so an absent value means ORG_URL, not a change.
func effectiveIssuerMode(as *okta.AuthorizationServer) string {
	if as.IssuerMode == "" {
		return "ORG_URL"
	}
	return as.IssuerMode
}

// managedMarker matches the ownership marker of any resource of this product
// (Owner.Marker), whichever stack and logical id it belongs to.
var managedMarker = regexp.MustCompile(`\[cfn-[0-9a-f]{16}\]`)

// NotManagedError reports an authorization server that no resource of this
// product created: its audience is never changed.
type NotManagedError struct {
	ServerID string
}

func (e *NotManagedError) Error() string {
	return fmt.Sprintf("authorization server %s was not created by a smart-healthlake CloudFormation resource "+
		"(its description lacks the ownership marker); its audience is not changed", e.ServerID)
}

// SetAudience makes audience the only audience of the server serverID: it reads
// the server and, when the audience differs, puts it back with only its
// audiences changed. The server must carry an ownership marker of this product
// (NotManagedError otherwise); a missing server is an error (there is nothing to
// bind). It returns the server as Okta has it afterwards.
func (r *Reconciler) SetAudience(ctx context.Context, serverID, audience string) (*okta.AuthorizationServer, error) {
	as, resp, err := r.Okta.AuthorizationServer.GetAuthorizationServer(ctx, serverID)
	if isNotFound(resp, err) {
		return nil, fmt.Errorf("binding audience %q: authorization server %s does not exist in Okta: %w", audience, serverID, err)
	}
	if err != nil {
		return nil, fmt.Errorf("reading authorization server %s: %w", serverID, err)
	}
	if !managedMarker.MatchString(as.Description) {
		return nil, &NotManagedError{ServerID: serverID}
	}
	if equalStrings(as.Audiences, []string{audience}) {
		r.Log.InfoContext(ctx, "audience already bound", "authorizationServerId", serverID, "audience", audience)
		return as, nil
	}
	// Okta's PUT replaces the server: send its own fields back unchanged.
	body := okta.AuthorizationServer{Name: as.Name, Description: as.Description, IssuerMode: effectiveIssuerMode(as),
		Audiences: []string{audience}}
	updated, _, err := r.Okta.AuthorizationServer.UpdateAuthorizationServer(ctx, serverID, body)
	if err != nil {
		return nil, fmt.Errorf("setting the audience of authorization server %s to %q: %w", serverID, audience, err)
	}
	r.Log.InfoContext(ctx, "okta change", "action", "update", "object", "audience", "name", audience, "id", serverID,
		"previousAudiences", as.Audiences)
	if updated.Issuer == "" {
		updated.Issuer = as.Issuer
	}
	return updated, nil
}

// Delete deactivates and deletes the apps and the server this resource made.
// Not-found is success at every step. A physical id that is not an
// authorization server id is one made up for a failed Create; in that case
// anything carrying this resource's marker under the server name is removed
// (what a failed Create's own cleanup could not remove). Behind the CDK
// Provider framework that Delete never comes (the framework answers it
// itself), which is why Create cleans up and recovers on its own.
func (r *Reconciler) Delete(ctx context.Context, physicalID, name string, owner Owner) error {
	if serverIDPattern.MatchString(physicalID) {
		return r.deleteAll(ctx, physicalID, owner, nil, nil)
	}
	r.Log.InfoContext(ctx, "physical id is not an authorization server id; looking for leftovers of a failed create",
		"physicalResourceId", physicalID, "name", name)
	if name == "" {
		return nil
	}
	servers, err := r.serversNamed(ctx, name)
	if err != nil {
		return err
	}
	for _, as := range servers {
		if owner.Owns(as.Description) {
			if err := r.deleteAll(ctx, as.Id, owner, nil, nil); err != nil {
				return err
			}
		}
	}
	// A hook whose create answer was lost is on no rule: it goes by its name.
	hook := HookName(name, owner)
	_, err = r.removeHooks(ctx, "", func(h *okta.InlineHook, _ bool) bool { return h.Name == hook })
	return err
}

// deleteAll removes this owner's token hooks the server's rules reference
// (plus extra hook ids), detached from the rules first; then this owner's
// apps for the server (plus extra app ids); then the server, which takes its
// scopes, claims and policies with it.
func (r *Reconciler) deleteAll(ctx context.Context, serverID string, owner Owner, extraApps, extraHooks []string) error {
	gone, err := r.removeHooks(ctx, serverID, func(h *okta.InlineHook, referenced bool) bool {
		return owner.Owns(h.Name) && (referenced || slices.Contains(extraHooks, h.Id))
	})
	if err != nil {
		return err // keep the server: the next attempt finds its hooks through its rules
	}
	apps, err := r.ownApps(ctx, owner, []string{serverID})
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(apps)+len(extraApps))
	for _, a := range apps {
		ids = append(ids, a.id)
	}
	for _, id := range extraApps {
		if !containsString(ids, id) {
			ids = append(ids, id)
		}
	}
	var errs []error
	for _, id := range ids {
		if err := r.deleteApp(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err // keep the server: its id is how the next attempt finds these apps
	}
	if gone {
		r.Log.InfoContext(ctx, "authorization server already gone", "authorizationServerId", serverID)
		return nil
	}
	return r.deleteServer(ctx, serverID)
}

func (r *Reconciler) deleteServer(ctx context.Context, id string) error {
	gone, err := r.deactivateAndDelete(ctx, "authorizationServer", "authorization server", id,
		func() (*okta.Response, error) {
			return r.Okta.AuthorizationServer.DeactivateAuthorizationServer(ctx, id)
		},
		func() (*okta.Response, error) { return r.Okta.AuthorizationServer.DeleteAuthorizationServer(ctx, id) })
	if gone {
		r.Log.InfoContext(ctx, "authorization server already gone", "authorizationServerId", id)
	}
	return err
}

func (r *Reconciler) deleteApp(ctx context.Context, id string) error {
	_, err := r.deactivateAndDelete(ctx, "app", "app", id,
		func() (*okta.Response, error) { return r.Okta.Application.DeactivateApplication(ctx, id) },
		func() (*okta.Response, error) { return r.Okta.Application.DeleteApplication(ctx, id) })
	return err
}

// deactivateAndDelete deletes an Okta object that must be deactivated first
// (Okta deletes only inactive apps and authorization servers). A 404 on
// deactivation means it is already gone (gone is true); on deletion, that it
// went meanwhile. object names it in the change log, what in errors.
func (r *Reconciler) deactivateAndDelete(ctx context.Context, object, what, id string, deactivate, del func() (*okta.Response, error)) (gone bool, err error) {
	resp, err := deactivate()
	if isNotFound(resp, err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("deactivating %s %s: %w", what, id, err)
	}
	resp, err = del()
	if err != nil && !isNotFound(resp, err) {
		return false, fmt.Errorf("deleting %s %s: %w", what, id, err)
	}
	r.logChange(ctx, "delete", object, "", id)
	return false, nil
}

// serversNamed lists the authorization servers whose name is exactly name.
func (r *Reconciler) serversNamed(ctx context.Context, name string) ([]*okta.AuthorizationServer, error) {
	first, resp, err := r.Okta.AuthorizationServer.ListAuthorizationServers(ctx,
		query.NewQueryParams(query.WithQ(name), query.WithLimit(200)))
	all, err := collect(ctx, first, resp, err)
	if err != nil {
		return nil, fmt.Errorf("listing authorization servers named %q: %w", name, err)
	}
	var out []*okta.AuthorizationServer
	for _, as := range all {
		if as.Name == name {
			out = append(out, as)
		}
	}
	return out, nil
}

func (r *Reconciler) logChange(ctx context.Context, action, object, name, id string) {
	r.Log.InfoContext(ctx, "okta change", "action", action, "object", object, "name", name, "id", id)
}

// isNotFound reports a 404 / E0000007.
func isNotFound(resp *okta.Response, err error) bool {
	if err == nil {
		return false
	}
	if resp != nil && resp.Response != nil && resp.StatusCode == 404 {
		return true
	}
	var oe *okta.Error
	return errors.As(err, &oe) && oe.ErrorCode == "E0000007"
}

// collect follows Link rel="next" pages.
func collect[T any](ctx context.Context, first []T, resp *okta.Response, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	all := first
	for resp != nil && resp.HasNextPage() {
		var page []T
		resp, err = resp.Next(ctx, &page)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
	}
	return all, nil
}
