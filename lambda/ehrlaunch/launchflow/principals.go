package launchflow

import (
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

// principals are the EHR principals allowed to register launches, worked out
// once when the server is built: the ARNs as configured and, for each role
// ARN, the prefix its STS sessions show as, so a request only compares strings.
type principals struct {
	exact    []string
	sessions []string // arn:<partition>:sts::<account>:assumed-role/<name>/
}

// newPrincipals copies allowed: a later change to the Config's slice does not
// change who is allowed.
func newPrincipals(allowed []string) principals {
	p := principals{exact: slices.Clone(allowed)}
	for _, a := range allowed {
		// A role's session shows as arn:aws:sts::<account>:assumed-role/<name>/<session>
		// (IAM User Guide, "IAM identifiers": role paths are not part of it).
		if partition, account, name, ok := ehrlaunchenv.RoleParts(a); ok {
			p.sessions = append(p.sessions, "arn:"+partition+":sts::"+account+":assumed-role/"+name+"/")
		}
	}
	return p
}

// allow reports whether a SigV4 caller, as API Gateway reports it in
// requestContext.identity.userArn, is one of the allowed principals or a
// session of one of the allowed roles.
func (p principals) allow(caller string) bool {
	if slices.Contains(p.exact, caller) {
		return true
	}
	for _, prefix := range p.sessions {
		if rest, ok := strings.CutPrefix(caller, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
			return true
		}
	}
	return false
}
