package depcheck_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/depcheck"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func TestForbiddenDeps(t *testing.T) {
	t.Run("a handler that links the HealthLake SDK and aws-lambda-go is reported with its importers", func(t *testing.T) {
		r := &recorder{TB: t}
		depcheck.ForbiddenDeps(r, "github.com/openhealthstack/smart-healthlake/lambda/datastore")
		require.Len(t, r.failures, 1)
		require.Contains(t, r.failures[0], "github.com/aws/aws-sdk-go-v2/service/healthlake (imported by ")
		require.Contains(t, r.failures[0], "github.com/aws/aws-lambda-go/")
		require.Contains(t, r.failures[0], "github.com/openhealthstack/smart-healthlake/lambda/datastore/handler")
	})
	t.Run("a contract package passes", func(t *testing.T) {
		r := &recorder{TB: t}
		depcheck.ForbiddenDeps(r, "github.com/openhealthstack/smart-healthlake/contract/...")
		require.Empty(t, r.failures)
	})
	t.Run("a pattern go list cannot load fails", func(t *testing.T) {
		r := &recorder{TB: t}
		depcheck.ForbiddenDeps(r, "github.com/openhealthstack/smart-healthlake/no/such/package")
		require.Len(t, r.failures, 1)
	})
}
