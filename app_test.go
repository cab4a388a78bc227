package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/internal/toolcheck"
	"github.com/openhealthstack/smart-healthlake/stacks"
	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

// TestEveryEnvironmentSynthesizesAndPassesCfnLint synthesizes the app as
// `cdk synth` does, from the real cdk.json, and lints every template.
func TestEveryEnvironmentSynthesizesAndPassesCfnLint(t *testing.T) {
	app := cdktest.NewApp(t, cdktest.CdkJSONContext(t))
	envs, err := stacks.AddEnvironments(app)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(envs), 2, "dev and prod at least")
	assembly := app.Synth(nil)

	var templates []string
	for _, s := range envs {
		art := assembly.GetStackByName(s.StackName())
		templates = append(templates, filepath.Join(*assembly.Directory(), *art.TemplateFile()))
	}
	for _, tpl := range templates {
		_, err := os.Stat(tpl)
		require.NoError(t, err)
	}

	lintTemplates(t, templates)
}

// ignoredLintWarnings are the only cfn-lint warnings the templates may carry,
// each with why it is ignored. Any other warning, and every error, fails the test.
var ignoredLintWarnings = []struct {
	rule, contains, reason string
}{
	{"W3005", "", "Redundant DependsOn: CDK adds explicit dependencies (for example the data store on the token " +
		"validator's invoke permission) that a Ref already implies in some configurations; they are harmless and " +
		"keep the ordering explicit when the Ref goes away."},
	{"W3037", "'updatefhirdatastore'", "cfn-lint's IAM action list predates healthlake:UpdateFHIRDatastore, which " +
		"the data store handler calls to change SMART settings in place; the action exists in the Service " +
		"Authorization Reference."},
}

// lintTemplates runs cfn-lint on the templates and fails the test on any error
// and on any warning not in ignoredLintWarnings. Without cfn-lint it says so
// and skips, or fails in CI (toolcheck).
func lintTemplates(t *testing.T, templates []string) {
	t.Helper()
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		toolcheck.Missing(t, "cfn-lint", err, "templates synthesized but NOT linted (install it with `pip install cfn-lint`)")
	}
	for _, f := range cfnLint(t, lint, templates) {
		if f.rule[0] == 'E' || !ignoredWarning(f) {
			t.Errorf("cfn-lint %s: %s", f.rule, f.line)
		}
	}
}

func ignoredWarning(f lintFinding) bool {
	for _, w := range ignoredLintWarnings {
		if f.rule == w.rule && strings.Contains(f.line, w.contains) {
			return true
		}
	}
	return false
}

type lintFinding struct{ rule, line string }

