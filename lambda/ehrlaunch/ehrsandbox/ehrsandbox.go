// Package ehrsandbox runs the EHR launch API (package launchflow, the handler
// lambda/ehrlaunch serves) on loopback in front of a sandbox (internal/sandbox)
// whose Okta stand-in calls its token hook: an API Gateway emulation that
// verifies SigV4 for POST /launch, REST proxy events through the adapter
// main.go uses, the launch table in fakedynamodb through the real DynamoDB
// client, and the token proxy's assertion key in fakekms through the real KMS
// client, with a backend service registered on both sides (the proxy and the
// authorization server). It is the assembly of lambda/ehrlaunch's end-to-end
// test, of cmd/smartsandbox --ehr-launch and of smartcheck's ehr-launch tests.
package ehrsandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/go-jose/go-jose/v3"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/randhex"
	"github.com/openhealthstack/smart-healthlake/internal/sandbox"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/assertionkey"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/assertionjwk"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakedynamodb"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakekms"
)

// The EHR's identity and the apps the API launches.
const (
	// AppRedirectURI is the redirect URI of both launchable sandbox apps
	// (sandbox.EHRAppClientID and sandbox.EHRWebClientID).
	AppRedirectURI = "https://app.example/cb"
	// OtherAppID is a third app the API launches, with its own redirect URI
	// (https://other.example/cb); the authorization server does not know it.
	OtherAppID = "other-app"
	// EHRRoleARN is the only role allowed to register launches.
	EHRRoleARN = "arn:aws:iam::123456789012:role/EhrLauncher"
	// EHRSession is the caller API Gateway reports for a valid signature.
	EHRSession = "arn:aws:sts::123456789012:assumed-role/EhrLauncher/ehr-1"
	// EHRAccessKeyID is the access key API Gateway accepts signatures of.
	EHRAccessKeyID = "AKIAEHRSANDBOX000001"
	// Region is the API's region (the SigV4 scope).
	Region = "us-east-1"
	// Table is the launch table's name.
	Table = "ehr"
)

// Config configures Start.
type Config struct {
	// Sandbox is the sandbox's configuration; Start sets its EHRLaunch
	// (except HookTimeout, kept when set).
	Sandbox sandbox.Config
	// Now is the API's clock. Default: time.Now.
	Now func() time.Time
	// Store wraps the launch store, for tests that model a broken one.
	// Default: the store unchanged.
	Store func(launchflow.Store) launchflow.Store
	// Gateway wraps the API Gateway emulation, for tests that delay or
	// rewrite its answers. Default: unchanged.
	Gateway func(http.Handler) http.Handler
	// PatientPicker sends the public EHR app's standalone launch/patient
	// requests through the patient picker. Default: off.
	PatientPicker bool
	// RegistryApps are more launched apps, each its own client at the
	// authorization server (the Okta server's app registry, issue 15).
	// Default: none.
	RegistryApps []RegistryApp
}

// RegistryApp is a launched app of the Okta server's app registry
// (EhrLaunchRegistryApp in constructs/smarthealthlake): the API knows it by
// its Okta client id and its own redirect URI, the authorization server by
// that redirect URI and the API's callback.
type RegistryApp struct {
	// ClientID is the app's Okta client id.
	ClientID string
	// RedirectURI is the app's own redirect URI.
	RedirectURI string
	// PatientPicker sends the app's standalone launch/patient requests
	// through the patient picker (ehrLaunch pickerApps).
	PatientPicker bool
}

// World is a running sandbox with the EHR launch API.
type World struct {
	*sandbox.Sandbox
	// APIURL is the EHR launch API's base URL (the EhrLaunchApiUrl output).
	APIURL string
	// EHRSecretKey is the secret of EHRAccessKeyID, generated at start: the
	// EHR role's credentials.
	EHRSecretKey string
	// HookSecret is the value the authorization server sends to the hook.
	HookSecret string
	// DB is the launch table's DynamoDB.
	DB *fakedynamodb.Server
	// CredentialsFile is an AWS shared credentials file in Config.Sandbox.Dir
	// whose profile Profile holds the EHR role's credentials.
	CredentialsFile string
	// KMS holds the proxy's assertion key (AssertionKeyARN), which signs the
	// client assertions the token proxy sends the authorization server for
	// backend services.
	KMS             *fakekms.Server
	AssertionKeyARN string
	// BackendKey is the private key of sandbox.EHRBackendClientID, the
	// backend service registered both with the authorization server and with
	// the proxy (EHRLAUNCH_BACKEND_CLIENTS), under Sandbox.EHRBackendKeyID.
	BackendKey *rsa.PrivateKey
}

// Profile is the CredentialsFile profile of the EHR role's credentials.
const Profile = "smartsandbox-ehr"

// Patient is the patient the printed check command launches with (the
// sandbox's p2, who has one Observation).
const Patient = "p2"

