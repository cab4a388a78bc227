// Package sandbox runs the whole SMART on FHIR flow of a deployed stack on
// loopback, with no AWS account and no Okta org: an authorization server
// standing in for Okta (package authserver), a HealthLake FHIR API emulator
// (package fhirapi) that calls a real process of the token-validation Lambda
// through the Lambda Runtime API (package lambdaruntime) as HealthLake does, and a
// Secrets Manager holding the introspection client's credentials (package
// fakesecretsmanager). Everything is served over HTTPS with a certificate generated
// at start, because the SMART metadata and the validator accept https URLs only.
//
// It lives under internal/ because it is the engine of cmd/smartsandbox and of
// smartcheck's tests, not an API of the module.
package sandbox

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/fakesecretsmanager"
	"github.com/openhealthstack/smart-healthlake/internal/lambdaruntime"
	"github.com/openhealthstack/smart-healthlake/internal/randhex"
	"github.com/openhealthstack/smart-healthlake/internal/sandbox/authserver"
	"github.com/openhealthstack/smart-healthlake/internal/sandbox/fhirapi"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
)

// Config says which data store and validator to run.
type Config struct {
	// IdPBinary is the token-validation Lambda binary (see BuildIdP).
	IdPBinary string
	// Dir receives the generated files (CA certificate, client private key).
	Dir string
	// Version is the data store's SMART version. Default: v2 (SMART_ON_FHIR).
	Version smart.Version
	// Validation is the validator's SMART_VALIDATION. Default: validatorenv.ValidationJWT.
	Validation validatorenv.Validation
	// FineGrained enables fine-grained authorization on the data store.
	FineGrained bool
	// Audience is the access tokens' aud. Default: the data store endpoint, as
	// the project's Okta audience binding sets it.
	Audience string
	// Logger receives the emulators' logs; LambdaOutput the Lambda's own.
	// Default: discarded.
	Logger       *slog.Logger
	LambdaOutput io.Writer
	// EHRLaunch, if set, registers the EHR-launched app (EHRAppClientID) and
	// the token inline hook with the authorization server. Default: neither.
	EHRLaunch *EHRLaunch
}

// EHRLaunch is what the authorization server must know of an EHR launch
// deployment (lambda/ehrlaunch), as the Okta custom resource would register it.
type EHRLaunch struct {
	// Callback is the launch proxy's callback: the app's redirect URI at Okta.
	Callback string
	// HookURL and HookAuthorization are the token inline hook's channel URI
	// and header secret.
	HookURL, HookAuthorization string
	// HookTimeout is the hook call's timeout. Default: Okta's 3 s.
	HookTimeout time.Duration
	// HookClient calls the hook. Default: a client trusting the sandbox's
	// certificate (see Sandbox.Serve), as Okta trusts the API's public one.
	HookClient *http.Client
	// RegistryApps are more launched apps, each its own client as the Okta
	// custom resource creates an app of the registry (oktaauth Apps):
	// public with PKCE, granted and signed in as EHRAppClientID is.
	RegistryApps []RegistryApp
	// APIURL, if set, is the EHR launch API's base URL (lambda/ehrlaunch's
	// EHRLAUNCH_PUBLIC_URL): the SMART configuration then advertises EHR
	// launch with its authorize, token and introspection proxies, as the
	// composite construct builds it (constructs/smarthealthlake/ehrlaunch.go).
	APIURL string
	// BackendKey, if set, registers EHRBackendClientID: a SMART backend
	// service (system scopes) with this public key under its RFC 7638
	// thumbprint (Sandbox.EHRBackendKeyID). RSA, as every JWKS the project
	// registers with Okta (oktaprops: the Okta SDK cannot register EC keys),
	// so that the EHR launch proxy can stand in front of it.
	BackendKey *rsa.PublicKey
	// ProxyAssertionKey, if set, is the public half of the EHR launch proxy's
	// KMS assertion key (ehrlaunchenv EHRLAUNCH_ASSERTION_KEY_ARN): the
	// authorization server registers it in the JWKS of every private_key_jwt
	// client under its RFC 7638 thumbprint, beside the client's own key, as
	// the Okta custom resource does (oktaprops PropProxyAssertionKeyARN), so
	// that it accepts the assertions the proxy signs on the clients' behalf.
	ProxyAssertionKey *rsa.PublicKey
}

