package handler

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
)

// minimalProperties holds only the required properties.
func minimalProperties() map[string]any {
	return map[string]any{
		PropDatastoreName:         "patients",
		PropIdpLambdaArn:          "arn:aws:lambda:us-east-1:123456789012:function:smart-idp",
		PropIssuer:                "https://example.okta.com/oauth2/aus1",
		PropJwksUri:               "https://example.okta.com/oauth2/aus1/v1/keys",
		PropAuthorizationEndpoint: "https://example.okta.com/oauth2/aus1/v1/authorize",
		PropTokenEndpoint:         "https://example.okta.com/oauth2/aus1/v1/token",
	}
}

func TestParseSpec(t *testing.T) {
	t.Run("defaults apply when optional properties are left out", func(t *testing.T) {
		s, err := ParseSpec(minimalProperties())
		require.NoError(t, err)
		assert.Equal(t, types.FHIRVersionR4, s.FHIRVersion)
		assert.Equal(t, types.AuthorizationStrategySmartOnFhir, s.Strategy)
		assert.True(t, s.FineGrained)
		assert.Empty(t, s.KMSKeyARN)
		assert.False(t, s.PreloadSynthea)
		assert.Empty(t, s.Tags)
		assert.Equal(t, Retain, s.RemovalPolicy)
		assert.False(t, s.AcknowledgeReplacement)
		assert.NotContains(t, s.Metadata, "introspection_endpoint")
	})

	t.Run("values may arrive as JSON types as well as CloudFormation strings", func(t *testing.T) {
		p := minimalProperties()
		p[PropFineGrainedAuthorization] = false
		p[PropPreloadSynthea] = true
		p[PropRemovalPolicy] = "Destroy"
		s, err := ParseSpec(p)
		require.NoError(t, err)
		assert.False(t, s.FineGrained)
		assert.True(t, s.PreloadSynthea)
		assert.Equal(t, Destroy, s.RemovalPolicy)
	})

	t.Run("the SMART document advertises what SmartSupport says the deployment serves", func(t *testing.T) {
		p := minimalProperties()
		p[smartmeta.PropSupport] = []any{smart.FeatureBackendServices}
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
		p[smartmeta.PropSupport] = []any{"launch-ehr"}
		_, err := ParseSpec(p)
		require.Error(t, err)
		assert.Contains(t, err.Error(), smartmeta.PropSupport)
		assert.Contains(t, err.Error(), "launch-ehr")
	})

	t.Run("an alias-qualified IdP Lambda and a KMS alias are accepted", func(t *testing.T) {
		p := minimalProperties()
		p[PropIdpLambdaArn] = "arn:aws:lambda:eu-west-1:123456789012:function:smart-idp:live"
		p[PropKmsKeyArn] = "arn:aws:kms:eu-west-1:123456789012:alias/fhir-data"
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
			p[PropIdpLambdaArn] = arn
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
			p[PropIdpLambdaArn] = tc.arn
			_, err := ParseSpec(p)
			var perr *cfnprops.PropertyError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, PropIdpLambdaArn, perr.Property)
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
		p[PropTags] = tags
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
			p[PropTags] = map[string]any{"team-ok": "fine", tc.key: tc.value}
			_, err := ParseSpec(p)
			var perr *cfnprops.PropertyError
			require.ErrorAs(t, err, &perr)
			assert.Equal(t, PropTags+"."+tc.key, perr.Property)
			assert.Contains(t, err.Error(), "property Tags."+tc.key+": ")
			assert.Contains(t, perr.Reason, tc.reason)
		})
	}

	bad := []struct {
		name     string
		edit     func(map[string]any)
		property string
	}{
		{"a missing name", func(p map[string]any) { delete(p, PropDatastoreName) }, PropDatastoreName},
		{"a name with forbidden characters", func(p map[string]any) { p[PropDatastoreName] = "patients<prod>" }, PropDatastoreName},
		{"an unsupported FHIR version", func(p map[string]any) { p[PropFhirVersion] = "R5" }, PropFhirVersion},
		{"the AWS_AUTH strategy", func(p map[string]any) { p[PropAuthorizationStrategy] = "AWS_AUTH" }, PropAuthorizationStrategy},
		{"a fine-grained flag that is not a boolean", func(p map[string]any) { p[PropFineGrainedAuthorization] = "yes" }, PropFineGrainedAuthorization},
		{"a missing IdP Lambda ARN", func(p map[string]any) { delete(p, PropIdpLambdaArn) }, PropIdpLambdaArn},
		{"an IdP Lambda name instead of an ARN", func(p map[string]any) { p[PropIdpLambdaArn] = "smart-idp" }, PropIdpLambdaArn},
		{"a missing issuer", func(p map[string]any) { delete(p, PropIssuer) }, PropIssuer},
		{"an http JWKS URI", func(p map[string]any) { p[PropJwksUri] = "http://example.okta.com/keys" }, PropJwksUri},
		{"a relative authorization endpoint", func(p map[string]any) { p[PropAuthorizationEndpoint] = "/authorize" }, PropAuthorizationEndpoint},
		{"an http token endpoint", func(p map[string]any) { p[PropTokenEndpoint] = "http://example.okta.com/token" }, PropTokenEndpoint},
		{"an introspection endpoint with credentials in it", func(p map[string]any) {
			p[PropIntrospectionEndpoint] = "https://client:secret@example.okta.com/introspect"
		}, PropIntrospectionEndpoint},
		{"an ftp revocation endpoint", func(p map[string]any) { p[PropRevocationEndpoint] = "ftp://example.okta.com/revoke" }, PropRevocationEndpoint},
		{"a management endpoint with a fragment", func(p map[string]any) { p[PropManagementEndpoint] = "https://portal.example.org/#apps" }, PropManagementEndpoint},
		{"scopes as one string", func(p map[string]any) { p[PropScopesSupported] = "openid fhirUser" }, PropScopesSupported},
		{"a v2 scope on a SMART v1 data store", func(p map[string]any) {
			p[PropAuthorizationStrategy] = "SMART_ON_FHIR_V1"
			p[PropScopesSupported] = []any{"patient/Observation.rs"}
		}, PropScopesSupported},
		{"a bare KMS key id", func(p map[string]any) { p[PropKmsKeyArn] = "1234abcd-12ab-34cd-56ef-1234567890ab" }, PropKmsKeyArn},
		{"a preload flag that is not a boolean", func(p map[string]any) { p[PropPreloadSynthea] = "maybe" }, PropPreloadSynthea},
		{"tags as a list", func(p map[string]any) { p[PropTags] = []any{"team=fhir"} }, PropTags},
		{"a reserved aws: tag", func(p map[string]any) { p[PropTags] = map[string]any{"aws:cloudformation:stack-name": "x"} }, PropTags + ".aws:cloudformation:stack-name"},
		{"a snapshot removal policy", func(p map[string]any) { p[PropRemovalPolicy] = "snapshot" }, PropRemovalPolicy},
		{"an acknowledgement that is not a boolean", func(p map[string]any) { p[PropAcknowledgeReplacement] = "sure" }, PropAcknowledgeReplacement},
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
		p[PropTokenEndpoint] = "http://example.okta.com/token"
		p[PropRemovalPolicy] = "snapshot"
		delete(p, PropDatastoreName)
		_, err := ParseSpec(p)
		require.Error(t, err)
		for _, name := range []string{PropTokenEndpoint, PropRemovalPolicy, PropDatastoreName} {
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
		assert.Equal(t, []string{"IssuerUrl"}, UnknownProperties(p))
	})
}
