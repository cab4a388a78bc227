package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakecloudformation"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakehealthlake"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/healthlakeapi"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// pollsToSettle is how many isComplete polls a transition lasts in the fake.
const pollsToSettle = 2

// harness drives the handler the way the Provider framework does, against a fake
// HealthLake reached through the real SDK client.
type harness struct {
	t      *testing.T
	ctx    context.Context
	fake   *fakehealthlake.Server
	stacks *fakecloudformation.Server
	h      *Handler
	logs   *bytes.Buffer
}

// testStackID is the StackId of testdata/create-event.json.
const testStackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/FhirStack/1e2b5f10-8c5e-11ef-9d3a-0a1b2c3d4e5f"

// newHarness starts the fakes. The fake CloudFormation knows the events' stack,
// in DELETE_IN_PROGRESS (a stack deletion) until a test changes it.
func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, fakehealthlake.Options{PollsToSettle: pollsToSettle})
}

// newHarnessWith is newHarness with other options for the fake HealthLake.
func newHarnessWith(t *testing.T, opts fakehealthlake.Options) *harness {
	t.Helper()
	fake := fakehealthlake.New(t, opts)
	stacks := fakecloudformation.New(t, "us-east-1")
	stacks.PutStack(fakecloudformation.Stack{ID: testStackID, Name: "FhirStack", Status: "DELETE_IN_PROGRESS"})
	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")
	// The production policy, with millisecond backoff and a few attempts; main
	// gives both clients the same one.
	retryer := func() aws.Retryer {
		return healthlakeapi.NewRetryer(func(o *retry.StandardOptions) {
			o.MaxAttempts = 4
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	client := healthlake.New(healthlake.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(fake.URL()), Credentials: creds, Retryer: retryer(),
	})
	cfn := cloudformation.New(cloudformation.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(stacks.URL()), Credentials: creds, Retryer: retryer(),
	})
	logs := &bytes.Buffer{}
	return &harness{
		t: t, ctx: context.Background(), fake: fake, stacks: stacks, logs: logs,
		h: New(client, cfn, slog.New(slog.NewJSONHandler(logs, nil))),
	}
}

// createEvent is a Create as the framework delivers it (testdata/create-event.json).
func createEvent(t *testing.T) customresource.Event {
	t.Helper()
	raw, err := os.ReadFile("testdata/create-event.json")
	require.NoError(t, err)
	var e customresource.Event
	require.NoError(t, json.Unmarshal(raw, &e))
	return e
}

// clone deep-copies properties so a test can edit them.
func clone(t *testing.T, p map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

// updateEvent is the Update CloudFormation sends after prev, with props edited by edit.
func updateEvent(t *testing.T, prev customresource.Event, id, requestID string, edit func(map[string]any)) customresource.Event {
	t.Helper()
	e := prev
	e.RequestType = customresource.Update
	e.RequestID = requestID
	e.PhysicalResourceID = id
	e.OldResourceProperties = clone(t, prev.ResourceProperties)
	e.ResourceProperties = clone(t, prev.ResourceProperties)
	edit(e.ResourceProperties)
	return e
}

// rollbackOf is CloudFormation's rollback Update: old and new properties swapped.
func rollbackOf(e customresource.Event, requestID string) customresource.Event {
	r := e
	r.RequestID = requestID
	r.ResourceProperties, r.OldResourceProperties = e.OldResourceProperties, e.ResourceProperties
	return r
}

func deleteEvent(t *testing.T, prev customresource.Event, id string, edit func(map[string]any)) customresource.Event {
	t.Helper()
	e := prev
	e.RequestType = customresource.Delete
	e.RequestID = "delete-request"
	e.PhysicalResourceID = id
	e.OldResourceProperties = nil
	e.ResourceProperties = clone(t, prev.ResourceProperties)
	if edit != nil {
		edit(e.ResourceProperties)
	}
	return e
}

// outcome is what the framework would report to CloudFormation.
type outcome struct {
	id    string
	data  map[string]any
	polls int // isComplete calls until completion
	err   error
}

// run calls onEvent, then isComplete until it completes or fails.
func (x *harness) run(e customresource.Event) outcome {
	x.t.Helper()
	resp, err := x.h.OnEvent(x.ctx, e)
	if err != nil {
		return outcome{err: err}
	}
	ce := customresource.IsCompleteEvent{Event: e, Data: resp.Data}
	if resp.PhysicalResourceID != "" {
		ce.PhysicalResourceID = resp.PhysicalResourceID
	}
	for polls := 1; polls <= 10; polls++ {
		// isComplete's role has no tagging right (constructs/datastore,
		// permissions.go): every scenario checks that it never tags.
		tagged := len(x.fake.Requests("TagResource", "UntagResource"))
		done, err := x.h.IsComplete(x.ctx, ce)
		require.Len(x.t, x.fake.Requests("TagResource", "UntagResource"), tagged,
			"isComplete called TagResource or UntagResource, which its role may not")
		if err != nil {
			return outcome{id: ce.PhysicalResourceID, polls: polls, err: err}
		}
		if done.IsComplete {
			return outcome{id: ce.PhysicalResourceID, data: done.Data, polls: polls}
		}
	}
	x.t.Fatalf("%s never completed", e.RequestType)
	return outcome{}
}

// mustRun is run for steps that set a scene.
func (x *harness) mustRun(e customresource.Event) outcome {
	x.t.Helper()
	o := x.run(e)
	require.NoError(x.t, o.err)
	return o
}

// userTags are a data store's tags without the handler's own.
func (x *harness) userTags(id string) map[string]string {
	x.t.Helper()
	out := map[string]string{}
	for k, v := range x.datastore(id).Tags {
		if !strings.HasPrefix(k, datastoreprops.TagPrefix) {
			out[k] = v
		}
	}
	return out
}

// datastore returns the fake's view of a data store.
func (x *harness) datastore(id string) fakehealthlake.Datastore {
	x.t.Helper()
	d, ok := x.fake.Datastore(id)
	require.True(x.t, ok, "no data store %s", id)
	return d
}

// steppingClock is a clock for Handler.now that moves on by step at each
// reading, so polls that wait for time to pass end within the harness's polls.
func steppingClock(step time.Duration) func() time.Time {
	t := time.Now()
	return func() time.Time {
		t = t.Add(step)
		return t
	}
}
