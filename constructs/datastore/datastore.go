// Package datastore provides SmartDatastore: an Amazon HealthLake FHIR R4 data
// store secured with SMART on FHIR, managed by a CloudFormation custom resource.
//
// What it creates:
//   - the custom resource (type Custom::SmartHealthLakeDatastore) whose handler
//     is this module's lambda/datastore, run as two Go functions behind the CDK
//     Provider framework: onEvent starts a create, update or delete, and
//     isComplete polls the data store every 30 seconds for up to 45 minutes;
//   - one IAM role per handler function with what CloudFormation's own
//     AWS::HealthLake::FHIRDatastore handler declares for the HealthLake calls
//     that function makes, each action scoped as tightly as IAM allows (see
//     permissions.go), and one per Provider framework role, with no managed
//     policy;
//   - KMS-encrypted, retained log groups for both handler functions and for the
//     framework's Node.js functions, with a new log key unless one is given;
//   - reserved concurrency on all five functions, and cdk-nag suppressions, each
//     with its reason, for the findings that don't apply to this machinery.
//     HIPAA.Security-IAMNoInlinePolicy on CDK's role policies is left to the app.
//
// Why a custom resource and not AWS::HealthLake::FHIRDatastore: CloudFormation
// treats every field of that resource's IdentityProviderConfiguration as
// create-only, so changing the Okta endpoints in the SMART metadata, the IdP
// Lambda ARN, fine-grained authorization or the SMART version would replace the
// data store and lose every record in it. HealthLake's UpdateFHIRDatastore makes
// those changes in place, and the handler uses it; what HealthLake cannot change
// (encryption, preload) fails the deployment unless a replacement is explicitly
// acknowledged. A Delete retains the data store unless RemovalPolicy is DESTROY,
// or it is a data store that holds no data: one whose creation failed
// (CREATE_FAILED), or one made by a first deployment of the stack that is being
// rolled back (the handler reads the stack's status with DescribeStacks and
// deletes only under ROLLBACK_IN_PROGRESS).
package datastore

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/internal/crprovider"
	"github.com/openhealthstack/smart-healthlake/internal/golambda"
	"github.com/openhealthstack/smart-healthlake/internal/jsiiptr"
	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

// ResourceType is the CloudFormation type of the data store resource.
const ResourceType = datastoreprops.ResourceType

// Entry is the handler's main package in this module.
const Entry = "lambda/datastore"

// FHIRVersion is the only version HealthLake offers, sent explicitly so the
// template says what the data store is.
const FHIRVersion = "R4"

// Timing of the Provider framework and the handler functions.
const (
	// queryIntervalSeconds between isComplete calls: creation takes 15-30 minutes,
	// so polling faster only costs invocations.
	queryIntervalSeconds = 30
	// totalTimeoutMinutes of the isComplete polling: a multiple of the interval
	// (the framework requires it; 90 polls) such that the onEvent call (up to
	// handlerTimeoutMinutes) plus the polling, 55 minutes, ends inside
	// serviceTimeoutSeconds with 5 minutes left for the isComplete calls
	// themselves and the framework's hand-offs. The framework then reports its
	// own timeout before CloudFormation gives up on the resource.
	totalTimeoutMinutes = 45
	// serviceTimeoutSeconds is CloudFormation's limit for one custom resource
	// operation, set to its maximum: it bounds onEvent plus the polling.
	serviceTimeoutSeconds = 3600
	// handlerTimeoutMinutes covers the handler's SDK retries of ConflictException
	// and throttling (about 5 minutes at most, see healthlakeapi.NewRetryer) with
	// room to spare, inside the framework's own 15-minute functions. It is the
	// handler's constant: a Delete after a cancelled Create waits that long for
	// the Create's onEvent to end (the contract's HandlerTimeoutMinutes).
	handlerTimeoutMinutes = datastoreprops.HandlerTimeoutMinutes
	handlerMemoryMB       = 256
	// handlerConcurrency: the framework calls onEvent once per CloudFormation
	// request and isComplete one call at a time, so 2 is headroom, while a
	// reserved concurrency keeps the account's unreserved pool intact (and
	// satisfies cdk-nag's HIPAA check).
	handlerConcurrency = 2
)

