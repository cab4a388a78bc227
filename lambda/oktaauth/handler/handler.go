// Package handler is the onEvent handler of the Okta SMART custom resources,
// run behind the AWS CDK customresources.Provider framework (synchronous: every
// request finishes within one invocation, so there is no isComplete handler).
// It serves two resource types, told apart by the event's ResourceType.
//
// Custom::SmartOktaAuthorizationServer (oktaprops.ResourceTypeAuthorizationServer):
// Create makes the authorization server and everything in it and returns its id
// as the physical id; a Create that fails (or runs out of time: it stops
// CleanupReserve before the invocation's deadline) removes what it made, since
// the framework never passes on the Delete of a failed Create. Update
// reconciles in place, removals last; Delete removes what the resource made.
// See package contract/oktaprops for the properties and package reconcile for how
// objects are found and owned. Without an Audience property,
// Create gives the server oktaprops.PlaceholderAudience and Update leaves its
// audience alone.
//
// Custom::SmartOktaAudience (oktaprops.ResourceTypeAudience) binds the
// audience of such a server, once the audience (the data store endpoint) exists:
// Create and Update read the server and put it back with only its audience
// changed; the physical id is "<serverId>/audience", so binding another server is
// a replacement. A rollback Update carries the old audience and so restores it.
// Delete changes nothing in Okta and makes no call at all: the binding is
// deleted before its server when the stack goes (the server's own Delete then
// removes it), and when only the binding is removed from a live stack, resetting
// the audience would make the data store refuse every token from then on. The
// previous audience is not known to a Delete either, so "restoring" could only
// mean the placeholder, which is never what serves requests.
//
// AWS permissions the function needs: secretsmanager:GetSecretValue on the
// credential secret and on the token hook secret (TokenHookSecretArn, whose
// value goes to Okta only), and secretsmanager:PutSecretValue on the client-secret and
// introspection secrets (plus kms:Decrypt for the credential secret, and
// kms:GenerateDataKey and kms:Decrypt for the written secrets, when they are
// encrypted with customer-managed keys), and kms:GetPublicKey on the EHR
// launch proxy's assertion key when ProxyAssertionKeyArn names one. Nothing
// else: Okta is reached over HTTPS with the credentials from the secret.
//
// With ProxyAssertionKeyArn, Create and Update read the key's public half
// before they touch Okta (so a key that cannot be read fails the Create
// with nothing made) and register it on every private_key_jwt client (see
// oktaprops.Spec.AddProxyAssertionKey); an Update without it registers the
// services' own keys only, which removes it.
package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/proxykey"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/reconcile"
)

// audienceSuffix ends the physical id of an audience binding.
const audienceSuffix = "/audience"

// SecretsManager is what the handler uses of the Secrets Manager client: read
// the Okta credentials, write the client secrets.
type SecretsManager interface {
	oktaclient.SecretGetter
	reconcile.SecretPutter
}

// Handler handles the custom resource's events.
type Handler struct {
	SecretsManager SecretsManager
	Log            *slog.Logger
	// KMS reads the public half of the EHR launch proxy's assertion key
	// (ProxyAssertionKeyArn); only events with that property use it.
	KMS proxykey.PublicKeyGetter
	// Okta configures the Okta client (timeouts, retries; tests point it at a fake).
	Okta oktaclient.Options
	// CleanupReserve is how long before the invocation's deadline a Create stops
	// provisioning, to remove what it made and fail (see reconcile.Reconciler).
	// Default: reconcile's, 3 minutes.
	CleanupReserve time.Duration
}

// OnEvent handles one CloudFormation event.
func (h *Handler) OnEvent(ctx context.Context, event customresource.Event) (customresource.OnEventResponse, error) {
	log := h.Log.With("requestType", string(event.RequestType), "logicalResourceId", event.LogicalResourceID,
		"physicalResourceId", event.PhysicalResourceID, "requestId", event.RequestID)
	log.InfoContext(ctx, "event received")
	resp, err := h.handle(ctx, log, event)
	if err != nil {
		// The message becomes the CloudFormation event's status reason.
		secret, _ := event.ResourceProperties[oktaprops.PropCredentialSecretARN].(string)
		err = oktaclient.RedactError(explainCredentialError(err, secret))
		log.ErrorContext(ctx, "event failed", "error", err.Error())
		return customresource.OnEventResponse{}, err
	}
	log.InfoContext(ctx, "event done", "returnedPhysicalResourceId", resp.PhysicalResourceID)
	return resp, nil
}

