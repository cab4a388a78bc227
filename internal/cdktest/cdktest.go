// Package cdktest is the test harness for this module's constructs and stacks:
// CDK apps and stacks for unit tests, assertions that fail the test instead of
// crashing the test binary, readers of synthesized templates (resources,
// references, policy statements) and golden-file snapshots.
package cdktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// UpdateEnv is the environment variable that rewrites golden files instead of
// comparing against them: `UPDATE_SNAPSHOTS=1 go test ./...`.
const UpdateEnv = "UPDATE_SNAPSHOTS"

// NewApp returns an app whose output goes to a temporary directory and which
// skips asset bundling (no Go builds), for tests where bundling is not the
// subject. Asset hashes are computed from sources, so they are the same as in a
// bundled synthesis. Extra context is merged in.
func NewApp(t testing.TB, context map[string]any) awscdk.App {
	t.Helper()
	ctx := map[string]any{
		// An empty list: bundle the assets of no stack.
		"aws:cdk:bundling-stacks": []string{},
	}
	for k, v := range context {
		ctx[k] = v
	}
	return awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(t.TempDir()),
		Context: &ctx,
	})
}

// Try runs f, which makes CDK assertions, and turns a failed assertion (which
// jsii delivers to Go as a panic) into a test error. The test goes on, so one run
// reports every failed assertion.
func Try(t testing.TB, f func()) (ok bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%v", describe(r))
			ok = false
		}
	}()
	f()
	return true
}

// Must runs f like Try but stops the test on failure; use it where later checks
// make no sense without this one.
func Must(t testing.TB, f func()) {
	t.Helper()
	if !Try(t, f) {
		t.FailNow()
	}
}

// Panics runs f and returns the message it panicked with, or fails the test when
// it did not panic. Construct validation errors arrive as panics.
func Panics(t testing.TB, f func()) string {
	t.Helper()
	var msg string
	func() {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(describe(r))
			}
		}()
		f()
	}()
	if msg == "" {
		t.Fatalf("expected a panic, got none")
	}
	return msg
}

// describe renders a recovered panic. CDKTEST_STACK=1 adds the Go stack, to
// find which construct call raised a jsii error.
func describe(r any) any {
	if err, isErr := r.(error); isErr {
		return err.Error()
	}
	if os.Getenv("CDKTEST_STACK") != "" {
		return fmt.Sprintf("%v\n%s", r, debug.Stack())
	}
	return r
}

// Template returns the synthesized template of a stack, failing the test on a
// synthesis error.
func Template(t testing.TB, stack awscdk.Stack) assertions.Template {
	t.Helper()
	var tpl assertions.Template
	Must(t, func() { tpl = assertions.Template_FromStack(stack, nil) })
	return tpl
}

// assetHash matches the 64-hex-digit asset hashes that appear in S3 keys,
// parameter names and metadata; they change with every source edit and CDK
// release, so snapshots replace them with a placeholder.
var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// versionHash is the suffix CDK gives a function's current-version logical id: a
// hash of the function's configuration and code, so it changes with every source
// edit as the asset hash does.
var versionHash = regexp.MustCompile(`(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}`)

// Snapshot compares the template with the golden file testdata/<name>.json under
// dir, after normalizing asset hashes and sorting keys. With UPDATE_SNAPSHOTS=1 it
// writes the file instead. Snapshots are a safety net for review, not a substitute
// for direct assertions.
func Snapshot(t testing.TB, tpl assertions.Template, golden string) {
	t.Helper()
	got, err := Normalize(tpl.ToJSON())
	if err != nil {
		t.Fatalf("normalizing template: %v", err)
	}
	if os.Getenv(UpdateEnv) != "" {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", golden)
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading snapshot %s (create it with %s=1 go test ./...): %v", golden, UpdateEnv, err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("template differs from %s; review the change, then refresh it with %s=1 go test ./...\n%s",
			golden, UpdateEnv, firstDifference(want, got))
	}
}

// Normalize renders a template as indented JSON with sorted keys and asset
// hashes replaced by a placeholder.
func Normalize(template *map[string]any) ([]byte, error) {
	raw, err := json.Marshal(template)
	if err != nil {
		return nil, err
	}
	raw = assetHash.ReplaceAll(raw, []byte("<asset-hash>"))
	raw = versionHash.ReplaceAll(raw, []byte("${1}<version-hash>"))
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	// encoding/json sorts map keys; HTML escaping would turn < into \u003c.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func firstDifference(want, got []byte) string {
	wl := bytes.Split(want, []byte("\n"))
	gl := bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return fmt.Sprintf("first difference at line %d:\n  snapshot: %s\n  template: %s", i+1, w, g)
		}
	}
	return ""
}
