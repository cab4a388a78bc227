package golambda_test

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
	"github.com/openhealthstack/smart-healthlake/internal/golambda"
)

const hello = "internal/golambda/testdata/hello"

func TestAFunctionIsAnArm64BootstrapOnProvidedAL2023(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{
		Entry: jsii.String(hello),
		Options: &awslambda.FunctionOptions{
			MemorySize:  jsii.Number(512),
			Description: jsii.String("fixture"),
		},
	})
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Runtime":       "provided.al2023",
			"Handler":       "bootstrap",
			"Architectures": []string{"arm64"},
			"MemorySize":    512,
			"Description":   "fixture",
		})
	})
}

func TestOptionsCannotChangeTheArchitecture(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	msg := cdktest.Panics(t, func() {
		golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{
			Entry:   jsii.String(hello),
			Options: &awslambda.FunctionOptions{Architecture: awslambda.Architecture_X86_64()},
		})
	})
	require.Contains(t, msg, "props.Options.Architecture")
}

func TestAMissingEntryNamesTheProp(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	msg := cdktest.Panics(t, func() { golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{}) })
	require.Contains(t, msg, "props.Entry is required")
}

func TestAnEntryOutsideTheModuleIsRefused(t *testing.T) {
	msg := cdktest.Panics(t, func() { golambda.NewCode("../elsewhere") })
	require.Contains(t, msg, "must be a slash-separated directory inside")
}

// TestSynthesisBuildsAStrippedLinuxArm64Bootstrap runs the real local bundling.
func TestSynthesisBuildsAStrippedLinuxArm64Bootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Lambda binary; skipped with -short")
	}
	out := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{Entry: jsii.String(hello)})
	tpl := cdktest.Template(t, stack)

	key := assertions.NewCapture(nil)
	cdktest.Must(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Code": map[string]any{"S3Key": key},
		})
	})
	hash := strings.TrimSuffix(*key.AsString(), ".zip")
	bin := filepath.Join(out, "asset."+hash, "bootstrap")

	f, err := elf.Open(bin)
	require.NoError(t, err, "the asset must hold a bootstrap ELF binary")
	defer f.Close()
	require.Equal(t, elf.EM_AARCH64, f.Machine, "built for arm64")
	require.Nil(t, f.Section(".symtab"), "stripped (-s)")
	_, err = f.DynamicSymbols()
	require.Error(t, err, "static: CGO off, no dynamic symbols")
}

func TestACompileErrorFailsSynthesisWithTheCompilersMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Go compiler; skipped with -short")
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	msg := cdktest.Panics(t, func() {
		golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{Entry: jsii.String("internal/golambda/testdata/broken")})
	})
	require.Contains(t, msg, "building internal/golambda/testdata/broken")
	require.Contains(t, msg, `cannot use "forty-two"`)
}

func TestBundlingIsSkippedWhereTheContextSaysSo(t *testing.T) {
	// The broken fixture would fail a build: with bundling skipped, it is never
	// compiled, yet its hash is computed from its sources.
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{Entry: jsii.String("internal/golambda/testdata/broken")})
	cdktest.Template(t, stack)
	_, err := os.Stat(*app.Outdir())
	require.NoError(t, err)
}

func TestAFunctionWithALogGroupMayWriteOnlyThatLogGroup(t *testing.T) {
	app := cdktest.NewApp(t, nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	logs := awslogs.NewLogGroup(stack, jsii.String("Logs"), nil)
	golambda.NewGoFunction(stack, jsii.String("Fn"), &golambda.GoFunctionProps{
		Entry:   jsii.String(hello),
		Options: &awslambda.FunctionOptions{LogGroup: logs},
	})
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
			"ManagedPolicyArns": assertions.Match_Absent(),
		})
	})
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::IAM::Policy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": []any{map[string]any{
				"Effect":   "Allow",
				"Action":   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				"Resource": map[string]any{"Fn::GetAtt": []any{assertions.Match_StringLikeRegexp(jsii.String("^Logs")), "Arn"}},
			}}},
			"Roles": []any{map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^FnRole"))}},
		})
	})
}
