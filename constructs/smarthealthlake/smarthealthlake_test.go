package smarthealthlake_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/smarthealthlake"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/lambda/datastore/smartmeta"
)

func newStack(t *testing.T) awscdk.Stack {
	t.Helper()
	return cdktest.NewStackIn(cdktest.NewApp(t, nil), "Clinic")
}

// smallest is the smallest use: an org URL and a credential secret.
func smallest(stack awscdk.Stack) *smarthealthlake.SmartHealthLakeProps {
	return &smarthealthlake.SmartHealthLakeProps{
		OktaOrgUrl:           jsii.String("https://clinic.okta.com"),
		OktaCredentialSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Cred"), jsii.String("clinic/okta")),
	}
}

func TestTheSmallestUseWiresEveryPartInOrder(t *testing.T) {
	stack := newStack(t)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), smallest(stack))
	tpl := cdktest.Template(t, stack)
	all := cdktest.Resources(t, tpl)

	oktaID, _ := cdktest.Only(t, all, "Custom::SmartOktaAuthorizationServer")
	dsID, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	_, audience := cdktest.Only(t, all, "Custom::SmartOktaAudience")

	// 1 → 2: the token validator trusts the Okta server's issuer and keys.
	var idp map[string]any
	for _, fn := range cdktest.OfType(all, "AWS::Lambda::Function") {
		vars, _ := json.Marshal(fn.Properties["Environment"])
		if strings.Contains(string(vars), "SMART_ISSUER") {
			idp = fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		}
	}
	require.NotNil(t, idp, "the token validator function")
	require.Equal(t, cdktest.GetAtt(oktaID, "Issuer"), idp["SMART_ISSUER"])
	require.Equal(t, cdktest.GetAtt(oktaID, "JwksUri"), idp["SMART_JWKS_URL"])
	require.Equal(t, "v2", idp[validatorenv.EnvSmartVersion])
	roleArn, _ := json.Marshal(idp["HEALTHLAKE_ROLE_ARN"])
	require.Contains(t, string(roleArn), ":role/", "the role ARN is formatted from its name")

	// 1 → 4: the data store's SMART metadata comes from the Okta endpoints.
	dp := ds.Properties
	for prop, attr := range map[string]string{
		"Issuer": "Issuer", "JwksUri": "JwksUri", "AuthorizationEndpoint": "AuthorizationEndpoint",
		"TokenEndpoint": "TokenEndpoint", "IntrospectionEndpoint": "IntrospectionEndpoint", "RevocationEndpoint": "RevocationEndpoint",
	} {
		require.Equal(t, cdktest.GetAtt(oktaID, attr), dp[prop], "data store property %s", prop)
	}
	require.Equal(t, "v2", dp[datastoreprops.PropSmartVersion])
	require.Equal(t, "true", dp["FineGrainedAuthorization"])
	require.NotEmpty(t, dp["ScopesSupported"], "the scope catalogue is advertised")
	idpArn, _ := json.Marshal(dp["IdpLambdaArn"])
	require.Contains(t, string(idpArn), `"Fn::GetAtt":["SmartTokenValidatorFunction`, "the function itself without provisioned concurrency")
	kms, _ := json.Marshal(dp["KmsKeyArn"])
	require.Contains(t, string(kms), "SmartDataKey", "a customer-managed key by default")

	// 4 → 5: the Okta audience becomes the data store endpoint.
	ap := audience.Properties
	require.Equal(t, cdktest.GetAtt(dsID, "DatastoreEndpoint"), ap["Audience"])
	require.Equal(t, cdktest.GetAtt(oktaID, "AuthorizationServerId"), ap["AuthorizationServerId"])

	// 4 → 6: the role trusts HealthLake for this data store only.
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
			"AssumeRolePolicyDocument": map[string]any{"Statement": []any{assertions.Match_ObjectLike(&map[string]any{
				"Principal": map[string]any{"Service": "healthlake.amazonaws.com"},
				"Condition": map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"},
					"ArnEquals":    map[string]any{"aws:SourceArn": cdktest.GetAtt(dsID, "DatastoreArn")},
				},
			})}},
		})
	})
	require.NotNil(t, shl.DatastoreEndpoint())
}

