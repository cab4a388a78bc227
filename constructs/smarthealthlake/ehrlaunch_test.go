package smarthealthlake_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
)

const (
	appRedirect    = "https://app.clinic.example/callback"
	publicRedirect = "https://spa.clinic.example/callback"
	ehrRoleArn     = "arn:aws:iam::123456789012:role/ehr-launcher"
)

// withEhrLaunch is the smallest use with a confidential app EHRs launch.
func withEhrLaunch(stack awscdk.Stack) *smarthealthlake.SmartHealthLakeProps {
	p := smallest(stack)
	p.AuthorizationServer = &oktaauth.SmartAuthorizationServerOptions{
		ConfidentialClient: &oktaauth.ConfidentialClientProps{RedirectUris: jsii.Strings(appRedirect)},
	}
	p.EhrLaunch = &smarthealthlake.EhrLaunchOptions{EhrRoles: &[]awsiam.IRole{ehrRole(stack)}}
	return p
}

func ehrRole(stack awscdk.Stack) awsiam.IRole {
	return awsiam.Role_FromRoleArn(stack, jsii.String("Ehr"), jsii.String(ehrRoleArn), &awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)})
}

// ehrFunctionEnv is the EHR launch function's environment.
func ehrFunctionEnv(t *testing.T, all map[string]cdktest.Resource) map[string]any {
	t.Helper()
	for _, fn := range cdktest.OfType(all, "AWS::Lambda::Function") {
		env, _ := fn.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if _, ok := vars[ehrlaunchenv.EnvEHRPrincipals]; ok {
			return vars
		}
	}
	t.Fatal("no EHR launch function")
	return nil
}

// deployed renders a template value as CloudFormation would at deploy time,
// with each Ref and GetAtt replaced by values["Ref:<id>"] or
// values["GetAtt:<id>.<attr>"]; an unknown reference fails the test.
func deployed(t *testing.T, v any, values map[string]string) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			return lookup(t, values, "Ref:"+ref)
		}
		if att, ok := x["Fn::GetAtt"].([]any); ok {
			return lookup(t, values, fmt.Sprintf("GetAtt:%s.%s", att[0], att[1]))
		}
		if join, ok := x["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range join[1].([]any) {
				parts = append(parts, deployed(t, p, values))
			}
			return strings.Join(parts, join[0].(string))
		}
	}
	t.Fatalf("cannot render %v", v)
	return ""
}

func lookup(t *testing.T, values map[string]string, key string) string {
	t.Helper()
	v, ok := values[key]
	require.True(t, ok, "no deploy-time value for %s", key)
	return v
}

