package servicerole_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/servicerole"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

const dsArn = "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/0123456789abcdef0123456789abcdef"

func TestTheRoleTrustsOnlyHealthLakeForThisAccountAndDatastore(t *testing.T) {
	stack := cdktest.NewStack(t)
	r := servicerole.NewServiceRole(stack, jsii.String("Role"), nil)
	r.BindDatastore(jsii.String(dsArn))
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
			"AssumeRolePolicyDocument": map[string]any{
				"Statement": []any{map[string]any{
					"Action":    "sts:AssumeRole",
					"Effect":    "Allow",
					"Principal": map[string]any{"Service": "healthlake.amazonaws.com"},
					"Condition": map[string]any{
						"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
						"ArnEquals":    map[string]any{"aws:SourceArn": dsArn},
					},
				}},
			},
		})
	})
}

// readActions are HealthLake's FHIR read actions on the datastore resource
// type (the Service Authorization Reference for HealthLake).
var readActions = []string{"healthlake:ReadResource", "healthlake:SearchWithGet", "healthlake:SearchWithPost", "healthlake:GetCapabilities"}

func TestPermissionsCoverOnlyTheDatastore(t *testing.T) {
	for name, c := range map[string]struct {
		readOnly *bool
		actions  []string
	}{
		"read-write by default": {nil, append(slices.Clone(readActions), "healthlake:CreateResource", "healthlake:UpdateResource",
			"healthlake:DeleteResource")},
		"read-only on request": {jsii.Bool(true), readActions},
	} {
		t.Run(name, func(t *testing.T) {
			stack := cdktest.NewStack(t)
			r := servicerole.NewServiceRole(stack, jsii.String("Role"), &servicerole.ServiceRoleProps{ReadOnly: c.readOnly})
			r.BindDatastore(jsii.String(dsArn))
			tpl := cdktest.Template(t, stack)
			cdktest.Try(t, func() {
				tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
					"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
						"Sid": "FhirDataPlane", "Effect": "Allow", "Action": c.actions, "Resource": dsArn,
					}}},
				})
			})
		})
	}
}

func TestACustomerManagedKeyIsGrantedToTheRole(t *testing.T) {
	stack := cdktest.NewStack(t)
	key := awskms.NewKey(stack, jsii.String("Key"), nil)
	r := servicerole.NewServiceRole(stack, jsii.String("Role"), &servicerole.ServiceRoleProps{EncryptionKey: key})
	r.BindDatastore(jsii.String(dsArn))
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{map[string]any{
				"Effect": "Allow", "Action": []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"},
				"Resource": map[string]any{"Fn::GetAtt": []string{"Key961B73FD", "Arn"}},
			}})},
		})
	})
}

func TestAnUnboundRoleFailsSynthesis(t *testing.T) {
	stack := cdktest.NewStack(t)
	servicerole.NewServiceRole(stack, jsii.String("Role"), nil)
	msg := cdktest.Panics(t, func() { assertions.Template_FromStack(stack, nil) })
	require.Contains(t, msg, "not bound to a data store")
}

func TestBindingTwiceIsRefused(t *testing.T) {
	stack := cdktest.NewStack(t)
	r := servicerole.NewServiceRole(stack, jsii.String("Role"), nil)
	r.BindDatastore(jsii.String(dsArn))
	require.Contains(t, cdktest.Panics(t, func() { r.BindDatastore(jsii.String(dsArn)) }), "already called")
}

// TestTheWiringHasNoDependencyCycle reproduces the real wiring: the Lambda's
// environment holds the role ARN, the data store references the Lambda, and the
// role's trust references the data store.
func TestTheWiringHasNoDependencyCycle(t *testing.T) {
	stack := cdktest.NewStack(t)
	r := servicerole.NewServiceRole(stack, jsii.String("Role"), nil)
	fn := awslambda.NewFunction(stack, jsii.String("Idp"), &awslambda.FunctionProps{
		Runtime:     awslambda.Runtime_NODEJS_22_X(),
		Handler:     jsii.String("index.handler"),
		Code:        awslambda.Code_FromInline(jsii.String("x")),
		Environment: &map[string]*string{"HEALTHLAKE_ROLE_ARN": r.RoleArn()},
	})
	ds := awscdk.NewCfnResource(stack, jsii.String("Datastore"), &awscdk.CfnResourceProps{
		Type:       jsii.String("Custom::Datastore"),
		Properties: &map[string]any{"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:x", "IdpLambdaArn": fn.FunctionArn()},
	})
	r.BindDatastore(ds.GetAtt(jsii.String("DatastoreArn"), awscdk.ResolutionTypeHint_STRING).ToString())

	tpl := cdktest.Template(t, stack) // a cycle fails synthesis here
	for id, res := range cdktest.OfType(cdktest.Resources(t, tpl), "AWS::Lambda::Function") {
		env, _ := json.Marshal(res.Properties["Environment"])
		require.NotContains(t, string(env), "RoleDB", "the Lambda %s must not reference the role resource", id)
		require.Contains(t, string(env), ":role/", "the role ARN is formatted from the name")
	}
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{assertions.Match_ObjectLike(&map[string]any{
				"Condition": map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
					"ArnEquals":    map[string]any{"aws:SourceArn": map[string]any{"Fn::GetAtt": []string{"Datastore", "DatastoreArn"}}},
				},
			})}},
		})
	})
}

func TestTheFormattedArnNamesTheRealRole(t *testing.T) {
	stack := cdktest.NewStack(t)
	r := servicerole.NewServiceRole(stack, jsii.String("Role"), nil)
	r.BindDatastore(jsii.String(dsArn))
	tpl := cdktest.Template(t, stack)
	name := assertions.NewCapture(nil)
	cdktest.Must(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{"RoleName": name})
	})
	arn, err := json.Marshal(stack.Resolve(r.RoleArn()))
	require.NoError(t, err)
	require.JSONEq(t, `{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::123456789012:role/`+*name.AsString()+`"]]}`, string(arn))
	require.True(t, strings.HasSuffix(*name.AsString(), "-us-east-1"), "the region keeps deployments apart")
	require.LessOrEqual(t, len(*name.AsString()), 64)
}

func TestTheConstructIsAJsiiObject(t *testing.T) {
	// Users pass constructs to Tags_Of, NagSuppressions and as scopes: that only
	// works when the Go struct itself is the jsii object.
	stack := cdktest.NewStack(t)
	r := servicerole.NewServiceRole(stack, jsii.String("Role"), nil)
	r.BindDatastore(jsii.String(dsArn))
	awscdk.Tags_Of(r).Add(jsii.String("Team"), jsii.String("fhir"), nil)
	require.Equal(t, "Role", *awscdk.Stack_Of(r).Node().FindChild(jsii.String("Role")).Node().Id())
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
			"Tags": []any{map[string]any{"Key": "Team", "Value": "fhir"}},
		})
	})
}

func TestTheActionListsCannotBeWidenedByTheirCallers(t *testing.T) {
	read, write := servicerole.ReadActions(), servicerole.WriteActions()
	read[0], write[0] = "healthlake:*", "healthlake:*"
	require.Equal(t, readActions, servicerole.ReadActions(), "a caller's change stays in its own copy")
	require.Equal(t, "healthlake:CreateResource", servicerole.WriteActions()[0])

	stack := cdktest.NewStack(t)
	servicerole.NewServiceRole(stack, jsii.String("Role"), nil).BindDatastore(jsii.String(dsArn))
	policy, _ := json.Marshal(cdktest.OfType(cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::IAM::Policy"))
	require.NotContains(t, string(policy), "healthlake:*")
}
