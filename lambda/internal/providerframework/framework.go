// Package providerframework runs custom-resource handlers behind aws-cdk-lib's
// own Provider framework code, for tests: the framework's Lambda functions
// (framework.js, cfn-response.js, outbound.js, consts.js, util.js, extracted
// from the aws-cdk-lib jsii tarball of the awscdk Go module this module
// requires) run under Node.js with their npm dependencies (the AWS SDK's
// Lambda and Step Functions clients, installed once into the user cache from
// the committed npm/package-lock.json), against local stand-ins for
// everything they call:
//
//   - the Lambda Invoke API, behind which the user handlers (real binaries)
//     run through an emulated Lambda Runtime API (package lambdaruntime);
//   - Step Functions, running the waiter state machine the Provider construct
//     builds for an isComplete handler (see waiter);
//   - S3 behind the pre-signed response URLs, over HTTPS with a generated
//     certificate (see responseBucket).
//
// Stack plays CloudFormation's part: it sends the requests of a stack
// operation, waits for each response and follows up as CloudFormation does
// (rollbacks, clean-up deletes).
//
// Everything listens on 127.0.0.1 and every wait is bounded. Without node or
// npm the harness skips the test, or fails it when the CI environment
// variable is set.
package providerframework

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/lambdaruntime"
	"github.com/openhealthstack/smart-healthlake/internal/syncbuf"
	"github.com/openhealthstack/smart-healthlake/internal/toolcheck"
)

// Names of the framework's environment variables (runtime/consts.js).
const (
	envUserOnEvent    = "USER_ON_EVENT_FUNCTION_ARN"
	envUserIsComplete = "USER_IS_COMPLETE_FUNCTION_ARN"
	envWaiterARN      = "WAITER_STATE_MACHINE_ARN"
)

// frameworkTimeout is the framework functions' timeout (provider.js
// FRAMEWORK_HANDLER_TIMEOUT, 15 minutes).
const frameworkTimeout = 15 * time.Minute

// Options configure New.
type Options struct {
	// OnEvent is the user onEvent handler. Required.
	OnEvent lambdaruntime.Config
	// IsComplete is the user isComplete handler. Without it the framework
	// answers when onEvent returns, and there is no waiter.
	IsComplete *lambdaruntime.Config
	// QueryInterval and TotalTimeout are the Provider's props: the waiter
	// polls every QueryInterval, 1 + TotalTimeout/QueryInterval times at most.
	// Defaults: 20ms and 50 intervals.
	QueryInterval, TotalTimeout time.Duration
}

// Framework is one deployed Provider: its three framework functions, the
// user handlers and the stand-ins they call.
type Framework struct {
	t   testing.TB
	dir string

	lambda         *lambdaruntime.InvokeAPI
	functions      []*lambdaruntime.Function
	onEvent        *lambdaruntime.Function
	userOnEvent    *lambdaruntime.Function
	userIsComplete *lambdaruntime.Function
	bucket         *responseBucket
	waiter         *waiter

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	logs      map[string]*syncbuf.Buffer
	asyncErrs []string
}

