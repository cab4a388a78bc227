package providerframework

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Build compiles a Lambda main package (an import path) for this machine, with
// the flags of the Lambda asset (lambda.norpc, trimmed, CGO off), once per
// test binary, and returns the binary's path. Only GOOS and GOARCH differ from
// the deployed build, so the handler runs here.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := built[pkg]; ok {
		return bin
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build the handler with")
	}
	root, err := cacheRoot()
	if err != nil {
		t.Fatalf("providerframework: %v", err)
	}
	sum := sha256.Sum256([]byte(pkg + " " + runtime.GOOS + "/" + runtime.GOARCH))
	dir := filepath.Join(root, "bin", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("providerframework: %v", err)
	}
	// A temporary name, then a rename: test binaries of other packages may
	// build the same handler at the same time.
	tmp, err := os.CreateTemp(dir, "bootstrap-*")
	if err != nil {
		t.Fatalf("providerframework: %v", err)
	}
	_ = tmp.Close()
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-o", tmp.Name(), pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		_ = os.Remove(tmp.Name())
		t.Fatalf("providerframework: go build %s: %v\n%s", pkg, err, msg)
	}
	bin := filepath.Join(dir, "bootstrap")
	if err := os.Rename(tmp.Name(), bin); err != nil {
		t.Fatalf("providerframework: %v", err)
	}
	built[pkg] = bin
	return bin
}
