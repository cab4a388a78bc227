package ehrlaunch_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/ehrlaunch"
	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// publicJWKS is a JWKS of n freshly generated RSA-2048 public keys.
func publicJWKS(t testing.TB, n int) string {
	t.Helper()
	var keys []map[string]any
	for i := range n {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		keys = append(keys, map[string]any{"kty": "RSA", "kid": fmt.Sprintf("svc-%d", i), "use": "sig", "alg": "RS384",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
	}
	raw, err := json.MarshalIndent(map[string]any{"keys": keys}, "", "  ") // as a user might paste it
	require.NoError(t, err)
	return string(raw)
}

func compact(t testing.TB, s string) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return string(raw)
}

// deployTimeValue is a value only CloudFormation knows, as the Okta custom
// resource's client id attributes are: one reference.
func deployTimeValue(stack awscdk.Stack, name string) *string {
	return awscdk.NewCfnParameter(stack, jsii.String(name), nil).ValueAsString()
}

// joined resolves a Fn::Join CloudFormation would compute, with each
// non-string part (a Ref or GetAtt) replaced by fill.
func joined(t testing.TB, v any, fill string) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return s
	}
	j := v.(map[string]any)["Fn::Join"].([]any)
	var parts []string
	for _, p := range j[1].([]any) {
		if s, ok := p.(string); ok {
			parts = append(parts, s)
		} else {
			parts = append(parts, fill)
		}
	}
	return strings.Join(parts, j[0].(string))
}

func functionVars(t testing.TB, all map[string]cdktest.Resource) map[string]any {
	t.Helper()
	_, fn := cdktest.Only(t, all, "AWS::Lambda::Function")
	return fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
}

func TestBackendClientsGetAnAssertionKeyTheFunctionSignsWith(t *testing.T) {
	stack := cdktest.NewStack(t)
	p := props(stack)
	jwks := publicJWKS(t, 1)
	p.BackendClients = &[]*ehrlaunch.BackendClient{
		{ClientId: jsii.String("0oa9svc"), Jwks: jsii.String(jwks)},
		{ClientId: deployTimeValue(stack, "ServiceClientId"), Jwks: jsii.String(jwks)},
	}
	e := ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	require.NotNil(t, e.AssertionKey())
	keyID := cdktest.LogicalID(t, e.AssertionKey())
	keyArn := cdktest.GetAtt(keyID, "Arn")

	t.Run("the key is an RSA_2048 signing key with a description, id AssertionKey", func(t *testing.T) {
		require.True(t, strings.HasPrefix(keyID, "EhrAssertionKey"), keyID)
		key := all[keyID]
		require.Equal(t, "RSA_2048", key.Properties["KeySpec"])
		require.Equal(t, ehrlaunchenv.AssertionKeySpec, key.Properties["KeySpec"])
		require.Equal(t, "SIGN_VERIFY", key.Properties["KeyUsage"])
		require.Contains(t, key.Properties["Description"], "backend services")
		require.NotEqual(t, true, key.Properties["EnableKeyRotation"], "KMS cannot rotate an asymmetric key")
	})
	// The key policy's Sign statement is conditional on the caller being the
	// role, which still needs IAM's permission.
	t.Run("the function may Sign and GetPublicKey with it, and nothing else names it", func(t *testing.T) {
		_, fn := cdktest.Only(t, all, "AWS::Lambda::Function")
		var onKey []cdktest.Statement
		for _, s := range cdktest.RoleStatements(t, all, cdktest.RoleOf(t, fn)) {
			for _, r := range s.Resources {
				if fmt.Sprint(r) == fmt.Sprint(keyArn) {
					onKey = append(onKey, s)
				}
			}
		}
		require.Len(t, onKey, 1)
		actions := append([]string{}, onKey[0].Actions...)
		sort.Strings(actions)
		require.Equal(t, []string{"kms:GetPublicKey", "kms:Sign"}, actions)
		require.Equal(t, []any{keyArn}, onKey[0].Resources)
	})
	t.Run("its key policy leaves Sign to the function's role alone", func(t *testing.T) {
		_, fn := cdktest.Only(t, all, "AWS::Lambda::Function")
		root := map[string]any{"AWS": map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"},
			":iam::" + cdktest.Account + ":root"}}}}
		policy := all[keyID].Properties["KeyPolicy"].(map[string]any)
		var got []map[string]any
		for _, s := range policy["Statement"].([]any) {
			got = append(got, s.(map[string]any))
		}
		require.Equal(t, []map[string]any{
			// Everything through IAM, as with the default policy, and an
			// explicit deny of Sign, which beats IAM policies and grants, for
			// every principal but the function's role.
			{"Sid": "AccountThroughIAM", "Effect": "Allow", "Principal": root, "Action": "kms:*", "Resource": "*"},
			{"Sid": "OnlyTheTokenProxySigns", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Action": "kms:Sign", "Resource": "*",
				"Condition": map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": cdktest.GetAtt(cdktest.RoleOf(t, fn), "Arn")}}},
		}, got)
	})
	t.Run("the environment names the key and lists the services with their JWKS as given", func(t *testing.T) {
		vars := functionVars(t, all)
		require.Equal(t, keyArn, vars[ehrlaunchenv.EnvAssertionKeyARN])
		got := joined(t, vars[ehrlaunchenv.EnvBackendClients], "0oaDeployTime")
		require.Equal(t, `[{"client_id":"0oa9svc","jwks":`+compact(t, jwks)+`},{"client_id":"0oaDeployTime","jwks":`+compact(t, jwks)+`}]`, got)
	})
	t.Run("the rendered environment parses with the function's own parser", func(t *testing.T) {
		vars := functionVars(t, all)
		env := map[string]string{
			ehrlaunchenv.EnvTable:           "Ehr-Table-1ABC",
			ehrlaunchenv.EnvPublicURL:       "https://abc123.execute-api.us-east-1.amazonaws.com/smart",
			ehrlaunchenv.EnvHookSecretARN:   "arn:aws:secretsmanager:us-east-1:123456789012:secret:EhrHookSecret-AbCdEf",
			ehrlaunchenv.EnvAssertionKeyARN: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		}
		for k, v := range vars {
			if _, known := env[k]; !known {
				env[k] = joined(t, v, "0oaDeployTime")
			}
		}
		cfg, err := ehrlaunchenv.Parse(func(k string) string { return env[k] })
		require.NoError(t, err)
		require.Len(t, cfg.BackendClients, 2)
		require.JSONEq(t, jwks, string(cfg.BackendClients["0oa9svc"]))
	})
}

