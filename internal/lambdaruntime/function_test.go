package lambdaruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary doubles as the function: with helperEnv set it serves
// invocations through aws-lambda-go, the way a Go Lambda does.
const helperEnv = "LAMBDARUNTIME_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		var calls atomic.Int32
		lambda.Start(func(ctx context.Context, in map[string]any) (map[string]any, error) {
			n := calls.Add(1)
			switch in["do"] {
			case "fail":
				return nil, errors.New("refused on purpose")
			case "sleep":
				time.Sleep(time.Minute)
			case "exit":
				os.Exit(3)
			}
			deadline, _ := ctx.Deadline()
			lc, _ := lambdacontext.FromContext(ctx)
			return map[string]any{
				"calls": n, "leaked": os.Getenv("LAMBDARUNTIME_TEST_LEAK"), "name": os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
				"configured": os.Getenv("CONFIGURED"), "remainingMs": time.Until(deadline).Milliseconds(),
				"arn": lc.InvokedFunctionArn, "requestId": lc.AwsRequestID,
			}, nil
		})
		return
	}
	os.Exit(m.Run())
}

func helper(t *testing.T, timeout time.Duration) *Function {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	t.Setenv("LAMBDARUNTIME_TEST_LEAK", "from the caller")
	f, err := Start(Config{Name: "helper", Command: exe, Timeout: timeout,
		Env: map[string]string{helperEnv: "1", "CONFIGURED": "yes"}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func invoke(t *testing.T, f *Function, payload string) (Result, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := f.Invoke(ctx, []byte(payload))
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(res.Payload, &doc), "%s", res.Payload)
	return res, doc
}

func TestFunction(t *testing.T) {
	t.Run("an invocation is answered through the Runtime API and the process stays warm", func(t *testing.T) {
		f := helper(t, 5*time.Second)
		_, first := invoke(t, f, `{}`)
		res, second := invoke(t, f, `{}`)
		assert.Empty(t, res.FunctionError)
		assert.Equal(t, 1.0, first["calls"])
		assert.Equal(t, 2.0, second["calls"], "the second invocation reuses the process")
		assert.Equal(t, 1, f.Starts())
		assert.NotEqual(t, first["requestId"], second["requestId"])
		assert.Equal(t, f.ARN(), second["arn"])
		assert.Equal(t, "helper", second["name"])
		assert.Equal(t, "yes", second["configured"])
		assert.Empty(t, second["leaked"], "the caller's environment does not reach the function")
		assert.InDelta(t, 5000, second["remainingMs"], 1000, "the deadline is the function's timeout away")
	})

	t.Run("a returned error is an Unhandled function error with the error document", func(t *testing.T) {
		f := helper(t, 5*time.Second)
		res, doc := invoke(t, f, `{"do":"fail"}`)
		assert.Equal(t, "Unhandled", res.FunctionError)
		assert.Equal(t, "refused on purpose", doc["errorMessage"])
		assert.Equal(t, "errorString", doc["errorType"])
	})

	t.Run("a function past its timeout is stopped and the next invocation starts a fresh process", func(t *testing.T) {
		f := helper(t, 500*time.Millisecond)
		start := time.Now()
		res, doc := invoke(t, f, `{"do":"sleep"}`)
		assert.Less(t, time.Since(start), 5*time.Second)
		assert.Equal(t, "Unhandled", res.FunctionError)
		assert.Equal(t, "Sandbox.Timedout", doc["errorType"])
		assert.Contains(t, doc["errorMessage"], "Task timed out after 0.50 seconds")
		_, again := invoke(t, f, `{}`)
		assert.Equal(t, 1.0, again["calls"])
		assert.Equal(t, 2, f.Starts())
	})

	t.Run("a process that exits during an invocation fails it with Runtime.ExitError", func(t *testing.T) {
		f := helper(t, 5*time.Second)
		res, doc := invoke(t, f, `{"do":"exit"}`)
		assert.Equal(t, "Unhandled", res.FunctionError)
		assert.Equal(t, "Runtime.ExitError", doc["errorType"])
		assert.Contains(t, doc["errorMessage"], "exit status 3")
		_, again := invoke(t, f, `{}`)
		assert.Equal(t, 1.0, again["calls"])
	})

	t.Run("a closed function refuses invocations", func(t *testing.T) {
		f := helper(t, 5*time.Second)
		require.NoError(t, f.Close())
		_, err := f.Invoke(context.Background(), []byte(`{}`))
		assert.Error(t, err)
	})
}

func TestInvokeQueue(t *testing.T) {
	t.Run("an invocation waiting behind a busy environment gives up when its context ends", func(t *testing.T) {
		f := helper(t, 2*time.Second)
		done := make(chan Result, 1)
		go func() {
			r, _ := f.Invoke(context.Background(), []byte(`{"do":"sleep"}`)) // stopped at its 2 s timeout
			done <- r
		}()
		time.Sleep(300 * time.Millisecond) // let the first invocation take the environment
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		begin := time.Now()
		_, err := f.Invoke(ctx, []byte(`{}`))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(begin), time.Second, "the busy one runs 1.5 s more: the caller must not wait for it")
		assert.Equal(t, "Unhandled", (<-done).FunctionError)
	})
}

// BenchmarkInvoke measures one invocation of a warm function through the
// emulated Runtime API: the overhead the sandbox adds to every FHIR request.
func BenchmarkInvoke(b *testing.B) {
	exe, err := os.Executable()
	require.NoError(b, err)
	f, err := Start(Config{Name: "helper", Command: exe, Timeout: 5 * time.Second, Env: map[string]string{helperEnv: "1"}})
	require.NoError(b, err)
	defer f.Close()
	for b.Loop() {
		if r, err := f.Invoke(context.Background(), []byte(`{}`)); err != nil || r.FunctionError != "" {
			b.Fatal(err, string(r.Payload))
		}
	}
}

func TestInvokeAPI(t *testing.T) {
	f := helper(t, 5*time.Second)
	api, err := NewInvokeAPI(f)
	require.NoError(t, err)
	t.Cleanup(func() { _ = api.Close() })
	const auth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=x"
	post := func(name, body string, header map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, api.URL()+"/2015-03-31/functions/"+name+"/invocations", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", auth)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}

	for _, name := range []string{"helper", "helper:$LATEST", "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ahelper", "123456789012:function:helper"} {
		t.Run(fmt.Sprintf("the function is found as %s", name), func(t *testing.T) {
			resp := post(name, `{}`, nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "$LATEST", resp.Header.Get("X-Amz-Executed-Version"))
			assert.Empty(t, resp.Header.Get("X-Amz-Function-Error"))
		})
	}

	t.Run("a function error comes back as 200 with X-Amz-Function-Error", func(t *testing.T) {
		resp := post("helper", `{"do":"fail"}`, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "Unhandled", resp.Header.Get("X-Amz-Function-Error"))
		body, _ := io.ReadAll(resp.Body)
		assert.Contains(t, string(body), "refused on purpose")
	})

	for _, tc := range []struct{ name, fn, body string }{
		{"another function", "other", `{}`},
		{"another account's ARN", "arn%3Aaws%3Alambda%3Aus-east-1%3A999999999999%3Afunction%3Ahelper", `{}`},
		{"a version that does not exist", "helper:7", `{}`},
	} {
		t.Run(tc.name+" is ResourceNotFoundException", func(t *testing.T) {
			resp := post(tc.fn, tc.body, nil)
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
			assert.Equal(t, "ResourceNotFoundException", resp.Header.Get("X-Amzn-ErrorType"))
		})
	}

	t.Run("a payload that is not JSON is refused", func(t *testing.T) {
		resp := post("helper", `not json`, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, "InvalidRequestContentException", resp.Header.Get("X-Amzn-ErrorType"))
	})

	t.Run("an unsigned request is refused", func(t *testing.T) {
		resp := post("helper", `{}`, map[string]string{"Authorization": ""})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	})

	t.Run("invocations are recorded", func(t *testing.T) {
		assert.NotEmpty(t, api.Requests("helper"))
		assert.Empty(t, api.Requests("other"))
	})
}
