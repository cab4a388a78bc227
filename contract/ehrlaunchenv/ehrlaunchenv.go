// Package ehrlaunchenv is the EHR launch function's environment contract:
// the name of every environment variable lambda/ehrlaunch reads, the launch
// lifetime's limit, the shape of the client list (EHRLAUNCH_CLIENTS) and
// Parse, the one parser and validator of that environment. The function
// parses its environment with it at start; the construct (constructs/ehrlaunch)
// renders its environment with these names and limits. It imports nothing but
// the standard library, so a consumer's synthesis binary links no SDK to use
// it.
package ehrlaunchenv

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
)

// The environment variables the function reads.
const (
	EnvTable          = "EHRLAUNCH_TABLE"
	EnvOktaIssuer     = "EHRLAUNCH_OKTA_ISSUER"
	EnvFHIRAudience   = "EHRLAUNCH_FHIR_AUDIENCE"
	EnvPublicURL      = "EHRLAUNCH_PUBLIC_URL"
	EnvClients        = "EHRLAUNCH_CLIENTS"
	EnvEHRPrincipals  = "EHRLAUNCH_EHR_PRINCIPALS"
	EnvHookSecretARN  = "EHRLAUNCH_HOOK_SECRET_ARN"
	EnvCORSOrigins    = "EHRLAUNCH_CORS_ORIGINS"
	EnvLaunchSeconds  = "EHRLAUNCH_LAUNCH_SECONDS"
	EnvRefreshSeconds = "EHRLAUNCH_REFRESH_SECONDS"
	// EnvAssertionKeyARN and EnvBackendClients turn on the token proxy's
	// client_credentials path for SMART backend services (both or neither):
	// see BackendClient.
	EnvAssertionKeyARN = "EHRLAUNCH_ASSERTION_KEY_ARN"
	EnvBackendClients  = "EHRLAUNCH_BACKEND_CLIENTS"
)

// The proxy's assertion key. A SMART backend service signs its
// private_key_jwt client assertion for the token_endpoint the SMART
// configuration advertises, the proxy's, and Okta accepts only assertions
// whose aud is its own token URL. So the proxy verifies the service's
// assertion against the service's registered public keys, then signs a fresh
// one for Okta with this KMS key, whose public half the Okta custom resource
// adds to the JWKS of the backend clients (the private_key_jwt clients it
// makes, the same ones this function is given in EnvBackendClients; oktaprops
// PropProxyAssertionKeyARN) and of no other client.
//
// Both sides name the key by the same kid: the base64url RFC 7638 SHA-256
// thumbprint of its public JWK (go-jose's JSONWebKey.Thumbprint), and the
// JWS alg is RS256.
const (
	// AssertionKeySpec is the KMS KeySpec of the assertion key (KeyUsage
	// SIGN_VERIFY).
	AssertionKeySpec = "RSA_2048"
	// AssertionSigningAlgorithm is the KMS SigningAlgorithm the proxy signs
	// with: RS256 (RFC 7518 section 3.3).
	AssertionSigningAlgorithm = "RSASSA_PKCS1_V1_5_SHA_256"
	// AssertionJWSAlgorithm is the alg of the assertions the proxy signs.
	AssertionJWSAlgorithm = "RS256"
	// MaxAssertionLifetime is the furthest in the future a service's
	// assertion may expire: SMART Backend Services ("exp ... no more than
	// five minutes in the future").
	MaxAssertionLifetime = 5 * time.Minute
)

// Limits and defaults.
const (
	// MaxLaunchLifetime is the longest a launch id may live (issue 17: at most
	// five minutes), and the default.
	MaxLaunchLifetime = 5 * time.Minute
	// MinLaunchLifetime is the shortest: EHRLAUNCH_LAUNCH_SECONDS counts
	// whole seconds from 1.
	MinLaunchLifetime = time.Second
	// DefaultTransactionLifetime bounds the user's sign-in at Okta.
	DefaultTransactionLifetime = 10 * time.Minute
	// DefaultRefreshLifetime is how long a refresh token's context is kept:
	// Okta's default refresh token lifetime is unlimited, its maximum idle
	// window 90 days, so a binding outlives neither for long.
	DefaultRefreshLifetime = 90 * 24 * time.Hour
)

