// Command datastore is the Lambda behind the CDK Provider framework that manages a
// SMART-on-FHIR-enabled Amazon HealthLake data store; the logic is in package
// handler.
//
// One binary serves both of the framework's user handlers. The environment
// variable HANDLER_MODE selects which: "onEvent" or "isComplete". An environment
// variable rather than a look at the event, because the two events have the same
// shape (isComplete's only adds Data, which may be empty) and a wrong guess would
// start a second Create.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"

	"github.com/openhealthstack/smart-healthlake/lambda/datastore/handler"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/healthlakeapi"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/lambdalog"
)

func main() {
	logger := lambdalog.New(os.Stdout, os.Getenv)
	mode := os.Getenv("HANDLER_MODE")
	if mode != "onEvent" && mode != "isComplete" {
		logger.Error("HANDLER_MODE must be onEvent or isComplete", "handlerMode", mode)
		os.Exit(1)
	}

	h, err := newHandler(context.Background(), logger)
	if err != nil {
		logger.Error("loading AWS configuration", "error", err.Error())
		os.Exit(1)
	}

	if mode == "onEvent" {
		lambda.Start(h.OnEvent)
	} else {
		lambda.Start(h.IsComplete)
	}
}

// newHandler builds the HealthLake and CloudFormation clients from one AWS
// configuration, so both honour the same credentials and region and their own
// endpoint overrides (AWS_ENDPOINT_URL_HEALTHLAKE, AWS_ENDPOINT_URL_CLOUDFORMATION).
// The retryer, which also retries HealthLake's ConflictException, serves the
// CloudFormation client too: it retries DescribeStacks' throttling.
func newHandler(ctx context.Context, logger *slog.Logger) (*handler.Handler, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRetryer(func() aws.Retryer { return healthlakeapi.NewRetryer() }))
	if err != nil {
		return nil, err
	}
	return handler.New(healthlake.NewFromConfig(cfg), cloudformation.NewFromConfig(cfg), logger), nil
}