func (h *Handler) handle(ctx context.Context, log *slog.Logger, event customresource.Event) (customresource.OnEventResponse, error) {
	switch event.ResourceType {
	case oktaprops.ResourceTypeAuthorizationServer:
		return h.handleServer(ctx, log, event)
	case oktaprops.ResourceTypeAudience:
		return h.handleAudience(ctx, log, event)
	}
	if event.RequestType == customresource.Delete {
		// Its Create failed on this very check, so it made nothing; failing
		// the Delete would only wedge the stack.
		log.WarnContext(ctx, "unknown resource type; nothing to delete", "resourceType", event.ResourceType)
		return customresource.OnEventResponse{PhysicalResourceID: event.PhysicalResourceID}, nil
	}
	return customresource.OnEventResponse{}, fmt.Errorf("unknown resource type %q: this handler serves %s and %s",
		event.ResourceType, oktaprops.ResourceTypeAuthorizationServer, oktaprops.ResourceTypeAudience)
}

// handleAudience serves Custom::SmartOktaAudience; see the package comment.
func (h *Handler) handleAudience(ctx context.Context, log *slog.Logger, event customresource.Event) (customresource.OnEventResponse, error) {
	props := cfnprops.Properties(event.ResourceProperties)
	if unknown := oktaprops.UnknownAudienceBindingProperties(props); len(unknown) > 0 {
		log.WarnContext(ctx, "ignoring unknown properties", "properties", unknown)
	}
	switch event.RequestType {
	case customresource.Create, customresource.Update:
		var b oktaprops.AudienceBinding
		var err error
		if event.RequestType == customresource.Create {
			b, err = oktaprops.ParseAudienceBinding(props)
		} else {
			// As for the server: an org URL a stack was deployed with must not
			// fail an Update or its rollback (see oktaprops.Kept).
			var kept oktaprops.Kept
			b, kept, err = oktaprops.ParseAudienceBindingUpdate(props)
			warnKept(ctx, log, kept)
		}
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		rec, err := h.reconciler(ctx, log, b.OrgURL, b.CredentialSecretARN)
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		as, err := rec.SetAudience(ctx, b.ServerID, b.Audience)
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		// A new server id gives a new physical id: CloudFormation then deletes
		// the old binding, which changes nothing.
		return customresource.OnEventResponse{
			PhysicalResourceID: as.Id + audienceSuffix,
			Data: map[string]any{
				oktaprops.AttrBindingAuthorizationServerID: as.Id,
				oktaprops.AttrBindingAudience:              b.Audience,
			},
		}, nil
	case customresource.Delete:
		log.InfoContext(ctx, "audience binding removed; the server keeps its audience (it goes with the server itself)")
		return customresource.OnEventResponse{PhysicalResourceID: event.PhysicalResourceID}, nil
	}
	return customresource.OnEventResponse{}, fmt.Errorf("unknown request type %q", event.RequestType)
}

