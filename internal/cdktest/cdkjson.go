package cdktest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the directory of this module's go.mod (found from this file, so
// it is right whichever package's test asks).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// CdkJSONContext returns the "context" of the repository's cdk.json: the
// environments and the feature flags `cdk synth` runs with. Tests that build
// stacks use it so that their templates are the ones users deploy.
func CdkJSONContext(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(), "cdk.json"))
	if err != nil {
		t.Fatalf("reading cdk.json: %v", err)
	}
	var cdk struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &cdk); err != nil {
		t.Fatalf("parsing cdk.json: %v", err)
	}
	return cdk.Context
}