// New deploys a Provider for the handlers; it is torn down when the test ends.
func New(t testing.TB, opts Options) *Framework {
	t.Helper()
	runtimeDir, _, err := frameworkRuntime()
	if err != nil {
		t.Fatalf("providerframework: %v", err)
	}
	modules, err := nodeModules()
	if err != nil {
		unavailable(t, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, fmt.Errorf("%w: %v", errNoNpm, err))
	}

	f := &Framework{t: t, dir: t.TempDir(), logs: map[string]*syncbuf.Buffer{}}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	t.Cleanup(f.close)

	if f.bucket, err = newResponseBucket(f.dir); err != nil {
		t.Fatalf("providerframework: response URL stand-in: %v", err)
	}
	if f.lambda, err = lambdaruntime.NewInvokeAPI(); err != nil {
		t.Fatalf("providerframework: %v", err)
	}

	f.userOnEvent = f.function(opts.OnEvent)
	env := func(extra map[string]string) map[string]string {
		out := f.BaseEnv()
		for k, v := range map[string]string{
			"AWS_ENDPOINT_URL_LAMBDA":         f.lambda.URL(),
			"NODE_PATH":                       modules,
			"NODE_EXTRA_CA_CERTS":             f.bucket.caFile,
			"PROVIDERFRAMEWORK_RESPONSE_ADDR": f.bucket.addr,
			"PROVIDERFRAMEWORK_RESPONSE_HOST": responseHost,
			envUserOnEvent:                    f.userOnEvent.ARN(),
		} {
			out[k] = v
		}
		if f.userIsComplete != nil {
			out[envUserIsComplete] = f.userIsComplete.ARN()
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	bootstrap := filepath.Join(f.dir, "bootstrap.js")
	if err := os.WriteFile(bootstrap, bootstrapJS, 0o644); err != nil {
		t.Fatalf("providerframework: %v", err)
	}
	frameworkFn := func(entry string, extra map[string]string) *lambdaruntime.Function {
		return f.function(lambdaruntime.Config{
			Name:    "Provider-framework-" + entry,
			Command: node, Args: []string{bootstrap}, Dir: runtimeDir, Handler: "framework." + entry,
			Env: env(extra), Timeout: frameworkTimeout, MemoryMB: 128,
		})
	}

	var onEventExtra map[string]string
	if opts.IsComplete != nil {
		f.userIsComplete = f.function(*opts.IsComplete)
		interval, total := opts.QueryInterval, opts.TotalTimeout
		if interval <= 0 {
			interval = 20 * time.Millisecond
		}
		if total <= 0 {
			total = 50 * interval
		}
		if total%interval != 0 {
			// calculateRetryPolicy refuses this at synthesis.
			t.Fatalf("providerframework: TotalTimeout %v is not a multiple of QueryInterval %v", total, interval)
		}
		isComplete := frameworkFn("isComplete", nil)
		onTimeout := frameworkFn("onTimeout", nil)
		arn := "arn:aws:states:us-east-1:123456789012:stateMachine:Providerwaiterstatemachine"
		if f.waiter, err = newWaiter(arn, interval, int(total/interval), isComplete, onTimeout); err != nil {
			t.Fatalf("providerframework: %v", err)
		}
		onEventExtra = map[string]string{envWaiterARN: arn, "AWS_ENDPOINT_URL_SFN": f.waiter.url}
	}
	f.onEvent = frameworkFn("onEvent", onEventExtra)
	return f
}

// unavailable skips the test, or fails it in CI, when node or npm is missing.
func unavailable(t testing.TB, err error) {
	t.Helper()
	toolcheck.Missing(t, "node/npm", err, "aws-cdk-lib's Provider framework did NOT run")
}

// BaseEnv is the environment every function gets: static credentials (as
// Lambda gives a role's), the region, and no shared config or credentials
// files, so nothing of the machine's AWS setup is used.
func (f *Framework) BaseEnv() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           "ASIAFAKEFRAMEWORKTEST",
		"AWS_SECRET_ACCESS_KEY":       "fake-secret-access-key",
		"AWS_SESSION_TOKEN":           "fake-session-token",
		"AWS_CONFIG_FILE":             filepath.Join(f.dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(f.dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"HOME":                        f.dir,
	}
}

// function starts a function whose logs the harness keeps.
func (f *Framework) function(cfg lambdaruntime.Config) *lambdaruntime.Function {
	f.t.Helper()
	env := f.BaseEnv()
	for k, v := range cfg.Env {
		env[k] = v
	}
	cfg.Env = env
	buf := &syncbuf.Buffer{}
	f.mu.Lock()
	f.logs[cfg.Name] = buf
	f.mu.Unlock()
	cfg.Logs = buf
	fn, err := lambdaruntime.Start(cfg)
	if err != nil {
		f.t.Fatalf("providerframework: %v", err)
	}
	f.functions = append(f.functions, fn)
	f.lambda.Add(fn)
	return fn
}

// ServiceToken is the ARN of the framework's onEvent function.
func (f *Framework) ServiceToken() string { return f.onEvent.ARN() }

// send delivers a request to the framework's onEvent function the way
// CloudFormation does, asynchronously. Lambda would retry an asynchronous
// invocation that fails; here a failure is reported as a harness error at the
// end of the test, since the framework's safeHandler answers every failure
// itself and its onEvent never fails unless something here is wrong.
func (f *Framework) send(payload []byte) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		res, err := f.onEvent.Invoke(f.ctx, payload)
		if err != nil && f.ctx.Err() == nil || res.FunctionError != "" {
			f.mu.Lock()
			f.asyncErrs = append(f.asyncErrs, fmt.Sprintf("framework onEvent: %v %s", err, res.Payload))
			f.mu.Unlock()
		}
	}()
}

