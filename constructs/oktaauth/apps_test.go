package oktaauth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// threeApps are one app of each type.
func threeApps() []*oktaauth.AppProps {
	return []*oktaauth.AppProps{
		{Name: jsii.String("patient-portal"), Type: oktaprops.AppPublic, ApplicationType: oktaprops.PublicClientTypeNative,
			RedirectUris: jsii.Strings("com.example.portal:/callback", "http://localhost:8080/cb"),
			Scopes:       jsii.Strings("openid", "fhirUser", "launch/patient", "patient/*.rs"), RefreshTokens: jsii.Bool(true)},
		{Name: jsii.String("acme-clinic"), Type: oktaprops.AppConfidential,
			RedirectUris: jsii.Strings("https://clinic.example.com/cb"), PostLogoutRedirectUris: jsii.Strings("https://clinic.example.com/"),
			Scopes: jsii.Strings("openid", "user/Observation.rs"), GroupIds: jsii.Strings("00g1abcdefghijklmnop"),
			AccessTokenLifetime: awscdk.Duration_Minutes(jsii.Number(30)), RefreshTokenWindow: awscdk.Duration_Days(jsii.Number(1))},
		{Name: jsii.String("lab-feed"), Type: oktaprops.AppBackend, Jwks: jsii.String(publicJwks),
			Scopes: jsii.Strings("system/Observation.*"), AccessTokenLifetime: awscdk.Duration_Minutes(jsii.Number(10))},
	}
}

func withApps(stack awscdk.Stack, apps []*oktaauth.AppProps) *oktaauth.SmartAuthorizationServerProps {
	p := minimalProps(stack)
	p.Apps = &apps
	return p
}

// appsProperty reads the Apps property back: a plain string, or a Fn::Join
// of strings and Refs (the secret ARNs), each Ref shown as REF(<logical id>).
func appsProperty(t *testing.T, v any) []map[string]any {
	t.Helper()
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case map[string]any:
		join := x["Fn::Join"].([]any)
		require.Equal(t, "", join[0])
		var b strings.Builder
		for _, part := range join[1].([]any) {
			switch p := part.(type) {
			case string:
				b.WriteString(p)
			case map[string]any:
				b.WriteString(fmt.Sprintf("REF(%s)", p["Ref"]))
			}
		}
		text = b.String()
	default:
		t.Fatalf("Apps is %T", v)
	}
	var out []map[string]any
	require.NoError(t, json.Unmarshal([]byte(text), &out), text)
	return out
}

func TestAppsBecomeTheAppsPropertyWithTheirSecretsARNs(t *testing.T) {
	stack := newStack(t)
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, threeApps()))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	_, props := serverResource(t, all)
	secretID := cdktest.LogicalID(t, a.AppClientSecret("acme-clinic"))
	var jwks any
	require.NoError(t, json.Unmarshal([]byte(publicJwks), &jwks))
	require.Equal(t, []map[string]any{
		{"name": "patient-portal", "type": "public", "applicationType": "native",
			"redirectUris": []any{"com.example.portal:/callback", "http://localhost:8080/cb"},
			"scopes":       []any{"openid", "fhirUser", "launch/patient", "patient/*.rs"}, "refreshTokens": true},
		{"name": "acme-clinic", "type": "confidential",
			"redirectUris": []any{"https://clinic.example.com/cb"}, "postLogoutRedirectUris": []any{"https://clinic.example.com/"},
			"scopes": []any{"openid", "user/Observation.rs"}, "groupIds": []any{"00g1abcdefghijklmnop"},
			"accessTokenLifetimeMinutes": float64(30), "refreshTokenWindowMinutes": float64(1440),
			"secretArn": "REF(" + secretID + ")"},
		{"name": "lab-feed", "type": "backend", "jwks": jwks, "scopes": []any{"system/Observation.*"},
			"accessTokenLifetimeMinutes": float64(10)},
	}, appsProperty(t, props[oktaprops.PropApps]))

	t.Run("what the handler parses from it is what the props say", func(t *testing.T) {
		// The same JSON with the secret's ARN literal, through the contract's parser.
		raw, _ := json.Marshal(appsProperty(t, props[oktaprops.PropApps]))
		apps := strings.Replace(string(raw), "REF("+secretID+")", "arn:aws:secretsmanager:us-east-1:123456789012:secret:clinic-AbCdEf", 1)
		spec, err := oktaprops.Parse(oktaprops.Properties{
			oktaprops.PropOrgURL: org, oktaprops.PropCredentialSecretARN: credentialArn, oktaprops.PropName: "Fhir-Okta",
			oktaprops.PropApps: apps,
		})
		require.NoError(t, err)
		clinic, ok := spec.App("acme-clinic")
		require.True(t, ok)
		require.Equal(t, int64(30), clinic.Rule.AccessTokenLifetimeMinutes)
		require.Equal(t, int64(1440), clinic.Rule.RefreshTokenWindowMinutes)
		require.Equal(t, []string{"00g1abcdefghijklmnop"}, clinic.GroupIDs)
		portal, _ := spec.App("patient-portal")
		require.Contains(t, portal.Rule.Scopes, "offline_access", "RefreshTokens reached the rule")
		require.Equal(t, "native", portal.Client.ApplicationType)
	})

	t.Run("no Apps, no property: the templates without apps are unchanged", func(t *testing.T) {
		stack := newStack(t)
		oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), minimalProps(stack))
		_, props := serverResource(t, cdktest.Resources(t, cdktest.Template(t, stack)))
		require.NotContains(t, props, oktaprops.PropApps)
	})
}

