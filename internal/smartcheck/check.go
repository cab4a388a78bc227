package smartcheck

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/internal/randhex"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/smartscope"
)

// Config is what a run needs.
type Config struct {
	// FHIREndpoint is the data store's FHIR base URL (the FhirEndpoint output).
	FHIREndpoint string
	// Issuer is the authorization server's issuer (the Issuer output).
	Issuer string
	// TokenEndpoint overrides the token endpoint; by default the SMART
	// configuration's is used.
	TokenEndpoint string
	// Audience is the aud the access tokens must carry. Default: the FHIR
	// endpoint, as the project's Okta audience binding sets it; a deployment
	// that lists other audiences in the validator's SMART_AUDIENCES gives one.
	Audience string
	// ClientID is the backend service's client id (BackendClientId).
	ClientID string
	// Key signs the client assertion.
	Key ClientKey
	// Scope is what the token is requested with, space-separated; it must hold
	// at least one resource scope allowing search. Default: system/Patient.rs,
	// or system/Patient.read on a SMART v1 data store (SmartVersion v1, or a
	// SMART configuration without permission-v2).
	Scope string
	// SmartVersion is the data store's SMART version as configured
	// (AuthorizationStrategy SMART_ON_FHIR_V1 is v1, SMART_ON_FHIR v2), which
	// the SMART configuration must advertise. Empty: unknown; then the
	// document is judged by its own permission-v2, and a v2 scope the data
	// store serves proves v2 (the allowed search fails when permission-v2 is
	// absent).
	SmartVersion smart.Version
	// ForbiddenType is a resource type the scope must not reach. Default: the
	// first of a few common types the scope does not cover.
	ForbiddenType string
	// EHRLaunchAPI is the EHR launch API's base URL (the EhrLaunchApiUrl
	// output). A SMART configuration advertising launch-ehr may name
	// authorization, token and introspection endpoints under it instead of
	// the issuer's; the issuer and jwks_uri must still be the issuer's.
	EHRLaunchAPI string
	// EHRLaunch, if set, runs the ehr-launch check (ehrlaunch.go).
	EHRLaunch *EHRLaunch
	// Calls is how many searches the p50 is taken over. Default: 5.
	Calls int
	// HTTPClient makes every request. Default: a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// commonTypes are candidates for the forbidden-type check, all R4 types
// HealthLake serves.
var commonTypes = []string{"Patient", "Observation", "Condition", "Encounter", "MedicationRequest",
	"AllergyIntolerance", "Procedure", "Immunization", "DiagnosticReport", "Practitioner", "Organization"}

// run holds the state the checks pass on to each other.
type run struct {
	ctx     context.Context
	cfg     Config
	report  *Report
	smart   map[string]json.RawMessage
	doc     smartmeta.Document
	issuer  map[string]any
	keys    *jose.JSONWebKeySet
	token   string
	allowed string // resource type the scope lets us search
	id      string // a resource id found by the allowed search
}

// Run performs every check and returns the report; it never stops early, but a
// check whose prerequisite failed is skipped.
func Run(ctx context.Context, cfg Config) Report {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Calls <= 0 {
		cfg.Calls = 5
	}
	if !strings.HasSuffix(cfg.FHIREndpoint, "/") {
		cfg.FHIREndpoint += "/" // HealthLake's endpoints end with "/"; the SMART path is relative to it
	}
	if cfg.EHRLaunch != nil {
		e := *cfg.EHRLaunch // the check fills in defaults
		cfg.EHRLaunch = &e
	}
	rep := &Report{FHIREndpoint: cfg.FHIREndpoint}
	r := &run{ctx: ctx, cfg: cfg, report: rep}

	r.check(CheckSmartConfiguration, r.smartConfiguration)
	if r.cfg.Scope == "" { // no SMART configuration read to pick the default by
		r.cfg.Scope = "system/Patient.rs"
		if r.cfg.SmartVersion == smart.V1 {
			r.cfg.Scope = "system/Patient.read"
		}
	}
	r.check(CheckIssuerDiscovery, r.issuerDiscovery)
	r.check(CheckJWKS, r.jwks)
	r.check(CheckToken, r.getToken)
	r.check(CheckTokenClaims, r.tokenClaims)
	r.check(CheckAllowedSearch, r.allowedSearch)
	r.check(CheckAllowedRead, r.allowedRead)
	r.check(CheckForbiddenType, r.forbiddenType)
	r.check(CheckNoToken, r.noToken)
	r.check(CheckAlteredSignature, r.alteredSignature)
	r.check(CheckExpiredToken, r.tampered(CheckExpiredToken))
	r.check(CheckWrongAudience, r.tampered(CheckWrongAudience))
	r.check(CheckAlgNone, r.algNone)
	r.check(CheckLatency, r.latency)
	if cfg.EHRLaunch != nil {
		r.check(CheckEHRLaunch, r.ehrLaunch)
	}

	rep.Passed = len(rep.Failed()) == 0
	return *rep
}

// errSkip makes a check report Skip with its message.
type errSkip struct{ why string }

func (e errSkip) Error() string { return e.why }

func skip(format string, args ...any) error { return errSkip{fmt.Sprintf(format, args...)} }

// check runs one check; fn returns the detail, or an error whose message says
// what is wrong and what to fix (errSkip for a check that does not apply). The
// duration fn returns (its HTTP call's) is reported; zero means fn's own.
func (r *run) check(name string, fn func(context.Context) (string, time.Duration, error)) {
	start := time.Now()
	detail, d, err := fn(r.ctx)
	if d == 0 {
		d = time.Since(start)
	}
	res := Result{Name: name, Status: Pass, Duration: d, Detail: detail}
	var s errSkip
	switch {
	case errors.As(err, &s):
		res.Status, res.Detail, res.Duration = Skip, s.why, 0
	case err != nil:
		res.Status, res.Detail = Fail, err.Error()
	}
	res.DurationMS = ms(res.Duration)
	r.report.Results = append(r.report.Results, res)
}

func (r *run) passed(name string) bool {
	res, ok := r.report.Result(name)
	return ok && res.Status == Pass
}

// get fetches a URL; token "" sends no Authorization header.
func (r *run) get(ctx context.Context, u, token string) (int, []byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("building the request for %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/fhir+json, application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, time.Since(start), fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	d := time.Since(start)
	if err != nil {
		return resp.StatusCode, nil, d, fmt.Errorf("reading %s: %w", u, err)
	}
	return resp.StatusCode, body, d, nil
}

// 1. The SMART configuration, served by HealthLake without a token.

func (r *run) smartConfiguration(ctx context.Context) (string, time.Duration, error) {
	u := r.cfg.FHIREndpoint + ".well-known/smart-configuration"
	status, body, d, err := r.get(ctx, u, "")
	if err != nil {
		return "", d, fmt.Errorf("%w: check the FhirEndpoint output and your network", err)
	}
	switch {
	case status == http.StatusNotFound:
		return "", d, fmt.Errorf("GET %s: 404: the data store is not SMART-enabled (AuthorizationStrategy AWS_AUTH?) or the FHIR endpoint is wrong", u)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "", d, fmt.Errorf("GET %s: %d without a token: SMART apps must be able to read it anonymously; the endpoint is not a SMART data store", u, status)
	case status != http.StatusOK:
		return "", d, fmt.Errorf("GET %s: HTTP %d: %s", u, status, snippet(body))
	}
	if err := json.Unmarshal(body, &r.smart); err != nil {
		return "", d, fmt.Errorf("%s is not a JSON object: %v", u, err)
	}
	if err := json.Unmarshal(body, &r.doc); err != nil {
		return "", d, fmt.Errorf("%s has a field of the wrong type: %v", u, err)
	}
	advertised := smart.V1
	if slices.Contains(r.doc.Capabilities, "permission-v2") {
		advertised = smart.V2
	}
	v := advertised
	switch r.cfg.SmartVersion {
	case smart.V2:
		if advertised != smart.V2 {
			return "", d, fmt.Errorf("the data store is SMART v2 (SMART_ON_FHIR) but its SMART configuration lacks permission-v2: apps will not use v2 scopes; the Metadata must be rebuilt for SMART v2 and redeployed")
		}
	case smart.V1:
		if advertised == smart.V2 {
			return "", d, fmt.Errorf("the data store is SMART v1 (SMART_ON_FHIR_V1), which accepts v1 scopes only, but its SMART configuration advertises permission-v2: apps will ask for scopes it refuses; the Metadata must be rebuilt for SMART v1 and redeployed")
		}
	}
	if r.cfg.Scope == "" {
		r.cfg.Scope = "system/Patient.rs"
		if v == smart.V1 {
			r.cfg.Scope = "system/Patient.read"
		}
	}
	// The project's own validator of the document it gives HealthLake: SMART App
	// Launch 2.x required fields, S256 and never plain, known capabilities, and
	// HealthLake's grant types.
	if err := smartmeta.Validate(body, v); err != nil {
		return "", d, fmt.Errorf("the SMART configuration is invalid (%s); the data store's Metadata must be fixed and redeployed", oneLine(err))
	}
	if r.doc.Issuer != "" && r.doc.Issuer != r.cfg.Issuer {
		return "", d, fmt.Errorf("the SMART configuration's issuer is %s, not %s: the data store's Metadata names another authorization server", r.doc.Issuer, r.cfg.Issuer)
	}
	// The flow the next checks run is SMART Backend Services: a client
	// discovering the server from this document must find it advertised.
	var missing []string
	if !slices.Contains(r.doc.GrantTypesSupported, "client_credentials") {
		missing = append(missing, "client_credentials in grant_types_supported")
	}
	if !slices.Contains(r.doc.TokenEndpointAuthMethodsSupported, "private_key_jwt") {
		missing = append(missing, "private_key_jwt in token_endpoint_auth_methods_supported")
	}
	if !slices.Contains(r.doc.Capabilities, "client-confidential-asymmetric") {
		missing = append(missing, "the client-confidential-asymmetric capability")
	}
	if len(missing) > 0 {
		return "", d, fmt.Errorf("the SMART configuration does not advertise SMART Backend Services (no %s): the data store's Support must include backend services (a backend client, okta.backendClientJwks), then redeploy", strings.Join(missing, ", no "))
	}
	detail := fmt.Sprintf("SMART %s, %d capabilities, PKCE %s, backend services", v, len(r.doc.Capabilities), strings.Join(r.doc.CodeChallengeMethodsSupported, ","))
	// SMART's asymmetric client authentication page lists
	// token_endpoint_auth_signing_alg_values_supported, with RS384 or ES384,
	// among the properties of such a server, without a SHALL: its absence is
	// a warning, a list without either algorithm a failure.
	algs := r.doc.TokenEndpointAuthSigningAlgValuesSupported
	switch {
	case len(algs) == 0:
		detail += "; warning: no token_endpoint_auth_signing_alg_values_supported (SMART lists it, with RS384 or ES384, for asymmetric client authentication)"
	case !slices.Contains(algs, "RS384") && !slices.Contains(algs, "ES384"):
		return "", d, fmt.Errorf("token_endpoint_auth_signing_alg_values_supported is %v: SMART asymmetric client authentication needs RS384 or ES384 among them", algs)
	case r.cfg.Key.Signer != nil:
		if m, err := signingMethod(r.cfg.Key.Signer); err == nil && !slices.Contains(algs, m.Alg()) {
			return "", d, fmt.Errorf("token_endpoint_auth_signing_alg_values_supported is %v, without %s, the algorithm of the private key given: use a key the server accepts", algs, m.Alg())
		}
	}
	return detail, d, nil
}

// 2. The issuer's own discovery and keys.

func (r *run) issuerDiscovery(ctx context.Context) (string, time.Duration, error) {
	var last error
	var total time.Duration
	for _, wk := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		u := strings.TrimSuffix(r.cfg.Issuer, "/") + wk
		status, body, d, err := r.get(ctx, u, "")
		total += d
		if err != nil {
			last = err
			continue
		}
		if status != http.StatusOK {
			last = fmt.Errorf("GET %s: HTTP %d", u, status)
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			return "", total, fmt.Errorf("%s is not JSON: %v", u, err)
		}
		if doc["issuer"] != r.cfg.Issuer {
			return "", total, fmt.Errorf("%s says issuer %v, not %s: tokens will carry that iss and the validator will refuse them; use the Issuer output exactly", u, doc["issuer"], r.cfg.Issuer)
		}
		r.issuer = doc
		if r.smart == nil {
			return "", total, skip("discovery read, but there is no SMART configuration to compare it with")
		}
		var problems, proxied []string
		ehr := slices.Contains(r.doc.Capabilities, "launch-ehr")
		api := strings.TrimSuffix(r.cfg.EHRLaunchAPI, "/")
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "jwks_uri", "introspection_endpoint"} {
			ours, _ := doc[k].(string)
			var theirs string
			_ = json.Unmarshal(r.smart[k], &theirs)
			// An EHR launch stack advertises its proxies (lambda/ehrlaunch)
			// for the endpoints apps call; the issuer and its keys stay Okta's.
			// Each proxy is one exact path: an endpoint merely under the API
			// (token_endpoint = API/authorize) or still Okta's (Metadata from
			// before EHR launch) would send apps past the proxy.
			if want, ok := ehrProxyPath[k]; ok && ehr && api != "" {
				switch {
				case theirs == api+want:
					proxied = append(proxied, k)
				case theirs == "" && k == "introspection_endpoint":
				default:
					problems = append(problems, fmt.Sprintf("%s is %q in the SMART configuration, not the EHR launch API's %s (the configuration advertises launch-ehr)", k, theirs, api+want))
				}
				continue
			}
			if theirs != "" && ours != "" && theirs != ours {
				problem := fmt.Sprintf("%s is %s in the SMART configuration but %s at the issuer", k, theirs, ours)
				if ehr && k != "jwks_uri" {
					problem += " (the configuration advertises launch-ehr: if this is the EHR launch API's proxy, pass --stack or --ehr-launch-api)"
				}
				problems = append(problems, problem)
			}
			if theirs == "" && ours == "" && k != "introspection_endpoint" {
				problems = append(problems, k+" is in neither document")
			}
		}
		if len(problems) > 0 {
			return "", total, fmt.Errorf("%s: the data store's Metadata is stale or names another authorization server; redeploy so the data store resource updates it", strings.Join(problems, "; "))
		}
		detail := "consistent with " + wk
		if len(proxied) > 0 {
			detail += fmt.Sprintf("; %s proxied by the EHR launch API %s (launch-ehr)", strings.Join(proxied, ", "), r.cfg.EHRLaunchAPI)
		}
		return detail, total, nil
	}
	return "", total, fmt.Errorf("no discovery document at the issuer (%v): check the Issuer output", last)
}