func TestWithoutBackendClientsThereIsNoAssertionKey(t *testing.T) {
	stack := cdktest.NewStack(t)
	e := ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), props(stack))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	require.Nil(t, e.AssertionKey())
	require.Len(t, cdktest.OfType(all, "AWS::KMS::Key"), 1, "the table and logs key only")
	vars := functionVars(t, all)
	require.NotContains(t, vars, ehrlaunchenv.EnvAssertionKeyARN)
	require.NotContains(t, vars, ehrlaunchenv.EnvBackendClients)
	raw, _ := json.Marshal(all)
	require.NotContains(t, string(raw), "kms:Sign")
}

func TestTheEnvironmentSizeIsCheckedAtSynthesis(t *testing.T) {
	build := func(t *testing.T, keys, services int) func() {
		stack := cdktest.NewStack(t)
		p := props(stack)
		jwks := publicJWKS(t, keys)
		var list []*ehrlaunch.BackendClient
		for i := range services {
			list = append(list, &ehrlaunch.BackendClient{ClientId: jsii.String(fmt.Sprintf("0oa%dsvc", i)), Jwks: jsii.String(jwks)})
		}
		p.BackendClients = &list
		return func() { ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p) }
	}
	t.Run("two services of two keys each fit", func(t *testing.T) {
		build(t, 2, 2)()
	})
	t.Run("too many keys fail naming props.BackendClients and what to do", func(t *testing.T) {
		msg := cdktest.Panics(t, build(t, 3, 3))
		require.Contains(t, msg, "ehrlaunch.NewEhrLaunch(Ehr): props.BackendClients:")
		require.Contains(t, msg, "over Lambda's 4096-byte limit")
		require.Contains(t, msg, ehrlaunchenv.EnvBackendClients)
		require.Contains(t, msg, "register only the keys each service signs with")
	})
}