func TestEachConfidentialAppHasItsOwnSecretTheHandlerMayWrite(t *testing.T) {
	stack := newStack(t)
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, threeApps()))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	secret := a.AppClientSecret("acme-clinic")
	secretID := cdktest.LogicalID(t, secret)

	t.Run("only the confidential app has a secret", func(t *testing.T) {
		require.Nil(t, a.AppClientSecret("patient-portal"))
		require.Nil(t, a.AppClientSecret("lab-feed"))
		id, _ := cdktest.Only(t, all, "AWS::SecretsManager::Secret")
		require.Equal(t, secretID, id)
		require.True(t, strings.HasPrefix(id, "OktaAppAcmeClinicSecret"), "the id derives from the app's name: %s", id)
	})

	t.Run("it holds {} until the handler writes it, under the secrets key, and goes with its app", func(t *testing.T) {
		s := all[secretID]
		require.Equal(t, "{}", s.Properties["SecretString"])
		require.Nil(t, s.Properties["Name"], "CloudFormation names it: a removed app re-added later gets a new secret, no name clash")
		require.Equal(t, "Delete", s.DeletionPolicy)
		keyID := cdktest.LogicalID(t, a.SecretsEncryptionKey())
		require.Equal(t, cdktest.GetAtt(keyID, "Arn"), s.Properties["KmsKeyId"])
		require.Equal(t, true, all[keyID].Properties["EnableKeyRotation"])
	})

	t.Run("its resource policy lets the handler's role put the value, and the resource waits for the policy", func(t *testing.T) {
		policyID, policy := cdktest.Only(t, all, "AWS::SecretsManager::ResourcePolicy")
		require.Equal(t, cdktest.Ref(secretID), policy.Properties["SecretId"])
		doc := policy.Properties["ResourcePolicy"].(map[string]any)
		st := cdktest.AsList(doc["Statement"])
		require.Len(t, st, 1)
		stmt := st[0].(map[string]any)
		require.Equal(t, "Allow", stmt["Effect"])
		require.Equal(t, "secretsmanager:PutSecretValue", stmt["Action"])
		fn := all[cdktest.LogicalID(t, a.Function())]
		require.Equal(t, map[string]any{"AWS": cdktest.GetAtt(cdktest.RoleOf(t, fn), "Arn")}, stmt["Principal"])
		serverID, _ := serverResource(t, all)
		require.Contains(t, all[serverID].DependsOn, policyID)
	})

	t.Run("the handler's role may use the key through Secrets Manager for this account's secrets", func(t *testing.T) {
		fn := all[cdktest.LogicalID(t, a.Function())]
		var found *statement
		for _, s := range roleStatements(t, all, cdktest.RoleOf(t, fn)) {
			if s.Sid == "EncryptAppSecrets" {
				found = &s
			}
			for _, r := range s.Resources {
				require.NotEqual(t, cdktest.Ref(secretID), r, "%s: the app secret is granted by its own resource policy", s.Sid)
			}
		}
		require.NotNil(t, found)
		require.Equal(t, []string{"kms:Decrypt", "kms:GenerateDataKey"}, found.Actions)
		require.Equal(t, []any{cdktest.GetAtt(cdktest.LogicalID(t, a.SecretsEncryptionKey()), "Arn")}, found.Resources)
		require.Equal(t, "secretsmanager.us-east-1.amazonaws.com", found.Condition["StringEquals"].(map[string]any)["kms:ViaService"])
		require.Equal(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:*",
			found.Condition["StringLike"].(map[string]any)["kms:EncryptionContext:SecretARN"])
	})

	t.Run("the secret carries the rotation suppressions with the reason", func(t *testing.T) {
		rules := map[string]string{}
		for _, s := range cdktest.Suppressions(t, cdktest.Template(t, stack)) {
			if s.Resource == secretID {
				rules[s.Rule] = s.Reason
			}
		}
		require.Contains(t, rules["AwsSolutions-SMG4"], "only Okta can issue a new one")
		require.Contains(t, rules["HIPAA.Security-SecretsManagerRotationEnabled"], "only Okta can issue a new one")
	})
}

