package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// App profile keys that mark an app as this resource's. The profile is a
// free-form JSON object Okta keeps on OAuth apps; it is not secret.
const (
	profileManagedBy = "managedBy"
	profileOwner     = "owner"
	profileServer    = "authorizationServerId"
	profileClient    = "smartClient"
	// profileApp names a registry app (oktaprops.PropApps): with the owner tag
	// it is the app's identity, whatever its position in the list.
	profileApp     = "smartApp"
	managedByValue = "smart-healthlake"
)

type ownedApp struct {
	id   string
	kind oktaprops.ClientKind
	// app is the registry app's name; "" for the single clients (kind).
	app      string
	serverID string
	status   string
	created  time.Time
}

// ownApps lists the OIDC apps whose profile carries this owner's tag and one of
// the server ids (any server when serverIDs is nil), oldest first.
func (r *Reconciler) ownApps(ctx context.Context, owner Owner, serverIDs []string) ([]ownedApp, error) {
	return r.appsTagged(ctx, owner.Tag(), serverIDs)
}

// appsTagged is ownApps for the owner whose Tag is tag.
func (r *Reconciler) appsTagged(ctx context.Context, tag string, serverIDs []string) ([]ownedApp, error) {
	apps, resp, err := r.Okta.Application.ListApplications(ctx,
		query.NewQueryParams(query.WithFilter(`name eq "oidc_client"`), query.WithLimit(200)))
	if err != nil {
		return nil, fmt.Errorf("listing OIDC apps: %w", err)
	}
	all := make([]*okta.Application, 0, len(apps))
	for _, a := range apps {
		if app, ok := a.(*okta.Application); ok {
			all = append(all, app)
		}
	}
	if all, err = collect(ctx, all, resp, nil); err != nil {
		return nil, fmt.Errorf("listing OIDC apps: %w", err)
	}
	var out []ownedApp
	for _, a := range all {
		p, _ := a.Profile.(map[string]any)
		if p == nil || p[profileManagedBy] != managedByValue || p[profileOwner] != tag {
			continue
		}
		server, _ := p[profileServer].(string)
		kind, _ := p[profileClient].(string)
		app, _ := p[profileApp].(string)
		if serverIDs != nil && !slices.Contains(serverIDs, server) {
			continue
		}
		o := ownedApp{id: a.Id, kind: oktaprops.ClientKind(kind), app: app, serverID: server, status: a.Status}
		if a.Created != nil {
			o.created = *a.Created
		}
		out = append(out, o)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].created.Before(out[j].created) })
	return out, nil
}

func (r *Reconciler) convergeApps(ctx context.Context, x *run) error {
	owned, err := r.ownApps(ctx, x.owner, x.serverIDs)
	if err != nil {
		return err
	}
	x.owned = owned // the registry's apps are among them (convergeRegistryApps)
	have := map[oktaprops.ClientKind]ownedApp{}
	for _, a := range owned {
		if a.app != "" {
			continue
		}
		if _, dup := have[a.kind]; dup || !slices.Contains(oktaprops.ClientKinds, a.kind) {
			// A second app of a kind (or an unknown kind) can only come from an
			// interrupted earlier run: ours, and surplus.
			x.staleApps = append(x.staleApps, a)
			continue
		}
		have[a.kind] = a
	}
	for _, want := range x.spec.Clients {
		body := appBody(want, x.owner, x.as.Id)
		got, ok := have[want.Kind]
		delete(have, want.Kind)
		what := fmt.Sprintf("%s client %q", want.Kind, want.Label)
		if !ok {
			app, err := r.createApp(ctx, x, body, want.Label, what)
			if err != nil {
				return err
			}
			x.clientIDs[want.Kind] = clientID(app)
			x.apps[want.Kind] = app
			if want.HasSecret() {
				x.secretsChanged[want.Kind] = true
				if app.Credentials != nil && app.Credentials.OauthClient != nil {
					x.createdSecrets[want.Kind] = app.Credentials.OauthClient.ClientSecret
				}
			}
			continue
		}
		current, err := r.convergeApp(ctx, got.id, body, want.Label, what)
		if err != nil {
			return err
		}
		if got.serverID != x.as.Id && want.HasSecret() {
			x.secretsChanged[want.Kind] = true // taken over from a server that was deleted
		}
		x.clientIDs[want.Kind] = clientID(current)
		x.apps[want.Kind] = current
	}
	// What is left in have is no longer wanted.
	for _, kind := range oktaprops.ClientKinds {
		a, removed := have[kind]
		if !removed {
			continue
		}
		x.staleApps = append(x.staleApps, a)
		x.secretsChanged[kind] = true // its secret must leave the secret document
	}
	return nil
}

