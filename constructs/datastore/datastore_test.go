package datastore_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/constructs/datastore"
	"github.com/openhealthstack/smart-healthlake/constructs/servicerole"
	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/internal/cdktest"
)

// viaHealthLake is the condition on every use of the data store's key: both
// names HealthLake may call KMS under (the regional one, and the global one of
// HealthLake's documented key policy), either of which matches.
var viaHealthLake = map[string]any{"kms:ViaService": []any{"healthlake.us-east-1.amazonaws.com", "healthlake.amazonaws.com"}}

const (
	okta = "https://example.okta.com/oauth2/aus1"
	// datastorePattern is the handler role's resource for data store actions.
	datastorePattern = "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/*"
)

// newStack uses cdk.json's feature flags, so the templates are the ones users get.
func newStack(t *testing.T) awscdk.Stack { return cdktest.NewCdkJSONStack(t, "S") }

// newIdp stands in for the token validator: a function with HealthLake's invoke
// permission as its child, as tokenvalidator creates it.
func newIdp(stack awscdk.Stack, env *map[string]*string) awslambda.Function {
	fn := awslambda.NewFunction(stack, jsii.String("Idp"), &awslambda.FunctionProps{
		Runtime:     awslambda.Runtime_NODEJS_22_X(),
		Handler:     jsii.String("index.handler"),
		Code:        awslambda.Code_FromInline(jsii.String("exports.handler = async () => ({})")),
		Environment: env,
	})
	fn.AddPermission(jsii.String("HealthLakeInvoke"), &awslambda.Permission{
		Principal:     awsiam.NewServicePrincipal(jsii.String("healthlake.amazonaws.com"), nil),
		Action:        jsii.String("lambda:InvokeFunction"),
		SourceAccount: jsii.String(cdktest.Account),
	})
	return fn
}

func requiredEndpoints() *smartconfig.Endpoints {
	return &smartconfig.Endpoints{
		Issuer:                jsii.String(okta),
		JwksUri:               jsii.String(okta + "/v1/keys"),
		AuthorizationEndpoint: jsii.String(okta + "/v1/authorize"),
		TokenEndpoint:         jsii.String(okta + "/v1/token"),
	}
}

func minimalProps(idp awslambda.IFunction) *datastore.SmartDatastoreProps {
	return &datastore.SmartDatastoreProps{
		DatastoreName: jsii.String("patients"),
		Endpoints:     requiredEndpoints(),
		IdpFunction:   idp,
	}
}

// ofConstruct keeps the resources of the construct under test, whose id in
// every test is "Datastore".
func ofConstruct(all map[string]cdktest.Resource) map[string]cdktest.Resource {
	return cdktest.Prefixed(all, "Datastore")
}

// handlerFunction returns the logical id and resource of the handler function
// running in mode.
func handlerFunction(t *testing.T, all map[string]cdktest.Resource, mode string) (string, cdktest.Resource) {
	t.Helper()
	for id, r := range cdktest.OfType(all, "AWS::Lambda::Function") {
		env, _ := r.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if vars["HANDLER_MODE"] == mode {
			return id, r
		}
	}
	t.Fatalf("no function with HANDLER_MODE=%s", mode)
	return "", cdktest.Resource{}
}

func bySid(t *testing.T, sts []cdktest.Statement, sid string) cdktest.Statement {
	t.Helper()
	for _, s := range sts {
		if s.Sid == sid {
			return s
		}
	}
	t.Fatalf("no statement %q in %+v", sid, sts)
	return cdktest.Statement{}
}

func TestEveryPropertyReachesTheCustomResource(t *testing.T) {
	stack := newStack(t)
	idp := newIdp(stack, nil)
	key := awskms.NewKey(stack, jsii.String("DataKey"), nil)
	ds := datastore.NewSmartDatastore(stack, jsii.String("Datastore"), &datastore.SmartDatastoreProps{
		DatastoreName:            jsii.String("clinic fhir"),
		SmartVersion:             smart.V1,
		FineGrainedAuthorization: jsii.Bool(false),
		Endpoints: &smartconfig.Endpoints{
			Issuer:                jsii.String(okta),
			JwksUri:               jsii.String(okta + "/v1/keys"),
			AuthorizationEndpoint: jsii.String(okta + "/v1/authorize"),
			TokenEndpoint:         jsii.String(okta + "/v1/token"),
			IntrospectionEndpoint: jsii.String(okta + "/v1/introspect"),
			RevocationEndpoint:    jsii.String(okta + "/v1/revoke"),
			ManagementEndpoint:    jsii.String("https://example.okta.com/manage"),
		},
		ScopesSupported:        jsii.Strings("openid", "fhirUser", "launch/patient", "patient/*.read"),
		IdpFunction:            idp,
		EncryptionKey:          key,
		PreloadSynthea:         jsii.Bool(true),
		RemovalPolicy:          awscdk.RemovalPolicy_DESTROY,
		AcknowledgeReplacement: jsii.Bool(true),
		Tags:                   &map[string]*string{"team": jsii.String("fhir"), "env": jsii.String("dev")},
		Support: &smart.Support{ConfidentialClients: true, PublicClients: true, BackendServices: true,
			PatientContext: true, OpenIDConnect: true, RefreshTokens: true},
	})
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	id, cr := cdktest.Only(t, all, datastore.ResourceType)
	require.Equal(t, cdktest.LogicalID(t, ds.Resource()), id)

	props := cr.Properties
	require.NotNil(t, props["ServiceToken"])
	delete(props, "ServiceToken")
	require.Equal(t, map[string]any{
		datastoreprops.PropDatastoreName:            "clinic fhir",
		datastoreprops.PropFhirVersion:              "R4",
		datastoreprops.PropSmartVersion:             "v1",
		datastoreprops.PropFineGrainedAuthorization: "false",
		datastoreprops.PropIdpLambdaArn:             cdktest.Resolved(t, stack, idp.FunctionArn()),
		datastoreprops.PropIssuer:                   okta,
		datastoreprops.PropJwksUri:                  okta + "/v1/keys",
		datastoreprops.PropAuthorizationEndpoint:    okta + "/v1/authorize",
		datastoreprops.PropTokenEndpoint:            okta + "/v1/token",
		datastoreprops.PropIntrospectionEndpoint:    okta + "/v1/introspect",
		datastoreprops.PropRevocationEndpoint:       okta + "/v1/revoke",
		datastoreprops.PropManagementEndpoint:       "https://example.okta.com/manage",
		datastoreprops.PropScopesSupported:          []any{"openid", "fhirUser", "launch/patient", "patient/*.read"},
		datastoreprops.PropKmsKeyArn:                cdktest.Resolved(t, stack, key.KeyArn()),
		datastoreprops.PropPreloadSynthea:           "true",
		datastoreprops.PropTags:                     map[string]any{"team": "fhir", "env": "dev"},
		datastoreprops.PropRemovalPolicy:            "destroy",
		datastoreprops.PropAcknowledgeReplacement:   "true",
		datastoreprops.PropSupport: []any{"confidential-clients", "public-clients", "backend-services", "patient-context",
			"openid-connect", "refresh-tokens"},
		"ServiceTimeout": "3600",
	}, props)
}

