package oktaauth_test

import (
	"testing"

	"github.com/openhealthstack/smart-healthlake/internal/depcheck"
)

// The construct reads the contract (contract/oktaprops), never the handler's
// packages, so a consumer's synthesis binary links no Okta or AWS SDK.
func TestTheConstructLinksNoSDK(t *testing.T) {
	depcheck.ForbiddenDeps(t, ".")
}
