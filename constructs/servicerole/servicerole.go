// Package servicerole provides the IAM role HealthLake assumes to serve a FHIR
// request that the token-validation Lambda authorized (the Lambda returns its ARN
// as `iamRoleARN`).
//
// The role is wired without a CloudFormation dependency cycle: the Lambda's
// environment needs the role's ARN, the data store needs the Lambda's ARN, and the
// role's trust needs the data store's ARN. The role therefore has a name fixed at
// synthesis time and RoleArn formats its ARN from that name (no reference to the
// role resource), while its trust and permissions are bound to the data store
// afterwards with BindDatastore. The trust is never loosened to a wildcard.
package servicerole

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// HealthLakePrincipal is the service principal that assumes the role.
const HealthLakePrincipal = "healthlake.amazonaws.com"

// ReadActions are the FHIR data-plane actions of a read-only role. Each call
// returns a new slice: the role's and the grants' ceilings can't be changed
// through it.
func ReadActions() []string {
	return []string{
		"healthlake:ReadResource",
		"healthlake:SearchWithGet",
		"healthlake:SearchWithPost",
		"healthlake:GetCapabilities",
	}
}

// WriteActions are added to ReadActions for a read-write role (a new slice
// on each call).
func WriteActions() []string {
	return []string{
		"healthlake:CreateResource",
		"healthlake:UpdateResource",
		"healthlake:DeleteResource",
	}
}

// ServiceRoleProps configures a ServiceRole.
type ServiceRoleProps struct {
	// ReadOnly limits the role to reading and searching. SMART scopes narrow every
	// request further; this is the ceiling for all of them.
	// Default: false (read and write: ReadActions and WriteActions).
	ReadOnly *bool
	// EncryptionKey is the data store's customer-managed KMS key; the role may use
	// it to read and write the data store's data.
	// Default: none (an AWS-owned key needs no grant).
	EncryptionKey awskms.IKey
}

// ServiceRole is the role HealthLake assumes for SMART-authorized requests.
type ServiceRole struct {
	constructs.Construct
	role         awsiam.Role
	roleArn      *string
	datastoreArn *string
	props        ServiceRoleProps
}

// NewServiceRole creates the role. Call BindDatastore before synthesis; until
// then the role trusts nothing and synthesis fails with a validation error.
func NewServiceRole(scope constructs.Construct, id *string, props *ServiceRoleProps) *ServiceRole {
	if props == nil {
		props = &ServiceRoleProps{}
	}
	r := &ServiceRole{props: *props}
	// _Override makes r itself the jsii object, so it can be passed wherever a
	// construct is expected (Tags_Of, NagSuppressions, a scope).
	constructs.NewConstruct_Override(r, scope, id)
	this := r
	stack := awscdk.Stack_Of(this)

	// IAM names are global to the account: the region keeps two deployments of the
	// same stack in one account apart.
	name := fmt.Sprintf("%s-%s",
		*awscdk.Names_UniqueResourceName(this, &awscdk.UniqueResourceNameOptions{MaxLength: jsii.Number(48), Separator: jsii.String("-")}),
		*stack.Region())

	// The trust conditions resolve at synthesis time, once BindDatastore has
	// supplied the data store ARN.
	lazyArn := awscdk.Lazy_String(&datastoreArnProducer{r}, nil)
	r.role = awsiam.NewRole(this, jsii.String("Resource"), &awsiam.RoleProps{
		RoleName:    jsii.String(name),
		Description: jsii.String("Assumed by HealthLake to serve SMART on FHIR requests on one data store"),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String(HealthLakePrincipal), nil).WithConditions(&map[string]any{
			// Against the confused deputy: only this account's data store.
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
			"ArnEquals":    map[string]any{"aws:SourceArn": lazyArn},
		}),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	r.roleArn = stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("iam"),
		Region:       jsii.String(""),
		Resource:     jsii.String("role"),
		ResourceName: jsii.String(name),
	})
	this.Node().AddValidation(&boundValidation{r})
	return r
}

// Role returns the IAM role.
func (r *ServiceRole) Role() awsiam.IRole { return r.role }

// RoleArn returns the role's ARN formatted from its name, so that referencing it
// (in the token Lambda's environment) adds no dependency on the role resource.
func (r *ServiceRole) RoleArn() *string { return r.roleArn }

// DatastoreArn returns the ARN bound with BindDatastore, or nil.
func (r *ServiceRole) DatastoreArn() *string { return r.datastoreArn }

// BindDatastore restricts the role's trust (aws:SourceArn) and permissions to
// one data store. It may be called once.
func (r *ServiceRole) BindDatastore(datastoreArn *string) {
	if datastoreArn == nil || *datastoreArn == "" {
		panic(fmt.Sprintf("servicerole %s: BindDatastore: datastoreArn is required", *r.Node().Path()))
	}
	if r.datastoreArn != nil {
		panic(fmt.Sprintf("servicerole %s: BindDatastore was already called: a role serves one data store", *r.Node().Path()))
	}
	r.datastoreArn = datastoreArn

	actions := ReadActions()
	if r.props.ReadOnly == nil || !*r.props.ReadOnly {
		actions = append(actions, WriteActions()...)
	}
	r.role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("FhirDataPlane"),
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(*datastoreArn),
	}))
	if r.props.EncryptionKey != nil {
		r.props.EncryptionKey.Grant(r.role, jsii.String("kms:Decrypt"), jsii.String("kms:GenerateDataKey"), jsii.String("kms:DescribeKey"))
	}
}

type datastoreArnProducer struct{ r *ServiceRole }

// Produce implements awscdk.IStableStringProducer.
func (p *datastoreArnProducer) Produce() *string { return p.r.datastoreArn }

type boundValidation struct{ r *ServiceRole }

// Validate implements constructs.IValidation.
func (v *boundValidation) Validate() *[]*string {
	if v.r.datastoreArn == nil {
		return jsii.Strings("the HealthLake service role is not bound to a data store: call BindDatastore with the data store's ARN")
	}
	return &[]*string{}
}
