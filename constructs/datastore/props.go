package datastore

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/handler"
)

// SmartDatastoreProps configures a SmartDatastore.
type SmartDatastoreProps struct {
	// DatastoreName is the HealthLake data store name: 1-256 letters, digits,
	// spaces or _.:/=+-@. Changing it renames the data store in place. Required.
	DatastoreName *string
	// SmartVersion is the SMART on FHIR version the data store enforces (HealthLake
	// authorization strategy SMART_ON_FHIR for V2, SMART_ON_FHIR_V1 for V1).
	// Changing it updates the data store in place.
	// Default: smart.V2.
	SmartVersion smart.Version
	// FineGrainedAuthorization restricts patient/ and user/ scopes to the records
	// the token's fhirUser may see. Off, a patient/ scope reaches every patient's
	// records. Changing it updates the data store in place.
	// Default: true.
	FineGrainedAuthorization *bool
	// Endpoints are the authorization server's URLs the data store's SMART
	// configuration advertises; usually tokens from the Okta construct. Issuer,
	// JwksUri, AuthorizationEndpoint and TokenEndpoint are required; literal values
	// must be https URLs. Changes apply in place. Required.
	Endpoints *smartconfig.Endpoints
	// Discovery, when given, has the handler compare Endpoints with the
	// authorization server's live discovery document on every Create and
	// Update (see smartconfig.Discovery). Default: no check.
	Discovery *smartconfig.Discovery
	// ScopesSupported are advertised as scopes_supported in the SMART configuration.
	// Default: none advertised.
	ScopesSupported *[]*string
	// Support are the SMART flows the authorization server serves (its clients,
	// patient context, ID and refresh tokens; the Okta construct's SmartSupport):
	// the SMART configuration's capabilities, grant types and token endpoint
	// authentication methods follow it. Changes apply in place.
	// Default: none: only the SMART version is advertised, with the
	// authorization_code grant type (HealthLake requires one).
	Support *smart.Support
	// IdpFunction is the token-validation function HealthLake calls on every
	// request, or its provisioned-concurrency alias (then the alias ARN is used,
	// so the warm instances serve the requests). Its invoke permission for
	// healthlake.amazonaws.com must be a child of this construct (as
	// Function.AddPermission and Alias.AddPermission make it): the data store
	// resource depends on it, because HealthLake checks the permission at
	// creation. Changing it updates the data store in place. Required.
	IdpFunction awslambda.IFunction
	// EncryptionKey is a customer-managed KMS key for the data at rest. It can't
	// be changed later (see AcknowledgeReplacement). Pass the key itself, not an
	// alias: permissions are granted on its ARN. Its key policy must let this
	// account's IAM policies grant access (the awskms.NewKey default does).
	// Default: an AWS-owned key.
	EncryptionKey awskms.IKey
	// PreloadSynthea loads Synthea's synthetic patients at creation; never for a
	// data store that will hold real patients' records. It can't be changed later.
	// Default: false.
	PreloadSynthea *bool
	// RemovalPolicy says what happens to the data store when the resource leaves
	// the stack or is replaced: awscdk.RemovalPolicy_RETAIN keeps it and its data,
	// awscdk.RemovalPolicy_DESTROY deletes them. No other value is accepted.
	// Whatever the policy, a data store whose creation failed (CREATE_FAILED),
	// which holds no data, is deleted.
	// Default: awscdk.RemovalPolicy_RETAIN.
	RemovalPolicy awscdk.RemovalPolicy
	// AcknowledgeReplacement lets a change of EncryptionKey or PreloadSynthea,
	// which HealthLake can't make in place, create a NEW, EMPTY data store; the
	// old one then follows RemovalPolicy. Without it such a change fails the
	// deployment and nothing is lost. Set it for one deployment, then unset it.
	// Default: false.
	AcknowledgeReplacement *bool
	// Tags are set on the data store (managed with TagResource/UntagResource).
	// Tags applied with awscdk.Tags_Of do not reach a custom resource: list here
	// the ones the data store should carry.
	// Default: no tags.
	Tags *map[string]*string
	// LogRetention of the handler functions' log groups.
	// Default: awslogs.RetentionDays_ONE_YEAR.
	LogRetention awslogs.RetentionDays
	// LogEncryptionKey encrypts the log groups of the handler and of the Provider
	// framework. Its key policy must allow CloudWatch Logs (logkey.New makes such
	// a key; logkey.AllowLogs adapts one).
	// Default: a new key from logkey.New.
	LogEncryptionKey awskms.IKey
	// LogLevel is the application log level of the handler (LoggingConfig,
	// honoured by the Go code through AWS_LAMBDA_LOG_LEVEL). The Provider
	// framework's functions keep aws-cdk-lib's FATAL: at any lower level they
	// log CloudFormation's events, pre-signed response URLs included.
	// Default: awslambda.ApplicationLogLevel_INFO.
	LogLevel awslambda.ApplicationLogLevel
}

