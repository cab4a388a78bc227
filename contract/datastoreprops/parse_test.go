package datastoreprops_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

func minimal() datastoreprops.Properties {
	return datastoreprops.Properties{
		datastoreprops.PropDatastoreName:         "patients",
		datastoreprops.PropIdpLambdaArn:          "arn:aws:lambda:us-east-1:123456789012:function:smart-idp",
		datastoreprops.PropIssuer:                "https://example.okta.com/oauth2/aus1",
		datastoreprops.PropJwksUri:               "https://example.okta.com/oauth2/aus1/v1/keys",
		datastoreprops.PropAuthorizationEndpoint: "https://example.okta.com/oauth2/aus1/v1/authorize",
		datastoreprops.PropTokenEndpoint:         "https://example.okta.com/oauth2/aus1/v1/token",
	}
}

func propertyOf(t *testing.T, err error) []string {
	t.Helper()
	var out []string
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var perr *datastoreprops.PropertyError
		require.ErrorAs(t, e, &perr)
		out = append(out, perr.Property)
	}
	return out
}

func TestParse(t *testing.T) {
	t.Run("defaults are the safe ones", func(t *testing.T) {
		s, err := datastoreprops.Parse(minimal())
		require.NoError(t, err)
		assert.Equal(t, datastoreprops.R4, s.FHIRVersion)
		assert.Equal(t, smart.V2, s.SmartVersion)
		assert.True(t, s.FineGrained)
		assert.Equal(t, datastoreprops.Retain, s.RemovalPolicy)
		assert.Equal(t, datastoreprops.DiscoveryNone, s.Discovery.Mode)
		assert.Empty(t, s.KMSKeyARN)
	})

	t.Run("the properties a first-version stack deployed still parse", func(t *testing.T) {
		raw, err := os.ReadFile("testdata/deployed-first-version.json")
		require.NoError(t, err)
		var p datastoreprops.Properties
		require.NoError(t, json.Unmarshal(raw, &p))
		delete(p, "_comment")
		s, err := datastoreprops.Parse(p)
		require.NoError(t, err)
		assert.Equal(t, smart.V1, s.SmartVersion)
		assert.Equal(t, "arn:aws:kms:us-east-1:123456789012:alias/fhir-data", s.KMSKeyARN, "an alias ARN was accepted, and still is")
		assert.Equal(t, datastoreprops.Destroy, s.RemovalPolicy)
		assert.Equal(t, smart.Support{}, s.Support)
		assert.Empty(t, datastoreprops.UnknownProperties(p))
	})

	t.Run("the SMART version is SmartVersion", func(t *testing.T) {
		p := minimal()
		p[datastoreprops.PropSmartVersion] = "v1"
		s, err := datastoreprops.Parse(p)
		require.NoError(t, err)
		assert.Equal(t, smart.V1, s.SmartVersion)
	})
	t.Run("without SmartVersion, HealthLake's strategy name that earlier versions sent gives it", func(t *testing.T) {
		p := minimal()
		p[datastoreprops.PropAuthorizationStrategy] = smart.V1.AuthorizationStrategy()
		s, err := datastoreprops.Parse(p)
		require.NoError(t, err)
		assert.Equal(t, smart.V1, s.SmartVersion)
	})
	t.Run("SmartVersion and a strategy that disagree are refused", func(t *testing.T) {
		p := minimal()
		p[datastoreprops.PropSmartVersion] = "v2"
		p[datastoreprops.PropAuthorizationStrategy] = smart.V1.AuthorizationStrategy()
		_, err := datastoreprops.Parse(p)
		assert.Equal(t, []string{datastoreprops.PropSmartVersion}, propertyOf(t, err))
	})

	bad := []struct {
		name     string
		edit     func(datastoreprops.Properties)
		property string
	}{
		{"a name with forbidden characters", func(p datastoreprops.Properties) { p[datastoreprops.PropDatastoreName] = "a<b>" }, datastoreprops.PropDatastoreName},
		{"R5", func(p datastoreprops.Properties) { p[datastoreprops.PropFhirVersion] = "R5" }, datastoreprops.PropFhirVersion},
		{"AWS_AUTH", func(p datastoreprops.Properties) { p[datastoreprops.PropAuthorizationStrategy] = "AWS_AUTH" }, datastoreprops.PropAuthorizationStrategy},
		{"SMART v3", func(p datastoreprops.Properties) { p[datastoreprops.PropSmartVersion] = "v3" }, datastoreprops.PropSmartVersion},
		{"a GovCloud IdP function", func(p datastoreprops.Properties) {
			p[datastoreprops.PropIdpLambdaArn] = "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:smart-idp"
		}, datastoreprops.PropIdpLambdaArn},
		{"an http issuer", func(p datastoreprops.Properties) { p[datastoreprops.PropIssuer] = "http://example.okta.com" }, datastoreprops.PropIssuer},
		{"a v2 scope on a v1 data store", func(p datastoreprops.Properties) {
			p[datastoreprops.PropSmartVersion] = "v1"
			p[datastoreprops.PropScopesSupported] = []any{"openid", "patient/Observation.rs"}
		}, datastoreprops.PropScopesSupported + "[1]"},
		{"an unknown feature", func(p datastoreprops.Properties) { p[datastoreprops.PropSupport] = []any{"telepathy"} }, datastoreprops.PropSupport},
		{"a bare key id", func(p datastoreprops.Properties) {
			p[datastoreprops.PropKmsKeyArn] = "1234abcd-12ab-34cd-56ef-1234567890ab"
		}, datastoreprops.PropKmsKeyArn},
		{"a handler tag", func(p datastoreprops.Properties) {
			p[datastoreprops.PropTags] = map[string]any{datastoreprops.TagPrefix + "x": "y"}
		}, "Tags." + datastoreprops.TagPrefix + "x"},
		{"a snapshot policy", func(p datastoreprops.Properties) { p[datastoreprops.PropRemovalPolicy] = "snapshot" }, datastoreprops.PropRemovalPolicy},
		{"an unknown discovery mode", func(p datastoreprops.Properties) { p[datastoreprops.PropDiscoveryCheck] = "always" }, datastoreprops.PropDiscoveryCheck},
		{"an http discovery URL", func(p datastoreprops.Properties) { p[datastoreprops.PropDiscoveryUrl] = "http://example.okta.com/x" }, datastoreprops.PropDiscoveryUrl},
	}
	for _, tc := range bad {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			p := minimal()
			tc.edit(p)
			_, err := datastoreprops.Parse(p)
			require.Error(t, err)
			assert.Equal(t, []string{tc.property}, propertyOf(t, err))
		})
	}

	t.Run("too many tags are refused, leaving room for the handler's own", func(t *testing.T) {
		p := minimal()
		tags := map[string]any{}
		for i := range datastoreprops.MaxUserTags + 1 {
			tags[fmt.Sprintf("t%03d", i)] = "v"
		}
		p[datastoreprops.PropTags] = tags
		_, err := datastoreprops.Parse(p)
		assert.Equal(t, []string{datastoreprops.PropTags}, propertyOf(t, err))
		delete(tags, "t000")
		_, err = datastoreprops.Parse(p)
		assert.NoError(t, err)
	})
}

