package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// TokenHookType is the inline hook type of token hooks (management API spec,
// InlineHookType; the policy rule's actions.token.inlineHook names one).
const TokenHookType = "com.okta.oauth2.tokens.transform"

// hookVersion is both the hook's and its channel's version: "The currently
// supported version is 1.0.0" (management API spec, InlineHook.version and
// InlineHookChannel.version).
const hookVersion = "1.0.0"

// SecretGetter is the part of the Secrets Manager client that reads a secret.
type SecretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// HookBaseName is the name of the token hook registered for the server
// serverName, before the ownership marker.
func HookBaseName(serverName string) string { return serverName + " SMART token hook" }

// HookName is the name of the token hook the owner registers for the server
// serverName: an inline hook has no description, so its name carries the
// marker (Owner.Marker).
func HookName(serverName string, owner Owner) string {
	return HookBaseName(serverName) + " " + owner.Marker()
}

// HookNameClashError reports a token hook with the wanted name that this
// resource did not create (no marker, or another resource's).
type HookNameClashError struct {
	Name       string
	ExistingID string
}

func (e *HookNameClashError) Error() string {
	return fmt.Sprintf("an Okta token inline hook named %q already exists (%s) and was not created by this stack resource "+
		"(its name lacks this resource's ownership marker); it is never adopted: rename or delete it in Okta "+
		"(Workflow > Inline Hooks), or choose another authorization server Name", e.Name, e.ExistingID)
}

// tokenHooks lists the org's token inline hooks (listInlineHooks with its type
// filter).
func (r *Reconciler) tokenHooks(ctx context.Context) ([]*okta.InlineHook, error) {
	first, resp, err := r.Okta.InlineHook.ListInlineHooks(ctx, query.NewQueryParams(query.WithType(TokenHookType)))
	all, err := collect(ctx, first, resp, err)
	if err != nil {
		return nil, fmt.Errorf("listing token inline hooks: %w", err)
	}
	return all, nil
}

// hookSecret reads the Authorization header value Okta must send. The value
// goes to Okta only: it is never logged or returned in an error.
func (r *Reconciler) hookSecret(ctx context.Context, arn string) (string, error) {
	if r.SecretReader == nil {
		return "", errors.New("reading the token hook secret: the reconciler has no Secrets Manager reader")
	}
	out, err := r.SecretReader.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("reading the token hook secret %s: %w", arn, err)
	}
	v := aws.ToString(out.SecretString)
	if v == "" {
		return "", fmt.Errorf("the token hook secret %s has no SecretString: it must hold the Authorization header value Okta sends to the hook", arn)
	}
	return v, nil
}

// hookBody is the hook as createInlineHook and replaceInlineHook take it: an
// HTTP channel whose authScheme is the Authorization header (management API
// spec, InlineHookMgmtCreateHTTPRequest). The type is set on create only: the
// replace body has none (InlineHookReplace).
func hookBody(name, uri, secret string, create bool) okta.InlineHook {
	h := okta.InlineHook{Name: name, Version: hookVersion, Channel: &okta.InlineHookChannel{
		Type: "HTTP", Version: hookVersion,
		Config: &okta.InlineHookChannelConfig{Uri: uri, Method: "POST",
			AuthScheme: &okta.InlineHookChannelConfigAuthScheme{Type: "HEADER", Key: "Authorization", Value: secret}},
	}}
	if create {
		h.Type = TokenHookType
	}
	return h
}

// convergeHook registers the spec's token hook, or marks this owner's hooks
// stale when the spec has none. A hook of this owner is adopted whatever its
// name (the server may have been renamed); any second one is surplus from an
// interrupted run. Okta never returns the header value (the GET answer's
// authScheme has type and key only, InlineHookChannelConfigAuthSchemeResponse),
// so whether the secret changed cannot be seen: an existing hook is put back
// on every run.
func (r *Reconciler) convergeHook(ctx context.Context, x *run) error {
	hooks, err := r.tokenHooks(ctx)
	if err != nil {
		return err
	}
	var own []*okta.InlineHook
	for _, h := range hooks {
		if x.owner.Owns(h.Name) {
			own = append(own, h)
		}
	}
	spec := x.spec.TokenHook
	if spec == nil {
		x.staleHooks = own
		return nil
	}
	name := HookName(x.spec.Server.Name, x.owner)
	var got *okta.InlineHook
	if i := slices.IndexFunc(own, func(h *okta.InlineHook) bool { return h.Name == name }); i >= 0 {
		got = own[i]
	} else if len(own) > 0 {
		got = own[0]
	}
	for _, h := range own {
		if h != got {
			x.staleHooks = append(x.staleHooks, h)
		}
	}
	if got == nil {
		base := HookBaseName(x.spec.Server.Name)
		for _, h := range hooks {
			if strings.TrimSpace(managedMarker.ReplaceAllString(h.Name, "")) == base {
				return &HookNameClashError{Name: h.Name, ExistingID: h.Id}
			}
		}
	}
	secret, err := r.hookSecret(ctx, spec.SecretARN)
	if err != nil {
		return err
	}
	if got == nil {
		created, _, err := r.Okta.InlineHook.CreateInlineHook(ctx, hookBody(name, spec.URL, secret, true))
		if err != nil {
			return fmt.Errorf("creating token inline hook %q: %w", name, err)
		}
		if created == nil || created.Id == "" {
			return fmt.Errorf("creating token inline hook %q: Okta's answer has no hook id", name)
		}
		if x.journal != nil {
			x.journal.hookIDs = append(x.journal.hookIDs, created.Id)
		}
		r.logChange(ctx, "create", "inlineHook", name, created.Id)
		got = created
	} else {
		updated, _, err := r.Okta.InlineHook.UpdateInlineHook(ctx, got.Id, hookBody(name, spec.URL, secret, false))
		if err != nil {
			return fmt.Errorf("updating token inline hook %q (%s): %w", name, got.Id, err)
		}
		r.logChange(ctx, "update", "inlineHook", name, got.Id)
		if updated != nil && updated.Status != "" {
			got.Status = updated.Status
		}
	}
	// createInlineHook makes the hook ACTIVE; one an admin deactivated is
	// activated again (a rule may reference active token hooks only).
	if got.Status != "ACTIVE" {
		if _, _, err := r.Okta.InlineHook.ActivateInlineHook(ctx, got.Id); err != nil {
			return fmt.Errorf("activating token inline hook %q (%s): %w", name, got.Id, err)
		}
		r.logChange(ctx, "activate", "inlineHook", name, got.Id)
	}
	x.hookID = got.Id
	return nil
}

