package stacks_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/stacks"
	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

// environments builds every environment of the repository's cdk.json (or the
// one selected) with bundling skipped.
func environments(t *testing.T, extra map[string]any) []stacks.SmartHealthLakeStack {
	t.Helper()
	ctx := cdktest.CdkJSONContext(t)
	for k, v := range extra {
		ctx[k] = v
	}
	app := cdktest.NewApp(t, ctx)
	out, err := stacks.AddEnvironments(app)
	require.NoError(t, err)
	return out
}

func TestEveryEnvironmentMatchesItsSnapshot(t *testing.T) {
	for _, s := range environments(t, nil) {
		t.Run(s.Environment.Name, func(t *testing.T) {
			cdktest.Snapshot(t, cdktest.Template(t, s.Stack),
				filepath.Join(cdktest.RepoRoot(), "testdata", "snapshots", s.Environment.StackName()+".template.json"))
		})
	}
}

func TestEachEnvironmentIsItsOwnStack(t *testing.T) {
	all := environments(t, nil)
	names := map[string]bool{}
	for _, s := range all {
		names[*s.StackName()] = true
	}
	require.True(t, names["SmartHealthLake-dev"])
	require.True(t, names["SmartHealthLake-prod"])

	one := environments(t, map[string]any{"env": "prod"})
	require.Len(t, one, 1)
	require.Equal(t, "SmartHealthLake-prod", *one[0].StackName())
}

func TestAnUnknownEnvironmentStopsSynthesis(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx["env"] = "staging"
	_, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.ErrorContains(t, err, `no environment "staging" in cdk.json`)
}

func TestBadConfigurationStopsSynthesisNamingEnvironmentAndKey(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"prod": map[string]any{"okta": map[string]any{"orgUrl": "http://acme.okta.com", "credentialSecret": "s"}},
	}
	_, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.ErrorContains(t, err, `environment "prod": okta.orgUrl must be an https URL`)
}

func TestProductionIsProtectedAndEveryResourceIsTagged(t *testing.T) {
	for _, s := range environments(t, nil) {
		t.Run(s.Environment.Name, func(t *testing.T) {
			require.Equal(t, s.Environment.Production, *s.TerminationProtection(), "termination protection follows production")
			tpl := cdktest.Template(t, s.Stack)
			tags := []any{
				map[string]any{"Key": "Application", "Value": "smart-healthlake"},
				map[string]any{"Key": "Environment", "Value": s.Environment.Name},
			}
			for k, v := range s.Environment.Tags {
				tags = append(tags, map[string]any{"Key": k, "Value": v})
			}
			for _, tag := range tags {
				cdktest.Try(t, func() {
					tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
						"Tags": assertions.Match_ArrayWith(&[]any{tag}),
					})
				})
			}
			// envconfig counts these keys against cdk.json's tag limits: they
			// must be the ones the stack puts on.
			for _, k := range envconfig.StackTagKeys {
				cdktest.Try(t, func() {
					tpl.HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
						"Tags": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{"Key": k})}),
					})
				})
			}
		})
	}
}

func TestACustomerManagedKeyRotatesAndOutlivesTheStack(t *testing.T) {
	checked := 0
	for _, s := range environments(t, nil) {
		if s.Environment.Datastore.Encryption != "customer-managed" {
			continue
		}
		checked++
		key := s.SmartHealthLake.EncryptionKey()
		require.NotNil(t, key, "%s: a customer-managed key", s.Environment.Name)
		keyID := cdktest.LogicalID(t, key)
		all := cdktest.Resources(t, cdktest.Template(t, s.Stack))
		// The data key itself, not just any key of the stack (the log key also rotates).
		require.Equal(t, true, all[keyID].Properties["EnableKeyRotation"], "%s: rotation on", s.Environment.Name)
		require.Equal(t, "Retain", all[keyID].DeletionPolicy, "%s: the key outlives the stack", s.Environment.Name)
		_, ds := cdktest.Only(t, all, "Custom::SmartHealthLakeDatastore")
		require.Equal(t, cdktest.GetAtt(keyID, "Arn"), ds.Properties["KmsKeyArn"], "%s: the data store uses it", s.Environment.Name)
	}
	require.Positive(t, checked, "cdk.json has a customer-managed environment")
}

func TestAnAWSOwnedKeyEnvironmentCreatesNoKey(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"dev": map[string]any{
			"okta":      map[string]any{"orgUrl": "https://a.okta.com", "credentialSecret": "s"},
			"datastore": map[string]any{"encryption": "aws-owned"},
		},
	}
	out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.NoError(t, err)
	require.Nil(t, out[0].SmartHealthLake.EncryptionKey())
}

func TestOutputsTellAPersonWhereEverythingIs(t *testing.T) {
	for _, s := range environments(t, nil) {
		t.Run(s.Environment.Name, func(t *testing.T) {
			tpl := cdktest.Template(t, s.Stack)
			for _, name := range []string{"FhirEndpoint", "SmartConfigurationUrl", "DatastoreId", "Issuer",
				"AuthorizationEndpoint", "TokenEndpoint", "AuthorizationServerId", "AlarmTopicArn", "DashboardUrl"} {
				cdktest.Try(t, func() {
					tpl.HasOutput(jsii.String(name), map[string]any{"Description": assertions.Match_AnyValue()})
				})
			}
			raw, err := json.Marshal(tpl.FindOutputs(jsii.String("*"), nil))
			require.NoError(t, err)
			for _, secretish := range []string{"client_secret", "clientSecret\"", "apiToken", "SSWS", "PRIVATE KEY"} {
				require.NotContains(t, string(raw), secretish, "no secret in the outputs")
			}
		})
	}
}