func TestEhrLaunchIsWiredThroughOktaTheDatastoreAndTheValidator(t *testing.T) {
	stack := newStack(t)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), withEhrLaunch(stack))
	require.NotNil(t, shl.EhrLaunch())
	tpl := cdktest.Template(t, stack) // a dependency cycle fails synthesis here
	all := cdktest.Resources(t, tpl)
	apiID, _ := cdktest.Only(t, all, "AWS::ApiGateway::RestApi")
	oktaID, okta := cdktest.Only(t, all, oktaauth.ResourceType)
	dsID, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")

	const issuer = "https://clinic.okta.com/oauth2/aus1"
	const proxy = "https://abc123.execute-api.us-east-1.amazonaws.com/smart"
	values := map[string]string{
		"Ref:" + apiID:                             "abc123",
		"Ref:AWS::URLSuffix":                       "amazonaws.com",
		"GetAtt:" + oktaID + ".Issuer":             issuer,
		"GetAtt:" + oktaID + ".JwksUri":            issuer + "/v1/keys",
		"GetAtt:" + oktaID + ".RevocationEndpoint": issuer + "/v1/revoke",
	}
	endpoint := func(prop string) string { return deployed(t, ds.Properties[prop], values) }

	t.Run("the SMART configuration sends apps to the proxies and advertises EHR launch", func(t *testing.T) {
		strs := func(v any) []string {
			var out []string
			for _, x := range cdktest.AsList(v) {
				out = append(out, x.(string))
			}
			return out
		}
		support, err := smart.ParseFeatures(strs(ds.Properties[datastoreprops.PropSupport]))
		require.NoError(t, err)
		raw, err := smartmeta.Build(smartmeta.Config{
			Version: smart.V2,
			Endpoints: smartmeta.Endpoints{
				Issuer: endpoint("Issuer"), JWKSURI: endpoint("JwksUri"),
				Authorization: endpoint("AuthorizationEndpoint"), Token: endpoint("TokenEndpoint"),
				Introspection: endpoint("IntrospectionEndpoint"), Revocation: endpoint("RevocationEndpoint"),
			},
			ScopesSupported: strs(ds.Properties["ScopesSupported"]),
			Support:         support,
		})
		require.NoError(t, err)
		var doc smartmeta.Document
		require.NoError(t, json.Unmarshal([]byte(raw), &doc))
		require.Subset(t, doc.Capabilities, []string{"launch-ehr", "context-ehr-patient", "context-ehr-encounter", "launch-standalone"})
		require.Equal(t, proxy+"/authorize", doc.AuthorizationEndpoint)
		require.Equal(t, proxy+"/token", doc.TokenEndpoint)
		require.Equal(t, proxy+"/introspect", doc.IntrospectionEndpoint, "the proxy echoes the launch context")
		require.Equal(t, issuer, doc.Issuer, "tokens are still Okta's")
		require.Equal(t, issuer+"/v1/keys", doc.JWKSURI)
		require.Equal(t, issuer+"/v1/revoke", doc.RevocationEndpoint, "revocation needs no proxy")
	})

	t.Run("the discovery check compares only Okta's issuer and keys", func(t *testing.T) {
		require.Equal(t, string(datastoreprops.DiscoveryVerifyIssuer), ds.Properties[datastoreprops.PropDiscoveryCheck])
	})

	t.Run("the validator requires the launch hook's marker", func(t *testing.T) {
		require.Equal(t, "true", validatorEnv(t, all)[validatorenv.EnvEHRLaunch])
	})

	t.Run("the launched app's Okta redirect URIs gain the proxy's callback", func(t *testing.T) {
		var uris []string
		for _, u := range cdktest.AsList(okta.Properties[oktaprops.PropConfidentialRedirectURIs]) {
			uris = append(uris, deployed(t, u, values))
		}
		require.Equal(t, []string{appRedirect, proxy + "/callback"}, uris)
		require.Equal(t, okta.Properties[oktaprops.PropConfidentialRedirectURIs].([]any)[1],
			cdktest.Resolved(t, stack, shl.EhrLaunch().CallbackUrl()))
	})

	t.Run("the Okta handler may read the hook secret and decrypt it with the launch API's key, nothing more", func(t *testing.T) {
		var secretID string
		var secret cdktest.Resource
		for id, r := range cdktest.OfType(all, "AWS::SecretsManager::Secret") {
			if strings.Contains(fmt.Sprint(r.Properties["Description"]), "token inline hook") {
				secretID, secret = id, r
			}
		}
		require.NotEmpty(t, secretID, "the launch API's hook secret")
		statements := map[string]map[string]any{}
		for _, pol := range cdktest.OfType(all, "AWS::IAM::Policy") {
			doc := pol.Properties["PolicyDocument"].(map[string]any)
			for _, st := range cdktest.AsList(doc["Statement"]) {
				st := st.(map[string]any)
				if sid, _ := st["Sid"].(string); sid == "ReadTokenHookSecret" || sid == "DecryptTokenHookSecret" {
					statements[sid] = st
				}
			}
		}
		require.Contains(t, statements, "ReadTokenHookSecret")
		require.Equal(t, "secretsmanager:GetSecretValue", statements["ReadTokenHookSecret"]["Action"])
		require.Equal(t, map[string]any{"Ref": secretID}, statements["ReadTokenHookSecret"]["Resource"])
		require.Contains(t, statements, "DecryptTokenHookSecret", "the secret is encrypted with the launch API's own key")
		require.Equal(t, "kms:Decrypt", statements["DecryptTokenHookSecret"]["Action"])
		require.Equal(t, secret.Properties["KmsKeyId"], statements["DecryptTokenHookSecret"]["Resource"])
	})

	t.Run("the launch function knows Okta's issuer, the app's client id and own redirect URIs, and the data store", func(t *testing.T) {
		env := ehrFunctionEnv(t, all)
		require.Equal(t, cdktest.GetAtt(oktaID, "Issuer"), env[ehrlaunchenv.EnvOktaIssuer])
		require.Equal(t, cdktest.GetAtt(dsID, "DatastoreEndpoint"), env[ehrlaunchenv.EnvFHIRAudience], "the only aud accepted")
		require.Equal(t, ehrRoleArn, env[ehrlaunchenv.EnvEHRPrincipals])
		values["GetAtt:"+oktaID+".ConfidentialClientId"] = "0oaconfidential"
		require.JSONEq(t, `[{"client_id":"0oaconfidential","redirect_uris":["`+appRedirect+`"]}]`,
			deployed(t, env[ehrlaunchenv.EnvClients], values), "the app is sent back to its own redirect URI, not the callback")
	})
}

