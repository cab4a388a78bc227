package idp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretsClient is the one Secrets Manager call the function makes;
// *secretsmanager.Client implements it.
type SecretsClient interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// NewSecretsClient builds the Secrets Manager client from the variables Lambda
// sets (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
// honouring AWS_ENDPOINT_URL_SECRETS_MANAGER (then AWS_ENDPOINT_URL) as the SDK
// does. It does not use config.LoadDefaultConfig: that links SSO, STS, IMDS and
// shared-file support the function never needs and pushes the binary past its
// 8 MB budget.
func NewSecretsClient(getenv func(string) string) *secretsmanager.Client {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	opts := secretsmanager.Options{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			c := aws.Credentials{
				AccessKeyID:     getenv("AWS_ACCESS_KEY_ID"),
				SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
				SessionToken:    getenv("AWS_SESSION_TOKEN"),
				Source:          "Environment",
			}
			if c.AccessKeyID == "" || c.SecretAccessKey == "" {
				return aws.Credentials{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
			}
			return c, nil
		}),
	}
	if ep := getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER"); ep != "" {
		opts.BaseEndpoint = aws.String(ep)
	} else if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		opts.BaseEndpoint = aws.String(ep)
	}
	return secretsmanager.New(opts)
}

// clientCredentials authenticate the function to the introspection endpoint.
type clientCredentials struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
}

// errSecret marks failures to obtain the client credentials.
var errSecret = errors.New("reading the introspection client credentials")

// readCredentials reads {"client_id", "client_secret"} from the secret. Its
// errors never quote the secret's value.
func readCredentials(ctx context.Context, sm SecretsClient, arn string) (clientCredentials, error) {
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		return clientCredentials{}, fmt.Errorf("%w from %s: %w", errSecret, arn, err)
	}
	var c clientCredentials
	if json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c) != nil || c.ID == "" || c.Secret == "" {
		return clientCredentials{}, fmt.Errorf(`%w: %s is not JSON with non-empty "client_id" and "client_secret"`, errSecret, arn)
	}
	return c, nil
}