func TestDefaultsAreTheSafeOnes(t *testing.T) {
	stack := newStack(t)
	datastore.NewSmartDatastore(stack, jsii.String("Datastore"), minimalProps(newIdp(stack, nil)))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	_, cr := cdktest.Only(t, all, datastore.ResourceType)
	p := cr.Properties
	require.Equal(t, "v2", p[datastoreprops.PropSmartVersion], "SMART v2 by default")
	require.NotContains(t, p, datastoreprops.PropAuthorizationStrategy, "the SMART version has one name, SmartVersion")
	require.Equal(t, "true", p[datastoreprops.PropFineGrainedAuthorization], "fine-grained authorization on by default")
	require.Equal(t, "false", p[datastoreprops.PropPreloadSynthea])
	require.Equal(t, "retain", p[datastoreprops.PropRemovalPolicy], "the data store is retained by default")
	require.Equal(t, "false", p[datastoreprops.PropAcknowledgeReplacement])
	for _, absent := range []string{datastoreprops.PropKmsKeyArn, datastoreprops.PropScopesSupported, datastoreprops.PropTags, datastoreprops.PropSupport,
		datastoreprops.PropIntrospectionEndpoint, datastoreprops.PropRevocationEndpoint, datastoreprops.PropManagementEndpoint} {
		require.NotContains(t, p, absent, "unset props are left out (KmsKeyArn absent = AWS-owned key)")
	}
	// CloudFormation must send the Delete to the handler, which applies RemovalPolicy.
	require.Equal(t, "Delete", cr.DeletionPolicy)
}

func TestTheSupportedFlowsReachTheHandlerAsSmartmetaFeatures(t *testing.T) {
	for name, c := range map[string]struct {
		support *smart.Support
		want    any
	}{
		"only a backend service":            {&smart.Support{BackendServices: true}, []any{"backend-services"}},
		"a public app with patient context": {&smart.Support{PublicClients: true, PatientContext: true}, []any{"public-clients", "patient-context"}},
		"nothing supported is left out":     {&smart.Support{}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			props := minimalProps(newIdp(stack, nil))
			props.Support = c.support
			datastore.NewSmartDatastore(stack, jsii.String("Datastore"), props)
			_, cr := cdktest.Only(t, cdktest.Resources(t, cdktest.Template(t, stack)), datastore.ResourceType)
			require.Equal(t, c.want, cr.Properties[datastoreprops.PropSupport])
			if c.want != nil {
				// What the handler reads back is what was configured.
				var names []string
				for _, n := range c.want.([]any) {
					names = append(names, n.(string))
				}
				got, err := smart.ParseFeatures(names)
				require.NoError(t, err)
				require.Equal(t, smart.Support(*c.support), got)
			}
		})
	}
}

func TestAnAliasIsCalledByItsQualifiedArn(t *testing.T) {
	stack := newStack(t)
	fn := awslambda.NewFunction(stack, jsii.String("Idp"), &awslambda.FunctionProps{
		Runtime: awslambda.Runtime_NODEJS_22_X(),
		Handler: jsii.String("index.handler"),
		Code:    awslambda.Code_FromInline(jsii.String("x")),
	})
	alias := awslambda.NewAlias(stack, jsii.String("Live"), &awslambda.AliasProps{
		AliasName: jsii.String("live"), Version: fn.CurrentVersion(),
	})
	alias.AddPermission(jsii.String("HealthLakeInvoke"), &awslambda.Permission{
		Principal: awsiam.NewServicePrincipal(jsii.String("healthlake.amazonaws.com"), nil),
	})
	datastore.NewSmartDatastore(stack, jsii.String("Datastore"), minimalProps(alias))
	all := cdktest.Resources(t, cdktest.Template(t, stack))

	aliasID, _ := cdktest.Only(t, all, "AWS::Lambda::Alias")
	_, cr := cdktest.Only(t, all, datastore.ResourceType)
	require.Equal(t, cdktest.Ref(aliasID), cr.Properties[datastoreprops.PropIdpLambdaArn], "the alias ARN, not the unqualified function")

	permID, _ := cdktest.Only(t, all, "AWS::Lambda::Permission")
	require.Contains(t, cr.DependsOn, permID, "the alias's invoke permission exists before the data store")

	_, onEvent := handlerFunction(t, all, "onEvent")
	invoke := bySid(t, cdktest.RoleStatements(t, all, cdktest.RoleOf(t, onEvent)), "AllowHealthLakeToUseIdpFunction")
	require.Equal(t, []any{cdktest.Ref(aliasID)}, invoke.Resources)
}

func TestTheResourceDependsOnTheIdpInvokePermission(t *testing.T) {
	stack := newStack(t)
	datastore.NewSmartDatastore(stack, jsii.String("Datastore"), minimalProps(newIdp(stack, nil)))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	permID, perm := cdktest.Only(t, all, "AWS::Lambda::Permission")
	require.Equal(t, "healthlake.amazonaws.com", perm.Properties["Principal"])
	_, cr := cdktest.Only(t, all, datastore.ResourceType)
	require.Contains(t, cr.DependsOn, permID)
}

