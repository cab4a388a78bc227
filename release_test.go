package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// TestAReleasedVersionBuildsItsLambdasFromTheModuleCache publishes this
// repository's HEAD as a module version to a local file proxy and synthesizes
// examples/consumer against it, as a team that runs `go get
// github.com/openhealthstack/smart-healthlake@vX` would: the Lambdas are then
// built inside the read-only module cache, with this module's go.mod and go.sum.
// The replace-directive consumer test cannot show that.
func TestAReleasedVersionBuildsItsLambdasFromTheModuleCache(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes the module and builds an app; skipped with -short")
	}
	root := cdktest.RepoRoot()
	modPath := "github.com/openhealthstack/smart-healthlake"
	head := strings.TrimSpace(run(t, root, nil, "git", "rev-parse", "HEAD"))
	version := "v0.0.0-20260101000000-" + head[:12]

	// A file proxy holding HEAD (committed files only, as a tag would).
	proxy := t.TempDir()
	dir := filepath.Join(proxy, modPath, "@v")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	zf, err := os.Create(filepath.Join(dir, version+".zip"))
	require.NoError(t, err)
	require.NoError(t, modzip.CreateFromVCS(zf, module.Version{Path: modPath, Version: version}, root, head, ""))
	require.NoError(t, zf.Close())
	gomod := run(t, root, nil, "git", "show", head+":go.mod")
	require.NoError(t, os.WriteFile(filepath.Join(dir, version+".mod"), []byte(gomod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, version+".info"), []byte(`{"Version":"`+version+`","Time":"2026-01-01T00:00:00Z"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "list"), []byte(version+"\n"), 0o644))

	upstream := strings.TrimSpace(run(t, root, nil, "go", "env", "GOPROXY"))
	env := []string{
		"GOPROXY=file://" + filepath.ToSlash(proxy) + "," + upstream,
		"GONOSUMDB=" + modPath, "GONOSUMCHECK=1", "GOFLAGS=", "GOWORK=off",
	}
	modcache := strings.TrimSpace(run(t, root, nil, "go", "env", "GOMODCACHE"))
	t.Cleanup(func() {
		// Leave no published test version behind in the shared module cache.
		for _, p := range []string{
			filepath.Join(modcache, modPath+"@"+version),
			filepath.Join(modcache, "cache", "download", modPath, "@v"),
		} {
			_ = exec.Command("chmod", "-R", "u+w", p).Run()
			_ = os.RemoveAll(p)
		}
	})

	// The consumer: examples/consumer's code, requiring the published version.
	app := t.TempDir()
	src, err := os.ReadFile(filepath.Join(root, "examples", "consumer", "main.go"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(app, "main.go"), src, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(app, "go.mod"), []byte("module example.com/released\n\ngo 1.26.0\n\nrequire "+modPath+" "+version+"\n"), 0o644))
	run(t, app, env, "go", "mod", "tidy")
	srcDir := strings.TrimSpace(run(t, app, env, "go", "list", "-m", "-f", "{{.Dir}}", modPath))
	require.True(t, strings.HasPrefix(srcDir, modcache), "the module comes from the module cache, got %s", srcDir)

	bin := filepath.Join(t.TempDir(), "released")
	run(t, app, env, "go", "build", "-o", bin, ".")
	out := t.TempDir()
	run(t, app, append(env, "CDK_OUTDIR="+out), bin)

	bins, err := filepath.Glob(filepath.Join(out, "asset.*", "bootstrap"))
	require.NoError(t, err)
	require.Len(t, bins, 3, "the three Lambdas were compiled from the module cache")

	// With a clean tree, HEAD is the working tree: the released build must carry
	// the same asset hashes as the replace-directive build of the same sources.
	if strings.TrimSpace(run(t, root, nil, "git", "status", "--porcelain")) != "" {
		t.Log("working tree has changes: asset hashes not compared with the local build")
		return
	}
	local := t.TempDir()
	consumer := filepath.Join(root, "examples", "consumer")
	localBin := filepath.Join(t.TempDir(), "consumer")
	run(t, consumer, nil, "go", "build", "-o", localBin, ".")
	run(t, consumer, []string{"CDK_OUTDIR=" + local}, localBin)
	localBins, err := filepath.Glob(filepath.Join(local, "asset.*", "bootstrap"))
	require.NoError(t, err)
	require.Equal(t, assetNames(bins), assetNames(localBins), "same sources, same asset hashes, wherever they are built")
}

func assetNames(bootstraps []string) []string {
	names := make([]string, len(bootstraps))
	for i, b := range bootstraps {
		names[i] = filepath.Base(filepath.Dir(b))
	}
	return names
}

// run runs a command in dir with extra environment and returns its output,
// failing the test with the output on error.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}
