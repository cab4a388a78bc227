package oktaauth_test

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// Okta reserves more claim names than the JWT registered ones (its support
// article "list of reserved claim names"); the construct refuses them at synth,
// naming the prop, through oktaprops' parser.
func TestReservedClaimNamesFailTheSynthNamingTheProp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*oktaauth.SmartAuthorizationServerProps)
		want   string
	}{
		{"an extra claim named scope", func(p *oktaauth.SmartAuthorizationServerProps) {
			p.ExtraClaims = &[]*oktaauth.ExtraClaim{{Name: jsii.String("scope"), Value: jsii.String("user.x")}}
		}, `props.ExtraClaims[0].Name: "scope" is reserved by Okta`},
		{"an extra ID-token claim named sid", func(p *oktaauth.SmartAuthorizationServerProps) {
			p.ExtraClaims = &[]*oktaauth.ExtraClaim{{Name: jsii.String("org"), Value: jsii.String("user.org")},
				{Name: jsii.String("sid"), Value: jsii.String("user.x"), ClaimType: oktaprops.ClaimTypeIdentity}}
		}, `props.ExtraClaims[1].Name: "sid" is reserved by Okta`},
		{"the patient claim named client_id", func(p *oktaauth.SmartAuthorizationServerProps) {
			p.PatientClaimName = jsii.String("client_id")
		}, `props.PatientClaimName must be "patient"`},
		{"the patient claim named one the validator does not read", func(p *oktaauth.SmartAuthorizationServerProps) {
			p.PatientClaimName = jsii.String("pat")
		}, `the token validator reads the patient context from those claims only, got "pat"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stack := newStack(t)
			props := minimalProps(stack)
			tc.change(props)
			msg := cdktest.Panics(t, func() { oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props) })
			require.Contains(t, msg, tc.want)
		})
	}
}