// cfnLint returns cfn-lint's findings.
func cfnLint(t *testing.T, lint string, templates []string) []lintFinding {
	t.Helper()
	cmd := exec.Command(lint, append([]string{"--format", "parseable"}, templates...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	report := strings.TrimSpace(out.String())
	var findings []lintFinding
	for _, line := range strings.Split(report, "\n") {
		// parseable: file:line:col:endline:endcol:rule:message
		if parts := strings.SplitN(line, ":", 7); len(parts) == 7 && len(parts[5]) > 1 {
			findings = append(findings, lintFinding{rule: parts[5], line: line})
		}
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode()&2 != 0 && !hasError(findings):
		// cfn-lint's exit code has bit 2 for errors: never let a format change hide one.
		findings = append(findings, lintFinding{rule: "E????", line: "cfn-lint exited with errors: " + report})
	case err != nil && !errors.As(err, &exit):
		t.Fatalf("running cfn-lint: %v", err)
	}
	return findings
}

func hasError(findings []lintFinding) bool {
	for _, f := range findings {
		if f.rule[0] == 'E' {
			return true
		}
	}
	return false
}

func TestTheLintGateCatchesATemplateError(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not on the PATH")
	}
	bad := filepath.Join(t.TempDir(), "bad.template.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": "sometimes"}}}}`), 0o644))
	require.True(t, hasError(cfnLint(t, lint, []string{bad})))
}

// TestTheAppRefusesBadConfiguration runs the real app binary against a broken
// cdk.json, as `cdk synth` would.
func TestTheAppRefusesBadConfiguration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the app; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "app")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	cases := map[string]struct{ context, want string }{
		"an unknown environment": {`{"env": "staging", "smart-healthlake:environments": {"dev": {"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s"}}}}`,
			`-c env=staging: no environment "staging" in cdk.json (known: dev)`},
		"an http org URL": {`{"smart-healthlake:environments": {"prod": {"okta": {"orgUrl": "http://a.okta.com", "credentialSecret": "s"}}}}`,
			`environment "prod": okta.orgUrl must be an https URL`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin)
			// The CDK CLI hands context to the app this way.
			cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+c.context, "CDK_OUTDIR="+t.TempDir())
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "the app must exit non-zero")
			require.Contains(t, string(out), c.want)
		})
	}
}

// TestTheAppSynthesizesOneEnvironmentOnRequest checks `-c env=prod`.
func TestTheAppSynthesizesOneEnvironmentOnRequest(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx["env"] = "prod"
	app := cdktest.NewApp(t, ctx)
	_, err := stacks.AddEnvironments(app)
	require.NoError(t, err)
	assembly := app.Synth(nil)
	require.Len(t, *assembly.Stacks(), 1)
	require.Equal(t, "SmartHealthLake-prod", *(*assembly.Stacks())[0].StackName())
}

// TestAnotherModuleImportsTheConstructs builds and runs examples/consumer, a
// separate Go module that imports this one, as another team's app would.
func TestAnotherModuleImportsTheConstructs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example module; skipped with -short")
	}
	dir := filepath.Join(cdktest.RepoRoot(), "examples", "consumer")
	tidy := exec.Command("go", "mod", "tidy", "-diff")
	tidy.Dir = dir
	out, err := tidy.CombinedOutput()
	require.NoError(t, err, "examples/consumer/go.mod and go.sum must be tidy (missing go.sum entries break consumers):\n%s", out)

	bin := filepath.Join(t.TempDir(), "consumer")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = dir
	out, err = build.CombinedOutput()
	require.NoError(t, err, string(out))

	cdkOut := t.TempDir()
	run := exec.Command(bin)
	run.Dir = dir
	run.Env = append(os.Environ(), "CDK_OUTDIR="+cdkOut)
	out, err = run.CombinedOutput()
	require.NoError(t, err, string(out))

	tpl, err := os.ReadFile(filepath.Join(cdkOut, "ResearchFhir.template.json"))
	require.NoError(t, err)
	var template struct {
		Resources map[string]struct {
			Type       string
			Properties map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(tpl, &template))
	var datastore map[string]any
	for _, r := range template.Resources {
		if r.Type == "Custom::SmartHealthLakeDatastore" {
			datastore = r.Properties
		}
	}
	require.NotNil(t, datastore, "the consumer's stack holds the SMART data store")
	require.Equal(t, "research-fhir", datastore["DatastoreName"])
	require.Equal(t, "v1", datastore["SmartVersion"], "the consumer's non-default props reach the resources")

	// The analytics role reads the stack's data store and the imported archive.
	var analytics []byte
	for id, r := range template.Resources {
		if r.Type == "AWS::IAM::Policy" && strings.HasPrefix(id, "AnalyticsDefaultPolicy") {
			analytics, err = json.Marshal(r.Properties)
			require.NoError(t, err)
		}
	}
	require.Contains(t, string(analytics), `"DatastoreArn"`, "the stack's own data store is granted")
	require.Contains(t, string(analytics), ":datastore/fhir/0123456789abcdef0123456789abcdef", "and so is the imported one")

	// Every Lambda was compiled from this module's sources for the consumer.
	bins, err := filepath.Glob(filepath.Join(cdkOut, "asset.*", "bootstrap"))
	require.NoError(t, err)
	require.Len(t, bins, 3, "the token validator, the data store handler and the Okta handler")
}

func TestOnlyTheListedLintWarningsAreIgnored(t *testing.T) {
	require.True(t, ignoredWarning(lintFinding{"W3037", "x.json:1:1:1:1:W3037:'updatefhirdatastore' is not one of [...]"}))
	require.False(t, ignoredWarning(lintFinding{"W3037", "x.json:1:1:1:1:W3037:'getobjectt' is not one of [...]"}),
		"a typo in another IAM action must still fail")
	require.False(t, ignoredWarning(lintFinding{"W1020", "x.json:1:1:1:1:W1020:Fn::Sub isn't needed"}))
	for _, w := range ignoredLintWarnings {
		require.GreaterOrEqual(t, len(w.reason), 60, "%s needs a specific reason", w.rule)
	}
}

// TestAnEhrLaunchEnvironmentPassesCfnLint lints an environment with EHR
// launch on (the API, its function and table, the proxies in the SMART
// configuration), which the repository's cdk.json leaves off.
func TestAnEhrLaunchEnvironmentPassesCfnLint(t *testing.T) {
	ctx := cdktest.CdkJSONContext(t)
	ctx[envconfig.ContextKey] = map[string]any{
		"ehr": map[string]any{
			"region": "us-east-1",
			"okta": map[string]any{
				"orgUrl": "https://a.okta.com", "credentialSecret": "smart/okta",
				"confidentialClientRedirectUris": []any{"https://app.example.org/callback"},
				"publicClientRedirectUris":       []any{"https://spa.example.org/callback"},
			},
			"ehrLaunch": map[string]any{
				"enabled":     true,
				"ehrRoleArns": []any{"arn:aws:iam::123456789012:role/ehr-launcher"},
				"corsOrigins": []any{"https://spa.example.org"},
			},
		},
	}
	app := cdktest.NewApp(t, ctx)
	envs, err := stacks.AddEnvironments(app)
	require.NoError(t, err)
	assembly := app.Synth(nil)
	art := assembly.GetStackByName(envs[0].StackName())
	lintTemplates(t, []string{filepath.Join(*assembly.Directory(), *art.TemplateFile())})
}
