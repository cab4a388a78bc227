package fakesecretsmanager_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fakesecretsmanager"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
)

func client(t *testing.T, url string) *secretsmanager.Client {
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", url)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_REGION", "us-east-1")
	cfg, err := config.LoadDefaultConfig(context.Background())
	require.NoError(t, err)
	return secretsmanager.NewFromConfig(cfg)
}

func TestTheRealClientReadsAndWritesSecrets(t *testing.T) {
	fake := fakesecretsmanager.New(t)
	arn := fake.Put("okta-api", `{"token":"x"}`)
	c := client(t, fake.URL)

	out, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	require.Equal(t, `{"token":"x"}`, aws.ToString(out.SecretString))

	_, err = c.PutSecretValue(context.Background(), &secretsmanager.PutSecretValueInput{SecretId: aws.String("okta-api"), SecretString: aws.String("new")})
	require.NoError(t, err)
	v, _ := fake.Value(arn)
	require.Equal(t, "new", v)
	require.Equal(t, 1, fake.Count("GetSecretValue"))
}

func TestAMissingSecretIsATypedNotFoundError(t *testing.T) {
	fake := fakesecretsmanager.New(t)
	_, err := client(t, fake.URL).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	require.True(t, errors.As(err, &nf), "got %v", err)
}

func TestInjectedServerErrorsAreRetriedByTheSDK(t *testing.T) {
	fake := fakesecretsmanager.New(t)
	fake.Put("s", "v")
	fake.Faults.Add(fault.Rule{Op: "GetSecretValue"})
	out, err := client(t, fake.URL).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
	require.NoError(t, err)
	require.Equal(t, "v", aws.ToString(out.SecretString))
	require.Equal(t, 2, fake.Count("GetSecretValue"))
}

func TestInjectedFaultsAreSecretsManagerErrors(t *testing.T) {
	for kind, want := range map[fault.Kind]string{
		fault.Throttle: "ThrottlingException",
		fault.Invalid:  "InvalidParameterException",
		fault.Denied:   "AccessDeniedException",
		fault.NotFound: "ResourceNotFoundException",
		fault.Conflict: "InvalidRequestException",
	} {
		t.Run("a "+string(kind)+" is answered as "+want, func(t *testing.T) {
			fake := fakesecretsmanager.New(t)
			fake.Put("s", "v")
			fake.Faults.Add(fault.Rule{Op: "GetSecretValue", Kind: kind, Times: 10})
			c := secretsmanager.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(fake.URL),
				Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "fake", ""), RetryMaxAttempts: 1})
			_, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
			var ae smithy.APIError
			require.True(t, errors.As(err, &ae), "got %v", err)
			require.Equal(t, want, ae.ErrorCode())
		})
	}
}

func TestOnlyTheRequiredAccessKeyIsAnswered(t *testing.T) {
	fake := fakesecretsmanager.New(t)
	fake.Put("s", "v")
	fake.RequireAccessKey("AKIASANDBOX")
	newClient := func(key string) *secretsmanager.Client {
		return secretsmanager.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(fake.URL),
			Credentials: credentials.NewStaticCredentialsProvider(key, "fake", ""), RetryMaxAttempts: 1})
	}
	t.Run("another key gets AWS's answer to a foreign key", func(t *testing.T) {
		_, err := newClient("AKIDEXAMPLE").GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
		var ae smithy.APIError
		require.True(t, errors.As(err, &ae), "got %v", err)
		require.Equal(t, "UnrecognizedClientException", ae.ErrorCode())
	})
	t.Run("the required key reads the secret, with its creation date and a UUID-shaped version", func(t *testing.T) {
		out, err := newClient("AKIASANDBOX").GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
		require.NoError(t, err)
		require.Equal(t, "v", aws.ToString(out.SecretString))
		require.NotNil(t, out.CreatedDate)
		require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, aws.ToString(out.VersionId))
	})
}

func TestAPutARNSecretIsFoundByNameAndARN(t *testing.T) {
	fake := fakesecretsmanager.NewHandler()
	arn := "arn:aws:secretsmanager:us-east-1:000000000000:secret:sandbox/introspection-a1B2c3"
	require.Equal(t, arn, fake.PutARN(arn, "sandbox/introspection", "v1"))
	for _, id := range []string{arn, "sandbox/introspection"} {
		v, ok := fake.Value(id)
		require.True(t, ok, id)
		require.Equal(t, "v1", v)
	}
}