// ehrProxyPath is where the EHR launch API serves each proxied endpoint
// (ehrlaunchenv's PathAuthorize, PathToken, PathIntrospect).
var ehrProxyPath = map[string]string{
	"authorization_endpoint": "/authorize",
	"token_endpoint":         "/token",
	"introspection_endpoint": "/introspect",
}

// under reports whether u is base or a URL below it: same scheme and host,
// and a path that continues base's at a segment boundary.
func under(u, base string) bool {
	pu, err1 := url.Parse(u)
	pb, err2 := url.Parse(base)
	if err1 != nil || err2 != nil || pb.Host == "" || pu.User != nil {
		return false
	}
	if !strings.EqualFold(pu.Scheme, pb.Scheme) || !strings.EqualFold(pu.Host, pb.Host) {
		return false
	}
	prefix := strings.TrimSuffix(pb.Path, "/")
	return pu.Path == prefix || strings.HasPrefix(pu.Path, prefix+"/")
}

func (r *run) jwks(ctx context.Context) (string, time.Duration, error) {
	u, _ := r.issuer["jwks_uri"].(string)
	if u == "" {
		_ = json.Unmarshal(r.smart["jwks_uri"], &u)
	}
	if u == "" {
		return "", 0, skip("no jwks_uri known")
	}
	status, body, d, err := r.get(ctx, u, "")
	if err != nil {
		return "", d, err
	}
	if status != http.StatusOK {
		return "", d, fmt.Errorf("GET %s: HTTP %d: the validator cannot verify any token without the keys", u, status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return "", d, fmt.Errorf("%s is not a JWK Set: %v", u, err)
	}
	var signing int
	for _, k := range set.Keys {
		if !k.IsPublic() {
			return "", d, fmt.Errorf("%s publishes private key material (kid %q): rotate that key now", u, k.KeyID)
		}
		if k.Use == "" || k.Use == "sig" {
			signing++
		}
		if k.KeyID == "" {
			return "", d, fmt.Errorf("%s has a key without kid: the validator selects keys by kid", u)
		}
	}
	if signing == 0 {
		return "", d, fmt.Errorf("%s holds no signing key", u)
	}
	r.keys = &set
	return fmt.Sprintf("%d signing key(s)", signing), d, nil
}

// 3. A SMART Backend Services token.

func (r *run) tokenEndpoint() string {
	if r.cfg.TokenEndpoint != "" {
		return r.cfg.TokenEndpoint
	}
	if r.doc.TokenEndpoint != "" {
		return r.doc.TokenEndpoint
	}
	s, _ := r.issuer["token_endpoint"].(string)
	return s
}

func (r *run) getToken(ctx context.Context) (string, time.Duration, error) {
	endpoint := r.tokenEndpoint()
	switch {
	case endpoint == "":
		return "", 0, skip("no token endpoint known (pass --token-endpoint)")
	case r.cfg.ClientID == "" || r.cfg.Key.Signer == nil:
		// Not a skip: a run that checked no FHIR call must not pass as a deployment gate.
		return "", 0, errors.New("no client id or private key given: pass --client-id (a stack has a BackendClientId output when okta.backendClientJwks is configured in cdk.json) and --private-key or --private-key-secret; without a token no FHIR check can run")
	}
	method, err := signingMethod(r.cfg.Key.Signer)
	if err != nil {
		return "", 0, err
	}
	now := r.cfg.Now()
	// SMART Backend Services: iss = sub = client_id, aud = token endpoint, exp
	// at most five minutes ahead, a fresh jti.
	assertion := jwt.NewWithClaims(method, jwt.RegisteredClaims{
		Issuer:    r.cfg.ClientID,
		Subject:   r.cfg.ClientID,
		Audience:  jwt.ClaimStrings{endpoint},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)),
		ID:        randhex.String(16),
	})
	if r.cfg.Key.KeyID != "" {
		assertion.Header["kid"] = r.cfg.Key.KeyID
	}
	signed, err := assertion.SignedString(r.cfg.Key.Signer)
	if err != nil {
		return "", 0, fmt.Errorf("signing the client assertion: %w", err)
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {r.cfg.Scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {signed},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("building the token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	start := time.Now()
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", time.Since(start), fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	d := time.Since(start)
	r.report.Timings.TokenMS = ms(d)
	var out struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &out)
	if resp.StatusCode != http.StatusOK {
		return "", d, tokenError(resp.StatusCode, out.Error, out.Description, r.cfg, method.Alg())
	}
	if out.AccessToken == "" || !strings.EqualFold(out.TokenType, "Bearer") {
		return "", d, fmt.Errorf("the token response has no access_token or a token_type other than Bearer (%q)", out.TokenType)
	}
	r.token = out.AccessToken
	detail := fmt.Sprintf("client_credentials, %s assertion, expires in %ds, scope %q", method.Alg(), out.ExpiresIn, out.Scope)
	if r.cfg.Key.KeyID == "" {
		// SMART makes kid required in the assertion header; Okta refuses a
		// kid-less assertion once the client has two keys (a rotation).
		detail += "; warning: the assertion carried no kid (pass --key-id with the kid the public key is registered under)"
	}
	if out.Scope != "" {
		for _, s := range strings.Fields(r.cfg.Scope) {
			if !slices.Contains(strings.Fields(out.Scope), s) {
				return detail, d, fmt.Errorf("asked for %q, granted %q: the authorization server's policy rule does not grant %s to client %s", r.cfg.Scope, out.Scope, s, r.cfg.ClientID)
			}
		}
	}
	return detail, d, nil
}

func tokenError(status int, code, description string, cfg Config, alg string) error {
	base := fmt.Sprintf("the token endpoint answered %d %s (%s)", status, code, description)
	switch code {
	case "invalid_client":
		return fmt.Errorf("%s: check that --client-id is the BackendClientId output, that the client's registered JWKS holds the public key of the private key given (signed %s), and that --key-id is its kid there (sent %q)", base, alg, cfg.Key.KeyID)
	case "invalid_scope":
		return fmt.Errorf("%s: the authorization server does not define a scope of %q; add it to the scope catalogue (and the backend-services policy rule)", base, cfg.Scope)
	case "access_denied":
		return fmt.Errorf("%s: the policy rule does not grant these scopes (%q) to client %s; add them to the backend-services policy rule, or request fewer", base, cfg.Scope, cfg.ClientID)
	case "invalid_dpop_proof", "use_dpop_nonce":
		return fmt.Errorf("%s: the client requires DPoP-bound tokens, which smartcheck does not send; SMART Backend Services clients of this project use Bearer tokens: turn off \"Require DPoP\" on the backend client", base)
	case "unauthorized_client", "unsupported_grant_type":
		return fmt.Errorf("%s: the client is not allowed client_credentials; it must be a service (backend) app", base)
	}
	return errors.New(base)
}

// tokenClaims verifies the access token as the data store's validator will,
// when it is a JWT, so that a misconfiguration is named before FHIR calls fail.
func (r *run) tokenClaims(ctx context.Context) (string, time.Duration, error) {
	if r.token == "" {
		return "", 0, skip("no token")
	}
	if strings.Count(r.token, ".") != 2 {
		return "", 0, skip("the access token is opaque (not a JWT); only the FHIR calls can judge it")
	}
	if r.keys == nil {
		return "", 0, skip("no JWK Set to verify the token with")
	}
	claims := jwt.MapClaims{}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"}),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(r.cfg.Now), jwt.WithLeeway(time.Minute))
	_, err := parser.ParseWithClaims(r.token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		keys := r.keys.Key(kid)
		if len(keys) == 0 {
			return nil, fmt.Errorf("no key with kid %q in the JWK Set", kid)
		}
		return keys[0].Key, nil
	})
	if err != nil {
		return "", 0, fmt.Errorf("the access token does not verify against the issuer's JWK Set (%v): the validator will refuse it", err)
	}
	if iss, _ := claims["iss"].(string); iss != r.cfg.Issuer {
		return "", 0, fmt.Errorf("the token's iss is %s, the validator expects %s (SMART_ISSUER)", iss, r.cfg.Issuer)
	}
	aud, _ := claims.GetAudience()
	if r.cfg.Audience != "" {
		want := strings.TrimSuffix(r.cfg.Audience, "/")
		if !slices.ContainsFunc(aud, func(a string) bool { return strings.TrimSuffix(a, "/") == want }) {
			return "", 0, fmt.Errorf("the token's aud is %s, not the --audience %s: the validator's SMART_AUDIENCES must list the audience the authorization server sets", strings.Join(aud, ","), r.cfg.Audience)
		}
		return "signature, iss, aud (" + r.cfg.Audience + ") and exp as the validator checks them", 0, nil
	}
	want := strings.TrimSuffix(r.cfg.FHIREndpoint, "/")
	if !slices.ContainsFunc(aud, func(a string) bool { return strings.TrimSuffix(a, "/") == want }) {
		return "", 0, fmt.Errorf("the token's aud is %s, the data store expects %s: the Okta audience binding did not run (redeploy; tokens issued before the first deployment finished carry the placeholder audience)", strings.Join(aud, ","), r.cfg.FHIREndpoint)
	}
	return "signature, iss, aud and exp as the validator checks them", 0, nil
}

