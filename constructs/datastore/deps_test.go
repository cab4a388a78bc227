package datastore_test

import (
	"testing"

	"github.com/openhealthstack/smart-healthlake/internal/depcheck"
)

// TestTheConstructLinksNoSDK: a consumer's synthesis binary gets the
// contract, not the handler's HealthLake, CloudFormation or Lambda runtime
// libraries.
func TestTheConstructLinksNoSDK(t *testing.T) {
	depcheck.ForbiddenDeps(t, ".")
}
