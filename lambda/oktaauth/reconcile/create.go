package reconcile

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
)

// defaultCleanupReserve is Reconciler.CleanupReserve's default: a full
// removal is a dozen calls, and a 429 on one of them waits up to a minute.
const defaultCleanupReserve = 3 * time.Minute

// Create makes everything and returns what the resource reports.
//
// A failed Create cleans up after itself: behind the CDK Provider framework the
// Delete CloudFormation sends after a failed Create never reaches the handler
// (the framework answers the AWSCDK::CustomResourceProviderFramework::CREATE_FAILED
// physical id itself, in cfn-response.js's safeHandler), so nothing else ever
// would. Create therefore stops provisioning CleanupReserve before its
// context's deadline and removes what it made (the token hook, detached from
// the rule, deactivated and deleted; the server, and with it its scopes, claims
// and policies; and the apps) before returning the error.
//
// A Create that could not clean up (the function crashed, or Okta failed the
// removal too) is recovered by the next Create of the same resource (the same
// stack and logical id, so the same Owner): a server carrying the owner's marker
// and the wanted name is taken over (the oldest, if several), every other
// server carrying the marker is removed with its apps, and apps carrying the
// owner's tag whose server is gone are taken over. Nothing without this owner's
// marker is ever taken over or removed; a server with the wanted name without it
// is a NameClashError. A Create of another stack with the same name (the usual
// crash is a first deployment that timed out: its stack ends ROLLBACK_COMPLETE,
// is deleted, and the redeploy has a new stack id) is another owner; its error
// then says the server is most likely such a leftover and how to delete it.
func (r *Reconciler) Create(ctx context.Context, spec *oktaprops.Spec, owner Owner) (*Result, error) {
	return r.create(ctx, spec, owner, createOptions{})
}

// CreateReplacement is Create for an Update that moves the resource to another
// Okta org. The rollback of such an Update is one too, back in the first org,
// where the server that served the stack until then still is: it carries the
// marker and the name, and is taken over. So, unlike Create, a failure removes
// only what this call made (its apps), never a server it took over.
func (r *Reconciler) CreateReplacement(ctx context.Context, spec *oktaprops.Spec, owner Owner) (*Result, error) {
	return r.create(ctx, spec, owner, createOptions{keepAdopted: true})
}

type createOptions struct {
	// previous lists ids of servers whose apps this create takes over (an
	// Update whose server was deleted behind CloudFormation's back).
	previous []string
	// keepAdopted keeps a server taken over when the create fails (it may be the
	// one that serves the stack): only the apps this run made are removed.
	keepAdopted bool
}

// journal records what a Create made, for its cleanup.
type journal struct {
	name     string
	serverID string
	// adopted: the server was there before (taken over, not made).
	adopted bool
	appIDs  []string
	// hookIDs are the token hooks this run made.
	hookIDs []string
}

func (r *Reconciler) create(ctx context.Context, spec *oktaprops.Spec, owner Owner, opts createOptions) (*Result, error) {
	work, reserve, cancel := r.provisioningContext(ctx)
	defer cancel()
	res, j, err := r.provision(work, spec, owner, opts)
	if err == nil && r.Accept != nil {
		err = r.Accept(res)
	}
	if err == nil {
		return res, nil
	}
	if work.Err() != nil && ctx.Err() == nil {
		err = fmt.Errorf("the create ran out of time: it stopped %s before the function's deadline to remove what it made: %w",
			reserve.Round(time.Millisecond), err)
	}
	if j == nil {
		return nil, err // failed before it changed anything
	}
	return nil, r.undoCreate(ctx, j, owner, opts, reserve, err)
}

// provisioningContext is ctx ending the cleanup reserve before ctx's deadline.
// The reserve is at most half the time left, so that a short deadline still
// leaves time to work.
func (r *Reconciler) provisioningContext(ctx context.Context) (context.Context, time.Duration, context.CancelFunc) {
	reserve := r.CleanupReserve
	if reserve <= 0 {
		reserve = defaultCleanupReserve
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		work, cancel := context.WithCancel(ctx)
		return work, reserve, cancel
	}
	reserve = min(reserve, time.Until(deadline)/2)
	work, cancel := context.WithDeadline(ctx, deadline.Add(-reserve))
	return work, reserve, cancel
}

