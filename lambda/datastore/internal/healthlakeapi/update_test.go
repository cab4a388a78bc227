package healthlakeapi_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakehealthlake"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/healthlakeapi"
)

const metadata = `{"issuer":"https://example.okta.com/oauth2/aus1"}`

func fastRetryer(attempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return healthlakeapi.NewRetryer(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
}

func newClient(fake *fakehealthlake.Server, attempts int) *healthlake.Client {
	return healthlake.New(healthlake.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(fake.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
		Retryer:      fastRetryer(attempts)(),
	})
}

// activeDatastore creates a data store through the SDK and polls it to ACTIVE.
func activeDatastore(t *testing.T, ctx context.Context, c *healthlake.Client) string {
	t.Helper()
	out, err := c.CreateFHIRDatastore(ctx, &healthlake.CreateFHIRDatastoreInput{
		DatastoreTypeVersion: types.FHIRVersionR4,
		DatastoreName:        aws.String("before"),
		IdentityProviderConfiguration: &types.IdentityProviderConfiguration{
			AuthorizationStrategy:           types.AuthorizationStrategySmartOnFhir,
			FineGrainedAuthorizationEnabled: true,
			IdpLambdaArn:                    aws.String("arn:aws:lambda:us-east-1:123456789012:function:idp"),
			Metadata:                        aws.String(metadata),
		},
	})
	require.NoError(t, err)
	for range 10 {
		d, err := c.DescribeFHIRDatastore(ctx, &healthlake.DescribeFHIRDatastoreInput{DatastoreId: out.DatastoreId})
		require.NoError(t, err)
		if d.DatastoreProperties.DatastoreStatus == types.DatastoreStatusActive {
			return *out.DatastoreId
		}
	}
	t.Fatal("data store never became ACTIVE")
	return ""
}

func updateInput(id string) *healthlakeapi.UpdateFHIRDatastoreInput {
	return &healthlakeapi.UpdateFHIRDatastoreInput{
		DatastoreId:   aws.String(id),
		DatastoreName: aws.String("after"),
		IdentityProviderConfiguration: &types.IdentityProviderConfiguration{
			AuthorizationStrategy: types.AuthorizationStrategySmartv1,
			IdpLambdaArn:          aws.String("arn:aws:lambda:us-east-1:123456789012:function:idp:live"),
			Metadata:              aws.String(metadata),
		},
	}
}

func TestUpdateFHIRDatastore(t *testing.T) {
	ctx := context.Background()

	t.Run("the request is a SigV4-signed JSON 1.0 UpdateFHIRDatastore carrying the full configuration", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{})
		c := newClient(fake, 3)
		id := activeDatastore(t, ctx, c)

		out, err := healthlakeapi.UpdateFHIRDatastore(ctx, c, updateInput(id))
		require.NoError(t, err)
		assert.Equal(t, "UPDATING", string(out.DatastoreProperties.DatastoreStatus))
		assert.Equal(t, "after", aws.ToString(out.DatastoreProperties.DatastoreName))

		reqs := fake.Requests("UpdateFHIRDatastore")
		require.Len(t, reqs, 1)
		assert.Equal(t, map[string]any{
			"DatastoreId":   id,
			"DatastoreName": "after",
			"IdentityProviderConfiguration": map[string]any{
				"AuthorizationStrategy":           "SMART_ON_FHIR_V1",
				"FineGrainedAuthorizationEnabled": false, // sent, not omitted: omitted fields are cleared
				"IdpLambdaArn":                    "arn:aws:lambda:us-east-1:123456789012:function:idp:live",
				"Metadata":                        metadata,
			},
		}, reqs[0].Body)
		assert.Contains(t, reqs[0].Authorization, "Credential=AKIDTEST/")
		assert.Contains(t, reqs[0].Authorization, "/us-east-1/healthlake/aws4_request")

		got, _ := fake.Datastore(id)
		assert.False(t, got.IdentityProvider.FineGrainedAuthorizationEnabled)
	})

	t.Run("AWS_ENDPOINT_URL_HEALTHLAKE from the environment reaches the hand-built operation", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{Region: "eu-west-1"})
		dir := t.TempDir()
		t.Setenv("AWS_ENDPOINT_URL_HEALTHLAKE", fake.URL())
		t.Setenv("AWS_ENDPOINT_URL", "")
		os.Unsetenv("AWS_ENDPOINT_URL")
		t.Setenv("AWS_REGION", "eu-west-1")
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
		t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")

		cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(fastRetryer(3)))
		require.NoError(t, err)
		c := healthlake.NewFromConfig(cfg)
		id := activeDatastore(t, ctx, c)

		_, err = healthlakeapi.UpdateFHIRDatastore(ctx, c, updateInput(id))
		require.NoError(t, err)
		reqs := fake.Requests("UpdateFHIRDatastore")
		require.Len(t, reqs, 1)
		assert.Contains(t, reqs[0].Authorization, "Credential=AKIDENV/")
		assert.Contains(t, reqs[0].Authorization, "/eu-west-1/healthlake/aws4_request")
	})

	t.Run("a ConflictException is retried by the SDK until HealthLake accepts the update", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{})
		c := newClient(fake, 4)
		id := activeDatastore(t, ctx, c)
		fake.Faults.Add(fault.Rule{Op: "UpdateFHIRDatastore", Kind: fault.Conflict, Times: 2})

		_, err := healthlakeapi.UpdateFHIRDatastore(ctx, c, updateInput(id))
		require.NoError(t, err)
		assert.Len(t, fake.Requests("UpdateFHIRDatastore"), 3)
	})

	t.Run("throttling is retried by the SDK", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{})
		c := newClient(fake, 4)
		id := activeDatastore(t, ctx, c)
		fake.Faults.Add(fault.Rule{Op: "UpdateFHIRDatastore", Kind: fault.Throttle})

		_, err := healthlakeapi.UpdateFHIRDatastore(ctx, c, updateInput(id))
		require.NoError(t, err)
		assert.Len(t, fake.Requests("UpdateFHIRDatastore"), 2)
	})

	t.Run("a ConflictException that outlasts the retries arrives as the typed error", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{})
		c := newClient(fake, 2)
		id := activeDatastore(t, ctx, c)
		fake.Faults.Add(fault.Rule{Op: "UpdateFHIRDatastore", Kind: fault.Conflict, Times: 5})

		_, err := healthlakeapi.UpdateFHIRDatastore(ctx, c, updateInput(id))
		var conflict *types.ConflictException
		require.True(t, errors.As(err, &conflict), "got %v", err)
		assert.Len(t, fake.Requests("UpdateFHIRDatastore"), 2)
	})

	t.Run("an unknown data store arrives as ResourceNotFoundException", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{})
		_, err := healthlakeapi.UpdateFHIRDatastore(ctx, newClient(fake, 3), updateInput("0123456789abcdef0123456789abcdef"))
		var notFound *types.ResourceNotFoundException
		assert.True(t, errors.As(err, &notFound), "got %v", err)
	})

	t.Run("a missing DatastoreId is refused before anything is sent", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{})
		_, err := healthlakeapi.UpdateFHIRDatastore(ctx, newClient(fake, 3), &healthlakeapi.UpdateFHIRDatastoreInput{})
		assert.ErrorContains(t, err, "DatastoreId is required")
		assert.Empty(t, fake.Requests())
	})
}

func TestNewRetryer(t *testing.T) {
	r := healthlakeapi.NewRetryer()
	t.Run("ConflictException and throttling are retryable", func(t *testing.T) {
		assert.True(t, r.IsErrorRetryable(&types.ConflictException{}))
		assert.True(t, r.IsErrorRetryable(&types.ThrottlingException{}))
	})
	t.Run("validation and not-found errors are not retried", func(t *testing.T) {
		assert.False(t, r.IsErrorRetryable(&types.ValidationException{}))
		assert.False(t, r.IsErrorRetryable(&types.ResourceNotFoundException{}))
	})
	t.Run("the attempt budget covers an update that is still running", func(t *testing.T) {
		assert.Equal(t, healthlakeapi.DefaultMaxAttempts, r.MaxAttempts())
	})
}
