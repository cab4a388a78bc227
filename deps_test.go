package main

import (
	"testing"

	"github.com/openhealthstack/smart-healthlake/internal/depcheck"
)

// TestTheSynthesisBinaryLinksNoSDK is the dependency gate of issue 12: what a
// consumer's `cdk synth` links (every construct, the stacks, this app) holds
// no Okta SDK, no AWS service client and no Lambda runtime library. Those are
// the handlers', which are compiled on their own (internal/golambda); the
// constructs read the contract packages instead.
func TestTheSynthesisBinaryLinksNoSDK(t *testing.T) {
	depcheck.ForbiddenDeps(t, "./constructs/...", "./stacks/...", ".")
}
