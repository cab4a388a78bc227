package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/healthlake"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakecloudformation"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakehealthlake"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// newHandler's clients come from the environment, as in Lambda, and each honours
// its own endpoint override.
func TestNewHandlerHonoursEndpointOverrides(t *testing.T) {
	ctx := context.Background()
	hl := fakehealthlake.New(t, fakehealthlake.Options{PollsToSettle: 1})
	cfn := fakecloudformation.New(t, "us-east-1")
	const stackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/FhirStack/1e2b5f10-8c5e-11ef-9d3a-0a1b2c3d4e5f"
	cfn.PutStack(fakecloudformation.Stack{ID: stackID, Name: "FhirStack", Status: "ROLLBACK_IN_PROGRESS"})

	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_HEALTHLAKE":     hl.URL(),
		"AWS_ENDPOINT_URL_CLOUDFORMATION": cfn.URL(),
		"AWS_REGION":                      "us-east-1",
		"AWS_ACCESS_KEY_ID":               "AKIDTEST",
		"AWS_SECRET_ACCESS_KEY":           "test-secret",
		"AWS_SESSION_TOKEN":               "",
		"AWS_PROFILE":                     "",
		"AWS_CONFIG_FILE":                 filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":     filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED":       "true",
	} {
		t.Setenv(k, v)
	}

	// An ACTIVE data store, made directly.
	c := healthlake.New(healthlake.Options{Region: "us-east-1", BaseEndpoint: aws.String(hl.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", "")})
	out, err := c.CreateFHIRDatastore(ctx, &healthlake.CreateFHIRDatastoreInput{DatastoreTypeVersion: types.FHIRVersionR4, DatastoreName: aws.String("a")})
	require.NoError(t, err)
	id := aws.ToString(out.DatastoreId)
	for range 2 {
		_, err = c.DescribeFHIRDatastore(ctx, &healthlake.DescribeFHIRDatastoreInput{DatastoreId: out.DatastoreId})
		require.NoError(t, err)
	}
	d, _ := hl.Datastore(id)
	require.Equal(t, "ACTIVE", d.Status)

	h, err := newHandler(ctx, slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)))
	require.NoError(t, err)
	_, err = h.OnEvent(ctx, customresource.Event{
		RequestType: customresource.Delete, RequestID: "r", StackID: stackID, LogicalResourceID: "Datastore",
		PhysicalResourceID: id, ResourceProperties: map[string]any{datastoreprops.PropRemovalPolicy: string(datastoreprops.Retain)},
	})
	require.NoError(t, err)

	stacks := cfn.Requests("DescribeStacks")
	require.Len(t, stacks, 1)
	assert.Equal(t, stackID, stacks[0].Form.Get("StackName"))
	assert.Len(t, hl.Requests("DeleteFHIRDatastore"), 1, "a rolled-back first creation's data store is deleted")
}
