package tokenvalidator_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// functionEnv is the environment of the validator's function.
func functionEnv(t *testing.T, props func(*tokenvalidator.TokenValidatorProps)) map[string]any {
	t.Helper()
	stack := cdktest.NewStack(t)
	p := minimal(stack)
	props(p)
	newBound(stack, jsii.String("Idp"), p)
	_, fn := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::Lambda::Function")
	return fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
}

func TestTokenRulesBecomeTheValidatorsVariables(t *testing.T) {
	t.Run("no rules set no variable, so Okta deployments keep their environment", func(t *testing.T) {
		env := functionEnv(t, func(p *tokenvalidator.TokenValidatorProps) { p.TokenRules = &tokenvalidator.TokenRules{} })
		for _, v := range []string{validatorenv.EnvScopeClaim, validatorenv.EnvClientIDs, validatorenv.EnvAudienceRule, validatorenv.EnvScopeMap} {
			require.NotContains(t, env, v)
		}
	})
	t.Run("every rule is passed on", func(t *testing.T) {
		env := functionEnv(t, func(p *tokenvalidator.TokenValidatorProps) {
			p.TokenRules = &tokenvalidator.TokenRules{
				ScopeClaim:                  jsii.String("scp"),
				ClientIds:                   jsii.Strings("a", "b"),
				ClientIdsStandInForAudience: jsii.Bool(true),
				ScopeMap:                    &map[string]*string{"user.": jsii.String("user/"), "patient.": jsii.String("patient/")},
			}
		})
		require.Equal(t, "scp", env["SMART_SCOPE_CLAIM"])
		require.Equal(t, "a,b", env["SMART_CLIENT_IDS"])
		require.Equal(t, "aud-or-allowed-client", env["SMART_AUDIENCE_RULE"])
		require.Equal(t, `{"patient.":"patient/","user.":"user/"}`, env["SMART_SCOPE_MAP"], "sorted keys: a stable template")
	})
	t.Run("a stand-in for the audience without an allow-list is refused at synth", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		p := minimal(stack)
		p.TokenRules = &tokenvalidator.TokenRules{ClientIdsStandInForAudience: jsii.Bool(true), ClientIds: &[]*string{}}
		msg := cdktest.Panics(t, func() { newBound(stack, jsii.String("Idp"), p) })
		require.Contains(t, msg, "props.TokenRules.ClientIdsStandInForAudience: aud-or-allowed-client needs props.TokenRules.ClientIds")
	})
	t.Run("a scope map entry with a space is refused at synth", func(t *testing.T) {
		stack := cdktest.NewStack(t)
		p := minimal(stack)
		p.TokenRules = &tokenvalidator.TokenRules{ScopeMap: &map[string]*string{"patient.": jsii.String("patient /")}}
		msg := cdktest.Panics(t, func() { newBound(stack, jsii.String("Idp"), p) })
		require.Contains(t, msg, `props.TokenRules.ScopeMap: entry "patient.": neither side may hold spaces`)
	})
}