func TestBadBackendClientsNameTheProp(t *testing.T) {
	good := publicJWKS(t, 1)
	for _, c := range []struct {
		name    string
		clients func(stack awscdk.Stack) []*ehrlaunch.BackendClient
		want    string
	}{
		{"no client id", func(awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{{Jwks: jsii.String(good)}}
		}, "props.BackendClients[0].ClientId is required"},
		{"no JWKS", func(awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{{ClientId: jsii.String("0oa9svc")}}
		}, "props.BackendClients[0].Jwks is required"},
		{"a JWKS that is a token", func(stack awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{{ClientId: jsii.String("0oa9svc"), Jwks: deployTimeValue(stack, "Jwks")}}
		}, "props.BackendClients[0].Jwks must be literal JSON"},
		{"a private key", func(awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{{ClientId: jsii.String("0oa9svc"),
				Jwks: jsii.String(`{"keys":[{"kty":"RSA","kid":"a","n":"sXch","e":"AQAB","d":"c2VjcmV0"}]}`)}}
		}, `props.BackendClients[0].Jwks keys[0] is a private key (has "d")`},
		{"an EC key", func(awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{{ClientId: jsii.String("0oa9svc"),
				Jwks: jsii.String(`{"keys":[{"kty":"EC","kid":"a","crv":"P-256","x":"x","y":"y"}]}`)}}
		}, "props.BackendClients[0].Jwks keys[0]: kty must be RSA"},
		{"not a key set", func(awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{{ClientId: jsii.String("0oa9svc"), Jwks: jsii.String(`[1,2]`)}}
		}, "props.BackendClients[0].Jwks must be a JSON Web Key Set"},
		{"an empty key set", func(awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{{ClientId: jsii.String("0oa9svc"), Jwks: jsii.String(`{"keys":[]}`)}}
		}, "props.BackendClients[0].Jwks must hold at least one key"},
		{"a client listed twice", func(awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{{ClientId: jsii.String("0oa9svc"), Jwks: jsii.String(good)},
				{ClientId: jsii.String("0oa9svc"), Jwks: jsii.String(good)}}
		}, `props.BackendClients[1].ClientId "0oa9svc" is listed twice`},
		{"a launched app's client", func(awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{{ClientId: jsii.String("0oa1app"), Jwks: jsii.String(good)}}
		}, `props.BackendClients[0].ClientId "0oa1app" is also in props.Apps`},
		{"an empty list", func(awscdk.Stack) []*ehrlaunch.BackendClient {
			return []*ehrlaunch.BackendClient{}
		}, "props.BackendClients is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stack := cdktest.NewStack(t)
			p := props(stack)
			list := c.clients(stack)
			p.BackendClients = &list
			msg := cdktest.Panics(t, func() { ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p) })
			require.Contains(t, msg, "ehrlaunch.NewEhrLaunch(Ehr): "+c.want)
		})
	}
}

func TestNagFindingsWithBackendClientsAreFixedOrExcused(t *testing.T) {
	stack := cdktest.NewStack(t)
	p := props(stack)
	p.BackendClients = &[]*ehrlaunch.BackendClient{{ClientId: jsii.String("0oa9svc"), Jwks: jsii.String(publicJWKS(t, 1))}}
	e := ehrlaunch.NewEhrLaunch(stack, jsii.String("Ehr"), p)
	cdktest.SuppressInStack(stack, "project-wide choice left to the app", "HIPAA.Security-IAMNoInlinePolicy")
	cdktest.ApplyNagPacks(stack)
	require.Empty(t, cdktest.NagFindings(t, stack))
	keyID := cdktest.LogicalID(t, e.AssertionKey())
	var rules []string
	for _, s := range cdktest.Suppressions(t, cdktest.Template(t, stack)) {
		if s.Resource == keyID {
			rules = append(rules, s.Rule)
		}
	}
	sort.Strings(rules)
	require.Equal(t, []string{"AwsSolutions-KMS5", "HIPAA.Security-KMSBackingKeyRotationEnabled"}, rules,
		"only the rotation rules, which an asymmetric key cannot meet")
}
