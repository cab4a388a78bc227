package oktaauth_test

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/datastore"
	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/servicerole"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

const (
	org = "https://example.okta.com"
	// credentialArn is the partial ARN of the credential secret imported by name.
	credentialArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta/management"
	// endpoint stands in for the data store endpoint.
	endpoint = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"
	// publicJwks is an RSA public key set (no private members).
	publicJwks = `{"keys":[{"kty":"RSA","kid":"backend-1","alg":"RS384","use":"sig","e":"AQAB","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}]}`
)

// newStack uses cdk.json's feature flags, so the templates are the ones users get.
func newStack(t *testing.T) awscdk.Stack { return cdktest.NewCdkJSONStack(t, "Fhir") }

// credential imports the Okta credential secret by name, as the app does.
func credential(stack awscdk.Stack) awssecretsmanager.ISecret {
	return awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("OktaCredential"), jsii.String("okta/management"))
}

func minimalProps(stack awscdk.Stack) *oktaauth.SmartAuthorizationServerProps {
	return &oktaauth.SmartAuthorizationServerProps{OrgUrl: jsii.String(org), CredentialSecret: credential(stack)}
}

// ofConstruct keeps the resources of the construct under test, whose id in
// every test is "Okta".
func ofConstruct(all map[string]cdktest.Resource) map[string]cdktest.Resource {
	return cdktest.Prefixed(all, "Okta", "OktaCredential")
}

// statement is an IAM policy statement with Action and Resource normalized to lists.
type statement struct {
	Sid       string
	Actions   []string
	Resources []any
	Condition map[string]any
}

// roleStatements collects the statements of every AWS::IAM::Policy attached to
// the role with logical id roleID, with their actions sorted. Every statement
// must Allow.
func roleStatements(t *testing.T, all map[string]cdktest.Resource, roleID string) []statement {
	t.Helper()
	var out []statement
	for _, s := range cdktest.RoleStatements(t, all, roleID) {
		require.Equal(t, "Allow", s.Effect)
		sort.Strings(s.Actions)
		if len(s.Actions) > 0 && strings.HasPrefix(s.Actions[0], "xray:") {
			// Active tracing's statement: the trace actions, which have no resource type, and nothing else.
			require.Equal(t, []string{"xray:PutTelemetryRecords", "xray:PutTraceSegments"}, s.Actions)
			require.Equal(t, []any{"*"}, s.Resources)
			continue
		}
		out = append(out, statement{Sid: s.Sid, Actions: s.Actions, Resources: s.Resources, Condition: s.Condition})
	}
	return out
}

// handlerFunction returns the logical id and resource of the Go handler.
func handlerFunction(t *testing.T, all map[string]cdktest.Resource) (string, cdktest.Resource) {
	t.Helper()
	for id, r := range cdktest.OfType(all, "AWS::Lambda::Function") {
		if r.Properties["Runtime"] == "provided.al2023" {
			return id, r
		}
	}
	t.Fatal("no Go handler function")
	return "", cdktest.Resource{}
}

func serverResource(t *testing.T, all map[string]cdktest.Resource) (string, map[string]any) {
	t.Helper()
	id, cr := cdktest.Only(t, all, oktaauth.ResourceType)
	props := cr.Properties
	require.NotNil(t, props["ServiceToken"])
	delete(props, "ServiceToken")
	return id, props
}

func TestTheSmallestUseSynthesizesWithSensibleDefaults(t *testing.T) {
	stack := newStack(t)
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), minimalProps(stack))
	all := cdktest.Resources(t, cdktest.Template(t, stack))

	t.Run("the resource gets the org, the credential, a derived name, SMART v2 and no clients", func(t *testing.T) {
		id, props := serverResource(t, all)
		require.Equal(t, cdktest.LogicalID(t, a.Resource()), id)
		require.Equal(t, map[string]any{
			oktaprops.PropOrgURL:              org,
			oktaprops.PropCredentialSecretARN: credentialArn,
			oktaprops.PropName:                "Fhir-Okta",
			oktaprops.PropSmartVersion:        "v2",
			oktaprops.PropConfidentialClient:  "false",
			oktaprops.PropPublicClient:        "false",
			oktaprops.PropBackendClient:       "false",
			oktaprops.PropIntrospectionClient: "false",
			"ServiceTimeout":                  "3000",
		}, props, "no Audience: the placeholder until BindAudience; every other default is the handler's")
		_, cr := cdktest.Only(t, all, oktaauth.ResourceType)
		require.Equal(t, "Delete", cr.DeletionPolicy, "CloudFormation must send the Delete to the handler")
	})

	t.Run("no secrets and no secrets key without a client that has a secret", func(t *testing.T) {
		require.Empty(t, cdktest.OfType(all, "AWS::SecretsManager::Secret"))
		require.Len(t, cdktest.OfType(all, "AWS::KMS::Key"), 1, "the log key only")
		require.Nil(t, a.ClientSecret())
		require.Nil(t, a.IntrospectionSecret())
		require.Nil(t, a.SecretsEncryptionKey())
	})

	t.Run("the handler is an arm64 Go function with room for rate-limit waits and a small reserved concurrency", func(t *testing.T) {
		id, fn := handlerFunction(t, all)
		require.Equal(t, cdktest.Resolved(t, stack, a.Function().FunctionName()), cdktest.Ref(id))
		p := fn.Properties
		require.Equal(t, "bootstrap", p["Handler"])
		require.Equal(t, []any{"arm64"}, p["Architectures"])
		require.EqualValues(t, 14*60, p["Timeout"])
		require.GreaterOrEqual(t, p["Timeout"].(float64), 600.0)
		require.EqualValues(t, 2, p["ReservedConcurrentExecutions"])
		require.EqualValues(t, 256, p["MemorySize"])
		require.Nil(t, p["Environment"], "the handler needs no configuration: everything is in the properties")
	})

	t.Run("the Provider framework has only its onEvent function, with reserved concurrency", func(t *testing.T) {
		fns := cdktest.OfType(all, "AWS::Lambda::Function")
		require.Len(t, fns, 2)
		require.Empty(t, cdktest.OfType(all, "AWS::StepFunctions::StateMachine"), "no isComplete: no waiter")
		for id, fn := range fns {
			require.EqualValues(t, 2, fn.Properties["ReservedConcurrentExecutions"], id)
		}
	})

	t.Run("every log group is KMS-encrypted, kept a year and retained, and every function logs to one", func(t *testing.T) {
		groups := cdktest.OfType(all, "AWS::Logs::LogGroup")
		require.Len(t, groups, 2)
		keyID, _ := cdktest.Only(t, all, "AWS::KMS::Key")
		require.Equal(t, cdktest.GetAtt(keyID, "Arn"), cdktest.Resolved(t, stack, a.LogEncryptionKey().KeyArn()))
		for id, g := range groups {
			require.Equal(t, cdktest.GetAtt(keyID, "Arn"), g.Properties["KmsKeyId"], id)
			require.EqualValues(t, 365, g.Properties["RetentionInDays"], id)
			require.Equal(t, "Retain", g.DeletionPolicy, id)
		}
		for id, fn := range cdktest.OfType(all, "AWS::Lambda::Function") {
			require.Contains(t, groups, cdktest.LogGroupOf(t, fn), id)
		}
		require.Len(t, a.LogGroups(), 2)
	})

	t.Run("scopes advertised: OpenID's, the context scopes and v2 read+search for the US Core types at three levels", func(t *testing.T) {
		got := *jsii.Strings()
		for _, s := range *a.ScopesSupported() {
			got = append(got, s)
		}
		var names []string
		for _, s := range got {
			names = append(names, *s)
		}
		want := []string{"openid", "profile", "offline_access"}
		want = append(want, oktaprops.ContextScopes...)
		for _, level := range []string{"patient", "user", "system"} {
			for _, res := range oktaprops.DefaultResources {
				want = append(want, level+"/"+res+".rs")
			}
		}
		require.Equal(t, want, names)
	})
}