// EHRBackendClientID is the backend service registered with
// EHRLaunch.BackendKey.
const EHRBackendClientID = "sandbox-ehr-backend"

// RegistryApp is a launched app of the Okta server's app registry.
type RegistryApp struct {
	// ClientID is the app's Okta client id.
	ClientID string
	// RedirectURIs are the app's redirect URIs at Okta: its own plus the
	// launch proxy's callback, as the composite construct registers them
	// (withEhrLaunch in constructs/smarthealthlake/ehrlaunch.go).
	RedirectURIs []string
}

// EHRAppClientID is the EHR-launched app's client id (public, PKCE): patient
// scopes plus launch, signed in as a practitioner.
const EHRAppClientID = "sandbox-ehr-app"

// EHRWebClientID is the EHR-launched confidential app (client_secret_basic,
// Sandbox.EHRWebSecret; PKCE as well): the same scopes and user as
// EHRAppClientID.
const EHRWebClientID = "sandbox-ehr-web"

// Client ids registered with the authorization server. All use the key in
// Sandbox.KeyFile; the user and patient apps carry a fhirUser (and patient)
// claim, as an Okta claim mapping would give a signed-in user's token.
const (
	BackendClientID       = "sandbox-backend"
	PractitionerClientID  = "sandbox-practitioner"
	PatientClientID       = "sandbox-patient"
	introspectionClientID = "sandbox-introspection"
	// RoleARN is the service role HealthLake assumes in the sandbox.
	RoleARN       = "arn:aws:iam::000000000000:role/smart-healthlake-sandbox"
	secretARN     = "arn:aws:secretsmanager:us-east-1:000000000000:secret:smart-healthlake/sandbox/introspection-a1B2c3"
	accessKeyID   = "AKIASANDBOX000000000"
	datastoreID   = "0123456789abcdef0123456789abcdef"
	issuerPath    = "/oauth2/default"
	datastorePath = "/datastore/" + datastoreID + "/r4/"
)

// Sandbox is a running sandbox.
type Sandbox struct {
	// FHIREndpoint is the data store endpoint (ends with "/").
	FHIREndpoint string
	// Issuer, TokenEndpoint are the authorization server's.
	Issuer, TokenEndpoint string
	// CAFile is the PEM certificate every sandbox server presents.
	CAFile string
	// KeyFile is the PEM private key (ES384) registered for every client.
	KeyFile string
	// KeyID is the kid the key is registered under (its RFC 7638 thumbprint).
	KeyID string
	// Scope is a backend-services scope the sandbox grants, in the data
	// store's version (system/Patient.rs for v2, system/Patient.read for v1).
	Scope string
	// Version is the data store's SMART version.
	Version smart.Version
	// EHRWebSecret is EHRWebClientID's client secret (with EHRLaunch only;
	// generated at start).
	EHRWebSecret string
	// EHRBackendKeyID is the kid of EHRLaunch.BackendKey (with it only).
	EHRBackendKeyID string

	idp     *lambdaruntime.Function
	servers []*http.Server
	as      *authserver.Server
	tls     *tls.Config
	logger  *slog.Logger
}

// Serve serves h on ln over HTTPS with the sandbox's certificate (CAFile)
// until Close: for a server that must be reachable at a URL known before
// Start, such as the EHR launch API.
func (s *Sandbox) Serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
		TLSConfig: s.tls.Clone()} // ServeTLS adds h2 to NextProtos: one config per server
	s.servers = append(s.servers, srv)
	go srv.ServeTLS(ln, "", "") //nolint:errcheck // ends with Close
}

// HookFailedOpen is how many authorization codes the authorization server
// issued with unchanged claims because the token hook call failed (Okta's
// fail-open).
func (s *Sandbox) HookFailedOpen() int { return s.as.HookFailedOpen() }

// CheckCommand is the smartcheck command line that verifies this sandbox.
func (s *Sandbox) CheckCommand() string {
	return fmt.Sprintf("go run ./cmd/smartcheck --fhir-endpoint %s --issuer %s --client-id %s --private-key %s --key-id %s --smart-version %s --scope %s --ca-file %s",
		s.FHIREndpoint, s.Issuer, BackendClientID, s.KeyFile, s.KeyID, s.Version, s.Scope, s.CAFile)
}

