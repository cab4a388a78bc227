package lambdarun_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/lambdarun"
)

var fnBinary string

// TestMain builds the test function once for every test.
func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // the tests skip themselves
	}
	dir, err := os.MkdirTemp("", "lambdarun")
	if err != nil {
		panic(err)
	}
	fnBinary = filepath.Join(dir, "fn")
	if out, err := exec.Command("go", "build", "-o", fnBinary, "./testdata/fn").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the test function: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type answer struct {
	Echo       string `json:"echo"`
	PID        int    `json:"pid"`
	DeadlineMS int64  `json:"deadlineMs"`
	Env        string `json:"env"`
}

func invoke(t *testing.T, f *lambdarun.Function, timeout time.Duration, event string) (answer, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := f.Invoke(ctx, []byte(event))
	if err != nil {
		return answer{}, err
	}
	var a answer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("response %s: %v", out, err)
	}
	return a, nil
}

func start(t *testing.T) *lambdarun.Function {
	t.Helper()
	if fnBinary == "" {
		t.Skip("-short: needs the function TestMain builds")
	}
	f, err := lambdarun.New(fnBinary, lambdarun.Options{Env: []string{"FN_SETTING=configured"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestInvoke(t *testing.T) {
	t.Run("the function gets the payload, its environment and the caller's deadline", func(t *testing.T) {
		f := start(t)
		before := time.Now()
		a, err := invoke(t, f, 2*time.Second, `{"echo":"hello"}`)
		if err != nil {
			t.Fatal(err)
		}
		if a.Echo != "hello" || a.Env != "configured" {
			t.Errorf("answer %+v, want echo hello and env configured", a)
		}
		want := before.Add(2 * time.Second).UnixMilli()
		if d := a.DeadlineMS - want; d < -5 || d > 500 { // later only by scheduling delay
			t.Errorf("deadline %d, want about %d", a.DeadlineMS, want)
		}
	})

	t.Run("one process serves consecutive invocations, as a warm environment does", func(t *testing.T) {
		f := start(t)
		a1, err1 := invoke(t, f, 2*time.Second, `{}`)
		a2, err2 := invoke(t, f, 2*time.Second, `{}`)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if a1.PID != a2.PID {
			t.Errorf("pids %d and %d, want one process", a1.PID, a2.PID)
		}
	})

	t.Run("a returned error is a FunctionError and the environment stays", func(t *testing.T) {
		f := start(t)
		_, err := invoke(t, f, 2*time.Second, `{"fail":true}`)
		var fe *lambdarun.FunctionError
		if !errors.As(err, &fe) || fe.Message != "asked to fail" {
			t.Fatalf("error %v, want the function's error", err)
		}
		if _, err := invoke(t, f, 2*time.Second, `{}`); err != nil {
			t.Errorf("next invocation: %v", err)
		}
	})

	t.Run("a function slower than the deadline times out and the next invocation is a cold start", func(t *testing.T) {
		f := start(t)
		a1, err := invoke(t, f, 2*time.Second, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = invoke(t, f, 200*time.Millisecond, `{"sleepMs":2000}`)
		if !errors.Is(err, lambdarun.ErrTimeout) {
			t.Fatalf("error %v, want ErrTimeout", err)
		}
		if waited := time.Since(start); waited > time.Second {
			t.Errorf("Invoke returned after %v, want at the deadline", waited)
		}
		a2, err := invoke(t, f, 2*time.Second, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if a1.PID == a2.PID {
			t.Error("the timed-out process was reused")
		}
	})
}

func TestInvokeQueue(t *testing.T) {
	t.Run("an invocation waiting behind a busy environment gives up at its own deadline", func(t *testing.T) {
		f := start(t)
		done := make(chan error, 1)
		go func() {
			_, err := invoke(t, f, 5*time.Second, `{"sleepMs":2000}`)
			done <- err
		}()
		time.Sleep(100 * time.Millisecond) // let the first invocation take the environment
		begin := time.Now()
		_, err := invoke(t, f, 200*time.Millisecond, `{}`)
		if !errors.Is(err, lambdarun.ErrTimeout) {
			t.Errorf("error %v, want ErrTimeout", err)
		}
		if waited := time.Since(begin); waited > time.Second { // the busy one runs 1.9 s more
			t.Errorf("gave up after %v, want at its 200ms deadline", waited)
		}
		if err := <-done; err != nil {
			t.Errorf("the first invocation: %v", err)
		}
	})
}

// BenchmarkInvoke measures one invocation of a warm function through the
// emulated Runtime API: the overhead the sandbox adds to every FHIR request.
func BenchmarkInvoke(b *testing.B) {
	if fnBinary == "" {
		b.Skip("-short")
	}
	f, err := lambdarun.New(fnBinary, lambdarun.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, err := f.Invoke(ctx, []byte(`{"echo":"x"}`)); err != nil {
			b.Fatal(err)
		}
		cancel()
	}
}
