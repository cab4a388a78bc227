// Command introspect is the token-validation Lambda HealthLake calls for every
// request to a SMART on FHIR data store. It only wires the environment to package
// idp, which holds the logic and documents the configuration.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/openhealthstack/smart-healthlake/lambda/internal/lambdalog"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func main() {
	// AWS_LAMBDA_LOG_LEVEL=WARN (LoggingConfig) turns the per-request decision lines off.
	logger := lambdalog.New(os.Stdout, os.Getenv)
	h := idp.FromEnv(context.Background(), os.Getenv, idp.Options{Logger: logger})
	lambda.Start(h.Handle)
}
