package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/stacks"
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

	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not on the PATH: templates synthesized but NOT linted (install it with `pip install cfn-lint`)")
	}
	args := append([]string{"--format", "parseable"}, templates...)
	cmd := exec.Command(lint, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	report := strings.TrimSpace(out.String())
	if report != "" {
		t.Logf("cfn-lint findings:\n%s", report)
	}
	for _, line := range strings.Split(report, "\n") {
		// parseable format: file:line:col:endline:endcol:rule:message; E rules are errors.
		parts := strings.SplitN(line, ":", 7)
		if len(parts) == 7 && strings.HasPrefix(parts[5], "E") {
			t.Errorf("cfn-lint error: %s", line)
		}
	}
	if exit, isExit := err.(*exec.ExitError); isExit && exit.ExitCode()&2 != 0 {
		t.Errorf("cfn-lint reported errors (exit %d)", exit.ExitCode())
	} else if err != nil && !isExit {
		t.Fatalf("running cfn-lint: %v", err)
	}
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