// handleServer serves Custom::SmartOktaAuthorizationServer.
func (h *Handler) handleServer(ctx context.Context, log *slog.Logger, event customresource.Event) (customresource.OnEventResponse, error) {
	props := cfnprops.Properties(event.ResourceProperties)
	if unknown := oktaprops.UnknownProperties(props); len(unknown) > 0 {
		log.WarnContext(ctx, "ignoring unknown properties", "properties", unknown)
	}
	owner := reconcile.Owner{StackID: event.StackID, LogicalID: event.LogicalResourceID}

	switch event.RequestType {
	case customresource.Create:
		spec, err := oktaprops.Parse(props)
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		if err := h.addProxyAssertionKey(ctx, log, spec); err != nil {
			return customresource.OnEventResponse{}, err
		}
		rec, err := h.reconciler(ctx, log, spec.OrgURL, spec.CredentialSecretARN)
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		// The response's size is known only once Okta has answered; one too
		// large for CloudFormation fails the Create, which then removes what
		// it made (nothing else would: see the package comment).
		var resp customresource.OnEventResponse
		respondOnAccept(rec, event, spec, &resp)
		if _, err := rec.Create(ctx, spec, owner); err != nil {
			return customresource.OnEventResponse{}, err
		}
		return resp, nil

	case customresource.Update:
		// ParseUpdate, not Parse: a claim name Okta reserves, or a value a
		// rule made stricter since refuses, is a warning on Update, or this
		// Update or its rollback could fail on it (see oktaprops.Kept).
		oldProps := cfnprops.Properties(event.OldResourceProperties)
		spec, kept, err := oktaprops.ParseUpdate(props, oldProps)
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		warnKept(ctx, log, kept)
		if err := h.addProxyAssertionKey(ctx, log, spec); err != nil {
			return customresource.OnEventResponse{}, err
		}
		old, _, err := oktaprops.ParseUpdate(oldProps, oldProps)
		if err != nil {
			// Old shapes can stop parsing after a handler change; the old spec
			// only decides whether the secret must be rewritten, so write it.
			log.WarnContext(ctx, "old properties do not parse; treating everything as changed", "error", err.Error())
			old = nil
		}
		rec, err := h.reconciler(ctx, log, spec.OrgURL, spec.CredentialSecretARN)
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		if old != nil && old.OrgURL != spec.OrgURL {
			// Another Okta org: the old server cannot be updated from here.
			// Create anew; the new physical id makes CloudFormation delete the
			// old resource with its own (old) properties.
			log.InfoContext(ctx, "Okta org changed; creating a replacement", "oldOrg", old.OrgURL, "newOrg", spec.OrgURL)
			var resp customresource.OnEventResponse
			respondOnAccept(rec, event, spec, &resp)
			if _, err := rec.CreateReplacement(ctx, spec, owner); err != nil {
				return customresource.OnEventResponse{}, err
			}
			return resp, nil
		}
		res, err := rec.Update(ctx, event.PhysicalResourceID, spec, old, owner)
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		return respond(event, spec, res)

	case customresource.Delete:
		// The previous version's org-URL rule too: a Delete that fails on a
		// value the stack was deployed with would fail for good.
		conn, kept, err := oktaprops.ParseConnectionForDelete(props)
		warnKept(ctx, log, kept)
		if err != nil {
			if !strings.HasPrefix(event.PhysicalResourceID, "aus") {
				// A Create that failed on its properties made nothing.
				log.WarnContext(ctx, "properties do not parse and no server was made; nothing to delete", "error", err.Error())
				return customresource.OnEventResponse{PhysicalResourceID: event.PhysicalResourceID}, nil
			}
			return customresource.OnEventResponse{}, err
		}
		rec, err := h.reconciler(ctx, log, conn.OrgURL, conn.CredentialSecretARN)
		if err != nil {
			return customresource.OnEventResponse{}, err
		}
		if err := rec.Delete(ctx, event.PhysicalResourceID, conn.Name, owner); err != nil {
			return customresource.OnEventResponse{}, err
		}
		return customresource.OnEventResponse{PhysicalResourceID: event.PhysicalResourceID}, nil
	}
	return customresource.OnEventResponse{}, fmt.Errorf("unknown request type %q", event.RequestType)
}

// respondOnAccept has a create's result checked by respond before the create
// returns (reconcile.Reconciler.Accept), so that a response CloudFormation
// would refuse fails the create and removes what it made; the response
// built then is kept in *resp, for the handler to answer with.
func respondOnAccept(rec *reconcile.Reconciler, event customresource.Event, spec *oktaprops.Spec, resp *customresource.OnEventResponse) {
	rec.Accept = func(res *reconcile.Result) (err error) {
		*resp, err = respond(event, spec, res)
		return err
	}
}

// addProxyAssertionKey reads the proxy's assertion key, when the spec names
// one, and adds it to the spec's private_key_jwt clients. The old spec of an
// Update does not need it: reconciliation compares with what Okta holds.
func (h *Handler) addProxyAssertionKey(ctx context.Context, log *slog.Logger, spec *oktaprops.Spec) error {
	if spec.ProxyAssertionKeyARN == "" {
		return nil
	}
	if h.KMS == nil {
		return fmt.Errorf("%s %s is set, but the handler has no KMS client", oktaprops.PropProxyAssertionKeyARN, spec.ProxyAssertionKeyARN)
	}
	jwk, err := proxykey.JWK(ctx, h.KMS, spec.ProxyAssertionKeyARN)
	if err != nil {
		return err
	}
	if err := spec.AddProxyAssertionKey(jwk); err != nil {
		return err
	}
	log.InfoContext(ctx, "registering the EHR launch proxy's assertion key on the private_key_jwt clients",
		"keyArn", spec.ProxyAssertionKeyARN, "kid", jwk["kid"])
	return nil
}

// warnKept warns about what the parser accepted only because a stack may have
// been deployed with it (see oktaprops.Kept).
func warnKept(ctx context.Context, log *slog.Logger, kept oktaprops.Kept) {
	if len(kept.ReservedClaims) > 0 {
		log.WarnContext(ctx, "keeping claim names Okta reserves: an Update accepts them so that it and its rollback "+
			"do not fail on them; rename these claims: a new deployment refuses them", "claims", kept.ReservedClaims)
	}
	if len(kept.Relaxed) > 0 {
		log.WarnContext(ctx, "accepting values the previous version accepted and the current rules refuse, so that "+
			"this Update, its rollback or a Delete does not fail on them; change them: a new deployment refuses them",
			"values", kept.Relaxed)
	}
}