func TestEveryPropReachesItsProperty(t *testing.T) {
	stack := newStack(t)
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), &oktaauth.SmartAuthorizationServerProps{
		OrgUrl:              jsii.String(org),
		CredentialSecret:    credential(stack),
		SmartVersion:        smart.V1,
		IntrospectionClient: jsii.Bool(true),
		SmartAuthorizationServerOptions: oktaauth.SmartAuthorizationServerOptions{
			Name:                 jsii.String("clinic smart"),
			Description:          jsii.String("SMART for the clinic"),
			Audience:             jsii.String(endpoint),
			IssuerMode:           oktaprops.IssuerModeDynamic,
			ScopeLevels:          jsii.Strings("patient", "system"),
			ScopeResources:       jsii.Strings("Patient", "Observation"),
			ScopePermissionsV1:   jsii.Strings("read", "write"),
			ScopePermissionsV2:   jsii.Strings("rs", "cruds"),
			ScopeConsent:         oktaprops.ScopeConsentRequired,
			ScopeMetadataPublish: oktaprops.ScopeMetadataPublishNoClients,
			ExtraScopes:          jsii.Strings("system/Group.read"),
			FhirUserAttribute:    jsii.String("fhirUserRef"),
			PatientClaim:         jsii.Bool(false),
			PatientClaimName:     jsii.String("launch_response_patient"),
			PatientAttribute:     jsii.String("patientRef"),
			ExtraClaims: &[]*oktaauth.ExtraClaim{
				{Name: jsii.String("organization"), Value: jsii.String("user.organization"), Scopes: jsii.Strings("launch")},
				{Name: jsii.String("groups"), Value: jsii.String("smart-"), ClaimType: oktaprops.ClaimTypeIdentity,
					ValueType: oktaprops.ClaimValueGroups, GroupFilterType: oktaprops.GroupFilterStartsWith, AlwaysIncludeInToken: jsii.Bool(false)},
			},
			PolicyAssignment:           oktaprops.PolicyAssignmentAllClients,
			UserGroupIds:               jsii.Strings("00gAbCdEfGhIjKlMnOpQ"),
			AccessTokenLifetime:        awscdk.Duration_Minutes(jsii.Number(15)),
			RefreshTokenLifetime:       awscdk.Duration_Days(jsii.Number(30)),
			RefreshTokenWindow:         awscdk.Duration_Days(jsii.Number(7)),
			BackendAccessTokenLifetime: awscdk.Duration_Hours(jsii.Number(1)),
			TokenInlineHookId:          jsii.String("calAbCdEfGhIjKlMnOpQ"),
			ConfidentialClient: &oktaauth.ConfidentialClientProps{
				RedirectUris:           jsii.Strings("https://app.example.com/callback"),
				PostLogoutRedirectUris: jsii.Strings("https://app.example.com/"),
			},
			PublicClient: &oktaauth.PublicClientProps{
				Type:         oktaprops.PublicClientTypeNative,
				RedirectUris: jsii.Strings("com.example.app:/callback", "http://localhost:3000/cb"),
			},
			BackendClient: &oktaauth.BackendClientProps{Jwks: jsii.String(publicJwks)},
		},
	})
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	_, props := serverResource(t, all)
	require.Equal(t, map[string]any{
		oktaprops.PropOrgURL:                      org,
		oktaprops.PropCredentialSecretARN:         credentialArn,
		oktaprops.PropName:                        "clinic smart",
		oktaprops.PropDescription:                 "SMART for the clinic",
		oktaprops.PropAudience:                    endpoint,
		oktaprops.PropIssuerMode:                  "DYNAMIC",
		oktaprops.PropSmartVersion:                "v1",
		oktaprops.PropScopeLevels:                 []any{"patient", "system"},
		oktaprops.PropScopeResources:              []any{"Patient", "Observation"},
		oktaprops.PropScopePermissionsV1:          []any{"read", "write"},
		oktaprops.PropScopePermissionsV2:          []any{"rs", "cruds"},
		oktaprops.PropScopeConsent:                "REQUIRED",
		oktaprops.PropScopeMetadataPublish:        "NO_CLIENTS",
		oktaprops.PropExtraScopes:                 []any{"system/Group.read"},
		oktaprops.PropFhirUserAttribute:           "fhirUserRef",
		oktaprops.PropPatientClaim:                "false",
		oktaprops.PropPatientClaimName:            "launch_response_patient",
		oktaprops.PropPatientAttribute:            "patientRef",
		oktaprops.PropExtraClaims:                 `[{"name":"organization","value":"user.organization","scopes":["launch"]},{"name":"groups","value":"smart-","claimType":"IDENTITY","valueType":"GROUPS","groupFilterType":"STARTS_WITH","alwaysIncludeInToken":false}]`,
		oktaprops.PropPolicyAssignment:            "ALL_CLIENTS",
		oktaprops.PropUserGroupIDs:                []any{"00gAbCdEfGhIjKlMnOpQ"},
		oktaprops.PropAccessTokenLifetimeMinutes:  "15",
		oktaprops.PropRefreshTokenLifetimeMinutes: "43200",
		oktaprops.PropRefreshTokenWindowMinutes:   "10080",
		oktaprops.PropBackendAccessTokenLifetime:  "60",
		oktaprops.PropTokenInlineHookID:           "calAbCdEfGhIjKlMnOpQ",
		oktaprops.PropConfidentialClient:          "true",
		oktaprops.PropConfidentialRedirectURIs:    []any{"https://app.example.com/callback"},
		oktaprops.PropConfidentialPostLogoutURIs:  []any{"https://app.example.com/"},
		oktaprops.PropPublicClient:                "true",
		oktaprops.PropPublicClientType:            "native",
		oktaprops.PropPublicRedirectURIs:          []any{"com.example.app:/callback", "http://localhost:3000/cb"},
		oktaprops.PropBackendClient:               "true",
		oktaprops.PropBackendClientJWKS:           publicJwks,
		oktaprops.PropIntrospectionClient:         "true",
		oktaprops.PropClientSecretARN:             cdktest.Resolved(t, stack, a.ClientSecret().SecretArn()),
		oktaprops.PropIntrospectionSecretARN:      cdktest.Resolved(t, stack, a.IntrospectionSecret().SecretArn()),
		"ServiceTimeout":                          "3000",
	}, props)

	// Every property the construct writes is one the handler reads.
	for name := range props {
		require.Contains(t, oktaprops.KnownProperties, name)
	}
	// v1 only: the v2 permissions are sent but generate nothing.
	scopes := strings.Join(deref(a.ScopesSupported()), " ")
	require.Contains(t, scopes, "patient/Observation.write")
	require.NotContains(t, scopes, ".rs")
	require.Contains(t, scopes, "system/Group.read")
}

func deref(l *[]*string) []string {
	var out []string
	for _, s := range *l {
		out = append(out, *s)
	}
	return out
}

