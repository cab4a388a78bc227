// Package nagexcuse builds this module's cdk-nag suppressions. Each one names
// its rule, sits on the resource it excuses and gives a reason specific to
// that resource, which a reviewer reads in the template's metadata; a vague or
// short reason fails the synthesis instead of reaching the template.
package nagexcuse

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// MinReason is the length under which a reason is taken for a placeholder:
// a specific reason says what the resource does and why the rule does not
// apply, which takes more than a few words.
const MinReason = 60

// rule is how cdk-nag's packs name their rules: the pack, then the rule.
var rule = regexp.MustCompile(`^(HIPAA\.Security|AwsSolutions)-[A-Za-z0-9]+$`)

// vague are the words of a reason that excuses nothing.
var vague = []string{"todo", "not needed", "false positive"}

// Excuse is one suppressed cdk-nag rule.
type Excuse struct {
	// Rule is the rule's id, such as "AwsSolutions-IAM5".
	Rule string
	// Reason says why the rule does not apply to this resource.
	Reason string
	// AppliesTo narrows the suppression to the findings listed, such as
	// "Resource::*" or a *cdknag.RegexAppliesTo. Default: every finding of
	// the rule on the resource.
	AppliesTo []any
}

// Check returns why an excuse would not pass review, or nil: a rule cdk-nag's
// packs do not name so, or a reason shorter than MinReason or holding a word
// that excuses nothing (TODO, "not needed", "false positive").
func Check(e Excuse) error {
	switch {
	case !rule.MatchString(e.Rule):
		return fmt.Errorf("cdk-nag rule %q is not a rule of the HIPAA Security or AWS Solutions packs", e.Rule)
	case len(e.Reason) < MinReason:
		return fmt.Errorf("the reason for %s must be specific (at least %d characters), got %q", e.Rule, MinReason, e.Reason)
	}
	for _, w := range vague {
		if strings.Contains(strings.ToLower(e.Reason), w) {
			return fmt.Errorf("the reason for %s must be specific, not %q: %q", e.Rule, w, e.Reason)
		}
	}
	return nil
}

// On adds the excuses to resource, and with children to every construct
// under it (a function's CloudFormation resource, a role's default policy).
// It panics when an excuse fails Check: a suppression without a real reason
// is a bug of the construct, found at synthesis.
func On(resource constructs.IConstruct, children bool, excuses ...Excuse) {
	suppressions := make([]*cdknag.NagPackSuppression, 0, len(excuses))
	for _, e := range excuses {
		if err := Check(e); err != nil {
			panic(fmt.Sprintf("nagexcuse.On(%s): %v", *resource.Node().Path(), err))
		}
		s := &cdknag.NagPackSuppression{Id: jsii.String(e.Rule), Reason: jsii.String(e.Reason)}
		if e.AppliesTo != nil {
			appliesTo := e.AppliesTo
			s.AppliesTo = &appliesTo
		}
		suppressions = append(suppressions, s)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(resource, &suppressions, jsii.Bool(children))
}
