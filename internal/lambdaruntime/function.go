// Package lambdaruntime runs Lambda functions locally: each function's
// process (a Go bootstrap, node running a handler file, ...) is served
// through its own emulated Lambda Runtime API, and an emulated Invoke API
// (InvokeAPI) puts any number of such functions behind one endpoint that the
// AWS SDKs reach through AWS_ENDPOINT_URL_LAMBDA.
//
// What it models, after the AWS Lambda Developer Guide ("Using the Lambda
// runtime API for custom runtimes", "Lambda execution environment lifecycle")
// and botocore's lambda service model (Invoke, GetFunction):
//
//   - GET /2018-06-01/runtime/invocation/next hands out one event at a time,
//     with the Lambda-Runtime-Aws-Request-Id, -Deadline-Ms,
//     -Invoked-Function-Arn and -Trace-Id headers; POST
//     .../invocation/{id}/response and .../invocation/{id}/error answer it;
//     POST /2018-06-01/runtime/init/error reports a failed initialisation.
//   - An execution environment serves one invocation at a time and stays
//     warm between them; the process is started on the first invocation (a
//     cold start) and again after it exited or was stopped.
//   - A caller that stops waiting does not stop the invocation: it runs on
//     to its end or timeout and the environment stays warm; the next
//     invocation waits for it (one environment per function).
//   - A function that does not answer before its timeout is stopped and the
//     invocation fails with "Task timed out"; a process that exits during an
//     invocation fails it with Runtime.ExitError. Either way the next
//     invocation starts a fresh process.
//   - The function's environment is its configured variables plus the ones
//     Lambda defines (AWS_REGION, AWS_LAMBDA_FUNCTION_NAME, _HANDLER, ...);
//     nothing leaks in from the caller's environment.
//
// Everything listens on 127.0.0.1 only. The package has no test dependency so
// a local sandbox can use it as well as tests.
package lambdaruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config describes one function.
type Config struct {
	// Name is the function name. Required.
	Name string
	// Region and Account shape the function's ARN. Default: us-east-1 and
	// 123456789012.
	Region, Account string
	// Command is the executable to run (an absolute path); Args its arguments.
	Command string
	Args    []string
	// Dir is the working directory and LAMBDA_TASK_ROOT. Default: the
	// directory of Command.
	Dir string
	// Handler is the function's handler setting (_HANDLER), e.g.
	// "framework.onEvent" or "bootstrap".
	Handler string
	// Env is the function's configured environment.
	Env map[string]string
	// Timeout of one invocation. Default: 3s, Lambda's default.
	Timeout time.Duration
	// MemoryMB is reported in AWS_LAMBDA_FUNCTION_MEMORY_SIZE. Default: 128.
	MemoryMB int
	// Logs receives the process's stdout and stderr (Lambda sends them to
	// CloudWatch Logs). Default: discarded. It must be safe for concurrent use.
	Logs io.Writer
}

// initTimeout is Lambda's limit on the init phase of an on-demand function.
const initTimeout = 10 * time.Second

// maxResponseBytes is the synchronous invocation payload quota (6 MB).
const maxResponseBytes = 6 * 1024 * 1024

// Result is what an invocation returned.
type Result struct {
	// Payload is the function's response, or the error document it reported.
	Payload []byte
	// FunctionError is "Unhandled" when the function failed (Invoke's
	// X-Amz-Function-Error), empty on success.
	FunctionError string
}

// Function is one emulated function. Create it with Start.
type Function struct {
	cfg Config
	arn string

	// busy admits one invocation at a time, as one execution environment
	// serves; a waiting caller gives up when its context ends. It is held
	// until the invocation ends, even when its caller stopped waiting.
	busy   chan struct{}
	mu     sync.Mutex
	inst   *instance
	starts int
	closed bool
	seq    int
}

// instance is one execution environment: a process and its Runtime API.
type instance struct {
	srv    *http.Server
	addr   string
	cmd    *exec.Cmd
	queue  chan *invocation
	exited chan struct{}
	// waitErr is the process's exit error, set before exited is closed.
	waitErr error

	mu      sync.Mutex
	current *invocation
	initErr []byte
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	taken    chan struct{} // closed when the runtime took the event
	done     chan Result
}