func TestAPickerAppGetsThePatientPickerAndTheConfigurationSaysSo(t *testing.T) {
	for _, c := range []struct {
		name   string
		picker []smarthealthlake.EhrLaunchApp
	}{
		{"with a picker app, context-standalone-patient is advertised without Okta's patient claim", []smarthealthlake.EhrLaunchApp{"confidential"}},
		{"without one, it is not", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := newStack(t)
			p := withEhrLaunch(stack)
			p.AuthorizationServer.PatientClaim = jsii.Bool(false)
			p.EhrLaunch.PickerApps = c.picker
			smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
			all := cdktest.Resources(t, cdktest.Template(t, stack))
			_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
			raw, _ := json.Marshal(ehrFunctionEnv(t, all)[ehrlaunchenv.EnvClients])
			if c.picker != nil {
				require.Contains(t, ds.Properties[datastoreprops.PropSupport], smart.FeaturePatientContext)
				require.Contains(t, string(raw), `\"patient_picker\":true`)
			} else {
				require.NotContains(t, ds.Properties[datastoreprops.PropSupport], smart.FeaturePatientContext)
				require.NotContains(t, string(raw), "patient_picker")
			}
		})
	}
}

func TestWithoutEhrLaunchNothingOfItIsMade(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.EhrLaunch = nil
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	require.Nil(t, shl.EhrLaunch())
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	require.Empty(t, cdktest.OfType(all, "AWS::ApiGateway::RestApi"))
	require.NotContains(t, validatorEnv(t, all), validatorenv.EnvEHRLaunch)
	oktaID, okta := cdktest.Only(t, all, oktaauth.ResourceType)
	require.Equal(t, []any{appRedirect}, okta.Properties[oktaprops.PropConfidentialRedirectURIs])
	_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	require.Equal(t, cdktest.GetAtt(oktaID, "AuthorizationEndpoint"), ds.Properties["AuthorizationEndpoint"])
	require.Equal(t, string(datastoreprops.DiscoveryVerify), ds.Properties[datastoreprops.PropDiscoveryCheck])
	require.NotContains(t, ds.Properties[datastoreprops.PropSupport], smart.FeatureEHRLaunch)
}

// TestTheEhrLaunchWiringHasNoDependencyCycle synthesizes the widest wiring:
// both apps launched, introspection (the validator reads Okta's introspection
// secret), provisioned concurrency. The API's URLs come from its RestApi id:
// Okta and the data store reference the RestApi, and the launch function
// references both, so CloudFormation creates RestApi, Okta, data store,
// function, methods in that order.
func TestTheEhrLaunchWiringHasNoDependencyCycle(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.AuthorizationServer.PublicClient = &oktaauth.PublicClientProps{RedirectUris: jsii.Strings(publicRedirect)}
	p.Validation = validatorenv.ValidationIntrospection
	p.TokenValidator = &tokenvalidator.TokenValidatorOptions{ProvisionedConcurrency: jsii.Number(1)}
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	all := cdktest.Resources(t, cdktest.Template(t, stack)) // a cycle fails synthesis here
	apiID, _ := cdktest.Only(t, all, "AWS::ApiGateway::RestApi")
	oktaID, okta := cdktest.Only(t, all, oktaauth.ResourceType)
	dsID, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	refs := func(v any) string { raw, _ := json.Marshal(v); return string(raw) }
	require.Contains(t, refs(okta.Properties), `{"Ref":"`+apiID+`"}`)
	require.NotContains(t, refs(okta.Properties), dsID, "Okta waits for nothing of the data store")
	require.Contains(t, refs(ds.Properties), `{"Ref":"`+apiID+`"}`)
	env := refs(ehrFunctionEnv(t, all))
	require.Contains(t, env, dsID)
	require.Contains(t, env, oktaID+`","PublicClientId"`)
	require.Contains(t, env, oktaID+`","ConfidentialClientId"`)
	require.Contains(t, refs(okta.Properties[oktaprops.PropPublicRedirectURIs]), "/smart/callback")
}

