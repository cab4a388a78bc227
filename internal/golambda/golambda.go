// Package golambda builds this module's Go Lambda functions locally, without
// Docker, and packages them as CDK assets.
//
// Every function is a `lambda/<name>` main package built for linux/arm64 as a
// static `bootstrap` binary for the provided.al2023 runtime (CGO off, -trimpath,
// -tags lambda.norpc, stripped, no build id: the same sources give the same bytes
// in any directory). The asset hash is computed from the function's own Go sources
// (see sourceHash), so changing stack code does not redeploy a function and
// unchanged sources are not rebuilt when cdk.out already holds the asset.
//
// The sources come from this module at the version the running app depends on: in
// this repository, the working tree; in a consumer's app, the module cache. The Go
// toolchain must be on the PATH at synthesis time.
package golambda

import (
	"fmt"
	"path"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

// GoFunctionProps configures a GoFunction.
type GoFunctionProps struct {
	// Entry is the main package to build, as a slash-separated directory relative to
	// this module's root, such as "lambda/introspect". Required.
	Entry *string
	// Options are the function's settings other than its code, runtime, handler and
	// architecture, which this construct sets (provided.al2023, "bootstrap", ARM_64).
	// When Options.LogGroup is set and Options.Role is not, the function gets a role
	// (construct id "<id>Role", beside the function) that may write that log group
	// and nothing else, instead of the AWSLambdaBasicExecutionRole managed policy.
	// Default: the awslambda defaults (128 MB, 3 s timeout, a new role), except
	// LoggingConfig: JSON, application and system log level INFO. With
	// Tracing ACTIVE, the wildcard X-Ray statement CDK adds to the role is
	// excused for cdk-nag.
	Options *awslambda.FunctionOptions
}

// NewGoFunction creates a Lambda function from one of this module's Go main
// packages. It panics, naming the prop, on invalid props, and with the compiler's
// output when the package does not build.
func NewGoFunction(scope constructs.Construct, id *string, props *GoFunctionProps) awslambda.Function {
	if props == nil || props.Entry == nil || *props.Entry == "" {
		panic(fmt.Sprintf("golambda.NewGoFunction(%s): props.Entry is required (e.g. \"lambda/introspect\")", derefString(id)))
	}
	fp := awslambda.FunctionProps{}
	if props.Options != nil {
		if props.Options.Architecture != nil && *props.Options.Architecture.Name() != *awslambda.Architecture_ARM_64().Name() {
			panic(fmt.Sprintf("golambda.NewGoFunction(%s): props.Options.Architecture must be left unset: functions are built for arm64", derefString(id)))
		}
		copyFields(&fp, props.Options)
	}
	if fp.Role == nil && fp.LogGroup != nil {
		// Without a role, CDK attaches the AWSLambdaBasicExecutionRole managed
		// policy (logs on every log group of the account). With a known log group,
		// writing to that one is all the function needs.
		role := awsiam.NewRole(scope, jsii.String(derefString(id)+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("Execution role of " + *props.Entry + ": writes its own log group only"),
		})
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(*fp.LogGroup.LogGroupRef().LogGroupArn),
		}))
		fp.Role = role
	}
	// Lambda's advanced logging controls for every function of this module:
	// JSON lines (the Go code writes JSON; Lambda's own lines become JSON too)
	// at an application log level the code honours through
	// AWS_LAMBDA_LOG_LEVEL (lambda/internal/lambdalog).
	if fp.LoggingFormat == "" {
		fp.LoggingFormat = awslambda.LoggingFormat_JSON
	}
	if fp.ApplicationLogLevelV2 == "" {
		fp.ApplicationLogLevelV2 = awslambda.ApplicationLogLevel_INFO
	}
	if fp.SystemLogLevelV2 == "" {
		fp.SystemLogLevelV2 = awslambda.SystemLogLevel_INFO
	}
	fp.Code = NewCode(*props.Entry)
	fp.Runtime = awslambda.Runtime_PROVIDED_AL2023()
	fp.Handler = jsii.String("bootstrap")
	fp.Architecture = awslambda.Architecture_ARM_64()
	fn := awslambda.NewFunction(scope, id, &fp)
	if fp.Tracing == awslambda.Tracing_ACTIVE {
		nagexcuse.On(fn.Role(), true, []nagexcuse.Excuse{{
			Rule: "AwsSolutions-IAM5",
			Reason: "Active X-Ray tracing: CDK grants xray:PutTraceSegments and xray:PutTelemetryRecords, " +
				"which support no resource-level permissions, so the resource is *.",
			AppliesTo: []any{"Resource::*"},
		}}...)
	}
	return fn
}

// NewCode returns the asset code for one of this module's Go main packages, for
// use where a construct takes an awslambda.Code. entry is as in GoFunctionProps.
// It panics when entry is invalid or its sources can't be listed.
func NewCode(entry string) awslambda.AssetCode {
	entry = path.Clean(strings.TrimPrefix(entry, "./"))
	if path.IsAbs(entry) || strings.HasPrefix(entry, "..") || strings.Contains(entry, `\`) {
		panic(fmt.Sprintf("golambda: entry %q must be a slash-separated directory inside %s, such as \"lambda/introspect\"", entry, ModulePath))
	}
	dir, err := moduleDir()
	if err != nil {
		panic(err.Error())
	}
	hash, err := sourceHash(dir, entry)
	if err != nil {
		panic(err.Error())
	}
	return awslambda.Code_FromAsset(jsii.String(filepath.Join(dir, filepath.FromSlash(entry))), &awss3assets.AssetOptions{
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		AssetHash:     jsii.String(hash),
		Bundling: &awscdk.BundlingOptions{
			// Image is required by the type but never used: Local always succeeds or
			// panics, so CDK never falls back to Docker.
			Image: awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-only")),
			Local: &localBuild{dir: dir, entry: entry},
		},
	})
}

// localBuild implements awscdk.ILocalBundling; jsii calls TryBundle back during
// construction when the stack's assets are being bundled.
type localBuild struct {
	dir, entry string
}

// TryBundle builds the function into outputDir. It never returns false: that
// would make CDK try Docker, which users should not need. A failed build panics
// with the compiler's output, which fails synthesis with that message.
func (b *localBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	if err := build(b.dir, b.entry, *outputDir); err != nil {
		panic(err.Error())
	}
	return jsii.Bool(true)
}

// copyFields copies every field of src into the field of the same name in dst
// (FunctionOptions is FunctionProps without code, runtime and handler).
func copyFields(dst *awslambda.FunctionProps, src *awslambda.FunctionOptions) {
	d := reflect.ValueOf(dst).Elem()
	s := reflect.ValueOf(src).Elem()
	for i := 0; i < s.NumField(); i++ {
		if f := d.FieldByName(s.Type().Field(i).Name); f.IsValid() {
			f.Set(s.Field(i))
		}
	}
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
