package datastoreprops

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// Properties are a resource's properties as CloudFormation delivers them.
type Properties = cfnprops.Properties

// PropertyError is the error Parse and Validate return for each bad
// property, naming it (Tags.<key> and ScopesSupported[<i>] for an entry).
type PropertyError = cfnprops.PropertyError

// Endpoints are the authorization server's URLs the SMART configuration
// advertises; the optional ones are "" when absent.
type Endpoints struct {
	Issuer, JWKSURI, Authorization, Token string
	Introspection, Revocation, Management string
}

// Discovery is the discovery check the properties ask for.
type Discovery struct {
	Mode DiscoveryMode
	// URL is the document to fetch; "" means the issuer's well-known ones.
	URL string
}

// Spec is the desired data store, parsed and validated from the properties.
type Spec struct {
	Name                   string
	FHIRVersion            FHIRVersion
	SmartVersion           smart.Version // from AuthorizationStrategy
	FineGrained            bool
	IdpLambdaARN           string
	Endpoints              Endpoints
	ScopesSupported        []string
	Support                smart.Support
	KMSKeyARN              string // empty: AWS-owned key
	PreloadSynthea         bool
	Tags                   map[string]string
	RemovalPolicy          RemovalPolicy
	AcknowledgeReplacement bool
	Discovery              Discovery
}

// ignoredProperties are set by CloudFormation or the CDK, not by the construct.
var ignoredProperties = []string{"ServiceToken", "ServiceTimeout"}