// 4. FHIR calls.

// scopeReach reports whether the configured scope grants perm on a type, in
// any compartment.
func (r *run) scopeReach(typ string, perm smartscope.Perm) bool {
	for _, s := range strings.Fields(r.cfg.Scope) {
		sc := smartscope.Parse(s)
		if (sc.Kind == smartscope.ResourceV1 || sc.Kind == smartscope.ResourceV2) && sc.Filter == "" &&
			(sc.Resource == "*" || sc.Resource == typ) && sc.Perms&perm != 0 {
			return true
		}
	}
	return false
}

// onlyV2Reach reports whether every scope that lets the token search typ is a
// SMART v2 scope.
func (r *run) onlyV2Reach(typ string) bool {
	n := 0
	for _, s := range strings.Fields(r.cfg.Scope) {
		sc := smartscope.Parse(s)
		if (sc.Kind == smartscope.ResourceV1 || sc.Kind == smartscope.ResourceV2) && sc.Filter == "" &&
			(sc.Resource == "*" || sc.Resource == typ) && sc.Perms&smartscope.Search != 0 {
			if sc.Kind != smartscope.ResourceV2 {
				return false
			}
			n++
		}
	}
	return n > 0
}

func (r *run) allowedType() string {
	for _, s := range strings.Fields(r.cfg.Scope) {
		sc := smartscope.Parse(s)
		if (sc.Kind == smartscope.ResourceV1 || sc.Kind == smartscope.ResourceV2) && sc.Filter == "" && sc.Perms&smartscope.Search != 0 {
			if sc.Resource == "*" {
				return "Patient"
			}
			return sc.Resource
		}
	}
	return ""
}

