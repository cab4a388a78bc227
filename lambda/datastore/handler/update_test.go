package handler

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/internal/fakehealthlake"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
	"github.com/openhealthstack/smart-healthlake/lambda/internal/customresource"
)

// assertConfigured checks the data store carries the name and the complete
// identity-provider configuration the properties describe.
func assertConfigured(t *testing.T, x *harness, id string, props map[string]any) {
	t.Helper()
	want, err := ParseSpec(props)
	require.NoError(t, err)
	d := x.datastore(id)
	assert.Equal(t, want.Name, d.Name)
	require.NotNil(t, d.IdentityProvider)
	assert.Equal(t, string(want.Strategy), d.IdentityProvider.AuthorizationStrategy)
	assert.Equal(t, want.FineGrained, d.IdentityProvider.FineGrainedAuthorizationEnabled)
	assert.Equal(t, want.IdpLambdaARN, d.IdentityProvider.IdpLambdaArn)
	assert.JSONEq(t, want.Metadata, d.IdentityProvider.Metadata)
}

func TestUpdateInPlace(t *testing.T) {
	cases := []struct {
		setting string
		edit    func(map[string]any)
	}{
		{"the authorization strategy", func(p map[string]any) { p[datastoreprops.PropAuthorizationStrategy] = "SMART_ON_FHIR_V1" }},
		{"fine-grained authorization", func(p map[string]any) { p[datastoreprops.PropFineGrainedAuthorization] = "false" }},
		{"the IdP Lambda ARN", func(p map[string]any) {
			p[datastoreprops.PropIdpLambdaArn] = "arn:aws:lambda:us-east-1:123456789012:function:smart-idp-v2:live"
		}},
		{"the issuer", func(p map[string]any) { p[datastoreprops.PropIssuer] = "https://example.okta.com/oauth2/aus2" }},
		{"the JWKS URI", func(p map[string]any) { p[datastoreprops.PropJwksUri] = "https://example.okta.com/oauth2/aus2/v1/keys" }},
		{"the authorization endpoint", func(p map[string]any) {
			p[datastoreprops.PropAuthorizationEndpoint] = "https://example.okta.com/oauth2/aus2/v1/authorize"
		}},
		{"the token endpoint", func(p map[string]any) {
			p[datastoreprops.PropTokenEndpoint] = "https://example.okta.com/oauth2/aus2/v1/token"
		}},
		{"the introspection endpoint", func(p map[string]any) { delete(p, datastoreprops.PropIntrospectionEndpoint) }},
		{"the revocation endpoint", func(p map[string]any) {
			p[datastoreprops.PropRevocationEndpoint] = "https://example.okta.com/oauth2/aus2/v1/revoke"
		}},
		{"the management endpoint", func(p map[string]any) { p[datastoreprops.PropManagementEndpoint] = "https://portal.example.org/apps" }},
		{"the supported scopes", func(p map[string]any) { p[datastoreprops.PropScopesSupported] = []any{"openid", "patient/*.rs"} }},
		{"the name", func(p map[string]any) { p[datastoreprops.PropDatastoreName] = "patients-production" }},
	}
	for _, tc := range cases {
		t.Run("a change of "+tc.setting+" is made in place with the full configuration", func(t *testing.T) {
			x := newHarness(t)
			created := createEvent(t)
			id := x.mustRun(created).id

			u := updateEvent(t, created, id, "update-1", tc.edit)
			o := x.run(u)
			require.NoError(t, o.err)

			assert.Equal(t, id, o.id, "physical id unchanged: no replacement")
			assert.Equal(t, pollsToSettle+1, o.polls, "UPDATING, then ACTIVE")
			assert.Len(t, x.fake.Requests("CreateFHIRDatastore"), 1)
			reqs := x.fake.Requests("UpdateFHIRDatastore")
			require.Len(t, reqs, 1)
			assert.Equal(t, id, reqs[0].Body["DatastoreId"])
			assert.Contains(t, reqs[0].Body, "DatastoreName")
			idp := reqs[0].Body["IdentityProviderConfiguration"].(map[string]any)
			assert.ElementsMatch(t, []string{"AuthorizationStrategy", "FineGrainedAuthorizationEnabled", "IdpLambdaArn", "Metadata"}, keys(idp))
			assertConfigured(t, x, id, u.ResourceProperties)
			assert.Equal(t, "ACTIVE", x.datastore(id).Status)
		})
	}

	t.Run("switching to SMART v1 withdraws permission-v2 from the metadata", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.mustRun(updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropAuthorizationStrategy] = "SMART_ON_FHIR_V1" }))
		meta := x.datastore(id).IdentityProvider.Metadata
		assert.NoError(t, smartmeta.Validate([]byte(meta), smart.V1))
		assert.NotContains(t, meta, "permission-v2")
	})

	t.Run("a change of datastoreprops.RemovalPolicy or AcknowledgeReplacement alone sends nothing to HealthLake", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id

		o := x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) {
			p[datastoreprops.PropRemovalPolicy] = "destroy"
			p[datastoreprops.PropAcknowledgeReplacement] = "true"
		}))
		require.NoError(t, o.err)
		assert.Equal(t, id, o.id)
		assert.Equal(t, 1, o.polls)
		assert.Empty(t, x.fake.Requests("UpdateFHIRDatastore", "TagResource", "UntagResource"))
		assert.Len(t, x.fake.Requests("CreateFHIRDatastore"), 1)
	})

	t.Run("a data store busy with another update is retried, not failed", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.fake.Faults.Add(fault.Rule{Op: "UpdateFHIRDatastore", Kind: fault.Conflict, Times: 2})

		o := x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropIssuer] = "https://example.okta.com/oauth2/aus2" }))
		require.NoError(t, o.err)
		assert.Len(t, x.fake.Requests("UpdateFHIRDatastore"), 3)
	})

	t.Run("an update HealthLake has not started at the first polls is not reported complete early", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		const lag = 2
		x.fake.DelayNextUpdate(lag)

		u := updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropIssuer] = "https://example.okta.com/oauth2/aus2" })
		o := x.run(u)
		require.NoError(t, o.err)
		assert.Equal(t, lag+pollsToSettle+1, o.polls, "ACTIVE with the old configuration, then UPDATING, then ACTIVE with the new one")
		assertConfigured(t, x, id, u.ResourceProperties)
		assert.Equal(t, "ACTIVE", x.datastore(id).Status)
		assert.Contains(t, x.logs.String(), `"msg":"waiting for data store: ACTIVE but the update is not applied yet"`)
		assert.Contains(t, x.logs.String(), `"datastoreId":"`+id+`","differs":["Metadata"]`)
	})

	t.Run("a late-starting update that HealthLake fails reports its ErrorCause", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.fake.DelayNextUpdate(2)
		x.fake.FailNextUpdate("IdP Lambda is not invokable by HealthLake")

		o := x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropDatastoreName] = "renamed" }))
		require.Error(t, o.err)
		assert.Equal(t, 2+pollsToSettle+1, o.polls)
		assert.Contains(t, o.err.Error(), "UPDATE_FAILED")
		assert.Contains(t, o.err.Error(), "IdP Lambda is not invokable by HealthLake")
	})

	t.Run("an update HealthLake fails reports its ErrorCause", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.fake.FailNextUpdate("IdP Lambda is not invokable by HealthLake")

		o := x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropIssuer] = "https://example.okta.com/oauth2/aus2" }))
		require.Error(t, o.err)
		assert.Contains(t, o.err.Error(), "UPDATE_FAILED")
		assert.Contains(t, o.err.Error(), "IdP Lambda is not invokable by HealthLake")
	})

	t.Run("an update of a data store that no longer exists fails saying so", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		x.fake.Forget(id)

		o := x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropIssuer] = "https://example.okta.com/oauth2/aus2" }))
		require.Error(t, o.err)
		assert.Contains(t, o.err.Error(), "not found")
	})
}

