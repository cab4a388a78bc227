package fakehealthlake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakehealthlake"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/healthlakeapi"
)

// These tests pin the protocol details the handler tests rely on, through the
// real SDK client.
func TestFake(t *testing.T) {
	ctx := context.Background()
	newClient := func(fake *fakehealthlake.Server, creds aws.CredentialsProvider) *healthlake.Client {
		return healthlake.New(healthlake.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(fake.URL()), Credentials: creds,
			RetryMaxAttempts: 1,
		})
	}
	static := credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")

	t.Run("statuses move over polls and List filters by status", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{PollsToSettle: 1})
		c := newClient(fake, static)
		out, err := c.CreateFHIRDatastore(ctx, &healthlake.CreateFHIRDatastoreInput{DatastoreTypeVersion: types.FHIRVersionR4, DatastoreName: aws.String("a")})
		require.NoError(t, err)
		assert.Equal(t, types.DatastoreStatusCreating, out.DatastoreStatus)

		var seen []types.DatastoreStatus
		for range 2 {
			d, err := c.DescribeFHIRDatastore(ctx, &healthlake.DescribeFHIRDatastoreInput{DatastoreId: out.DatastoreId})
			require.NoError(t, err)
			seen = append(seen, d.DatastoreProperties.DatastoreStatus)
		}
		assert.Equal(t, []types.DatastoreStatus{"CREATING", "ACTIVE"}, seen)

		list, err := c.ListFHIRDatastores(ctx, &healthlake.ListFHIRDatastoresInput{Filter: &types.DatastoreFilter{DatastoreStatus: types.DatastoreStatusActive}})
		require.NoError(t, err)
		require.Len(t, list.DatastorePropertiesList, 1)
		assert.Equal(t, aws.ToString(out.DatastoreId), aws.ToString(list.DatastorePropertiesList[0].DatastoreId))
	})

	t.Run("a delayed update shows nothing for N polls, then UPDATING, then ACTIVE", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{PollsToSettle: 1})
		c := newClient(fake, static)
		idp := func(issuer string) *types.IdentityProviderConfiguration {
			return &types.IdentityProviderConfiguration{AuthorizationStrategy: types.AuthorizationStrategyAwsAuth, Metadata: aws.String(issuer)}
		}
		out, err := c.CreateFHIRDatastore(ctx, &healthlake.CreateFHIRDatastoreInput{
			DatastoreTypeVersion: types.FHIRVersionR4, DatastoreName: aws.String("a"), IdentityProviderConfiguration: idp(`"old"`)})
		require.NoError(t, err)
		describe := func() *types.DatastoreProperties {
			d, err := c.DescribeFHIRDatastore(ctx, &healthlake.DescribeFHIRDatastoreInput{DatastoreId: out.DatastoreId})
			require.NoError(t, err)
			return d.DatastoreProperties
		}
		describe()
		require.Equal(t, types.DatastoreStatusActive, describe().DatastoreStatus)

		fake.DelayNextUpdate(2)
		_, err = healthlakeapi.UpdateFHIRDatastore(ctx, c, &healthlakeapi.UpdateFHIRDatastoreInput{
			DatastoreId: out.DatastoreId, DatastoreName: aws.String("b"), IdentityProviderConfiguration: idp(`"new"`)})
		require.NoError(t, err)
		_, err = healthlakeapi.UpdateFHIRDatastore(ctx, c, &healthlakeapi.UpdateFHIRDatastoreInput{DatastoreId: out.DatastoreId})
		assert.ErrorContains(t, err, "ConflictException", "an accepted update is under way even while invisible")

		var seen []string
		for range 4 {
			p := describe()
			seen = append(seen, string(p.DatastoreStatus)+" "+aws.ToString(p.DatastoreName)+" "+aws.ToString(p.IdentityProviderConfiguration.Metadata))
		}
		assert.Equal(t, []string{`ACTIVE a "old"`, `ACTIVE a "old"`, `UPDATING b "new"`, `ACTIVE b "new"`}, seen)
	})

	t.Run("with ImmediateIdentityUpdates a name or IdP change shows at once and leaves the status alone", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{PollsToSettle: 1, ImmediateIdentityUpdates: true})
		c := newClient(fake, static)
		idp := func(issuer string) *types.IdentityProviderConfiguration {
			return &types.IdentityProviderConfiguration{AuthorizationStrategy: types.AuthorizationStrategyAwsAuth, Metadata: aws.String(issuer)}
		}
		out, err := c.CreateFHIRDatastore(ctx, &healthlake.CreateFHIRDatastoreInput{
			DatastoreTypeVersion: types.FHIRVersionR4, DatastoreName: aws.String("a"), IdentityProviderConfiguration: idp(`"old"`)})
		require.NoError(t, err)
		id := aws.ToString(out.DatastoreId)
		describe := func() string {
			d, err := c.DescribeFHIRDatastore(ctx, &healthlake.DescribeFHIRDatastoreInput{DatastoreId: out.DatastoreId})
			require.NoError(t, err)
			p := d.DatastoreProperties
			cause := ""
			if p.ErrorCause != nil {
				cause = " (" + aws.ToString(p.ErrorCause.ErrorMessage) + ")"
			}
			return string(p.DatastoreStatus) + " " + aws.ToString(p.DatastoreName) + " " + aws.ToString(p.IdentityProviderConfiguration.Metadata) + cause
		}
		update := func(name, issuer string) error {
			_, err := healthlakeapi.UpdateFHIRDatastore(ctx, c, &healthlakeapi.UpdateFHIRDatastoreInput{
				DatastoreId: out.DatastoreId, DatastoreName: aws.String(name), IdentityProviderConfiguration: idp(issuer)})
			return err
		}
		describe()
		require.Equal(t, `ACTIVE a "old"`, describe())

		require.NoError(t, update("b", `"new"`))
		assert.Equal(t, `ACTIVE b "new"`, describe(), "applied at once, no UPDATING")

		require.True(t, fake.MarkUpdateFailed(id, "NLP change failed"))
		assert.Equal(t, `UPDATE_FAILED b "new" (NLP change failed)`, describe())
		require.NoError(t, update("c", `"newer"`))
		assert.Equal(t, `UPDATE_FAILED c "newer" (NLP change failed)`, describe(), "the status and its ErrorCause stay")

		fake.DelayNextUpdate(1)
		require.NoError(t, update("d", `"newest"`))
		assert.Equal(t, []string{`UPDATE_FAILED c "newer" (NLP change failed)`, `UPDATE_FAILED d "newest" (NLP change failed)`},
			[]string{describe(), describe()}, "a delayed update still shows late")

		fake.FailNextUpdate("IdpLambdaArn is not invokable")
		err = update("e", `"refused"`)
		var invalid *types.ValidationException
		require.ErrorAs(t, err, &invalid)
		assert.Contains(t, err.Error(), "IdpLambdaArn is not invokable")
		assert.Equal(t, `UPDATE_FAILED d "newest" (NLP change failed)`, describe())
		assert.False(t, fake.MarkUpdateFailed("0123456789abcdef0123456789abcdef", "x"))
	})

	t.Run("tags and IdpLambdaArn outside the API's constraints are refused with a ValidationException", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{})
		c := newClient(fake, static)
		tag := func(k, v string) []types.Tag { return []types.Tag{{Key: aws.String(k), Value: aws.String(v)}} }
		create := func(tags []types.Tag, idpARN string) error {
			_, err := c.CreateFHIRDatastore(ctx, &healthlake.CreateFHIRDatastoreInput{
				DatastoreTypeVersion: types.FHIRVersionR4, DatastoreName: aws.String("a"), Tags: tags,
				IdentityProviderConfiguration: &types.IdentityProviderConfiguration{
					AuthorizationStrategy: types.AuthorizationStrategySmartOnFhir, Metadata: aws.String(`{}`), IdpLambdaArn: aws.String(idpARN)},
			})
			return err
		}
		const goodARN = "arn:aws:lambda:us-east-1:123456789012:function:smart-idp:live"
		refused := func(err error, contains string) {
			t.Helper()
			var invalid *types.ValidationException
			require.ErrorAs(t, err, &invalid)
			assert.Contains(t, err.Error(), contains)
		}

		refused(create(tag("team", "x!"), goodARN), "Value 'x!' at 'tags.1.member.value' failed to satisfy constraint")
		refused(create(tag("a,b", "x"), goodARN), "at 'tags.1.member.key'")
		refused(create(nil, "arn:aws:lambda:us-gov-west-1:123456789012:function:smart-idp"), "idpLambdaArn")
		refused(create(nil, "arn:aws:lambda:us-east-1:123456789012:function:a"), "length between 49 and 256")
		assert.Empty(t, fake.Datastores())

		require.NoError(t, create(tag("Zürich team", "Grüße ４２ a.b_c:d/e=f+g-h@i"), goodARN))
		arn := aws.String(fake.Datastores()[0].ARN)
		_, err := c.TagResource(ctx, &healthlake.TagResourceInput{ResourceARN: arn, Tags: tag("owner", "ops;dev")})
		refused(err, "at 'tags.1.member.value'")
		_, err = c.TagResource(ctx, &healthlake.TagResourceInput{ResourceARN: arn, Tags: tag("aws:x", "y")})
		refused(err, "reserved")
		_, err = c.UntagResource(ctx, &healthlake.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"ok", "x!"}})
		refused(err, "at 'tagKeys.2.member'")
		assert.Equal(t, map[string]string{"Zürich team": "Grüße ４２ a.b_c:d/e=f+g-h@i"}, fake.Datastores()[0].Tags)
	})

	t.Run("errors arrive as the SDK's typed errors", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{})
		c := newClient(fake, static)
		_, err := c.DescribeFHIRDatastore(ctx, &healthlake.DescribeFHIRDatastoreInput{DatastoreId: aws.String("0123456789abcdef0123456789abcdef")})
		var notFound *types.ResourceNotFoundException
		assert.True(t, errors.As(err, &notFound), "got %v", err)

		fake.Faults.Add(fault.Rule{Op: "ListFHIRDatastores", Kind: fault.Throttle})
		_, err = c.ListFHIRDatastores(ctx, &healthlake.ListFHIRDatastoresInput{})
		var throttled *types.ThrottlingException
		assert.True(t, errors.As(err, &throttled), "got %v", err)
		assert.Equal(t, "ThrottlingException", fake.Requests("ListFHIRDatastores")[0].ErrorCode)
	})

	t.Run("each injected kind of fault is HealthLake's error for it, with the status the retryer needs", func(t *testing.T) {
		for kind, want := range map[fault.Kind]struct {
			code   string
			status int
		}{
			fault.ServerError: {"InternalServerException", 500},
			fault.Throttle:    {"ThrottlingException", 400},
			fault.Invalid:     {"ValidationException", 400},
			fault.Denied:      {"AccessDeniedException", 403},
			fault.NotFound:    {"ResourceNotFoundException", 404},
			fault.Conflict:    {"ConflictException", 409},
		} {
			fake := fakehealthlake.New(t, fakehealthlake.Options{})
			fake.Faults.Add(fault.Rule{Op: "ListFHIRDatastores", Kind: kind})
			_, err := newClient(fake, static).ListFHIRDatastores(ctx, &healthlake.ListFHIRDatastoresInput{})
			var re *awshttp.ResponseError
			require.True(t, errors.As(err, &re), "%s: got %v", kind, err)
			assert.Equal(t, want.status, re.HTTPStatusCode(), kind)
			var ae smithy.APIError
			require.True(t, errors.As(err, &ae), "%s: got %v", kind, err)
			assert.Equal(t, want.code, ae.ErrorCode(), kind)
		}
	})

	t.Run("List pages with NextToken, honours MaxResults and the created-after filter, and lists DELETED data stores", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{PollsToSettle: 1, ListPageSize: 2})
		c := newClient(fake, static)
		var ids []string
		for range 5 {
			out, err := c.CreateFHIRDatastore(ctx, &healthlake.CreateFHIRDatastoreInput{DatastoreTypeVersion: types.FHIRVersionR4})
			require.NoError(t, err)
			ids = append(ids, aws.ToString(out.DatastoreId))
		}
		fake.Forget(ids[4])

		var listed []string
		pages := healthlake.NewListFHIRDatastoresPaginator(c, &healthlake.ListFHIRDatastoresInput{})
		for n := 0; pages.HasMorePages(); n++ {
			page, err := pages.NextPage(ctx)
			require.NoError(t, err)
			assert.LessOrEqual(t, len(page.DatastorePropertiesList), 2)
			for _, p := range page.DatastorePropertiesList {
				listed = append(listed, aws.ToString(p.DatastoreId))
			}
		}
		assert.Equal(t, ids[:4], listed)
		assert.Len(t, fake.Requests("ListFHIRDatastores"), 2)

		one, err := c.ListFHIRDatastores(ctx, &healthlake.ListFHIRDatastoresInput{MaxResults: aws.Int32(1)})
		require.NoError(t, err)
		assert.Len(t, one.DatastorePropertiesList, 1)
		assert.NotEmpty(t, aws.ToString(one.NextToken))

		_, err = c.ListFHIRDatastores(ctx, &healthlake.ListFHIRDatastoresInput{MaxResults: aws.Int32(501)})
		assert.ErrorContains(t, err, "ValidationException")
		_, err = c.ListFHIRDatastores(ctx, &healthlake.ListFHIRDatastoresInput{NextToken: aws.String("made-up")})
		assert.ErrorContains(t, err, "ValidationException")

		future, err := c.ListFHIRDatastores(ctx, &healthlake.ListFHIRDatastoresInput{
			Filter: &types.DatastoreFilter{CreatedAfter: aws.Time(time.Now().Add(time.Hour))}})
		require.NoError(t, err)
		assert.Empty(t, future.DatastorePropertiesList)
	})

	t.Run("a CREATING data store cannot be deleted, and tag calls need a data store ARN", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{PollsToSettle: 1})
		c := newClient(fake, static)
		out, err := c.CreateFHIRDatastore(ctx, &healthlake.CreateFHIRDatastoreInput{DatastoreTypeVersion: types.FHIRVersionR4})
		require.NoError(t, err)
		_, err = c.DeleteFHIRDatastore(ctx, &healthlake.DeleteFHIRDatastoreInput{DatastoreId: out.DatastoreId})
		var conflict *types.ConflictException
		assert.True(t, errors.As(err, &conflict), "got %v", err)

		_, err = c.ListTagsForResource(ctx, &healthlake.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/short")})
		var invalid *types.ValidationException
		assert.True(t, errors.As(err, &invalid), "got %v", err)
		_, err = c.CreateFHIRDatastore(ctx, &healthlake.CreateFHIRDatastoreInput{DatastoreTypeVersion: types.FHIRVersionR4, ClientToken: aws.String("not_valid")})
		assert.True(t, errors.As(err, &invalid), "got %v", err)
	})

	t.Run("unsigned requests are refused", func(t *testing.T) {
		fake := fakehealthlake.New(t, fakehealthlake.Options{})
		c := newClient(fake, aws.AnonymousCredentials{})
		_, err := c.ListFHIRDatastores(ctx, &healthlake.ListFHIRDatastoresInput{})
		assert.ErrorContains(t, err, "MissingAuthenticationTokenException")
	})
}