// explain turns a refused FHIR call into what to fix.
func explain(status int, body []byte, scope string) string {
	msg := diagnostics(body)
	switch {
	case strings.Contains(msg, "Timeout during custom Idp execution"):
		return fmt.Sprintf("HTTP %d %q: the token validator took longer than HealthLake's 1 s budget; set tokenValidator.provisionedConcurrency and check the DurationP99Alarm", status, msg)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// HealthLake documents no status that tells a token the validator
		// refused from a scope it found insufficient: name both causes.
		return fmt.Sprintf("HTTP %d %q: the data store refused a fresh token; either the token validator did not authorize it (its log line's reason code says why: audience_mismatch, issuer_mismatch, no_smart_scope, keys_unavailable ...) or the data store did not find %q sufficient (check the validator's SMART_VERSION against the data store's SMART version, and fhirUser for user/ scopes)", status, msg, scope)
	}
	return fmt.Sprintf("HTTP %d %q", status, msg)
}

func (r *run) allowedSearch(ctx context.Context) (string, time.Duration, error) {
	if r.token == "" {
		return "", 0, skip("no token")
	}
	r.allowed = r.allowedType()
	if r.allowed == "" {
		return "", 0, fmt.Errorf("the scope %q allows no search; request a resource scope with s (v2) or read (v1)", r.cfg.Scope)
	}
	u := r.cfg.FHIREndpoint + r.allowed + "?_count=1"
	status, body, d, err := r.get(ctx, u, r.token)
	r.report.Timings.FirstFHIRCallMS = ms(d)
	if err != nil {
		return "", d, err
	}
	if status != http.StatusOK {
		return "", d, fmt.Errorf("GET %s with the token: %s", u, explain(status, body, r.cfg.Scope))
	}
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &bundle) != nil || bundle.ResourceType != "Bundle" {
		return "", d, fmt.Errorf("GET %s answered 200 but not with a FHIR Bundle", u)
	}
	if len(bundle.Entry) > 0 && bundle.Entry[0].Resource.ResourceType == r.allowed {
		r.id = bundle.Entry[0].Resource.ID
	}
	// Without a configured version, a v2 scope the data store serves is the
	// proof that it is SMART v2, which its SMART configuration must say.
	if r.cfg.SmartVersion == "" && r.smart != nil && !slices.Contains(r.doc.Capabilities, "permission-v2") && r.onlyV2Reach(r.allowed) {
		return "", d, fmt.Errorf("GET %s answered 200 to the SMART v2 scope %q, so the data store is SMART v2, but its SMART configuration lacks permission-v2: apps will not use v2 scopes; rebuild the Metadata for SMART v2 and redeploy (or pass --smart-version)", u, r.cfg.Scope)
	}
	return fmt.Sprintf("GET %s?_count=1: 200, %d entr%s", r.allowed, len(bundle.Entry), plural(len(bundle.Entry), "y", "ies")), d, nil
}