func TestValidateLeavesDeployTimeValuesToTheHandler(t *testing.T) {
	t.Run("a required property known only at deploy time counts as present", func(t *testing.T) {
		p := minimal()
		delete(p, datastoreprops.PropIdpLambdaArn)
		delete(p, datastoreprops.PropIssuer)
		require.NoError(t, datastoreprops.Validate(p, datastoreprops.PropIdpLambdaArn, datastoreprops.PropIssuer))
		assert.ElementsMatch(t, []string{datastoreprops.PropIdpLambdaArn, datastoreprops.PropIssuer}, propertyOf(t, datastoreprops.Validate(p)))
	})
	t.Run("a deferred tag value or scope is not checked, the literal ones are", func(t *testing.T) {
		p := minimal()
		p[datastoreprops.PropTags] = map[string]any{"owner": "", "aws:x": "y"}
		p[datastoreprops.PropScopesSupported] = []any{"", "openid profile"}
		err := datastoreprops.Validate(p, "Tags.owner", "ScopesSupported[0]")
		assert.ElementsMatch(t, []string{"Tags.aws:x", "ScopesSupported[1]"}, propertyOf(t, err))
	})
	t.Run("literal values are checked as the handler checks them", func(t *testing.T) {
		p := minimal()
		p[datastoreprops.PropTokenEndpoint] = "http://example.okta.com/token"
		err := datastoreprops.Validate(p)
		assert.Equal(t, []string{datastoreprops.PropTokenEndpoint}, propertyOf(t, err))
		assert.True(t, strings.Contains(err.Error(), "https"))
	})
}

