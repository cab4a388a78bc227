package handler

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/healthlake/types"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
)

// Resource property names: the contract with the CDK construct. Every scalar
// arrives as a string ("true", "R4"); ScopesSupported is a list of strings and
// Tags a map of strings.
const (
	PropDatastoreName            = "DatastoreName"            // required; in place
	PropFhirVersion              = "FhirVersion"              // default R4; immutable
	PropAuthorizationStrategy    = "AuthorizationStrategy"    // SMART_ON_FHIR (default) | SMART_ON_FHIR_V1; in place
	PropFineGrainedAuthorization = "FineGrainedAuthorization" // default true; in place
	PropIdpLambdaArn             = "IdpLambdaArn"             // required, function or alias ARN; in place
	PropIssuer                   = "Issuer"                   // required https URL; in place
	PropJwksUri                  = "JwksUri"                  // required https URL; in place
	PropAuthorizationEndpoint    = "AuthorizationEndpoint"    // required https URL; in place
	PropTokenEndpoint            = "TokenEndpoint"            // required https URL; in place
	PropIntrospectionEndpoint    = "IntrospectionEndpoint"    // optional https URL; in place
	PropRevocationEndpoint       = "RevocationEndpoint"       // optional https URL; in place
	PropManagementEndpoint       = "ManagementEndpoint"       // optional https URL; in place
	PropScopesSupported          = "ScopesSupported"          // optional list; in place
	PropKmsKeyArn                = "KmsKeyArn"                // empty: AWS-owned key; immutable
	PropPreloadSynthea           = "PreloadSynthea"           // default false; immutable
	PropTags                     = "Tags"                     // optional map; TagResource/UntagResource
	PropRemovalPolicy            = "RemovalPolicy"            // retain (default) | destroy
	PropAcknowledgeReplacement   = "AcknowledgeReplacement"   // default false
)

// Data attribute names returned when the data store is ACTIVE.
const (
	AttrDatastoreID           = "DatastoreId"
	AttrDatastoreArn          = "DatastoreArn"
	AttrDatastoreEndpoint     = "DatastoreEndpoint"
	AttrSmartConfigurationURL = "SmartConfigurationUrl"
)

// RemovalPolicy says what a Delete does to the data store.
type RemovalPolicy string

const (
	// Retain removes the resource from the stack and keeps the data store.
	Retain RemovalPolicy = "retain"
	// Destroy deletes the data store and its data.
	Destroy RemovalPolicy = "destroy"
)

// Spec is the desired data store, parsed and validated from the properties.
type Spec struct {
	Name                   string
	FHIRVersion            types.FHIRVersion
	Strategy               types.AuthorizationStrategy
	FineGrained            bool
	IdpLambdaARN           string
	Metadata               string // SMART configuration JSON
	KMSKeyARN              string // empty: AWS-owned key
	PreloadSynthea         bool
	Tags                   map[string]string
	RemovalPolicy          RemovalPolicy
	AcknowledgeReplacement bool
}

var (
	// HealthLake's documented constraint on DatastoreName (and DatastoreId).
	namePattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	// HealthLake's API pattern for IdpLambdaArn (API_IdentityProviderConfiguration):
	// a function in the commercial partition, in a region of one word between
	// the area and the number (us-east-1, not us-gov-west-1), optionally
	// qualified by a version or an alias. The API also wants 49-256 characters.
	lambdaARN = regexp.MustCompile(`^arn:aws:lambda:[a-z]{2}-[a-z]+-\d{1}:\d{12}:function:[a-zA-Z0-9\-_.]+(:(\$LATEST|[a-zA-Z0-9\-_]+))?$`)
	// HealthLake's API pattern for tag keys and values (API_Tag).
	tagPattern = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
	// A KMS key or alias ARN; a bare key id would hide the account and region.
	kmsARN = regexp.MustCompile(`^arn:aws[-a-z]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:(key/[a-zA-Z0-9-]+|alias/[a-zA-Z0-9/_-]+)$`)
)

// ignoredProperties are set by CloudFormation or the CDK, not by the construct.
var ignoredProperties = []string{"ServiceToken", "ServiceTimeout"}