func TestProvisionedConcurrencyPutsTheDatastoreOnTheAlias(t *testing.T) {
	stack := newStack(t)
	p := smallest(stack)
	p.TokenValidator = &tokenvalidator.TokenValidatorOptions{ProvisionedConcurrency: jsii.Number(2)}
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	tpl := cdktest.Template(t, stack)
	all := cdktest.Resources(t, tpl)
	aliasID, _ := cdktest.Only(t, all, "AWS::Lambda::Alias")
	_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	require.Equal(t, cdktest.Ref(aliasID), ds.Properties["IdpLambdaArn"], "HealthLake must call the warm alias")
	// The data store waits for the alias's invoke permission.
	deps, _ := json.Marshal(ds.DependsOn)
	require.Contains(t, string(deps), "SmartTokenValidatorLiveHealthLakeInvoke")
}

func TestIntrospectionModeGivesTheValidatorOnlyTheIntrospectionCredential(t *testing.T) {
	stack := newStack(t)
	p := smallest(stack)
	p.Validation = validatorenv.ValidationIntrospection
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	require.NotNil(t, shl.AuthorizationServer().IntrospectionSecret())
	tpl := cdktest.Template(t, stack)
	all := cdktest.Resources(t, tpl)
	oktaID, okta := cdktest.Only(t, all, "Custom::SmartOktaAuthorizationServer")
	require.Equal(t, "true", okta.Properties["IntrospectionClient"])
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
				"SMART_VALIDATION":        "introspection",
				"SMART_INTROSPECTION_URL": cdktest.GetAtt(oktaID, "IntrospectionEndpoint"),
				"SMART_INTROSPECTION_SECRET_ARN": map[string]any{
					"Ref": assertions.Match_StringLikeRegexp(jsii.String("^SmartOktaIntrospection")),
				},
			})},
		})
	})
}

func TestSmartV1ReachesEveryPart(t *testing.T) {
	stack := newStack(t)
	p := smallest(stack)
	p.SmartVersion = smart.V1
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	tpl := cdktest.Template(t, stack)
	all := cdktest.Resources(t, tpl)
	_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	require.Equal(t, "v1", ds.Properties[datastoreprops.PropSmartVersion])
	_, okta := cdktest.Only(t, all, "Custom::SmartOktaAuthorizationServer")
	require.Equal(t, "v1", okta.Properties["SmartVersion"])
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{validatorenv.EnvSmartVersion: "v1"})},
		})
	})
}

func TestAnAwsOwnedKeyCreatesNoDataKey(t *testing.T) {
	stack := newStack(t)
	p := smallest(stack)
	p.AwsOwnedKey = jsii.Bool(true)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	require.Nil(t, shl.EncryptionKey())
	tpl := cdktest.Template(t, stack)
	all := cdktest.Resources(t, tpl)
	_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	require.Empty(t, ds.Properties["KmsKeyArn"])
	for id := range cdktest.OfType(all, "AWS::KMS::Key") {
		require.NotContains(t, id, "DataKey")
	}
}

func TestGrantsAreForThisDatastoreOnly(t *testing.T) {
	stack := newStack(t)
	shl := smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), smallest(stack))
	reader := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	shl.GrantRead(reader)
	tpl := cdktest.Template(t, stack)
	all := cdktest.Resources(t, tpl)
	dsID, _ := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
			"Roles": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Reader"))}},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Action":   assertions.Match_ArrayWith(&[]any{"healthlake:ReadResource", "healthlake:SearchWithGet"}),
				"Resource": cdktest.GetAtt(dsID, "DatastoreArn"),
			})})},
		})
	})
}

func TestEveryPartPassesCdkNag(t *testing.T) {
	for name, edit := range map[string]func(*smarthealthlake.SmartHealthLakeProps){
		"defaults": func(*smarthealthlake.SmartHealthLakeProps) {},
		"introspection": func(p *smarthealthlake.SmartHealthLakeProps) {
			p.Validation = validatorenv.ValidationIntrospection
		},
		"provisioned": func(p *smarthealthlake.SmartHealthLakeProps) {
			p.TokenValidator = &tokenvalidator.TokenValidatorOptions{ProvisionedConcurrency: jsii.Number(1)}
		},
		"aws-owned key": func(p *smarthealthlake.SmartHealthLakeProps) { p.AwsOwnedKey = jsii.Bool(true) },
		"ehr launch with backend services": func(p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(`{"keys":[{"kty":"RSA","kid":"svc-1","n":"sXch","e":"AQAB"}]}`)}
		},
		"ehr launch, both apps, introspection": func(p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer.PublicClient = &oktaauth.PublicClientProps{RedirectUris: jsii.Strings(publicRedirect)}
			p.Validation = validatorenv.ValidationIntrospection
			p.EhrLaunch.CorsOrigins = jsii.Strings("https://spa.clinic.example")
			p.EhrLaunch.PickerApps = []smarthealthlake.EhrLaunchApp{smarthealthlake.EhrLaunchPublicApp}
		},
	} {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			var p *smarthealthlake.SmartHealthLakeProps
			if strings.HasPrefix(name, "ehr launch") {
				p = withEhrLaunch(stack)
			} else {
				p = smallest(stack)
			}
			edit(p)
			smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
			cdktest.ApplyNagPacks(stack)
			require.Empty(t, cdktest.NagFindings(t, stack))
		})
	}
}