// TestUpdateAppliedImmediately runs updates against the model of the HealthLake
// Developer Guide ("Updating a HealthLake data store"): name and
// identity-provider changes take effect at once and do not change the status;
// only NLP/analytics changes go through UPDATING and UPDATE_FAILED.
func TestUpdateAppliedImmediately(t *testing.T) {
	newImmediate := func(t *testing.T) *harness {
		return newHarnessWith(t, fakehealthlake.Options{PollsToSettle: pollsToSettle, ImmediateIdentityUpdates: true})
	}
	const analyticsFailure = "Analytics could not be enabled: insufficient permissions"
	newIssuer := func(p map[string]any) { p[datastoreprops.PropIssuer] = "https://example.okta.com/oauth2/aus2" }

	t.Run("from ACTIVE an update completes at the first poll", func(t *testing.T) {
		x := newImmediate(t)
		created := createEvent(t)
		id := x.mustRun(created).id

		u := updateEvent(t, created, id, "update-1", newIssuer)
		o := x.run(u)
		require.NoError(t, o.err)
		assert.Equal(t, id, o.id)
		assert.Equal(t, 1, o.polls)
		assert.Equal(t, id, o.data[datastoreprops.AttrDatastoreID])
		assertConfigured(t, x, id, u.ResourceProperties)
		assert.Equal(t, "ACTIVE", x.datastore(id).Status)
		assert.Len(t, x.fake.Requests("UpdateFHIRDatastore"), 1)
		assert.NotContains(t, x.logs.String(), `"level":"WARN"`)
	})

	t.Run("from an UPDATE_FAILED left by another change, an update and its rollback complete with the ErrorCause as a warning", func(t *testing.T) {
		x := newImmediate(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		require.True(t, x.fake.MarkUpdateFailed(id, analyticsFailure))

		u := updateEvent(t, created, id, "update-1", newIssuer)
		o := x.run(u)
		require.NoError(t, o.err)
		assert.Equal(t, id, o.id)
		assert.Equal(t, 1, o.polls)
		assert.Equal(t, id, o.data[datastoreprops.AttrDatastoreID])
		assertConfigured(t, x, id, u.ResourceProperties)
		d := x.datastore(id)
		assert.Equal(t, "UPDATE_FAILED", d.Status, "HealthLake leaves the status alone")
		require.NotNil(t, d.ErrorCause)
		assert.Equal(t, analyticsFailure, d.ErrorCause.ErrorMessage)
		assert.Contains(t, x.logs.String(), `"level":"WARN","msg":"data store is UPDATE_FAILED from a change this stack does not make`)
		assert.Contains(t, x.logs.String(), `"errorCause":"`+analyticsFailure+` (NON_RETRYABLE_ERROR)"`)

		// A later failure in the stack: CloudFormation's rollback Update.
		o = x.run(rollbackOf(u, "rollback-1"))
		require.NoError(t, o.err)
		assert.Equal(t, 1, o.polls)
		assertConfigured(t, x, id, created.ResourceProperties)
		assert.Equal(t, "UPDATE_FAILED", x.datastore(id).Status)
		assert.Len(t, x.fake.Requests("UpdateFHIRDatastore"), 2)
	})

	t.Run("from an UPDATE_FAILED left by another change, an update of tags alone completes", func(t *testing.T) {
		x := newImmediate(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		require.True(t, x.fake.MarkUpdateFailed(id, analyticsFailure))

		o := x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) { p[datastoreprops.PropTags] = map[string]any{"team": "platform"} }))
		require.NoError(t, o.err)
		assert.Equal(t, 1, o.polls)
		assert.Equal(t, map[string]string{"team": "platform"}, x.userTags(id))
	})

	t.Run("UPDATE_FAILED with a configuration other than the requested one still fails with the ErrorCause", func(t *testing.T) {
		x := newImmediate(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		require.True(t, x.fake.MarkUpdateFailed(id, analyticsFailure))

		// isComplete for an update whose configuration the data store does not show.
		u := updateEvent(t, created, id, "update-1", newIssuer)
		_, err := x.h.IsComplete(x.ctx, customresource.IsCompleteEvent{Event: u})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "HealthLake data store "+id+" is UPDATE_FAILED: "+analyticsFailure)
		assert.NotContains(t, x.logs.String(), `"level":"WARN"`)
	})

	t.Run("a Create never accepts UPDATE_FAILED", func(t *testing.T) {
		x := newImmediate(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		require.True(t, x.fake.MarkUpdateFailed(id, analyticsFailure))

		_, err := x.h.IsComplete(x.ctx, customresource.IsCompleteEvent{Event: func() customresource.Event {
			e := created
			e.PhysicalResourceID = id
			return e
		}()})
		require.ErrorContains(t, err, "is UPDATE_FAILED: "+analyticsFailure)
	})
}

