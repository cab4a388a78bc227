package frameworktest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/internal/lambdaruntime"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakecloudformation"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakehealthlake"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/providerframework"
)

// Production settings the tests keep (constructs/datastore): the handlers'
// timeout. The waiter's interval and total are shortened.
const (
	handlerTimeout = datastoreprops.HandlerTimeoutMinutes * time.Minute
	queryInterval  = 15 * time.Millisecond
	resourceType   = "Custom::HealthLakeDatastore"
	logicalID      = "SmartDatastoreResource9A1B2C3D"
	stackName      = "FhirStack"
)

// env is one deployed Provider for the data store handler, its fakes, and a
// stack to drive it.
type env struct {
	t     *testing.T
	hl    *fakehealthlake.Server
	cfn   *fakecloudformation.Server
	fw    *providerframework.Framework
	stack *providerframework.Stack
}

type envOptions struct {
	// pollsToSettle is the fake HealthLake's; attempts the waiter's
	// isComplete runs at most (1 + TotalTimeout/QueryInterval).
	pollsToSettle, attempts int
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the handler and runs the Provider framework under node; skipped with -short")
	}
	if o.pollsToSettle == 0 {
		o.pollsToSettle = 2
	}
	if o.attempts == 0 {
		o.attempts = 40
	}
	bin := providerframework.Build(t, "github.com/openhealthstack/smart-healthlake/lambda/datastore")
	hl := fakehealthlake.New(t, fakehealthlake.Options{PollsToSettle: o.pollsToSettle, ImmediateIdentityUpdates: true})
	cfn := fakecloudformation.New(t, "us-east-1")
	handlerEnv := func(mode string) map[string]string {
		return map[string]string{
			"HANDLER_MODE":                    mode,
			"AWS_ENDPOINT_URL_HEALTHLAKE":     hl.URL(),
			"AWS_ENDPOINT_URL_CLOUDFORMATION": cfn.URL(),
		}
	}
	fw := providerframework.New(t, providerframework.Options{
		OnEvent: lambdaruntime.Config{Name: stackName + "-DatastoreOnEvent", Command: bin, Handler: "bootstrap",
			Env: handlerEnv("onEvent"), Timeout: handlerTimeout, MemoryMB: 256},
		IsComplete: &lambdaruntime.Config{Name: stackName + "-DatastoreIsComplete", Command: bin, Handler: "bootstrap",
			Env: handlerEnv("isComplete"), Timeout: handlerTimeout, MemoryMB: 256},
		QueryInterval: queryInterval,
		TotalTimeout:  time.Duration(o.attempts-1) * queryInterval,
	})
	stack := providerframework.NewStack(t, fw, stackName)
	cfn.PutStack(fakecloudformation.Stack{ID: stack.ID, Name: stackName, Status: "REVIEW_IN_PROGRESS"})
	stack.OnStatus = func(status string) {
		cfn.SetStatus(stack.ID, status)
		// DescribeStacks' LastUpdatedTime is when the stack's last update began
		// (CloudFormation API reference, Stack.LastUpdatedTime); a rollback keeps
		// it, as far as we know, which is the direction that keeps data.
		if status == "UPDATE_IN_PROGRESS" {
			cfn.SetLastUpdated(stack.ID, time.Now().UTC())
		}
	}
	return &env{t: t, hl: hl, cfn: cfn, fw: fw, stack: stack}
}

// properties are a SMART data store's, as the construct renders them.
func properties(edits ...func(map[string]any)) map[string]any {
	p := map[string]any{
		datastoreprops.PropDatastoreName:            "patients-prod",
		datastoreprops.PropFhirVersion:              "R4",
		datastoreprops.PropAuthorizationStrategy:    "SMART_ON_FHIR",
		datastoreprops.PropFineGrainedAuthorization: "true",
		datastoreprops.PropIdpLambdaArn:             "arn:aws:lambda:us-east-1:123456789012:function:smart-idp:live",
		datastoreprops.PropIssuer:                   "https://example.okta.com/oauth2/aus1",
		datastoreprops.PropJwksUri:                  "https://example.okta.com/oauth2/aus1/v1/keys",
		datastoreprops.PropAuthorizationEndpoint:    "https://example.okta.com/oauth2/aus1/v1/authorize",
		datastoreprops.PropTokenEndpoint:            "https://example.okta.com/oauth2/aus1/v1/token",
		datastoreprops.PropScopesSupported:          []any{"openid", "fhirUser", "launch/patient", "patient/*.read"},
		datastoreprops.PropKmsKeyArn:                "",
		datastoreprops.PropPreloadSynthea:           "false",
		datastoreprops.PropTags:                     map[string]any{"team": "fhir"},
		datastoreprops.PropRemovalPolicy:            string(datastoreprops.Retain),
		datastoreprops.PropAcknowledgeReplacement:   "false",
		"ServiceTimeout":                            "3600",
	}
	for _, e := range edits {
		e(p)
	}
	return p
}

func set(key string, value any) func(map[string]any) {
	return func(p map[string]any) { p[key] = value }
}

// replaced are the properties of an acknowledged replacement: another key.
var replaced = []func(map[string]any){
	set(datastoreprops.PropKmsKeyArn, "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
	set(datastoreprops.PropAcknowledgeReplacement, "true"),
}

func datastoreResource(props map[string]any) providerframework.Resource {
	return providerframework.Resource{LogicalID: logicalID, Type: resourceType, Properties: props}
}

// live returns the ids of the data stores HealthLake still has (not DELETED;
// DELETING ones count: they are not gone yet).
// live lists the data stores HealthLake is not deleting: one DELETING is on
// its way out without anyone's help (the orphan clean-up does not wait for
// DELETED, see handler.cleanUpOrphans).
func (e *env) live() []string {
	var ids []string
	for _, d := range e.hl.Datastores() {
		if d.Status != "DELETING" {
			ids = append(ids, d.ID)
		}
	}
	return ids
}

func (e *env) status(id string) string {
	e.t.Helper()
	d, ok := e.hl.Datastore(id)
	require.True(e.t, ok, "HealthLake has no data store %s", id)
	return d.Status
}

// settle waits for the framework to finish everything in flight (a cancelled
// Create's waiter goes on polling), then checks what every scenario must
// hold: each response fit CloudFormation's 4 KB, and no handler log shows a
// pre-signed URL's signature. (The framework's own logs do: its isComplete
// throws a Retry error holding the whole event, which the Lambda Node.js
// runtime logs.)
func (e *env) settle() {
	e.t.Helper()
	e.fw.Idle(30 * time.Second)
	e.t.Cleanup(func() {
		if e.t.Failed() {
			e.t.Logf("requests:\n%s", e.stack)
		}
	})
	logs := e.fw.HandlerLogs()
	for _, x := range e.stack.History() {
		sig := x.Request.ResponseURL[strings.Index(x.Request.ResponseURL, "X-Amz-Signature=")+len("X-Amz-Signature="):]
		assert.NotContains(e.t, logs, sig, "a pre-signed response URL reached the logs")
		if x.Response != nil {
			assert.Empty(e.t, x.Refused, "CloudFormation would refuse the response to %s", x.Request.RequestType)
			assert.LessOrEqual(e.t, x.Response.Size, 4096)
		}
	}
}
