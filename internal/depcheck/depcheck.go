// Package depcheck keeps SDKs out of what a consumer's synthesis binary links:
// constructs and stacks may use the contract packages and SDK-free lambda
// packages, never the Okta SDK, an AWS service client or the Lambda runtime
// library (those belong to the handlers, which are built separately).
package depcheck

import (
	"bytes"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Forbidden are the module path prefixes no construct or stack may depend on.
var Forbidden = []string{
	"github.com/okta/okta-sdk-golang",
	"github.com/aws/aws-sdk-go-v2/service/",
	"github.com/aws/aws-lambda-go",
}

// ForbiddenDeps fails t, listing each forbidden dependency and the packages
// that import it, when any package matched by pkgs (go list patterns, relative
// to the test's directory) depends on one of Forbidden.
func ForbiddenDeps(t testing.TB, pkgs ...string) {
	t.Helper()
	args := append([]string{"list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}, pkgs...)
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", strings.Join(pkgs, " "), err, stderr.String())
		return
	}
	importers := map[string][]string{} // forbidden package -> packages importing it
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		for _, imp := range fields[1:] {
			if isForbidden(imp) && !isForbidden(fields[0]) {
				importers[imp] = append(importers[imp], fields[0])
			}
		}
	}
	if len(importers) == 0 {
		return
	}
	var report []string
	for _, dep := range slices.Sorted(maps.Keys(importers)) {
		report = append(report, dep+" (imported by "+strings.Join(importers[dep], ", ")+")")
	}
	t.Errorf("%s depend on SDKs they must not link:\n  %s", strings.Join(pkgs, " "), strings.Join(report, "\n  "))
}

func isForbidden(pkg string) bool {
	return slices.ContainsFunc(Forbidden, func(prefix string) bool { return strings.HasPrefix(pkg, prefix) })
}
