package smarthealthlake_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// backendApps are n backend registry apps, each with its own one-key JWKS.
func backendApps(t *testing.T, n int) *[]*oktaauth.AppProps {
	var apps []*oktaauth.AppProps
	for i := range n {
		apps = append(apps, &oktaauth.AppProps{Name: jsii.String(fmt.Sprintf("svc%d", i)), Type: oktaprops.AppBackend,
			Jwks: jsii.String(serviceJWKS(t)), Scopes: jsii.Strings("system/Patient.rs")})
	}
	return &apps
}

func TestProxyBackendServicesFalseLeavesThemOnOktasTokenEndpoint(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.EhrLaunch.ProxyBackendServices = jsii.Bool(false)
	// No kid: without the proxy's key beside it, Okta takes a single key as it is.
	p.AuthorizationServer.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(`{"keys":[{"kty":"RSA","n":"sXch","e":"AQAB"}]}`)}
	p.AuthorizationServer.Apps = backendApps(t, 1)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	all := cdktest.Resources(t, cdktest.Template(t, stack))

	t.Run("there is no assertion key, for the proxy or for Okta", func(t *testing.T) {
		require.Nil(t, shl.EhrLaunch().AssertionKey())
		for id, k := range cdktest.OfType(all, "AWS::KMS::Key") {
			require.NotEqual(t, "SIGN_VERIFY", k.Properties["KeyUsage"], id)
		}
		_, okta := cdktest.Only(t, all, oktaauth.ResourceType)
		require.NotContains(t, okta.Properties, oktaprops.PropProxyAssertionKeyARN)
		require.NotContains(t, ehrFunctionEnv(t, all), ehrlaunchenv.EnvBackendClients)
	})
	t.Run("an info message, not a warning (it was asked for), names both services and Okta's token endpoint", func(t *testing.T) {
		notes := assertions.Annotations_FromStack(stack)
		found := notes.FindInfo(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(
			`ProxyBackendServices is false.*forwards the assertions of props.AuthorizationServer.BackendClient, props.AuthorizationServer.Apps\[0\] \("svc0"\) to Okta unchanged.*TokenEndpoint output`)))
		require.Len(t, *found, 1)
		require.Empty(t, *notes.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("ProxyBackendServices"))))
	})
}

func TestByDefaultTheProxyServesTheBackendServicesWithoutAWarning(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.AuthorizationServer.Apps = backendApps(t, 1)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	require.NotNil(t, shl.EhrLaunch().AssertionKey())
	found := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("ProxyBackendServices")))
	require.Empty(t, *found)
}

func TestAnEnvironmentTooLargeForLambdaIsNamedInTheCompositesProps(t *testing.T) {
	t.Run("six backend services through the proxy fail, each JWKS named with its share", func(t *testing.T) {
		stack := newStack(t)
		p := withEhrLaunch(stack)
		p.AuthorizationServer.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(serviceJWKS(t))}
		p.AuthorizationServer.Apps = &[]*oktaauth.AppProps{{Name: jsii.String("portal"), Type: oktaprops.AppPublic,
			RedirectUris: jsii.Strings("https://portal.example/cb"), Scopes: jsii.Strings("patient/Patient.rs")}}
		*p.AuthorizationServer.Apps = append(*p.AuthorizationServer.Apps, *backendApps(t, 5)...)
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
		}()
		err, ok := recovered.(error)
		require.True(t, ok, "panics with an error: %v", recovered)
		var size *smarthealthlake.EhrLaunchEnvironmentError
		require.True(t, errors.As(err, &size))
		require.Equal(t, []int{-1, 1, 2, 3, 4, 5}, size.BackendServices)
		msg := err.Error()
		require.True(t, strings.HasPrefix(msg, "smarthealthlake.NewSmartHealthLake(Smart): props.AuthorizationServer.BackendClient.Jwks, "+
			"props.AuthorizationServer.Apps[1].Jwks, props.AuthorizationServer.Apps[2].Jwks"), msg)
		require.Contains(t, msg, fmt.Sprintf("props.AuthorizationServer.Apps[5].Jwks %d)", size.Estimate.BackendBytes[5]))
		require.Contains(t, msg, "over Lambda's 4096-byte limit")
		require.Contains(t, msg, "or set props.EhrLaunch.ProxyBackendServices to false (the services then call Okta's token endpoint")
		require.NotContains(t, msg, "props.BackendClients", "a prop of constructs/ehrlaunch, not of the composite")
	})
	t.Run("the same services left on Okta fit", func(t *testing.T) {
		stack := newStack(t)
		p := withEhrLaunch(stack)
		p.EhrLaunch.ProxyBackendServices = jsii.Bool(false)
		p.AuthorizationServer.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(serviceJWKS(t))}
		p.AuthorizationServer.Apps = backendApps(t, 5)
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
		cdktest.Template(t, stack)
	})
}

func TestAKeyWithoutKidSaysWhatTheProxysKeyAsksOfTheService(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.AuthorizationServer.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(`{"keys":[{"kty":"RSA","n":"sXch","e":"AQAB"}]}`)}
	msg := cdktest.Panics(t, func() { smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p) })
	require.Contains(t, msg, "props.AuthorizationServer.BackendClient.Jwks.keys[0] needs a kid: with props.EhrLaunch the JWKS also holds")
	require.Contains(t, msg, "a service that calls Okta's token endpoint directly must then send its key's kid in its client assertion's header")
	require.Contains(t, msg, "(or set props.EhrLaunch.ProxyBackendServices to false)")
}
