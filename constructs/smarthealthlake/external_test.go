package smarthealthlake_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// keycloak is an external authorization server: a Keycloak realm.
func keycloak() *smarthealthlake.ExternalAuthorizationServer {
	const realm = "https://id.clinic.example/realms/smart"
	return &smarthealthlake.ExternalAuthorizationServer{
		Issuer:                jsii.String(realm),
		AuthorizationEndpoint: jsii.String(realm + "/protocol/openid-connect/auth"),
		TokenEndpoint:         jsii.String(realm + "/protocol/openid-connect/token"),
		JwksUri:               jsii.String(realm + "/protocol/openid-connect/certs"),
		RevocationEndpoint:    jsii.String(realm + "/protocol/openid-connect/revoke"),
		ScopesSupported:       jsii.Strings("openid", "fhirUser", "launch/patient", "patient/*.rs"),
		Support:               &smart.Support{PublicClients: true, PatientContext: true, OpenIDConnect: true},
		Audiences:             jsii.Strings("https://fhir.clinic.example"),
		TokenRules: &tokenvalidator.TokenRules{
			ScopeClaim: jsii.String("scope"),
			ClientIds:  jsii.Strings("smart-app"),
		},
	}
}

func externalProps(x *smarthealthlake.ExternalAuthorizationServer) *smarthealthlake.SmartHealthLakeProps {
	return &smarthealthlake.SmartHealthLakeProps{ExternalAuthorizationServer: x}
}

// validatorEnv is the token validator function's environment.
func validatorEnv(t *testing.T, all map[string]cdktest.Resource) map[string]any {
	t.Helper()
	for _, fn := range cdktest.OfType(all, "AWS::Lambda::Function") {
		vars, _ := json.Marshal(fn.Properties["Environment"])
		if strings.Contains(string(vars), "SMART_ISSUER") {
			return fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		}
	}
	t.Fatal("no token validator function")
	return nil
}

func TestAnExternalAuthorizationServerProvisionsNothingInOkta(t *testing.T) {
	stack := newStack(t)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), externalProps(keycloak()))
	tpl := cdktest.Template(t, stack)
	all := cdktest.Resources(t, tpl)

	t.Run("no Okta custom resource, credential, secret or audience binding", func(t *testing.T) {
		require.Empty(t, cdktest.OfType(all, "Custom::SmartOktaAuthorizationServer"))
		require.Empty(t, cdktest.OfType(all, "Custom::SmartOktaAudience"))
		require.Empty(t, cdktest.OfType(all, "AWS::SecretsManager::Secret"), "no client or introspection secret")
		for id, r := range all {
			props, _ := json.Marshal(r.Properties)
			require.NotContains(t, strings.ToLower(string(props)), "okta", "%s: nothing refers to Okta", id)
		}
		require.Nil(t, shl.AuthorizationServer())
		require.Nil(t, shl.ClientSecret())
		require.Nil(t, shl.PublicClientId())
	})

	t.Run("the data store's SMART configuration comes from the configured endpoints, checked against discovery", func(t *testing.T) {
		_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
		dp := ds.Properties
		require.Equal(t, "https://id.clinic.example/realms/smart", dp["Issuer"])
		require.Equal(t, "https://id.clinic.example/realms/smart/protocol/openid-connect/auth", dp["AuthorizationEndpoint"])
		require.Equal(t, "https://id.clinic.example/realms/smart/protocol/openid-connect/token", dp["TokenEndpoint"])
		require.Equal(t, "https://id.clinic.example/realms/smart/protocol/openid-connect/certs", dp["JwksUri"])
		require.Equal(t, "https://id.clinic.example/realms/smart/protocol/openid-connect/revoke", dp["RevocationEndpoint"])
		require.NotContains(t, dp, "IntrospectionEndpoint")
		require.Equal(t, []any{"openid", "fhirUser", "launch/patient", "patient/*.rs"}, dp["ScopesSupported"])
		require.Equal(t, []any{smart.FeaturePublicClients, smart.FeaturePatientContext, smart.FeatureOpenIDConnect}, dp[datastoreprops.PropSupport])
		require.Equal(t, "verify", dp["DiscoveryCheck"], "checked by default")
		require.NotContains(t, dp, "DiscoveryUrl", "the issuer's well-known documents by default")
		require.Equal(t, "https://id.clinic.example/realms/smart", *shl.Issuer())
		require.Equal(t, "https://id.clinic.example/realms/smart/protocol/openid-connect/token", *shl.TokenEndpoint())
	})

	t.Run("the token validator trusts the issuer, its keys, its audience and the configured token rules", func(t *testing.T) {
		env := validatorEnv(t, all)
		require.Equal(t, "https://id.clinic.example/realms/smart", env["SMART_ISSUER"])
		require.Equal(t, "https://id.clinic.example/realms/smart/protocol/openid-connect/certs", env["SMART_JWKS_URL"])
		require.Equal(t, "https://fhir.clinic.example", cdktest.Resolved(t, stack, env["SMART_AUDIENCES"]))
		require.Equal(t, "scope", env[validatorenv.EnvScopeClaim])
		require.Equal(t, "smart-app", cdktest.Resolved(t, stack, env[validatorenv.EnvClientIDs]))
		require.NotContains(t, env, validatorenv.EnvAudienceRule, "aud stays required unless a stand-in is asked for")
		require.NotContains(t, env, validatorenv.EnvScopeMap)
	})
}