// clientID is the OAuth client_id; for OIDC apps Okta uses the app id.
func clientID(app *okta.OpenIdConnectApplication) string {
	if app.Credentials != nil && app.Credentials.OauthClient != nil && app.Credentials.OauthClient.ClientId != "" {
		return app.Credentials.OauthClient.ClientId
	}
	return app.Id
}

// createApp creates the OIDC app body (what names it in errors, label in
// the change log) and journals it, so that a Create that fails later deletes
// it again.
func (r *Reconciler) createApp(ctx context.Context, x *run, body *okta.OpenIdConnectApplication, label, what string) (*okta.OpenIdConnectApplication, error) {
	created, _, err := r.Okta.Application.CreateApplication(ctx, body, nil)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", what, err)
	}
	app, ok := created.(*okta.OpenIdConnectApplication)
	if !ok || app.Id == "" {
		return nil, fmt.Errorf("creating %s: Okta's answer has no app id", what)
	}
	if x.journal != nil {
		x.journal.appIDs = append(x.journal.appIDs, app.Id)
	}
	r.logChange(ctx, "create", "app", label, app.Id)
	return app, nil
}

// convergeApp reads the app id, replaces it with body when they differ and
// activates it when it is inactive. It returns the app as read.
func (r *Reconciler) convergeApp(ctx context.Context, id string, body *okta.OpenIdConnectApplication, label, what string) (*okta.OpenIdConnectApplication, error) {
	current, err := r.readApp(ctx, id, what)
	if err != nil {
		return nil, err
	}
	return current, r.updateApp(ctx, current, body, label, what)
}

// readApp reads the OIDC app id.
func (r *Reconciler) readApp(ctx context.Context, id, what string) (*okta.OpenIdConnectApplication, error) {
	current := okta.NewOpenIdConnectApplication()
	if _, _, err := r.Okta.Application.GetApplication(ctx, id, current, nil); err != nil {
		return nil, fmt.Errorf("reading %s (%s): %w", what, id, err)
	}
	return current, nil
}

// updateApp replaces the app current (as read) with body when they differ
// and activates it when it is inactive.
func (r *Reconciler) updateApp(ctx context.Context, current, body *okta.OpenIdConnectApplication, label, what string) error {
	id := current.Id
	if !appEqual(current, body) {
		body.Id = id
		// Okta's PUT replaces the app and wants the OAuth client_id back
		// (terraform-provider-okta does the same).
		body.Credentials.OauthClient.ClientId = clientID(current)
		if _, _, err := r.Okta.Application.UpdateApplication(ctx, id, body); err != nil {
			return fmt.Errorf("updating %s (%s): %w", what, id, err)
		}
		r.logChange(ctx, "update", "app", label, id)
	}
	if current.Status == "INACTIVE" {
		if _, err := r.Okta.Application.ActivateApplication(ctx, id); err != nil {
			return fmt.Errorf("activating %s (%s): %w", what, id, err)
		}
		r.logChange(ctx, "activate", "app", label, id)
	}
	return nil
}

func appBody(c oktaprops.Client, owner Owner, serverID string) *okta.OpenIdConnectApplication {
	app := okta.NewOpenIdConnectApplication()
	app.Label = c.Label
	app.Profile = map[string]any{
		profileManagedBy: managedByValue,
		profileOwner:     owner.Tag(),
		profileServer:    serverID,
		profileClient:    string(c.Kind),
	}
	app.Credentials = &okta.OAuthApplicationCredentials{OauthClient: &okta.ApplicationCredentialsOAuthClient{
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		PkceRequired:            boolPtr(c.PKCERequired),
		AutoKeyRotation:         boolPtr(true),
	}}
	settings := &okta.OpenIdConnectApplicationSettingsClient{
		ApplicationType:        c.ApplicationType,
		ConsentMethod:          c.ConsentMethod,
		RedirectUris:           slices.Clone(c.RedirectURIs),
		PostLogoutRedirectUris: slices.Clone(c.PostLogoutRedirectURIs),
	}
	for _, g := range c.GrantTypes {
		gt := okta.OAuthGrantType(g)
		settings.GrantTypes = append(settings.GrantTypes, &gt)
	}
	for _, rt := range c.ResponseTypes {
		t := okta.OAuthResponseType(rt)
		settings.ResponseTypes = append(settings.ResponseTypes, &t)
	}
	if len(c.JWKS) > 0 {
		settings.Jwks = &okta.OpenIdConnectApplicationSettingsClientKeys{}
		for _, k := range c.JWKS {
			settings.Jwks.Keys = append(settings.Jwks.Keys, jwk(k))
		}
	}
	app.Settings = &okta.OpenIdConnectApplicationSettings{OauthClient: settings}
	return app
}

