package stacks_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/stacks"
)

// appsConfig is testdata/apps-environment.json: an environment with one app
// of each type. It is not in the repository's cdk.json, whose dev and prod
// would create the apps in the users' Okta orgs; it goes through the same
// stack code.
func appsConfig(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "apps-environment.json"))
	require.NoError(t, err)
	var env map[string]any
	require.NoError(t, json.Unmarshal(raw, &env))
	return env
}

// appsStack builds the environment "apps" from config.
func appsStack(t *testing.T, config map[string]any) stacks.SmartHealthLakeStack {
	t.Helper()
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{"apps": config}
	out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.NoError(t, err)
	require.Len(t, out, 1)
	return out[0]
}

func TestAnEnvironmentWithThreeAppsMatchesItsSnapshot(t *testing.T) {
	s := appsStack(t, appsConfig(t))
	cdktest.Snapshot(t, cdktest.Template(t, s.Stack),
		filepath.Join(cdktest.RepoRoot(), "testdata", "snapshots", "SmartHealthLake-apps.template.json"))
}

func TestTheRepositoryEnvironmentsCreateNoApps(t *testing.T) {
	for _, s := range environments(t, nil) {
		require.Empty(t, s.Environment.Okta.Apps, "%s: apps in cdk.json would be created in the users' Okta orgs", s.Environment.Name)
	}
}

// joined renders a template string value: a string, or a Fn::Join of
// strings and Refs, each Ref shown as REF(<logical id>).
func joined(t *testing.T, v any) string {
	t.Helper()
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		join := x["Fn::Join"].([]any)
		var b strings.Builder
		for _, part := range join[1].([]any) {
			switch p := part.(type) {
			case string:
				b.WriteString(p)
			case map[string]any:
				fmt.Fprintf(&b, "REF(%s)", p["Ref"])
			default:
				t.Fatalf("unexpected part %v", p)
			}
		}
		return b.String()
	}
	t.Fatalf("unexpected value %v", v)
	return ""
}

func TestThreeAppsFromCdkJson(t *testing.T) {
	config := appsConfig(t)
	s := appsStack(t, config)
	tpl := cdktest.Template(t, s.Stack)
	all := cdktest.Resources(t, tpl)
	server := s.SmartHealthLake.AuthorizationServer()
	serverID, cr := cdktest.Only(t, all, oktaauth.ResourceType)
	secretID := cdktest.LogicalID(t, server.AppClientSecret("acme-clinic"))

	t.Run("the Apps property says what cdk.json says", func(t *testing.T) {
		var got []map[string]any
		require.NoError(t, json.Unmarshal([]byte(joined(t, cr.Properties[oktaprops.PropApps])), &got))
		want := config["okta"].(map[string]any)["apps"].([]any)
		require.Len(t, got, len(want))
		for i, w := range want {
			w := w.(map[string]any)
			if w["type"] == "confidential" {
				w["secretArn"] = "REF(" + secretID + ")"
			}
			require.Equal(t, w, got[i], "app %d", i)
		}
	})

	t.Run("only the confidential app has a secret, and the handler may write it", func(t *testing.T) {
		require.Nil(t, server.AppClientSecret("patient-portal"))
		require.Nil(t, server.AppClientSecret("lab-feed"))
		secrets := cdktest.OfType(all, "AWS::SecretsManager::Secret")
		require.Len(t, secrets, 1, "no single-client secret in this environment, one app secret")
		require.Contains(t, secrets, secretID)
		_, policy := cdktest.Only(t, all, "AWS::SecretsManager::ResourcePolicy")
		require.Equal(t, cdktest.Ref(secretID), policy.Properties["SecretId"])
		stmt := cdktest.AsList(policy.Properties["ResourcePolicy"].(map[string]any)["Statement"])[0].(map[string]any)
		require.Equal(t, "secretsmanager:PutSecretValue", stmt["Action"])
		fn := all[cdktest.LogicalID(t, server.Function())]
		require.Equal(t, map[string]any{"AWS": cdktest.GetAtt(cdktest.RoleOf(t, fn), "Arn")}, stmt["Principal"])
	})

	t.Run("each app has its outputs: the client id and, confidential only, the secret's ARN, never a value", func(t *testing.T) {
		outputs := tpl.ToJSON()
		raw, _ := json.Marshal((*outputs)["Outputs"])
		var outs map[string]struct{ Value any }
		require.NoError(t, json.Unmarshal(raw, &outs))
		for _, name := range []string{"patient-portal", "acme-clinic", "lab-feed"} {
			id := "App" + oktaauth.AppIdPart(name) + "ClientId"
			require.Contains(t, outs, id)
			require.Equal(t, cdktest.GetAtt(serverID, oktaprops.AppDataKey(name)), outs[id].Value, id)
		}
		require.Equal(t, cdktest.Ref(secretID), outs["AppAcmeClinicSecretArn"].Value)
		require.NotContains(t, outs, "AppPatientPortalSecretArn")
		require.NotContains(t, outs, "AppLabFeedSecretArn")
		require.NotContains(t, string(raw), "SecretString")
		require.NotContains(t, string(raw), "resolve:secretsmanager")
	})

	t.Run("the data store advertises what the apps make true", func(t *testing.T) {
		// Without the apps this environment would advertise no client type
		// (like prod); the data store's SMART configuration gets them.
		_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
		require.Subset(t, ds.Properties["SmartSupport"], []any{
			smart.FeaturePublicClients, smart.FeatureConfidentialClients, smart.FeatureBackendServices, smart.FeatureRefreshTokens})
		require.Contains(t, ds.Properties["ScopesSupported"], "patient/Observation.rs", "the scopes stay the catalogue")
	})
}

func TestRemovingAnAppLeavesTheOthersOutputsAndSecretAlone(t *testing.T) {
	ids := func(config map[string]any) (outputs map[string]any, secret string) {
		s := appsStack(t, config)
		raw, _ := json.Marshal((*cdktest.Template(t, s.Stack).ToJSON())["Outputs"])
		var outs map[string]struct{ Value any }
		require.NoError(t, json.Unmarshal(raw, &outs))
		outputs = map[string]any{}
		for id, o := range outs {
			if strings.HasPrefix(id, "App") {
				outputs[id] = o.Value
			}
		}
		return outputs, cdktest.LogicalID(t, s.SmartHealthLake.AuthorizationServer().AppClientSecret("acme-clinic"))
	}
	before, secretBefore := ids(appsConfig(t))

	config := appsConfig(t)
	okta := config["okta"].(map[string]any)
	okta["apps"] = okta["apps"].([]any)[1:] // patient-portal removed
	after, secretAfter := ids(config)

	require.Equal(t, secretBefore, secretAfter)
	delete(before, "AppPatientPortalClientId")
	require.Equal(t, before, after)
}
