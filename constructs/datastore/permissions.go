package datastore

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/internal/jsiiptr"
)

// The handler roles' permissions, in one place.
//
// Source: the CloudFormation registry schema of AWS::HealthLake::FHIRDatastore
// (aws-healthlake-fhirdatastore.json, handlers.create/update/delete.permissions),
// CloudFormation's own handler for the same HealthLake calls. HealthLake sets
// up the data store's Lake Formation resource link (a RAM share invitation it
// accepts, a Glue database) and checks the caller's rights on the IdP function,
// the key and the service-linked role with the CALLER's credentials, so a
// caller that lacks one of these fails where CloudFormation's own resource
// would succeed. Each role holds the lists of the operations it performs
// (handlerOperations), plus what the handler itself calls besides HealthLake
// (ownActions), each action granted by exactly one statement of grants.

// operation is a HealthLake call one of CloudFormation's handlers makes.
type operation string

const (
	opCreate operation = "create" // CreateFHIRDatastore
	opUpdate operation = "update" // UpdateFHIRDatastore (and the tag calls)
	opDelete operation = "delete" // DeleteFHIRDatastore
)

// registryPermissions are the schema's lists, verbatim.
var registryPermissions = map[operation][]string{
	opCreate: {
		"healthlake:CreateFHIRDatastore", "healthlake:DescribeFHIRDatastore", "iam:PassRole",
		"kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt",
		"iam:GetRole", "iam:CreateServiceLinkedRole",
		"ram:GetResourceShareInvitations", "ram:AcceptResourceShareInvitation",
		"glue:CreateDatabase", "glue:DeleteDatabase", "lambda:InvokeFunction",
		"healthlake:TagResource", "healthlake:UntagResource", "healthlake:ListTagsForResource",
	},
	opUpdate: {
		"healthlake:TagResource", "healthlake:UntagResource", "healthlake:ListTagsForResource",
		"healthlake:DescribeFHIRDatastore", "iam:PassRole", "iam:GetRole", "iam:CreateServiceLinkedRole",
	},
	opDelete: {
		"healthlake:DeleteFHIRDatastore", "healthlake:DescribeFHIRDatastore", "iam:PassRole",
		"iam:GetRole", "iam:CreateServiceLinkedRole",
		"ram:GetResourceShareInvitations", "ram:AcceptResourceShareInvitation",
		"glue:CreateDatabase", "glue:DeleteDatabase",
	},
}

// handlerRole names the two handler functions' roles.
type handlerRole string

const (
	onEventHandler    handlerRole = "onEvent"
	isCompleteHandler handlerRole = "isComplete"
)

// handlerOperations are the HealthLake calls each handler makes: onEvent
// creates, updates in place and deletes; isComplete deletes a data store that
// a rolled-back first creation left CREATING, once it leaves CREATING.
var handlerOperations = map[handlerRole][]operation{
	onEventHandler:    {opCreate, opUpdate, opDelete},
	isCompleteHandler: {opDelete},
}

// ownActions are what this handler calls besides what the registry lists:
//   - healthlake:UpdateFHIRDatastore (onEvent): CloudFormation's update
//     handler never calls it, because every IdentityProviderConfiguration field
//     is create-only there; this handler changes them in place;
//   - healthlake:ListFHIRDatastores, then healthlake:ListTagsForResource (both
//     handlers): finding a data store this resource created whose create
//     call's answer was lost, by the tags naming the stack and the logical id;
//     the handler's lifecycle paths make these calls from both functions;
//   - healthlake:TagResource (onEvent only): a Delete that retains a data
//     store tags it retained-by, a rollback Update tags the replacement it
//     turns away from abandoned-by (lambda/datastore/handler: release and
//     update call Handler.tag; syncTags tags on Update). isComplete only
//     describes, lists, reads tags and deletes, so it gets no tagging right;
//   - cloudformation:DescribeStacks (both handlers, this stack only): onEvent
//     decides with it whether a Delete comes from a rollback and when the
//     stack's operation began; isComplete reads the stack itself when
//     onEvent could not, so that a cancelled replacement or orphan is still
//     found.
var ownActions = map[handlerRole][]string{
	onEventHandler: {
		"healthlake:UpdateFHIRDatastore",
		"healthlake:ListFHIRDatastores", "healthlake:TagResource", "healthlake:ListTagsForResource",
		"cloudformation:DescribeStacks",
	},
	isCompleteHandler: {
		"healthlake:ListFHIRDatastores", "healthlake:ListTagsForResource",
		"cloudformation:DescribeStacks",
	},
}

// healthLakeService is HealthLake's service principal: the iam:AWSServiceName
// of its service-linked role, the iam:PassedToService of a role passed to it,
// and the path segment of its service-linked role
// (role/aws-service-role/<service principal>/, IAM's form for every
// service-linked role).
const healthLakeService = "healthlake.amazonaws.com"

// grantContext is what the statements' resources and conditions are made of.
type grantContext struct {
	stack awscdk.Stack
	s     settings
}