// definition reassembles the waiter state machine's DefinitionString, replacing
// the function ARN references by a placeholder.
func definition(t *testing.T, sm cdktest.Resource) map[string]any {
	t.Helper()
	var b strings.Builder
	switch d := sm.Properties["DefinitionString"].(type) {
	case string:
		b.WriteString(d)
	case map[string]any:
		parts := d["Fn::Join"].([]any)[1].([]any)
		for _, p := range parts {
			if s, ok := p.(string); ok {
				b.WriteString(s)
			} else {
				b.WriteString("ARN")
			}
		}
	}
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(b.String()), &out), b.String())
	return out
}

func TestTheProviderPollsEvery30SecondsFor45Minutes(t *testing.T) {
	stack := newStack(t)
	datastore.NewSmartDatastore(stack, jsii.String("Datastore"), minimalProps(newIdp(stack, nil)))
	all := cdktest.Resources(t, cdktest.Template(t, stack))

	// The framework turns QueryInterval and TotalTimeout into the isComplete
	// task's retry policy: TotalTimeout = IntervalSeconds x MaxAttempts.
	_, sm := cdktest.Only(t, all, "AWS::StepFunctions::StateMachine")
	def := definition(t, sm)
	task := def["States"].(map[string]any)["framework-isComplete-task"].(map[string]any)
	retry := task["Retry"].([]any)[0].(map[string]any)
	require.EqualValues(t, 30, retry["IntervalSeconds"])
	require.EqualValues(t, 90, retry["MaxAttempts"], "90 x 30 s = 45 minutes")
	require.EqualValues(t, 1, retry["BackoffRate"], "no backoff: the total is exact")
	polling := retry["IntervalSeconds"].(float64) * retry["MaxAttempts"].(float64)
	require.EqualValues(t, 45*60, polling)
	require.EqualValues(t, datastore.TotalTimeoutMinutes*60, polling)

	_, cr := cdktest.Only(t, all, datastore.ResourceType)
	require.Equal(t, "3600", cr.Properties["ServiceTimeout"], "CloudFormation's maximum for a custom resource")
	require.EqualValues(t, datastore.ServiceTimeoutSeconds, 3600)

	// onEvent may run for its whole timeout before the polling starts: both
	// together must end before CloudFormation's limit, so the framework, not
	// CloudFormation, reports the timeout.
	_, onEvent := handlerFunction(t, all, "onEvent")
	onEventSeconds := onEvent.Properties["Timeout"].(float64)
	require.EqualValues(t, 600, onEventSeconds)
	require.Less(t, onEventSeconds+polling, float64(datastore.ServiceTimeoutSeconds),
		"onEvent timeout + TotalTimeout must stay below ServiceTimeout")
	require.GreaterOrEqual(t, float64(datastore.ServiceTimeoutSeconds)-(onEventSeconds+polling), 300.0,
		"at least 5 minutes left for the isComplete calls themselves")
}

func TestTheHandlerFunctionsAreArm64GoWithTheirMode(t *testing.T) {
	stack := newStack(t)
	ds := datastore.NewSmartDatastore(stack, jsii.String("Datastore"), minimalProps(newIdp(stack, nil)))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	for mode, fn := range map[string]awslambda.Function{"onEvent": ds.OnEventFunction(), "isComplete": ds.IsCompleteFunction()} {
		t.Run(mode, func(t *testing.T) {
			id, r := handlerFunction(t, all, mode)
			require.Equal(t, cdktest.Resolved(t, stack, fn.FunctionName()), cdktest.Ref(id), "the accessor returns the %s function", mode)
			p := r.Properties
			require.Equal(t, "provided.al2023", p["Runtime"])
			require.Equal(t, "bootstrap", p["Handler"])
			require.Equal(t, []any{"arm64"}, p["Architectures"])
			require.EqualValues(t, 256, p["MemorySize"])
			require.EqualValues(t, 600, p["Timeout"])
			require.NotNil(t, p["ReservedConcurrentExecutions"], "cdk-nag HIPAA wants reserved concurrency")
			require.LessOrEqual(t, p["ReservedConcurrentExecutions"].(float64), 5.0)
			require.Equal(t, map[string]any{"Variables": map[string]any{"HANDLER_MODE": mode}}, p["Environment"])
		})
	}
}

func TestEveryLogGroupIsEncryptedAndRetained(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		stack := newStack(t)
		ds := datastore.NewSmartDatastore(stack, jsii.String("Datastore"), minimalProps(newIdp(stack, nil)))
		all := cdktest.Resources(t, cdktest.Template(t, stack))
		groups := ofConstruct(cdktest.OfType(all, "AWS::Logs::LogGroup"))
		require.Len(t, groups, 3, "onEvent, isComplete and the Provider framework")
		keyID, _ := cdktest.Only(t, all, "AWS::KMS::Key")
		require.Equal(t, cdktest.Resolved(t, stack, ds.LogEncryptionKey().KeyArn()), cdktest.GetAtt(keyID, "Arn"))
		for id, g := range groups {
			require.Equal(t, cdktest.GetAtt(keyID, "Arn"), g.Properties["KmsKeyId"], id)
			require.EqualValues(t, 365, g.Properties["RetentionInDays"], id)
			require.Equal(t, "Retain", g.DeletionPolicy, id)
		}
		// Every function, the framework's Node.js ones included, logs to one of them.
		fns := cdktest.OfType(all, "AWS::Lambda::Function")
		require.Len(t, fns, 6, "Idp, 2 handlers, 3 framework functions")
		for id, fn := range fns {
			if strings.HasPrefix(id, "Idp") {
				continue
			}
			lc, _ := fn.Properties["LoggingConfig"].(map[string]any)
			lg, _ := lc["LogGroup"].(map[string]any)
			require.Contains(t, groups, lg["Ref"], "function %s logs to its encrypted log group", id)
		}
	})
	t.Run("given key and retention", func(t *testing.T) {
		stack := newStack(t)
		key := awskms.NewKey(stack, jsii.String("SharedLogKey"), nil)
		props := minimalProps(newIdp(stack, nil))
		props.LogEncryptionKey = key
		props.LogRetention = awslogs.RetentionDays_THREE_MONTHS
		datastore.NewSmartDatastore(stack, jsii.String("Datastore"), props)
		all := cdktest.Resources(t, cdktest.Template(t, stack))
		keyID, _ := cdktest.Only(t, all, "AWS::KMS::Key")
		for id, g := range ofConstruct(cdktest.OfType(all, "AWS::Logs::LogGroup")) {
			require.Equal(t, cdktest.GetAtt(keyID, "Arn"), g.Properties["KmsKeyId"], id)
			require.EqualValues(t, 90, g.Properties["RetentionInDays"], id)
		}
	})
}