// Config is the Lambda's validated configuration.
type Config struct {
	// Table is the DynamoDB table.
	Table string
	// OktaIssuer is the Okta custom authorization server's issuer; its
	// /v1/authorize and /v1/token are the upstream endpoints.
	OktaIssuer string
	// FHIRAudience is the data store endpoint: the only aud accepted.
	FHIRAudience string
	// PublicURL is this API's base URL; the callback is PublicURL + "/callback".
	PublicURL string
	// Clients are the SMART apps that may use the proxy, by client id, with
	// their registered redirect URIs (EHRLAUNCH_CLIENTS: a JSON array of
	// {"client_id", "redirect_uris"}).
	Clients map[string][]string
	// PickerClients are the clients whose standalone launch/patient requests
	// go through the patient picker for clinicians (EHRLAUNCH_CLIENTS:
	// "patient_picker": true).
	PickerClients map[string]bool
	// EHRPrincipals are the IAM role ARNs whose SigV4-signed calls may
	// register launches.
	EHRPrincipals []string
	// HookSecretARN names the Secrets Manager secret holding the value Okta
	// sends in the hook's Authorization header.
	HookSecretARN string
	// CORSOrigins are the browser origins allowed to call the token endpoint.
	CORSOrigins []string
	// LaunchLifetime is how long a launch id is valid. Default and maximum: 5 minutes.
	LaunchLifetime time.Duration
	// TransactionLifetime is how long an authorization may take. Default: 10 minutes.
	TransactionLifetime time.Duration
	// RefreshLifetime is how long a refresh token keeps its context. Default: 90 days.
	RefreshLifetime time.Duration
	// AssertionKeyARN is the KMS key the proxy signs Okta client assertions
	// with; empty when no backend service uses the proxy.
	AssertionKeyARN string
	// BackendClients are the SMART backend services' registered public JSON
	// Web Key Sets ({"keys": [...]}), by client id (EHRLAUNCH_BACKEND_CLIENTS:
	// a JSON array of BackendClient). The JWKS is checked here only for its
	// shape; the function parses the keys.
	BackendClients map[string]json.RawMessage
}

// Paths of the function's endpoints, relative to Config.PublicURL: the API's
// routes (constructs/ehrlaunch).
const (
	PathLaunch    = "/launch"
	PathAuthorize = "/authorize"
	PathCallback  = "/callback"
	// PathPicker receives the standalone patient picker's form.
	PathPicker = "/picker"
	PathHook   = "/hook"
	PathToken  = "/token"
	// PathIntrospect is the RFC 7662 introspection proxy.
	PathIntrospect = "/introspect"
)

// Callback is the redirect URI the proxy registers with Okta.
func (c Config) Callback() string { return strings.TrimSuffix(c.PublicURL, "/") + PathCallback }

var (
	iamRole   = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
	kmsKeyARN = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-zA-Z-]+$`)
	secretARN = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$`)
)