func TestALaunchedAppListLeavingOutAClientSaysSo(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.AuthorizationServer.PublicClient = &oktaauth.PublicClientProps{RedirectUris: jsii.Strings(publicRedirect)}
	p.EhrLaunch.Apps = []smarthealthlake.EhrLaunchApp{smarthealthlake.EhrLaunchPublicApp}
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	_, okta := cdktest.Only(t, all, oktaauth.ResourceType)
	require.Equal(t, []any{appRedirect}, okta.Properties[oktaprops.PropConfidentialRedirectURIs], "the confidential app is not launched")
	require.Len(t, okta.Properties[oktaprops.PropPublicRedirectURIs], 2, "the public app's own URI and the callback")
	raw, _ := json.Marshal(ehrFunctionEnv(t, all)[ehrlaunchenv.EnvClients])
	require.Contains(t, string(raw), "PublicClientId")
	require.NotContains(t, string(raw), "ConfidentialClientId")
	cdktest.Must(t, func() {
		assertions.Annotations_FromStack(stack).HasWarning(jsii.String("*"),
			assertions.Match_StringLikeRegexp(jsii.String("leaves out the confidential client.*must use Okta's authorize endpoint directly")))
	})
}

// serviceJWKS is a backend service's public JWKS of one freshly generated
// RSA-2048 key with a kid.
func serviceJWKS(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	raw, err := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "svc-1", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}}})
	require.NoError(t, err)
	return string(raw)
}

// A private_key_jwt assertion is signed for the token endpoint it names
// (RFC 7523); with EHR launch on that is the proxy, which Okta refuses, so
// the proxy re-signs with its assertion key, which Okta must know.
func TestBackendServicesBesideEhrLaunchGetTheProxysAssertionKey(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	jwks := serviceJWKS(t)
	p.AuthorizationServer.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(jwks)}
	p.AuthorizationServer.Apps = &[]*oktaauth.AppProps{{Name: jsii.String("reporting"), Type: oktaprops.AppBackend,
		Jwks: jsii.String(jwks), Scopes: jsii.Strings("system/Patient.rs")}}
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	tpl := cdktest.Template(t, stack) // a dependency cycle (key <- Okta <- function) fails synthesis here
	all := cdktest.Resources(t, tpl)
	key := shl.EhrLaunch().AssertionKey()
	require.NotNil(t, key)
	keyID := cdktest.LogicalID(t, key)
	keyArn := cdktest.GetAtt(keyID, "Arn")
	oktaID, okta := cdktest.Only(t, all, oktaauth.ResourceType)

	t.Run("the EHR launch construct's key is an RSA_2048 signing key", func(t *testing.T) {
		require.Equal(t, "RSA_2048", all[keyID].Properties["KeySpec"])
		require.Equal(t, "SIGN_VERIFY", all[keyID].Properties["KeyUsage"])
	})
	t.Run("the Okta resource registers it: its ARN as ProxyAssertionKeyArn", func(t *testing.T) {
		require.Equal(t, keyArn, okta.Properties[oktaprops.PropProxyAssertionKeyARN])
	})
	t.Run("the Okta handler may read that key's public half, and only that key's", func(t *testing.T) {
		fnID := cdktest.LogicalID(t, shl.AuthorizationServer().Function())
		var found []cdktest.Statement
		for _, st := range cdktest.RoleStatements(t, all, cdktest.RoleOf(t, all[fnID])) {
			for _, a := range st.Actions {
				if strings.HasPrefix(a, "kms:") && a != "kms:Decrypt" && a != "kms:GenerateDataKey" {
					found = append(found, st)
				}
			}
		}
		require.Len(t, found, 1)
		require.Equal(t, []string{"kms:GetPublicKey"}, found[0].Actions)
		require.Equal(t, []any{keyArn}, found[0].Resources)
	})
	t.Run("the proxy gets the key and both services, their client ids filled in by CloudFormation", func(t *testing.T) {
		env := ehrFunctionEnv(t, all)
		require.Equal(t, keyArn, env[ehrlaunchenv.EnvAssertionKeyARN])
		got := deployed(t, env[ehrlaunchenv.EnvBackendClients], map[string]string{
			"GetAtt:" + oktaID + "." + oktaprops.AttrBackendClientID:     "0oaBackend",
			"GetAtt:" + oktaID + "." + oktaprops.AppDataKey("reporting"): "0oaReporting",
		})
		require.JSONEq(t, `[{"client_id":"0oaBackend","jwks":`+jwks+`},{"client_id":"0oaReporting","jwks":`+jwks+`}]`, got)
	})
	t.Run("no warning sends the services to Okta's token endpoint any more", func(t *testing.T) {
		found := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"),
			assertions.Match_StringLikeRegexp(jsii.String("BackendClient|backend")))
		require.Empty(t, *found)
	})
}

