// Package lambdarun runs a Lambda function binary as a real process on this
// machine and invokes it through an emulation of the Lambda Runtime API, the
// HTTP interface a provided.al2023 runtime's bootstrap polls
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
//
// It models one execution environment: invocations are served one at a time in
// arrival order, the process starts on New (the cold start) and is reused
// between invocations, and an invocation that passes its deadline makes the
// environment be discarded, as Lambda does after a timeout: the process is
// killed and the next invocation starts a fresh one. Only what a Go function
// built with aws-lambda-go uses is emulated: next, response, error and
// init/error; no extensions, no telemetry, no response streaming.
package lambdarun

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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

// Options configure a function.
type Options struct {
	// Env is the function's environment, as "NAME=value" entries. The Runtime
	// API address and the variables Lambda always sets (function name, memory,
	// region) are added unless present. The parent's environment is not inherited.
	Env []string
	// Output receives the process's stdout and stderr (its logs). Default: discarded.
	Output io.Writer
}

// FunctionError is the error a function reported for an invocation (the body it
// posted to /error or /init/error).
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// ErrTimeout is returned when an invocation's context ends before the function
// answers. The environment is then reset: the next invocation starts a new process.
var ErrTimeout = errors.New("task timed out before the function answered")

// Function is one execution environment of a function binary.
type Function struct {
	path   string
	opts   Options
	ln     net.Listener
	server *http.Server

	// busy admits one invocation at a time, like one execution environment; a
	// channel so that a caller waiting its turn can give up at its deadline.
	busy chan struct{}

	mu      sync.Mutex
	proc    *exec.Cmd
	exited  chan struct{} // closed when proc exits
	pending chan *invocation
	current *invocation // handed to the function by /next, not answered yet
	initErr *FunctionError
	closed  bool
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan result // buffered, one result
}

type result struct {
	body []byte
	err  error
}

// New starts the Runtime API on a loopback port and the binary at path.
func New(path string, opts Options) (*Function, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the Runtime API: %w", err)
	}
	f := &Function{path: path, opts: opts, ln: ln, pending: make(chan *invocation), busy: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", f.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", f.answer(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", f.answer(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", f.initError)
	f.server = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go f.server.Serve(ln) //nolint:errcheck // ends with Close
	f.mu.Lock()
	err = f.startLocked()
	f.mu.Unlock()
	if err != nil {
		f.server.Close()
		return nil, err
	}
	return f, nil
}

// startLocked starts the process; f.mu is held.
func (f *Function) startLocked() error {
	cmd := exec.Command(f.path)
	cmd.Env = f.env()
	out := f.opts.Output
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", f.path, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	f.proc, f.exited, f.initErr = cmd, exited, nil
	return nil
}

func (f *Function) env() []string {
	env := append([]string{}, f.opts.Env...)
	set := func(name, value string) {
		for _, e := range env {
			if strings.HasPrefix(e, name+"=") {
				return
			}
		}
		env = append(env, name+"="+value)
	}
	set("AWS_LAMBDA_RUNTIME_API", f.ln.Addr().String())
	set("AWS_LAMBDA_FUNCTION_NAME", "local")
	set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
	set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
	set("AWS_REGION", "us-east-1")
	set("TZ", ":UTC")
	return env
}

// Invoke sends payload to the function and returns its response. The context's
// deadline is the function's deadline (Lambda-Runtime-Deadline-Ms); without one,
// the invocation may wait forever. A function error is a *FunctionError; a
// deadline passed is ErrTimeout (and the process is replaced).
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case f.busy <- struct{}{}:
		defer func() { <-f.busy }()
	case <-ctx.Done():
		return nil, fmt.Errorf("%w (waiting for the previous invocation to finish)", ErrTimeout)
	}

	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, errors.New("function closed")
	}
	if f.proc == nil {
		if err := f.startLocked(); err != nil {
			f.mu.Unlock()
			return nil, err
		}
	}
	exited := f.exited
	f.mu.Unlock()

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(15 * time.Minute) // Lambda's longest timeout
	}
	inv := &invocation{id: newID(), payload: payload, deadline: deadline, done: make(chan result, 1)}

	select {
	case f.pending <- inv: // the function asked for work
	case <-exited:
		return nil, f.exitError()
	case <-ctx.Done():
		f.reset()
		return nil, fmt.Errorf("%w (waiting for the function to ask for work)", ErrTimeout)
	}
	select {
	case r := <-inv.done:
		return r.body, r.err
	case <-exited:
		return nil, f.exitError()
	case <-ctx.Done():
		f.reset()
		return nil, ErrTimeout
	}
}

func (f *Function) exitError() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.initErr
	f.proc = nil // the next invocation starts a new process
	if err != nil {
		return fmt.Errorf("function failed to initialize: %w", err)
	}
	return errors.New("function process exited")
}

// reset kills the process after a timeout, as Lambda discards a timed-out
// environment; the next invocation is a cold start.
func (f *Function) reset() {
	f.mu.Lock()
	proc, exited := f.proc, f.exited
	f.proc, f.current = nil, nil
	f.mu.Unlock()
	if proc != nil {
		_ = proc.Process.Kill()
		<-exited
	}
}

// Close stops the process and the Runtime API.
func (f *Function) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.reset()
	return f.server.Close()
}

func (f *Function) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-f.pending:
		f.mu.Lock()
		f.current = inv
		f.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:local")
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-r.Context().Done():
	}
}

func (f *Function) answer(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 6<<20)) // Lambda's 6 MB response limit
		if err != nil {
			http.Error(w, "reading the body", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		inv := f.current
		if inv == nil || inv.id != r.PathValue("id") {
			f.mu.Unlock()
			// The Runtime API answers an unknown request id with 400.
			http.Error(w, `{"errorType":"InvalidRequestID"}`, http.StatusBadRequest)
			return
		}
		f.current = nil
		f.mu.Unlock()
		res := result{body: body}
		if isError {
			res = result{err: decodeError(body)}
		}
		inv.done <- res
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"OK"}`))
	}
}

func (f *Function) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	f.initErr = decodeError(body)
	f.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func decodeError(body []byte) *FunctionError {
	var e FunctionError
	if err := json.Unmarshal(body, &e); err != nil || e.Type == "" {
		return &FunctionError{Type: "Unhandled", Message: string(bytes.TrimSpace(body))}
	}
	return &e
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
