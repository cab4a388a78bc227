// Command hello is a fixture for the golambda tests: the smallest Lambda that
// imports a package of this module and a third-party module.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/openhealthstack/smart-healthlake/internal/golambda/testdata/hello/greeting"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return greeting.Text, nil })
}