// grant is one statement: the actions it may hold, where and under which
// conditions. A role gets the statement with the actions of its lists only.
type grant struct {
	sid     string
	actions []string
	// keyOnly grants apply only with a customer-managed key: with an AWS-owned
	// key HealthLake uses its own key and the caller's KMS rights are never
	// checked.
	keyOnly    bool
	resources  func(grantContext) []*string
	conditions func(grantContext) map[string]any
}

// grants say why each action is there and how tightly it is scoped; every
// action of registryPermissions and ownActions is in exactly one.
var grants = []grant{
	{
		// The data store's own ARN exists only once the resource that depends on
		// this role has created it (naming it would be a dependency cycle): this
		// account's and region's FHIR data stores.
		sid: "ManageDatastores",
		actions: []string{
			"healthlake:DescribeFHIRDatastore", "healthlake:UpdateFHIRDatastore", "healthlake:DeleteFHIRDatastore",
			"healthlake:TagResource", "healthlake:UntagResource", "healthlake:ListTagsForResource",
		},
		resources: func(c grantContext) []*string { return []*string{datastoreArnPattern(c.stack)} },
	},
	{
		// The Service Authorization Reference lists no resource type for
		// CreateFHIRDatastore (only the aws:RequestTag and aws:TagKeys condition
		// keys): a narrower resource would never match.
		sid:       "CreateDatastores",
		actions:   []string{"healthlake:CreateFHIRDatastore"},
		resources: anyResource,
	},
	{
		// No resource type for ListFHIRDatastores either (a List action of the
		// account and region).
		sid:       "ListDatastores",
		actions:   []string{"healthlake:ListFHIRDatastores"},
		resources: anyResource,
	},
	{
		// HealthLake creates its service-linked role with the caller's rights when
		// the account has none yet: only that role, by the service's name.
		sid:       "CreateHealthLakeServiceLinkedRole",
		actions:   []string{"iam:CreateServiceLinkedRole"},
		resources: func(c grantContext) []*string { return []*string{serviceLinkedRoleArnPattern(c.stack)} },
		conditions: func(grantContext) map[string]any {
			return map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": healthLakeService}}
		},
	},
	{
		// HealthLake reads its service-linked role to see whether it exists.
		sid:       "ReadHealthLakeServiceLinkedRole",
		actions:   []string{"iam:GetRole"},
		resources: func(c grantContext) []*string { return []*string{serviceLinkedRoleArnPattern(c.stack)} },
	},
	{
		// The handler passes no role: Create, Update and Delete take none (a role
		// ARN is only a parameter of the import and export jobs), and the service
		// role HealthLake assumes per request is named by the IdP function's
		// answer, governed by that role's trust policy. What the schema's
		// iam:PassRole can cover is HealthLake handing its own service-linked role
		// on, so it is limited to that role and to HealthLake.
		sid:       "PassHealthLakeServiceLinkedRole",
		actions:   []string{"iam:PassRole"},
		resources: func(c grantContext) []*string { return []*string{serviceLinkedRoleArnPattern(c.stack)} },
		conditions: func(grantContext) map[string]any {
			return map[string]any{"StringEquals": map[string]any{"iam:PassedToService": healthLakeService}}
		},
	},
	{
		// HealthLake shares the data store's Lake Formation database from its own
		// account through RAM and accepts the invitation with the caller's rights.
		// GetResourceShareInvitations has no resource type in the Service
		// Authorization Reference, so it is granted on *.
		sid:       "ReadResourceShareInvitations",
		actions:   []string{"ram:GetResourceShareInvitations"},
		resources: anyResource,
	},
	{
		// An invitation's ARN names the sharing (HealthLake's) account, unknown
		// here: invitations of this region, from any account.
		sid:     "AcceptResourceShareInvitations",
		actions: []string{"ram:AcceptResourceShareInvitation"},
		resources: func(c grantContext) []*string {
			return []*string{c.stack.FormatArn(&awscdk.ArnComponents{
				Service: jsii.String("ram"), Account: jsii.String("*"),
				Resource: jsii.String("resource-share-invitation"), ResourceName: jsii.String("*"),
			})}
		},
	},
	{
		// The resource link to the shared database is a Glue database HealthLake
		// names itself (created at create, dropped at delete). Glue checks a
		// Data Catalog operation against the resource and its ancestors, and a
		// delete against its children as well (AWS Glue Developer Guide,
		// "Specifying AWS Glue resource ARNs": DeleteDatabase needs the catalog,
		// the database, table/<database>/* and userDefinedFunction/<database>/*),
		// so the tables and functions come in too. This account's catalog, its
		// databases and their tables and functions only.
		sid:     "ManageLakeFormationResourceLink",
		actions: []string{"glue:CreateDatabase", "glue:DeleteDatabase"},
		resources: func(c grantContext) []*string {
			glue := func(resource, name string) *string {
				arn := &awscdk.ArnComponents{Service: jsii.String("glue"), Resource: jsii.String(resource)}
				if name != "" {
					arn.ResourceName = jsii.String(name)
				}
				return c.stack.FormatArn(arn)
			}
			return []*string{glue("catalog", ""), glue("database", "*"), glue("table", "*"), glue("userDefinedFunction", "*")}
		},
	},
	{
		// HealthLake checks that the caller may invoke the IdpLambdaArn it is given:
		// exactly that ARN (alias-qualified when an alias is given).
		sid:       "AllowHealthLakeToUseIdpFunction",
		actions:   []string{"lambda:InvokeFunction"},
		resources: func(c grantContext) []*string { return []*string{c.s.IdpFunction.FunctionArn()} },
	},
	{
		// This stack only, by its exact id (the StackId of every event): under the
		// retain policy a Delete deletes the data store only when the stack's
		// first creation is being rolled back, which the stack's status tells;
		// the orphan look-ups take their time bound from it.
		sid:       "ReadThisStackStatus",
		actions:   []string{"cloudformation:DescribeStacks"},
		resources: func(c grantContext) []*string { return []*string{c.stack.StackId()} },
	},
	{
		// HealthLake uses the key with the caller's credentials while it sets the
		// data store up: only the data store's key, only through HealthLake.
		sid:       "UseDataKeyViaHealthLake",
		actions:   []string{"kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"},
		keyOnly:   true,
		resources: func(c grantContext) []*string { return []*string{c.s.EncryptionKey.KeyArn()} },
		conditions: func(c grantContext) map[string]any {
			return map[string]any{"StringEquals": viaHealthLake(c.stack.Region())}
		},
	},
	{
		// The grant HealthLake keeps on the key for the data store's lifetime:
		// through HealthLake, and for an AWS resource only.
		sid:       "GrantDataKeyToHealthLake",
		actions:   []string{"kms:CreateGrant"},
		keyOnly:   true,
		resources: func(c grantContext) []*string { return []*string{c.s.EncryptionKey.KeyArn()} },
		conditions: func(c grantContext) map[string]any {
			return map[string]any{
				"StringEquals": viaHealthLake(c.stack.Region()),
				"Bool":         map[string]any{"kms:GrantIsForAWSResource": "true"},
			}
		},
	},
}