// The lists of CloudFormation's registry schema of AWS::HealthLake::FHIRDatastore
// (handlers.create/update/delete.permissions), written out here on their own so
// the test does not read them from the code under test.
var (
	schemaCreate = []string{
		"healthlake:CreateFHIRDatastore", "healthlake:DescribeFHIRDatastore", "iam:PassRole",
		"kms:DescribeKey", "kms:CreateGrant", "kms:GenerateDataKey", "kms:Decrypt", "iam:GetRole",
		"iam:CreateServiceLinkedRole", "ram:GetResourceShareInvitations", "ram:AcceptResourceShareInvitation",
		"glue:CreateDatabase", "glue:DeleteDatabase", "lambda:InvokeFunction",
		"healthlake:TagResource", "healthlake:UntagResource", "healthlake:ListTagsForResource",
	}
	schemaUpdate = []string{
		"healthlake:TagResource", "healthlake:UntagResource", "healthlake:ListTagsForResource",
		"healthlake:DescribeFHIRDatastore", "iam:PassRole", "iam:GetRole", "iam:CreateServiceLinkedRole",
	}
	schemaDelete = []string{
		"healthlake:DeleteFHIRDatastore", "healthlake:DescribeFHIRDatastore", "iam:PassRole", "iam:GetRole",
		"iam:CreateServiceLinkedRole", "ram:GetResourceShareInvitations", "ram:AcceptResourceShareInvitation",
		"glue:CreateDatabase", "glue:DeleteDatabase",
	}
)

const slrPattern = "arn:aws:iam::123456789012:role/aws-service-role/healthlake.amazonaws.com/*"

// union returns the distinct actions of the lists, without those for which
// drop is true.
func union(drop func(string) bool, lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, a := range l {
			if !slices.Contains(out, a) && (drop == nil || !drop(a)) {
				out = append(out, a)
			}
		}
	}
	return out
}

// splitLogs separates the log-group statement (no Sid, CDK's grantWrite) from the rest.
func splitLogs(t *testing.T, got []cdktest.Statement) (logs, statements []cdktest.Statement) {
	t.Helper()
	for _, s := range got {
		require.Equal(t, "Allow", s.Effect)
		if isXRay(t, s) {
			continue // active tracing's statement, checked by isXRay
		}
		if s.Sid == "" {
			logs = append(logs, s)
		} else {
			statements = append(statements, s)
		}
	}
	return logs, statements
}

// isXRay reports whether s is the statement CDK adds for active X-Ray tracing
// (which the handlers have), and checks that it grants nothing else.
func isXRay(t *testing.T, s cdktest.Statement) bool {
	t.Helper()
	if !slices.ContainsFunc(s.Actions, func(a string) bool { return strings.HasPrefix(a, "xray:") }) {
		return false
	}
	require.ElementsMatch(t, []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, s.Actions)
	require.Equal(t, []any{"*"}, s.Resources, "X-Ray's trace actions have no resource type")
	return true
}

func actionsOf(statements []cdktest.Statement) []string {
	var out []string
	for _, s := range statements {
		out = append(out, s.Actions...)
	}
	return out
}

func requireStatements(t *testing.T, want map[string]cdktest.Statement, got []cdktest.Statement) {
	t.Helper()
	want = maps.Clone(want)
	for _, s := range got {
		w, ok := want[s.Sid]
		require.True(t, ok, "unexpected statement %+v", s)
		require.ElementsMatch(t, w.Actions, s.Actions, s.Sid)
		require.Equal(t, w.Resources, s.Resources, s.Sid)
		require.Equal(t, w.Condition, s.Condition, s.Sid)
		delete(want, s.Sid)
	}
	require.Empty(t, want, "missing statements")
}

