package handler

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// minimalProperties holds only the required properties.
func minimalProperties() map[string]any {
	return map[string]any{
		datastoreprops.PropDatastoreName:         "patients",
		datastoreprops.PropIdpLambdaArn:          "arn:aws:lambda:us-east-1:123456789012:function:smart-idp",
		datastoreprops.PropIssuer:                "https://example.okta.com/oauth2/aus1",
		datastoreprops.PropJwksUri:               "https://example.okta.com/oauth2/aus1/v1/keys",
		datastoreprops.PropAuthorizationEndpoint: "https://example.okta.com/oauth2/aus1/v1/authorize",
		datastoreprops.PropTokenEndpoint:         "https://example.okta.com/oauth2/aus1/v1/token",
	}
}

func TestParseSpec(t *testing.T) {
	t.Run("defaults apply when optional properties are left out", func(t *testing.T) {
		s, err := ParseSpec(minimalProperties())
		require.NoError(t, err)
		assert.Equal(t, types.FHIRVersionR4, s.Version)
		assert.Equal(t, types.AuthorizationStrategySmartOnFhir, s.Strategy)
		assert.True(t, s.FineGrained)
		assert.Empty(t, s.KMSKeyARN)
		assert.False(t, s.PreloadSynthea)
		assert.Empty(t, s.Tags)
		assert.Equal(t, datastoreprops.Retain, s.RemovalPolicy)
		assert.False(t, s.AcknowledgeReplacement)
		assert.NotContains(t, s.Metadata, "introspection_endpoint")
	})

	t.Run("values may arrive as JSON types as well as CloudFormation strings", func(t *testing.T) {
		p := minimalProperties()
		p[datastoreprops.PropFineGrainedAuthorization] = false
		p[datastoreprops.PropPreloadSynthea] = true
		p[datastoreprops.PropRemovalPolicy] = "Destroy"
		s, err := ParseSpec(p)
		require.NoError(t, err)
		assert.False(t, s.FineGrained)
		assert.True(t, s.PreloadSynthea)
		assert.Equal(t, datastoreprops.Destroy, s.RemovalPolicy)
	})

	t.Run("the SMART document advertises what SmartSupport says the deployment serves", func(t *testing.T) {
		p := minimalProperties()
		p[datastoreprops.PropSupport] = []any{smart.FeatureBackendServices}
		s, err := ParseSpec(p)
		require.NoError(t, err)
		assert.Contains(t, s.Metadata, `"client_credentials"`)
		assert.Contains(t, s.Metadata, `"client-confidential-asymmetric"`)
		assert.NotContains(t, s.Metadata, `"launch-standalone"`)

		withoutSupport, err := ParseSpec(minimalProperties())
		require.NoError(t, err)
		assert.NotContains(t, withoutSupport.Metadata, `"client_credentials"`,
			"a stack deployed before SmartSupport existed advertises no backend services")
	})

	t.Run("an unknown SmartSupport feature fails naming the property", func(t *testing.T) {
		p := minimalProperties()
		p[datastoreprops.PropSupport] = []any{"launch-ehr"}
		_, err := ParseSpec(p)
		require.Error(t, err)
		assert.Contains(t, err.Error(), datastoreprops.PropSupport)
		assert.Contains(t, err.Error(), "launch-ehr")
	})

	t.Run("an alias-qualified IdP Lambda and a KMS alias are accepted", func(t *testing.T) {
		p := minimalProperties()
		p[datastoreprops.PropIdpLambdaArn] = "arn:aws:lambda:eu-west-1:123456789012:function:smart-idp:live"
		p[datastoreprops.PropKmsKeyArn] = "arn:aws:kms:eu-west-1:123456789012:alias/fhir-data"
		_, err := ParseSpec(p)
		assert.NoError(t, err)
	})

	// HealthLake's API pattern and length (49-256) for IdpLambdaArn.
	for _, arn := range []string{
		"arn:aws:lambda:us-east-1:123456789012:function:ab",                // 49 characters, the minimum
		"arn:aws:lambda:ap-southeast-2:123456789012:function:smart-idp",    // a long one-word region
		"arn:aws:lambda:us-east-1:123456789012:function:smart-idp:live",    // alias
		"arn:aws:lambda:us-east-1:123456789012:function:smart-idp:$LATEST", // $LATEST
		"arn:aws:lambda:us-east-1:123456789012:function:smart-idp:7",       // version
		"arn:aws:lambda:us-east-1:123456789012:function:smart_idp.v2-a:blue_green-1",
		"arn:aws:lambda:us-east-1:123456789012:function:" + strings.Repeat("f", 209), // 256 characters, the maximum
	} {
		t.Run("IdpLambdaArn accepted: "+arn[:min(len(arn), 80)], func(t *testing.T) {
			p := minimalProperties()
			p[datastoreprops.PropIdpLambdaArn] = arn
			s, err := ParseSpec(p)
			require.NoError(t, err)
			assert.Equal(t, arn, s.IdpLambdaARN)
		})
	}
	for _, tc := range []struct{ name, arn string }{
		{"a GovCloud partition and region", "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:smart-idp"},
		{"a multi-word region in the commercial partition", "arn:aws:lambda:us-gov-west-1:123456789012:function:smart-idp"},
		{"the China partition", "arn:aws-cn:lambda:cn-north-1:123456789012:function:smart-idp"},
		{"48 characters, under the minimum", "arn:aws:lambda:us-east-1:123456789012:function:a"},
		{"257 characters, over the maximum", "arn:aws:lambda:us-east-1:123456789012:function:" + strings.Repeat("f", 210)},
		{"a two-digit region number", "arn:aws:lambda:us-east-12:123456789012:function:smart-idp"},
		{"an 11-digit account", "arn:aws:lambda:us-east-1:12345678901:function:smart-idp"},
		{"a qualifier with a dot", "arn:aws:lambda:us-east-1:123456789012:function:smart-idp:v1.2"},
		{"two qualifiers", "arn:aws:lambda:us-east-1:123456789012:function:smart-idp:live:1"},
		{"a layer ARN", "arn:aws:lambda:us-east-1:123456789012:layer:smart-idp-layer:1"},
		{"trailing text", "arn:aws:lambda:us-east-1:123456789012:function:smart-idp "},
	} {
		t.Run("IdpLambdaArn refused: "+tc.name, func(t *testing.T) {
			p := minimalProperties()
			p[datastoreprops.PropIdpLambdaArn] = tc.arn
			_, err := ParseSpec(p)
			var perr *cfnprops.PropertyError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, datastoreprops.PropIdpLambdaArn, perr.Property)
			assert.Contains(t, err.Error(), "property IdpLambdaArn: ")
			assert.Contains(t, err.Error(), "commercial-partition function ARNs only")
			assert.Contains(t, err.Error(), "49-256 characters")
		})
	}

	t.Run("tags within HealthLake's constraints are accepted", func(t *testing.T) {
		p := minimalProperties()
		tags := map[string]any{
			"team":                        "fhir",
			"cost center":                 "",
			"app/owner@example.org":       "a.b_c:d/e=f+g-h@i",
			"Zürich-Kostenstelle":         "Grüße ４２",
			strings.Repeat("k", 128):      strings.Repeat("v", 256),
			strings.Repeat("é", 128):      strings.Repeat("ß", 256), // characters, not bytes
			"aws-is-fine-without-a-colon": "x",
		}
		p[datastoreprops.PropTags] = tags
		s, err := ParseSpec(p)
		require.NoError(t, err)
		assert.Len(t, s.Tags, len(tags))
	})
	for _, tc := range []struct {
		name, key, value string
		reason           string
	}{
		{"a comma in a key", "a,b", "x", `the key must be 1-128 letters, digits, spaces or _.:/=+-@, got "a,b"`},
		{"an exclamation mark in a value", "team", "x!", `the value must be 0-256 letters, digits, spaces or _.:/=+-@, got "x!"`},
		{"a newline in a value", "team", "a\nb", "the value must be 0-256"},
		{"a tab in a key", "a\tb", "x", "the key must be 1-128"},
		{"an empty key", "", "x", "the key must be 1-128"},
		{"a key of 129 characters", strings.Repeat("k", 129), "x", "the key must be 1-128"},
		{"a value of 257 characters", "team", strings.Repeat("v", 257), "the value must be 0-256"},
		{"a reserved aws: key", "aws:cloudformation:stack-name", "x", "must not start with aws:"},
		{"a key in the handler's own namespace", "smart-healthlake:retained-by", "x", "must not start with smart-healthlake:"},
	} {
		t.Run("tag refused: "+tc.name, func(t *testing.T) {
			p := minimalProperties()
			p[datastoreprops.PropTags] = map[string]any{"team-ok": "fine", tc.key: tc.value}
			_, err := ParseSpec(p)
			var perr *cfnprops.PropertyError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, datastoreprops.PropTags+"."+tc.key, perr.Property)
			assert.Contains(t, err.Error(), "property Tags."+tc.key+": ")
			assert.Contains(t, perr.Reason, tc.reason)
		})
	}

	bad := []struct {
		name     string
		edit     func(map[string]any)
		property string
	}{
		{"a missing name", func(p map[string]any) { delete(p, datastoreprops.PropDatastoreName) }, datastoreprops.PropDatastoreName},
		{"a name with forbidden characters", func(p map[string]any) { p[datastoreprops.PropDatastoreName] = "patients<prod>" }, datastoreprops.PropDatastoreName},
		{"an unsupported FHIR version", func(p map[string]any) { p[datastoreprops.PropFhirVersion] = "R5" }, datastoreprops.PropFhirVersion},
		{"the AWS_AUTH strategy", func(p map[string]any) { p[datastoreprops.PropAuthorizationStrategy] = "AWS_AUTH" }, datastoreprops.PropAuthorizationStrategy},
		{"a fine-grained flag that is not a boolean", func(p map[string]any) { p[datastoreprops.PropFineGrainedAuthorization] = "yes" }, datastoreprops.PropFineGrainedAuthorization},
		{"a missing IdP Lambda ARN", func(p map[string]any) { delete(p, datastoreprops.PropIdpLambdaArn) }, datastoreprops.PropIdpLambdaArn},
		{"an IdP Lambda name instead of an ARN", func(p map[string]any) { p[datastoreprops.PropIdpLambdaArn] = "smart-idp" }, datastoreprops.PropIdpLambdaArn},
		{"a missing issuer", func(p map[string]any) { delete(p, datastoreprops.PropIssuer) }, datastoreprops.PropIssuer},
		{"an http JWKS URI", func(p map[string]any) { p[datastoreprops.PropJwksUri] = "http://example.okta.com/keys" }, datastoreprops.PropJwksUri},
		{"a relative authorization endpoint", func(p map[string]any) { p[datastoreprops.PropAuthorizationEndpoint] = "/authorize" }, datastoreprops.PropAuthorizationEndpoint},
		{"an http token endpoint", func(p map[string]any) { p[datastoreprops.PropTokenEndpoint] = "http://example.okta.com/token" }, datastoreprops.PropTokenEndpoint},
		{"an introspection endpoint with credentials in it", func(p map[string]any) {
			p[datastoreprops.PropIntrospectionEndpoint] = "https://client:secret@example.okta.com/introspect"
		}, datastoreprops.PropIntrospectionEndpoint},
		{"an ftp revocation endpoint", func(p map[string]any) { p[datastoreprops.PropRevocationEndpoint] = "ftp://example.okta.com/revoke" }, datastoreprops.PropRevocationEndpoint},
		{"a management endpoint with a fragment", func(p map[string]any) { p[datastoreprops.PropManagementEndpoint] = "https://portal.example.org/#apps" }, datastoreprops.PropManagementEndpoint},
		{"scopes as one string", func(p map[string]any) { p[datastoreprops.PropScopesSupported] = "openid fhirUser" }, datastoreprops.PropScopesSupported},
		{"a v2 scope on a SMART v1 data store", func(p map[string]any) {
			p[datastoreprops.PropAuthorizationStrategy] = "SMART_ON_FHIR_V1"
			p[datastoreprops.PropScopesSupported] = []any{"patient/Observation.rs"}
		}, datastoreprops.PropScopesSupported + "[0]"},
		{"a bare KMS key id", func(p map[string]any) { p[datastoreprops.PropKmsKeyArn] = "1234abcd-12ab-34cd-56ef-1234567890ab" }, datastoreprops.PropKmsKeyArn},
		{"a preload flag that is not a boolean", func(p map[string]any) { p[datastoreprops.PropPreloadSynthea] = "maybe" }, datastoreprops.PropPreloadSynthea},
		{"tags as a list", func(p map[string]any) { p[datastoreprops.PropTags] = []any{"team=fhir"} }, datastoreprops.PropTags},
		{"a reserved aws: tag", func(p map[string]any) {
			p[datastoreprops.PropTags] = map[string]any{"aws:cloudformation:stack-name": "x"}
		}, datastoreprops.PropTags + ".aws:cloudformation:stack-name"},
		{"a snapshot removal policy", func(p map[string]any) { p[datastoreprops.PropRemovalPolicy] = "snapshot" }, datastoreprops.PropRemovalPolicy},
		{"an acknowledgement that is not a boolean", func(p map[string]any) { p[datastoreprops.PropAcknowledgeReplacement] = "sure" }, datastoreprops.PropAcknowledgeReplacement},
	}
	for _, tc := range bad {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			p := minimalProperties()
			tc.edit(p)
			_, err := ParseSpec(p)
			var perr *cfnprops.PropertyError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, tc.property, perr.Property)
			assert.Contains(t, err.Error(), "property "+tc.property)
		})
	}

	t.Run("every bad property is reported at once", func(t *testing.T) {
		p := minimalProperties()
		p[datastoreprops.PropTokenEndpoint] = "http://example.okta.com/token"
		p[datastoreprops.PropRemovalPolicy] = "snapshot"
		delete(p, datastoreprops.PropDatastoreName)
		_, err := ParseSpec(p)
		require.Error(t, err)
		for _, name := range []string{datastoreprops.PropTokenEndpoint, datastoreprops.PropRemovalPolicy, datastoreprops.PropDatastoreName} {
			assert.Contains(t, err.Error(), "property "+name)
		}
		var joined interface{ Unwrap() []error }
		require.True(t, errors.As(err, &joined))
		assert.Len(t, joined.Unwrap(), 3)
	})

	t.Run("unknown properties are listed, CloudFormation's own are not", func(t *testing.T) {
		p := minimalProperties()
		p["ServiceToken"] = "arn:aws:lambda:us-east-1:123456789012:function:provider"
		p["ServiceTimeout"] = "3600"
		p["IssuerUrl"] = "https://typo.example"
		assert.Equal(t, []string{"IssuerUrl"}, datastoreprops.UnknownProperties(p))
	})
}

