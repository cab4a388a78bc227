package handler_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fakesecretsmanager"
	"github.com/openhealthstack/smart-healthlake/internal/syncbuf"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/fakekms"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/handler"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
)

// env is one handler wired to a fake Okta and a fake Secrets Manager, with its
// JSON logs captured.
type env struct {
	t    testing.TB
	okta *fakeokta.Server
	sm   *fakesecretsmanager.Server
	// kms holds the EHR launch proxy's assertion keys.
	kms     *fakekms.Server
	credARN string
	secARN  string
	// introARN is the introspection secret.
	introARN string
	logs     *syncbuf.Buffer
	h        *handler.Handler
}

func newEnv(t testing.TB, opts fakeokta.Options) *env {
	t.Helper()
	e := &env{t: t, okta: fakeokta.New(t, opts), sm: fakesecretsmanager.New(t), kms: fakekms.New(t), logs: &syncbuf.Buffer{}}
	token := opts.APIToken
	if token == "" {
		token = fakeokta.DefaultAPIToken
	}
	e.credARN = e.sm.Put("okta-management-credentials", `{"apiToken":"`+token+`"}`)
	e.secARN = e.sm.Put("smart-client-secrets", `{}`)
	e.introARN = e.sm.Put("smart-introspection-credential", `{}`)
	e.h = &handler.Handler{
		SecretsManager: secretsmanager.New(secretsmanager.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(e.sm.URL),
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "fake-secret-key", ""),
		}),
		KMS: kms.New(kms.Options{
			Region:       fakekms.Region,
			BaseEndpoint: aws.String(e.kms.URL),
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "fake-secret-key", ""),
		}),
		Log:  slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Okta: testOktaOptions(),
	}
	return e
}

// testOktaOptions keep the retries real but the waits tiny.
func testOktaOptions() oktaclient.Options {
	return oktaclient.Options{
		InsecureHTTPForTests: true,
		AttemptTimeout:       5 * time.Second,
		RequestTimeout:       20 * time.Second,
		RateLimitMaxBackoff:  3 * time.Second,
		Retry:                oktaclient.RetryTransport{BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond},
	}
}

// fullEvent reads testdata/create-full.json with the fakes' addresses filled in.
func (e *env) fullEvent() customresource.Event {
	e.t.Helper()
	raw, err := os.ReadFile("testdata/create-full.json")
	require.NoError(e.t, err)
	text := strings.NewReplacer(
		"${OKTA_ORG_URL}", e.okta.URL,
		"${CREDENTIAL_SECRET_ARN}", e.credARN,
		"${CLIENT_SECRET_ARN}", e.secARN,
		"${INTROSPECTION_SECRET_ARN}", e.introARN,
	).Replace(string(raw))
	var ev customresource.Event
	require.NoError(e.t, json.Unmarshal([]byte(text), &ev))
	return ev
}

func (e *env) run(ev customresource.Event) (customresource.OnEventResponse, error) {
	return e.h.OnEvent(context.Background(), ev)
}

// create runs the full create event and returns the response.
func (e *env) create() customresource.OnEventResponse {
	e.t.Helper()
	resp, err := e.run(e.fullEvent())
	require.NoError(e.t, err)
	return resp
}

// updateEvent turns a create event into an update of physicalID with props
// changed by edit (old properties are the create's).
func updateEvent(create customresource.Event, physicalID string, edit func(map[string]any)) customresource.Event {
	ev := create
	ev.RequestType = customresource.Update
	ev.PhysicalResourceID = physicalID
	ev.OldResourceProperties = create.ResourceProperties
	ev.ResourceProperties = cloneProps(create.ResourceProperties)
	if edit != nil {
		edit(ev.ResourceProperties)
	}
	return ev
}

func deleteEvent(create customresource.Event, physicalID string) customresource.Event {
	ev := create
	ev.RequestType = customresource.Delete
	ev.PhysicalResourceID = physicalID
	return ev
}

func cloneProps(p map[string]any) map[string]any {
	raw, _ := json.Marshal(p)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// writes lists the non-GET requests the fake carried out (2xx), as "METHOD path".
func (e *env) writes() []string {
	var out []string
	for _, r := range e.okta.Requests() {
		if r.Method != "GET" && r.Status < 300 {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// secretDoc reads the client-secret secret.
func (e *env) secretDoc() map[string]string {
	e.t.Helper()
	v, ok := e.sm.Value(e.secARN)
	require.True(e.t, ok)
	var doc map[string]string
	require.NoError(e.t, json.Unmarshal([]byte(v), &doc))
	return doc
}

// introspectionDoc reads the introspection secret.
func (e *env) introspectionDoc() map[string]string {
	e.t.Helper()
	v, ok := e.sm.Value(e.introARN)
	require.True(e.t, ok)
	var doc map[string]string
	require.NoError(e.t, json.Unmarshal([]byte(v), &doc))
	return doc
}

// putsTo counts the PutSecretValue calls on one secret.
func (e *env) putsTo(arn string) int {
	n := 0
	for _, r := range e.sm.Requests() {
		if r.Operation == "PutSecretValue" && r.SecretID == arn {
			n++
		}
	}
	return n
}

func (e *env) onlyServer() fakeokta.AuthorizationServer {
	e.t.Helper()
	servers := e.okta.AuthorizationServers()
	require.Len(e.t, servers, 1)
	return servers[0]
}

// directClient is an Okta client for acting on the fake behind the handler's
// back (an admin in the console).
func directClient(t *testing.T, e *env) *okta.Client {
	t.Helper()
	c, err := oktaclient.New(context.Background(), e.okta.URL, oktaclient.Credentials{APIToken: fakeokta.DefaultAPIToken}, testOktaOptions())
	require.NoError(t, err)
	return c
}

func scopeNamed(name string) okta.OAuth2Scope {
	return okta.OAuth2Scope{Name: name, Consent: "IMPLICIT", MetadataPublish: "NO_CLIENTS"}
}
