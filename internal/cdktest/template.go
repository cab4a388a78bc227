package cdktest

import (
	"encoding/json"
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Account and Region are the environment of the stacks NewStack and NewStackIn
// make.
const (
	Account = "123456789012"
	Region  = "us-east-1"
)

// NewStack returns a stack "S" in Account and Region, in an app from NewApp with
// no extra context.
func NewStack(t testing.TB) awscdk.Stack {
	t.Helper()
	return NewStackIn(NewApp(t, nil), "S")
}

// NewStackIn returns a stack with the given id in Account and Region, for tests
// that need their own app context (such as CdkJSONContext) or stack name.
func NewStackIn(app awscdk.App, id string) awscdk.Stack {
	return awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{
		Env: &awscdk.Environment{Account: jsii.String(Account), Region: jsii.String(Region)},
	})
}

// Resource is one entry of a synthesized template's Resources.
type Resource struct {
	Type           string
	Properties     map[string]any
	DependsOn      []string
	DeletionPolicy string
	Metadata       map[string]any
}

// Resources returns every resource of a synthesized template, by logical id.
func Resources(t testing.TB, tpl assertions.Template) map[string]Resource {
	t.Helper()
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatalf("rendering the template: %v", err)
	}
	var doc struct{ Resources map[string]Resource }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("reading the template's resources: %v", err)
	}
	return doc.Resources
}

// OfType keeps the resources of one CloudFormation type, such as
// "AWS::Lambda::Function".
func OfType(all map[string]Resource, typ string) map[string]Resource {
	out := map[string]Resource{}
	for id, r := range all {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// Only returns the logical id and the resource of the one resource of a type,
// failing the test when there is none or more than one.
func Only(t testing.TB, all map[string]Resource, typ string) (string, Resource) {
	t.Helper()
	found := OfType(all, typ)
	if len(found) != 1 {
		ids := make([]string, 0, len(found))
		for id := range found {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		t.Fatalf("want exactly one resource of type %s, got %d: %v", typ, len(found), ids)
	}
	for id, r := range found {
		return id, r
	}
	return "", Resource{}
}

// Ref is the template's reference to the resource or parameter with a logical id.
func Ref(id string) map[string]any { return map[string]any{"Ref": id} }

// GetAtt is the template's reference to an attribute of the resource with a
// logical id.
func GetAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

// Resolved renders a CDK value (a token or a literal) as the stack's template
// shows it, so it can be compared with what Resources returns.
func Resolved(t testing.TB, stack awscdk.Stack, v any) any {
	t.Helper()
	var resolved any
	Must(t, func() { resolved = stack.Resolve(v) })
	raw, err := json.Marshal(resolved)
	if err != nil {
		t.Fatalf("rendering a resolved value: %v", err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("reading a resolved value: %v", err)
	}
	return out
}

// LogicalID returns the logical id of a construct's CloudFormation resource (its
// default child).
func LogicalID(t testing.TB, c constructs.IConstruct) string {
	t.Helper()
	res, ok := c.Node().DefaultChild().(awscdk.CfnResource)
	if !ok {
		t.Fatalf("%s has no CloudFormation resource as its default child", *c.Node().Path())
	}
	id, ok := Resolved(t, awscdk.Stack_Of(c), res.LogicalId()).(string)
	if !ok {
		t.Fatalf("the logical id of %s does not resolve to a string", *c.Node().Path())
	}
	return id
}

// AsList returns a template value that may be one item or a list of them (such
// as a policy statement's Action or Resource) as a list; nil stays nil.
func AsList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// Statement is an IAM policy statement of a template, with Action and Resource
// as lists.
type Statement struct {
	Sid       string
	Effect    string
	Actions   []string
	Resources []any
	Condition map[string]any
}

// RoleStatements returns the statements of every AWS::IAM::Policy attached to
// the role with logical id roleID, failing the test on a statement it cannot
// read (no Effect, an Action that is not a string).
func RoleStatements(t testing.TB, all map[string]Resource, roleID string) []Statement {
	t.Helper()
	var out []Statement
	for id, p := range OfType(all, "AWS::IAM::Policy") {
		attached := false
		for _, r := range AsList(p.Properties["Roles"]) {
			if m, _ := r.(map[string]any); m["Ref"] == roleID {
				attached = true
			}
		}
		if !attached {
			continue
		}
		out = append(out, statementsOf(t, id, p)...)
	}
	return out
}

// statementsOf reads the statements of the AWS::IAM::Policy id.
func statementsOf(t testing.TB, id string, p Resource) []Statement {
	t.Helper()
	doc, ok := p.Properties["PolicyDocument"].(map[string]any)
	if !ok {
		t.Fatalf("policy %s has no PolicyDocument", id)
	}
	var out []Statement
	for _, s := range AsList(doc["Statement"]) {
		m, ok := s.(map[string]any)
		if !ok {
			t.Fatalf("policy %s has a statement that is not an object: %v", id, s)
		}
		st := Statement{Resources: AsList(m["Resource"])}
		if st.Effect, ok = m["Effect"].(string); !ok {
			t.Fatalf("policy %s has a statement without an Effect: %v", id, m)
		}
		st.Sid, _ = m["Sid"].(string)
		st.Condition, _ = m["Condition"].(map[string]any)
		for _, a := range AsList(m["Action"]) {
			action, ok := a.(string)
			if !ok {
				t.Fatalf("policy %s has an Action that is not a string: %v", id, a)
			}
			st.Actions = append(st.Actions, action)
		}
		out = append(out, st)
	}
	return out
}

// RoleOf returns the logical id of the role a Lambda function resource runs as.
func RoleOf(t testing.TB, fn Resource) string {
	t.Helper()
	role, _ := fn.Properties["Role"].(map[string]any)
	att, _ := role["Fn::GetAtt"].([]any)
	var id string
	if len(att) > 0 {
		id, _ = att[0].(string)
	}
	if id == "" {
		t.Fatalf("the function's Role is not a Fn::GetAtt of a role: %v", fn.Properties["Role"])
	}
	return id
}

// LogGroupOf returns the logical id of the log group a Lambda function resource
// logs to (its LoggingConfig.LogGroup).
func LogGroupOf(t testing.TB, fn Resource) string {
	t.Helper()
	lc, _ := fn.Properties["LoggingConfig"].(map[string]any)
	lg, _ := lc["LogGroup"].(map[string]any)
	id, ok := lg["Ref"].(string)
	if !ok {
		t.Fatalf("the function logs to no log group of the template: LoggingConfig %v", fn.Properties["LoggingConfig"])
	}
	return id
}