func (r *run) allowedRead(ctx context.Context) (string, time.Duration, error) {
	switch {
	case !r.passed(CheckAllowedSearch):
		return "", 0, skip("the search did not pass")
	case r.id == "":
		return "", 0, skip("the search found no %s to read", r.allowed)
	case !r.scopeReach(r.allowed, smartscope.Read):
		return "", 0, skip("the scope does not allow read")
	}
	u := r.cfg.FHIREndpoint + r.allowed + "/" + r.id
	status, body, d, err := r.get(ctx, u, r.token)
	if err != nil {
		return "", d, err
	}
	if status != http.StatusOK {
		return "", d, fmt.Errorf("GET %s with the token: %s", u, explain(status, body, r.cfg.Scope))
	}
	return fmt.Sprintf("GET %s/%s: 200", r.allowed, r.id), d, nil
}

// errNoBaseline skips the checks that prove a refusal when the data store
// refuses even the genuine token: their 401s would prove nothing.
var errNoBaseline = skip("the genuine token was not served (see %s), so a refusal here would prove nothing", CheckAllowedSearch)

func (r *run) forbiddenType(ctx context.Context) (string, time.Duration, error) {
	if !r.passed(CheckAllowedSearch) {
		return "", 0, errNoBaseline
	}
	typ := r.cfg.ForbiddenType
	if typ == "" {
		for _, t := range commonTypes {
			if !r.scopeReach(t, smartscope.Search) {
				typ = t
				break
			}
		}
	}
	if typ == "" {
		return "", 0, skip("the scope %q reaches every common resource type; pass --forbidden-type", r.cfg.Scope)
	}
	u := r.cfg.FHIREndpoint + typ + "?_count=1"
	status, body, d, err := r.get(ctx, u, r.token)
	if err != nil {
		return "", d, err
	}
	// HealthLake documents no status for a scope that does not reach the
	// type; with the baseline search served, any refusal proves the scope is
	// enforced, and only a success is a failure.
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Sprintf("GET %s with scope %q: %d", typ, r.cfg.Scope, status), d, nil
	case status >= 200 && status < 300:
		return "", d, fmt.Errorf("GET %s with scope %q answered 200: the data store serves resource types the token was not granted; the token validator returns scopes the token does not hold (compare its scope with the token's), or the data store does not enforce SMART scopes", u, r.cfg.Scope)
	}
	return "", d, fmt.Errorf("GET %s with scope %q: want 401 or 403, got %s", u, r.cfg.Scope, explain(status, body, r.cfg.Scope))
}