var knownProperties = []string{
	PropDatastoreName, PropFhirVersion, PropAuthorizationStrategy, PropFineGrainedAuthorization,
	PropIdpLambdaArn, PropIssuer, PropJwksUri, PropAuthorizationEndpoint, PropTokenEndpoint,
	PropIntrospectionEndpoint, PropRevocationEndpoint, PropManagementEndpoint, PropScopesSupported,
	PropKmsKeyArn, PropPreloadSynthea, PropTags, PropRemovalPolicy, PropAcknowledgeReplacement,
	smartmeta.PropSupport, PropDiscoveryCheck, PropDiscoveryUrl,
}

// UnknownProperties lists properties the handler does not read, sorted. They are
// logged, not refused: a rollback may replay properties of another handler version.
func UnknownProperties(p cfnprops.Properties) []string {
	var out []string
	for k := range p {
		if !slices.Contains(knownProperties, k) && !slices.Contains(ignoredProperties, k) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ParseSpec reads and validates the properties. It reports every bad property at
// once, each error a *cfnprops.PropertyError naming it.
func ParseSpec(p cfnprops.Properties) (Spec, error) {
	var errs []error
	check := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	invalid := func(name, format string, args ...any) {
		errs = append(errs, &cfnprops.PropertyError{Property: name, Reason: fmt.Sprintf(format, args...)})
	}
	var s Spec
	var err error

	s.Name, err = p.String(PropDatastoreName)
	check(err)
	if err == nil && (len(s.Name) > 256 || !namePattern.MatchString(s.Name)) {
		invalid(PropDatastoreName, "must be 1-256 letters, digits, spaces or _.:/=+-@, got %q", s.Name)
	}

	version, err := p.OptionalString(PropFhirVersion, string(types.FHIRVersionR4))
	check(err)
	s.FHIRVersion = types.FHIRVersion(version)
	if err == nil && !slices.Contains(s.FHIRVersion.Values(), s.FHIRVersion) {
		invalid(PropFhirVersion, "must be one of %v, got %q", s.FHIRVersion.Values(), version)
	}

	strategy, err := p.OptionalString(PropAuthorizationStrategy, string(types.AuthorizationStrategySmartOnFhir))
	check(err)
	s.Strategy = types.AuthorizationStrategy(strategy)
	smartVersion, isSmart := smartVersions[s.Strategy]
	if err == nil && !isSmart {
		invalid(PropAuthorizationStrategy, "must be %s (SMART v1 and v2 scopes) or %s (v1 only), got %q",
			types.AuthorizationStrategySmartOnFhir, types.AuthorizationStrategySmartv1, strategy)
	}

	// On by default: without it a patient/ scope reaches every patient's records.
	s.FineGrained, err = p.Bool(PropFineGrainedAuthorization, true)
	check(err)

	s.IdpLambdaARN, err = p.String(PropIdpLambdaArn)
	check(err)
	if err == nil && !isIdpLambdaARN(s.IdpLambdaARN) {
		invalid(PropIdpLambdaArn, "must be a Lambda function ARN of 49-256 characters, optionally with a version or alias qualifier, "+
			"matching arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]: HealthLake accepts commercial-partition "+
			"function ARNs only (arn:aws:, regions like us-east-1, not aws-us-gov or aws-cn), got %q", s.IdpLambdaARN)
	}

	var endpoints smartmeta.Endpoints
	urlsOK := true
	for _, u := range []struct {
		name     string
		required bool
		dst      *string
	}{
		{PropIssuer, true, &endpoints.Issuer},
		{PropJwksUri, true, &endpoints.JWKSURI},
		{PropAuthorizationEndpoint, true, &endpoints.Authorization},
		{PropTokenEndpoint, true, &endpoints.Token},
		{PropIntrospectionEndpoint, false, &endpoints.Introspection},
		{PropRevocationEndpoint, false, &endpoints.Revocation},
		{PropManagementEndpoint, false, &endpoints.Management},
	} {
		if err := readHTTPSURL(p, u.name, u.required, u.dst); err != nil {
			errs = append(errs, err)
			urlsOK = false
		}
	}
	scopes, err := p.StringList(PropScopesSupported)
	check(err)
	// Absent in the properties of stacks deployed before it existed: the
	// document then advertises the SMART version and authorization_code only.
	features, featuresErr := p.StringList(smartmeta.PropSupport)
	check(featuresErr)
	support, supportErr := smart.ParseFeatures(features)
	if featuresErr == nil && supportErr != nil {
		invalid(smartmeta.PropSupport, "%v", supportErr)
	}
	if urlsOK && isSmart && err == nil && featuresErr == nil && supportErr == nil {
		s.Metadata, err = smartmeta.Build(smartmeta.Config{Version: smartVersion, Endpoints: endpoints, ScopesSupported: scopes, Support: support})
		if err != nil {
			// The URLs were checked above, so what is left is about the scopes.
			invalid(PropScopesSupported, "%v", err)
		}
	}

	s.KMSKeyARN, err = p.OptionalString(PropKmsKeyArn, "")
	check(err)
	if err == nil && s.KMSKeyARN != "" && !kmsARN.MatchString(s.KMSKeyARN) {
		invalid(PropKmsKeyArn, "must be a KMS key or alias ARN, or empty for an AWS-owned key, got %q", s.KMSKeyARN)
	}

	s.PreloadSynthea, err = p.Bool(PropPreloadSynthea, false)
	check(err)

	s.Tags, err = p.StringMap(PropTags)
	check(err)
	if len(s.Tags) > MaxUserTags {
		invalid(PropTags, "at most %d tags, got %d: HealthLake keeps at most 200 tags on a data store and the handler sets up to %d of its own",
			MaxUserTags, len(s.Tags), len(handlerTagKeys))
	}
	for _, k := range sortedKeys(s.Tags) {
		if reason := tagProblem(k, s.Tags[k]); reason != "" {
			invalid(PropTags+"."+k, "%s", reason)
		} else if strings.HasPrefix(k, TagPrefix) {
			invalid(PropTags+"."+k, "the key must not start with %s (the handler's own tags, which record who created the data store), got %q", TagPrefix, k)
		}
	}

	s.RemovalPolicy, err = parseRemovalPolicy(p)
	check(err)

	s.AcknowledgeReplacement, err = p.Bool(PropAcknowledgeReplacement, false)
	check(err)

	return s, errors.Join(errs...)
}

// isIdpLambdaARN applies HealthLake's pattern and length constraints on IdpLambdaArn.
func isIdpLambdaARN(arn string) bool {
	n := utf8.RuneCountInString(arn)
	return n >= 49 && n <= 256 && lambdaARN.MatchString(arn)
}

// tagProblem says why HealthLake would refuse a tag (API_Tag: a key of 1-128
// and a value of 0-256 letters, digits, spaces or _.:/=+-@; keys starting with
// aws: are reserved), or returns "" for a valid tag.
func tagProblem(key, value string) string {
	const allowed = "letters, digits, spaces or _.:/=+-@"
	switch {
	case key == "" || utf8.RuneCountInString(key) > 128 || !tagPattern.MatchString(key):
		return fmt.Sprintf("the key must be 1-128 %s, got %q", allowed, key)
	case strings.HasPrefix(key, "aws:"):
		return fmt.Sprintf("the key must not start with aws: (reserved by AWS), got %q", key)
	case utf8.RuneCountInString(value) > 256 || !tagPattern.MatchString(value):
		return fmt.Sprintf("the value must be 0-256 %s, got %q", allowed, value)
	}
	return ""
}

var smartVersions = map[types.AuthorizationStrategy]smart.Version{
	types.AuthorizationStrategySmartv1:     smart.V1,
	types.AuthorizationStrategySmartOnFhir: smart.V2,
}

func readHTTPSURL(p cfnprops.Properties, name string, required bool, dst *string) error {
	var s string
	var err error
	if required {
		s, err = p.String(name)
	} else {
		s, err = p.OptionalString(name, "")
	}
	if err != nil || s == "" {
		return err
	}
	if httpsurl.Check(s) != nil {
		return &cfnprops.PropertyError{Property: name, Reason: fmt.Sprintf("must be an absolute https URL without user info or fragment, got %q", s)}
	}
	*dst = s
	return nil
}

func parseRemovalPolicy(p cfnprops.Properties) (RemovalPolicy, error) {
	v, err := p.OptionalString(PropRemovalPolicy, string(Retain))
	if err != nil {
		return Retain, err
	}
	switch policy := RemovalPolicy(strings.ToLower(v)); policy {
	case Retain, Destroy:
		return policy, nil
	default:
		return Retain, &cfnprops.PropertyError{Property: PropRemovalPolicy, Reason: fmt.Sprintf("must be retain or destroy, got %q", v)}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
