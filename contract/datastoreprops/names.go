// Package datastoreprops is the contract of the SMART HealthLake data store
// custom resource (Custom::SmartHealthLakeDatastore): its resource type, its
// property and attribute names, the enums its properties take, and the parser
// and validator of the properties. The CDK construct (constructs/datastore)
// validates with it at synthesis time, the handler (lambda/datastore/handler)
// parses with it at deploy time. It imports nothing but the standard library
// and the other contract packages, so the construct links no SDK.
//
// Property contract (CloudFormation delivers every scalar as a string; lists
// are lists of strings, Tags a map of strings):
//
//	DatastoreName             required; in place
//	FhirVersion               R4 (default); immutable
//	SmartVersion              v2 (default) | v1 (smart.Version; HealthLake's AuthorizationStrategy
//	                          SMART_ON_FHIR | SMART_ON_FHIR_V1); in place
//	AuthorizationStrategy     SMART_ON_FHIR | SMART_ON_FHIR_V1: what constructs before SmartVersion
//	                          sent, still read when SmartVersion is absent
//	FineGrainedAuthorization  bool, default true; in place
//	IdpLambdaArn              required, function ARN, optionally qualified; in place
//	Issuer, JwksUri, AuthorizationEndpoint, TokenEndpoint   required https URLs; in place
//	IntrospectionEndpoint, RevocationEndpoint, ManagementEndpoint   optional https URLs; in place
//	ScopesSupported           optional list of scopes; in place
//	SmartSupport              optional list of smart.Support feature names; in place
//	KmsKeyArn                 optional KMS key or alias ARN; absent: AWS-owned key; immutable
//	PreloadSynthea            bool, default false; immutable
//	Tags                      optional map; TagResource/UntagResource
//	RemovalPolicy             retain (default) | destroy
//	AcknowledgeReplacement    bool, default false
//	DiscoveryCheck            verify | verify-issuer | skip; absent: no check
//	DiscoveryUrl              optional https URL
package datastoreprops

// ResourceType is the CloudFormation type of the data store resource.
const ResourceType = "Custom::SmartHealthLakeDatastore"

// Resource property names.
const (
	PropDatastoreName = "DatastoreName"
	PropFhirVersion   = "FhirVersion"
	// PropSmartVersion is the SMART version, smart.Version's one name.
	PropSmartVersion = "SmartVersion"
	// PropAuthorizationStrategy is HealthLake's name of the SMART version,
	// which constructs sent before SmartVersion: deployed stacks' properties
	// (OldResourceProperties, rollbacks) carry it, so it is still read.
	PropAuthorizationStrategy    = "AuthorizationStrategy"
	PropFineGrainedAuthorization = "FineGrainedAuthorization"
	PropIdpLambdaArn             = "IdpLambdaArn"
	PropIssuer                   = "Issuer"
	PropJwksUri                  = "JwksUri"
	PropAuthorizationEndpoint    = "AuthorizationEndpoint"
	PropTokenEndpoint            = "TokenEndpoint"
	PropIntrospectionEndpoint    = "IntrospectionEndpoint"
	PropRevocationEndpoint       = "RevocationEndpoint"
	PropManagementEndpoint       = "ManagementEndpoint"
	PropScopesSupported          = "ScopesSupported"
	// PropSupport carries the deployment's smart.Support, as the list
	// smart.Support.Features returns; absent is the zero Support (the
	// properties of stacks deployed before it existed arrive so).
	PropSupport                = "SmartSupport"
	PropKmsKeyArn              = "KmsKeyArn"
	PropPreloadSynthea         = "PreloadSynthea"
	PropTags                   = "Tags"
	PropRemovalPolicy          = "RemovalPolicy"
	PropAcknowledgeReplacement = "AcknowledgeReplacement"
	PropDiscoveryCheck         = "DiscoveryCheck"
	PropDiscoveryUrl           = "DiscoveryUrl"
)

// KnownProperties are every property the handler reads.
var KnownProperties = []string{
	PropDatastoreName, PropFhirVersion, PropSmartVersion, PropAuthorizationStrategy, PropFineGrainedAuthorization,
	PropIdpLambdaArn, PropIssuer, PropJwksUri, PropAuthorizationEndpoint, PropTokenEndpoint,
	PropIntrospectionEndpoint, PropRevocationEndpoint, PropManagementEndpoint, PropScopesSupported,
	PropSupport, PropKmsKeyArn, PropPreloadSynthea, PropTags, PropRemovalPolicy, PropAcknowledgeReplacement,
	PropDiscoveryCheck, PropDiscoveryUrl,
}

// Attribute names of the resource (the Data returned once the data store is
// ACTIVE, read with Fn::GetAtt).
const (
	AttrDatastoreID           = "DatastoreId"
	AttrDatastoreArn          = "DatastoreArn"
	AttrDatastoreEndpoint     = "DatastoreEndpoint"
	AttrSmartConfigurationURL = "SmartConfigurationUrl"
)

// HandlerTimeoutMinutes is the Lambda timeout the construct gives both
// handler functions. It covers the handler's SDK retries of ConflictException
// and throttling (about 5 minutes at most) with room to spare, and the
// handler relies on it: a Delete after a cancelled Create waits that long for
// the Create's onEvent to end.
const HandlerTimeoutMinutes = 10

// The tags a data store carries: the user's (the Tags property) and the
// handler's own, which record who made it.
const (
	// TagPrefix starts every key the handler sets; the Tags property may not
	// use it.
	TagPrefix = "smart-healthlake:"
	// MaxTags is HealthLake's limit on one data store (botocore's model:
	// TagList, max 200, which CreateFHIRDatastore and TagResource send).
	MaxTags = 200
	// HandlerTagCount is how many keys under TagPrefix the handler may set
	// on one data store.
	HandlerTagCount = 7
	// MaxUserTags is how many tags the Tags property may hold.
	MaxUserTags = MaxTags - HandlerTagCount
)