func TestTheStackOwnedSecrets(t *testing.T) {
	t.Run("one per secret-holding client, holding {} until the handler writes, destroyed with the stack, under a new rotating key", func(t *testing.T) {
		stack := newStack(t)
		props := minimalProps(stack)
		props.ConfidentialClient = &oktaauth.ConfidentialClientProps{RedirectUris: jsii.Strings("https://app.example.com/cb")}
		props.IntrospectionClient = jsii.Bool(true)
		a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
		all := cdktest.Resources(t, cdktest.Template(t, stack))
		secrets := cdktest.OfType(all, "AWS::SecretsManager::Secret")
		require.Len(t, secrets, 2)
		require.Contains(t, secrets, cdktest.LogicalID(t, a.ClientSecret()))
		require.Contains(t, secrets, cdktest.LogicalID(t, a.IntrospectionSecret()))
		keyID := cdktest.LogicalID(t, a.SecretsEncryptionKey())
		key := all[keyID]
		require.Equal(t, true, key.Properties["EnableKeyRotation"])
		require.Equal(t, "Delete", key.DeletionPolicy)
		for id, s := range secrets {
			require.Equal(t, "{}", s.Properties["SecretString"], id)
			require.Nil(t, s.Properties["GenerateSecretString"], id)
			require.Equal(t, cdktest.GetAtt(keyID, "Arn"), s.Properties["KmsKeyId"], id)
			require.Equal(t, "Delete", s.DeletionPolicy, id)
			require.Nil(t, s.Properties["Name"], "CloudFormation names it: no clash between stacks")
		}
	})

	t.Run("only the introspection secret, under the given key", func(t *testing.T) {
		stack := newStack(t)
		key := awskms.NewKey(stack, jsii.String("MyKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
		props := minimalProps(stack)
		props.IntrospectionClient = jsii.Bool(true)
		props.SecretsEncryptionKey = key
		a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
		all := cdktest.Resources(t, cdktest.Template(t, stack))
		id, s := cdktest.Only(t, all, "AWS::SecretsManager::Secret")
		require.Equal(t, cdktest.LogicalID(t, a.IntrospectionSecret()), id)
		require.Nil(t, a.ClientSecret())
		require.Equal(t, cdktest.GetAtt(cdktest.LogicalID(t, key), "Arn"), s.Properties["KmsKeyId"])
		require.Len(t, cdktest.OfType(all, "AWS::KMS::Key"), 2, "the given key and the log key: no new secrets key")
		_, props2 := serverResource(t, all)
		require.Equal(t, cdktest.Ref(id), props2[oktaprops.PropIntrospectionSecretARN])
		require.NotContains(t, props2, oktaprops.PropClientSecretARN)
	})
}

func TestTheHandlerRoleReadsOnlyTheCredentialAndWritesOnlyTheStackOwnedSecrets(t *testing.T) {
	for name, c := range map[string]struct {
		build func(stack awscdk.Stack) (*oktaauth.SmartAuthorizationServerProps, string)
		want  func(t *testing.T, stack awscdk.Stack, all map[string]cdktest.Resource, a *oktaauth.SmartAuthorizationServer) []statement
	}{
		"credential imported by name, no clients with secrets": {
			build: func(stack awscdk.Stack) (*oktaauth.SmartAuthorizationServerProps, string) {
				return minimalProps(stack), ""
			},
			want: func(t *testing.T, stack awscdk.Stack, all map[string]cdktest.Resource, a *oktaauth.SmartAuthorizationServer) []statement {
				return []statement{{Sid: "ReadOktaCredentials", Actions: []string{"secretsmanager:GetSecretValue"},
					Resources: []any{credentialArn + "-??????"}}}
			},
		},
		"credential imported by name, both secrets under the new key": {
			build: func(stack awscdk.Stack) (*oktaauth.SmartAuthorizationServerProps, string) {
				p := minimalProps(stack)
				p.ConfidentialClient = &oktaauth.ConfidentialClientProps{RedirectUris: jsii.Strings("https://app.example.com/cb")}
				p.IntrospectionClient = jsii.Bool(true)
				return p, ""
			},
			want: func(t *testing.T, stack awscdk.Stack, all map[string]cdktest.Resource, a *oktaauth.SmartAuthorizationServer) []statement {
				owned := []any{cdktest.Resolved(t, stack, a.ClientSecret().SecretArn()), cdktest.Resolved(t, stack, a.IntrospectionSecret().SecretArn())}
				return []statement{
					{Sid: "ReadOktaCredentials", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []any{credentialArn + "-??????"}},
					{Sid: "WriteClientSecrets", Actions: []string{"secretsmanager:PutSecretValue"}, Resources: owned},
					{Sid: "EncryptClientSecrets", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"},
						Resources: []any{cdktest.Resolved(t, stack, a.SecretsEncryptionKey().KeyArn())},
						Condition: map[string]any{"StringEquals": map[string]any{
							"kms:ViaService":                  "secretsmanager.us-east-1.amazonaws.com",
							"kms:EncryptionContext:SecretARN": owned,
						}}},
				}
			},
		},
		"a token hook secret with its own key: read and decrypted through Secrets Manager, nothing else": {
			build: func(stack awscdk.Stack) (*oktaauth.SmartAuthorizationServerProps, string) {
				p := minimalProps(stack)
				hookKey := awskms.NewKey(stack, jsii.String("HookKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
				p.TokenHookUrl = jsii.String("https://hook.example.com/hook")
				p.TokenHookSecret = awssecretsmanager.NewSecret(stack, jsii.String("HookSecret"), &awssecretsmanager.SecretProps{EncryptionKey: hookKey})
				return p, ""
			},
			want: func(t *testing.T, stack awscdk.Stack, all map[string]cdktest.Resource, a *oktaauth.SmartAuthorizationServer) []statement {
				var secretID, keyID string
				for id := range cdktest.OfType(all, "AWS::SecretsManager::Secret") {
					if strings.HasPrefix(id, "HookSecret") {
						secretID = id
					}
				}
				for id := range cdktest.OfType(all, "AWS::KMS::Key") {
					if strings.HasPrefix(id, "HookKey") {
						keyID = id
					}
				}
				return []statement{
					{Sid: "ReadOktaCredentials", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []any{credentialArn + "-??????"}},
					{Sid: "ReadTokenHookSecret", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []any{cdktest.Ref(secretID)}},
					{Sid: "DecryptTokenHookSecret", Actions: []string{"kms:Decrypt"}, Resources: []any{cdktest.GetAtt(keyID, "Arn")},
						Condition: map[string]any{"StringEquals": map[string]any{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}},
				}
			},
		},
		"the proxy's assertion key: its public half, of that key only": {
			build: func(stack awscdk.Stack) (*oktaauth.SmartAuthorizationServerProps, string) {
				p := minimalProps(stack)
				p.ProxyAssertionKey = awskms.NewKey(stack, jsii.String("AssertionKey"), &awskms.KeyProps{
					KeySpec: awskms.KeySpec_RSA_2048, KeyUsage: awskms.KeyUsage_SIGN_VERIFY})
				return p, ""
			},
			want: func(t *testing.T, stack awscdk.Stack, all map[string]cdktest.Resource, a *oktaauth.SmartAuthorizationServer) []statement {
				var keyID string
				for id := range cdktest.OfType(all, "AWS::KMS::Key") {
					if strings.HasPrefix(id, "AssertionKey") {
						keyID = id
					}
				}
				return []statement{
					{Sid: "ReadOktaCredentials", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []any{credentialArn + "-??????"}},
					{Sid: "ReadProxyAssertionPublicKey", Actions: []string{"kms:GetPublicKey"}, Resources: []any{cdktest.GetAtt(keyID, "Arn")}},
				}
			},
		},
		"a token hook secret imported by name, without a customer key": {
			build: func(stack awscdk.Stack) (*oktaauth.SmartAuthorizationServerProps, string) {
				p := minimalProps(stack)
				p.TokenHookUrl = jsii.String("https://hook.example.com/hook")
				p.TokenHookSecret = awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("HookSecret"), jsii.String("ehr/hook"))
				return p, ""
			},
			want: func(t *testing.T, stack awscdk.Stack, all map[string]cdktest.Resource, a *oktaauth.SmartAuthorizationServer) []statement {
				return []statement{
					{Sid: "ReadOktaCredentials", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []any{credentialArn + "-??????"}},
					{Sid: "ReadTokenHookSecret", Actions: []string{"secretsmanager:GetSecretValue"},
						Resources: []any{"arn:aws:secretsmanager:us-east-1:123456789012:secret:ehr/hook-??????"}},
				}
			},
		},
		"credential secret in the stack with its own key, introspection only": {
			build: func(stack awscdk.Stack) (*oktaauth.SmartAuthorizationServerProps, string) {
				credKey := awskms.NewKey(stack, jsii.String("CredKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
				cred := awssecretsmanager.NewSecret(stack, jsii.String("Cred"), &awssecretsmanager.SecretProps{EncryptionKey: credKey})
				return &oktaauth.SmartAuthorizationServerProps{OrgUrl: jsii.String(org), CredentialSecret: cred,
					IntrospectionClient: jsii.Bool(true)}, ""
			},
			want: func(t *testing.T, stack awscdk.Stack, all map[string]cdktest.Resource, a *oktaauth.SmartAuthorizationServer) []statement {
				owned := []any{cdktest.Resolved(t, stack, a.IntrospectionSecret().SecretArn())}
				var credID, credKeyID string
				for id := range cdktest.OfType(all, "AWS::SecretsManager::Secret") {
					if strings.HasPrefix(id, "Cred") {
						credID = id
					}
				}
				for id := range cdktest.OfType(all, "AWS::KMS::Key") {
					if strings.HasPrefix(id, "CredKey") {
						credKeyID = id
					}
				}
				return []statement{
					{Sid: "ReadOktaCredentials", Actions: []string{"secretsmanager:GetSecretValue"}, Resources: []any{cdktest.Ref(credID)}},
					{Sid: "DecryptOktaCredentials", Actions: []string{"kms:Decrypt"}, Resources: []any{cdktest.GetAtt(credKeyID, "Arn")},
						Condition: map[string]any{"StringEquals": map[string]any{"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}},
					{Sid: "WriteClientSecrets", Actions: []string{"secretsmanager:PutSecretValue"}, Resources: owned},
					{Sid: "EncryptClientSecrets", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"},
						Resources: []any{cdktest.Resolved(t, stack, a.SecretsEncryptionKey().KeyArn())},
						Condition: map[string]any{"StringEquals": map[string]any{
							"kms:ViaService":                  "secretsmanager.us-east-1.amazonaws.com",
							"kms:EncryptionContext:SecretARN": owned,
						}}},
				}
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			props, _ := c.build(stack)
			a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
			all := cdktest.Resources(t, cdktest.Template(t, stack))
			_, fn := handlerFunction(t, all)
			got := roleStatements(t, all, cdktest.RoleOf(t, fn))
			require.NotEmpty(t, got)
			// The first statement is golambda's: its own log group, nothing else.
			require.Equal(t, statement{Actions: []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				Resources: []any{cdktest.GetAtt(cdktest.LogGroupOf(t, fn), "Arn")}}, got[0])
			want := c.want(t, stack, all, a)
			for i := range want {
				sort.Strings(want[i].Actions)
			}
			require.Equal(t, want, got[1:])
			requireNoBroadGrants(t, all)
		})
	}
}

// requireNoBroadGrants checks every policy and role of the construct, the
// Provider framework's included: no wildcard action, no iam:PassRole, no
// wildcard resource on a Secrets Manager or KMS action, no managed policy.
func requireNoBroadGrants(t *testing.T, all map[string]cdktest.Resource) {
	t.Helper()
	for id, statements := range cdktest.PolicyStatements(t, ofConstruct(cdktest.OfType(all, "AWS::IAM::Policy"))) {
		for _, s := range statements {
			sensitive := false
			for _, a := range s.Actions {
				require.NotContains(t, a, "*", "wildcard action in %s", id)
				require.NotEqual(t, "iam:PassRole", a, id)
				sensitive = sensitive || strings.HasPrefix(a, "secretsmanager:") || strings.HasPrefix(a, "kms:")
			}
			if !sensitive {
				continue
			}
			for _, r := range s.Resources {
				if r, ok := r.(string); ok {
					require.NotContains(t, r, "*", "wildcard resource for %v in %s", s.Actions, id)
				}
			}
		}
	}
	cdktest.RequireNoManagedPolicy(t, ofConstruct(cdktest.OfType(all, "AWS::IAM::Role")))
}

func TestNoSecretValueOrOktaTokenIsInTheTemplate(t *testing.T) {
	stack := newStack(t)
	props := minimalProps(stack)
	props.ConfidentialClient = &oktaauth.ConfidentialClientProps{RedirectUris: jsii.Strings("https://app.example.com/cb")}
	props.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(publicJwks)}
	props.IntrospectionClient = jsii.Bool(true)
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
	a.BindAudience(jsii.String(endpoint))
	raw, err := json.Marshal(cdktest.Template(t, stack).ToJSON())
	require.NoError(t, err)
	text := strings.ToLower(string(raw))
	for _, forbidden := range []string{"client_secret", "clientsecret\"", "confidentialclientsecret", "apitoken", "ssws",
		"-----begin", "private key", "privatekey", `"d":`} {
		require.NotContains(t, text, forbidden)
	}
	// The secrets themselves hold only the empty object.
	for id, s := range cdktest.OfType(cdktest.Resources(t, cdktest.Template(t, stack)), "AWS::SecretsManager::Secret") {
		require.Equal(t, "{}", s.Properties["SecretString"], id)
	}
}

func TestTheDataAttributesAreGetAttsOfTheResource(t *testing.T) {
	stack := newStack(t)
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), minimalProps(stack))
	crID := cdktest.LogicalID(t, a.Resource())
	for attr, v := range map[string]*string{
		oktaprops.AttrAuthorizationServerID: a.AuthorizationServerId(),
		oktaprops.AttrIssuer:                a.Issuer(),
		oktaprops.AttrAuthorizationEndpoint: a.AuthorizationEndpoint(),
		oktaprops.AttrTokenEndpoint:         a.TokenEndpoint(),
		oktaprops.AttrJwksURI:               a.JwksUri(),
		oktaprops.AttrIntrospectionEndpoint: a.IntrospectionEndpoint(),
		oktaprops.AttrRevocationEndpoint:    a.RevocationEndpoint(),
		oktaprops.AttrAudience:              a.Audience(),
		oktaprops.AttrConfidentialClientID:  a.ConfidentialClientId(),
		oktaprops.AttrPublicClientID:        a.PublicClientId(),
		oktaprops.AttrBackendClientID:       a.BackendClientId(),
		oktaprops.AttrIntrospectionClientID: a.IntrospectionClientId(),
	} {
		require.Equal(t, cdktest.GetAtt(crID, attr), cdktest.Resolved(t, stack, v), attr)
	}

	e := a.SmartEndpoints()
	require.Equal(t, cdktest.GetAtt(crID, "Issuer"), cdktest.Resolved(t, stack, e.Issuer))
	require.Equal(t, cdktest.GetAtt(crID, "JwksUri"), cdktest.Resolved(t, stack, e.JwksUri))
	require.Equal(t, cdktest.GetAtt(crID, "AuthorizationEndpoint"), cdktest.Resolved(t, stack, e.AuthorizationEndpoint))
	require.Equal(t, cdktest.GetAtt(crID, "TokenEndpoint"), cdktest.Resolved(t, stack, e.TokenEndpoint))
	require.Equal(t, cdktest.GetAtt(crID, "IntrospectionEndpoint"), cdktest.Resolved(t, stack, e.IntrospectionEndpoint))
	require.Equal(t, cdktest.GetAtt(crID, "RevocationEndpoint"), cdktest.Resolved(t, stack, e.RevocationEndpoint))
	require.Nil(t, e.ManagementEndpoint, "Okta has no SMART management endpoint")
}

func TestBindAudience(t *testing.T) {
	stack := newStack(t)
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), minimalProps(stack))
	audience := awscdk.NewCfnParameter(stack, jsii.String("Endpoint"), nil).ValueAsString()
	binding := a.BindAudience(audience)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	crID, cr := cdktest.Only(t, all, oktaauth.ResourceType)
	bindID, b := cdktest.Only(t, all, oktaauth.AudienceResourceType)
	require.Equal(t, cdktest.LogicalID(t, binding), bindID)

	require.Equal(t, cr.Properties["ServiceToken"], b.Properties["ServiceToken"], "served by the same provider")
	require.Equal(t, map[string]any{
		"ServiceToken":                      cr.Properties["ServiceToken"],
		oktaprops.PropOrgURL:                org,
		oktaprops.PropCredentialSecretARN:   credentialArn,
		oktaprops.PropAuthorizationServerID: cdktest.GetAtt(crID, "AuthorizationServerId"),
		oktaprops.PropAudience:              cdktest.Ref("Endpoint"),
		"ServiceTimeout":                    "3000",
	}, b.Properties, "the server id attribute makes the binding depend on the server")
	require.Equal(t, "Delete", b.DeletionPolicy)
	require.NotContains(t, cr.Properties, oktaprops.PropAudience, "the server resource leaves the audience to the binding")
	require.Equal(t, cdktest.GetAtt(bindID, "Audience"), cdktest.Resolved(t, stack, binding.GetAttString(jsii.String(oktaprops.AttrAudience))))

	t.Run("a second call panics naming the method", func(t *testing.T) {
		msg := cdktest.Panics(t, func() { a.BindAudience(jsii.String(endpoint)) })
		require.Contains(t, msg, "oktaauth.SmartAuthorizationServer.BindAudience: already called")
	})
	t.Run("not with props.Audience, not empty, not with spaces", func(t *testing.T) {
		s2 := newStack(t)
		p := minimalProps(s2)
		p.Audience = jsii.String("api://fixed")
		withAudience := oktaauth.NewSmartAuthorizationServer(s2, jsii.String("Okta"), p)
		require.Contains(t, cdktest.Panics(t, func() { withAudience.BindAudience(jsii.String(endpoint)) }), "props.Audience is set")

		s3 := newStack(t)
		plain := oktaauth.NewSmartAuthorizationServer(s3, jsii.String("Okta"), minimalProps(s3))
		require.Contains(t, cdktest.Panics(t, func() { plain.BindAudience(nil) }), "BindAudience: audience is required")
		require.Contains(t, cdktest.Panics(t, func() { plain.BindAudience(jsii.String("a b")) }), "must not contain whitespace")
	})
}

// TestTheCompositeWiringHasNoDependencyCycle wires the real constructs as the
// composite stack does: Okta -> token validator (issuer) -> data store
// (endpoints, scopes, IdP function) -> audience binding (data store endpoint).
func TestTheCompositeWiringHasNoDependencyCycle(t *testing.T) {
	stack := newStack(t)
	props := minimalProps(stack)
	props.IntrospectionClient = jsii.Bool(true)
	okta := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
	role := servicerole.NewServiceRole(stack, jsii.String("ServiceRole"), nil)
	validator := tokenvalidator.NewTokenValidator(stack, jsii.String("TokenValidator"), &tokenvalidator.TokenValidatorProps{
		Issuer:              okta.Issuer(),
		JwksUri:             okta.JwksUri(),
		ServiceRole:         awsiam.Role_FromRoleArn(stack, jsii.String("ServiceRoleRef"), role.RoleArn(), nil),
		Validation:          validatorenv.ValidationIntrospection,
		IntrospectionSecret: okta.IntrospectionSecret(),
	})
	ds := datastore.NewSmartDatastore(stack, jsii.String("Datastore"), &datastore.SmartDatastoreProps{
		DatastoreName:   jsii.String("patients"),
		Endpoints:       okta.SmartEndpoints(),
		ScopesSupported: okta.ScopesSupported(),
		IdpFunction:     validator.IdpFunction(),
	})
	role.BindDatastore(ds.DatastoreArn())
	validator.BindAudience(okta.BindAudience(ds.DatastoreEndpoint()))

	all := cdktest.Resources(t, cdktest.Template(t, stack)) // a cycle fails synthesis here
	crID, _ := cdktest.Only(t, all, oktaauth.ResourceType)
	dsID, _ := cdktest.Only(t, all, datastore.ResourceType)
	_, b := cdktest.Only(t, all, oktaauth.AudienceResourceType)
	require.Equal(t, cdktest.GetAtt(dsID, "DatastoreEndpoint"), b.Properties[oktaprops.PropAudience])
	require.Equal(t, cdktest.GetAtt(crID, "AuthorizationServerId"), b.Properties[oktaprops.PropAuthorizationServerID])
}

func TestInvalidPropsPanicNamingTheProp(t *testing.T) {
	for name, c := range map[string]struct {
		change func(stack awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps)
		want   string
	}{
		"no props": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			*p = oktaauth.SmartAuthorizationServerProps{}
		},
			"props.OrgUrl is required"},
		"missing OrgUrl": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) { p.OrgUrl = nil }, "props.OrgUrl is required"},
		"http OrgUrl": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.OrgUrl = jsii.String("http://example.okta.com")
		}, `props.OrgUrl must be an https URL with a host and no path, query or fragment, such as https://example.okta.com, got "http://example.okta.com"`},
		"http OrgUrl on localhost": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.OrgUrl = jsii.String("http://localhost:8080")
		}, "props.OrgUrl must be an https URL"},
		"OrgUrl with a path": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.OrgUrl = jsii.String("https://example.okta.com/oauth2/default")
		}, "props.OrgUrl must be an https URL with a host and no path"},
		"admin OrgUrl": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.OrgUrl = jsii.String("https://example-admin.okta.com")
		}, "props.OrgUrl must be the org address, not the admin console's"},
		"missing CredentialSecret": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) { p.CredentialSecret = nil },
			"props.CredentialSecret is required"},
		"confidential client without redirect URIs": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ConfidentialClient = &oktaauth.ConfidentialClientProps{}
		}, "props.ConfidentialClient.RedirectUris is required"},
		"confidential client with an empty list": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ConfidentialClient = &oktaauth.ConfidentialClientProps{RedirectUris: jsii.Strings()}
		}, "props.ConfidentialClient.RedirectUris: is required"},
		"confidential redirect over http": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ConfidentialClient = &oktaauth.ConfidentialClientProps{RedirectUris: jsii.Strings("http://app.example.com/cb")}
		}, "props.ConfidentialClient.RedirectUris[0]: "},
		"public client without redirect URIs": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.PublicClient = &oktaauth.PublicClientProps{}
		}, "props.PublicClient.RedirectUris is required"},
		"public client type": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.PublicClient = &oktaauth.PublicClientProps{Type: "spa", RedirectUris: jsii.Strings("https://spa.example.com/cb")}
		}, `props.PublicClient.Type: must be one of browser, native, got "spa"`},
		"issuer mode": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) { p.IssuerMode = "CUSTOM" },
			`props.IssuerMode: must be one of ORG_URL, CUSTOM_URL, DYNAMIC, got "CUSTOM"`},
		"scope consent": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) { p.ScopeConsent = "FLEXIBLE" },
			`props.ScopeConsent: must be one of IMPLICIT, REQUIRED, got "FLEXIBLE"`},
		"policy assignment": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) { p.PolicyAssignment = "EVERYONE" },
			`props.PolicyAssignment: must be one of CREATED_CLIENTS, ALL_CLIENTS, got "EVERYONE"`},
		"a groups claim without its filter": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ExtraClaims = &[]*oktaauth.ExtraClaim{{Name: jsii.String("teams"), Value: jsii.String("smart-"), ValueType: oktaprops.ClaimValueGroups}}
		}, "props.ExtraClaims[0].GroupFilterType: is required for GROUPS claims: must be one of STARTS_WITH, EQUALS, CONTAINS, REGEX"},
		"backend client without JWKS": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.BackendClient = &oktaauth.BackendClientProps{}
		}, "props.BackendClient.Jwks is required"},
		"backend JWKS with a private key": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"c2VjcmV0"}]}`)}
		}, `props.BackendClient.Jwks.keys[0]: is a private key (has "d")`},
		"bad version": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) { p.SmartVersion = "both" },
			`props.SmartVersion must be smart.V1 or smart.V2, got "both"`},
		"access token lifetime too long": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.AccessTokenLifetime = awscdk.Duration_Days(jsii.Number(2))
		}, "props.AccessTokenLifetime: must be between 5 and 1440 minutes, got 2880"},
		"access token lifetime too short": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.AccessTokenLifetime = awscdk.Duration_Minutes(jsii.Number(1))
		}, "props.AccessTokenLifetime: must be between 5 and 1440 minutes, got 1"},
		"backend lifetime too long": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.BackendAccessTokenLifetime = awscdk.Duration_Hours(jsii.Number(25))
		}, "props.BackendAccessTokenLifetime: must be between 5 and 1440 minutes, got 1500"},
		"window too short": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.RefreshTokenWindow = awscdk.Duration_Minutes(jsii.Number(4))
		}, "props.RefreshTokenWindow: must be between 10 and 2628000 minutes, got 4"},
		"window shorter than the access token lifetime": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.AccessTokenLifetime = awscdk.Duration_Hours(jsii.Number(2))
			p.RefreshTokenWindow = awscdk.Duration_Hours(jsii.Number(1))
		}, "props.RefreshTokenWindow: must be at least props.AccessTokenLifetime (120 minutes), got 60 minutes"},
		"refresh lifetime shorter than the window": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.RefreshTokenLifetime = awscdk.Duration_Hours(jsii.Number(1))
		}, "props.RefreshTokenLifetime: must be 0 (unlimited) or at least props.RefreshTokenWindow (10080 minutes), got 60 minutes"},
		"lifetime not in whole minutes": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.AccessTokenLifetime = awscdk.Duration_Seconds(jsii.Number(90))
		}, "props.AccessTokenLifetime must be a whole number of minutes, got 1 minute 30 seconds"},
		"bad scope level": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ScopeLevels = jsii.Strings("patient", "admin")
		}, `props.ScopeLevels[1]: must be patient, user or system, got "admin"`},
		"bad resource type": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ScopeResources = jsii.Strings("observation")
		}, "props.ScopeResources[0]: must be a FHIR resource type"},
		"bad v2 permission": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ScopePermissionsV2 = jsii.Strings("sr")
		}, "props.ScopePermissionsV2[0]: must be letters of cruds in that order"},
		"extra claim without value": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ExtraClaims = &[]*oktaauth.ExtraClaim{{Name: jsii.String("x")}}
		}, "props.ExtraClaims[0].Value is required"},
		"extra claim with a reserved name": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ExtraClaims = &[]*oktaauth.ExtraClaim{{Name: jsii.String("sub"), Value: jsii.String("user.x")}}
		}, `props.ExtraClaims[0].Name: "sub" is reserved by Okta`},
		"name too long": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.Name = jsii.String(strings.Repeat("n", 101))
		}, "props.Name: must have no leading or trailing spaces and at most 100 characters"},
		"group id": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.UserGroupIds = jsii.Strings("admins")
		}, "props.UserGroupIds[0]: must be an Okta group id"},
		"audience with a space": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.Audience = jsii.String("api://a b")
		}, "props.Audience: must not contain whitespace"},
		"token hook URL without its secret": {func(_ awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.TokenHookUrl = jsii.String("https://hook.example.com/hook")
		}, "props.TokenHookSecret is required with props.TokenHookUrl"},
		"token hook secret without its URL": {func(stack awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.TokenHookSecret = awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("HookSecret"), jsii.String("ehr/hook"))
		}, "props.TokenHookUrl is required with props.TokenHookSecret"},
		"token hook with a hook id": {func(stack awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.TokenHookUrl = jsii.String("https://hook.example.com/hook")
			p.TokenHookSecret = awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("HookSecret"), jsii.String("ehr/hook"))
			p.TokenInlineHookId = jsii.String("calhookAbCdEf0123456")
		}, "props.TokenHookUrl cannot be used with props.TokenInlineHookId"},
		"proxy assertion key as an alias": {func(stack awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ProxyAssertionKey = awskms.Alias_FromAliasName(stack, jsii.String("ProxyAlias"), jsii.String("alias/ehr-proxy")).(awskms.IKey)
		}, "props.ProxyAssertionKey must be a key, not an alias"},
		"proxy assertion key imported by an alias ARN": {func(stack awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ProxyAssertionKey = awskms.Key_FromKeyArn(stack, jsii.String("ProxyKey"), jsii.String("arn:aws:kms:us-east-1:123456789012:alias/ehr-proxy"))
		}, "props.ProxyAssertionKey: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>), not an alias"},
		"proxy assertion key with a service key without kid": {func(stack awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.ProxyAssertionKey = awskms.Key_FromKeyArn(stack, jsii.String("ProxyKey"), jsii.String("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
			p.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(`{"keys":[{"kty":"RSA","n":"sXch","e":"AQAB"}]}`)}
		}, "props.BackendClient.Jwks.keys[0]: needs a kid: with props.ProxyAssertionKey the JWKS also holds the EHR launch proxy's key"},
		"token hook over http": {func(stack awscdk.Stack, p *oktaauth.SmartAuthorizationServerProps) {
			p.TokenHookUrl = jsii.String("http://hook.example.com/hook")
			p.TokenHookSecret = awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("HookSecret"), jsii.String("ehr/hook"))
		}, "props.TokenHookUrl: must be an absolute https URL"},
	} {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			props := minimalProps(stack)
			c.change(stack, props)
			cdktest.PanicsNaming(t, func() { oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props) },
				"oktaauth.NewSmartAuthorizationServer(Okta)", c.want)
		})
	}
	t.Run("every problem of the props themselves is reported at once", func(t *testing.T) {
		stack := newStack(t)
		msg := cdktest.Panics(t, func() {
			oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), &oktaauth.SmartAuthorizationServerProps{
				SmartVersion: "v3",
				SmartAuthorizationServerOptions: oktaauth.SmartAuthorizationServerOptions{
					AccessTokenLifetime: awscdk.Duration_Seconds(jsii.Number(30)),
				},
			})
		})
		for _, want := range []string{"props.OrgUrl", "props.CredentialSecret", "props.SmartVersion", "props.AccessTokenLifetime"} {
			require.Contains(t, msg, want)
		}
	})
}

func TestTokensAreLeftToTheHandler(t *testing.T) {
	stack := newStack(t)
	props := minimalProps(stack)
	props.OrgUrl = awscdk.NewCfnParameter(stack, jsii.String("OrgUrl"), nil).ValueAsString()
	props.Name = awscdk.NewCfnParameter(stack, jsii.String("Name"), nil).ValueAsString()
	props.PublicClient = &oktaauth.PublicClientProps{
		RedirectUris: awscdk.NewCfnParameter(stack, jsii.String("Redirects"), &awscdk.CfnParameterProps{Type: jsii.String("CommaDelimitedList")}).ValueAsList(),
	}
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
	_, p := serverResource(t, cdktest.Resources(t, cdktest.Template(t, stack)))
	require.Equal(t, cdktest.Ref("OrgUrl"), p[oktaprops.PropOrgURL])
	require.Equal(t, cdktest.Ref("Name"), p[oktaprops.PropName])
	require.Equal(t, cdktest.Ref("Redirects"), p[oktaprops.PropPublicRedirectURIs])
	require.NotEmpty(t, *a.ScopesSupported(), "the scope props are literals")

	t.Run("a token among the scope props makes ScopesSupported panic naming it", func(t *testing.T) {
		s2 := newStack(t)
		p2 := minimalProps(s2)
		p2.ScopeResources = awscdk.NewCfnParameter(s2, jsii.String("Resources"), &awscdk.CfnParameterProps{Type: jsii.String("CommaDelimitedList")}).ValueAsList()
		a2 := oktaauth.NewSmartAuthorizationServer(s2, jsii.String("Okta"), p2)
		msg := cdktest.Panics(t, func() { a2.ScopesSupported() })
		require.Contains(t, msg, "oktaauth.SmartAuthorizationServer.ScopesSupported")
		require.Contains(t, msg, "props.ScopeResources is a token")
	})
	t.Run("literal values beside the tokens are still checked", func(t *testing.T) {
		s3 := newStack(t)
		p3 := minimalProps(s3)
		p3.OrgUrl = awscdk.NewCfnParameter(s3, jsii.String("OrgUrl"), nil).ValueAsString()
		p3.ScopeLevels = jsii.Strings("admin")
		msg := cdktest.Panics(t, func() { oktaauth.NewSmartAuthorizationServer(s3, jsii.String("Okta"), p3) })
		require.Contains(t, msg, "props.ScopeLevels[0]")
	})
}

func TestTheDefaultNameIsTheStackAndThePath(t *testing.T) {
	stack := newStack(t)
	props := minimalProps(stack)
	group := constructs.NewConstruct(stack, jsii.String("Auth"))
	oktaauth.NewSmartAuthorizationServer(group, jsii.String("Okta"), props)
	long := constructs.NewConstruct(stack, jsii.String(strings.Repeat("Nested", 20)))
	oktaauth.NewSmartAuthorizationServer(long, jsii.String("Okta"), props)
	var names []string
	for _, r := range cdktest.OfType(cdktest.Resources(t, cdktest.Template(t, stack)), oktaauth.ResourceType) {
		names = append(names, r.Properties[oktaprops.PropName].(string))
	}
	sort.Strings(names)
	require.Len(t, names, 2)
	require.Equal(t, "Fhir-Auth-Okta", names[0])
	require.LessOrEqual(t, len(names[1]), 100, "Okta's limit")
	require.True(t, strings.HasPrefix(names[1], "Fhir"), names[1])
}

func TestTheConstructIsAJsiiObject(t *testing.T) {
	// Users pass constructs to Tags_Of, NagSuppressions and as scopes: that only
	// works when the Go struct itself is the jsii object.
	stack := newStack(t)
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), minimalProps(stack))
	awscdk.Tags_Of(a).Add(jsii.String("Team"), jsii.String("fhir"), nil)
	require.Equal(t, "Fhir", *awscdk.Stack_Of(a).Node().Id())
	awscdk.NewCfnOutput(a, jsii.String("Issuer"), &awscdk.CfnOutputProps{Value: a.Issuer()})
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Runtime": "provided.al2023",
			"Tags":    []any{map[string]any{"Key": "Team", "Value": "fhir"}},
		})
	})
}

// nagFinding is one unsuppressed cdk-nag finding.
type nagFinding struct {
	Rule, Path string
}

var reportPath = regexp.MustCompile(`A copy of this report can be found in: (\S+)`)

// nagReport synthesizes stack with cdk-nag's packs and returns every
// unsuppressed finding. Unsuppressed errors fail an in-process synthesis; the
// findings are then read from the validation report it writes.
func nagReport(t *testing.T, stack awscdk.Stack) []nagFinding {
	t.Helper()
	cdktest.ApplyNagPacks(stack)
	var msg string
	func() {
		defer func() {
			if r := recover(); r != nil {
				msg = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(fmtAny(r)), "ValidationFailed:"))
			}
		}()
		assertions.Annotations_FromStack(stack)
	}()
	if msg == "" {
		return nil
	}
	m := reportPath.FindStringSubmatch(msg)
	require.NotNil(t, m, "synthesis failed for another reason: %s", msg)
	raw, err := os.ReadFile(m[1])
	require.NoError(t, err)
	var report struct {
		PluginReports []struct {
			Violations []struct {
				Description         string
				ViolatingConstructs []struct{ ConstructPath string }
			}
		}
	}
	require.NoError(t, json.Unmarshal(raw, &report))
	var out []nagFinding
	for _, p := range report.PluginReports {
		for _, v := range p.Violations {
			rule, _, _ := strings.Cut(v.Description, ":")
			for _, c := range v.ViolatingConstructs {
				out = append(out, nagFinding{Rule: rule, Path: c.ConstructPath})
			}
		}
	}
	return out
}

func fmtAny(r any) string {
	if err, ok := r.(error); ok {
		return err.Error()
	}
	s, _ := r.(string)
	return s
}

// TestNagFindingsAreFixedOrExcused runs cdk-nag's HIPAA and AWS Solutions packs
// on a stack holding only this construct, with every client and an app of
// each type: the only
// unsuppressed findings are HIPAA.Security-IAMNoInlinePolicy on CDK's role
// policies (a project-wide choice left to the lead), and every suppression
// carries a specific reason.
func TestNagFindingsAreFixedOrExcused(t *testing.T) {
	build := func() awscdk.Stack {
		stack := newStack(t)
		props := minimalProps(stack)
		props.ConfidentialClient = &oktaauth.ConfidentialClientProps{RedirectUris: jsii.Strings("https://app.example.com/cb")}
		props.PublicClient = &oktaauth.PublicClientProps{RedirectUris: jsii.Strings("https://spa.example.com/cb")}
		props.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(publicJwks)}
		props.IntrospectionClient = jsii.Bool(true)
		apps := threeApps() // an app secret and its resource policy too
		props.Apps = &apps
		a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
		a.BindAudience(jsii.String(endpoint))
		return stack
	}

	stack := build()
	findings := nagReport(t, stack)
	require.Equal(t, []nagFinding{
		{"HIPAA.Security-IAMNoInlinePolicy", "Fhir/Okta/HandlerRole/DefaultPolicy/Resource"},
		{"HIPAA.Security-IAMNoInlinePolicy", "Fhir/Okta/ProviderOnEventRole/DefaultPolicy/Resource"},
	}, findings)

	// The suppressions, read from a template synthesized with that one rule
	// excused at stack level, as the app would.
	stack = build()
	excuse := "left to the app: a project-wide decision on CDK's inline role policies"
	cdktest.SuppressInStack(stack, excuse, "HIPAA.Security-IAMNoInlinePolicy")
	cdktest.ApplyNagPacks(stack)
	require.Empty(t, cdktest.NagFindings(t, stack))
	sup := cdktest.Suppressions(t, cdktest.Template(t, stack))
	rules := map[string]bool{}
	cdktest.RequireJustified(t, sup)
	for _, s := range sup {
		require.NotEqual(t, "HIPAA.Security-IAMNoInlinePolicy", s.Rule, "the construct leaves that rule to the app (%s)", s.Resource)
		rules[s.Rule] = true
	}
	require.Equal(t, map[string]bool{
		"AwsSolutions-IAM5": true, "AwsSolutions-SMG4": true, "HIPAA.Security-SecretsManagerRotationEnabled": true,
		"HIPAA.Security-LambdaDLQ": true, "HIPAA.Security-LambdaInsideVPC": true,
	}, rules)
}

func TestGivenLogSettingsAreUsed(t *testing.T) {
	stack := newStack(t)
	key := awskms.NewKey(stack, jsii.String("SharedLogKey"), nil)
	props := minimalProps(stack)
	props.LogEncryptionKey = key
	props.LogRetention = awslogs.RetentionDays_THREE_MONTHS
	oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	keyID, _ := cdktest.Only(t, all, "AWS::KMS::Key")
	for id, g := range cdktest.OfType(all, "AWS::Logs::LogGroup") {
		require.Equal(t, cdktest.GetAtt(keyID, "Arn"), g.Properties["KmsKeyId"], id)
		require.EqualValues(t, 90, g.Properties["RetentionInDays"], id)
	}
}

func TestSmartSupportReportsTheFlowsTheServerServes(t *testing.T) {
	const jwks = `{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`
	redirect := jsii.Strings("https://app.example.org/callback")
	cases := []struct {
		name   string
		change func(p *oktaauth.SmartAuthorizationServerProps)
		want   smart.Support
	}{
		{"no client: nothing but what any user-facing app would get", func(*oktaauth.SmartAuthorizationServerProps) {},
			smart.Support{PatientContext: true, OpenIDConnect: true, RefreshTokens: true}},
		{"only a backend client", func(p *oktaauth.SmartAuthorizationServerProps) {
			p.BackendClient = &oktaauth.BackendClientProps{Jwks: jsii.String(jwks)}
		}, smart.Support{BackendServices: true, PatientContext: true, OpenIDConnect: true, RefreshTokens: true}},
		{"only a public client", func(p *oktaauth.SmartAuthorizationServerProps) {
			p.PublicClient = &oktaauth.PublicClientProps{RedirectUris: redirect}
		}, smart.Support{PublicClients: true, PatientContext: true, OpenIDConnect: true, RefreshTokens: true}},
		{"a confidential client without the patient claim", func(p *oktaauth.SmartAuthorizationServerProps) {
			p.ConfidentialClient = &oktaauth.ConfidentialClientProps{RedirectUris: redirect}
			p.PatientClaim = jsii.Bool(false)
		}, smart.Support{ConfidentialClients: true, OpenIDConnect: true, RefreshTokens: true}},
		{"policies for all the org's clients, with system scopes: every client type", func(p *oktaauth.SmartAuthorizationServerProps) {
			p.PolicyAssignment = oktaprops.PolicyAssignmentAllClients
		}, smart.Support{ConfidentialClients: true, PublicClients: true, BackendServices: true,
			PatientContext: true, OpenIDConnect: true, RefreshTokens: true}},
		{"policies for all the org's clients, without system scopes: no backend services", func(p *oktaauth.SmartAuthorizationServerProps) {
			p.PolicyAssignment = oktaprops.PolicyAssignmentAllClients
			p.ScopeLevels = jsii.Strings("patient", "user")
		}, smart.Support{ConfidentialClients: true, PublicClients: true,
			PatientContext: true, OpenIDConnect: true, RefreshTokens: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stack := newStack(t)
			props := minimalProps(stack)
			tc.change(props)
			a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
			require.Equal(t, tc.want, *a.SmartSupport())
		})
	}
	t.Run("all clients with a scope prop that is a token panics naming it", func(t *testing.T) {
		stack := newStack(t)
		props := minimalProps(stack)
		props.PolicyAssignment = oktaprops.PolicyAssignmentAllClients
		props.ScopeLevels = awscdk.NewCfnParameter(stack, jsii.String("Levels"), &awscdk.CfnParameterProps{
			Type: jsii.String("CommaDelimitedList")}).ValueAsList()
		a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
		msg := cdktest.Panics(t, func() { a.SmartSupport() })
		require.Contains(t, msg, "props.ScopeLevels is a token")
	})
}

func TestTheTokenHookPropsReachTheResourceAsURLAndSecretARN(t *testing.T) {
	stack := newStack(t)
	props := minimalProps(stack)
	props.PublicClient = &oktaauth.PublicClientProps{RedirectUris: jsii.Strings("https://spa.example.com/cb")}
	// An API Gateway URL is a token at synthesis time.
	api := awscdk.NewCfnParameter(stack, jsii.String("HookApi"), &awscdk.CfnParameterProps{Default: jsii.String("abc123")})
	props.TokenHookUrl = awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), api.ValueAsString(),
		jsii.String(".execute-api.us-east-1.amazonaws.com/prod/hook")})
	hook := awssecretsmanager.NewSecret(stack, jsii.String("HookSecret"), &awssecretsmanager.SecretProps{
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{PasswordLength: jsii.Number(48), ExcludePunctuation: jsii.Bool(true)},
	})
	props.TokenHookSecret = hook
	oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), props)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	_, p := serverResource(t, all)
	require.Equal(t, cdktest.Resolved(t, stack, props.TokenHookUrl), p[oktaprops.PropTokenHookURL])
	require.Equal(t, cdktest.Resolved(t, stack, hook.SecretArn()), p[oktaprops.PropTokenHookSecretARN])
	require.NotContains(t, p, oktaprops.PropTokenInlineHookID)
	raw, err := json.Marshal(p)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "SecretString", "the value is never a property, only the ARN")
	require.NotContains(t, string(raw), "resolve:secretsmanager", "no dynamic reference to the value either")
}

func TestTheProxyAssertionKeyReachesTheResourceAsItsKeyARN(t *testing.T) {
	t.Run("a key in the stack: its Arn attribute", func(t *testing.T) {
		stack := newStack(t)
		p := minimalProps(stack)
		p.ProxyAssertionKey = awskms.NewKey(stack, jsii.String("AssertionKey"), &awskms.KeyProps{
			KeySpec: awskms.KeySpec_RSA_2048, KeyUsage: awskms.KeyUsage_SIGN_VERIFY})
		oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), p)
		all := cdktest.Resources(t, cdktest.Template(t, stack))
		_, props := serverResource(t, all)
		require.Equal(t, cdktest.Resolved(t, stack, p.ProxyAssertionKey.KeyArn()), props[oktaprops.PropProxyAssertionKeyARN])
	})
	t.Run("without one, no property", func(t *testing.T) {
		stack := newStack(t)
		oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), minimalProps(stack))
		_, props := serverResource(t, cdktest.Resources(t, cdktest.Template(t, stack)))
		require.NotContains(t, props, oktaprops.PropProxyAssertionKeyARN)
	})
}