func TestAddingOrRemovingAnAppLeavesTheOthersLogicalIdsAlone(t *testing.T) {
	confidential := func(name string) *oktaauth.AppProps {
		return &oktaauth.AppProps{Name: jsii.String(name), Type: oktaprops.AppConfidential,
			RedirectUris: jsii.Strings("https://" + name + ".example.com/cb"), Scopes: jsii.Strings("openid")}
	}
	ids := func(names ...string) map[string]string {
		stack := newStack(t)
		var apps []*oktaauth.AppProps
		for _, n := range names {
			apps = append(apps, confidential(n))
		}
		a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, apps))
		out := map[string]string{}
		for _, n := range names {
			out[n] = cdktest.LogicalID(t, a.AppClientSecret(n))
		}
		return out
	}
	before := ids("alpha", "beta", "gamma")
	require.Len(t, map[string]bool{before["alpha"]: true, before["beta"]: true, before["gamma"]: true}, 3)
	t.Run("removing one", func(t *testing.T) {
		after := ids("alpha", "gamma")
		require.Equal(t, before["alpha"], after["alpha"])
		require.Equal(t, before["gamma"], after["gamma"])
	})
	t.Run("adding one in front", func(t *testing.T) {
		after := ids("aardvark", "alpha", "beta", "gamma")
		for _, n := range []string{"alpha", "beta", "gamma"} {
			require.Equal(t, before[n], after[n], n)
		}
	})
	t.Run("reordering", func(t *testing.T) {
		after := ids("gamma", "beta", "alpha")
		require.Equal(t, before, after)
	})
}

func TestTheAppAccessors(t *testing.T) {
	stack := newStack(t)
	a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, threeApps()))
	serverID, _ := serverResource(t, cdktest.Resources(t, cdktest.Template(t, stack)))

	t.Run("a client id is the resource's App.<name> attribute", func(t *testing.T) {
		for _, name := range []string{"patient-portal", "acme-clinic", "lab-feed"} {
			require.Equal(t, cdktest.GetAtt(serverID, "App."+name), cdktest.Resolved(t, stack, a.AppClientId(name)))
		}
	})
	t.Run("an unknown name panics naming the apps there are", func(t *testing.T) {
		msg := cdktest.Panics(t, func() { a.AppClientId("acme-portal") })
		require.Contains(t, msg, `AppClientId: no app named "acme-portal" (props.Apps has patient-portal, acme-clinic, lab-feed)`)
		msg = cdktest.Panics(t, func() { a.AppClientSecret("acme-portal") })
		require.Contains(t, msg, `AppClientSecret: no app named "acme-portal"`)
	})
	t.Run("without apps every name is unknown", func(t *testing.T) {
		stack := newStack(t)
		plain := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), minimalProps(stack))
		require.Contains(t, cdktest.Panics(t, func() { plain.AppClientId("x") }), "props.Apps is empty")
	})
	t.Run("ids derive one-to-one from names", func(t *testing.T) {
		require.Equal(t, "AcmePortal", oktaauth.AppIdPart("acme-portal"))
		require.Equal(t, "Acmeportal", oktaauth.AppIdPart("acmeportal"))
		require.Equal(t, "AB2C", oktaauth.AppIdPart("a-b2-c"))
	})
}

// privateJwks is a freshly generated RSA key as a JWK Set, private members
// and all: what a user pastes by mistake.
func privateJwks(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	jwk, err := jwkset.NewJWKFromKey(key, jwkset.JWKOptions{Marshal: jwkset.JWKMarshalOptions{Private: true},
		Metadata: jwkset.JWKMetadataOptions{KID: "k1", ALG: jwkset.AlgRS384}})
	require.NoError(t, err)
	raw, err := json.Marshal(jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{jwk.Marshal()}})
	require.NoError(t, err)
	require.Contains(t, string(raw), `"d":`)
	return string(raw)
}

