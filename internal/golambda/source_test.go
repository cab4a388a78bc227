package golambda

import (
	"bytes"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const hello = "internal/golambda/testdata/hello"

// copyModule copies this module's sources (no .git, no cdk.out) to a new
// directory, so a test can edit them.
func copyModule(t *testing.T) string {
	t.Helper()
	src, err := moduleDir()
	require.NoError(t, err)
	dst := t.TempDir()
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel == ".git" || rel == "cdk.out" || rel == "node_modules" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	require.NoError(t, err)
	return dst
}

func appendTo(t *testing.T, file, text string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(text)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestTheAssetHashFollowsTheLambdasSourcesOnly(t *testing.T) {
	orig, err := moduleDir()
	require.NoError(t, err)
	want, err := sourceHash(orig, hello)
	require.NoError(t, err)
	require.Len(t, want, 64)

	t.Run("the same sources in another directory hash the same", func(t *testing.T) {
		dir := copyModule(t)
		got, err := sourceHash(dir, hello)
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
	t.Run("a change to code the Lambda does not import keeps the hash", func(t *testing.T) {
		dir := copyModule(t)
		appendTo(t, filepath.Join(dir, "internal/golambda/golambda.go"), "\n// an edit to construct code\n")
		appendTo(t, filepath.Join(dir, "internal/golambda/testdata/broken/main.go"), "\n// another Lambda\n")
		got, err := sourceHash(dir, hello)
		require.NoError(t, err)
		require.Equal(t, want, got)
	})
	t.Run("a change to the entry package changes the hash", func(t *testing.T) {
		dir := copyModule(t)
		appendTo(t, filepath.Join(dir, hello, "main.go"), "\n// an edit\n")
		got, err := sourceHash(dir, hello)
		require.NoError(t, err)
		require.NotEqual(t, want, got)
	})
	t.Run("a change to a package the entry imports changes the hash", func(t *testing.T) {
		dir := copyModule(t)
		appendTo(t, filepath.Join(dir, hello, "greeting/greeting.go"), "\n// an edit\n")
		got, err := sourceHash(dir, hello)
		require.NoError(t, err)
		require.NotEqual(t, want, got)
	})
}

func TestBuildsAreReproducibleAcrossDirectories(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Lambda binary twice; skipped with -short")
	}
	orig, err := moduleDir()
	require.NoError(t, err)
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, build(orig, hello, a))
	require.NoError(t, build(copyModule(t), hello, b))
	ba, err := os.ReadFile(filepath.Join(a, "bootstrap"))
	require.NoError(t, err)
	bb, err := os.ReadFile(filepath.Join(b, "bootstrap"))
	require.NoError(t, err)
	require.Equal(t, sha256.Sum256(ba), sha256.Sum256(bb), "same sources, same bytes")
	require.False(t, bytes.Contains(ba, []byte(orig)), "no source path in the binary (-trimpath)")
}

func TestTheModulePathIsThisModule(t *testing.T) {
	require.True(t, strings.HasSuffix(ModulePath, "/smart-healthlake"), ModulePath)
}
