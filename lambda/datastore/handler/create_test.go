package handler

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
)

func TestCreate(t *testing.T) {
	t.Run("a new data store is created with the full SMART configuration and polled until ACTIVE", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)

		o := x.run(e)
		require.NoError(t, o.err)
		assert.Equal(t, pollsToSettle+1, o.polls, "CREATING for %d polls, then ACTIVE", pollsToSettle)

		reqs := x.fake.Requests("CreateFHIRDatastore")
		require.Len(t, reqs, 1)
		body := reqs[0].Body
		assert.Equal(t, "R4", body["DatastoreTypeVersion"])
		assert.Equal(t, "patients-prod", body["DatastoreName"])
		assert.Regexp(t, regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`), body["ClientToken"])
		assert.Equal(t, map[string]any{"KmsEncryptionConfig": map[string]any{"CmkType": "AWS_OWNED_KMS_KEY"}}, body["SseConfiguration"])
		assert.NotContains(t, body, "PreloadDataConfig")
		// The user's tags, and the handler's own, naming the resource and the
		// request that created the data store.
		assert.ElementsMatch(t, []any{
			map[string]any{"Key": "env", "Value": "prod"},
			map[string]any{"Key": "team", "Value": "fhir"},
			map[string]any{"Key": "smart-healthlake:stack-id", "Value": testStackID},
			map[string]any{"Key": "smart-healthlake:logical-id", "Value": e.LogicalResourceID},
			map[string]any{"Key": "smart-healthlake:request-id", "Value": e.RequestID},
			map[string]any{"Key": "smart-healthlake:request-type", "Value": "Create"},
		}, body["Tags"])

		idp := body["IdentityProviderConfiguration"].(map[string]any)
		assert.Equal(t, "SMART_ON_FHIR", idp["AuthorizationStrategy"])
		assert.Equal(t, true, idp["FineGrainedAuthorizationEnabled"])
		assert.Equal(t, "arn:aws:lambda:us-east-1:123456789012:function:smart-idp:live", idp["IdpLambdaArn"])
		meta := idp["Metadata"].(string)
		assert.NoError(t, smartmeta.Validate([]byte(meta), smart.V2))
		var doc smartmeta.Document
		require.NoError(t, json.Unmarshal([]byte(meta), &doc))
		assert.Equal(t, "https://example.okta.com/oauth2/aus1", doc.Issuer)
		assert.Equal(t, "https://example.okta.com/oauth2/aus1/v1/introspect", doc.IntrospectionEndpoint)
		assert.Contains(t, doc.Capabilities, "permission-v2")
		assert.Equal(t, []string{"openid", "fhirUser", "launch/patient", "offline_access", "patient/*.read"}, doc.ScopesSupported)

		d := x.datastore(o.id)
		assert.Equal(t, "ACTIVE", d.Status)
		assert.Equal(t, map[string]any{
			datastoreprops.AttrDatastoreID:           d.ID,
			datastoreprops.AttrDatastoreArn:          d.ARN,
			datastoreprops.AttrDatastoreEndpoint:     d.Endpoint,
			datastoreprops.AttrSmartConfigurationURL: d.Endpoint + ".well-known/smart-configuration",
		}, o.data)
	})

	t.Run("a customer-managed key and the Synthea preload are passed to HealthLake", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)
		e.ResourceProperties["KmsKeyArn"] = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		e.ResourceProperties["PreloadSynthea"] = "true"

		x.mustRun(e)
		body := x.fake.Requests("CreateFHIRDatastore")[0].Body
		assert.Equal(t, map[string]any{"KmsEncryptionConfig": map[string]any{
			"CmkType":  "CUSTOMER_MANAGED_KMS_KEY",
			"KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		}}, body["SseConfiguration"])
		assert.Equal(t, map[string]any{"PreloadDataType": "SYNTHEA"}, body["PreloadDataConfig"])
	})

	t.Run("a retried Create sends the same ClientToken and makes one data store", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)

		first, err := x.h.OnEvent(x.ctx, e)
		require.NoError(t, err)
		second, err := x.h.OnEvent(x.ctx, e)
		require.NoError(t, err)

		assert.Equal(t, first.PhysicalResourceID, second.PhysicalResourceID)
		reqs := x.fake.Requests("CreateFHIRDatastore")
		require.Len(t, reqs, 2)
		assert.Equal(t, reqs[0].Body["ClientToken"], reqs[1].Body["ClientToken"])
		assert.Len(t, x.fake.Datastores(), 1)
	})

	t.Run("another request for the same resource gets another ClientToken", func(t *testing.T) {
		a := createEvent(t)
		b := a
		b.RequestID = "another-request"
		assert.NotEqual(t, clientToken(a), clientToken(b))
		assert.Len(t, clientToken(a), 64)
	})

	t.Run("throttling on create is retried by the SDK, not failed", func(t *testing.T) {
		x := newHarness(t)
		x.fake.Faults.Add(fault.Rule{Op: "CreateFHIRDatastore", Kind: fault.Throttle, Times: 2})
		x.fake.Faults.Add(fault.Rule{Op: "DescribeFHIRDatastore", Kind: fault.Throttle})

		x.mustRun(createEvent(t))
		assert.Len(t, x.fake.Requests("CreateFHIRDatastore"), 3)
		assert.Len(t, x.fake.Datastores(), 1)
	})

	t.Run("a creation that fails reports HealthLake's ErrorCause", func(t *testing.T) {
		x := newHarness(t)
		x.fake.FailNextCreate("KMS key is not accessible by HealthLake")

		o := x.run(createEvent(t))
		require.Error(t, o.err)
		assert.Contains(t, o.err.Error(), "CREATE_FAILED")
		assert.Contains(t, o.err.Error(), "KMS key is not accessible by HealthLake")
	})

	t.Run("bad properties fail before anything is sent", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)
		e.ResourceProperties["TokenEndpoint"] = "http://example.okta.com/token"

		o := x.run(e)
		var perr *cfnprops.PropertyError
		require.ErrorAs(t, o.err, &perr)
		assert.Equal(t, datastoreprops.PropTokenEndpoint, perr.Property)
		assert.Empty(t, x.fake.Requests())
	})

	t.Run("an IdP Lambda outside the commercial partition fails before anything is sent; the service refuses it too", func(t *testing.T) {
		x := newHarness(t)
		e := createEvent(t)
		const govARN = "arn:aws:lambda:us-gov-west-1:123456789012:function:smart-idp:live"
		e.ResourceProperties[datastoreprops.PropIdpLambdaArn] = govARN

		o := x.run(e)
		var perr *cfnprops.PropertyError
		require.ErrorAs(t, o.err, &perr)
		assert.Equal(t, datastoreprops.PropIdpLambdaArn, perr.Property)
		assert.Contains(t, o.err.Error(), "HealthLake accepts commercial-partition function ARNs only")
		assert.Empty(t, x.fake.Requests())

		spec, err := ParseSpec(createEvent(t).ResourceProperties)
		require.NoError(t, err)
		spec.IdpLambdaARN = govARN
		_, err = x.h.client.CreateFHIRDatastore(x.ctx, createInput(spec, "token"))
		var invalid *types.ValidationException
		require.ErrorAs(t, err, &invalid)
	})

	t.Run("the response stays far under CloudFormation's 4 KB and holds only the four attributes", func(t *testing.T) {
		x := newHarness(t)
		o := x.mustRun(createEvent(t))

		// What the framework sends on: status fields, the physical id and the Data.
		raw, err := json.Marshal(map[string]any{
			"Status": "SUCCESS", "Reason": "OK", "PhysicalResourceId": o.id,
			"StackId": createEvent(t).StackID, "RequestId": createEvent(t).RequestID,
			"LogicalResourceId": createEvent(t).LogicalResourceID, "Data": o.data,
		})
		require.NoError(t, err)
		assert.Less(t, len(raw), cfnprops.MaxResponseBytes/4)
		assert.Len(t, o.data, 4)
	})

	t.Run("the log never contains the pre-signed ResponseURL", func(t *testing.T) {
		x := newHarness(t)
		x.mustRun(createEvent(t))
		assert.NotContains(t, x.logs.String(), "SECRETSIGNATURE")
		assert.NotContains(t, x.logs.String(), "test-secret")
		assert.Contains(t, x.logs.String(), `"requestType":"Create"`)
	})
}