// CheckCommand is the smartcheck command line that verifies this sandbox,
// the EHR launch included: the backend token from the authorization server's
// own token endpoint (as a stack's TokenEndpoint output gives it), POST
// /launch signed with the EHR role's credentials.
func (w *World) CheckCommand() string {
	return fmt.Sprintf("AWS_SHARED_CREDENTIALS_FILE=%s %s --token-endpoint %s --ehr-launch-api %s --ehr-launch --ehr-client-id %s --ehr-redirect-uri %s --ehr-other-client-id %s --ehr-patient %s --profile %s --region %s",
		w.CredentialsFile, w.Sandbox.CheckCommand(), w.TokenEndpoint, w.APIURL, sandbox.EHRAppClientID, AppRedirectURI, sandbox.EHRWebClientID, Patient, Profile, Region)
}

// Close stops the API, the sandbox and the DynamoDB and KMS fakes.
func (w *World) Close() error {
	err := w.Sandbox.Close()
	w.DB.Close()
	w.KMS.Close()
	return err
}

// Start starts the sandbox with EHR launch and the API in front of it.
func Start(cfg Config) (_ *World, err error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	w := &World{HookSecret: "hook-" + randhex.String(16), EHRSecretKey: randhex.String(20)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	w.APIURL = "https://" + ln.Addr().String()
	w.DB = fakedynamodb.Start()
	w.DB.CreateTable(Table, launchstore.KeyAttribute, launchstore.TTLAttribute)
	w.KMS = fakekms.Start()
	defer func() {
		if err != nil {
			ln.Close()
			if w.Sandbox != nil {
				w.Sandbox.Close()
			}
			w.DB.Close()
			w.KMS.Close()
		}
	}()
	// The proxy's assertion key, and its public half read through KMS
	// GetPublicKey, as the Okta custom resource reads it to register it with
	// every private_key_jwt client.
	if w.AssertionKeyARN, err = w.KMS.AddSigningKey("ehr-launch-assertions"); err != nil {
		return nil, fmt.Errorf("making the assertion key: %w", err)
	}
	kmsClient := w.KMS.Client()
	proxyJWK, err := assertionjwk.Read(context.Background(), kmsClient, w.AssertionKeyARN)
	if err != nil {
		return nil, err
	}
	if w.BackendKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, fmt.Errorf("generating the backend service's key: %w", err)
	}

	e := &sandbox.EHRLaunch{
		Callback: w.APIURL + ehrlaunchenv.PathCallback,
		HookURL:  w.APIURL + ehrlaunchenv.PathHook, HookAuthorization: w.HookSecret,
		APIURL:     w.APIURL,
		BackendKey: &w.BackendKey.PublicKey, ProxyAssertionKey: proxyJWK.Key.(*rsa.PublicKey),
	}
	if old := cfg.Sandbox.EHRLaunch; old != nil {
		e.HookTimeout = old.HookTimeout
	}
	// As the composite construct configures the apps (newEhrLaunch and
	// withEhrLaunch in constructs/smarthealthlake/ehrlaunch.go, clientsJSON
	// in constructs/ehrlaunch): the API gets each app's own redirect URI,
	// Okta that and the callback.
	clients := []ehrlaunchenv.Client{
		{ClientID: sandbox.EHRAppClientID, RedirectURIs: []string{AppRedirectURI}, PatientPicker: cfg.PatientPicker},
		{ClientID: sandbox.EHRWebClientID, RedirectURIs: []string{AppRedirectURI}},
		{ClientID: OtherAppID, RedirectURIs: []string{"https://other.example/cb"}},
	}
	for _, a := range cfg.RegistryApps {
		clients = append(clients, ehrlaunchenv.Client{ClientID: a.ClientID, RedirectURIs: []string{a.RedirectURI}, PatientPicker: a.PatientPicker})
		e.RegistryApps = append(e.RegistryApps, sandbox.RegistryApp{ClientID: a.ClientID, RedirectURIs: []string{a.RedirectURI, e.Callback}})
	}
	clientsEnv, err := json.Marshal(clients)
	if err != nil {
		return nil, fmt.Errorf("encoding the launched apps: %w", err)
	}
	cfg.Sandbox.EHRLaunch = e
	if w.Sandbox, err = sandbox.Start(cfg.Sandbox); err != nil {
		return nil, err
	}

	// As the construct configures the function (constructs/ehrlaunch).
	env := map[string]string{
		ehrlaunchenv.EnvTable: Table, ehrlaunchenv.EnvOktaIssuer: w.Issuer, ehrlaunchenv.EnvFHIRAudience: w.FHIREndpoint,
		ehrlaunchenv.EnvPublicURL:       w.APIURL,
		ehrlaunchenv.EnvClients:         string(clientsEnv),
		ehrlaunchenv.EnvEHRPrincipals:   EHRRoleARN,
		ehrlaunchenv.EnvHookSecretARN:   "arn:aws:secretsmanager:us-east-1:123456789012:secret:ehr-hook-AbCdEf",
		ehrlaunchenv.EnvAssertionKeyARN: w.AssertionKeyARN,
	}
	// The backend service's registered JWKS, as the construct renders it.
	backendJWKS, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &w.BackendKey.PublicKey, KeyID: w.EHRBackendKeyID, Algorithm: "RS384", Use: "sig"}}})
	if err != nil {
		return nil, fmt.Errorf("encoding the backend service's JWKS: %w", err)
	}
	backends, err := json.Marshal([]ehrlaunchenv.BackendClient{{ClientID: sandbox.EHRBackendClientID, JWKS: backendJWKS}})
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", ehrlaunchenv.EnvBackendClients, err)
	}
	env[ehrlaunchenv.EnvBackendClients] = string(backends)
	lcfg, err := ehrlaunchenv.Parse(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	client, err := w.HTTPClient()
	if err != nil {
		return nil, err
	}
	db := dynamodb.New(dynamodb.Options{
		Region: Region, BaseEndpoint: aws.String(w.DB.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAFAKE", "fake", ""),
	})
	var store launchflow.Store = launchstore.New(db, Table, cfg.Now)
	if cfg.Store != nil {
		store = cfg.Store(store)
	}
	srv, err := launchflow.New(lcfg, store, launchflow.Options{HookSecret: w.HookSecret, Now: cfg.Now, HTTPClient: client,
		AssertionSigner: assertionkey.New(kmsClient, w.AssertionKeyARN)})
	if err != nil {
		return nil, err
	}
	var h http.Handler = &gateway{adapter: httpadapter.New(srv), secret: w.EHRSecretKey}
	if cfg.Gateway != nil {
		h = cfg.Gateway(h)
	}
	w.CredentialsFile = filepath.Join(cfg.Sandbox.Dir, "sandbox-ehr-credentials")
	creds := fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", Profile, EHRAccessKeyID, w.EHRSecretKey)
	if err := os.WriteFile(w.CredentialsFile, []byte(creds), 0o600); err != nil {
		return nil, fmt.Errorf("writing the EHR role's credentials: %w", err)
	}
	w.Serve(ln, h)
	return w, nil
}

// HTTPClient trusts the sandbox's certificate (the API's, the authorization
// server's and the data store's), as clients trust the real ones' CAs.
func (w *World) HTTPClient() (*http.Client, error) {
	pem, err := os.ReadFile(w.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading the sandbox certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no certificate", w.CAFile)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}, nil
}

// gateway emulates the REST API in front of the Lambda: POST /launch uses
// IAM authorization (API Gateway verifies the SigV4 signature and puts the
// caller in requestContext.identity.userArn, or answers 403 itself), the other
// routes none; each request becomes a proxy-integration event.
type gateway struct {
	adapter *httpadapter.HandlerAdapter
	secret  string
}

func (g *gateway) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: r.Method, Path: r.URL.Path, Body: string(body),
		MultiValueHeaders:               map[string][]string(r.Header.Clone()),
		MultiValueQueryStringParameters: map[string][]string(r.URL.Query()),
	}
	if r.URL.Path == ehrlaunchenv.PathLaunch {
		if !g.verifySigV4(r, body) {
			rw.WriteHeader(http.StatusForbidden)
			_, _ = rw.Write([]byte(`{"message":"The request signature we calculated does not match the signature you provided."}`))
			return
		}
		ev.RequestContext.Identity.UserArn = EHRSession
	}
	resp, err := g.adapter.ProxyWithContext(r.Context(), ev)
	if err != nil {
		rw.WriteHeader(http.StatusBadGateway)
		return
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			rw.Header().Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		rw.Header().Set(k, v)
	}
	rw.WriteHeader(resp.StatusCode)
	_, _ = rw.Write([]byte(resp.Body))
}

