package datastore

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
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
	// framework. Its key policy must let CloudWatch Logs use it for this
	// account's log groups (the logs.<region>.amazonaws.com principal, on the
	// kms:EncryptionContext:aws:logs:arn condition, as the CloudWatch Logs
	// guide's "Encrypt log data using AWS KMS" shows).
	// Default: a new key with rotation, retained on delete, with that policy.
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

// validate reports every invalid prop at once, each message naming it. The
// props that map to custom resource properties are checked by the contract
// (datastoreprops.Validate), with the handler's own rules; values known only
// at deploy time (tokens) are left to the handler.
func (s *settings) validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	// What the contract cannot see: props that are not properties, and props
	// whose wrong values have no property to show up in.
	var deferred []string
	if s.Endpoints == nil {
		bad("props.Endpoints is required (Issuer, JwksUri, AuthorizationEndpoint and TokenEndpoint)")
		deferred = append(deferred, datastoreprops.PropIssuer, datastoreprops.PropJwksUri,
			datastoreprops.PropAuthorizationEndpoint, datastoreprops.PropTokenEndpoint)
	}
	if s.IdpFunction == nil {
		bad("props.IdpFunction is required (the token-validation function or its alias)")
		deferred = append(deferred, datastoreprops.PropIdpLambdaArn)
	}
	if !s.SmartVersion.Valid() {
		bad("props.SmartVersion must be smart.V1 or smart.V2, got %q", s.SmartVersion)
		deferred = append(deferred, datastoreprops.PropSmartVersion)
	}
	switch s.RemovalPolicy {
	case awscdk.RemovalPolicy_RETAIN, awscdk.RemovalPolicy_DESTROY:
	default:
		bad("props.RemovalPolicy must be awscdk.RemovalPolicy_RETAIN or awscdk.RemovalPolicy_DESTROY, got %q", s.RemovalPolicy)
	}

	literal, unresolved := literalProperties(*resourceProperties(*s))
	if err := datastoreprops.Validate(literal, append(unresolved, deferred...)...); err != nil {
		for _, e := range unjoin(err) {
			bad("%s", propMessage(e))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// propNames are the props each resource property comes from.
var propNames = map[string]string{
	datastoreprops.PropDatastoreName:            "props.DatastoreName",
	datastoreprops.PropFhirVersion:              "the FHIR version (always R4)",
	datastoreprops.PropSmartVersion:             "props.SmartVersion",
	datastoreprops.PropAuthorizationStrategy:    "props.SmartVersion",
	datastoreprops.PropFineGrainedAuthorization: "props.FineGrainedAuthorization",
	datastoreprops.PropIdpLambdaArn:             "props.IdpFunction",
	datastoreprops.PropIssuer:                   "props.Endpoints.Issuer",
	datastoreprops.PropJwksUri:                  "props.Endpoints.JwksUri",
	datastoreprops.PropAuthorizationEndpoint:    "props.Endpoints.AuthorizationEndpoint",
	datastoreprops.PropTokenEndpoint:            "props.Endpoints.TokenEndpoint",
	datastoreprops.PropIntrospectionEndpoint:    "props.Endpoints.IntrospectionEndpoint",
	datastoreprops.PropRevocationEndpoint:       "props.Endpoints.RevocationEndpoint",
	datastoreprops.PropManagementEndpoint:       "props.Endpoints.ManagementEndpoint",
	datastoreprops.PropScopesSupported:          "props.ScopesSupported",
	datastoreprops.PropSupport:                  "props.Support",
	datastoreprops.PropKmsKeyArn:                "props.EncryptionKey",
	datastoreprops.PropPreloadSynthea:           "props.PreloadSynthea",
	datastoreprops.PropTags:                     "props.Tags",
	datastoreprops.PropRemovalPolicy:            "props.RemovalPolicy",
	datastoreprops.PropAcknowledgeReplacement:   "props.AcknowledgeReplacement",
	datastoreprops.PropDiscoveryCheck:           "props.Discovery",
	datastoreprops.PropDiscoveryUrl:             "props.Discovery.Url",
}

// propName names the prop a property (or one of its entries: Tags.<key>,
// ScopesSupported[<i>]) comes from.
func propName(property string) string {
	if key, ok := strings.CutPrefix(property, datastoreprops.PropTags+"."); ok {
		return "props.Tags[" + strconv.Quote(key) + "]"
	}
	if rest, ok := strings.CutPrefix(property, datastoreprops.PropScopesSupported+"["); ok {
		return "props.ScopesSupported[" + rest
	}
	if name, ok := propNames[property]; ok {
		return name
	}
	return property
}

// propMessage rewords a contract error with the prop's name.
func propMessage(err error) string {
	var perr *cfnprops.PropertyError
	if !errors.As(err, &perr) {
		return err.Error()
	}
	name := propName(perr.Property)
	if strings.HasPrefix(perr.Reason, "is ") || strings.HasPrefix(perr.Reason, "must ") {
		return name + " " + perr.Reason
	}
	return name + ": " + perr.Reason
}

// literalProperties are the resource properties known at synthesis time, as
// CloudFormation will deliver them, and the names of those that are tokens
// (a property, or an entry: Tags.<key>, ScopesSupported[<i>]).
func literalProperties(p map[string]any) (cfnprops.Properties, []string) {
	out := cfnprops.Properties{}
	var unresolved []string
	for name, v := range p {
		switch v := v.(type) {
		case string:
			out[name] = v
		case *string:
			if v == nil {
				continue
			}
			if isLiteral(v) {
				out[name] = *v
			} else {
				unresolved = append(unresolved, name)
			}
		case []string:
			out[name] = v
		case *[]*string:
			if v == nil {
				continue
			}
			list := make([]any, len(*v))
			for i, item := range *v {
				switch {
				case item == nil:
					list[i] = ""
				case isLiteral(item):
					list[i] = *item
				default:
					list[i] = ""
					unresolved = append(unresolved, fmt.Sprintf("%s[%d]", name, i))
				}
			}
			out[name] = list
		case *map[string]*string:
			if v == nil {
				continue
			}
			m := make(map[string]any, len(*v))
			for k, item := range *v {
				switch {
				case item == nil:
					m[k] = nil
				case isLiteral(item):
					m[k] = *item
				default:
					m[k] = ""
					unresolved = append(unresolved, name+"."+k)
				}
			}
			out[name] = m
		default:
			panic(fmt.Sprintf("datastore: property %s has an unexpected type %T", name, v))
		}
	}
	slices.Sort(unresolved)
	return out, unresolved
}

// isLiteral reports whether s is known at synthesis time; tokens are checked by
// the handler at deploy time.
func isLiteral(s *string) bool { return !*awscdk.Token_IsUnresolved(s) }

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// unjoin splits an errors.Join result into its errors.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
