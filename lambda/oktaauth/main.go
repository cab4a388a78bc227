// Command oktaauth is the Lambda behind the Okta SMART authorization-server
// custom resource (CDK customresources.Provider onEvent handler). It only wires
// configuration; the logic is in package handler.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/openhealthstack/smart-healthlake/lambda/internal/lambdalog"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/handler"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/oktaclient"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/proxykey"
)

func main() {
	log := lambdalog.New(os.Stdout, os.Getenv)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("loading AWS configuration", "error", err.Error())
		os.Exit(1)
	}
	h := &handler.Handler{
		SecretsManager: secretsmanager.NewFromConfig(cfg),
		// Endpoint overrides as for every client of cfg (AWS_ENDPOINT_URL_KMS).
		KMS:  kms.NewFromConfig(cfg, proxykey.WaitForIAM),
		Log:  log,
		Okta: oktaclient.Options{UserAgentExtra: "smart-healthlake-oktaauth"},
	}
	lambda.Start(h.OnEvent)
}
