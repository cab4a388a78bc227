// Command introspect is the token-validation Lambda HealthLake calls for every
// request to a SMART on FHIR data store. It only wires the environment to package
// idp, which holds the logic and documents the configuration.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	h := idp.FromEnv(context.Background(), os.Getenv, idp.Options{Logger: logger})
	lambda.Start(h.Handle)
}