// subject names the data store in the descriptions of the log key and the
// framework roles.
const subject = "the SMART HealthLake data store"

// SmartDatastore is a SMART-on-FHIR HealthLake data store and the custom
// resource machinery that manages it.
type SmartDatastore struct {
	constructs.Construct
	resource       awscdk.CustomResource
	provider       customresources.Provider
	onEvent        awslambda.Function
	isComplete     awslambda.Function
	onEventRole    awsiam.Role
	isCompleteRole awsiam.Role
	encryptionKey  awskms.IKey
	logs           *crprovider.Logs
}

// NewSmartDatastore creates the data store resource and its handler. It panics,
// naming the prop, on invalid props.
func NewSmartDatastore(scope constructs.Construct, id *string, props *SmartDatastoreProps) *SmartDatastore {
	s := withDefaults(props)
	if err := s.validate(); err != nil {
		panic(fmt.Sprintf("datastore.NewSmartDatastore(%s): %v", jsiiptr.Value(id), err))
	}
	d := &SmartDatastore{encryptionKey: s.EncryptionKey}
	// _Override makes d itself the jsii object, so it can be passed wherever a
	// construct is expected (Tags_Of, NagSuppressions, a scope).
	constructs.NewConstruct_Override(d, scope, id)
	this := d

	// The log groups are the audit trail of changes to patients' data store:
	// crprovider retains them, so they outlive the stack.
	d.logs = crprovider.NewLogs(this, subject, s.LogEncryptionKey, s.LogRetention)
	// One log group per handler function, so each mode's history reads on its
	// own; the framework's functions get theirs from crprovider.New.
	onEventLogs := d.logs.NewGroup("OnEventLogs")
	isCompleteLogs := d.logs.NewGroup("IsCompleteLogs")

	d.onEventRole = crprovider.NewRole(this, "OnEventRole", "Creates, updates in place and deletes one SMART HealthLake data store", onEventLogs)
	d.isCompleteRole = crprovider.NewRole(this, "IsCompleteRole",
		"Polls the status of a SMART HealthLake data store; deletes one left empty by a rolled-back first deployment", isCompleteLogs)
	for _, st := range policiesFor(this, s, onEventHandler) {
		d.onEventRole.AddToPrincipalPolicy(st)
	}
	for _, st := range policiesFor(this, s, isCompleteHandler) {
		d.isCompleteRole.AddToPrincipalPolicy(st)
	}

	newHandler := func(id, mode, description string, role awsiam.Role, logs awslogs.LogGroup) awslambda.Function {
		return golambda.NewGoFunction(this, jsii.String(id), &golambda.GoFunctionProps{
			Entry: jsii.String(Entry),
			Options: &awslambda.FunctionOptions{
				Description:                  jsii.String(description),
				MemorySize:                   jsii.Number(handlerMemoryMB),
				Timeout:                      awscdk.Duration_Minutes(jsii.Number(handlerTimeoutMinutes)),
				ReservedConcurrentExecutions: jsii.Number(handlerConcurrency),
				Environment:                  &map[string]*string{"HANDLER_MODE": jsii.String(mode)},
				Role:                         role,
				LogGroup:                     logs,
				ApplicationLogLevelV2:        s.LogLevel,
				// Every change it makes, traced with its AWS calls' latency.
				Tracing: awslambda.Tracing_ACTIVE,
			},
		})
	}
	d.onEvent = newHandler("OnEvent", "onEvent", "Starts creating, updating or deleting the SMART HealthLake data store", d.onEventRole, onEventLogs)
	d.isComplete = newHandler("IsComplete", "isComplete", "Reports whether the SMART HealthLake data store change has finished", d.isCompleteRole, isCompleteLogs)

	d.provider = crprovider.New(this, &crprovider.Props{
		Subject:       subject,
		Logs:          d.logs,
		OnEvent:       d.onEvent,
		IsComplete:    d.isComplete,
		QueryInterval: awscdk.Duration_Seconds(jsii.Number(queryIntervalSeconds)),
		TotalTimeout:  awscdk.Duration_Minutes(jsii.Number(totalTimeoutMinutes)),
		Concurrency:   handlerConcurrency,
		Excuses:       excuses,
	})

	d.resource = awscdk.NewCustomResource(this, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken:   d.provider.ServiceToken(),
		ResourceType:   jsii.String(ResourceType),
		Properties:     resourceProperties(s),
		ServiceTimeout: awscdk.Duration_Seconds(jsii.Number(serviceTimeoutSeconds)),
		// RemovalPolicy stays at its default, DELETE, on purpose: CloudFormation then
		// sends the Delete (stack deletion, resource removal, replacement) to the
		// handler, which keeps or deletes the data store per the RemovalPolicy
		// property. RETAIN here would never call the handler, so DESTROY could not
		// work and nothing would log that the data store was kept.
	})
	// HealthLake checks at creation that it may invoke the IdP function: its
	// invoke permission (a child of the function or alias construct) must exist
	// first. A dependency on the construct covers every resource under it.
	d.resource.Node().AddDependency(s.IdpFunction)
	d.suppressNagFindings()
	return d
}

