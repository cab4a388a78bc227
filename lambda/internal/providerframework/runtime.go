package providerframework

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// cdkModule is the Go module whose jsii tarball holds aws-cdk-lib, the
// framework's runtime included.
const cdkModule = "github.com/aws/aws-cdk-go/awscdk/v2"

// runtimePrefix is where the framework's Lambda code sits in the tarball
// (aws-cdk-lib's custom-resources/lib/provider-framework/runtime).
const runtimePrefix = "package/custom-resources/lib/provider-framework/runtime/"

// runtimeFiles are the files the framework functions load.
var runtimeFiles = []string{"framework.js", "cfn-response.js", "outbound.js", "consts.js", "util.js"}

//go:embed bootstrap.js
var bootstrapJS []byte

//go:embed npm/package.json
var packageJSON []byte

//go:embed npm/package-lock.json
var packageLock []byte

// cacheRoot is this harness's directory in the user's cache.
func cacheRoot() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache directory: %w", err)
	}
	return filepath.Join(dir, "smart-healthlake", "providerframework"), nil
}

var (
	runtimeOnce sync.Once
	runtimeDir  string
	runtimeVer  string
	runtimeErr  error
)

// frameworkRuntime extracts the framework's runtime from the awscdk module's
// jsii tarball (downloading the module if needed) into the cache, once per
// version, and returns the directory and the aws-cdk-lib version.
func frameworkRuntime() (string, string, error) {
	runtimeOnce.Do(func() { runtimeDir, runtimeVer, runtimeErr = extractRuntime() })
	return runtimeDir, runtimeVer, runtimeErr
}

func extractRuntime() (string, string, error) {
	// go mod download resolves the version go.mod requires and prints where
	// the module is (downloading it on a fresh machine).
	out, err := exec.Command("go", "mod", "download", "-json", cdkModule).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return "", "", fmt.Errorf("locating %s: %w", cdkModule, err)
	}
	var mod struct{ Dir, Version, Error string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		return "", "", fmt.Errorf("locating %s: %s %s", cdkModule, mod.Error, out)
	}
	version := strings.TrimPrefix(mod.Version, "v")
	tarball := filepath.Join(mod.Dir, "jsii", "aws-cdk-lib-"+version+".tgz")

	root, err := cacheRoot()
	if err != nil {
		return "", "", err
	}
	dir := filepath.Join(root, "runtime-"+version)
	if _, err := os.Stat(filepath.Join(dir, "framework.js")); err == nil {
		return dir, version, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", "", err
	}
	tmp, err := os.MkdirTemp(root, "runtime-tmp-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	if err := untar(tarball, tmp); err != nil {
		return "", "", fmt.Errorf("extracting the Provider framework runtime from %s: %w", tarball, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "framework.js")); statErr != nil {
			return "", "", err
		} // another test process won the race
	}
	return dir, version, nil
}

func untar(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	want := map[string]bool{}
	for _, name := range runtimeFiles {
		want[runtimePrefix+name] = true
	}
	for len(want) > 0 {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if !want[h.Name] {
			continue
		}
		delete(want, h.Name)
		body, err := io.ReadAll(io.LimitReader(tr, 1<<20))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, strings.TrimPrefix(h.Name, runtimePrefix)), body, 0o644); err != nil {
			return err
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("missing from the tarball: %v", want)
	}
	return nil
}

var (
	npmOnce sync.Once
	npmDir  string
	npmErr  error
)

// errNoNpm marks a machine without node or npm.
var errNoNpm = errors.New("node and npm are needed to run the Provider framework")

// nodeModules installs the framework's npm dependencies (npm/package-lock.json,
// committed) into the cache, once per lock file, and returns the
// node_modules directory.
func nodeModules() (string, error) {
	npmOnce.Do(func() { npmDir, npmErr = installNodeModules() })
	return npmDir, npmErr
}

func installNodeModules() (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoNpm, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("%w: %v", errNoNpm, err)
	}
	root, err := cacheRoot()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(append([]byte{}, packageJSON...), packageLock...))
	dir := filepath.Join(root, "npm-"+hex.EncodeToString(sum[:8]))
	marker := filepath.Join(dir, "node_modules", "@aws-sdk", "client-sfn", "package.json")
	if _, err := os.Stat(marker); err == nil {
		return filepath.Join(dir, "node_modules"), nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(root, "npm-tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for name, body := range map[string][]byte{"package.json": packageJSON, "package-lock.json": packageLock} {
		if err := os.WriteFile(filepath.Join(tmp, name), body, 0o644); err != nil {
			return "", err
		}
	}
	// ci installs exactly the lock file; no install scripts run.
	cmd := exec.Command(npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	done := make(chan struct{})
	timer := time.AfterFunc(5*time.Minute, func() {
		select {
		case <-done:
		default:
			if cmd.Process != nil {
				_ = cmd.Process.Kill()
			}
		}
	})
	msg, err := cmd.CombinedOutput()
	close(done)
	timer.Stop()
	if err != nil {
		return "", fmt.Errorf("npm ci of the Provider framework's dependencies (is the npm registry reachable?): %w: %s", err, msg)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(marker); statErr != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "node_modules"), nil
}