func (h *Handler) reconciler(ctx context.Context, log *slog.Logger, orgURL, credentialSecret string) (*reconcile.Reconciler, error) {
	creds, err := oktaclient.ReadCredentials(ctx, h.SecretsManager, credentialSecret)
	if err != nil {
		return nil, err
	}
	opts := h.Okta
	if opts.Retry.OnRetry == nil {
		opts.Retry.OnRetry = func(req *http.Request, attempt, status int, err error, wait time.Duration) {
			attrs := []any{"method", req.Method, "path", req.URL.Path, "attempt", attempt, "status", status, "wait", wait.String()}
			if err != nil {
				attrs = append(attrs, "error", oktaclient.Redact(err.Error()))
			}
			log.WarnContext(req.Context(), "retrying okta request", attrs...)
		}
	}
	client, err := oktaclient.New(ctx, orgURL, creds, opts)
	if err != nil {
		return nil, err
	}
	return &reconcile.Reconciler{Okta: client, Secrets: h.SecretsManager, SecretReader: h.SecretsManager, Log: log, CleanupReserve: h.CleanupReserve}, nil
}

// explainCredentialError says what to do when Okta refuses the management
// credential itself, which no retry fixes: a 401 E0000011 (an API token that
// was revoked or, unused for 30 days, expired; Okta support, "API token
// expiration") names the secret to rotate, and a 403 E0000006 (Okta support,
// "Receiving Error Code E0000006 ... Despite Having Correct Scopes") says the
// admin role is missing. The original error stays reachable (errors.As).
func explainCredentialError(err error, secret string) error {
	if secret == "" {
		secret = "named by " + oktaprops.PropCredentialSecretARN
	}
	var oe *okta.Error
	if errors.As(err, &oe) {
		switch oe.ErrorCode {
		case "E0000011":
			return fmt.Errorf("%w: Okta refused the management credential (401 E0000011). An Okta API token expires "+
				"after 30 days without use or when revoked: put a new one (or a service app's key) in the credential "+
				"secret %s and retry", err, secret)
		case "E0000006":
			return fmt.Errorf("%w: Okta refused the call (403 E0000006): the credential in secret %s lacks permission. "+
				"A service app needs an admin role assigned (Applications > the app > Admin roles) besides its Okta API "+
				"scopes; an API token has only the rights of the admin who created it. See the README's prerequisites", err, secret)
		}
	}
	var te *oktaclient.TokenError
	if errors.As(err, &te) && te.Code == "invalid_client" {
		return fmt.Errorf("%w: the service app's client id or key in the credential secret %s is not accepted by Okta", err, secret)
	}
	return err
}

// respond builds the handler's response (see oktaprops.Spec.ResponseData)
// and refuses one that would make the Provider framework's body exceed
// CloudFormation's limit: the framework adds the request's StackId,
// RequestId and LogicalResourceId and its own fields around the Data
// (cfnprops.FrameworkResponse), so the body is measured with this request's
// values. Parse bounds the same body at synthesis; this catches what it
// could only estimate (a custom domain's issuer, a bound audience).
func respond(event customresource.Event, spec *oktaprops.Spec, res *reconcile.Result) (customresource.OnEventResponse, error) {
	data := spec.ResponseData(oktaprops.ResponseValues{ServerID: res.ServerID, Issuer: res.Issuer, Audience: res.Audience,
		ClientIDs: res.ClientIDs, AppClientIDs: res.AppClientIDs})
	body := cfnprops.SuccessResponse(event.StackID, event.RequestID, event.LogicalResourceID, res.ServerID, data)
	if size := body.Size(); size < 0 || size > cfnprops.MaxResponseBytes {
		apps := ""
		if len(spec.Apps) > 0 {
			apps = fmt.Sprintf(" (%d of it the %d apps' client ids: use shorter app names or fewer apps)", spec.AppsDataSize(data), len(spec.Apps))
		}
		return customresource.OnEventResponse{}, fmt.Errorf("the response would be %d bytes, over CloudFormation's %d-byte limit on a custom resource response%s; issuer %s",
			size, cfnprops.MaxResponseBytes, apps, data[oktaprops.AttrIssuer])
	}
	return customresource.OnEventResponse{PhysicalResourceID: res.ServerID, Data: data}, nil
}