// jwk converts a catalogue key (RSA public; the SDK's JsonWebKey has no EC
// members) to the SDK type.
func jwk(k map[string]any) *okta.JsonWebKey {
	s := func(name string) string { v, _ := k[name].(string); return v }
	out := &okta.JsonWebKey{Kty: s("kty"), Kid: s("kid"), Alg: s("alg"), Use: s("use"), E: s("e"), N: s("n")}
	if x5c, ok := k["x5c"].([]any); ok {
		for _, c := range x5c {
			if cs, ok := c.(string); ok {
				out.X5c = append(out.X5c, cs)
			}
		}
	}
	return out
}

func appEqual(a, b *okta.OpenIdConnectApplication) bool {
	if a.Label != b.Label || !reflect.DeepEqual(profileOf(a), profileOf(b)) {
		return false
	}
	if a.Credentials == nil || a.Credentials.OauthClient == nil || a.Settings == nil || a.Settings.OauthClient == nil {
		return false
	}
	ac, bc := a.Credentials.OauthClient, b.Credentials.OauthClient
	if ac.TokenEndpointAuthMethod != bc.TokenEndpointAuthMethod || isTrue(ac.PkceRequired) != isTrue(bc.PkceRequired) {
		return false
	}
	as, bs := a.Settings.OauthClient, b.Settings.OauthClient
	return as.ApplicationType == bs.ApplicationType && as.ConsentMethod == bs.ConsentMethod &&
		sameSet(enumStrings(as.GrantTypes), enumStrings(bs.GrantTypes)) &&
		sameSet(enumStrings(as.ResponseTypes), enumStrings(bs.ResponseTypes)) &&
		sameSet(as.RedirectUris, bs.RedirectUris) &&
		sameSet(as.PostLogoutRedirectUris, bs.PostLogoutRedirectUris) &&
		sameKeys(as.Jwks, bs.Jwks)
}

func profileOf(a *okta.OpenIdConnectApplication) map[string]any {
	p, _ := a.Profile.(map[string]any)
	out := map[string]any{}
	for _, k := range []string{profileManagedBy, profileOwner, profileServer, profileClient, profileApp} {
		out[k] = p[k]
	}
	return out
}

func enumStrings[T ~string](list []*T) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v != nil {
			out = append(out, string(*v))
		}
	}
	return out
}

// sameKeys compares two clients' JWKS key by key on what identifies a key
// (kty, kid, e, n), and on alg and use only where both sides have them: Okta's
// Apps API response schema for a client JWK (ApplicationSettingsClientKeys'
// keys in okta-management-openapi-spec) lists kid, status, kty, e and n, not
// alg or use, and a comparison that required them would rewrite every backend
// client on every deployment.
func sameKeys(a, b *okta.OpenIdConnectApplicationSettingsClientKeys) bool {
	var ak, bk []*okta.JsonWebKey
	if a != nil {
		ak = a.Keys
	}
	if b != nil {
		bk = b.Keys
	}
	if len(ak) != len(bk) {
		return false
	}
	either := func(x, y string) bool { return x == "" || y == "" || x == y }
	for i := range ak {
		x, y := ak[i], bk[i]
		if x.Kty != y.Kty || x.Kid != y.Kid || x.E != y.E || x.N != y.N || !either(x.Alg, y.Alg) || !either(x.Use, y.Use) {
			return false
		}
	}
	return true
}

// ---- client secrets ----

// ClientSecretDocument is the JSON written to the client-secret secret
// (ClientSecretArn): the confidential client's credential, with the issuer, so
// a web app needs one secret read. The introspection client's credential is not
// here but in its own secret (IntrospectionCredential), so that the token
// Lambda can be allowed to read it and nothing else.
type ClientSecretDocument struct {
	Issuer                   string `json:"issuer"`
	ConfidentialClientID     string `json:"confidentialClientId,omitempty"`
	ConfidentialClientSecret string `json:"confidentialClientSecret,omitempty"`
}