// settings are the props with defaults applied and values resolved to what the
// handler reads.
type settings struct {
	SmartDatastoreProps
	fineGrained, preloadSynthea, acknowledgeReplacement bool
}

// datastoreName mirrors HealthLake's constraint on DatastoreName, which the
// handler checks again at deploy time.
var datastoreName = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$`)

func withDefaults(in *SmartDatastoreProps) settings {
	var s settings
	if in != nil {
		s.SmartDatastoreProps = *in
	}
	if s.SmartVersion == "" {
		s.SmartVersion = smart.V2
	}
	if s.LogRetention == "" {
		s.LogRetention = awslogs.RetentionDays_ONE_YEAR
	}
	if s.RemovalPolicy == "" {
		s.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	s.fineGrained = boolOr(s.FineGrainedAuthorization, true)
	s.preloadSynthea = boolOr(s.PreloadSynthea, false)
	s.acknowledgeReplacement = boolOr(s.AcknowledgeReplacement, false)
	return s
}

// validate reports every invalid prop at once, each message naming it.
func (s *settings) validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if s.DatastoreName == nil || *s.DatastoreName == "" {
		bad("props.DatastoreName is required")
	} else if isLiteral(s.DatastoreName) && !datastoreName.MatchString(*s.DatastoreName) {
		bad("props.DatastoreName must be 1-256 letters, digits, spaces or _.:/=+-@, got %q", *s.DatastoreName)
	}

	if !s.SmartVersion.Valid() {
		bad("props.SmartVersion must be smart.V1 or smart.V2, got %q", s.SmartVersion)
	}

	if s.Endpoints == nil {
		bad("props.Endpoints is required (Issuer, JwksUri, AuthorizationEndpoint and TokenEndpoint)")
	} else {
		for _, e := range []struct {
			name     string
			value    *string
			required bool
		}{
			{"Issuer", s.Endpoints.Issuer, true},
			{"JwksUri", s.Endpoints.JwksUri, true},
			{"AuthorizationEndpoint", s.Endpoints.AuthorizationEndpoint, true},
			{"TokenEndpoint", s.Endpoints.TokenEndpoint, true},
			{"IntrospectionEndpoint", s.Endpoints.IntrospectionEndpoint, false},
			{"RevocationEndpoint", s.Endpoints.RevocationEndpoint, false},
			{"ManagementEndpoint", s.Endpoints.ManagementEndpoint, false},
		} {
			switch {
			case e.value == nil || *e.value == "":
				if e.required {
					bad("props.Endpoints.%s is required", e.name)
				}
			case isLiteral(e.value) && !isHTTPSURL(*e.value):
				bad("props.Endpoints.%s must be an absolute https URL without user info or fragment, got %q", e.name, *e.value)
			}
		}
	}

	if s.Discovery != nil && s.Discovery.Url != nil && isLiteral(s.Discovery.Url) && !isHTTPSURL(*s.Discovery.Url) {
		bad("props.Discovery.Url must be an absolute https URL without user info or fragment, got %q", *s.Discovery.Url)
	}

	if s.ScopesSupported != nil {
		for i, scope := range *s.ScopesSupported {
			if scope == nil || *scope == "" {
				bad("props.ScopesSupported[%d] is empty", i)
			} else if isLiteral(scope) && strings.ContainsAny(*scope, " \t\n") {
				bad("props.ScopesSupported[%d] must be one scope without spaces, got %q", i, *scope)
			}
		}
	}

	if s.IdpFunction == nil {
		bad("props.IdpFunction is required (the token-validation function or its alias)")
	}

	switch s.RemovalPolicy {
	case awscdk.RemovalPolicy_RETAIN, awscdk.RemovalPolicy_DESTROY:
	default:
		bad("props.RemovalPolicy must be awscdk.RemovalPolicy_RETAIN or awscdk.RemovalPolicy_DESTROY, got %q", s.RemovalPolicy)
	}

	if s.Tags != nil {
		if n := len(*s.Tags); n > handler.MaxUserTags {
			bad("props.Tags has %d tags, at most %d are allowed: HealthLake keeps at most 200 tags on a data store and the handler needs room for its own", n, handler.MaxUserTags)
		}
		keys := make([]string, 0, len(*s.Tags))
		for k := range *s.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := (*s.Tags)[k]
			switch {
			case k == "" || len(k) > 128 || strings.HasPrefix(k, "aws:"):
				bad("props.Tags: key %q must be 1-128 characters and must not start with aws:", k)
			case v == nil:
				bad("props.Tags: value of %q is nil", k)
			case isLiteral(v) && len(*v) > 256:
				bad("props.Tags: value of %q is longer than 256 characters", k)
			}
		}
	}

	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// isLiteral reports whether s is known at synthesis time; tokens are checked by
// the handler at deploy time.
func isLiteral(s *string) bool { return !*awscdk.Token_IsUnresolved(s) }

// isHTTPSURL is the handler's check on endpoint properties, made early.
func isHTTPSURL(s string) bool { return httpsurl.Check(s) == nil }

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}
