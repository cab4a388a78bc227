package fakeokta

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// App is an OIDC application (name "oidc_client") as the fake stores it.
type App struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Label       string         `json:"label"`
	Status      string         `json:"status"`
	SignOnMode  string         `json:"signOnMode"`
	Profile     map[string]any `json:"profile,omitempty"`
	Created     time.Time      `json:"created"`
	LastUpdated time.Time      `json:"lastUpdated"`
	Credentials AppCredentials `json:"credentials"`
	Settings    AppSettings    `json:"settings"`
}

// AppCredentials hold the OAuth client credentials.
type AppCredentials struct {
	OauthClient struct {
		ClientID                string `json:"client_id"`
		ClientSecret            string `json:"client_secret,omitempty"`
		TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
		PkceRequired            bool   `json:"pkce_required"`
		AutoKeyRotation         bool   `json:"autoKeyRotation"`
	} `json:"oauthClient"`
}

// AppSettings hold the OIDC client settings.
type AppSettings struct {
	OauthClient struct {
		ApplicationType        string   `json:"application_type"`
		GrantTypes             []string `json:"grant_types"`
		ResponseTypes          []string `json:"response_types"`
		RedirectURIs           []string `json:"redirect_uris,omitempty"`
		PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
		ConsentMethod          string   `json:"consent_method"`
		IssuerMode             string   `json:"issuer_mode"`
		Jwks                   *struct {
			Keys []map[string]any `json:"keys"`
		} `json:"jwks,omitempty"`
	} `json:"oauthClient"`
}

// Apps returns a deep copy of every app.
func (s *Server) Apps() []App {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneAll(s.apps)
}

// App returns a deep copy of one app.
func (s *Server) App(id string) (App, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app(id)
	if a == nil {
		return App{}, false
	}
	return clone(*a), true
}

// AddApp creates an OIDC web app directly (not recorded), as someone else in the
// org would have.
func (s *Server) AddApp(label string, profile map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &App{ID: s.newID("0oa"), Name: "oidc_client", Label: label, Status: "ACTIVE", SignOnMode: "OPENID_CONNECT",
		Profile: profile, Created: s.now().UTC(), LastUpdated: s.now().UTC()}
	a.Credentials.OauthClient.ClientID = a.ID
	a.Credentials.OauthClient.TokenEndpointAuthMethod = "client_secret_basic"
	a.Credentials.OauthClient.ClientSecret = s.newSecret()
	a.Settings.OauthClient.ApplicationType = "web"
	a.Settings.OauthClient.GrantTypes = []string{"authorization_code"}
	a.Settings.OauthClient.ResponseTypes = []string{"code"}
	a.Settings.OauthClient.RedirectURIs = []string{"https://example.com/callback"}
	a.Settings.OauthClient.ConsentMethod = "TRUSTED"
	a.Settings.OauthClient.IssuerMode = "ORG_URL"
	s.apps = append(s.apps, a)
	return a.ID
}

// ClientSecrets returns every client secret the fake has generated and still
// holds, for tests that check no secret leaks anywhere.
func (s *Server) ClientSecrets() []string {
	var out []string
	for _, a := range s.Apps() {
		if sec := a.Credentials.OauthClient.ClientSecret; sec != "" {
			out = append(out, sec)
		}
	}
	return out
}