// IntrospectionCredential is the JSON written to the introspection secret
// (IntrospectionSecretArn): exactly what the token-validation Lambda reads
// (lambda/introspect, SMART_INTROSPECTION_SECRET_ARN).
type IntrospectionCredential struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// writeClientSecrets writes each stack-owned secret whose content changed in
// this run (or whose writing is forced). The handler cannot read the secrets
// back (its role only writes them), so "changed" is judged from what this run
// did.
func (r *Reconciler) writeClientSecrets(ctx context.Context, x *run) error {
	if err := r.writeConfidentialSecret(ctx, x); err != nil {
		return err
	}
	return r.writeIntrospectionSecret(ctx, x)
}

func (r *Reconciler) writeConfidentialSecret(ctx context.Context, x *run) error {
	const kind = oktaprops.ConfidentialClient
	arn := x.spec.ClientSecretARN
	if arn == "" || !(x.writeClientSecret || x.secretsChanged[kind]) {
		return nil
	}
	doc := ClientSecretDocument{Issuer: x.as.Issuer}
	if app, ok := x.apps[kind]; ok {
		secret, err := r.secretOf(ctx, x, kind, app)
		if err != nil {
			return err
		}
		doc.ConfidentialClientID, doc.ConfidentialClientSecret = x.clientIDs[kind], secret
	}
	if err := r.putSecret(ctx, arn, doc); err != nil {
		return fmt.Errorf("writing client secrets to %s: %w", arn, err)
	}
	r.Log.InfoContext(ctx, "wrote client secrets", "secretArn", arn, "confidentialClientId", doc.ConfidentialClientID)
	return nil
}

func (r *Reconciler) writeIntrospectionSecret(ctx context.Context, x *run) error {
	const kind = oktaprops.IntrospectionClient
	arn := x.spec.IntrospectionSecretARN
	app, ok := x.apps[kind]
	// Without the client there is nothing to write: the stack removes its secret
	// with it, and the deleted client's credential no longer works.
	if arn == "" || !ok || !(x.writeIntrospectionSecret || x.secretsChanged[kind]) {
		return nil
	}
	secret, err := r.secretOf(ctx, x, kind, app)
	if err != nil {
		return err
	}
	doc := IntrospectionCredential{ClientID: x.clientIDs[kind], ClientSecret: secret}
	if err := r.putSecret(ctx, arn, doc); err != nil {
		return fmt.Errorf("writing the introspection client credential to %s: %w", arn, err)
	}
	r.Log.InfoContext(ctx, "wrote the introspection client credential", "secretArn", arn, "introspectionClientId", doc.ClientID)
	return nil
}

// secretOf is the client secret of an app: as Okta returned it when this run
// made the app, else read from Okta.
func (r *Reconciler) secretOf(ctx context.Context, x *run, kind oktaprops.ClientKind, app *okta.OpenIdConnectApplication) (string, error) {
	if s := x.createdSecrets[kind]; s != "" {
		return s, nil
	}
	return r.clientSecret(ctx, app)
}

func (r *Reconciler) putSecret(ctx context.Context, arn string, doc any) error {
	raw, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	_, err = r.Secrets.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId: aws.String(arn), SecretString: aws.String(string(raw)),
	})
	return err
}

// clientSecret finds an existing app's secret: in the app itself (classic
// orgs), else the newest active one under /credentials/secrets (orgs with
// client-secret rotation leave it out of the app).
func (r *Reconciler) clientSecret(ctx context.Context, app *okta.OpenIdConnectApplication) (string, error) {
	if app.Credentials != nil && app.Credentials.OauthClient != nil && app.Credentials.OauthClient.ClientSecret != "" {
		return app.Credentials.OauthClient.ClientSecret, nil
	}
	secrets, _, err := r.Okta.Application.ListClientSecretsForApplication(ctx, app.Id)
	if err != nil {
		return "", fmt.Errorf("reading client secrets of app %s: %w", app.Id, err)
	}
	var best *okta.ClientSecret
	for _, s := range secrets {
		if s.Status != "ACTIVE" || s.ClientSecret == "" {
			continue
		}
		if best == nil || (s.Created != nil && best.Created != nil && s.Created.After(*best.Created)) {
			best = s
		}
	}
	if best == nil {
		return "", fmt.Errorf("app %s has no active client secret", app.Id)
	}
	return best.ClientSecret, nil
}