func TestWithoutBackendServicesEhrLaunchMakesNoAssertionKey(t *testing.T) {
	stack := newStack(t)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), withEhrLaunch(stack))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	require.Nil(t, shl.EhrLaunch().AssertionKey())
	for id, k := range cdktest.OfType(all, "AWS::KMS::Key") {
		require.NotEqual(t, "SIGN_VERIFY", k.Properties["KeyUsage"], id)
	}
	_, okta := cdktest.Only(t, all, oktaauth.ResourceType)
	require.NotContains(t, okta.Properties, oktaprops.PropProxyAssertionKeyARN)
	require.NotContains(t, ehrFunctionEnv(t, all), ehrlaunchenv.EnvBackendClients)
}

func TestBadEhrLaunchPropsAreNamed(t *testing.T) {
	cases := map[string]struct {
		edit func(awscdk.Stack, *smarthealthlake.SmartHealthLakeProps)
		want string
	}{
		"a backend client's key without kid": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(`{"keys":[{"kty":"RSA","n":"sXch","e":"AQAB"}]}`)}
		}, "props.AuthorizationServer.BackendClient.Jwks.keys[0] needs a kid: with props.EhrLaunch the JWKS also holds the EHR launch proxy's key"},
		"a backend client's JWKS that is a token": {func(stack awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer.BackendClient = &oktaauth.BackendClientProps{Jwks: awscdk.NewCfnParameter(stack, jsii.String("Jwks"), nil).ValueAsString()}
		}, "props.AuthorizationServer.BackendClient.Jwks must be literal JSON with props.EhrLaunch"},
		"a backend app's private key": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer.Apps = &[]*oktaauth.AppProps{{Name: jsii.String("reporting"), Type: oktaprops.AppBackend,
				Jwks: jsii.String(`{"keys":[{"kty":"RSA","kid":"a","n":"sXch","e":"AQAB","d":"c2VjcmV0"}]}`), Scopes: jsii.Strings("system/Patient.rs")}}
		}, `props.AuthorizationServer.Apps[0].Jwks keys[0] is a private key (has "d")`},
		"no EHR role": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.EhrLaunch.EhrRoles = &[]awsiam.IRole{}
		}, "props.EhrLaunch.EhrRoles needs at least one role"},
		"no user-facing app": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer = nil
		}, "props.EhrLaunch needs a user-facing app to launch"},
		"an app that is not configured": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.EhrLaunch.Apps = []smarthealthlake.EhrLaunchApp{smarthealthlake.EhrLaunchPublicApp}
		}, `props.EhrLaunch.Apps[0] is "public", but props.AuthorizationServer.PublicClient is not set`},
		"an unknown app": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.EhrLaunch.Apps = []smarthealthlake.EhrLaunchApp{"backend"}
		}, `props.EhrLaunch.Apps[0] must be "confidential", "public" or EhrLaunchRegistryApp(name), got "backend"`},
		"an app twice": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.EhrLaunch.Apps = []smarthealthlake.EhrLaunchApp{"confidential", "confidential"}
		}, `props.EhrLaunch.Apps[1] repeats "confidential"`},
		"a picker app that is not launched": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.EhrLaunch.PickerApps = []smarthealthlake.EhrLaunchApp{smarthealthlake.EhrLaunchPublicApp}
		}, `props.EhrLaunch.PickerApps[0] is "public", which is not among the launched apps`},
		"a picker app twice": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.EhrLaunch.PickerApps = []smarthealthlake.EhrLaunchApp{"confidential", "confidential"}
		}, `props.EhrLaunch.PickerApps[1] repeats "confidential"`},
		"a backend registry app, which has no user to launch": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer.Apps = &[]*oktaauth.AppProps{backendApp()}
			p.EhrLaunch.Apps = []smarthealthlake.EhrLaunchApp{smarthealthlake.EhrLaunchRegistryApp("lab-feed")}
		}, `props.EhrLaunch.Apps[0] is registry app "lab-feed", a backend app: only public and confidential apps can be launched`},
		"a launched registry app without redirect URIs": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			a := portalApp()
			a.RedirectUris = nil
			p.AuthorizationServer.Apps = &[]*oktaauth.AppProps{a}
		}, `props.EhrLaunch.Apps[1] is registry app "acme-portal", which has no RedirectUris`},
		"a registry app the registry does not have": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.EhrLaunch.Apps = []smarthealthlake.EhrLaunchApp{smarthealthlake.EhrLaunchRegistryApp("portal")}
		}, `props.EhrLaunch.Apps[0] is registry app "portal", but props.AuthorizationServer.Apps has no app of that name`},
		"a token hook of the user's own, which EHR launch would replace": {func(stack awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer.TokenHookUrl = jsii.String("https://hooks.example.com/mine")
			p.AuthorizationServer.TokenHookSecret = awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("MyHook"), jsii.String("my/hook"))
		}, "props.AuthorizationServer.TokenHookUrl cannot be used with props.EhrLaunch"},
		"a token hook secret of the user's own": {func(stack awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer.TokenHookSecret = awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("MyHook"), jsii.String("my/hook"))
		}, "props.AuthorizationServer.TokenHookSecret cannot be used with props.EhrLaunch"},
		"a token inline hook made elsewhere": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer.TokenInlineHookId = jsii.String("calabcdefghijklmnop1")
		}, "props.AuthorizationServer.TokenInlineHookId cannot be used with props.EhrLaunch"},
		"an external authorization server": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.OktaOrgUrl, p.OktaCredentialSecret, p.AuthorizationServer = nil, nil, nil
			p.ExternalAuthorizationServer = keycloak()
		}, "props.EhrLaunch needs the Okta authorization server"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			p := withEhrLaunch(stack)
			c.edit(stack, p)
			msg := cdktest.Panics(t, func() { smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p) })
			require.Contains(t, msg, c.want)
		})
	}
}

