package lambdaruntime

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// InvokeAPI is the Lambda control-plane endpoint of a set of functions: the
// Invoke operation (synchronous RequestResponse, and DryRun) and GetFunction,
// which the JavaScript SDK's waitUntilFunctionActiveV2 polls. It speaks the
// REST-JSON wire format of botocore's lambda model: POST
// /2015-03-31/functions/{FunctionName}/invocations with the payload as the
// body and X-Amz-Function-Error / X-Amz-Executed-Version in the answer;
// errors carry their code in X-Amzn-ErrorType. FunctionName may be a name, an
// ARN or a partial ARN, with or without a qualifier (only $LATEST exists).
//
// Requests must be signed with SigV4 for the lambda service: only the
// signer's output is checked, not the signature.
type InvokeAPI struct {
	srv *http.Server
	url string

	mu        sync.Mutex
	functions map[string]*Function
	requests  []InvokeRequest
}

// InvokeRequest is one recorded Invoke.
type InvokeRequest struct {
	Function      string
	Payload       []byte
	FunctionError string
	At            time.Time
}

// NewInvokeAPI starts the endpoint on 127.0.0.1 with the given functions.
func NewInvokeAPI(functions ...*Function) (*InvokeAPI, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdaruntime: listening for the Invoke API: %w", err)
	}
	a := &InvokeAPI{url: "http://" + ln.Addr().String(), functions: map[string]*Function{}}
	for _, f := range functions {
		a.Add(f)
	}
	a.srv = &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

// URL is the endpoint, for AWS_ENDPOINT_URL_LAMBDA.
func (a *InvokeAPI) URL() string { return a.url }

// Add registers a function.
func (a *InvokeAPI) Add(f *Function) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.functions[f.Name()] = f
}

// Requests returns the recorded invocations, those of one function when name
// is not empty.
func (a *InvokeAPI) Requests(name string) []InvokeRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []InvokeRequest
	for _, r := range a.requests {
		if name == "" || r.Function == name {
			out = append(out, r)
		}
	}
	return out
}

// Close stops the endpoint (not the functions).
func (a *InvokeAPI) Close() error { return a.srv.Close() }

const functionsPrefix = "/2015-03-31/functions/"

func (a *InvokeAPI) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") || !strings.Contains(auth, "/lambda/aws4_request") {
		writeAPIError(w, http.StatusForbidden, "MissingAuthenticationTokenException", "request is not signed with SigV4 for lambda")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), functionsPrefix)
	if !ok {
		writeAPIError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+r.Method+" "+r.URL.Path)
		return
	}
	rawName, op, _ := strings.Cut(rest, "/")
	name, err := url.PathUnescape(rawName)
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterValueException", "bad FunctionName")
		return
	}
	f, qualifier := a.lookup(name)
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		qualifier = q
	}
	if f == nil || (qualifier != "" && qualifier != "$LATEST") {
		writeAPIError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	switch {
	case r.Method == http.MethodPost && op == "invocations":
		a.invoke(w, r, f)
	case r.Method == http.MethodGet && op == "":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"Configuration": map[string]any{
			"FunctionName": f.Name(), "FunctionArn": f.ARN(), "State": "Active", "LastUpdateStatus": "Successful",
			"Timeout": int(f.cfg.Timeout / time.Second), "MemorySize": f.cfg.MemoryMB, "Handler": f.cfg.Handler,
		}})
	default:
		writeAPIError(w, http.StatusNotFound, "UnknownOperationException", "unknown operation "+r.Method+" "+r.URL.Path)
	}
}

// lookup resolves a FunctionName (name, name:qualifier, full or partial ARN).
// An ARN must be the function's own: another account or region is not found.
func (a *InvokeAPI) lookup(name string) (*Function, string) {
	qualifier, arn := "", ""
	parts := strings.Split(name, ":")
	switch {
	case strings.HasPrefix(name, "arn:"): // arn:aws:lambda:region:account:function:name[:qualifier]
		if len(parts) < 7 || parts[5] != "function" {
			return nil, ""
		}
		arn, name = strings.Join(parts[:7], ":"), parts[6]
		if len(parts) > 7 {
			qualifier = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function": // account:function:name[:qualifier]
		name = parts[2]
		if len(parts) > 3 {
			qualifier = parts[3]
		}
	case len(parts) == 2:
		name, qualifier = parts[0], parts[1]
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.functions[name]
	if f != nil && arn != "" && arn != f.ARN() {
		return nil, ""
	}
	return f, qualifier
}

func (a *InvokeAPI) invoke(w http.ResponseWriter, r *http.Request, f *Function) {
	payload, err := io.ReadAll(io.LimitReader(r.Body, maxResponseBytes+1))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", "reading the payload")
		return
	}
	if len(payload) > maxResponseBytes {
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
		return
	}
	if len(payload) > 0 && !json.Valid(payload) {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
		return
	}
	switch t := r.Header.Get("X-Amz-Invocation-Type"); t {
	case "", "RequestResponse":
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		writeAPIError(w, http.StatusBadRequest, "InvalidParameterValueException", "invocation type "+t+" is not emulated")
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	res, err := f.Invoke(r.Context(), payload)
	if err != nil {
		writeAPIError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	a.mu.Lock()
	a.requests = append(a.requests, InvokeRequest{Function: f.Name(), Payload: payload, FunctionError: res.FunctionError, At: time.Now()})
	a.mu.Unlock()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amz-Executed-Version", "$LATEST")
	if res.FunctionError != "" {
		h.Set("X-Amz-Function-Error", res.FunctionError)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Payload)
}

// writeAPIError answers in the REST-JSON error shape: the code in
// X-Amzn-ErrorType and the body's Type/message.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": message})
}
