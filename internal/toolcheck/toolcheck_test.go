package toolcheck

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAMissingToolFailsInCIAndSkipsElsewhere(t *testing.T) {
	why := errors.New(`exec: "cfn-lint": executable file not found in $PATH`)
	msg, fail := verdict("1", "cfn-lint", why, "templates synthesized but NOT linted")
	assert.True(t, fail, "with CI set, a missing linter must fail the gate")
	assert.Contains(t, msg, "cfn-lint is not available")
	assert.Contains(t, msg, "NOT linted")
	assert.Contains(t, msg, "CI environment variable is set")

	msg, fail = verdict("", "cfn-lint", why, "templates synthesized but NOT linted")
	assert.False(t, fail, "on a developer's machine without the tool the test skips")
	assert.Contains(t, msg, "NOT linted")
	assert.NotContains(t, msg, "CI environment")
}