// Start prepares a function; its process starts on the first Invoke.
func Start(cfg Config) (*Function, error) {
	if cfg.Name == "" || cfg.Command == "" {
		return nil, errors.New("lambdaruntime: Config.Name and Config.Command are required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "123456789012"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.MemoryMB <= 0 {
		cfg.MemoryMB = 128
	}
	if cfg.Logs == nil {
		cfg.Logs = io.Discard
	}
	if cfg.Dir == "" {
		if i := strings.LastIndex(cfg.Command, "/"); i > 0 {
			cfg.Dir = cfg.Command[:i]
		}
	}
	arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cfg.Region, cfg.Account, cfg.Name)
	return &Function{cfg: cfg, arn: arn, busy: make(chan struct{}, 1)}, nil
}

// Name returns the function's name.
func (f *Function) Name() string { return f.cfg.Name }

// ARN returns the function's unqualified ARN.
func (f *Function) ARN() string { return f.arn }

// Starts reports how many processes (cold starts) the function has had.
func (f *Function) Starts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts
}

// Close stops the process and the Runtime API. Invocations fail afterwards.
func (f *Function) Close() error {
	f.mu.Lock()
	f.closed = true
	inst := f.inst
	f.inst = nil
	f.mu.Unlock()
	if inst != nil {
		inst.stop()
	}
	return nil
}

// Invoke runs one synchronous invocation (RequestResponse). An error means
// the invocation could not be carried out at all (the function is closed, the
// process cannot start, ctx ended); a function's failure is a Result with
// FunctionError set.
//
// A caller whose ctx ends (HealthLake giving up after its 1 s budget) gets
// ctx.Err at once, but the invocation runs on to its own end or timeout in
// the same environment, as in Lambda, where a client that stops waiting does
// not stop the function: the environment stays warm. Later invocations wait
// for it (one environment; Lambda would start a second one, which this
// emulator does not model).
func (f *Function) Invoke(ctx context.Context, payload []byte) (Result, error) {
	select {
	case f.busy <- struct{}{}:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	inst, err := f.instance()
	if err != nil {
		<-f.busy
		return Result{}, err
	}
	done := make(chan Result, 1)
	go func() {
		defer func() { <-f.busy }()
		done <- f.run(inst, payload)
	}()
	select {
	case r := <-done:
		return r, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// run carries out one invocation in inst, bounded by the function's own
// timeouts only.
func (f *Function) run(inst *instance, payload []byte) Result {
	f.mu.Lock()
	f.seq++
	id := fmt.Sprintf("%08x-0000-4000-8000-%012x", f.seq, time.Now().UnixNano()&0xffffffffffff)
	f.mu.Unlock()
	inv := &invocation{id: id, payload: payload, taken: make(chan struct{}), done: make(chan Result, 1)}

	// The event waits for the runtime's next call; a process that never asks
	// for it is stuck in its init phase.
	initTimer := time.NewTimer(initTimeout + f.cfg.Timeout)
	defer initTimer.Stop()
	select {
	case inst.queue <- inv:
	case <-inst.exited:
		return f.exitResult(inst, id)
	case <-initTimer.C:
		f.discard(inst)
		return errorResult("Runtime.InitTimeout", fmt.Sprintf("RequestId: %s Error: the runtime did not ask for the event within %s", id, initTimeout))
	}
	select {
	case <-inv.taken:
	case <-inst.exited:
		return f.exitResult(inst, id)
	}

	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case r := <-inv.done:
		return r
	case <-inst.exited:
		select { // an answer that came just before the exit still counts
		case r := <-inv.done:
			return r
		default:
		}
		return f.exitResult(inst, id)
	case <-timer.C:
		// Lambda stops the execution environment of a timed-out invocation.
		f.discard(inst)
		return errorResult("Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", id, f.cfg.Timeout.Seconds()))
	}
}

func (f *Function) exitResult(inst *instance, id string) Result {
	f.discard(inst)
	inst.mu.Lock()
	initErr := inst.initErr
	inst.mu.Unlock()
	if initErr != nil {
		return Result{Payload: initErr, FunctionError: "Unhandled"}
	}
	msg := "Runtime exited without providing a reason"
	if inst.waitErr != nil {
		msg = "Runtime exited with error: " + inst.waitErr.Error()
	}
	return errorResult("Runtime.ExitError", fmt.Sprintf("RequestId: %s Error: %s", id, msg))
}

func errorResult(errorType, message string) Result {
	return Result{
		Payload:       errorDocument(errorType, message),
		FunctionError: "Unhandled",
	}
}

// discard stops inst and forgets it, so the next invocation starts afresh.
func (f *Function) discard(inst *instance) {
	f.mu.Lock()
	if f.inst == inst {
		f.inst = nil
	}
	f.mu.Unlock()
	inst.stop()
}

// instance returns the running execution environment, starting one if none.
func (f *Function) instance() (*instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, fmt.Errorf("lambdaruntime: function %s is closed", f.cfg.Name)
	}
	if f.inst != nil {
		select {
		case <-f.inst.exited:
			f.inst = nil
		default:
			return f.inst, nil
		}
	}
	inst, err := f.newInstance()
	if err != nil {
		return nil, err
	}
	f.inst = inst
	f.starts++
	return inst, nil
}