func TestUpdateFromUpdateFailedThroughUpdating(t *testing.T) {
	// The fake's default model: an update goes through UPDATING, which clears an
	// earlier UPDATE_FAILED even when the configuration was already as requested.
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
	}{
		{"a changed configuration", func(p map[string]any) { p[datastoreprops.PropIssuer] = "https://example.okta.com/oauth2/aus2" }},
		{"an unchanged configuration", func(p map[string]any) { p[datastoreprops.PropTags] = map[string]any{"team": "platform"} }},
	} {
		t.Run(tc.name+" is sent and the data store ends ACTIVE", func(t *testing.T) {
			x := newHarness(t)
			created := createEvent(t)
			id := x.mustRun(created).id
			require.True(t, x.fake.MarkUpdateFailed(id, "Analytics could not be enabled"))

			u := updateEvent(t, created, id, "update-1", tc.edit)
			o := x.run(u)
			require.NoError(t, o.err)
			assert.Equal(t, pollsToSettle+1, o.polls, "UPDATING, then ACTIVE")
			assertConfigured(t, x, id, u.ResourceProperties)
			assert.Equal(t, "ACTIVE", x.datastore(id).Status)
			assert.Len(t, x.fake.Requests("UpdateFHIRDatastore"), 1)
		})
	}
}

