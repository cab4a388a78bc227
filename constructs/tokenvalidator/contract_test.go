package tokenvalidator_test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// The function's own package is imported by this test only: the construct
// links neither it nor its JWT libraries, and a consumer's go mod tidy still
// keeps the checksums the function's build needs.

func TestTheRenderedEnvironmentStartsTheFunction(t *testing.T) {
	env := functionEnv(t, func(p *tokenvalidator.TokenValidatorProps) {
		p.SmartVersion = smart.V1
		p.TokenLeeway = awscdk.Duration_Seconds(jsii.Number(30))
		p.EhrLaunch = jsii.Bool(true)
		p.TokenRules = &tokenvalidator.TokenRules{ScopeClaim: jsii.String("scp"), ScopeMap: &map[string]*string{"patient.": jsii.String("patient/")}}
	})
	cfg, err := idp.ConfigFromEnv(func(k string) string { s, _ := env[k].(string); return s })
	require.NoError(t, err)
	require.Equal(t, smart.V1, cfg.SmartVersion)
	require.Equal(t, validatorenv.ValidationJWT, cfg.Validation)
	require.Equal(t, 30.0, cfg.Leeway.Seconds())
	require.True(t, cfg.EHRLaunch)
	require.Equal(t, "patient/Observation.rs", cfg.Rules.Rewrite("patient.Observation.rs"))
}