// excuses are the reasons for the findings on every function of the data
// store's custom resource: the handlers here, the Provider framework's in
// crprovider.New.
var excuses = crprovider.FunctionExcuses{
	NoDLQ: "Custom resource machinery: a failure is reported to CloudFormation, which fails and rolls back " +
		"the deployment; a dead-letter queue would only keep CloudFormation events with their pre-signed response URLs.",
	NoVPC: "The functions call only AWS control-plane APIs (HealthLake, CloudFormation, Lambda, Step Functions, S3 response URL) " +
		"and never read FHIR data; a VPC would need endpoints or a NAT gateway and isolate no PHI.",
}

// suppressNagFindings excuses, with reasons, the cdk-nag findings that do not
// apply to the handlers (crprovider.New excuses the framework's). Findings that
// are project-wide choices (HIPAA.Security-IAMNoInlinePolicy on CDK's role
// policies) are left to the app.
func (d *SmartDatastore) suppressNagFindings() {
	excuses.Apply(d.onEvent, d.isComplete)

	// Each wildcard the roles' statements carry (see grants in permissions.go),
	// by the finding cdk-nag's AwsSolutions-IAM5 reports for it.
	regex := func(r string) *cdknag.RegexAppliesTo { return &cdknag.RegexAppliesTo{Regex: jsii.String(r)} }
	datastores := regex(`/^Resource::arn:.+:healthlake:.+:datastore\/fhir\/\*$/`)
	serviceLinkedRole := regex(`/^Resource::arn:.+:iam::.+:role\/aws-service-role\/healthlake\.amazonaws\.com\/\*$/`)
	invitations := regex(`/^Resource::arn:.+:ram:.+:\*:resource-share-invitation\/\*$/`)
	glueDatabases := regex(`/^Resource::arn:.+:glue:.+:(database|table|userDefinedFunction)\/\*$/`)
	common := "HealthLake sets up the data store with the caller's rights, as CloudFormation's AWS::HealthLake::FHIRDatastore " +
		"schema lists: datastore/fhir/* because the data store's ARN exists only once the resource that depends on this role " +
		"has created it; HealthLake's service-linked role under IAM's fixed path role/aws-service-role/healthlake.amazonaws.com/*, " +
		"limited by iam:AWSServiceName and iam:PassedToService; RAM share invitations of this region from any account, because " +
		"the sharing account is HealthLake's own; this account's Glue databases, because HealthLake names the Lake Formation " +
		"resource link itself, and their tables and user-defined functions, because Glue checks a database's deletion " +
		"against its children too."
	wildcards := []any{datastores, serviceLinkedRole, invitations, glueDatabases, "Resource::*"}
	nagexcuse.On(d.onEventRole, true, nagexcuse.Excuse{
		Rule: "AwsSolutions-IAM5",
		Reason: common + " On *: CreateFHIRDatastore, ListFHIRDatastores and ram:GetResourceShareInvitations, " +
			"which have no resource type in the Service Authorization Reference.",
		AppliesTo: wildcards,
	})
	nagexcuse.On(d.isCompleteRole, true, nagexcuse.Excuse{
		Rule: "AwsSolutions-IAM5",
		Reason: "isComplete deletes a data store the rollback of the stack's first creation leaves behind once it " +
			"leaves CREATING, with what the schema lists for a delete. " + common + " On *: ListFHIRDatastores and " +
			"ram:GetResourceShareInvitations, which have no resource type in the Service Authorization Reference.",
		AppliesTo: wildcards,
	})
}