func (s *Server) app(id string) *App {
	for _, a := range s.apps {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (s *Server) appWire(a *App, withSecret bool) App {
	c := clone(*a)
	if !withSecret {
		c.Credentials.OauthClient.ClientSecret = ""
	}
	return c
}

func (s *Server) routeApps(r *http.Request, segs []string, body any) (int, any, []string, *apiError) {
	// client_secret is in the create answer only (and under
	// /credentials/secrets); see Options.ClientSecretsOnRead.
	readSecrets := s.opts.ClientSecretsOnRead
	if len(segs) == 0 {
		switch r.Method {
		case http.MethodGet:
			return s.listApps(r, readSecrets)
		case http.MethodPost:
			// Labels are not unique, active or not: the Apps API reference
			// dropped label's "Unique" in 2021.06.3 (okta/okta-developer-docs
			// PR #2230; release notes 2021.06.3, OKTA-403289, and 2021.05.1,
			// OKTA-215049 for a deactivated app's label). The refusal of
			// okta/okta-cli issue 56 (400 E0000001, 2020) predates that, so
			// the fake does not model it.
			a := &App{Created: s.now().UTC()}
			if err := s.writeApp(a, body); err != nil {
				return 0, nil, nil, err
			}
			a.ID = s.newID("0oa")
			a.Credentials.OauthClient.ClientID = a.ID
			a.Status = "ACTIVE"
			if r.URL.Query().Get("activate") == "false" {
				a.Status = "INACTIVE"
			}
			s.apps = append(s.apps, a)
			return http.StatusOK, s.appWire(a, true), nil, nil
		}
		return 0, nil, nil, methodNotAllowed()
	}
	a := s.app(segs[0])
	if a == nil {
		return 0, nil, nil, notFound(segs[0], "AppInstance")
	}
	if len(segs) == 1 {
		switch r.Method {
		case http.MethodGet:
			return 200, s.appWire(a, readSecrets), nil, nil
		case http.MethodPut:
			// replaceApplication replaces the whole app; the spec marks
			// client_id immutable (OAuth2Client.client_id). That a PUT
			// without it is refused is an assumption, not in the spec.
			cid, _ := lookup(body, "credentials", "oauthClient", "client_id")
			if cid == nil || cid == "" {
				return 0, nil, nil, invalid("credentials.oauthClient.client_id", "The field cannot be left blank")
			}
			if cid != a.Credentials.OauthClient.ClientID {
				return 0, nil, nil, invalid("credentials.oauthClient.client_id", "client_id cannot be changed")
			}
			// "After an app is created, you can't change the
			// application_type" (developer docs, Apps API reference, added by
			// okta/okta-developer-docs PR #3737; Okta's DCR endpoint answers
			// 400 "'application_type' cannot be modified.").
			if t, _ := lookup(body, "settings", "oauthClient", "application_type"); t != a.Settings.OauthClient.ApplicationType {
				return 0, nil, nil, invalid("settings.oauthClient.application_type", "'application_type' cannot be modified")
			}
			if err := s.writeApp(a, body); err != nil {
				return 0, nil, nil, err
			}
			return 200, s.appWire(a, readSecrets), nil, nil
		case http.MethodDelete:
			// deleteApplication: "Deletes an inactive application"; an active
			// one is 403 E0000056.
			if a.Status != "INACTIVE" {
				return 0, nil, nil, forbidden("E0000056", "Delete application forbidden.")
			}
			s.apps = slices.DeleteFunc(s.apps, func(x *App) bool { return x == a })
			delete(s.assignments, a.ID) // its group assignments go with it
			// Okta drops a deleted client from the policies that named it.
			// Not in the spec: an assumption the handler does not rely on
			// (it removes its clients from its policies itself).
			for _, as := range s.servers {
				for _, p := range as.Policies {
					p.Conditions.Clients.Include = slices.DeleteFunc(p.Conditions.Clients.Include,
						func(cid string) bool { return cid == a.ID })
				}
			}
			return http.StatusNoContent, nil, nil, nil
		}
		return 0, nil, nil, methodNotAllowed()
	}
	switch {
	case segs[1] == "groups" && len(segs) <= 3:
		return s.routeAppGroups(r, a, segs[2:], body)
	case segs[1] == "lifecycle" && len(segs) == 3 && r.Method == http.MethodPost:
		return s.lifecycle(&a.Status, segs[2])
	case segs[1] == "credentials" && len(segs) == 3 && segs[2] == "secrets" && r.Method == http.MethodGet:
		// listOAuth2ClientSecrets: the secrets, with client_secret, are here.
		var out []map[string]any
		if sec := a.Credentials.OauthClient.ClientSecret; sec != "" {
			out = append(out, map[string]any{"id": "ocs" + a.ID[3:], "status": "ACTIVE", "client_secret": sec,
				"secret_hash": fmt.Sprintf("%x", len(sec)), "created": a.Created, "lastUpdated": a.LastUpdated})
		}
		return 200, out, nil, nil
	}
	return 0, nil, nil, notFound(r.URL.Path, "Endpoint")
}

func (s *Server) listApps(r *http.Request, readSecrets bool) (int, any, []string, *apiError) {
	q := strings.ToLower(r.URL.Query().Get("q"))
	filter := r.URL.Query().Get("filter")
	var match func(*App) bool
	switch {
	case filter == "":
		match = func(*App) bool { return true }
	case strings.HasPrefix(filter, "name eq "):
		want := strings.Trim(strings.TrimPrefix(filter, "name eq "), `"`)
		match = func(a *App) bool { return a.Name == want }
	case strings.HasPrefix(filter, "status eq "):
		want := strings.Trim(strings.TrimPrefix(filter, "status eq "), `"`)
		match = func(a *App) bool { return a.Status == want }
	default:
		return 0, nil, nil, invalid("filter", "Invalid filter expression")
	}
	var list []*App
	for _, a := range s.apps {
		if !match(a) {
			continue
		}
		if q != "" && !strings.HasPrefix(strings.ToLower(a.Label), q) && !strings.HasPrefix(strings.ToLower(a.Name), q) {
			continue
		}
		list = append(list, a)
	}
	page, links, err := paginate(s, r, list, func(a *App) string { return a.ID })
	if err != nil {
		return 0, nil, nil, err
	}
	out := make([]App, 0, len(page))
	for _, a := range page {
		out = append(out, s.appWire(a, readSecrets))
	}
	return 200, out, links, nil
}

var appGrantTypes = []string{"authorization_code", "refresh_token", "implicit", "client_credentials", "password",
	"urn:ietf:params:oauth:grant-type:device_code"}

// Private members a JWK must not carry when registered as a client's public key.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"}

// maxClientKeys is the most keys a client's JWKS may hold (management API
// spec, ErrorClientJsonWebKeyTooManyKids: "the maximum number of keys
// allowed (50)").
const maxClientKeys = 50

// checkKids applies Okta's kid rules to a client's JWKS (management API spec):
// several keys each need a kid (addJwk: the Applications API does not "allow
// the creation of multiple keys without kids";
// ErrorClientJsonWebKeyNonUniqueKid), kids are unique
// (ErrorClientJsonWebKeyDuplicateKid: "All keys in the 'jwks' must have a
// unique `kid`"), and there are at most maxClientKeys keys.
func checkKids(keys []map[string]any) *apiError {
	if len(keys) > maxClientKeys {
		return invalid("JsonWebKey", fmt.Sprintf("You can't create a new key. You have reached the maximum number of keys allowed (%d).", maxClientKeys))
	}
	seen := map[string]bool{}
	for _, k := range keys {
		kid, _ := k["kid"].(string)
		if kid == "" && len(keys) > 1 {
			return invalid("JsonWebKey", "Each key should have a unique kid when adding multiple keys.")
		}
		if seen[kid] {
			return invalid("JsonWebKey", "All keys in the 'jwks' must have a unique `kid`.")
		}
		seen[kid] = true
	}
	return nil
}

// writeApp validates and stores an OIDC app (createApplication /
// replaceApplication with name oidc_client). The rules are the management API
// spec's OpenIdConnectApplicationSettingsClient and
// ApplicationCredentialsOAuthClient (application_type web, native, browser,
// service; grant types OAuthGrantType; token_endpoint_auth_method; public
// JWKs only for private_key_jwt, ApplicationSettingsOAuthClient jwks). The
// combination rules (service apps use client_credentials only, browser apps are
// public clients with PKCE, refresh_token needs a code flow, https redirect
// URIs except on localhost) are the Admin Console's app wizard's, not spelt out
// in the spec.
func (s *Server) writeApp(a *App, body any) *apiError {
	var in App
	if err := decode(body, &in); err != nil {
		return err
	}
	oc, st := in.Credentials.OauthClient, in.Settings.OauthClient
	switch {
	case in.Name != "oidc_client":
		return invalid("name", "this fake only knows OIDC apps (oidc_client)")
	case in.SignOnMode != "OPENID_CONNECT":
		return invalid("signOnMode", "must be OPENID_CONNECT")
	case strings.TrimSpace(in.Label) == "":
		return invalid("label", "The field cannot be left blank")
	case !slices.Contains([]string{"web", "native", "browser", "service"}, st.ApplicationType):
		return invalid("settings.oauthClient.application_type", "must be web, native, browser or service")
	case len(st.GrantTypes) == 0:
		return invalid("settings.oauthClient.grant_types", "At least one grant type is required")
	}
	for _, g := range st.GrantTypes {
		if !slices.Contains(appGrantTypes, g) {
			return invalid("settings.oauthClient.grant_types", fmt.Sprintf("'%s' is not a valid grant type", g))
		}
	}
	codeFlow := slices.Contains(st.GrantTypes, "authorization_code")
	switch st.ApplicationType {
	case "service":
		if codeFlow || !slices.Contains(st.GrantTypes, "client_credentials") {
			return invalid("settings.oauthClient.grant_types", "Service apps use client_credentials only")
		}
	case "browser", "native":
		if slices.Contains(st.GrantTypes, "client_credentials") {
			return invalid("settings.oauthClient.grant_types", "client_credentials is not allowed for "+st.ApplicationType+" apps")
		}
	}
	if slices.Contains(st.GrantTypes, "refresh_token") && !codeFlow && !slices.Contains(st.GrantTypes, "password") {
		return invalid("settings.oauthClient.grant_types", "refresh_token needs authorization_code")
	}
	if codeFlow {
		if !slices.Contains(st.ResponseTypes, "code") {
			return invalid("settings.oauthClient.response_types", "authorization_code needs response type code")
		}
		if len(st.RedirectURIs) == 0 {
			return invalid("settings.oauthClient.redirect_uris", "At least one redirect URI is required")
		}
	}
	for _, u := range append(slices.Clone(st.RedirectURIs), st.PostLogoutRedirectURIs...) {
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "" || (p.Scheme == "http" && p.Hostname() != "localhost") {
			return invalid("settings.oauthClient.redirect_uris", fmt.Sprintf("'%s' is not a valid redirect URI", u))
		}
	}
	method := oc.TokenEndpointAuthMethod
	if method == "" {
		method = "client_secret_basic"
	}
	switch method {
	case "client_secret_basic", "client_secret_post", "client_secret_jwt":
		if st.ApplicationType == "browser" {
			return invalid("credentials.oauthClient.token_endpoint_auth_method", "browser apps are public clients")
		}
	case "none":
		if st.ApplicationType == "service" || st.ApplicationType == "web" {
			return invalid("credentials.oauthClient.token_endpoint_auth_method", st.ApplicationType+" apps must authenticate")
		}
		if !oc.PkceRequired {
			return invalid("credentials.oauthClient.pkce_required", "Public clients must require PKCE")
		}
	case "private_key_jwt":
		if st.Jwks == nil || len(st.Jwks.Keys) == 0 {
			return invalid("settings.oauthClient.jwks", "private_key_jwt needs at least one public key")
		}
		for _, k := range st.Jwks.Keys {
			for _, m := range privateJWKMembers {
				if _, ok := k[m]; ok {
					return invalid("settings.oauthClient.jwks", "A JWK set for client authentication must hold public keys only")
				}
			}
			if kty, _ := k["kty"].(string); kty != "RSA" && kty != "EC" {
				return invalid("settings.oauthClient.jwks", "kty must be RSA or EC")
			}
		}
		if err := checkKids(st.Jwks.Keys); err != nil {
			return err
		}
	default:
		return invalid("credentials.oauthClient.token_endpoint_auth_method", fmt.Sprintf("'%s' is not supported", method))
	}
	if st.ConsentMethod == "" {
		st.ConsentMethod = "TRUSTED"
	}
	if st.ConsentMethod != "TRUSTED" && st.ConsentMethod != "REQUIRED" {
		return invalid("settings.oauthClient.consent_method", "must be TRUSTED or REQUIRED")
	}
	if st.IssuerMode == "" {
		st.IssuerMode = "ORG_URL"
	}
	if st.ResponseTypes == nil {
		st.ResponseTypes = []string{}
	}

	// Keep what the client cannot set: id, client id, secret, status, created.
	secret := a.Credentials.OauthClient.ClientSecret
	switch {
	case strings.HasPrefix(method, "client_secret"):
		if secret == "" {
			secret = s.newSecret()
		}
	default:
		secret = ""
	}
	in.ID, in.Status, in.Created = a.ID, a.Status, a.Created
	in.LastUpdated = s.now().UTC()
	in.Credentials.OauthClient.ClientID = a.Credentials.OauthClient.ClientID
	in.Credentials.OauthClient.ClientSecret = secret
	in.Credentials.OauthClient.TokenEndpointAuthMethod = method
	in.Settings.OauthClient = st
	*a = in
	return nil
}
