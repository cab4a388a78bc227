package oktaauth_test

import (
	"os/exec"
	"strings"
	"testing"
)

// forbiddenDeps are the modules a consumer's synthesis binary must not link
// through this construct: the handler's SDKs. The construct reads the
// contract (contract/oktaprops) instead of the handler's packages.
//
// This is the construct's own check; it is meant to become a call of
// internal/depcheck.ForbiddenDeps once that helper lands.
var forbiddenDeps = []string{
	"github.com/okta/okta-sdk-golang/",
	"github.com/aws/aws-sdk-go-v2/service/",
	"github.com/aws/aws-lambda-go/",
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/",
}

func TestTheConstructLinksNoSDKAndNoHandlerPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages, expected the CDK's among them: %q", len(deps), deps)
	}
	for _, dep := range deps {
		for _, bad := range forbiddenDeps {
			if strings.HasPrefix(dep+"/", bad) {
				t.Errorf("constructs/oktaauth depends on %s (forbidden: %s)", dep, bad)
			}
		}
	}
}