func TestImmutableChange(t *testing.T) {
	cmk := "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	cases := []struct {
		property, where string
		edit            func(map[string]any)
	}{
		{datastoreprops.PropKmsKeyArn, "cdk.json: datastore.encryption", func(p map[string]any) { p[datastoreprops.PropKmsKeyArn] = cmk }},
		{datastoreprops.PropPreloadSynthea, "cdk.json: datastore.preloadSynthea", func(p map[string]any) { p[datastoreprops.PropPreloadSynthea] = "true" }},
	}
	for _, tc := range cases {
		t.Run("a change of "+tc.property+" is refused with a message naming it and how to replace deliberately", func(t *testing.T) {
			x := newHarness(t)
			created := createEvent(t)
			id := x.mustRun(created).id
			before := x.datastore(id)

			o := x.run(updateEvent(t, created, id, "update-1", tc.edit))
			require.Error(t, o.err)
			msg := o.err.Error()
			assert.Contains(t, msg, "cannot change in place: "+tc.property+" (")
			assert.Contains(t, msg, "AcknowledgeReplacement to true")
			assert.Contains(t, msg, "EMPTY")
			assert.Contains(t, msg, "RemovalPolicy (now retain")
			// The handler's property names are not where users set them.
			assert.Contains(t, msg, tc.where)
			assert.Contains(t, msg, "cdk.json: datastore.acknowledgeReplacement")
			assert.Empty(t, x.fake.Requests("UpdateFHIRDatastore", "TagResource", "UntagResource"))
			assert.Len(t, x.fake.Requests("CreateFHIRDatastore"), 1)
			assert.Equal(t, before, x.datastore(id))
		})
	}

	t.Run("several immutable changes are all named", func(t *testing.T) {
		x := newHarness(t)
		created := createEvent(t)
		id := x.mustRun(created).id
		o := x.run(updateEvent(t, created, id, "update-1", func(p map[string]any) {
			p[datastoreprops.PropKmsKeyArn] = cmk
			p[datastoreprops.PropPreloadSynthea] = "true"
		}))
		require.Error(t, o.err)
		assert.Contains(t, o.err.Error(), "KmsKeyArn (an AWS-owned key now")
		assert.Contains(t, o.err.Error(), `PreloadSynthea ("false" now, "true" requested)`)
	})
}

