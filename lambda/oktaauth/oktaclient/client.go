// Package oktaclient builds the okta-sdk-golang/v2 management client the Okta
// custom resource uses: credentials from Secrets Manager, no cache, bounded
// timeouts, 429s retried by the SDK until X-Rate-Limit-Reset and 5xx retried by
// RetryTransport, which also keeps the SDK from sending a request cut off by
// an EOF again (a create could be made twice; see hideEOF). A service app's credentials are handled by this package's
// own transport, which obtains the access token and speaks DPoP (RFC 9449)
// when the app requires it, since the SDK cannot (see serviceapp.go). Okta's
// error answers reach the SDK without the secrets the request sent, which
// Okta may quote and the SDK's errors print (see scrub.go).
//
// Configuration isolation: okta.NewClient first loads ~/.okta/okta.yaml, an
// .okta.yaml next to the SDK's own source, and OKTA_* / OKTA_CLIENT_* environment
// variables, and only then applies the options passed in. New therefore passes an
// option for every setting the SDK reads, so nothing from a file or the
// environment can change the org, the credentials, the cache, the retry policy,
// the timeouts or the HTTPS check. (The files are still opened; there is no way
// to stop that short of patching the SDK. The proxy settings it also reads are
// not used by v2.20.0.) A test plants a hostile okta.yaml and environment to keep
// this true.
package oktaclient

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/okta/okta-sdk-golang/v2/okta"

	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

// Options configure New. The zero value gives the production settings.
type Options struct {
	// Transport carries the requests, under the retry layer. Default: a fresh
	// http.Transport.
	Transport http.RoundTripper
	// AttemptTimeout bounds one HTTP attempt, body included: each try of
	// RetryTransport gets its own deadline, so a slow attempt is retried instead
	// of eating the time of the ones after it. Default: 30s.
	AttemptTimeout time.Duration
	// RequestTimeout bounds one SDK call, 429 waits and 5xx retries included
	// (the SDK's requestTimeout, whole seconds). It must exceed
	// RateLimitMaxRetries x RateLimitMaxBackoff or a 429 wait is cut short.
	// Default: 300s.
	RequestTimeout time.Duration
	// RateLimitMaxRetries is how many 429s in a row the SDK waits out. Default: 4.
	RateLimitMaxRetries int32
	// RateLimitMaxBackoff caps one 429 wait (whole seconds). Okta's windows are
	// one minute. Default: 60s.
	RateLimitMaxBackoff time.Duration
	// Retry tunes the 5xx retries (its Next is set by New).
	Retry RetryTransport
	// InsecureHTTPForTests allows an http:// org URL on a loopback host. Tests only: it exists
	// because the in-process fake is plain HTTP.
	InsecureHTTPForTests bool
	// UserAgentExtra is appended to the SDK's User-Agent.
	UserAgentExtra string
}

