package launchflow

import (
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

// principalAllowed reports whether a SigV4 caller, as API Gateway reports it
// in requestContext.identity.userArn, is one of the allowed roles. A role's
// session shows as arn:aws:sts::<account>:assumed-role/<name>/<session>
// (IAM User Guide, "IAM identifiers": role paths are not part of it).
func principalAllowed(allowed []string, caller string) bool {
	for _, a := range allowed {
		if caller == a {
			return true
		}
		partition, account, name, ok := ehrlaunchenv.RoleParts(a)
		if !ok {
			continue
		}
		prefix := "arn:" + partition + ":sts::" + account + ":assumed-role/" + name + "/"
		if rest, ok := strings.CutPrefix(caller, prefix); ok && rest != "" && !strings.Contains(rest, "/") {
			return true
		}
	}
	return false
}