// removeHooks detaches the token hooks pick chooses from the rules of the
// server serverID that reference them, then deactivates and deletes them (Okta
// deletes only inactive hooks: deleteInlineHook). pick is told whether one of
// the server's rules references the hook. A missing server has no rules;
// gone reports that the server is missing.
func (r *Reconciler) removeHooks(ctx context.Context, serverID string, pick func(h *okta.InlineHook, referenced bool) bool) (gone bool, err error) {
	type ruleRef struct {
		policyID string
		rule     *okta.AuthorizationServerPolicyRule
	}
	refs := map[string][]ruleRef{}
	if serverID != "" {
		first, resp, err := r.Okta.AuthorizationServer.ListAuthorizationServerPolicies(ctx, serverID)
		gone = isNotFound(resp, err)
		if !gone {
			policies, err := collect(ctx, first, resp, err)
			if err != nil {
				return false, fmt.Errorf("listing policies of authorization server %s: %w", serverID, err)
			}
			for _, p := range policies {
				rfirst, rresp, err := r.Okta.AuthorizationServer.ListAuthorizationServerPolicyRules(ctx, serverID, p.Id)
				rules, err := collect(ctx, rfirst, rresp, err)
				if err != nil && !isNotFound(rresp, err) {
					return false, fmt.Errorf("listing rules of policy %s on authorization server %s: %w", p.Id, serverID, err)
				}
				for _, rule := range rules {
					if rule.Actions != nil && rule.Actions.Token != nil && rule.Actions.Token.InlineHook != nil {
						id := rule.Actions.Token.InlineHook.Id
						refs[id] = append(refs[id], ruleRef{p.Id, rule})
					}
				}
			}
		}
	}
	hooks, err := r.tokenHooks(ctx)
	if err != nil {
		return gone, err
	}
	for _, h := range hooks {
		if !pick(h, len(refs[h.Id]) > 0) {
			continue
		}
		for _, ref := range refs[h.Id] {
			body := *ref.rule
			token := *body.Actions.Token
			token.InlineHook = nil
			actions := *body.Actions
			actions.Token = &token
			body.Actions = &actions
			_, resp, err := r.Okta.AuthorizationServer.UpdateAuthorizationServerPolicyRule(ctx, serverID, ref.policyID, ref.rule.Id, body)
			if err != nil && !isNotFound(resp, err) {
				return gone, fmt.Errorf("detaching token inline hook %s from rule %q (%s) on authorization server %s: %w",
					h.Id, ref.rule.Name, ref.rule.Id, serverID, err)
			}
			r.logChange(ctx, "detach", "inlineHook", ref.rule.Name, h.Id)
		}
		if err := r.deleteHook(ctx, h); err != nil {
			return gone, err
		}
	}
	return gone, nil
}

// deleteHook deactivates and deletes a hook; not-found is success.
func (r *Reconciler) deleteHook(ctx context.Context, h *okta.InlineHook) error {
	_, resp, err := r.Okta.InlineHook.DeactivateInlineHook(ctx, h.Id)
	if isNotFound(resp, err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deactivating token inline hook %q (%s): %w", h.Name, h.Id, err)
	}
	resp, err = r.Okta.InlineHook.DeleteInlineHook(ctx, h.Id)
	if err != nil && !isNotFound(resp, err) {
		return fmt.Errorf("deleting token inline hook %q (%s): %w", h.Name, h.Id, err)
	}
	r.logChange(ctx, "delete", "inlineHook", h.Name, h.Id)
	return nil
}
