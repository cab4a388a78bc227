package golambda

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// ModulePath is the import path of the module whose Lambda sources this package
// builds. Consumers' apps find the sources through their own dependency on it.
var ModulePath = modulePath()

// modulePath derives the module path from this package's import path, so a fork
// that renames the module needs no edit here.
func modulePath() string {
	pkg := reflect.TypeOf(buildSettings{}).PkgPath()
	return strings.TrimSuffix(pkg, "/internal/golambda")
}

// The settings every Lambda is built with. They are part of the asset hash: a
// change here must redeploy every function.
type buildSettings struct{}

const (
	goos   = "linux"
	goarch = "arm64"
	// buildTags drops the net/rpc path from aws-lambda-go: provided.al2023 speaks
	// the Runtime API only, and the binary is ~2 MB smaller.
	buildTags = "lambda.norpc"
	ldflags   = "-s -w -buildid="
)

func buildArgs(entry, out string) []string {
	return []string{"build", "-trimpath", "-buildvcs=false", "-mod=readonly",
		"-tags", buildTags, "-ldflags", ldflags, "-o", out, "./" + entry}
}

// buildEnv returns the environment for `go list` and `go build`: the caller's, with
// the target platform forced and the caller's GOFLAGS and workspace ignored so that a
// developer's or consumer's settings can't change what is built.
func buildEnv() []string {
	env := make([]string, 0, len(os.Environ())+5)
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS", "GOWORK":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=", "GOWORK=off")
}

// moduleDir finds the directory holding this module's sources: the working tree
// when this module is the main module (or a replace target), the read-only module
// cache directory when a consumer depends on a released version. Building there,
// with this module's own go.mod and go.sum, gives the Lambda exactly the dependency
// versions this module was tested with, whatever the consumer's module selects.
func moduleDir() (string, error) {
	moduleDirOnce.Do(func() {
		if dir := os.Getenv("SMART_HEALTHLAKE_SOURCE_DIR"); dir != "" {
			moduleDirValue, moduleDirErr = filepath.Abs(dir)
			return
		}
		cmd := exec.Command("go", "list", "-m", "-json", ModulePath)
		cmd.Env = append(os.Environ(), "GOWORK=off")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			moduleDirErr = fmt.Errorf("golambda: finding the sources of %s with `go list -m` (is it in this module's go.mod?): %v: %s",
				ModulePath, err, strings.TrimSpace(stderr.String()))
			return
		}
		var m struct{ Dir string }
		if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
			moduleDirErr = fmt.Errorf("golambda: `go list -m %s` gave no source directory; run `go mod download %s`", ModulePath, ModulePath)
			return
		}
		moduleDirValue = m.Dir
	})
	return moduleDirValue, moduleDirErr
}

var (
	moduleDirOnce  sync.Once
	moduleDirValue string
	moduleDirErr   error
)

// listedPackage is the part of `go list -json` output the hash needs.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	EmbedFiles []string
	Module     *struct {
		Path    string
		Version string
		Main    bool
		Replace *struct {
			Path    string
			Version string
		}
	}
	Error *struct{ Err string }
}

// sourceHash is the asset hash of a Lambda: it changes exactly when the binary
// would. It covers the Go version and build settings, the contents of every
// source file of this module (and of any locally replaced module) that the entry
// package imports, and module@version of every other dependency. File contents
// are hashed with paths relative to the module, so the same sources in another
// directory give the same hash.
func sourceHash(dir, entry string) (string, error) {
	key := dir + "\x00" + entry
	hashCacheMu.Lock()
	defer hashCacheMu.Unlock()
	if h, ok := hashCache[key]; ok {
		return h, nil
	}

	goVersion, err := goOutput(dir, "env", "GOVERSION")
	if err != nil {
		return "", err
	}
	out, err := goOutput(dir, "list", "-deps", "-tags", buildTags,
		"-json=ImportPath,Dir,Standard,GoFiles,CgoFiles,EmbedFiles,Module,Error", "./"+entry)
	if err != nil {
		return "", err
	}

	h := sha256.New()
	fmt.Fprintf(h, "go=%s\ngoos=%s\ngoarch=%s\ncgo=0\ntags=%s\nldflags=%s\nargs=%s\n",
		strings.TrimSpace(goVersion), goos, goarch, buildTags, ldflags,
		strings.Join(buildArgs(entry, "bootstrap"), " "))

	dec := json.NewDecoder(strings.NewReader(out))
	var pkgs []listedPackage
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("golambda: reading `go list` output for %s: %w", entry, err)
		}
		if p.Error != nil {
			return "", fmt.Errorf("golambda: package %s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].ImportPath < pkgs[j].ImportPath })

	for _, p := range pkgs {
		switch {
		case p.Standard:
			// Covered by the Go version.
		case p.Module != nil && p.Module.Replace == nil && p.Module.Version != "":
			fmt.Fprintf(h, "pkg %s %s@%s\n", p.ImportPath, p.Module.Path, p.Module.Version)
		default:
			// This module, or a module replaced by a local directory: hash the files.
			files := append(append(append([]string{}, p.GoFiles...), p.CgoFiles...), p.EmbedFiles...)
			sort.Strings(files)
			fmt.Fprintf(h, "pkg %s files=%d\n", p.ImportPath, len(files))
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(p.Dir, f))
				if err != nil {
					return "", fmt.Errorf("golambda: hashing %s: %w", entry, err)
				}
				sum := sha256.Sum256(b)
				fmt.Fprintf(h, "file %s %x\n", f, sum)
			}
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	hashCache[key] = sum
	return sum, nil
}

var (
	hashCacheMu sync.Mutex
	hashCache   = map[string]string{}
)

// goOutput runs the go command in dir for the Lambda's target platform.
func goOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = buildEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("golambda: `go %s` in %s: %v\n%s", strings.Join(args, " "), dir, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// build compiles entry into outDir/bootstrap.
func build(dir, entry, outDir string) error {
	cmd := exec.Command("go", buildArgs(entry, filepath.Join(outDir, "bootstrap"))...)
	cmd.Dir = dir
	cmd.Env = buildEnv()
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("golambda: building %s for %s/%s failed: %v\n%s", entry, goos, goarch, err, strings.TrimSpace(output.String()))
	}
	return nil
}
