package cdktest

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

// NewCdkJSONStack returns a stack with the given id in Account and Region, in
// an app with cdk.json's context (CdkJSONContext): a construct's tests then
// synthesize with the feature flags users get.
func NewCdkJSONStack(t testing.TB, id string) awscdk.Stack {
	t.Helper()
	return NewStackIn(NewApp(t, CdkJSONContext(t)), id)
}

// Prefixed keeps the resources whose logical id starts with prefix (the id of
// the construct under test) but with none of except (siblings whose id starts
// the same, such as an "OktaCredential" beside an "Okta").
func Prefixed(all map[string]Resource, prefix string, except ...string) map[string]Resource {
	out := map[string]Resource{}
next:
	for id, r := range all {
		if !strings.HasPrefix(id, prefix) {
			continue
		}
		for _, x := range except {
			if strings.HasPrefix(id, x) {
				continue next
			}
		}
		out[id] = r
	}
	return out
}

// PolicyStatements returns the statements of the given AWS::IAM::Policy
// resources (from OfType), by policy logical id, read as RoleStatements reads
// them.
func PolicyStatements(t testing.TB, policies map[string]Resource) map[string][]Statement {
	t.Helper()
	out := map[string][]Statement{}
	for id, p := range policies {
		out[id] = statementsOf(t, id, p)
	}
	return out
}

// RequireNoManagedPolicy fails the test when one of roles (AWS::IAM::Role
// resources, from OfType) has a managed policy: AWSLambdaBasicExecutionRole,
// the one CDK adds, writes to every log group of the account.
func RequireNoManagedPolicy(t testing.TB, roles map[string]Resource) {
	t.Helper()
	for id, r := range roles {
		if r.Properties["ManagedPolicyArns"] != nil {
			t.Errorf("role %s has a managed policy: %v", id, r.Properties["ManagedPolicyArns"])
		}
	}
}

// RequireJustified fails the test for each suppression whose rule or reason
// nagexcuse.Check refuses: the standard every construct's excuses are held to.
func RequireJustified(t testing.TB, suppressions []Suppression) {
	t.Helper()
	for _, s := range suppressions {
		if err := nagexcuse.Check(nagexcuse.Excuse{Rule: s.Rule, Reason: s.Reason}); err != nil {
			t.Errorf("suppression on %s: %v", s.Resource, err)
		}
	}
}

// SuppressInStack excuses rules for the whole stack, as an app does for the
// findings it decides once for all its constructs (or a test for a fixture
// that is not under test).
func SuppressInStack(stack awscdk.Stack, reason string, rules ...string) {
	var s []*cdknag.NagPackSuppression
	for _, r := range rules {
		s = append(s, &cdknag.NagPackSuppression{Id: jsii.String(r), Reason: jsii.String(reason)})
	}
	cdknag.NagSuppressions_AddStackSuppressions(stack, &s, nil)
}

// PanicsNaming runs f, which must panic, and fails the test unless the message
// holds every one of want: the constructor and id it names, the prop.
func PanicsNaming(t testing.TB, f func(), want ...string) {
	t.Helper()
	msg := Panics(t, f)
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("the panic %q does not name %q", msg, w)
		}
	}
}