// resourceProperties are the handler's input, named by the contract's
// datastoreprops.Prop* constants. Scalars are strings because CloudFormation
// delivers them so. A required prop left nil (validate reports it) leaves its
// properties out.
func resourceProperties(s settings) *map[string]any {
	p := map[string]any{
		datastoreprops.PropDatastoreName:            s.DatastoreName,
		datastoreprops.PropFhirVersion:              FHIRVersion,
		datastoreprops.PropSmartVersion:             string(s.SmartVersion),
		datastoreprops.PropFineGrainedAuthorization: strconv.FormatBool(s.fineGrained),
		datastoreprops.PropPreloadSynthea:           strconv.FormatBool(s.preloadSynthea),
		datastoreprops.PropRemovalPolicy:            string(datastoreprops.Retain),
		datastoreprops.PropAcknowledgeReplacement:   strconv.FormatBool(s.acknowledgeReplacement),
	}
	if s.IdpFunction != nil {
		p[datastoreprops.PropIdpLambdaArn] = s.IdpFunction.FunctionArn()
	}
	endpoints := s.Endpoints
	if endpoints == nil {
		endpoints = &smartconfig.Endpoints{}
	}
	for name, v := range map[string]*string{
		datastoreprops.PropIssuer:                endpoints.Issuer,
		datastoreprops.PropJwksUri:               endpoints.JwksUri,
		datastoreprops.PropAuthorizationEndpoint: endpoints.AuthorizationEndpoint,
		datastoreprops.PropTokenEndpoint:         endpoints.TokenEndpoint,
	} {
		if v != nil {
			p[name] = v
		}
	}
	if s.RemovalPolicy == awscdk.RemovalPolicy_DESTROY {
		p[datastoreprops.PropRemovalPolicy] = string(datastoreprops.Destroy)
	}
	for name, v := range map[string]*string{
		datastoreprops.PropIntrospectionEndpoint: endpoints.IntrospectionEndpoint,
		datastoreprops.PropRevocationEndpoint:    endpoints.RevocationEndpoint,
		datastoreprops.PropManagementEndpoint:    endpoints.ManagementEndpoint,
	} {
		if v != nil && *v != "" {
			p[name] = v
		}
	}
	if d := s.Discovery; d != nil {
		p[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoveryVerify)
		switch {
		case d.Skip != nil && *d.Skip:
			p[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoverySkip)
		case d.IssuerAndKeysOnly != nil && *d.IssuerAndKeysOnly:
			p[datastoreprops.PropDiscoveryCheck] = string(datastoreprops.DiscoveryVerifyIssuer)
		}
		if d.Url != nil && *d.Url != "" {
			p[datastoreprops.PropDiscoveryUrl] = d.Url
		}
	}
	if s.ScopesSupported != nil && len(*s.ScopesSupported) > 0 {
		p[datastoreprops.PropScopesSupported] = s.ScopesSupported
	}
	if features := supportFeatures(s.Support); len(features) > 0 {
		p[datastoreprops.PropSupport] = features
	}
	// Absent means an AWS-owned key, as the handler reads it.
	if s.EncryptionKey != nil {
		p[datastoreprops.PropKmsKeyArn] = s.EncryptionKey.KeyArn()
	}
	if s.Tags != nil && len(*s.Tags) > 0 {
		p[datastoreprops.PropTags] = s.Tags
	}
	return &p
}