// Idle waits until no request is in the framework (onEvent invocations and
// waiter executions), up to timeout, and fails the test if some still run.
func (f *Framework) Idle(timeout time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		f.t.Fatalf("providerframework: onEvent still running after %v", timeout)
	}
	if f.waiter != nil && !f.waiter.idle(time.Until(deadline)) {
		f.t.Fatalf("providerframework: waiter executions still running after %v", timeout)
	}
}

// Executions returns the waiter's executions so far.
func (f *Framework) Executions() []Execution {
	if f.waiter == nil {
		return nil
	}
	ex, _ := f.waiter.snapshot()
	return ex
}

// UserInvocations returns the user handlers' invocations (onEvent first,
// then isComplete), as the Lambda stand-in recorded them.
func (f *Framework) UserInvocations() (onEvent, isComplete []lambdaruntime.InvokeRequest) {
	onEvent = f.lambda.Requests(f.userOnEvent.Name())
	if f.userIsComplete != nil {
		isComplete = f.lambda.Requests(f.userIsComplete.Name())
	}
	return onEvent, isComplete
}

// HandlerLogs returns the user handlers' output so far.
func (f *Framework) HandlerLogs() string {
	names := []string{f.userOnEvent.Name()}
	if f.userIsComplete != nil {
		names = append(names, f.userIsComplete.Name())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, n := range names {
		b.WriteString(f.logs[n].String())
	}
	return b.String()
}

// Logs returns every function's output so far, framework and handlers,
// each line prefixed with the function's name.
func (f *Framework) Logs() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	names := make([]string, 0, len(f.logs))
	for n := range f.logs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		for _, line := range strings.Split(strings.TrimRight(f.logs[n].String(), "\n"), "\n") {
			if line != "" {
				b.WriteString(n + ": " + line + "\n")
			}
		}
	}
	return b.String()
}

func (f *Framework) close() {
	failed := f.t.Failed()
	if f.waiter != nil {
		f.waiter.close()
	}
	f.cancel()
	f.wg.Wait()
	for _, fn := range f.functions {
		_ = fn.Close()
	}
	if f.lambda != nil {
		_ = f.lambda.Close()
	}
	if f.bucket == nil {
		return // New failed before there was anything to report
	}
	f.bucket.close()

	f.mu.Lock()
	errs := append([]string(nil), f.asyncErrs...)
	f.mu.Unlock()
	if f.waiter != nil {
		_, werrs := f.waiter.snapshot()
		errs = append(errs, werrs...)
	}
	f.bucket.mu.Lock()
	refused := append([]string(nil), f.bucket.refused...)
	f.bucket.mu.Unlock()
	for _, r := range refused {
		errs = append(errs, "response URL stand-in refused "+r)
	}
	for _, e := range errs {
		f.t.Errorf("providerframework: %s", e)
	}
	if failed || len(errs) > 0 {
		// The handlers' logs say what happened; the framework's repeat every
		// event (set PROVIDERFRAMEWORK_LOGS=all to see them too).
		logs := f.HandlerLogs()
		if os.Getenv("PROVIDERFRAMEWORK_LOGS") == "all" {
			logs = f.Logs()
		}
		const limit = 30000
		if len(logs) > limit {
			logs = "...\n" + logs[len(logs)-limit:]
		}
		f.t.Logf("handler logs:\n%s", logs)
	}
}

// marshal encodes a request as CloudFormation sends it.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // requests are plain data
	}
	return b
}