func TestBadPropsAreNamed(t *testing.T) {
	cases := map[string]struct {
		edit func(awscdk.Stack, *smarthealthlake.SmartHealthLakeProps)
		want string
	}{
		"no org URL": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) { p.OktaOrgUrl = nil }, "props.OktaOrgUrl is required"},
		"no secret":  {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) { p.OktaCredentialSecret = nil }, "props.OktaCredentialSecret is required"},
		"an Okta audience, which the composite binds to the data store endpoint": {func(_ awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AuthorizationServer = &oktaauth.SmartAuthorizationServerOptions{Audience: jsii.String("https://api.example.com")}
		}, "props.AuthorizationServer.Audience cannot be set: the composite sets the Okta audience to the data store endpoint"},
		"two key choices": {func(s awscdk.Stack, p *smarthealthlake.SmartHealthLakeProps) {
			p.AwsOwnedKey = jsii.Bool(true)
			p.EncryptionKey = awskmsKey(s)
		}, "props.EncryptionKey and props.AwsOwnedKey exclude each other"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			p := smallest(stack)
			c.edit(stack, p)
			msg := cdktest.Panics(t, func() { smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p) })
			require.Contains(t, msg, c.want)
		})
	}
}

func awskmsKey(stack awscdk.Stack) awskms.IKey { return awskms.NewKey(stack, jsii.String("Key"), nil) }

// TestTheSmartConfigurationFollowsTheConfiguredClients renders the document
// the handler would build from the data store resource's properties
// (smartmeta.Build with the SMART version, the scopes and the SmartSupport
// features of the template) for each configuration.
func TestTheSmartConfigurationFollowsTheConfiguredClients(t *testing.T) {
	const jwks = `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`
	redirect := jsii.Strings("https://app.example.org/callback")
	cases := []struct {
		name         string
		version      smart.Version
		server       *oktaauth.SmartAuthorizationServerOptions
		capabilities []string
		grants       []string
	}{
		{
			name: "only a backend service", version: smart.V2,
			server:       &oktaauth.SmartAuthorizationServerOptions{BackendClient: &oktaauth.BackendClientProps{Jwks: jsii.String(jwks)}},
			capabilities: []string{"client-confidential-asymmetric", "permission-v2"},
			grants:       []string{"client_credentials"},
		},
		{
			name: "only a public app, without the patient claim", version: smart.V2,
			server: &oktaauth.SmartAuthorizationServerOptions{PatientClaim: jsii.Bool(false),
				PublicClient: &oktaauth.PublicClientProps{RedirectUris: redirect}},
			capabilities: []string{"launch-standalone", "client-public", "sso-openid-connect", "permission-offline",
				"permission-patient", "permission-user", "permission-v2"},
			grants: []string{"authorization_code"},
		},
		{
			name: "a confidential app with the patient claim", version: smart.V2,
			server: &oktaauth.SmartAuthorizationServerOptions{ConfidentialClient: &oktaauth.ConfidentialClientProps{RedirectUris: redirect}},
			capabilities: []string{"launch-standalone", "client-confidential-symmetric", "context-standalone-patient",
				"sso-openid-connect", "permission-offline", "permission-patient", "permission-user", "permission-v2"},
			grants: []string{"authorization_code"},
		},
		{
			name: "the same on SMART v1", version: smart.V1,
			server: &oktaauth.SmartAuthorizationServerOptions{ConfidentialClient: &oktaauth.ConfidentialClientProps{RedirectUris: redirect}},
			capabilities: []string{"launch-standalone", "client-confidential-symmetric", "context-standalone-patient",
				"sso-openid-connect", "permission-offline", "permission-patient", "permission-user", "permission-v1"},
			grants: []string{"authorization_code"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stack := newStack(t)
			props := smallest(stack)
			props.SmartVersion = tc.version
			props.AuthorizationServer = tc.server
			smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), props)
			_, ds := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, stack)), "Custom::SmartHealthLakeDatastore")

			strs := func(v any) []string {
				var out []string
				for _, x := range cdktest.AsList(v) {
					out = append(out, x.(string))
				}
				return out
			}
			support, err := smart.ParseFeatures(strs(ds.Properties[datastoreprops.PropSupport]))
			require.NoError(t, err)
			version := smart.Version(ds.Properties[datastoreprops.PropSmartVersion].(string))
			base := "https://clinic.okta.com/oauth2/aus1"
			raw, err := smartmeta.Build(smartmeta.Config{
				Version:         version,
				Endpoints:       smartmeta.Endpoints{Issuer: base, JWKSURI: base + "/v1/keys", Authorization: base + "/v1/authorize", Token: base + "/v1/token"},
				ScopesSupported: strs(ds.Properties["ScopesSupported"]),
				Support:         support,
			})
			require.NoError(t, err)
			var doc smartmeta.Document
			require.NoError(t, json.Unmarshal([]byte(raw), &doc))
			require.Equal(t, tc.capabilities, doc.Capabilities)
			require.Equal(t, tc.grants, doc.GrantTypesSupported)
		})
	}
}

