package smartcheck

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// The stack outputs smartcheck reads (defined in stacks/stacks.go).
const (
	OutputFhirEndpoint  = "FhirEndpoint"
	OutputIssuer        = "Issuer"
	OutputTokenEndpoint = "TokenEndpoint"
	// OutputBackendTokenEndpoint is the EHR launch token proxy's URL, output
	// when the proxy serves the backend services.
	OutputBackendTokenEndpoint = "BackendTokenEndpoint"
	OutputBackendClientID      = "BackendClientId"
	OutputDatastoreID          = "DatastoreId"
	OutputEhrLaunchAPIURL      = "EhrLaunchApiUrl"
)

// HealthLakeAPI is the HealthLake call used; *healthlake.Client implements it.
type HealthLakeAPI interface {
	DescribeFHIRDatastore(context.Context, *healthlake.DescribeFHIRDatastoreInput, ...func(*healthlake.Options)) (*healthlake.DescribeFHIRDatastoreOutput, error)
}

// DatastoreVersion reads the SMART version a data store is configured with:
// AuthorizationStrategy SMART_ON_FHIR_V1 is v1, SMART_ON_FHIR v2 (the
// healthlake API reference). It fails for a data store without SMART.
func DatastoreVersion(ctx context.Context, api HealthLakeAPI, id string) (smart.Version, error) {
	out, err := api.DescribeFHIRDatastore(ctx, &healthlake.DescribeFHIRDatastoreInput{DatastoreId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("describing data store %s (for its SMART version; or pass --smart-version): %w", id, err)
	}
	var strategy types.AuthorizationStrategy
	if p := out.DatastoreProperties; p != nil && p.IdentityProviderConfiguration != nil {
		strategy = p.IdentityProviderConfiguration.AuthorizationStrategy
	}
	switch strategy {
	case types.AuthorizationStrategySmartv1:
		return smart.V1, nil
	case types.AuthorizationStrategySmartOnFhir:
		return smart.V2, nil
	}
	return "", fmt.Errorf("data store %s has AuthorizationStrategy %q, not SMART on FHIR", id, strategy)
}

// StacksAPI is the CloudFormation call used; *cloudformation.Client implements it.
type StacksAPI interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// SecretsAPI is the Secrets Manager call used; *secretsmanager.Client implements it.
type SecretsAPI interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// StackOutputs returns a deployed stack's outputs by key.
func StackOutputs(ctx context.Context, api StacksAPI, stack string) (map[string]string, error) {
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return nil, fmt.Errorf("reading the outputs of stack %s (are the AWS credentials and region those of the deployment?): %w", stack, err)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("stack %s: DescribeStacks returned %d stacks", stack, len(out.Stacks))
	}
	m := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m, nil
}

// ApplyOutputs fills the settings the flags left empty from the stack outputs.
// It fails when the FHIR endpoint or the issuer remains unknown.
func ApplyOutputs(cfg *Config, outputs map[string]string) error {
	fill := func(dst *string, key string) {
		if *dst == "" {
			*dst = outputs[key]
		}
	}
	fill(&cfg.FHIREndpoint, OutputFhirEndpoint)
	fill(&cfg.Issuer, OutputIssuer)
	// With EHR launch serving the backend services, their token endpoint is
	// the launch proxy (BackendTokenEndpoint), which the token check then
	// takes, so that it checks the proxy's verify-and-re-sign path that
	// services use; otherwise Okta's (TokenEndpoint).
	fill(&cfg.TokenEndpoint, OutputBackendTokenEndpoint)
	fill(&cfg.TokenEndpoint, OutputTokenEndpoint)
	fill(&cfg.ClientID, OutputBackendClientID)
	fill(&cfg.EHRLaunchAPI, OutputEhrLaunchAPIURL)
	var missing []string
	if cfg.FHIREndpoint == "" {
		missing = append(missing, OutputFhirEndpoint)
	}
	if cfg.Issuer == "" {
		missing = append(missing, OutputIssuer)
	}
	if len(missing) > 0 {
		return fmt.Errorf("the stack has no %s output (is it a smart-healthlake stack?)", strings.Join(missing, " or "))
	}
	return nil
}

// SecretKey reads the client's private key from a Secrets Manager secret
// (any form ParseClientKey reads). The error never quotes the value.
func SecretKey(ctx context.Context, api SecretsAPI, id string) (ClientKey, error) {
	out, err := api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return ClientKey{}, fmt.Errorf("reading the private key from secret %s: %w", id, err)
	}
	k, err := ParseClientKey([]byte(aws.ToString(out.SecretString)))
	if err != nil {
		return ClientKey{}, fmt.Errorf("secret %s: %w", id, err)
	}
	return k, nil
}
