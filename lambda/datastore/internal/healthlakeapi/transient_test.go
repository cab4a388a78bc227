package healthlakeapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"

	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/healthlakeapi"
)

func TestIsTransient(t *testing.T) {
	code := func(c string) error { return &smithy.GenericAPIError{Code: c, Message: "m"} }
	status := func(n int, err error) error {
		return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: n}}, Err: err}}
	}
	// What the SDK returns once its retries are spent: the last error, wrapped.
	exhausted := func(err error) error { return &retry.MaxAttemptsError{Attempt: 4, Err: err} }

	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"throttling after the retries", exhausted(status(400, code("ThrottlingException"))), true},
		{"an InternalServerException (500)", exhausted(status(500, code("InternalServerException"))), true},
		{"a 503", status(503, code("ServiceUnavailable")), true},
		{"a ConflictException", exhausted(status(409, code("ConflictException"))), true},
		{"wrapped by the handler", fmt.Errorf("describing: %w", exhausted(status(400, code("ThrottlingException")))), true},
		{"access denied", status(403, code("AccessDeniedException")), false},
		{"a validation error", status(400, code("ValidationException")), false},
		{"not found", status(404, code("ResourceNotFoundException")), false},
		{"a cancelled context", fmt.Errorf("calling: %w", context.Canceled), false},
		{"an error of the handler's own", errors.New("data store is CREATE_FAILED"), false},
		{"no error", nil, false},
	} {
		t.Run(tc.name+fmt.Sprintf(" is transient: %v", tc.want), func(t *testing.T) {
			assert.Equal(t, tc.want, healthlakeapi.IsTransient(tc.err))
		})
	}
}