// refused passes when the data store refuses a request (401, or 403 which
// HealthLake may use for a request it cannot authenticate).
func (r *run) refused(ctx context.Context, token, what, fix string) (string, time.Duration, error) {
	if r.allowed == "" {
		r.allowed = r.allowedType()
		if r.allowed == "" {
			r.allowed = "Patient"
		}
	}
	u := r.cfg.FHIREndpoint + r.allowed + "?_count=1"
	status, body, d, err := r.get(ctx, u, token)
	if err != nil {
		return "", d, err
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("GET %s %s: %d", r.allowed, what, status), d, nil
	case http.StatusOK:
		return "", d, fmt.Errorf("GET %s %s answered 200: %s", u, what, fix)
	}
	return "", d, fmt.Errorf("GET %s %s: want 401 or 403, got %s", u, what, explain(status, body, r.cfg.Scope))
}

func (r *run) noToken(ctx context.Context) (string, time.Duration, error) {
	return r.refused(ctx, "", "without a token", "the data store serves FHIR data to anyone; it is not a SMART data store")
}

// tokenParts splits the access token of the allowed search into its three
// JWT parts, for the checks that alter it: errNoBaseline when that search did
// not pass (a refusal would prove nothing), a skip when the token is not a
// JWT (an opaque token has nothing to alter).
func (r *run) tokenParts() ([]string, error) {
	if !r.passed(CheckAllowedSearch) {
		return nil, errNoBaseline
	}
	if r.token == "" || strings.Count(r.token, ".") != 2 {
		return nil, skip("no JWT access token to alter")
	}
	return strings.Split(r.token, "."), nil
}

