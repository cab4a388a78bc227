package frameworktest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fakesecretsmanager"
	"github.com/openhealthstack/smart-healthlake/internal/lambdaruntime"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakekms"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/providerframework"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

const (
	// handlerTimeout is the construct's (constructs/oktaauth handlerTimeoutMinutes).
	handlerTimeout = 14 * time.Minute
	resourceType   = "Custom::SmartOktaAuthorizationServer"
	logicalID      = "SmartAuthServerResource5E6F7A8B"
	stackName      = "smart-healthlake"
)

type env struct {
	t     *testing.T
	okta  *fakeokta.Server
	sm    *fakesecretsmanager.Server
	kms   *fakekms.Server
	fw    *providerframework.Framework
	stack *providerframework.Stack
	props map[string]any
}

type envOptions struct {
	// timeout overrides the handler's Lambda timeout.
	timeout time.Duration
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the handler and runs the Provider framework under node; skipped with -short")
	}
	if o.timeout == 0 {
		o.timeout = handlerTimeout
	}
	bin := providerframework.Build(t, "github.com/openhealthstack/smart-healthlake/lambda/oktaauth")
	okta := fakeokta.New(t, fakeokta.Options{TLS: true})
	sm := fakesecretsmanager.New(t)
	keys := fakekms.New(t)
	certFile := filepath.Join(t.TempDir(), "okta-ca.pem")
	require.NoError(t, os.WriteFile(certFile, okta.CertificatePEM(), 0o644))

	fw := providerframework.New(t, providerframework.Options{
		OnEvent: lambdaruntime.Config{Name: stackName + "-OktaAuthHandler", Command: bin, Handler: "bootstrap",
			Timeout: o.timeout, MemoryMB: 256, Env: map[string]string{
				"AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.URL,
				"AWS_ENDPOINT_URL_KMS":             keys.URL,
				// Go reads the trusted roots from here on Linux: the fake's
				// certificate, and nothing else.
				"SSL_CERT_FILE": certFile,
			}},
	})
	e := &env{t: t, okta: okta, sm: sm, kms: keys, fw: fw, stack: providerframework.NewStack(t, fw, stackName)}
	e.props = e.properties()
	return e
}

// properties are the full example of the handler's tests
// (handler/testdata/create-full.json), pointed at the fakes.
func (e *env) properties() map[string]any {
	e.t.Helper()
	raw, err := os.ReadFile("../handler/testdata/create-full.json")
	require.NoError(e.t, err)
	text := strings.NewReplacer(
		"${OKTA_ORG_URL}", e.okta.URL,
		"${CREDENTIAL_SECRET_ARN}", e.sm.Put("okta-management-credentials", `{"apiToken":"`+fakeokta.DefaultAPIToken+`"}`),
		"${CLIENT_SECRET_ARN}", e.sm.Put("smart-client-secrets", `{}`),
		"${INTROSPECTION_SECRET_ARN}", e.sm.Put("smart-introspection-credential", `{}`),
	).Replace(string(raw))
	var ev struct{ ResourceProperties map[string]any }
	require.NoError(e.t, json.Unmarshal([]byte(text), &ev))
	delete(ev.ResourceProperties, "ServiceToken")
	return ev.ResourceProperties
}

func (e *env) with(key string, value any) map[string]any {
	p := map[string]any{}
	raw, _ := json.Marshal(e.props)
	_ = json.Unmarshal(raw, &p)
	p[key] = value
	return p
}

func (e *env) resource() providerframework.Resource {
	return providerframework.Resource{LogicalID: logicalID, Type: resourceType, Properties: e.props}
}

// clientIDs maps each app's label to its client_id.
func (e *env) clientIDs() map[string]string {
	out := map[string]string{}
	for _, a := range e.okta.Apps() {
		out[a.Label] = a.Credentials.OauthClient.ClientID
	}
	return out
}

// leftovers lists what exists in Okta: authorization servers and apps.
func (e *env) leftovers() []string {
	var out []string
	for _, as := range e.okta.AuthorizationServers() {
		out = append(out, "authorization server "+as.Name+" "+as.ID)
	}
	for _, a := range e.okta.Apps() {
		out = append(out, "app "+a.Label+" "+a.ID)
	}
	sort.Strings(out)
	return out
}

// settle waits for the framework, then checks what every scenario must hold:
// responses CloudFormation accepts, and no client secret in any response or
// handler log.
func (e *env) settle() {
	e.t.Helper()
	e.fw.Idle(30 * time.Second)
	e.t.Cleanup(func() {
		if e.t.Failed() {
			e.t.Logf("requests:\n%s", e.stack)
		}
	})
	logs := e.fw.HandlerLogs()
	secrets := e.okta.ClientSecrets()
	for _, x := range e.stack.History() {
		if x.Response == nil {
			continue
		}
		assert.Empty(e.t, x.Refused, "CloudFormation would refuse the response to %s", x.Request.RequestType)
		for _, s := range secrets {
			assert.NotContains(e.t, string(x.Response.Body), s, "a client secret in a response")
		}
	}
	for _, s := range secrets {
		assert.NotContains(e.t, logs, s, "a client secret in the handler's logs")
	}
	assert.NotContains(e.t, logs, fakeokta.DefaultAPIToken, "the Okta API token in the handler's logs")
}