const portalRedirect = "https://portal.example.com/cb"

// portalApp is a public registry app EHRs may launch.
func portalApp() *oktaauth.AppProps {
	return &oktaauth.AppProps{Name: jsii.String("acme-portal"), Type: oktaprops.AppPublic,
		RedirectUris: jsii.Strings(portalRedirect), Scopes: jsii.Strings("openid", "launch", "patient/*.rs")}
}

func backendApp() *oktaauth.AppProps {
	return &oktaauth.AppProps{Name: jsii.String("lab-feed"), Type: oktaprops.AppBackend,
		Jwks: jsii.String(`{"keys":[{"kty":"RSA","kid":"lab-1","n":"AQAB","e":"AQAB"}]}`), Scopes: jsii.Strings("system/Observation.rs")}
}

// registryApps renders the Okta resource's Apps property at deploy time.
func registryApps(t *testing.T, okta cdktest.Resource, values map[string]string) []oktaprops.AppJSON {
	t.Helper()
	var apps []oktaprops.AppJSON
	require.NoError(t, json.Unmarshal([]byte(deployed(t, okta.Properties[oktaprops.PropApps], values)), &apps))
	return apps
}

func TestARegistryAppIsLaunchedThroughTheProxy(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.AuthorizationServer.Apps = &[]*oktaauth.AppProps{portalApp(), backendApp()}
	p.EhrLaunch.Apps = []smarthealthlake.EhrLaunchApp{smarthealthlake.EhrLaunchConfidentialApp, smarthealthlake.EhrLaunchRegistryApp("acme-portal")}
	p.EhrLaunch.PickerApps = []smarthealthlake.EhrLaunchApp{smarthealthlake.EhrLaunchRegistryApp("acme-portal")}
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	apiID, _ := cdktest.Only(t, all, "AWS::ApiGateway::RestApi")
	oktaID, okta := cdktest.Only(t, all, oktaauth.ResourceType)
	const proxy = "https://abc123.execute-api.us-east-1.amazonaws.com/smart"
	values := map[string]string{
		"Ref:" + apiID:       "abc123",
		"Ref:AWS::URLSuffix": "amazonaws.com",
		"GetAtt:" + oktaID + ".ConfidentialClientId":                   "0oaconfidential",
		"GetAtt:" + oktaID + "." + oktaprops.AppDataKey("acme-portal"): "0oaportal",
	}

	t.Run("the proxy's client list has the app's client id and own redirect URIs", func(t *testing.T) {
		env := ehrFunctionEnv(t, all)
		raw, _ := json.Marshal(env[ehrlaunchenv.EnvClients])
		require.Contains(t, string(raw), `"Fn::GetAtt":["`+oktaID+`","App.acme-portal"]`)
		require.JSONEq(t, `[{"client_id":"0oaconfidential","redirect_uris":["`+appRedirect+`"]},
			{"client_id":"0oaportal","redirect_uris":["`+portalRedirect+`"],"patient_picker":true}]`,
			deployed(t, env[ehrlaunchenv.EnvClients], values))
	})

	t.Run("the app's Okta redirect URIs gain the proxy's callback, the backend app's none", func(t *testing.T) {
		apps := registryApps(t, okta, values)
		require.Len(t, apps, 2)
		require.Equal(t, "acme-portal", apps[0].Name)
		require.Equal(t, []string{portalRedirect, proxy + "/callback"}, apps[0].RedirectURIs)
		require.Equal(t, "lab-feed", apps[1].Name)
		require.Empty(t, apps[1].RedirectURIs)
	})

	t.Run("the caller's props keep the app's own redirect URIs", func(t *testing.T) {
		require.Equal(t, []*string{jsii.String(portalRedirect)}, *(*p.AuthorizationServer.Apps)[0].RedirectUris)
	})

	t.Run("no app is warned about as left out", func(t *testing.T) {
		require.Empty(t, *assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"),
			assertions.Match_StringLikeRegexp(jsii.String("leaves out"))))
	})
}