// verifySigV4 checks a request the way API Gateway does: recompute the
// signature with the caller's secret key (the SDK's signer) and compare, and
// refuse a request dated more than 5 minutes off (SigV4's window).
func (g *gateway) verifySigV4(r *http.Request, body []byte) bool {
	auth := r.Header.Get("Authorization")
	if !strings.Contains(auth, "Credential="+EHRAccessKeyID+"/") {
		return false
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil || time.Since(at).Abs() > 5*time.Minute {
		return false
	}
	_, signed, _ := strings.Cut(auth, "SignedHeaders=")
	signed, _, _ = strings.Cut(signed, ",")
	clone, _ := http.NewRequest(r.Method, "https://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	for h := range strings.SplitSeq(signed, ";") {
		if h != "host" && h != "content-length" {
			clone.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: EHRAccessKeyID, SecretAccessKey: g.secret},
		clone, hex.EncodeToString(sum[:]), "execute-api", Region, at)
	return err == nil && subtle.ConstantTimeCompare([]byte(clone.Header.Get("Authorization")), []byte(auth)) == 1
}

// Delayed answers a route's requests late, after the handler did its work:
// for tests of a hook whose answer reaches Okta after its timeout. delay is
// read on each request; a negative one answers 500 without running the handler.
func Delayed(path string, delay func() time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Path != path {
				next.ServeHTTP(rw, r)
				return
			}
			d := delay()
			if d < 0 {
				rw.WriteHeader(http.StatusInternalServerError)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			time.Sleep(d) // the answer, not the work, is late
			res := rec.Result()
			for k, v := range res.Header {
				rw.Header()[k] = v
			}
			rw.WriteHeader(res.StatusCode)
			_, _ = rw.Write(rec.Body.Bytes())
		})
	}
}