func TestTheHandlerRolesHoldWhatTheRegistryListsForTheirCalls(t *testing.T) {
	for name, withKey := range map[string]bool{"AWS-owned key": false, "customer-managed key": true} {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			props := minimalProps(newIdp(stack, nil))
			if withKey {
				props.EncryptionKey = awskms.NewKey(stack, jsii.String("DataKey"), nil)
			}
			datastore.NewSmartDatastore(stack, jsii.String("Datastore"), props)
			all := cdktest.Resources(t, cdktest.Template(t, stack))
			idpArn := cdktest.GetAtt(findFunction(t, all, "Idp"), "Arn")
			// With an AWS-owned key HealthLake never checks the caller's KMS rights.
			var noKMS func(string) bool
			if !withKey {
				noKMS = func(a string) bool { return strings.HasPrefix(a, "kms:") }
			}
			// What the handler calls besides the registry's lists: the in-place
			// update, and finding a data store by its tags.
			lifecycle := []string{"healthlake:ListFHIRDatastores", "healthlake:TagResource", "healthlake:ListTagsForResource"}

			// Scoped as tightly as IAM allows, whichever role holds them.
			shared := map[string]cdktest.Statement{
				"ListDatastores": {Actions: []string{"healthlake:ListFHIRDatastores"}, Resources: []any{"*"}},
				"CreateHealthLakeServiceLinkedRole": {Actions: []string{"iam:CreateServiceLinkedRole"}, Resources: []any{slrPattern},
					Condition: map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": "healthlake.amazonaws.com"}}},
				"ReadHealthLakeServiceLinkedRole": {Actions: []string{"iam:GetRole"}, Resources: []any{slrPattern}},
				"PassHealthLakeServiceLinkedRole": {Actions: []string{"iam:PassRole"}, Resources: []any{slrPattern},
					Condition: map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "healthlake.amazonaws.com"}}},
				"ReadResourceShareInvitations": {Actions: []string{"ram:GetResourceShareInvitations"}, Resources: []any{"*"}},
				"AcceptResourceShareInvitations": {Actions: []string{"ram:AcceptResourceShareInvitation"},
					Resources: []any{"arn:aws:ram:us-east-1:*:resource-share-invitation/*"}},
				// DeleteDatabase needs the database's children too (Glue Developer
				// Guide, "Specifying AWS Glue resource ARNs").
				"ManageLakeFormationResourceLink": {Actions: []string{"glue:CreateDatabase", "glue:DeleteDatabase"},
					Resources: []any{"arn:aws:glue:us-east-1:123456789012:catalog", "arn:aws:glue:us-east-1:123456789012:database/*",
						"arn:aws:glue:us-east-1:123456789012:table/*", "arn:aws:glue:us-east-1:123456789012:userDefinedFunction/*"}},
				// This stack only, by its exact id: the StackId of the handler's events.
				"ReadThisStackStatus": {Actions: []string{"cloudformation:DescribeStacks"},
					Resources: []any{map[string]any{"Ref": "AWS::StackId"}}},
			}

			t.Run("onEvent creates, updates and deletes", func(t *testing.T) {
				_, onEvent := handlerFunction(t, all, "onEvent")
				logs, statements := splitLogs(t, cdktest.RoleStatements(t, all, cdktest.RoleOf(t, onEvent)))
				requireOnlyLogWrites(t, logs, cdktest.LogGroupOf(t, onEvent))
				require.ElementsMatch(t, union(noKMS, schemaCreate, schemaUpdate, schemaDelete, lifecycle,
					[]string{"healthlake:UpdateFHIRDatastore", "cloudformation:DescribeStacks"}), actionsOf(statements),
					"exactly the registry's create, update and delete lists and the handler's own calls, each once")

				want := maps.Clone(shared)
				want["ManageDatastores"] = cdktest.Statement{Actions: []string{
					"healthlake:DescribeFHIRDatastore", "healthlake:UpdateFHIRDatastore", "healthlake:DeleteFHIRDatastore",
					"healthlake:TagResource", "healthlake:UntagResource", "healthlake:ListTagsForResource",
				}, Resources: []any{datastorePattern}}
				want["CreateDatastores"] = cdktest.Statement{Actions: []string{"healthlake:CreateFHIRDatastore"}, Resources: []any{"*"}}
				want["AllowHealthLakeToUseIdpFunction"] = cdktest.Statement{Actions: []string{"lambda:InvokeFunction"}, Resources: []any{idpArn}}
				if withKey {
					keyArn := cdktest.GetAtt(findKey(t, all, "DataKey"), "Arn")
					want["UseDataKeyViaHealthLake"] = cdktest.Statement{
						Actions:   []string{"kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"},
						Resources: []any{keyArn}, Condition: map[string]any{"StringEquals": viaHealthLake},
					}
					want["GrantDataKeyToHealthLake"] = cdktest.Statement{
						Actions: []string{"kms:CreateGrant"}, Resources: []any{keyArn},
						Condition: map[string]any{"StringEquals": viaHealthLake, "Bool": map[string]any{"kms:GrantIsForAWSResource": "true"}},
					}
				}
				requireStatements(t, want, statements)
			})

			t.Run("isComplete deletes and reads this stack, and never invokes, encrypts or tags", func(t *testing.T) {
				_, isComplete := handlerFunction(t, all, "isComplete")
				logs, statements := splitLogs(t, cdktest.RoleStatements(t, all, cdktest.RoleOf(t, isComplete)))
				requireOnlyLogWrites(t, logs, cdktest.LogGroupOf(t, isComplete))
				// isComplete never tags: only onEvent's Delete (retained-by) and
				// rollback Update (abandoned-by) call TagResource.
				noTagging := func(a string) bool { return a == "healthlake:TagResource" || a == "healthlake:UntagResource" }
				require.ElementsMatch(t, union(noTagging, schemaDelete, lifecycle, []string{"cloudformation:DescribeStacks"}), actionsOf(statements),
					"exactly the registry's delete list and the handler's own calls, each once, and no tagging")
				require.NotContains(t, actionsOf(statements), "healthlake:TagResource", "isComplete never calls TagResource")

				want := maps.Clone(shared)
				want["ManageDatastores"] = cdktest.Statement{Actions: []string{
					"healthlake:DescribeFHIRDatastore", "healthlake:DeleteFHIRDatastore", "healthlake:ListTagsForResource",
				}, Resources: []any{datastorePattern}}
				requireStatements(t, want, statements)
			})

			requireNoBroadGrants(t, all)
		})
	}
}

// TestBothHandlersReadOnlyThisStacksStatus pins the one CloudFormation
// permission: DescribeStacks on this stack's own id, for each handler
// function (onEvent decides with it whether a Delete comes from a rollback;
// isComplete reads the stack when onEvent could not, so a cancelled
// replacement is still found).
func TestBothHandlersReadOnlyThisStacksStatus(t *testing.T) {
	stack := newStack(t)
	datastore.NewSmartDatastore(stack, jsii.String("Datastore"), minimalProps(newIdp(stack, nil)))
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	var roles []any
	for _, mode := range []string{"onEvent", "isComplete"} {
		_, fn := handlerFunction(t, all, mode)
		roles = append(roles, []any{map[string]any{"Ref": cdktest.RoleOf(t, fn)}})
	}

	var found []any
	for id, p := range cdktest.OfType(all, "AWS::IAM::Policy") {
		for _, st := range cdktest.AsList(p.Properties["PolicyDocument"].(map[string]any)["Statement"]) {
			m := st.(map[string]any)
			for _, a := range cdktest.AsList(m["Action"]) {
				if !strings.HasPrefix(a.(string), "cloudformation:") {
					continue
				}
				require.Contains(t, roles, p.Properties["Roles"], id)
				require.Equal(t, map[string]any{
					"Sid":      "ReadThisStackStatus",
					"Effect":   "Allow",
					"Action":   "cloudformation:DescribeStacks",
					"Resource": map[string]any{"Ref": "AWS::StackId"},
				}, m, id)
				found = append(found, p.Properties["Roles"])
			}
		}
	}
	require.ElementsMatch(t, roles, found, "one statement per handler role")
}