// UnknownProperties lists properties the handler does not read, sorted. They
// are to be logged, not refused: a rollback may replay properties of another
// handler version.
func UnknownProperties(p Properties) []string {
	var out []string
	for k := range p {
		if !slices.Contains(KnownProperties, k) && !slices.Contains(ignoredProperties, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Parse reads and validates the properties of a Create, an Update (new and
// old properties) or a rollback. It reports every bad property at once, each
// error a *PropertyError naming it. Whatever an earlier version of the
// construct could send still parses: the properties of a deployed stack come
// back in OldResourceProperties and in rollbacks.
func Parse(p Properties) (Spec, error) {
	r := &reader{p: p}
	s := r.spec()
	return s, errors.Join(r.errs...)
}

// ParseUpdate is Parse for the properties of an Update, new or old (a
// rollback's new properties are the deployed ones). It also accepts what the
// handler before this contract accepted and Parse refuses, and returns it in
// relaxed ("<property> <Parse's reason>", values redacted as in Parse's
// errors) so that the caller can warn: a stack may have been deployed with
// it, and refusing it would fail every Update of the stack and the rollback
// of one that fixes it (its new properties are then the deployed ones,
// whatever the old ones hold): UPDATE_ROLLBACK_FAILED. Create and synthesis
// (Parse, Validate) keep refusing it. What it accepts:
//
//   - DiscoveryUrl when DiscoveryCheck does not fetch (absent or skip): that
//     handler read it only for a check that fetches, so it went unchecked
//     (a deploy-time value escapes the construct's check too), and it is
//     unused then. Spec.Discovery.URL is "" for an unusable one.
func ParseUpdate(p Properties) (s Spec, relaxed []string, err error) {
	r := &reader{p: p, update: true}
	s = r.spec()
	return s, r.relaxed, errors.Join(r.errs...)
}

// Validate checks properties at synthesis time. The names in unresolved
// (a property, or one entry: Tags.<key>, ScopesSupported[<i>]) hold values
// known only at deploy time (CloudFormation tokens): they count as present
// and are left to the handler.
func Validate(p Properties, unresolved ...string) error {
	r := &reader{p: p, unresolved: unresolved}
	r.spec()
	return errors.Join(r.errs...)
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
)

type reader struct {
	p          Properties
	unresolved []string
	errs       []error
	// update is ParseUpdate's: relaxed collects what it accepts beyond Parse.
	update  bool
	relaxed []string
}

func (r *reader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, &PropertyError{Property: name, Reason: fmt.Sprintf(format, args...)})
}

func (r *reader) check(err error) bool {
	if err != nil {
		r.errs = append(r.errs, err)
		return false
	}
	return true
}

// deferred reports whether the value is only known at deploy time.
func (r *reader) deferred(name string) bool { return slices.Contains(r.unresolved, name) }

// str reads a string property: ok is false when it is missing (and required),
// malformed, or deferred, so that the caller checks only values it has.
func (r *reader) str(name string, required bool, def string) (string, bool) {
	if r.deferred(name) {
		return def, false
	}
	var v string
	var err error
	if required {
		v, err = r.p.String(name)
	} else {
		v, err = r.p.OptionalString(name, def)
	}
	return v, r.check(err)
}

func (r *reader) boolean(name string, def bool) bool {
	if r.deferred(name) {
		return def
	}
	v, err := r.p.Bool(name, def)
	r.check(err)
	return v
}

func (r *reader) spec() Spec {
	var s Spec
	if name, ok := r.str(PropDatastoreName, true, ""); ok {
		s.Name = name
		if err := CheckDatastoreName(name); err != nil {
			r.fail(PropDatastoreName, "%v", err)
		}
	}

	s.FHIRVersion = R4
	if v, ok := r.str(PropFhirVersion, false, string(R4)); ok {
		var err error
		if s.FHIRVersion, err = ParseFHIRVersion(v); err != nil {
			r.fail(PropFhirVersion, "%v", err)
		}
	}

	var versionKnown bool
	s.SmartVersion, versionKnown = r.smartVersion()

	// On by default: without it a patient/ scope reaches every patient's records.
	s.FineGrained = r.boolean(PropFineGrainedAuthorization, true)

	if arn, ok := r.str(PropIdpLambdaArn, true, ""); ok {
		s.IdpLambdaARN = arn
		if !isIdpLambdaARN(arn) {
			r.fail(PropIdpLambdaArn, "must be a Lambda function ARN of 49-256 characters, optionally with a version or alias qualifier, "+
				"matching arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]: HealthLake accepts commercial-partition "+
				"function ARNs only (arn:aws:, regions like us-east-1, not aws-us-gov or aws-cn), got %q", arn)
		}
	}

	for _, u := range []struct {
		name     string
		required bool
		dst      *string
	}{
		{PropIssuer, true, &s.Endpoints.Issuer},
		{PropJwksUri, true, &s.Endpoints.JWKSURI},
		{PropAuthorizationEndpoint, true, &s.Endpoints.Authorization},
		{PropTokenEndpoint, true, &s.Endpoints.Token},
		{PropIntrospectionEndpoint, false, &s.Endpoints.Introspection},
		{PropRevocationEndpoint, false, &s.Endpoints.Revocation},
		{PropManagementEndpoint, false, &s.Endpoints.Management},
	} {
		*u.dst = r.httpsURL(u.name, u.required)
	}

	s.ScopesSupported = r.scopes(s.SmartVersion, versionKnown)

	if !r.deferred(PropSupport) {
		features, err := r.p.StringList(PropSupport)
		if r.check(err) {
			if s.Support, err = smart.ParseFeatures(features); err != nil {
				r.fail(PropSupport, "%v", err)
			}
		}
	}

	if key, ok := r.str(PropKmsKeyArn, false, ""); ok && key != "" {
		s.KMSKeyARN = key
		if err := checkDatastoreKey(key); err != nil {
			r.fail(PropKmsKeyArn, "%v", err)
		}
	}

	s.PreloadSynthea = r.boolean(PropPreloadSynthea, false)
	s.Tags = r.tags()

	s.RemovalPolicy = Retain
	if v, ok := r.str(PropRemovalPolicy, false, string(Retain)); ok {
		var err error
		if s.RemovalPolicy, err = ParseRemovalPolicy(v); err != nil {
			s.RemovalPolicy = Retain
			r.fail(PropRemovalPolicy, "%v", err)
		}
	}

	s.AcknowledgeReplacement = r.boolean(PropAcknowledgeReplacement, false)

	modeOK := false
	if v, ok := r.str(PropDiscoveryCheck, false, ""); ok {
		var err error
		if s.Discovery.Mode, err = ParseDiscoveryMode(v); err != nil {
			r.fail(PropDiscoveryCheck, "%v", err)
		} else {
			modeOK = !r.deferred(PropDiscoveryCheck)
		}
	}
	if r.update && modeOK && !s.Discovery.Mode.Fetches() {
		// See ParseUpdate: unused, and unchecked before the contract.
		s.Discovery.URL = r.relax(func() string { return r.httpsURL(PropDiscoveryUrl, false) })
	} else {
		s.Discovery.URL = r.httpsURL(PropDiscoveryUrl, false)
	}
	return s
}

// relax runs read and turns the errors it reports into relaxed entries; the
// value is "" when there were any.
func (r *reader) relax(read func() string) string {
	n := len(r.errs)
	v := read()
	if len(r.errs) == n {
		return v
	}
	for _, err := range r.errs[n:] {
		var perr *PropertyError
		if errors.As(err, &perr) {
			r.relaxed = append(r.relaxed, perr.Property+" "+perr.Reason)
		} else {
			r.relaxed = append(r.relaxed, err.Error())
		}
	}
	r.errs = r.errs[:n]
	return ""
}

// smartVersion reads SmartVersion, or, in the properties of stacks deployed
// before it existed, AuthorizationStrategy (HealthLake's names); V2 when both
// are absent. known is false when the version could not be read, so that
// checks depending on it make none of their own.
func (r *reader) smartVersion() (v smart.Version, known bool) {
	version, versionOK := r.str(PropSmartVersion, false, "")
	strategy, strategyOK := r.str(PropAuthorizationStrategy, false, "")
	if r.deferred(PropSmartVersion) || r.deferred(PropAuthorizationStrategy) {
		return smart.V2, false
	}
	if !versionOK || !strategyOK {
		return smart.V2, false
	}
	var fromStrategy smart.Version
	if strategy != "" {
		var isSmart bool
		if fromStrategy, isSmart = smart.VersionOfStrategy(strategy); !isSmart {
			r.fail(PropAuthorizationStrategy, "must be %s (SMART v1 and v2 scopes) or %s (v1 only), got %q",
				smart.V2.AuthorizationStrategy(), smart.V1.AuthorizationStrategy(), strategy)
			return smart.V2, false
		}
	}
	switch {
	case version == "" && strategy == "":
		return smart.V2, true
	case version == "":
		return fromStrategy, true
	}
	parsed, err := smart.ParseVersion(version)
	if err != nil {
		r.fail(PropSmartVersion, "%v", err)
		return smart.V2, false
	}
	if strategy != "" && parsed != fromStrategy {
		r.fail(PropSmartVersion, "is %s but %s says %s: give one of them", parsed, PropAuthorizationStrategy, strategy)
		return smart.V2, false
	}
	return parsed, true
}

// httpsURL reads an endpoint property: an absolute https URL without user
// info or fragment.
func (r *reader) httpsURL(name string, required bool) string {
	v, ok := r.str(name, required, "")
	if !ok || v == "" {
		return ""
	}
	if httpsurl.Check(v) != nil {
		r.fail(name, "must be an absolute https URL without user info or fragment, got %q", httpsurl.Redact(v))
		return ""
	}
	return v
}

func (r *reader) scopes(v smart.Version, versionKnown bool) []string {
	if r.deferred(PropScopesSupported) {
		return nil
	}
	scopes, err := r.p.StringList(PropScopesSupported)
	if !r.check(err) {
		return nil
	}
	for i, scope := range scopes {
		name := fmt.Sprintf("%s[%d]", PropScopesSupported, i)
		if r.deferred(name) {
			continue
		}
		checkVersion := v
		if !versionKnown {
			checkVersion = smart.V2 // the wider grammar: only the scope's own shape is checked
		}
		if err := CheckScope(scope, checkVersion); err != nil {
			r.fail(name, "%v", err)
		}
	}
	return scopes
}

// resourceScope splits a SMART resource scope into context, resource type and
// the permission part (v1 "read"/"write"/"*", or v2 "cruds" with an optional query).
var resourceScope = regexp.MustCompile(`^(patient|user|system)/([A-Za-z]+|\*)\.(.+)$`)

var v2Permissions = regexp.MustCompile(`^c?r?u?d?s?(\?.+)?$`)

// CheckScope says why a data store enforcing SMART version v would not take
// scope in scopes_supported: one scope, and a SMART v1 resource scope on a
// SMART_ON_FHIR_V1 data store, v1 or v2 on SMART_ON_FHIR. Scopes that are
// not resource scopes (launch, openid, fhirUser, offline_access) pass.
func CheckScope(scope string, v smart.Version) error {
	if scope == "" || strings.ContainsAny(scope, " \t\r\n") {
		return fmt.Errorf("%q is not a single scope", scope)
	}
	m := resourceScope.FindStringSubmatch(scope)
	if m == nil {
		return nil
	}
	perm := m[3]
	if perm == "read" || perm == "write" || perm == "*" {
		return nil
	}
	if v == smart.V1 {
		return fmt.Errorf("%q is a SMART v2 scope; the data store enforces SMART v1 scopes only", scope)
	}
	if !v2Permissions.MatchString(perm) || strings.HasPrefix(perm, "?") {
		return fmt.Errorf("%q is neither a SMART v1 nor a SMART v2 resource scope", scope)
	}
	return nil
}

func (r *reader) tags() map[string]string {
	if r.deferred(PropTags) {
		return nil
	}
	tags, err := r.p.StringMap(PropTags)
	if !r.check(err) {
		return nil
	}
	if len(tags) > MaxUserTags {
		r.fail(PropTags, "at most %d tags, got %d: HealthLake keeps at most %d tags on a data store and the handler sets up to %d of its own",
			MaxUserTags, len(tags), MaxTags, HandlerTagCount)
	}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		name := PropTags + "." + k
		value := tags[k]
		if r.deferred(name) {
			value = "" // the key is known, the value is not
		}
		if reason := TagProblem(k, value); reason != "" {
			r.fail(name, "%s", reason)
		} else if strings.HasPrefix(k, TagPrefix) {
			r.fail(name, "the key must not start with %s (the handler's own tags, which record who created the data store), got %q", TagPrefix, k)
		}
	}
	return tags
}

// TagProblem says why HealthLake would refuse a tag (API_Tag: a key of 1-128
// and a value of 0-256 letters, digits, spaces or _.:/=+-@; keys starting with
// aws: are reserved), or returns "" for a valid tag.
func TagProblem(key, value string) string {
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

// CheckDatastoreName is HealthLake's constraint on DatastoreName.
func CheckDatastoreName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 256 || !namePattern.MatchString(name) {
		return fmt.Errorf("must be 1-256 letters, digits, spaces or _.:/=+-@, got %q", name)
	}
	return nil
}

// isIdpLambdaARN applies HealthLake's pattern and length constraints on IdpLambdaArn.
func isIdpLambdaARN(arn string) bool {
	n := utf8.RuneCountInString(arn)
	return n >= 49 && n <= 256 && lambdaARN.MatchString(arn)
}
