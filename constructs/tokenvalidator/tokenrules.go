package tokenvalidator

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

// TokenRules says how the tokens of an authorization server other than the
// Okta one this project provisions are read. The zero value reads Okta's and
// RFC 9068's shapes (scp, else scope) and requires an accepted aud.
type TokenRules struct {
	// ScopeClaim is the claim holding the scopes: "scope" (RFC 9068:
	// Keycloak, Auth0, Ping, Cognito) or "scp" (Okta, Entra ID).
	// Default: scp when present, else scope.
	ScopeClaim *string
	// ClientIds, when given, is an allow-list: a token's client (client_id,
	// Okta's cid, Entra ID's azp or appid) must be in it. Default: any client.
	ClientIds *[]*string
	// ClientIdsStandInForAudience accepts a token that has NO aud when its
	// client is in ClientIds (Amazon Cognito's access tokens carry none).
	// Refused without ClientIds. Default: false (aud is required).
	ClientIdsStandInForAudience *bool
	// ScopeMap rewrites token scopes into SMART's form: each key is a prefix
	// of a token scope and is replaced by its value; the longest matching key
	// wins; scopes no key matches are kept. For Entra ID's dotted scope names:
	// {"patient.": "patient/", "user.": "user/", "system.": "system/"}.
	// Default: no rewriting.
	ScopeMap *map[string]*string
}

func (r *TokenRules) problems() []string {
	if r == nil {
		return nil
	}
	var errs []string
	if r.ClientIds != nil {
		for i, c := range *r.ClientIds {
			switch {
			case c == nil || *c == "":
				errs = append(errs, fmt.Sprintf("props.TokenRules.ClientIds[%d] is empty", i))
			case !*awscdk.Token_IsUnresolved(c) && strings.ContainsAny(*c, ", \t\n"):
				errs = append(errs, fmt.Sprintf("props.TokenRules.ClientIds[%d] must not contain commas or spaces, got %q", i, *c))
			}
		}
	}
	if r.ScopeMap != nil {
		for k, v := range *r.ScopeMap {
			if v == nil {
				errs = append(errs, fmt.Sprintf("props.TokenRules.ScopeMap[%q] has no replacement", k))
			}
		}
	}
	sort.Strings(errs)
	return errs
}

// addEnvironment sets the variables of the rules that are configured; none
// for the zero value, so Okta deployments keep their environment.
func (r *TokenRules) addEnvironment(env map[string]*string) {
	if r == nil {
		return
	}
	if r.ScopeClaim != nil && *r.ScopeClaim != "" {
		env[validatorenv.EnvScopeClaim] = r.ScopeClaim
	}
	if r.ClientIds != nil && len(*r.ClientIds) > 0 {
		env[validatorenv.EnvClientIDs] = awscdk.Fn_Join(jsii.String(","), r.ClientIds)
	}
	if r.ClientIdsStandInForAudience != nil && *r.ClientIdsStandInForAudience {
		env[validatorenv.EnvAudienceRule] = jsii.String(string(validatorenv.AudienceOrAllowedClient))
	}
	if r.ScopeMap != nil && len(*r.ScopeMap) > 0 {
		m := make(map[string]string, len(*r.ScopeMap))
		for k, v := range *r.ScopeMap {
			m[k] = *v
		}
		raw, _ := json.Marshal(m) // sorted keys: a stable template
		env[validatorenv.EnvScopeMap] = jsii.String(string(raw))
	}
}