// requireNoBroadGrants checks every policy and role of the construct, the
// Provider framework's included: no wildcard action; iam:PassRole only on
// HealthLake's service-linked role and only to HealthLake; "*" as a resource
// only for the actions without a resource type; and no managed policy
// (AWSLambdaBasicExecutionRole writes to every log group).
func requireNoBroadGrants(t *testing.T, all map[string]cdktest.Resource) {
	t.Helper()
	noResourceType := []any{"healthlake:CreateFHIRDatastore", "healthlake:ListFHIRDatastores", "ram:GetResourceShareInvitations",
		"xray:PutTraceSegments", "xray:PutTelemetryRecords"} // the last two: active tracing
	for id, statements := range cdktest.PolicyStatements(t, ofConstruct(cdktest.OfType(all, "AWS::IAM::Policy"))) {
		for _, s := range statements {
			for _, a := range s.Actions {
				require.NotContains(t, a, "*", "wildcard action in %s", id)
				if a == "iam:PassRole" {
					require.Equal(t, []any{slrPattern}, s.Resources, id)
					require.Equal(t, map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "healthlake.amazonaws.com"}},
						s.Condition, id)
				}
			}
			if slices.Contains(s.Resources, any("*")) {
				for _, a := range s.Actions {
					require.Contains(t, noResourceType, a, "only actions without a resource type may use * (in %s)", id)
				}
			}
		}
	}
	cdktest.RequireNoManagedPolicy(t, ofConstruct(cdktest.OfType(all, "AWS::IAM::Role")))
}

func requireOnlyLogWrites(t *testing.T, logs []cdktest.Statement, logGroupID string) {
	t.Helper()
	require.Len(t, logs, 1)
	require.ElementsMatch(t, []string{"logs:CreateLogStream", "logs:PutLogEvents"}, logs[0].Actions)
	require.Equal(t, []any{cdktest.GetAtt(logGroupID, "Arn")}, logs[0].Resources)
}

func findFunction(t *testing.T, all map[string]cdktest.Resource, prefix string) string {
	return findByPrefix(t, cdktest.OfType(all, "AWS::Lambda::Function"), prefix)
}

func findKey(t *testing.T, all map[string]cdktest.Resource, prefix string) string {
	return findByPrefix(t, cdktest.OfType(all, "AWS::KMS::Key"), prefix)
}

func findByPrefix(t *testing.T, rs map[string]cdktest.Resource, prefix string) string {
	t.Helper()
	var ids []string
	for id := range rs {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	require.Len(t, ids, 1, "logical ids starting with %s", prefix)
	return ids[0]
}

func TestGrants(t *testing.T) {
	// The Service Authorization Reference's FHIR data-plane actions on the
	// datastore resource type; no control-plane action (DescribeFHIRDatastore)
	// comes with reading the data.
	readActions := []string{"healthlake:ReadResource", "healthlake:SearchWithGet", "healthlake:SearchWithPost", "healthlake:GetCapabilities"}
	readWriteActions := append(slices.Clone(readActions), "healthlake:CreateResource", "healthlake:UpdateResource", "healthlake:DeleteResource")
	for name, c := range map[string]struct {
		readWrite  bool
		withKey    bool
		fhir       []string
		kmsActions []string
	}{
		"read, AWS-owned key":              {false, false, readActions, nil},
		"read, customer-managed key":       {false, true, readActions, []string{"kms:DescribeKey", "kms:Decrypt"}},
		"read-write, AWS-owned key":        {true, false, readWriteActions, nil},
		"read-write, customer-managed key": {true, true, readWriteActions, []string{"kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"}},
	} {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			props := minimalProps(newIdp(stack, nil))
			if c.withKey {
				props.EncryptionKey = awskms.NewKey(stack, jsii.String("DataKey"), nil)
			}
			ds := datastore.NewSmartDatastore(stack, jsii.String("Datastore"), props)
			caller := awsiam.NewRole(stack, jsii.String("Caller"), &awsiam.RoleProps{
				AssumedBy: awsiam.NewAccountPrincipal(jsii.String(cdktest.Account)),
			})
			var g awsiam.Grant
			if c.readWrite {
				g = ds.GrantReadWrite(caller)
			} else {
				g = ds.GrantRead(caller)
			}
			require.True(t, *g.Success())

			all := cdktest.Resources(t, cdktest.Template(t, stack))
			crID, _ := cdktest.Only(t, all, datastore.ResourceType)
			got := cdktest.RoleStatements(t, all, findByPrefix(t, cdktest.OfType(all, "AWS::IAM::Role"), "Caller"))
			var fhir, kms []cdktest.Statement
			for _, s := range got {
				if strings.HasPrefix(s.Actions[0], "kms:") {
					kms = append(kms, s)
				} else {
					fhir = append(fhir, s)
				}
			}
			require.Len(t, fhir, 1)
			require.ElementsMatch(t, c.fhir, fhir[0].Actions)
			require.Equal(t, []any{cdktest.GetAtt(crID, "DatastoreArn")}, fhir[0].Resources, "this data store only")
			if !c.withKey {
				require.Empty(t, kms)
				return
			}
			require.Len(t, kms, 1)
			require.ElementsMatch(t, c.kmsActions, kms[0].Actions)
			require.Equal(t, []any{cdktest.GetAtt(findKey(t, all, "DataKey"), "Arn")}, kms[0].Resources)
			require.Equal(t, map[string]any{"StringEquals": viaHealthLake}, kms[0].Condition)
		})
	}
}