func (f *Function) newInstance() (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdaruntime: listening for %s's Runtime API: %w", f.cfg.Name, err)
	}
	inst := &instance{addr: ln.Addr().String(), queue: make(chan *invocation), exited: make(chan struct{})}
	inst.srv = &http.Server{Handler: f.runtimeAPI(inst), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = inst.srv.Serve(ln) }()

	cmd := exec.Command(f.cfg.Command, f.cfg.Args...)
	cmd.Dir = f.cfg.Dir
	cmd.Env = f.environ(inst.addr)
	cmd.Stdout, cmd.Stderr = f.cfg.Logs, f.cfg.Logs
	if err := cmd.Start(); err != nil {
		_ = inst.srv.Close()
		return nil, fmt.Errorf("lambdaruntime: starting %s: %w", f.cfg.Name, err)
	}
	inst.cmd = cmd
	go func() {
		inst.waitErr = cmd.Wait()
		close(inst.exited)
		_ = inst.srv.Close()
	}()
	return inst, nil
}

// environ is what Lambda sets (reserved variables, per the Developer Guide's
// "Defined runtime environment variables") over the configured variables.
func (f *Function) environ(runtimeAPI string) []string {
	env := map[string]string{}
	for k, v := range f.cfg.Env {
		env[k] = v
	}
	for k, v := range map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          runtimeAPI,
		"AWS_LAMBDA_FUNCTION_NAME":        f.cfg.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(f.cfg.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + f.cfg.Name,
		"AWS_REGION":                      f.cfg.Region,
		"AWS_DEFAULT_REGION":              f.cfg.Region,
		"AWS_EXECUTION_ENV":               "AWS_Lambda_local",
		"_HANDLER":                        f.cfg.Handler,
		"LAMBDA_TASK_ROOT":                f.cfg.Dir,
		"TZ":                              ":UTC",
	} {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// stop kills the process and closes its Runtime API; it waits for the exit.
func (inst *instance) stop() {
	if inst.cmd != nil && inst.cmd.Process != nil {
		_ = inst.cmd.Process.Kill()
	}
	select {
	case <-inst.exited:
	case <-time.After(5 * time.Second):
	}
	_ = inst.srv.Close()
}

const runtimePrefix = "/2018-06-01/runtime/"

func (f *Function) runtimeAPI(inst *instance) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"invocation/next", func(w http.ResponseWriter, r *http.Request) {
		var inv *invocation
		select {
		case inv = <-inst.queue:
		case <-r.Context().Done():
			return
		case <-inst.exited:
			return
		}
		inv.deadline = time.Now().Add(f.cfg.Timeout)
		inst.mu.Lock()
		inst.current = inv
		inst.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", f.arn)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		close(inv.taken)
		_, _ = w.Write(inv.payload)
	})
	answer := func(functionError string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
			if err != nil {
				http.Error(w, "reading the body", http.StatusBadRequest)
				return
			}
			inst.mu.Lock()
			inv := inst.current
			if inv == nil || inv.id != r.PathValue("id") {
				inst.mu.Unlock()
				writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
				return
			}
			inst.current = nil
			inst.mu.Unlock()
			res := Result{Payload: body, FunctionError: functionError}
			if functionError == "" && len(body) > maxResponseBytes {
				writeRuntimeError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "response payload exceeds 6291456 bytes")
				res = errorResult("Function.ResponseSizeTooLarge", "Response payload size exceeded maximum allowed payload size (6291556 bytes).")
				inv.done <- res
				return
			}
			inv.done <- res
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"status":"OK"}`))
		}
	}
	mux.HandleFunc("POST "+runtimePrefix+"invocation/{id}/response", answer(""))
	mux.HandleFunc("POST "+runtimePrefix+"invocation/{id}/error", answer("Unhandled"))
	mux.HandleFunc("POST "+runtimePrefix+"init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		inst.mu.Lock()
		inst.initErr = body
		inst.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"OK"}`))
	})
	return mux
}

func writeRuntimeError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorDocument(errorType, message))
}

// errorDocument is Lambda's error payload, {"errorType", "errorMessage"}.
func errorDocument(errorType, message string) []byte {
	b, _ := json.Marshal(struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}{errorType, message})
	return b
}