// TestDeployedPropertiesStillParse: the properties an earlier construct
// version deployed come back in OldResourceProperties (every Update) and as
// ResourceProperties (a rollback), so they must keep parsing.
func TestDeployedPropertiesStillParse(t *testing.T) {
	raw, err := os.ReadFile("../../../contract/datastoreprops/testdata/deployed-first-version.json")
	require.NoError(t, err)
	var p map[string]any
	require.NoError(t, json.Unmarshal(raw, &p))
	delete(p, "_comment")
	s, err := ParseSpec(p)
	require.NoError(t, err)
	assert.Equal(t, types.AuthorizationStrategySmartv1, s.Strategy)
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:alias/fhir-data", s.KMSKeyARN)
	assert.Contains(t, s.Metadata, `"permission-v1"`)

	t.Run("an Update carrying them as its old properties updates in place", func(t *testing.T) {
		x := newHarness(t)
		create := createEvent(t)
		create.ResourceProperties = clone(t, p)
		delete(create.ResourceProperties, datastoreprops.PropKmsKeyArn) // the fake's key lookup is not under test
		created := x.mustRun(create)
		u := updateEvent(t, create, created.id, "u-1", func(np map[string]any) {
			np[datastoreprops.PropSupport] = []any{smart.FeatureConfidentialClients}
			np[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoverySkip)
		})
		o := x.run(u)
		require.NoError(t, o.err)
		assert.Equal(t, created.id, o.id, "same data store")
		assert.Len(t, x.fake.Requests("UpdateFHIRDatastore"), 1)
	})
}

func TestKmsKeyArnTakesAnyAliasNameKMSAllows(t *testing.T) {
	// KMS's AliasName pattern is ^[a-zA-Z0-9:/_-]+$ and HealthLake's KmsKeyId
	// takes alias/<name> in that alphabet: a colon is part of it.
	p := minimalProperties()
	p[datastoreprops.PropKmsKeyArn] = "arn:aws:kms:us-east-1:123456789012:alias/team:fhir"
	s, err := ParseSpec(p)
	require.NoError(t, err)
	assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:alias/team:fhir", s.KMSKeyARN)
}

func TestTheSmartVersionBecomesHealthLakesStrategy(t *testing.T) {
	for version, strategy := range map[string]types.AuthorizationStrategy{
		"v1": types.AuthorizationStrategySmartv1, "v2": types.AuthorizationStrategySmartOnFhir,
	} {
		p := minimalProperties()
		p[datastoreprops.PropSmartVersion] = version
		s, err := ParseSpec(p)
		require.NoError(t, err)
		assert.Equal(t, strategy, s.Strategy, version)
	}
}