// provision does the work of create. The journal is nil when this run has
// made nothing yet (it may have removed leftovers of earlier ones); a
// success returns it too, for a result that Reconciler.Accept refuses.
func (r *Reconciler) provision(ctx context.Context, spec *oktaprops.Spec, owner Owner, opts createOptions) (*Result, *journal, error) {
	servers, err := r.allServers(ctx)
	if err != nil {
		return nil, nil, err
	}
	var as *okta.AuthorizationServer
	var leftovers []*okta.AuthorizationServer
	for _, x := range servers {
		switch {
		case !owner.Owns(x.Description):
			if x.Name == spec.Server.Name {
				return nil, nil, r.nameClash(ctx, x, owner)
			}
		case x.Name != spec.Server.Name:
			leftovers = append(leftovers, x)
		case as == nil || created(x).Before(created(as)):
			if as != nil {
				leftovers = append(leftovers, as)
			}
			as = x
		default:
			leftovers = append(leftovers, x)
		}
	}
	j := &journal{name: spec.Server.Name}
	for _, x := range leftovers {
		// Ours, from a Create that could not clean up (a crash, or Okta failed
		// the removal too) and was then rolled back by the framework alone.
		r.Log.InfoContext(ctx, "removing this resource's leftover authorization server from an earlier create",
			"authorizationServerId", x.Id, "name", x.Name)
		if err := r.deleteAll(ctx, x.Id, owner, nil, nil); err != nil {
			return nil, nil, fmt.Errorf("removing this resource's leftover authorization server %s (%q) from an earlier create: %w", x.Id, x.Name, err)
		}
	}
	// Apps of this owner that survived their server (a cleanup that removed the
	// server, or an admin who did) are taken over rather than left behind.
	orphans, err := r.ownApps(ctx, owner, nil)
	if err != nil {
		return nil, nil, err
	}
	previous := slices.Clone(opts.previous)
	for _, a := range orphans {
		if (as == nil || a.serverID != as.Id) && !slices.Contains(previous, a.serverID) {
			previous = append(previous, a.serverID)
		}
	}
	if as != nil {
		r.Log.InfoContext(ctx, "continuing with this resource's own authorization server from an earlier create",
			"authorizationServerId", as.Id, "name", as.Name)
		j.serverID, j.adopted = as.Id, true
	} else {
		// From here on the journal is returned: a create whose answer is lost
		// (its context ended) may still have made the server.
		as, _, err = r.Okta.AuthorizationServer.CreateAuthorizationServer(ctx, serverBody(spec, owner, nil))
		if err != nil {
			return nil, j, fmt.Errorf("creating authorization server %q: %w", spec.Server.Name, err)
		}
		j.serverID = as.Id
		r.logChange(ctx, "create", "authorizationServer", as.Name, as.Id)
	}
	if as, err = r.updateServer(ctx, as, spec, owner); err != nil {
		return nil, j, err
	}
	res, err := r.converge(ctx, &run{as: as, spec: spec, owner: owner,
		serverIDs: append([]string{as.Id}, previous...), writeClientSecret: true, writeIntrospectionSecret: true, journal: j})
	if err != nil {
		return nil, j, err
	}
	return res, j, nil // the journal, for a result Accept refuses
}

// undoCreate removes what a failed create made and returns cause, with the
// cleanup's own failure if any. It runs on ctx's own time (the provisioning
// stopped early to leave it some), even when ctx is already cancelled, and ends
// a tenth of the reserve before ctx's deadline so that the failure can still be
// reported.
func (r *Reconciler) undoCreate(ctx context.Context, j *journal, owner Owner, opts createOptions, reserve time.Duration, cause error) error {
	var cctx context.Context
	var cancel context.CancelFunc
	if deadline, ok := ctx.Deadline(); ok {
		cctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(-reserve/10))
	} else {
		cctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), reserve)
	}
	defer cancel()
	r.Log.WarnContext(ctx, "create failed; removing what it made", "authorizationServerId", j.serverID,
		"error", oktaclient.Redact(cause.Error()))
	err := r.removeMade(cctx, j, owner, opts)
	if err != nil {
		r.Log.ErrorContext(ctx, "cleanup after the failed create failed; objects may remain in Okta (the next create in this same stack removes them; a stack deleted and deployed again does not)",
			"authorizationServerId", j.serverID, "error", oktaclient.Redact(err.Error()))
		server := fmt.Sprintf("%q", j.name)
		if j.serverID != "" {
			server += " (" + j.serverID + ")"
		}
		return fmt.Errorf("%w (cleanup of authorization server %s after the failure also failed, objects may remain in Okta: "+
			"the next create in this same stack removes them, but if the stack is deleted and deployed again, delete them in Okta first: %w)",
			cause, server, err)
	}
	r.Log.InfoContext(ctx, "removed everything the failed create made", "authorizationServerId", j.serverID)
	return cause
}

func (r *Reconciler) removeMade(ctx context.Context, j *journal, owner Owner, opts createOptions) error {
	if j.adopted && opts.keepAdopted {
		if len(j.hookIDs) > 0 {
			if _, err := r.removeHooks(ctx, j.serverID, func(h *okta.InlineHook, _ bool) bool {
				return slices.Contains(j.hookIDs, h.Id)
			}); err != nil {
				return err
			}
		}
		for _, id := range j.appIDs {
			if err := r.deleteApp(ctx, id); err != nil {
				return err
			}
		}
		return nil
	}
	// Every server of this owner and name is this run's: create removed or took
	// over all others before it made anything. There can be more than the one
	// it knows of: a create whose answer was lost (its context ended, or its
	// connection, which oktaclient does not let the SDK send again) may still
	// have been carried out.
	servers, err := r.serversNamed(ctx, j.name)
	if err != nil {
		return err
	}
	ids := []string{}
	if j.serverID != "" {
		ids = append(ids, j.serverID)
	}
	for _, as := range servers {
		if owner.Owns(as.Description) && !slices.Contains(ids, as.Id) {
			ids = append(ids, as.Id)
		}
	}
	for _, id := range ids {
		var made, hooks []string
		if id == j.serverID {
			made, hooks = j.appIDs, j.hookIDs
		}
		if err := r.deleteAll(ctx, id, owner, made, hooks); err != nil {
			return err
		}
	}
	return nil
}

// allServers lists every authorization server of the org.
func (r *Reconciler) allServers(ctx context.Context) ([]*okta.AuthorizationServer, error) {
	first, resp, err := r.Okta.AuthorizationServer.ListAuthorizationServers(ctx, query.NewQueryParams(query.WithLimit(200)))
	all, err := collect(ctx, first, resp, err)
	if err != nil {
		return nil, fmt.Errorf("listing authorization servers: %w", err)
	}
	return all, nil
}

func created(as *okta.AuthorizationServer) time.Time {
	if as.Created == nil {
		return time.Time{}
	}
	return *as.Created
}