func TestInvalidPropsPanicNamingTheProp(t *testing.T) {
	for name, c := range map[string]struct {
		change func(p *datastore.SmartDatastoreProps)
		want   string
	}{
		"no props":                 {func(p *datastore.SmartDatastoreProps) { *p = datastore.SmartDatastoreProps{} }, "props.DatastoreName is required"},
		"missing DatastoreName":    {func(p *datastore.SmartDatastoreProps) { p.DatastoreName = nil }, "props.DatastoreName is required"},
		"invalid DatastoreName":    {func(p *datastore.SmartDatastoreProps) { p.DatastoreName = jsii.String("bad#name") }, "props.DatastoreName must be"},
		"missing Endpoints":        {func(p *datastore.SmartDatastoreProps) { p.Endpoints = nil }, "props.Endpoints is required"},
		"missing Issuer":           {func(p *datastore.SmartDatastoreProps) { p.Endpoints.Issuer = nil }, "props.Endpoints.Issuer is required"},
		"missing JwksUri":          {func(p *datastore.SmartDatastoreProps) { p.Endpoints.JwksUri = jsii.String("") }, "props.Endpoints.JwksUri is required"},
		"missing TokenEndpoint":    {func(p *datastore.SmartDatastoreProps) { p.Endpoints.TokenEndpoint = nil }, "props.Endpoints.TokenEndpoint is required"},
		"missing AuthorizationEnd": {func(p *datastore.SmartDatastoreProps) { p.Endpoints.AuthorizationEndpoint = nil }, "props.Endpoints.AuthorizationEndpoint is required"},
		"http TokenEndpoint": {func(p *datastore.SmartDatastoreProps) {
			p.Endpoints.TokenEndpoint = jsii.String("http://example.okta.com/oauth2/aus1/v1/token")
		}, "props.Endpoints.TokenEndpoint must be an absolute https URL"},
		"http optional endpoint": {func(p *datastore.SmartDatastoreProps) {
			p.Endpoints.RevocationEndpoint = jsii.String("http://example.okta.com/revoke")
		}, "props.Endpoints.RevocationEndpoint must be an absolute https URL"},
		"missing IdpFunction": {func(p *datastore.SmartDatastoreProps) { p.IdpFunction = nil }, "props.IdpFunction is required"},
		"bad SmartVersion":    {func(p *datastore.SmartDatastoreProps) { p.SmartVersion = "v3" }, `props.SmartVersion must be smart.V1 or smart.V2, got "v3"`},
		"snapshot policy":     {func(p *datastore.SmartDatastoreProps) { p.RemovalPolicy = awscdk.RemovalPolicy_SNAPSHOT }, `props.RemovalPolicy must be awscdk.RemovalPolicy_RETAIN or awscdk.RemovalPolicy_DESTROY, got "SNAPSHOT"`},
		"retain-on-update": {func(p *datastore.SmartDatastoreProps) {
			p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN_ON_UPDATE_OR_DELETE
		}, "props.RemovalPolicy must be"},
		"aws: tag": {func(p *datastore.SmartDatastoreProps) { p.Tags = &map[string]*string{"aws:x": jsii.String("y")} }, `props.Tags["aws:x"]: the key must not start with aws:`},
		"handler tag": {func(p *datastore.SmartDatastoreProps) {
			p.Tags = &map[string]*string{datastoreprops.TagPrefix + "stack-id": jsii.String("y")}
		}, `props.Tags["smart-healthlake:stack-id"]: the key must not start with smart-healthlake:`},
		"tag value HealthLake refuses": {func(p *datastore.SmartDatastoreProps) { p.Tags = &map[string]*string{"team": jsii.String("a&b")} }, `props.Tags["team"]: the value must be`},
		"v2 scope on a SMART v1 data store": {func(p *datastore.SmartDatastoreProps) {
			p.SmartVersion = smart.V1
			p.ScopesSupported = jsii.Strings("openid", "patient/Observation.rs")
		}, `props.ScopesSupported[1]: "patient/Observation.rs" is a SMART v2 scope`},
		"GovCloud IdP function": {func(p *datastore.SmartDatastoreProps) {
			p.IdpFunction = awslambda.Function_FromFunctionArn(p.IdpFunction.(awslambda.Function).Stack(), jsii.String("GovIdp"),
				jsii.String("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:smart-idp"))
		}, "props.IdpFunction must be a Lambda function ARN"},
		"key ARN without a region": {func(p *datastore.SmartDatastoreProps) {
			p.EncryptionKey = awskms.Key_FromKeyArn(p.IdpFunction.(awslambda.Function).Stack(), jsii.String("Key"),
				jsii.String("arn:aws:kms:eu:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"))
		}, "props.EncryptionKey must be a KMS key ARN"},
		"scope with a space": {func(p *datastore.SmartDatastoreProps) { p.ScopesSupported = jsii.Strings("openid profile") }, "props.ScopesSupported[0]"},
		"too many tags": {func(p *datastore.SmartDatastoreProps) {
			tags := map[string]*string{}
			for i := range datastoreprops.MaxUserTags + 1 {
				tags[fmt.Sprintf("tag-%03d", i)] = jsii.String("v")
			}
			p.Tags = &tags
		}, fmt.Sprintf("props.Tags: at most %d tags, got %d", datastoreprops.MaxUserTags, datastoreprops.MaxUserTags+1)},
	} {
		t.Run(name, func(t *testing.T) {
			stack := newStack(t)
			props := minimalProps(newIdp(stack, nil))
			c.change(props)
			cdktest.PanicsNaming(t, func() { datastore.NewSmartDatastore(stack, jsii.String("Datastore"), props) },
				"datastore.NewSmartDatastore(Datastore)", c.want)
		})
	}
	t.Run("every problem is reported at once", func(t *testing.T) {
		stack := newStack(t)
		msg := cdktest.Panics(t, func() {
			datastore.NewSmartDatastore(stack, jsii.String("Datastore"), &datastore.SmartDatastoreProps{SmartVersion: "v3"})
		})
		for _, want := range []string{"props.DatastoreName", "props.SmartVersion", "props.Endpoints", "props.IdpFunction"} {
			require.Contains(t, msg, want)
		}
	})
}