func (r *run) alteredSignature(ctx context.Context) (string, time.Duration, error) {
	parts, err := r.tokenParts()
	if err != nil {
		return "", 0, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return "", 0, skip("the token's signature is not base64url")
	}
	sig[len(sig)/2] ^= 0x01
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return r.refused(ctx, strings.Join(parts, "."), "with the token's signature altered",
		"the token validator does not verify signatures; anyone can forge tokens")
}

// tampered changes one claim and keeps the signature: exp in the past, or an
// audience of another data store. A real validator refuses it twice over (the
// signature no longer matches); one that checks nothing accepts it.
func (r *run) tampered(name string) func(context.Context) (string, time.Duration, error) {
	return func(ctx context.Context) (string, time.Duration, error) {
		parts, err := r.tokenParts()
		if err != nil {
			return "", 0, err
		}
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		if err != nil || json.Unmarshal(raw, &claims) != nil {
			return "", 0, skip("the token's payload is not JSON")
		}
		what := ""
		switch name {
		case CheckExpiredToken:
			claims["exp"] = r.cfg.Now().Add(-time.Hour).Unix()
			claims["iat"] = r.cfg.Now().Add(-2 * time.Hour).Unix()
			what = "with an expired token"
		case CheckWrongAudience:
			claims["aud"] = "https://healthlake.us-east-1.amazonaws.com/datastore/00000000000000000000000000000000/r4/"
			what = "with a token for another data store"
		}
		raw, _ = json.Marshal(claims)
		parts[1] = base64.RawURLEncoding.EncodeToString(raw)
		detail, d, err := r.refused(ctx, strings.Join(parts, "."), what,
			"the token validator accepts tokens whose claims were changed after signing")
		if err == nil {
			// The altered claims break the signature, which is refused first.
			detail += " (signature refused; exp/aud not isolated)"
		}
		return detail, d, err
	}
}