func TestTheTokenValidatorOptionsReachTheFunctionUnchangedForTheCaller(t *testing.T) {
	stack := newStack(t)
	p := smallest(stack)
	opts := &tokenvalidator.TokenValidatorOptions{
		MemorySize:  jsii.Number(1024),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(3)),
		Audiences:   jsii.Strings("https://fhir.clinic.example/"),
		TokenLeeway: awscdk.Duration_Seconds(jsii.Number(30)),
	}
	p.LogLevel = "DEBUG"
	p.TokenValidator = opts
	smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
	var fn cdktest.Resource
	for _, r := range cdktest.OfType(cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::Lambda::Function") {
		if env, ok := r.Properties["Environment"].(map[string]any); ok {
			if vars, ok := env["Variables"].(map[string]any); ok && vars["SMART_VERSION"] != nil {
				fn = r
			}
		}
	}
	require.NotNil(t, fn.Properties, "the validator function")
	require.EqualValues(t, 1024, fn.Properties["MemorySize"])
	require.EqualValues(t, 3, fn.Properties["Timeout"])
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	require.Equal(t, "https://fhir.clinic.example/", vars["SMART_AUDIENCES"])
	require.Equal(t, "30", vars["SMART_LEEWAY_SECONDS"])
	require.Equal(t, "DEBUG", fn.Properties["LoggingConfig"].(map[string]any)["ApplicationLogLevel"],
		"an unset validator LogLevel is the composite's LogLevel")
	require.Empty(t, opts.LogLevel, "the caller's Options are not changed")
}

// oktaHandlerLogLevel is the Okta handler function's application log level.
func oktaHandlerLogLevel(t *testing.T, stack awscdk.Stack) any {
	t.Helper()
	for _, fn := range cdktest.OfType(cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::Lambda::Function") {
		if d, _ := fn.Properties["Description"].(string); strings.HasPrefix(d, "Creates, updates and deletes the Okta SMART authorization server") {
			return fn.Properties["LoggingConfig"].(map[string]any)["ApplicationLogLevel"]
		}
	}
	t.Fatal("no Okta handler")
	return nil
}

func TestTheOktaOptionsLogSettingsTakePrecedenceOverTheComposites(t *testing.T) {
	t.Run("an unset Okta LogLevel is the composite's", func(t *testing.T) {
		stack := newStack(t)
		p := smallest(stack)
		p.LogLevel = "DEBUG"
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
		require.Equal(t, "DEBUG", oktaHandlerLogLevel(t, stack))
	})
	t.Run("an Okta LogLevel wins over the composite's, as documented", func(t *testing.T) {
		stack := newStack(t)
		p := smallest(stack)
		p.LogLevel = "DEBUG"
		p.AuthorizationServer = &oktaauth.SmartAuthorizationServerOptions{LogLevel: "WARN"}
		smarthealthlake.NewSmartHealthLake(stack, jsii.String("Smart"), p)
		require.Equal(t, "WARN", oktaHandlerLogLevel(t, stack))
	})
}