// handlerActions are the actions h needs: the registry's lists of its
// operations and its own actions, without duplicates, sorted.
func handlerActions(h handlerRole) []string {
	var out []string
	for _, op := range handlerOperations[h] {
		out = append(out, registryPermissions[op]...)
	}
	out = append(out, ownActions[h]...)
	slices.Sort(out)
	return slices.Compact(out)
}

// policiesFor builds h's statements from grants: each grant with the actions
// h needs, in the order of grants. It panics when an action h needs has no
// grant, so a list can't grow without its scope being decided.
func policiesFor(scope constructs.Construct, s settings, h handlerRole) []awsiam.PolicyStatement {
	c := grantContext{stack: awscdk.Stack_Of(scope), s: s}
	needed := handlerActions(h)
	covered := map[string]bool{}
	var out []awsiam.PolicyStatement
	for _, g := range grants {
		var actions []string
		for _, a := range g.actions {
			if slices.Contains(needed, a) {
				actions = append(actions, a)
				covered[a] = true
			}
		}
		if len(actions) == 0 || (g.keyOnly && s.EncryptionKey == nil) {
			continue
		}
		props := &awsiam.PolicyStatementProps{
			Sid:       jsii.String(g.sid),
			Actions:   jsii.Strings(actions...),
			Resources: jsiiptr.To(g.resources(c)),
		}
		if g.conditions != nil {
			props.Conditions = jsiiptr.To(g.conditions(c))
		}
		out = append(out, awsiam.NewPolicyStatement(props))
	}
	for _, a := range needed {
		if !covered[a] {
			panic(fmt.Sprintf("datastore: %s needs %s, which no grant scopes", h, a))
		}
	}
	return out
}

// datastoreArnPattern matches every HealthLake FHIR data store of the stack's
// account and region.
func datastoreArnPattern(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("healthlake"),
		Resource:     jsii.String("datastore"),
		ResourceName: jsii.String("fhir/*"),
	})
}

// serviceLinkedRoleArnPattern is HealthLake's service-linked role in this
// account: IAM puts every service-linked role under
// /aws-service-role/<service principal>/, and IAM ARNs have no region.
func serviceLinkedRoleArnPattern(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("iam"),
		Region:       jsii.String(""),
		Resource:     jsii.String("role"),
		ResourceName: jsii.String("aws-service-role/" + healthLakeService + "/*"),
	})
}

// viaHealthLake is the kms:ViaService condition on every use of the data store's
// key: calls HealthLake makes on a principal's behalf. Both service names are
// accepted: the regional one (healthlake.<region>.amazonaws.com, the usual form
// of kms:ViaService) and healthlake.amazonaws.com, which HealthLake's own key
// policy example uses. kms:ViaService is single-valued, so the list under
// StringEquals matches either value (ForAnyValue is for multivalued keys).
func viaHealthLake(region *string) map[string]any {
	return map[string]any{"kms:ViaService": []string{
		"healthlake." + *region + ".amazonaws.com",
		"healthlake.amazonaws.com",
	}}
}

// anyResource is for actions without a resource type.
func anyResource(grantContext) []*string { return []*string{jsii.String("*")} }
