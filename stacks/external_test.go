package stacks_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/stacks"
)

// externalEnvironment is an environment whose authorization server is an
// Amazon Cognito user pool, with introspection off (Cognito has none) and the
// client allow-list standing in for the audience Cognito leaves out.
func externalEnvironment(t *testing.T) stacks.SmartHealthLakeStack {
	t.Helper()
	const pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123"
	const domain = "https://smart-clinic.auth.us-east-1.amazoncognito.com"
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"external": map[string]any{
			"region":              "us-east-1",
			"authorizationServer": "external",
			"external": map[string]any{
				"issuer":                      pool,
				"authorizationEndpoint":       domain + "/oauth2/authorize",
				"tokenEndpoint":               domain + "/oauth2/token",
				"jwksUri":                     pool + "/.well-known/jwks.json",
				"revocationEndpoint":          domain + "/oauth2/revoke",
				"scopesSupported":             []any{"openid", "fhirUser", "launch/patient", "patient/*.read"},
				"supports":                    []any{"public-clients", "openid-connect"},
				"clientIds":                   []any{"1example23456789"},
				"clientIdsStandInForAudience": true,
				"scopeClaim":                  "scope",
			},
			"tokenValidator": map[string]any{"provisionedConcurrency": 1},
		},
	}
	out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.NoError(t, err)
	require.Len(t, out, 1)
	return out[0]
}

func TestAnExternalEnvironmentBuildsFromCdkJson(t *testing.T) {
	s := externalEnvironment(t)
	tpl := cdktest.Template(t, s.Stack)
	all := cdktest.Resources(t, tpl)

	t.Run("nothing of Okta is created", func(t *testing.T) {
		require.Empty(t, cdktest.OfType(all, "Custom::SmartOktaAuthorizationServer"))
		require.Empty(t, cdktest.OfType(all, "Custom::SmartOktaAudience"))
		require.Contains(t, *s.Stack.TemplateOptions().Description(), "external OAuth 2.0 authorization server")
	})

	t.Run("the data store advertises the configured endpoints and checks them at deploy time", func(t *testing.T) {
		cdktest.Try(t, func() {
			tpl.HasResourceProperties(jsii.String("Custom::SmartHealthLakeDatastore"), map[string]any{
				"Issuer":             "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Abc123",
				"TokenEndpoint":      "https://smart-clinic.auth.us-east-1.amazoncognito.com/oauth2/token",
				"RevocationEndpoint": "https://smart-clinic.auth.us-east-1.amazoncognito.com/oauth2/revoke",
				"DiscoveryCheck":     "verify",
				"SmartSupport":       []any{"public-clients", "openid-connect"},
			})
		})
	})

	t.Run("the outputs name the external server and no Okta id", func(t *testing.T) {
		for _, name := range []string{"FhirEndpoint", "SmartConfigurationUrl", "DatastoreId", "Issuer",
			"AuthorizationEndpoint", "TokenEndpoint", "AlarmTopicArn"} {
			cdktest.Try(t, func() {
				tpl.HasOutput(jsii.String(name), map[string]any{"Description": assertions.Match_AnyValue()})
			})
		}
		outputs := *tpl.FindOutputs(jsii.String("*"), nil)
		for _, okta := range []string{"AuthorizationServerId", "ConfidentialClientId", "PublicClientId", "BackendClientId", "ClientSecretArn"} {
			require.NotContains(t, outputs, okta)
		}
		require.Equal(t, "Authorization server issuer (iss of the access tokens)", (*outputs["Issuer"])["Description"])
	})

	t.Run("it matches its snapshot", func(t *testing.T) {
		cdktest.Snapshot(t, tpl, filepath.Join(cdktest.RepoRoot(), "testdata", "snapshots", "SmartHealthLake-external.template.json"))
	})
}

func TestAnExternalIntrospectionEnvironmentReadsItsSecretThroughItsKey(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"ext": map[string]any{
			"region":              "us-east-1",
			"authorizationServer": "external",
			"tokenValidator":      map[string]any{"validation": "introspection"},
			"external": map[string]any{
				"issuer":                       "https://id.example.org/realms/smart",
				"authorizationEndpoint":        "https://id.example.org/realms/smart/protocol/openid-connect/auth",
				"tokenEndpoint":                "https://id.example.org/realms/smart/protocol/openid-connect/token",
				"jwksUri":                      "https://id.example.org/realms/smart/protocol/openid-connect/certs",
				"introspectionEndpoint":        "https://id.example.org/realms/smart/protocol/openid-connect/token/introspect",
				"introspectionClientSecret":    "smart/introspection",
				"introspectionClientSecretKey": key,
				"audiences":                    []any{"https://fhir.example.org"},
			},
		},
	}
	out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.NoError(t, err)
	s := out[0]
	all := cdktest.Resources(t, cdktest.Template(t, s.Stack))

	var decrypts []cdktest.Statement
	for id := range cdktest.OfType(all, "AWS::IAM::Role") {
		for _, st := range cdktest.RoleStatements(t, all, id) {
			if slices.Contains(st.Actions, "kms:Decrypt") && slices.Contains(st.Resources, any(key)) {
				decrypts = append(decrypts, st)
			}
		}
	}
	require.Len(t, decrypts, 1, "one role (the validator's) may decrypt with the secret's key")
	cond, _ := json.Marshal(decrypts[0].Condition)
	require.Contains(t, string(cond), "secretsmanager.us-east-1", "only through Secrets Manager")

	cdktest.ApplyNagPacks(s.Stack)
	require.Empty(t, cdktest.NagFindings(t, s.Stack))
}