func TestTheDatastoreFollowsTheEnvironment(t *testing.T) {
	for _, s := range environments(t, nil) {
		t.Run(s.Environment.Name, func(t *testing.T) {
			tpl := cdktest.Template(t, s.Stack)
			want := map[string]any{
				"DatastoreName":            s.Environment.Datastore.Name,
				"SmartVersion":             string(s.Environment.Datastore.SmartVersion),
				"FineGrainedAuthorization": fmt.Sprint(s.Environment.Datastore.FineGrainedAuthorization),
				"PreloadSynthea":           fmt.Sprint(s.Environment.Datastore.PreloadSynthea),
				"RemovalPolicy":            s.Environment.Datastore.RemovalPolicy,
			}
			if s.Environment.Production {
				want["RemovalPolicy"] = "retain"
				want["PreloadSynthea"] = "false"
			}
			cdktest.Try(t, func() {
				tpl.HasResourceProperties(jsii.String("Custom::SmartHealthLakeDatastore"), want)
			})
		})
	}
}

// TestEveryEnvironmentPassesCdkNag applies cdk-nag's HIPAA Security and AWS
// Solutions packs: no unsuppressed error or warning.
func TestEveryEnvironmentPassesCdkNag(t *testing.T) {
	for _, s := range append(environments(t, nil), externalEnvironment(t), ehrLaunchEnvironment(t)) {
		t.Run(s.Environment.Name, func(t *testing.T) {
			cdktest.ApplyNagPacks(s.Stack)
			findings := cdktest.NagFindings(t, s.Stack)
			require.Empty(t, findings)
		})
	}
}

// TestEverySuppressionIsJustified lists every cdk-nag suppression: each names its
// rule and resource (where it sits) and gives a specific reason.
func TestEverySuppressionIsJustified(t *testing.T) {
	for _, s := range append(environments(t, nil), externalEnvironment(t), ehrLaunchEnvironment(t)) {
		t.Run(s.Environment.Name, func(t *testing.T) {
			sup := cdktest.Suppressions(t, cdktest.Template(t, s.Stack))
			require.NotEmpty(t, sup, "the suppressions are visible in the template")
			// The rule's pack, a reason of nagexcuse.MinReason characters or
			// more, none of its vague words: the constructs' own standard.
			cdktest.RequireJustified(t, sup)
		})
	}
}

func TestAConstructErrorNamesTheEnvironment(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"qa": map[string]any{"okta": map[string]any{
			"orgUrl": "https://a.okta.com", "credentialSecret": "s",
			"scopeResources": []any{"Patient", "not a FHIR type!"},
		}},
	}
	_, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.Error(t, err, "the Okta construct refuses the scope catalogue")
	require.Contains(t, err.Error(), `environment "qa": `)
	require.Contains(t, err.Error(), "ScopeResources")
}

func TestOktaAppsFromCdkJsonAreCreatedAndTheirIdsOutput(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx["smart-healthlake:environments"] = map[string]any{
		"qa": map[string]any{"okta": map[string]any{
			"orgUrl": "https://a.okta.com", "credentialSecret": "s",
			"confidentialClientRedirectUris": []any{"https://app.example.org/callback"},
			"publicClientRedirectUris":       []any{"http://localhost:3000/callback"},
		}},
	}
	out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
	require.NoError(t, err)
	tpl := cdktest.Template(t, out[0].Stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("Custom::SmartOktaAuthorizationServer"), map[string]any{
			"ConfidentialClient":             "true",
			"ConfidentialClientRedirectUris": []any{"https://app.example.org/callback"},
			"PublicClient":                   "true",
			"PublicClientRedirectUris":       []any{"http://localhost:3000/callback"},
		})
	})
	for _, name := range []string{"ConfidentialClientId", "PublicClientId", "ClientSecretArn"} {
		cdktest.Try(t, func() { tpl.HasOutput(jsii.String(name), map[string]any{}) })
	}
}

func TestAStackTakesItsConstructIdLikeEveryConstructAndKeepsItsEnvironmentsName(t *testing.T) {
	env := environments(t, map[string]any{"env": "dev"})[0].Environment
	app := cdktest.NewApp(t, nil)
	s := stacks.NewSmartHealthLakeStack(app, jsii.String("Clinic"), env)
	require.Equal(t, "Clinic", *s.Node().Id())
	require.Equal(t, "SmartHealthLake-dev", *s.StackName(), "deployed by its name, which the id does not change")
}

func TestAcknowledgeReplacementInCdkJsonReachesTheDatastore(t *testing.T) {
	for _, ack := range []bool{false, true} {
		t.Run(fmt.Sprint(ack), func(t *testing.T) {
			ctx := cdktest.CdkJSONContext(t)
			ds := map[string]any{"encryption": "aws-owned"}
			if ack {
				ds["acknowledgeReplacement"] = true
			}
			ctx["smart-healthlake:environments"] = map[string]any{
				"dev": map[string]any{"okta": map[string]any{"orgUrl": "https://a.okta.com", "credentialSecret": "s"}, "datastore": ds},
			}
			out, err := stacks.AddEnvironments(cdktest.NewApp(t, ctx))
			require.NoError(t, err)
			_, r := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, out[0].Stack)), "Custom::SmartHealthLakeDatastore")
			require.Equal(t, fmt.Sprint(ack), r.Properties["AcknowledgeReplacement"])
		})
	}
}