// New returns an Okta management client for orgURL.
func New(ctx context.Context, orgURL string, creds Credentials, opts Options) (*okta.Client, error) {
	// InsecureHTTPForTests allows http only on a loopback host, where the
	// tests' fake Okta listens.
	orgURL, err := oktaprops.CheckOrgURL(orgURL, opts.InsecureHTTPForTests)
	if err != nil {
		return nil, fmt.Errorf("okta org URL %w", err)
	}

	attemptTimeout := orDefault(opts.AttemptTimeout, 30*time.Second)
	requestTimeout := orDefault(opts.RequestTimeout, 300*time.Second)
	maxBackoff := orDefault(opts.RateLimitMaxBackoff, 60*time.Second)
	maxRetries := opts.RateLimitMaxRetries
	if maxRetries <= 0 {
		maxRetries = 4
	}
	base := opts.Transport
	if base == nil {
		base = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			TLSHandshakeTimeout: 10 * time.Second,
			IdleConnTimeout:     30 * time.Second,
			MaxIdleConnsPerHost: 4,
		}
	}
	retry := opts.Retry
	retry.Next = base
	retry.AttemptTimeout = attemptTimeout
	// No http.Client.Timeout: it would bound all of RetryTransport's attempts
	// together. Each attempt has its own deadline (above) and the whole call is
	// bounded by the SDK's request timeout, through the request's context.
	httpClient := &http.Client{Transport: &retry}

	setters := []okta.ConfigSetter{
		okta.WithOrgUrl(orgURL),
		okta.WithHttpClientPtr(httpClient),
		okta.WithCache(false), // a reconciler must see Okta's current state, never a 300 s old copy
		okta.WithCacheTtl(0),
		okta.WithCacheTti(0),
		okta.WithCacheManager(nil),
		okta.WithConnectionTimeout(int64(attemptTimeout / time.Second)),
		okta.WithRequestTimeout(int64(requestTimeout / time.Second)),
		okta.WithRateLimitMaxRetries(maxRetries),
		okta.WithRateLimitMaxBackOff(int64(maxBackoff / time.Second)),
		okta.WithTestingDisableHttpsCheck(opts.InsecureHTTPForTests),
		okta.WithUserAgentExtra(opts.UserAgentExtra),
		okta.WithProxyHost(""),
		okta.WithProxyPort(0),
		okta.WithProxyUsername(""),
		okta.WithProxyPassword(""),
		okta.WithClientAssertion(""),
	}
	if creds.PrivateKeyMode() {
		key, err := parseRSAPrivateKey(creds.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("okta private key: %w", err)
		}
		// Our own signer: the SDK's accepts only PKCS#1 PEM and treats a key
		// string that happens to name a file as a path to read.
		signerOpts := &jose.SignerOptions{}
		if creds.KeyID != "" {
			signerOpts = signerOpts.WithHeader("kid", creds.KeyID)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, signerOpts)
		if err != nil {
			return nil, fmt.Errorf("okta private key: %w", err)
		}
		// Token requests get their own copy of the retry layer. Both token
		// requests and management calls are signed under the retry layer, so
		// that each attempt carries a fresh client assertion and DPoP proof
		// (Okta refuses an assertion's or a proof's jti a second time).
		auth, err := newServiceAppAuth(base, retry, orgURL, creds, signer)
		if err != nil {
			return nil, err
		}
		retry.Next = auth
		// The token is obtained above the management retry layer, on the
		// call's own time (see tokenFirst).
		httpClient.Transport = &tokenFirst{auth: auth, next: &retry}
		// The SDK runs in its static Bearer mode with a placeholder; auth
		// obtains the real token (DPoP-bound when the app requires it) and
		// sets the Authorization and DPoP headers. See serviceapp.go.
		setters = append(setters,
			okta.WithAuthorizationMode("Bearer"),
			okta.WithToken(sdkPlaceholderToken),
			okta.WithClientId(creds.ClientID),
			okta.WithScopes(nil),
			okta.WithPrivateKeySigner(nil),
			okta.WithPrivateKeyId(""),
		)
		// WithPrivateKey is not called: it would stat the key as a file path. The
		// field is cleared directly below instead.
	} else {
		if creds.APIToken == "" {
			return nil, errors.New("okta credentials: no API token and no private key")
		}
		setters = append(setters,
			okta.WithAuthorizationMode("SSWS"),
			okta.WithToken(creds.APIToken),
			okta.WithClientId(""),
			okta.WithScopes(nil),
			okta.WithPrivateKeySigner(nil),
			okta.WithPrivateKeyId(""),
		)
	}
	// Outermost, so that the SDK parses only scrubbed error answers.
	var known []string
	if creds.APIToken != "" {
		known = append(known, creds.APIToken)
	}
	httpClient.Transport = &scrubTransport{next: httpClient.Transport, known: known}
	_, client, err := okta.NewClient(ctx, setters...)
	if err != nil {
		// The SDK's messages can quote the org URL, never the token.
		return nil, fmt.Errorf("creating okta client for %s: %w", orgURL, err)
	}
	// A private key (or a path to one) from okta.yaml / OKTA_CLIENT_PRIVATEKEY
	// must not linger in the config: our signer is the only key.
	client.GetConfig().Okta.Client.PrivateKey = ""
	return client, nil
}

func parseRSAPrivateKey(pemText string) (*rsa.PrivateKey, error) {
	// Secrets typed into a console often carry literal "\n" instead of newlines.
	block, _ := pem.Decode([]byte(strings.ReplaceAll(pemText, `\n`, "\n")))
	if block == nil {
		return nil, errors.New("not a PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("invalid PKCS#1 RSA private key")
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, errors.New("invalid PKCS#8 private key")
		}
		rsaKey, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("okta service apps sign with RS256: need an RSA key, got %T", k)
		}
		return rsaKey, nil
	default:
		return nil, fmt.Errorf("unsupported PEM block %q (want RSA PRIVATE KEY or PRIVATE KEY)", block.Type)
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