func TestAnExternalServerPassesCdkNag(t *testing.T) {
	for name, edit := range map[string]func(awscdk.Stack, *smarthealthlake.SmartHealthLakeProps){
		"jwt": func(awscdk.Stack, *smarthealthlake.SmartHealthLakeProps) {},
		"introspection, v1, warm": func(s awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.Validation = validatorenv.ValidationIntrospection
			p.ExternalAuthorizationServer.IntrospectionEndpoint = jsii.String("https://id.clinic.example/realms/smart/protocol/openid-connect/token/introspect")
			p.ExternalAuthorizationServer.IntrospectionSecret = awssecretsmanager.Secret_FromSecretNameV2(s, jsii.String("Introspect"), jsii.String("clinic/introspect"))
			p.SmartVersion = smart.V1
			// A SMART v1 data store takes v1 scopes only (refused at synth since
			// constructs/datastore validates with the data store contract).
			p.ExternalAuthorizationServer.ScopesSupported = jsii.Strings("openid", "fhirUser", "launch/patient", "patient/*.read")
			p.TokenValidator = &tokenvalidator.TokenValidatorOptions{ProvisionedConcurrency: jsii.Number(1)}
		},
	} {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			p := externalProps(keycloak())
			edit(stack, p)
			smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
			cdktest.ApplyNagPacks(stack)
			require.Empty(t, cdktest.NagFindings(t, stack))
		})
	}
}

func TestExternalServerSettingsReachTheDatastoreAndValidator(t *testing.T) {
	stack := newStack(t)
	x := keycloak()
	x.DiscoveryUrl = jsii.String("https://id.clinic.example/realms/smart/.well-known/oauth-authorization-server")
	x.SkipDiscoveryCheck = jsii.Bool(true)
	x.TokenRules = &tokenvalidator.TokenRules{
		ClientIds:                   jsii.Strings("1example23456789", "2example"),
		ClientIdsStandInForAudience: jsii.Bool(true),
		ScopeMap:                    &map[string]*string{"patient.": jsii.String("patient/"), "user.": jsii.String("user/")},
	}
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), externalProps(x))
	all := cdktest.Resources(t, cdktest.Template(t, stack))

	_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	require.Equal(t, "skip", ds.Properties["DiscoveryCheck"])
	require.Equal(t, "https://id.clinic.example/realms/smart/.well-known/oauth-authorization-server", ds.Properties["DiscoveryUrl"])

	env := validatorEnv(t, all)
	require.Equal(t, "1example23456789,2example", cdktest.Resolved(t, stack, env[validatorenv.EnvClientIDs]))
	require.Equal(t, string(validatorenv.AudienceOrAllowedClient), env[validatorenv.EnvAudienceRule])
	require.JSONEq(t, `{"patient.": "patient/", "user.": "user/"}`, env[validatorenv.EnvScopeMap].(string))
	require.NotContains(t, env, validatorenv.EnvScopeClaim, "the default scope claims")
}

func TestAnOktaDatastoreIsCheckedAgainstOktasDiscoveryToo(t *testing.T) {
	stack := newStack(t)
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), smallest(stack))
	_, ds := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, stack)), "Custom::SmartHealthLakeDatastore")
	require.Equal(t, "verify", ds.Properties["DiscoveryCheck"])
	require.NotContains(t, ds.Properties, "DiscoveryUrl", "Okta serves it at the issuer")
}

func TestBadExternalServerPropsAreNamed(t *testing.T) {
	cases := map[string]struct {
		edit func(awscdk.Stack, *smarthealthlake.SmartHealthLakeProps)
		want string
	}{
		"Okta props beside an external server": {func(s awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.OktaOrgUrl = jsii.String("https://clinic.okta.com")
		}, "props.OktaOrgUrl, props.OktaCredentialSecret and props.AuthorizationServer must be left unset with props.ExternalAuthorizationServer"},
		"no issuer": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.ExternalAuthorizationServer.Issuer = nil
		}, "props.ExternalAuthorizationServer.Issuer is required"},
		"a token endpoint over http": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.ExternalAuthorizationServer.TokenEndpoint = jsii.String("http://id.clinic.example/token")
		}, "props.ExternalAuthorizationServer.TokenEndpoint must be an absolute https URL"},
		"introspection without an endpoint or a secret": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.Validation = validatorenv.ValidationIntrospection
		}, "props.ExternalAuthorizationServer.IntrospectionEndpoint is required; props.ExternalAuthorizationServer.IntrospectionSecret is required"},
		"tokens without aud from any client": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.ExternalAuthorizationServer.TokenRules = &tokenvalidator.TokenRules{ClientIdsStandInForAudience: jsii.Bool(true)}
		}, "TokenRules.ClientIdsStandInForAudience needs TokenRules.ClientIds: without an allow-list of client ids, tokens with no audience would be accepted"},
		"an unknown scope claim": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.ExternalAuthorizationServer.TokenRules = &tokenvalidator.TokenRules{ScopeClaim: jsii.String("roles")}
		}, `props.TokenRules.ScopeClaim: must be "scope" or "scp"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			p := externalProps(keycloak())
			c.edit(stack, p)
			msg := cdktest.Panics(t, func() { smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p) })
			require.Contains(t, msg, c.want)
		})
	}
}
