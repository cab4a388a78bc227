package providerframework

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/lambdaruntime"
)

// waiter stands in for Step Functions running the state machine the Provider
// construct builds when an isComplete handler is given (aws-cdk-lib
// custom-resources/lib/provider-framework/waiter-state-machine.js, with the
// retry policy of provider-framework/util.js calculateRetryPolicy):
//
//	"framework-isComplete-task": Task (the framework's isComplete function),
//	  Retry [{ErrorEquals: [States.ALL], IntervalSeconds: queryInterval,
//	          MaxAttempts: totalTimeout / queryInterval, BackoffRate: 1}],
//	  Catch [{ErrorEquals: [States.ALL], Next: "framework-onTimeout-task"}]
//	"framework-onTimeout-task": Task (the framework's onTimeout function)
//
// So isComplete runs at once, then after each interval while it fails (the
// framework throws Retry while the user's isComplete says not yet), at most
// 1 + MaxAttempts times; after the last failure the Catch hands onTimeout the
// error output {"Error": <errorType>, "Cause": <the function's error
// document>}, per the Step Functions Developer Guide ("Handling errors in
// Step Functions workflows"). The interval is a time.Duration here, so tests
// can poll every few milliseconds.
//
// It speaks the StartExecution operation of the AWS JSON 1.0 protocol
// (X-Amz-Target: AWSStepFunctions.StartExecution), as the framework's SDK
// client sends it.
type waiter struct {
	arn         string
	interval    time.Duration
	maxAttempts int
	isComplete  *lambdaruntime.Function
	onTimeout   *lambdaruntime.Function

	srv  *http.Server
	url  string
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu         sync.Mutex
	executions []*Execution
	errs       []string
}

// Execution is one run of the waiter state machine.
type Execution struct {
	ARN   string
	Input []byte
	// Attempts counts the isComplete task's runs.
	Attempts int
	// TimedOut is true when the Catch ran onTimeout.
	TimedOut bool
	// Status is RUNNING, SUCCEEDED or FAILED.
	Status string
}

func newWaiter(arn string, interval time.Duration, maxAttempts int, isComplete, onTimeout *lambdaruntime.Function) (*waiter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	w := &waiter{arn: arn, interval: interval, maxAttempts: maxAttempts, isComplete: isComplete, onTimeout: onTimeout,
		url: "http://" + ln.Addr().String()}
	w.ctx, w.stop = context.WithCancel(context.Background())
	w.srv = &http.Server{Handler: http.HandlerFunc(w.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = w.srv.Serve(ln) }()
	return w, nil
}

// idle waits until no execution runs, up to timeout; it reports whether
// they all ended.
func (w *waiter) idle(timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (w *waiter) close() {
	w.stop()
	w.idle(10 * time.Second)
	_ = w.srv.Close()
}

func (w *waiter) serve(rw http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		rw.Header().Set("Content-Type", "application/x-amz-json-1.0")
		rw.WriteHeader(status)
		_ = json.NewEncoder(rw).Encode(map[string]string{"__type": "com.amazonaws.swf.service.v2.model#" + code, "message": msg})
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") || !strings.Contains(auth, "/states/aws4_request") {
		fail(http.StatusBadRequest, "MissingAuthenticationToken", "request is not signed with SigV4 for states")
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != "AWSStepFunctions.StartExecution" {
		fail(http.StatusBadRequest, "UnknownOperationException", "only StartExecution is emulated, got "+r.Header.Get("X-Amz-Target"))
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		Input           string `json:"input"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		fail(http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	if in.StateMachineArn != w.arn {
		fail(http.StatusBadRequest, "StateMachineDoesNotExist", "State Machine Does Not Exist: '"+in.StateMachineArn+"'")
		return
	}
	// The quota on an execution's input: 256 KiB.
	if len(in.Input) > 256*1024 || !json.Valid([]byte(in.Input)) {
		fail(http.StatusBadRequest, "InvalidExecutionInput", "input is not JSON of at most 262144 bytes")
		return
	}
	w.mu.Lock()
	exec := &Execution{ARN: fmt.Sprintf("%s:exec-%d", strings.Replace(w.arn, ":stateMachine:", ":execution:", 1), len(w.executions)+1),
		Input: []byte(in.Input), Status: "RUNNING"}
	w.executions = append(w.executions, exec)
	w.mu.Unlock()
	w.wg.Add(1)
	go w.run(exec)
	rw.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(rw).Encode(map[string]any{"executionArn": exec.ARN, "startDate": float64(time.Now().UnixMilli()) / 1000})
}

func (w *waiter) run(exec *Execution) {
	defer w.wg.Done()
	set := func(f func()) {
		w.mu.Lock()
		defer w.mu.Unlock()
		f()
	}
	for attempt := 0; ; attempt++ {
		set(func() { exec.Attempts++ })
		res, err := w.isComplete.Invoke(w.ctx, exec.Input)
		if err != nil {
			set(func() {
				if w.ctx.Err() != nil { // the harness is shutting down
					exec.Status = "ABORTED"
					return
				}
				exec.Status = "FAILED"
				w.errs = append(w.errs, fmt.Sprintf("%s: invoking isComplete: %v", exec.ARN, err))
			})
			return
		}
		if res.FunctionError == "" {
			set(func() { exec.Status = "SUCCEEDED" })
			return
		}
		if attempt >= w.maxAttempts {
			var doc struct {
				ErrorType string `json:"errorType"`
			}
			_ = json.Unmarshal(res.Payload, &doc)
			if doc.ErrorType == "" {
				doc.ErrorType = "Lambda.Unknown"
			}
			caught, _ := json.Marshal(map[string]string{"Error": doc.ErrorType, "Cause": string(res.Payload)})
			set(func() { exec.TimedOut = true })
			res, err := w.onTimeout.Invoke(w.ctx, caught)
			set(func() {
				exec.Status = "SUCCEEDED"
				if err != nil && w.ctx.Err() != nil {
					exec.Status = "ABORTED"
				} else if err != nil || res.FunctionError != "" {
					exec.Status = "FAILED"
					w.errs = append(w.errs, fmt.Sprintf("%s: onTimeout failed: %v %s", exec.ARN, err, res.Payload))
				}
			})
			return
		}
		select { // BackoffRate 1: the same interval before every retry
		case <-time.After(w.interval):
		case <-w.ctx.Done():
			set(func() { exec.Status = "ABORTED" })
			return
		}
	}
}

func (w *waiter) snapshot() ([]Execution, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Execution, len(w.executions))
	for i, e := range w.executions {
		out[i] = *e
	}
	return out, append([]string(nil), w.errs...)
}
