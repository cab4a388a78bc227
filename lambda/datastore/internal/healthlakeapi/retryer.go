package healthlakeapi

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retry defaults for a custom-resource Lambda. A ConflictException lasts as long as
// the running update or deletion, so the budget is larger than the SDK's default
// of 3 attempts: with the throttling backoff (1 s base, doubling, capped at
// MaxBackoff) 20 attempts wait up to about 5 minutes, inside a Lambda's 15.
const (
	DefaultMaxAttempts = 20
	DefaultMaxBackoff  = 20 * time.Second
)

var conflict = map[string]struct{}{"ConflictException": {}}

// NewRetryer returns the SDK's standard retryer, which already retries throttling,
// 5xx and connection errors, extended to retry HealthLake's ConflictException
// ("an update is already running") with the same backoff and cost as throttling.
// optFns run last, so tests can shrink the backoff and the number of attempts.
func NewRetryer(optFns ...func(*retry.StandardOptions)) aws.Retryer {
	return retry.NewStandard(append([]func(*retry.StandardOptions){func(o *retry.StandardOptions) {
		o.MaxAttempts = DefaultMaxAttempts
		o.MaxBackoff = DefaultMaxBackoff
		o.Retryables = append(o.Retryables, retry.RetryableErrorCode{Codes: conflict})
		o.Throttles = append(o.Throttles, retry.ThrottleErrorCode{Codes: conflict})
	}}, optFns...)...)
}

// IsTransient reports whether err, returned once the retryer gave up, is of a
// kind that passes by itself: throttling, a 5xx, a connection error, or a
// ConflictException (a change still running), classified by the SDK's own
// default retryable and throttle checks. A poller answers "not yet" to such an
// error instead of failing the operation. A cancelled context is not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		return true
	}
	retryables := append(append([]retry.IsErrorRetryable{}, retry.DefaultRetryables...), retry.RetryableErrorCode{Codes: conflict})
	return retry.IsErrorRetryables(retryables).IsErrorRetryable(err).Bool()
}