func TestInvalidAppsPanicNamingTheAppAndTheProp(t *testing.T) {
	cases := []struct {
		name   string
		change func(apps []*oktaauth.AppProps) []*oktaauth.AppProps
		want   string
	}{
		{"an http redirect off localhost", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[1].RedirectUris = jsii.Strings("http://clinic.example.com/cb")
			return a
		}, `props.Apps[1] "acme-clinic": RedirectUris[0] must be https (http only for localhost, 127.0.0.1 or [::1]), got "http://clinic.example.com/cb"`},
		{"a scope pattern matching nothing in the catalogue", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[0].Scopes = jsii.Strings("openid", "patient/Obsrvation.*")
			return a
		}, `props.Apps[0] "patient-portal": Scopes[1] "patient/Obsrvation.*" matches no scope in the catalogue`},
		{"a user-facing app asking for system scopes", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[1].Scopes = jsii.Strings("system/*.rs")
			return a
		}, `props.Apps[1] "acme-clinic": Scopes[0] "system/*.rs" matches only system/ scopes`},
		{"a private key in a backend app's JWKS", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[2].Jwks = jsii.String(privateJwks(t))
			return a
		}, `props.Apps[2] "lab-feed": Jwks keys[0] is a private key (has "d"): register the public key only`},
		{"a JWKS that is not JSON", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[2].Jwks = jsii.String("{keys:")
			return a
		}, `props.Apps[2] "lab-feed": Jwks must be a JSON Web Key Set`},
		{"two apps of one name", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[2].Name = jsii.String("patient-portal")
			return a
		}, `props.Apps[2] "patient-portal": Name is also the name of props.Apps[0]: names must be unique`},
		{"a name that can't make ids", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[0].Name = jsii.String("Patient Portal")
			return a
		}, `props.Apps[0] "Patient Portal": Name must be lower-case letters, digits and single hyphens`},
		{"no name", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[1].Name = nil
			return a
		}, `props.Apps[1] "": Name is required`},
		{"a nil app", func(a []*oktaauth.AppProps) []*oktaauth.AppProps { return append(a, nil) }, `props.Apps[3] "": is nil`},
		{"an unknown type", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[0].Type = "spa"
			return a
		}, `props.Apps[0] "patient-portal": Type must be public, confidential or backend, got "spa"`},
		{"a lifetime of part of a minute", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[1].AccessTokenLifetime = awscdk.Duration_Seconds(jsii.Number(90))
			return a
		}, `props.Apps[1] "acme-clinic": AccessTokenLifetime must be a whole number of minutes, got 1 minute 30 seconds`},
		{"a lifetime beyond Okta's bounds", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[2].AccessTokenLifetime = awscdk.Duration_Days(jsii.Number(2))
			return a
		}, `props.Apps[2] "lab-feed": AccessTokenLifetime must be between 5 and 1440, got 2880`},
		{"refresh tokens for a backend app", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[2].RefreshTokens = jsii.Bool(true)
			return a
		}, `props.Apps[2] "lab-feed": RefreshTokens apply to user-facing apps only`},
		{"offline_access listed, in the props' words", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[0].Scopes = jsii.Strings("openid", "offline_access")
			return a
		}, `props.Apps[0] "patient-portal": Scopes[1] offline_access is not listed as a scope: set RefreshTokens to true instead`},
		{"redirect URIs missing", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			a[1].RedirectUris = nil
			return a
		}, `props.Apps[1] "acme-clinic": RedirectUris is required`},
		{"more than 50 apps", func(a []*oktaauth.AppProps) []*oktaauth.AppProps {
			for i := 0; len(a) <= oktaprops.MaxApps; i++ {
				a = append(a, &oktaauth.AppProps{Name: jsii.String(fmt.Sprintf("app%d", i)), Type: oktaprops.AppPublic,
					RedirectUris: jsii.Strings("https://a.example.com/cb"), Scopes: jsii.Strings("openid")})
			}
			return a
		}, `props.Apps lists 51 apps; at most 50 are supported in one environment`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stack := newStack(t)
			msg := cdktest.Panics(t, func() {
				oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, tc.change(threeApps())))
			})
			require.Contains(t, msg, tc.want)
			require.NotContains(t, msg, "synth-time", "a stand-in leaked into the message")
		})
	}
}