func TestImmutableChanges(t *testing.T) {
	cmk := "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	alias := "arn:aws:kms:us-east-1:123456789012:alias/fhir"
	store := func(version string, key string, preload bool) *types.DatastoreProperties {
		p := &types.DatastoreProperties{DatastoreTypeVersion: types.FHIRVersion(version),
			SseConfiguration: &types.SseConfiguration{KmsEncryptionConfig: &types.KmsEncryptionConfig{CmkType: types.CmkTypeAoCmk}}}
		if key != "" {
			p.SseConfiguration.KmsEncryptionConfig = &types.KmsEncryptionConfig{CmkType: types.CmkTypeCmCmk, KmsKeyId: aws.String(key)}
		}
		if preload {
			p.PreloadDataConfig = &types.PreloadDataConfig{PreloadDataType: types.PreloadDataTypeSynthea}
		}
		return p
	}
	spec := func(version, key string, preload bool) Spec {
		return Spec{Version: types.FHIRVersion(version), Spec: datastoreprops.Spec{KMSKeyARN: key, PreloadSynthea: preload}}
	}
	ptr := func(s Spec) *Spec { return &s }

	cases := []struct {
		name    string
		old     *Spec
		want    Spec
		current *types.DatastoreProperties
		changed []string
	}{
		{"a FHIR version change is a change", ptr(spec("R5", "", false)), spec("R4", "", false), store("R5", "", false), []string{datastoreprops.PropFhirVersion}},
		{"a new key for an AWS-owned store is a change", ptr(spec("R4", "", false)), spec("R4", cmk, false), store("R4", "", false), []string{datastoreprops.PropKmsKeyArn}},
		{"going back to an AWS-owned key is a change", ptr(spec("R4", cmk, false)), spec("R4", "", false), store("R4", cmk, false), []string{datastoreprops.PropKmsKeyArn}},
		{"turning the preload off is a change", ptr(spec("R4", "", true)), spec("R4", "", false), store("R4", "", true), []string{datastoreprops.PropPreloadSynthea}},
		{"a key ARN reported as a bare key id is the same key", ptr(spec("R4", cmk, false)), spec("R4", cmk, false), store("R4", "1234abcd-12ab-34cd-56ef-1234567890ab", false), nil},
		{"an alias reported as its key, unchanged in the template, is no change", ptr(spec("R4", alias, false)), spec("R4", alias, false), store("R4", cmk, false), nil},
		{"a rollback whose properties match the data store is no change", ptr(spec("R4", cmk, true)), spec("R4", "", false), store("R4", "", false), nil},
		{"with unreadable old properties the data store decides", nil, spec("R4", cmk, false), store("R4", "", false), []string{datastoreprops.PropKmsKeyArn}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.changed, changedNamesOrNil(immutableChanges(tc.old, tc.want, tc.current)))
		})
	}
}

func changedNamesOrNil(c []change) []string {
	if len(c) == 0 {
		return nil
	}
	return changedNames(c)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
