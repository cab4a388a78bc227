// Package toolcheck decides what a test does when a tool it needs (node, npm,
// cfn-lint) is not installed: on a developer's machine it skips, saying what
// was not checked; in CI (the CI environment variable set, as .ci/run sets it)
// it fails, so that a gate such as cfn-lint can never be skipped silently there.
package toolcheck

import (
	"os"
	"testing"
)

// Missing skips t, or fails it when the CI environment variable is set,
// with why the tool is missing and what went unchecked.
func Missing(t testing.TB, tool string, why error, unchecked string) {
	t.Helper()
	if msg, fail := verdict(os.Getenv("CI"), tool, why, unchecked); fail {
		t.Fatal(msg)
	} else {
		t.Skip(msg)
	}
}

func verdict(ci, tool string, why error, unchecked string) (string, bool) {
	msg := tool + " is not available (" + why.Error() + "): " + unchecked
	if ci != "" {
		return msg + "; the CI environment variable is set, so this fails instead of skipping", true
	}
	return msg, false
}