// Close stops the servers and the Lambda process.
func (s *Sandbox) Close() error {
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Close())
	}
	if s.idp != nil {
		errs = append(errs, s.idp.Close())
	}
	return errors.Join(errs...)
}

// BuildIdP compiles the project's token-validation Lambda (lambda/introspect)
// for this machine into dir, and returns the binary's path. It must run inside
// the module (go build resolves the package by import path).
func BuildIdP(ctx context.Context, dir string) (string, error) {
	return Build(ctx, dir, "github.com/openhealthstack/smart-healthlake/lambda/introspect")
}

// Build compiles a Go main package (import path or ./relative directory) into dir.
func Build(ctx context.Context, dir, pkg string) (string, error) {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// Start starts the sandbox on loopback ports.
func Start(cfg Config) (_ *Sandbox, err error) {
	if cfg.Version == "" {
		cfg.Version = smart.V2
	}
	if cfg.Validation == "" {
		cfg.Validation = validatorenv.ValidationJWT
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.IdPBinary == "" {
		return nil, errors.New("sandbox: an IdP binary is required (see BuildIdP)")
	}
	sb := &Sandbox{Version: cfg.Version, logger: cfg.Logger}
	defer func() {
		if err != nil {
			sb.Close()
		}
	}()

	cert, err := newCertificate()
	if err != nil {
		return nil, err
	}
	sb.CAFile = filepath.Join(cfg.Dir, "sandbox-ca.pem")
	if err := os.WriteFile(sb.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644); err != nil {
		return nil, fmt.Errorf("writing the sandbox certificate: %w", err)
	}
	clientKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the client key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(clientKey)
	if err != nil {
		return nil, fmt.Errorf("encoding the client key: %w", err)
	}
	if sb.KeyID, err = thumbprint(&clientKey.PublicKey); err != nil {
		return nil, fmt.Errorf("the client key: %w", err)
	}
	sb.KeyFile = filepath.Join(cfg.Dir, "sandbox-client-key.pem")
	if err := os.WriteFile(sb.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("writing the client key: %w", err)
	}

	asLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	fhirLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		asLn.Close()
		return nil, fmt.Errorf("listening: %w", err)
	}
	smLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		asLn.Close()
		fhirLn.Close()
		return nil, fmt.Errorf("listening: %w", err)
	}
	sb.Issuer = "https://" + asLn.Addr().String() + issuerPath
	sb.FHIREndpoint = "https://" + fhirLn.Addr().String() + datastorePath
	audience := cfg.Audience
	if audience == "" {
		audience = sb.FHIREndpoint
	}

	introspectionSecret := randhex.String(24)
	var (
		hook       *authserver.TokenHook
		ehrClients []authserver.Client
	)
	if e := cfg.EHRLaunch; e != nil {
		hookClient := e.HookClient
		if hookClient == nil {
			leaf, err := x509.ParseCertificate(cert.Certificate[0])
			if err != nil {
				return nil, fmt.Errorf("reading the sandbox certificate: %w", err)
			}
			pool := x509.NewCertPool()
			pool.AddCert(leaf)
			hookClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
		}
		hook = &authserver.TokenHook{URL: e.HookURL, Authorization: e.HookAuthorization, Timeout: e.HookTimeout, Client: hookClient}
		sb.EHRWebSecret = randhex.String(24)
		for _, c := range []authserver.Client{{ID: EHRAppClientID}, {ID: EHRWebClientID, Secret: sb.EHRWebSecret}} {
			c.Scopes, c.RedirectURIs = append(resourceScopes("patient"), "launch"), []string{e.Callback}
			c.User, c.Claims = "clinician@sandbox.example", map[string]any{"fhirUser": "Practitioner/dr-1"}
			ehrClients = append(ehrClients, c)
		}
		for _, a := range e.RegistryApps {
			ehrClients = append(ehrClients, authserver.Client{
				ID: a.ClientID, Scopes: append(resourceScopes("patient"), "launch"), RedirectURIs: a.RedirectURIs,
				User: "clinician@sandbox.example", Claims: map[string]any{"fhirUser": "Practitioner/dr-1"},
			})
		}
		if e.BackendKey != nil {
			if sb.EHRBackendKeyID, err = thumbprint(e.BackendKey); err != nil {
				return nil, err
			}
			ehrClients = append(ehrClients, authserver.Client{ID: EHRBackendClientID, PublicKey: e.BackendKey,
				KeyID: sb.EHRBackendKeyID, Scopes: resourceScopes("system")})
		}
	}
	clients := append([]authserver.Client{
		{ID: BackendClientID, PublicKey: &clientKey.PublicKey, KeyID: sb.KeyID, Scopes: resourceScopes("system")},
		{ID: PractitionerClientID, PublicKey: &clientKey.PublicKey, KeyID: sb.KeyID, Scopes: resourceScopes("user"),
			Claims: map[string]any{"fhirUser": "Practitioner/dr-1"}},
		{ID: PatientClientID, PublicKey: &clientKey.PublicKey, KeyID: sb.KeyID, Scopes: resourceScopes("patient"),
			Claims: map[string]any{"fhirUser": "Patient/p1", "patient": "p1"}},
		{ID: introspectionClientID, Secret: introspectionSecret},
	}, ehrClients...)
	if e := cfg.EHRLaunch; e != nil && e.ProxyAssertionKey != nil {
		kid, err := thumbprint(e.ProxyAssertionKey)
		if err != nil {
			return nil, err
		}
		for i := range clients {
			if clients[i].PublicKey != nil {
				clients[i].MoreKeys = map[string]crypto.PublicKey{kid: e.ProxyAssertionKey}
			}
		}
	}
	as, err := authserver.New(authserver.Options{
		Issuer:    sb.Issuer,
		Audience:  audience,
		TokenHook: hook,
		Clients:   clients,
	})
	if err != nil {
		return nil, err
	}
	sb.TokenEndpoint = as.TokenEndpoint()
	sb.as = as

	endpoints := smartmeta.Endpoints{
		Issuer: as.Issuer(), JWKSURI: as.JWKSURI(), Authorization: as.AuthorizationEndpoint(),
		Token: as.TokenEndpoint(), Introspection: as.IntrospectionEndpoint(), Revocation: as.RevocationEndpoint(),
	}
	sup, scopes := support, scopesSupported(cfg.Version)
	if e := cfg.EHRLaunch; e != nil && e.APIURL != "" {
		// The paths are lambda/ehrlaunch/launchflow's; the scope catalogue
		// gains launch, as oktaauth's does with EHR launch on.
		base := strings.TrimSuffix(e.APIURL, "/")
		endpoints.Authorization, endpoints.Token, endpoints.Introspection = base+"/authorize", base+"/token", base+"/introspect"
		sup.EHRLaunch = true
		scopes = append(scopes, "launch")
	}
	metadata, err := smartmeta.Build(smartmeta.Config{
		Version:         cfg.Version,
		Endpoints:       endpoints,
		ScopesSupported: scopes,
		Support:         sup,
	})
	if err != nil {
		return nil, fmt.Errorf("building the SMART metadata: %w", err)
	}

	secrets := fakesecretsmanager.NewHandler()
	secrets.RequireAccessKey(accessKeyID)
	secrets.PutARN(secretARN, "smart-healthlake/sandbox/introspection",
		mustJSON(map[string]string{"client_id": introspectionClientID, "client_secret": introspectionSecret}))
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	sb.tls = tlsConfig
	serve := func(ln net.Listener, h http.Handler, secure bool) {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)}
		sb.servers = append(sb.servers, srv)
		if secure {
			srv.TLSConfig = tlsConfig.Clone() // ServeTLS adds h2 to NextProtos: one config per server
			go srv.ServeTLS(ln, "", "")       //nolint:errcheck // ends with Close
		} else {
			go srv.Serve(ln) //nolint:errcheck // ends with Close
		}
	}
	serve(asLn, as, true)
	serve(smLn, secrets, false)

	// The variables lambda/introspect reads (contract/validatorenv), and
	// those Lambda itself sets for credentials and region.
	env := []string{
		validatorenv.EnvIssuer + "=" + sb.Issuer,
		validatorenv.EnvRoleARN + "=" + RoleARN,
		validatorenv.EnvSmartVersion + "=" + string(cfg.Version),
		validatorenv.EnvValidation + "=" + string(cfg.Validation),
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + accessKeyID,
		"AWS_SECRET_ACCESS_KEY=sandbox-not-a-secret",
		"AWS_SESSION_TOKEN=sandbox",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=http://" + smLn.Addr().String(),
		"SSL_CERT_FILE=" + sb.CAFile, // Go's crypto/x509 reads it on Linux
	}
	if cfg.Validation == validatorenv.ValidationIntrospection {
		env = append(env, validatorenv.EnvIntrospectionSecretARN+"="+secretARN)
	}
	if cfg.EHRLaunch != nil {
		env = append(env, validatorenv.EnvEHRLaunch+"=true")
	}
	sb.idp, err = lambdaruntime.Start(lambdaruntime.Config{
		Name:    "smart-healthlake-token-validator",
		Command: cfg.IdPBinary,
		Handler: "bootstrap",
		Env:     envMap(env),
		// As the token validator construct configures the function; HealthLake
		// itself gives up after 1 s (fhirapi's Budget).
		Timeout:  5 * time.Second,
		MemoryMB: 512,
		Logs:     cfg.LambdaOutput,
	})
	if err != nil {
		return nil, err
	}

	fhir, err := fhirapi.New(fhirapi.Options{
		Endpoint:    sb.FHIREndpoint,
		DatastoreID: datastoreID,
		V1:          cfg.Version == smart.V1,
		FineGrained: cfg.FineGrained,
		Metadata:    metadata,
		IdP:         idpFunction{sb.idp},
		RoleARN:     RoleARN,
		Logger:      cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	serve(fhirLn, fhir, true)

	sb.Scope = "system/Patient.rs"
	if cfg.Version == smart.V1 {
		sb.Scope = "system/Patient.read"
	}
	return sb, nil
}

// support is what constructs/oktaauth's SmartSupport computes for a stack
// with the sandbox's clients: a backend service, and user-facing apps (the
// confidential and public clients a stack with redirect URIs gets; the
// sandbox's practitioner and patient clients stand in for their users), with
// the patient claim, ID tokens and refresh tokens the user-facing rule grants.
var support = smart.Support{
	ConfidentialClients: true, PublicClients: true, BackendServices: true,
	PatientContext: true, OpenIDConnect: true, RefreshTokens: true,
}

// scopesSupported is what oktaauth's ScopesSupported lists for the sandbox's
// catalogue (Okta's openid, profile and offline_access, then the custom
// scopes), in the data store's version: a SMART v1 stack's catalogue holds
// v1 scopes only.
func scopesSupported(v smart.Version) []string {
	out := []string{"openid", "profile", "offline_access"}
	seen := map[string]bool{}
	for _, compartment := range []string{"system", "user", "patient"} {
		for _, sc := range resourceScopes(compartment) {
			if seen[sc] || slices.Contains(out, sc) {
				continue
			}
			seen[sc] = true
			if _, perm, ok := strings.Cut(sc, "."); ok && v == smart.V1 && !slices.Contains([]string{"read", "write", "*"}, perm) {
				continue
			}
			out = append(out, sc)
		}
	}
	return out
}

// thumbprint is a public key's kid as the project registers keys: the
// base64url RFC 7638 SHA-256 thumbprint of its JWK.
func thumbprint(pub crypto.PublicKey) (string, error) {
	th, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("computing a key's thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(th), nil
}

// resourceScopes are the scopes the sandbox's policy grants a client: v1 and v2
// read and write scopes on the sample resource types, for one compartment.
func resourceScopes(compartment string) []string {
	var out []string
	for _, t := range []string{"Patient", "Observation", "*"} {
		for _, p := range []string{"read", "write", "*", "r", "s", "rs", "cud", "cruds"} {
			out = append(out, compartment+"/"+t+"."+p)
		}
	}
	return append(out, "launch/patient", "openid", "fhirUser")
}

// newCertificate makes a self-signed certificate for the loopback addresses.
func newCertificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generating the TLS key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "smart-healthlake sandbox"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("creating the TLS certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// idpFunction is the emulated Lambda as fhirapi calls it: a function error
// (an unhandled error, a timeout, a crash) is an error, as HealthLake treats it.
type idpFunction struct{ *lambdaruntime.Function }

func (f idpFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r, err := f.Function.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	if r.FunctionError != "" {
		// The payload names the Lambda's error; fhirapi answers the client
		// with a fixed message, as HealthLake does not pass it on.
		return nil, fmt.Errorf("function error (%d bytes)", len(r.Payload))
	}
	return r.Payload, nil
}

// envMap turns NAME=value pairs into the map lambdaruntime takes.
func envMap(pairs []string) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
