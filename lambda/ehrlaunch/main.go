// Command ehrlaunch is the EHR launch Lambda behind an API Gateway REST API
// (proxy integration): the launch-context API, the authorize proxy and its
// callback, Okta's token inline hook and the token proxy, all in package
// launchflow; with backend services configured, the token proxy signs Okta's
// client assertions with the KMS key of package assertionkey. One function serves every route because they share the table,
// the configuration and the cold start; API Gateway still authorizes each
// route on its own (IAM for POST /launch, none for the browser and Okta
// routes, whose callers authenticate inside the flow). main only wires.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/assertionkey"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/lambdalog"
)

func main() {
	logger := lambdalog.New(os.Stdout, os.Getenv)
	if err := run(context.Background(), logger); err != nil {
		logger.Error("start", "error", err.Error())
		os.Exit(1)
	}
}

func run(ctx context.Context, logger *slog.Logger) error {
	cfg, err := ehrlaunchenv.Parse(os.Getenv)
	if err != nil {
		return err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	secret, err := secretsmanager.NewFromConfig(awsCfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(cfg.HookSecretARN)})
	if err != nil {
		return err
	}
	store := launchstore.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, nil)
	opts := launchflow.Options{HookSecret: aws.ToString(secret.SecretString), Logger: logger}
	if cfg.AssertionKeyARN != "" {
		// Backend services through the token proxy (launchflow/backend.go).
		opts.AssertionSigner = assertionkey.New(kms.NewFromConfig(awsCfg), cfg.AssertionKeyARN)
	}
	srv, err := launchflow.New(cfg, store, opts)
	if err != nil {
		return err
	}
	lambda.Start(httpadapter.New(srv).ProxyWithContext)
	return nil
}