func (r *run) algNone(ctx context.Context) (string, time.Duration, error) {
	parts, err := r.tokenParts()
	if err != nil {
		return "", 0, err
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return r.refused(ctx, header+"."+parts[1]+".", `with the token re-sent unsigned (alg "none")`,
		`the token validator accepts unsigned tokens (alg "none")`)
}

// 5. Timings.

func (r *run) latency(ctx context.Context) (string, time.Duration, error) {
	if !r.passed(CheckAllowedSearch) {
		return "", 0, skip("the allowed search did not pass")
	}
	u := r.cfg.FHIREndpoint + r.allowed + "?_count=1"
	var ds []time.Duration
	for range r.cfg.Calls {
		status, body, d, err := r.get(ctx, u, r.token)
		if err != nil {
			return "", 0, err
		}
		if status != http.StatusOK {
			return "", 0, fmt.Errorf("call %d of %d: %s", len(ds)+1, r.cfg.Calls, explain(status, body, r.cfg.Scope))
		}
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	p50 := ds[(len(ds)-1)/2]
	t := &r.report.Timings
	t.P50MS, t.Calls = ms(p50), len(ds)
	return fmt.Sprintf("token %s, first FHIR call %s, p50 %s over %d calls", formatDuration(time.Duration(t.TokenMS*1e6)),
		formatDuration(time.Duration(t.FirstFHIRCallMS*1e6)), formatDuration(p50), len(ds)), p50, nil
}

// diagnostics extracts an OperationOutcome's message, or a short body.
func diagnostics(body []byte) string {
	var oo struct {
		Issue []struct {
			Diagnostics string `json:"diagnostics"`
		} `json:"issue"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &oo) == nil {
		if len(oo.Issue) > 0 && oo.Issue[0].Diagnostics != "" {
			return oo.Issue[0].Diagnostics
		}
		if oo.Message != "" {
			return oo.Message
		}
	}
	return snippet(body)
}

func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
