package cdktest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ApplyNagPacks adds cdk-nag's HIPAA Security and AWS Solutions packs to a
// stack. Call it before the stack is synthesized.
func ApplyNagPacks(stack awscdk.Stack) {
	props := &cdknag.NagPackProps{Reports: jsii.Bool(false), Verbose: jsii.Bool(true)}
	awscdk.Aspects_Of(stack).Add(cdknag.NewHIPAASecurityChecks(props), nil)
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(props), nil)
}

// NagFindings synthesizes a stack to which ApplyNagPacks was applied and returns
// every unsuppressed cdk-nag error and warning as "path: message".
func NagFindings(t testing.TB, stack awscdk.Stack) []string {
	t.Helper()
	var findings []string
	Must(t, func() {
		a := assertions.Annotations_FromStack(stack)
		all := assertions.Match_StringLikeRegexp(jsii.String(".*"))
		msgs := append(*a.FindError(jsii.String("*"), all), *a.FindWarning(jsii.String("*"), all)...)
		for _, m := range msgs {
			findings = append(findings, describeMessage(m))
		}
	})
	sort.Strings(findings)
	return findings
}

func describeMessage(m *cxapi.SynthesisMessage) string {
	data := ""
	if m.Entry != nil && m.Entry.Data != nil {
		if s, ok := m.Entry.Data.(string); ok {
			data = s
		} else if b, err := json.Marshal(m.Entry.Data); err == nil {
			data = string(b)
		}
	}
	return fmt.Sprintf("%s: %s", *m.Id, strings.SplitN(data, "\n", 2)[0])
}

// Suppression is one cdk-nag suppression found in a template's metadata.
type Suppression struct {
	// Resource is the logical id of the resource that carries it.
	Resource string
	// Rule is the suppressed rule, such as "HIPAA.Security-LambdaInsideVPC".
	Rule string
	// Reason is the justification.
	Reason string
	// AppliesTo narrows the suppression to findings such as "Resource::*".
	AppliesTo []any
}

// Suppressions lists every cdk-nag suppression in a synthesized template, so a
// test can hold each to a standard and reviewers can see them in one place.
func Suppressions(t testing.TB, tpl assertions.Template) []Suppression {
	t.Helper()
	raw, err := json.Marshal(tpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Metadata struct {
				CdkNag struct {
					RulesToSuppress []struct {
						ID        string `json:"id"`
						Reason    string `json:"reason"`
						AppliesTo []any  `json:"applies_to"`
					} `json:"rules_to_suppress"`
				} `json:"cdk_nag"`
			}
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var out []Suppression
	for id, res := range doc.Resources {
		for _, r := range res.Metadata.CdkNag.RulesToSuppress {
			out = append(out, Suppression{Resource: id, Rule: r.ID, Reason: r.Reason, AppliesTo: r.AppliesTo})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Resource != out[j].Resource {
			return out[i].Resource < out[j].Resource
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}