func TestTokensAreLeftToTheHandler(t *testing.T) {
	stack := newStack(t)
	issuer := awscdk.NewCfnParameter(stack, jsii.String("Issuer"), nil).ValueAsString()
	props := minimalProps(newIdp(stack, nil))
	props.Endpoints.Issuer = issuer
	props.DatastoreName = awscdk.NewCfnParameter(stack, jsii.String("Name"), nil).ValueAsString()
	datastore.NewSmartDatastore(stack, jsii.String("Datastore"), props)
	all := cdktest.Resources(t, cdktest.Template(t, stack))
	_, cr := cdktest.Only(t, all, datastore.ResourceType)
	require.Equal(t, cdktest.Ref("Issuer"), cr.Properties[datastoreprops.PropIssuer])
	require.Equal(t, cdktest.Ref("Name"), cr.Properties[datastoreprops.PropDatastoreName])
}

// TestTheWiringHasNoDependencyCycle reproduces the real wiring: the token
// validator's environment holds the service role's ARN, the data store depends
// on the token validator, and the role's trust names the data store's ARN.
func TestTheWiringHasNoDependencyCycle(t *testing.T) {
	stack := newStack(t)
	key := awskms.NewKey(stack, jsii.String("DataKey"), nil)
	role := servicerole.NewServiceRole(stack, jsii.String("ServiceRole"), &servicerole.ServiceRoleProps{EncryptionKey: key})
	idp := newIdp(stack, &map[string]*string{"HEALTHLAKE_ROLE_ARN": role.RoleArn()})
	props := minimalProps(idp)
	props.EncryptionKey = key
	ds := datastore.NewSmartDatastore(stack, jsii.String("Datastore"), props)
	role.BindDatastore(ds.DatastoreArn())

	all := cdktest.Resources(t, cdktest.Template(t, stack)) // a cycle fails synthesis here
	crID, cr := cdktest.Only(t, all, datastore.ResourceType)
	require.Contains(t, cr.DependsOn, findFunction(t, all, "Idp"))
	var trusted bool
	for id, r := range cdktest.OfType(all, "AWS::IAM::Role") {
		if !strings.HasPrefix(id, "ServiceRole") {
			continue
		}
		raw, _ := json.Marshal(r.Properties["AssumeRolePolicyDocument"])
		require.Contains(t, string(raw), `{"Fn::GetAtt":["`+crID+`","DatastoreArn"]}`)
		trusted = true
	}
	require.True(t, trusted)
}

func TestTheConstructIsAJsiiObject(t *testing.T) {
	// Users pass constructs to Tags_Of, NagSuppressions and as scopes: that only
	// works when the Go struct itself is the jsii object.
	stack := newStack(t)
	ds := datastore.NewSmartDatastore(stack, jsii.String("Datastore"), minimalProps(newIdp(stack, nil)))
	awscdk.Tags_Of(ds).Add(jsii.String("Team"), jsii.String("fhir"), nil)
	require.Equal(t, "S", *awscdk.Stack_Of(ds).Node().Id())
	awscdk.NewCfnOutput(ds, jsii.String("Endpoint"), &awscdk.CfnOutputProps{Value: ds.DatastoreEndpoint()})
	tpl := cdktest.Template(t, stack)
	cdktest.Try(t, func() {
		tpl.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Environment": map[string]any{"Variables": map[string]any{"HANDLER_MODE": "onEvent"}},
			"Tags":        []any{map[string]any{"Key": "Team", "Value": "fhir"}},
		})
		tpl.HasOutput(jsii.String("*"), map[string]any{"Value": cdktest.GetAtt("Datastore9B7A2529", "DatastoreEndpoint")})
	})
}

// TestNagFindingsAreFixedOrExcused runs cdk-nag's HIPAA and AWS Solutions packs:
// every finding on the construct is fixed or suppressed with a reason, except
// HIPAA.Security-IAMNoInlinePolicy on CDK's role policies, a project-wide
// choice left to the app (suppressed here at stack level, as the app would).
func TestNagFindingsAreFixedOrExcused(t *testing.T) {
	stack := newStack(t)
	idp := newIdp(stack, nil)
	props := minimalProps(idp)
	key := awskms.NewKey(stack, jsii.String("DataKey"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	props.EncryptionKey = key
	datastore.NewSmartDatastore(stack, jsii.String("Datastore"), props)

	excuse := func(ids ...string) *[]*cdknag.NagPackSuppression {
		var out []*cdknag.NagPackSuppression
		for _, id := range ids {
			out = append(out, &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String("test fixture, not under test")})
		}
		return &out
	}
	cdknag.NagSuppressions_AddResourceSuppressions(idp, excuse("AwsSolutions-IAM4", "AwsSolutions-L1",
		"HIPAA.Security-LambdaConcurrency", "HIPAA.Security-LambdaDLQ", "HIPAA.Security-LambdaInsideVPC",
		"HIPAA.Security-CloudWatchLogGroupEncrypted"), jsii.Bool(true))
	cdktest.SuppressInStack(stack, "left to the app: a project-wide decision on CDK's inline role policies",
		"HIPAA.Security-IAMNoInlinePolicy")
	cdktest.ApplyNagPacks(stack)

	require.Empty(t, cdktest.NagFindings(t, stack))
	var ours []cdktest.Suppression
	for _, s := range cdktest.Suppressions(t, cdktest.Template(t, stack)) {
		if strings.HasPrefix(s.Resource, "Datastore") {
			ours = append(ours, s)
		}
	}
	require.NotEmpty(t, ours)
	cdktest.RequireJustified(t, ours)
}