func TestSmartSupportCountsTheApps(t *testing.T) {
	base := smart.Support{PatientContext: true, OpenIDConnect: true, RefreshTokens: true}
	for _, tc := range []struct {
		name string
		keep int // index into threeApps
		want func(s smart.Support) smart.Support
	}{
		{"a public app: public clients", 0, func(s smart.Support) smart.Support { s.PublicClients = true; return s }},
		{"a confidential app: confidential clients", 1, func(s smart.Support) smart.Support { s.ConfidentialClients = true; return s }},
		{"a backend app: backend services", 2, func(s smart.Support) smart.Support { s.BackendServices = true; return s }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stack := newStack(t)
			a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, threeApps()[tc.keep:tc.keep+1]))
			require.Equal(t, tc.want(base), *a.SmartSupport())
			var scopes []string
			for _, sc := range *a.ScopesSupported() {
				scopes = append(scopes, *sc)
			}
			require.Contains(t, scopes, "patient/Observation.rs", "the scopes stay the catalogue")
		})
	}
}

func TestTokensInApps(t *testing.T) {
	t.Run("a redirect URI token stays a token in the property, checked with a stand-in", func(t *testing.T) {
		stack := newStack(t)
		url := awscdk.NewCfnParameter(stack, jsii.String("PortalUrl"), nil).ValueAsString()
		apps := threeApps()
		apps[1].RedirectUris = &[]*string{url}
		oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, apps))
		_, props := serverResource(t, cdktest.Resources(t, cdktest.Template(t, stack)))
		require.Equal(t, []any{"REF(PortalUrl)"}, appsProperty(t, props[oktaprops.PropApps])[1]["redirectUris"])
	})
	t.Run("a literal bad redirect URI beside a token is still refused", func(t *testing.T) {
		stack := newStack(t)
		url := awscdk.NewCfnParameter(stack, jsii.String("PortalUrl"), nil).ValueAsString()
		apps := threeApps()
		apps[1].RedirectUris = &[]*string{url, jsii.String("http://clinic.example.com/cb")}
		msg := cdktest.Panics(t, func() { oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, apps)) })
		require.Contains(t, msg, `props.Apps[1] "acme-clinic": RedirectUris[1] must be https`)
	})
	t.Run("a list token can't go into the JSON and is refused naming the prop", func(t *testing.T) {
		stack := newStack(t)
		list := awscdk.NewCfnParameter(stack, jsii.String("Uris"), &awscdk.CfnParameterProps{Type: jsii.String("CommaDelimitedList")}).ValueAsList()
		apps := threeApps()
		apps[1].RedirectUris = list
		msg := cdktest.Panics(t, func() { oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, apps)) })
		require.Contains(t, msg, `props.Apps[1] "acme-clinic": RedirectUris must be a list of strings, not a list token`)
	})
	t.Run("a scope token is refused: scopes are matched at synthesis", func(t *testing.T) {
		stack := newStack(t)
		apps := threeApps()
		apps[0].Scopes = &[]*string{awscdk.NewCfnParameter(stack, jsii.String("Scope"), nil).ValueAsString()}
		msg := cdktest.Panics(t, func() { oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, apps)) })
		require.Contains(t, msg, `props.Apps[0] "patient-portal": Scopes[0] must be a literal`)
	})
}

// TestFiftyConfidentialAppsKeepTheHandlerRolePolicySmall: IAM caps a role's
// inline policies at 10,240 characters in all, which 50 secret ARNs listed
// twice would nearly fill; each app secret's grant is its own resource
// policy instead, so the role's policy is the same for 1 app and for 50.
func TestFiftyConfidentialAppsKeepTheHandlerRolePolicySmall(t *testing.T) {
	rolePolicy := func(n int) (string, int) {
		stack := newStack(t)
		var apps []*oktaauth.AppProps
		for i := range n {
			apps = append(apps, &oktaauth.AppProps{Name: jsii.String(fmt.Sprintf("vendor-app%d", i)), Type: oktaprops.AppConfidential,
				RedirectUris: jsii.Strings("https://app.example.com/cb"), Scopes: jsii.Strings("openid", "user/*.rs")})
		}
		a := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), withApps(stack, apps))
		all := cdktest.Resources(t, cdktest.Template(t, stack))
		fn := all[cdktest.LogicalID(t, a.Function())]
		raw, err := json.Marshal(roleStatements(t, all, cdktest.RoleOf(t, fn)))
		require.NoError(t, err)
		return string(raw), len(cdktest.OfType(all, "AWS::SecretsManager::ResourcePolicy"))
	}
	one, onePolicies := rolePolicy(1)
	fifty, fiftyPolicies := rolePolicy(oktaprops.MaxApps)
	require.Equal(t, 1, onePolicies)
	require.Equal(t, oktaprops.MaxApps, fiftyPolicies)
	require.Equal(t, one, fifty)
}
