package providerframework

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/lambdaruntime"
)

// handlersJS are user handlers in Node.js, steered by their properties, to
// check the harness against the framework's documented behaviour without a
// Go handler in the way.
const handlersJS = `
exports.onEvent = async (event) => {
  if (event.ResourceProperties.FailOn === event.RequestType) throw new Error('refused ' + event.RequestType);
  return { PhysicalResourceId: event.PhysicalResourceId || 'res-1', Data: { Echo: event.ResourceProperties.Value } };
};
exports.isComplete = async (event) =>
  event.RequestType !== 'Delete' && event.ResourceProperties.Never === 'true' ? { IsComplete: false } : { IsComplete: true, Data: { Done: 'yes' } };
`

func nodeHandlers(t *testing.T) (lambdaruntime.Config, lambdaruntime.Config) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the Provider framework under node; skipped with -short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, err)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "handlers.js"), []byte(handlersJS), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bootstrap.js"), bootstrapJS, 0o644))
	cfg := func(name, handler string) lambdaruntime.Config {
		return lambdaruntime.Config{Name: name, Command: node, Args: []string{filepath.Join(dir, "bootstrap.js")},
			Dir: dir, Handler: handler, Timeout: 10 * time.Second}
	}
	return cfg("user-onEvent", "handlers.onEvent"), cfg("user-isComplete", "handlers.isComplete")
}

func resource(props map[string]any) Resource {
	return Resource{LogicalID: "Thing", Type: "Custom::Thing", Properties: props}
}

func TestFrameworkWithoutWaiter(t *testing.T) {
	onEvent, _ := nodeHandlers(t)
	fw := New(t, Options{OnEvent: onEvent})
	stack := NewStack(t, fw, "Stack")

	t.Run("onEvent's answer is the response", func(t *testing.T) {
		res := stack.Create(resource(map[string]any{"Value": "v1"}))
		require.Equal(t, "CREATE_COMPLETE", res.Status, res.Reason)
		r := stack.Resource("Thing")
		assert.Equal(t, "res-1", r.PhysicalID)
		assert.Equal(t, map[string]any{"Echo": "v1"}, r.Data)
		assert.Empty(t, fw.Executions())
		h := stack.History()
		assert.Equal(t, "SUCCESS", h[0].Response.Reason, "cfn-response.js puts the status as the reason")
		assert.Equal(t, len(h[0].Response.Body), h[0].Response.Size)
	})

	t.Run("a failed update is rolled back with old and new properties swapped", func(t *testing.T) {
		res := stack.Update(Change{LogicalID: "Thing", Properties: map[string]any{"Value": "v2", "FailOn": "Update"}})
		require.Equal(t, "UPDATE_ROLLBACK_COMPLETE", res.Status)
		assert.Contains(t, res.Reason, "refused Update")
		h := stack.History()
		rollback := h[len(h)-1].Request
		assert.Equal(t, "UPDATE_ROLLBACK_IN_PROGRESS", h[len(h)-1].StackStatus)
		assert.Equal(t, "v1", rollback.ResourceProperties["Value"])
		assert.Equal(t, "v2", rollback.OldResourceProperties["Value"])
		assert.Equal(t, "res-1", rollback.PhysicalResourceID)
	})
}

func TestFrameworkCreateFailure(t *testing.T) {
	t.Run("a failed Create answers the marker id and the framework answers the Delete itself", func(t *testing.T) {
		onEvent, _ := nodeHandlers(t)
		fw := New(t, Options{OnEvent: onEvent})
		stack := NewStack(t, fw, "Stack")
		res := stack.Create(resource(map[string]any{"FailOn": "Create"}))
		fw.Idle(10 * time.Second)
		require.Equal(t, "ROLLBACK_COMPLETE", res.Status)
		h := stack.History()
		require.Len(t, h, 2)
		assert.Equal(t, "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED", h[0].Response.PhysicalResourceID)
		assert.Contains(t, h[0].Response.Reason, "refused Create")
		assert.Equal(t, "SUCCESS", h[1].Response.Status)
		user, _ := fw.UserInvocations()
		assert.Len(t, user, 1, "the Delete never reached the user handler")
	})
}

func TestWaiter(t *testing.T) {
	t.Run("isComplete's Data is merged into onEvent's", func(t *testing.T) {
		onEvent, isComplete := nodeHandlers(t)
		fw := New(t, Options{OnEvent: onEvent, IsComplete: &isComplete, QueryInterval: 10 * time.Millisecond, TotalTimeout: 50 * time.Millisecond})
		stack := NewStack(t, fw, "Stack")
		res := stack.Create(resource(map[string]any{"Value": "v1"}))
		fw.Idle(10 * time.Second)
		require.Equal(t, "CREATE_COMPLETE", res.Status, res.Reason)
		assert.Equal(t, map[string]any{"Echo": "v1", "Done": "yes"}, stack.Resource("Thing").Data)
		ex := fw.Executions()
		require.Len(t, ex, 1)
		assert.Equal(t, 1, ex[0].Attempts)
		assert.Equal(t, "SUCCEEDED", ex[0].Status)
	})

	t.Run("the waiter polls every interval and onTimeout fails the request after the total timeout", func(t *testing.T) {
		onEvent, isComplete := nodeHandlers(t)
		const interval = 30 * time.Millisecond
		fw := New(t, Options{OnEvent: onEvent, IsComplete: &isComplete, QueryInterval: interval, TotalTimeout: 4 * interval})
		stack := NewStack(t, fw, "Stack")
		res := stack.Create(resource(map[string]any{"Never": "true"}))
		fw.Idle(10 * time.Second)
		require.Equal(t, "ROLLBACK_COMPLETE", res.Status)
		assert.Equal(t, "Operation timed out", res.Reason)

		ex := fw.Executions()
		require.Len(t, ex, 2, "the Create's and the rollback Delete's")
		assert.Equal(t, 5, ex[0].Attempts, "once, then MaxAttempts = TotalTimeout/QueryInterval retries")
		assert.True(t, ex[0].TimedOut)
		h := stack.History()
		assert.Equal(t, "res-1", h[0].Response.PhysicalResourceID, "onTimeout answers with the id onEvent returned")
		_, polls := fw.UserInvocations()
		for i := 1; i < 5; i++ {
			assert.GreaterOrEqual(t, polls[i].At.Sub(polls[i-1].At), interval, "poll %d came before the interval", i)
		}
	})
}