// Parse reads and validates the configuration; getenv is os.Getenv in
// production. The error names every bad variable.
func Parse(getenv func(string) string) (Config, error) {
	var (
		c    Config
		errs []string
	)
	bad := func(name, format string, args ...any) {
		errs = append(errs, name+": "+fmt.Sprintf(format, args...))
	}
	if c.Table = getenv(EnvTable); c.Table == "" {
		bad(EnvTable, "required")
	}
	for _, v := range []struct {
		name string
		dst  *string
	}{{EnvOktaIssuer, &c.OktaIssuer}, {EnvFHIRAudience, &c.FHIRAudience}, {EnvPublicURL, &c.PublicURL}} {
		*v.dst = getenv(v.name)
		if *v.dst == "" {
			bad(v.name, "required")
		} else if err := httpsurl.CheckOrLoopback(*v.dst); err != nil {
			bad(v.name, "%v", err)
		}
	}
	c.OktaIssuer = strings.TrimSuffix(c.OktaIssuer, "/")

	if raw := getenv(EnvClients); raw == "" {
		bad(EnvClients, "required")
	} else if apps, pickers, err := parseClients(raw); err != nil {
		bad(EnvClients, "%v", err)
	} else {
		c.Clients, c.PickerClients = apps, pickers
		for id, uris := range c.Clients {
			for _, u := range uris {
				// The rule the Okta resource registers redirect URIs by; custom
				// schemes stay refused: the launch functions redirect browsers
				// only to web callbacks (RFC 6749 section 3.1.2).
				if err := httpsurl.CheckRedirect(u, false); err != nil {
					bad(EnvClients, "client %q: redirect URI %v", id, err)
				}
			}
		}
	}
	for p := range strings.SplitSeq(getenv(EnvEHRPrincipals), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !iamRole.MatchString(p) {
			bad(EnvEHRPrincipals, "%q is not an IAM role ARN", p)
		}
		c.EHRPrincipals = append(c.EHRPrincipals, p)
	}
	if len(c.EHRPrincipals) == 0 {
		bad(EnvEHRPrincipals, "required: no EHR could register a launch")
	}
	if c.HookSecretARN = getenv(EnvHookSecretARN); !secretARN.MatchString(c.HookSecretARN) {
		bad(EnvHookSecretARN, "required, a Secrets Manager secret ARN")
	}
	for o := range strings.SplitSeq(getenv(EnvCORSOrigins), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if u, err := url.Parse(o); err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad(EnvCORSOrigins, "%q is not an https origin", o)
		}
		c.CORSOrigins = append(c.CORSOrigins, strings.TrimSuffix(o, "/"))
	}
	var err error
	if c.LaunchLifetime, err = seconds(getenv(EnvLaunchSeconds), MaxLaunchLifetime, MaxLaunchLifetime); err != nil {
		bad(EnvLaunchSeconds, "%v", err)
	}
	if c.RefreshLifetime, err = seconds(getenv(EnvRefreshSeconds), DefaultRefreshLifetime, 5*365*24*time.Hour); err != nil {
		bad(EnvRefreshSeconds, "%v", err)
	}
	c.TransactionLifetime = DefaultTransactionLifetime
	c.AssertionKeyARN = getenv(EnvAssertionKeyARN)
	switch raw := getenv(EnvBackendClients); {
	case raw == "" && c.AssertionKeyARN == "":
	case raw == "" || c.AssertionKeyARN == "":
		bad(EnvAssertionKeyARN, "and %s go together: set both or neither", EnvBackendClients)
	case !kmsKeyARN.MatchString(c.AssertionKeyARN):
		bad(EnvAssertionKeyARN, "%q is not a KMS key ARN", c.AssertionKeyARN)
	default:
		backends, err := parseBackendClients(raw)
		if err != nil {
			bad(EnvBackendClients, "%v", err)
			break
		}
		for id := range backends {
			if c.Clients[id] != nil {
				bad(EnvBackendClients, "client %q is also in %s: a backend service has no redirect URI", id, EnvClients)
			}
		}
		c.BackendClients = backends
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("invalid configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// The members of an EHRLAUNCH_CLIENTS entry (Client's JSON names), for a
// construct that renders the list with deploy-time client ids.
const (
	ClientFieldID            = "client_id"
	ClientFieldRedirectURIs  = "redirect_uris"
	ClientFieldPatientPicker = "patient_picker"
)

// Client is one entry of EHRLAUNCH_CLIENTS: a JSON array of these (an array,
// not an object keyed by client id, so that CloudFormation can fill in client
// ids at deploy time).
type Client struct {
	ClientID      string   `json:"client_id"`
	RedirectURIs  []string `json:"redirect_uris"`
	PatientPicker bool     `json:"patient_picker,omitempty"`
}

// parseClients reads EHRLAUNCH_CLIENTS.
func parseClients(raw string) (map[string][]string, map[string]bool, error) {
	var list []Client
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, nil, fmt.Errorf(`not a JSON array of {"client_id", "redirect_uris", "patient_picker"}: %v`, err)
	}
	out, pickers := map[string][]string{}, map[string]bool{}
	for _, a := range list {
		switch {
		case a.ClientID == "":
			return nil, nil, fmt.Errorf("an app without client_id")
		case len(a.RedirectURIs) == 0:
			return nil, nil, fmt.Errorf("client %q has no redirect URI", a.ClientID)
		case out[a.ClientID] != nil:
			return nil, nil, fmt.Errorf("client %q is listed twice", a.ClientID)
		}
		out[a.ClientID] = a.RedirectURIs
		if a.PatientPicker {
			pickers[a.ClientID] = true
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("no app")
	}
	return out, pickers, nil
}

// The members of an EHRLAUNCH_BACKEND_CLIENTS entry (BackendClient's JSON
// names).
const (
	BackendFieldID   = "client_id"
	BackendFieldJWKS = "jwks"
)

// BackendClient is one entry of EHRLAUNCH_BACKEND_CLIENTS: a SMART backend
// service (client_credentials with private_key_jwt) and the public JSON Web
// Key Set registered for it. A JSON array, like EHRLAUNCH_CLIENTS, so that
// CloudFormation can fill in client ids.
type BackendClient struct {
	ClientID string          `json:"client_id"`
	JWKS     json.RawMessage `json:"jwks"`
}

// parseBackendClients reads EHRLAUNCH_BACKEND_CLIENTS: client ids unique and
// non-empty, each JWKS an object with a non-empty "keys" array.
func parseBackendClients(raw string) (map[string]json.RawMessage, error) {
	var list []BackendClient
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf(`not a JSON array of {"client_id", "jwks"}: %v`, err)
	}
	out := map[string]json.RawMessage{}
	for _, b := range list {
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		switch {
		case b.ClientID == "":
			return nil, fmt.Errorf("a backend client without client_id")
		case out[b.ClientID] != nil:
			return nil, fmt.Errorf("client %q is listed twice", b.ClientID)
		case json.Unmarshal(b.JWKS, &set) != nil || len(set.Keys) == 0:
			return nil, fmt.Errorf(`client %q: jwks must be a JSON Web Key Set {"keys": [...]} with at least one key`, b.ClientID)
		}
		out[b.ClientID] = b.JWKS
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no backend client")
	}
	return out, nil
}

func seconds(s string, def, maxD time.Duration) (time.Duration, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || time.Duration(n)*time.Second > maxD {
		return def, fmt.Errorf("must be a whole number of seconds from 1 to %d, not %q", int(maxD.Seconds()), s)
	}
	return time.Duration(n) * time.Second, nil
}

// RoleParts splits an IAM role ARN (as EHRLAUNCH_EHR_PRINCIPALS holds them)
// into its partition, account and role name (without the path), or reports
// false for anything else.
func RoleParts(arn string) (partition, account, name string, ok bool) {
	m := iamRole.FindStringSubmatch(arn)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}