// DatastoreId returns the HealthLake data store id (the resource's physical id).
func (d *SmartDatastore) DatastoreId() *string {
	return d.resource.GetAttString(jsii.String(datastoreprops.AttrDatastoreID))
}

// DatastoreArn returns the data store's ARN, as HealthLake reports it.
func (d *SmartDatastore) DatastoreArn() *string {
	return d.resource.GetAttString(jsii.String(datastoreprops.AttrDatastoreArn))
}

// DatastoreEndpoint returns the FHIR base URL, ending with "/".
func (d *SmartDatastore) DatastoreEndpoint() *string {
	return d.resource.GetAttString(jsii.String(datastoreprops.AttrDatastoreEndpoint))
}

// SmartConfigurationUrl returns the URL of the data store's SMART configuration
// document (<endpoint>.well-known/smart-configuration), which apps discover the
// authorization server from.
func (d *SmartDatastore) SmartConfigurationUrl() *string {
	return d.resource.GetAttString(jsii.String(datastoreprops.AttrSmartConfigurationURL))
}

// Resource returns the custom resource.
func (d *SmartDatastore) Resource() awscdk.CustomResource { return d.resource }

// Provider returns the Provider framework construct (for cdk-nag suppressions on
// its Node.js functions, for example).
func (d *SmartDatastore) Provider() customresources.Provider { return d.provider }

// OnEventFunction returns the handler function in onEvent mode.
func (d *SmartDatastore) OnEventFunction() awslambda.Function { return d.onEvent }

// IsCompleteFunction returns the handler function in isComplete mode.
func (d *SmartDatastore) IsCompleteFunction() awslambda.Function { return d.isComplete }

// EncryptionKey returns the data store's customer-managed key, or nil for an
// AWS-owned key.
func (d *SmartDatastore) EncryptionKey() awskms.IKey { return d.encryptionKey }

// LogEncryptionKey returns the key of the log groups.
func (d *SmartDatastore) LogEncryptionKey() awskms.IKey { return d.logs.Key() }

// LogGroups returns the log groups of the onEvent handler, the isComplete
// handler and the Provider framework, in that order.
func (d *SmartDatastore) LogGroups() []awslogs.ILogGroup { return d.logs.Groups() }

// Grant lets grantee perform actions on this data store (its ARN only).
func (d *SmartDatastore) Grant(grantee awsiam.IGrantable, actions ...*string) awsiam.Grant {
	return grantOn(d, grantee, actions)
}

// GrantRead lets grantee read and search the data store's FHIR resources with
// SigV4 (servicerole.ReadActions, on this data store only), and decrypt with its customer-managed key through
// HealthLake.
func (d *SmartDatastore) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	return grantRead(d, grantee)
}

// GrantReadWrite adds to GrantRead creating, updating and deleting FHIR
// resources (servicerole.WriteActions), and encrypting with the customer-managed key
// through HealthLake.
func (d *SmartDatastore) GrantReadWrite(grantee awsiam.IGrantable) awsiam.Grant {
	return grantReadWrite(d, grantee)
}

// supportFeatures is the value of the SmartSupport property: the features
// smartmeta derives the document from at deploy time.
func supportFeatures(s *smart.Support) []string {
	if s == nil {
		return nil
	}
	return s.Features()
}