func TestRegistryAppsAreLaunchedByDefault(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.AuthorizationServer.Apps = &[]*oktaauth.AppProps{portalApp(), backendApp()}
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	oktaID, _ := cdktest.Only(t, all, oktaauth.ResourceType)
	raw, _ := json.Marshal(ehrFunctionEnv(t, all)[ehrlaunchenv.EnvClients])
	require.Contains(t, string(raw), `"`+oktaID+`","ConfidentialClientId"`)
	require.Contains(t, string(raw), `"`+oktaID+`","App.acme-portal"`)
	require.NotContains(t, string(raw), "lab-feed", "a backend app is never launched")
}

func TestARegistryAppLeftOutOfTheLaunchedAppsSaysSo(t *testing.T) {
	stack := newStack(t)
	p := withEhrLaunch(stack)
	p.AuthorizationServer.Apps = &[]*oktaauth.AppProps{portalApp(), backendApp()}
	p.EhrLaunch.Apps = []smarthealthlake.EhrLaunchApp{smarthealthlake.EhrLaunchConfidentialApp}
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	_, okta := cdktest.Only(t, all, oktaauth.ResourceType)
	apps := registryApps(t, okta, nil)
	require.Equal(t, []string{portalRedirect}, apps[0].RedirectURIs, "a left-out app gets no callback")
	raw, _ := json.Marshal(ehrFunctionEnv(t, all)[ehrlaunchenv.EnvClients])
	require.NotContains(t, string(raw), "App.acme-portal")
	found := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String("leaves out registry app \"acme-portal\".*must use Okta's authorize endpoint directly")))
	require.Len(t, *found, 1)
	require.Empty(t, *assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"),
		assertions.Match_StringLikeRegexp(jsii.String("lab-feed"))), "a backend app is not left out: it is never launched")
}