func TestKMSKeyRules(t *testing.T) {
	const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for name, c := range map[string]struct {
		arn            string
		datastore, iam bool // accepted as KmsKeyArn, accepted by CheckKeyARN
	}{
		"a key ARN":              {key, true, true},
		"a multi-Region key ARN": {"arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab", true, true},
		"a GovCloud key ARN":     {"arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", true, true},
		"an alias ARN":           {"arn:aws:kms:eu-west-1:123456789012:alias/fhir-data", true, false},
		"an alias ARN with a colon (KMS allows it)": {"arn:aws:kms:eu-west-1:123456789012:alias/team:fhir", true, false},
		"a bare key id":         {"1234abcd-12ab-34cd-56ef-1234567890ab", false, false},
		"a bare alias":          {"alias/fhir-data", false, false},
		"a region that is none": {"arn:aws:kms:eu:123456789012:key/1234abcd", false, false},
		"a short account":       {"arn:aws:kms:eu-west-1:12345:key/1234abcd", false, false},
		"a key id with a slash": {"arn:aws:kms:eu-west-1:123456789012:key/a/b", false, false},
	} {
		t.Run(name, func(t *testing.T) {
			p := minimal()
			p[datastoreprops.PropKmsKeyArn] = c.arn
			_, err := datastoreprops.Parse(p)
			assert.Equal(t, c.datastore, err == nil, "KmsKeyArn: %v", err)
			err = datastoreprops.CheckKeyARN(c.arn)
			assert.Equal(t, c.iam, err == nil, "CheckKeyARN: %v", err)
		})
	}
	t.Run("an alias ARN where IAM grants on the key says why it is refused", func(t *testing.T) {
		err := datastoreprops.CheckKeyARN("arn:aws:kms:eu-west-1:123456789012:alias/fhir-data")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not an alias ARN")
	})
}

// The handler before this contract read DiscoveryUrl only for a check that
// fetches the document (git 9102218, lambda/datastore/handler/discovery.go),
// so a stack may be deployed with an unusable one beside DiscoveryCheck skip
// or none: an Update, whose new properties are the deployed ones in a
// rollback, accepts it and reports it.
func TestAnUpdateAcceptsAnUnusedDiscoveryURLThePreviousHandlerNeverRead(t *testing.T) {
	bad := "http://user:s3cret@idp.internal/.well-known/smart-configuration"
	for _, mode := range []string{"", string(datastoreprops.DiscoverySkip)} {
		p := minimal()
		p[datastoreprops.PropDiscoveryUrl] = bad
		if mode != "" {
			p[datastoreprops.PropDiscoveryCheck] = mode
		}
		t.Run(fmt.Sprintf("with DiscoveryCheck %q Parse, for Create, refuses it", mode), func(t *testing.T) {
			_, err := datastoreprops.Parse(p)
			assert.Equal(t, []string{datastoreprops.PropDiscoveryUrl}, propertyOf(t, err))
			assert.Equal(t, []string{datastoreprops.PropDiscoveryUrl},
				propertyOf(t, datastoreprops.Validate(p)), "synthesis too")
		})
		t.Run(fmt.Sprintf("with DiscoveryCheck %q ParseUpdate accepts and reports it, redacted", mode), func(t *testing.T) {
			s, relaxed, err := datastoreprops.ParseUpdate(p)
			require.NoError(t, err)
			assert.Empty(t, s.Discovery.URL, "unused, and not a URL to fetch")
			require.Len(t, relaxed, 1)
			assert.True(t, strings.HasPrefix(relaxed[0], datastoreprops.PropDiscoveryUrl+" must be an absolute https URL"), relaxed[0])
			assert.NotContains(t, relaxed[0], "s3cret")
		})
	}
	t.Run("a check that fetches it still refuses it on Update: the previous handler did", func(t *testing.T) {
		for _, mode := range []datastoreprops.DiscoveryMode{datastoreprops.DiscoveryVerify, datastoreprops.DiscoveryVerifyIssuer} {
			p := minimal()
			p[datastoreprops.PropDiscoveryUrl] = bad
			p[datastoreprops.PropDiscoveryCheck] = string(mode)
			_, relaxed, err := datastoreprops.ParseUpdate(p)
			assert.Equal(t, []string{datastoreprops.PropDiscoveryUrl}, propertyOf(t, err), mode)
			assert.Empty(t, relaxed)
		}
	})
	t.Run("an unknown DiscoveryCheck is refused with it, as before", func(t *testing.T) {
		p := minimal()
		p[datastoreprops.PropDiscoveryUrl] = bad
		p[datastoreprops.PropDiscoveryCheck] = "sometimes"
		_, _, err := datastoreprops.ParseUpdate(p)
		assert.ElementsMatch(t, []string{datastoreprops.PropDiscoveryCheck, datastoreprops.PropDiscoveryUrl}, propertyOf(t, err))
	})
	t.Run("a usable URL is kept and nothing is reported", func(t *testing.T) {
		p := minimal()
		p[datastoreprops.PropDiscoveryUrl] = "https://idp.example.com/.well-known/smart-configuration"
		p[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoverySkip)
		s, relaxed, err := datastoreprops.ParseUpdate(p)
		require.NoError(t, err)
		assert.Equal(t, "https://idp.example.com/.well-known/smart-configuration", s.Discovery.URL)
		assert.Empty(t, relaxed)
	})
}
