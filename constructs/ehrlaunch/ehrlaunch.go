// Package ehrlaunch provides SMART App Launch's EHR launch in front of Okta:
// the lambda/ehrlaunch function behind an API Gateway REST API (the
// launch-context API for EHRs, the authorize proxy and its callback, Okta's
// token inline hook, the token proxy) and the DynamoDB table of launch
// contexts and authorization transactions.
//
// Wiring it into a deployment (what this construct does not do itself): the
// Okta custom resource registers HookUrl() as a token inline hook with the
// header secret HookSecret() on the user-facing policy rule and adds
// CallbackUrl() to each launched app's redirect URIs; the SMART configuration
// advertises AuthorizeUrl() and TokenUrl() with the launch-ehr capabilities;
// the token validator runs with SMART_EHR_LAUNCH=true; with BackendClients,
// the Okta custom resource registers AssertionKey()'s public half on those
// services' clients (oktaauth's ProxyAssertionKey). The function's
// environment is contract/ehrlaunchenv's.
package ehrlaunch

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/golambda"
	"github.com/openhealthstack/smart-healthlake/internal/logkey"
	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

// Entry is the function's main package in this module.
const Entry = "lambda/ehrlaunch"

// StageName is the API's stage.
const StageName = "smart"

// App is a SMART app the proxy may launch.
type App struct {
	// ClientId is the app's Okta client id. A deploy-time value (the Okta
	// custom resource's attribute) counts as ClientIdAllowance bytes in the
	// environment's size check. Required.
	ClientId *string
	// RedirectUris are the app's own redirect URIs. Required, at least one.
	RedirectUris *[]*string
	// PatientPicker sends the app's standalone launch/patient requests (no
	// EHR launch) through the proxy's patient picker for clinicians: the
	// user enters a patient id before Okta's sign-in, and the token hook
	// adds it only for a signed-in Practitioner or PractitionerRole.
	// Default: false.
	PatientPicker *bool
}

// EhrLaunchProps configures an EhrLaunch.
type EhrLaunchProps struct {
	// OktaIssuer is the Okta custom authorization server's issuer. Required.
	OktaIssuer *string
	// FhirEndpoint is the data store endpoint: the only aud accepted. Required.
	FhirEndpoint *string
	// Apps are the SMART apps EHRs may launch. Required, at least one.
	Apps *[]*App
	// EhrRoles may register launch contexts (SigV4, execute-api:Invoke on
	// POST /launch); the function accepts their sessions only. Required, at
	// least one.
	EhrRoles *[]awsiam.IRole
	// HookSecret holds the value Okta sends in the token hook's Authorization
	// header. Default: a new generated secret.
	HookSecret awssecretsmanager.ISecret
	// CorsOrigins are browser origins (https://host) allowed to call the
	// token endpoint. Default: none.
	CorsOrigins *[]*string
	// LaunchLifetime is how long a launch id is valid, in whole seconds from
	// 1 second to 5 minutes (ehrlaunchenv.MaxLaunchLifetime).
	// Default: 5 minutes.
	LaunchLifetime awscdk.Duration
	// EncryptionKey encrypts the table and the logs. Default: a new KMS key.
	EncryptionKey awskms.IKey
	// LogRetention of the function's and the API's log groups. Default: one year.
	LogRetention awslogs.RetentionDays
	// ReservedConcurrentExecutions caps the function. Default: 20.
	ReservedConcurrentExecutions *float64
	// BackendClients are SMART backend services whose client_credentials
	// requests go through the token proxy (see BackendClient). With any, the
	// construct creates AssertionKey() and lets the function sign with it;
	// their JWKS count against Lambda's 4 KB environment limit, checked at
	// synthesis (EstimateEnvironment). Default: none (no assertion key; a
	// backend service's client_credentials request to the proxy is refused).
	BackendClients *[]*BackendClient
}

// EhrLaunch is the EHR launch API, its function and its table.
type EhrLaunch struct {
	constructs.Construct
	api      awsapigateway.RestApi
	function awslambda.Function
	table    awsdynamodb.Table
	secret   awssecretsmanager.ISecret
	baseURL  *string
	// assertionKey is nil without backend clients.
	assertionKey awskms.Key
}

// NewEhrLaunch creates the resources. It panics, naming the prop, on invalid props.
func NewEhrLaunch(scope constructs.Construct, id *string, props *EhrLaunchProps) *EhrLaunch {
	if err := validate(props); err != nil {
		panic(fmt.Sprintf("ehrlaunch.NewEhrLaunch(%s): %v", *id, err))
	}
	jwks, err := backendClients(props)
	if err != nil {
		panic(fmt.Sprintf("ehrlaunch.NewEhrLaunch(%s): %v", *id, err))
	}
	// Before anything is made: the estimate needs only the props.
	size := estimateEnvironment(awscdk.Stack_Of(scope), props, jwks)
	if !size.Fits() {
		panic(fmt.Sprintf("ehrlaunch.NewEhrLaunch(%s): %s", *id, size.Explain(names(props))))
	}
	e := &EhrLaunch{}
	constructs.NewConstruct_Override(e, scope, id)
	this := e
	stack := awscdk.Stack_Of(this)

	key := props.EncryptionKey
	if key == nil {
		key = logkey.New(this, jsii.String("Key"), jsii.String("Encrypts the EHR launch table and logs"))
	} else {
		logkey.AllowLogs(key)
	}
	retention := props.LogRetention
	if retention == "" {
		retention = awslogs.RetentionDays_ONE_YEAR
	}

	e.table = awsdynamodb.NewTable(this, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String("expires_at"),
		Encryption:          awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey:       key,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// Items live minutes (launches, transactions) or until a refresh token
		// expires; nothing in it outlives the deployment's purpose.
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	nagexcuse.On(e.table, false, []nagexcuse.Excuse{{
		Rule: "HIPAA.Security-DynamoDBInBackupPlan",
		Reason: "The table holds short-lived launch contexts and authorization transactions keyed by hashes of " +
			"single-use secrets; point-in-time recovery is on, and restoring an old backup would only resurrect expired launches " +
			"that the code refuses anyway.",
	}}...)

	e.secret = props.HookSecret
	if e.secret == nil {
		e.secret = awssecretsmanager.NewSecret(this, jsii.String("HookSecret"), &awssecretsmanager.SecretProps{
			Description:   jsii.String("Authorization header value Okta sends to the EHR launch token inline hook"),
			EncryptionKey: key,
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				PasswordLength: jsii.Number(48), ExcludePunctuation: jsii.Bool(true),
			},
		})
		rotation := "The hook secret is also registered in Okta's InlineHook; a rotation must update both at once, " +
			"which the Okta custom resource does on its next update rather than a rotation Lambda."
		nagexcuse.On(e.secret, false, []nagexcuse.Excuse{
			{Rule: "AwsSolutions-SMG4", Reason: rotation},
			{Rule: "HIPAA.Security-SecretsManagerRotationEnabled", Reason: rotation},
		}...)
	}

	api := awsapigateway.NewRestApi(this, jsii.String("Api"), &awsapigateway.RestApiProps{
		Description:    jsii.String("SMART EHR launch: launch contexts, authorize proxy, callback, Okta token hook, token proxy"),
		EndpointTypes:  &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL},
		CloudWatchRole: jsii.Bool(true),
		Deploy:         jsii.Bool(true),
		DeployOptions:  e.stageOptions(key, retention),
	})
	e.api = api
	e.baseURL = awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("https://"), api.RestApiId(), jsii.String(".execute-api."), stack.Region(), jsii.String("."),
		stack.UrlSuffix(), jsii.String("/" + StageName),
	})

	logs := awslogs.NewLogGroup(this, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention: retention, EncryptionKey: key, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	concurrency := props.ReservedConcurrentExecutions
	if concurrency == nil {
		concurrency = jsii.Number(20)
	}
	env := map[string]*string{
		ehrlaunchenv.EnvTable:         e.table.TableName(),
		ehrlaunchenv.EnvOktaIssuer:    props.OktaIssuer,
		ehrlaunchenv.EnvFHIRAudience:  props.FhirEndpoint,
		ehrlaunchenv.EnvPublicURL:     e.baseURL,
		ehrlaunchenv.EnvClients:       clientsJSON(stack, props.Apps),
		ehrlaunchenv.EnvHookSecretARN: e.secret.SecretArn(),
	}
	var arns []*string
	for _, r := range *props.EhrRoles {
		arns = append(arns, r.RoleArn())
	}
	env[ehrlaunchenv.EnvEHRPrincipals] = awscdk.Fn_Join(jsii.String(","), &arns)
	if props.CorsOrigins != nil && len(*props.CorsOrigins) > 0 {
		env[ehrlaunchenv.EnvCORSOrigins] = awscdk.Fn_Join(jsii.String(","), props.CorsOrigins)
	}
	if props.LaunchLifetime != nil {
		env[ehrlaunchenv.EnvLaunchSeconds] = jsii.String(fmt.Sprint(*props.LaunchLifetime.ToSeconds(nil)))
	}
	if jwks != nil {
		key := e.newAssertionKey()
		e.assertionKey = key
		env[ehrlaunchenv.EnvAssertionKeyARN] = key.KeyArn()
		env[ehrlaunchenv.EnvBackendClients] = backendClientsJSON(stack, *props.BackendClients, jwks)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(env)), slices.Sorted(maps.Keys(size.Variables))) {
		// The estimate mirrors this function's environment variable by variable.
		panic(fmt.Sprintf("ehrlaunch.NewEhrLaunch(%s): the size estimate's variables %v are not the environment's %v", *id,
			slices.Sorted(maps.Keys(size.Variables)), slices.Sorted(maps.Keys(env))))
	}
	e.function = golambda.NewGoFunction(this, jsii.String("Function"), &golambda.GoFunctionProps{
		Entry: jsii.String(Entry),
		Options: &awslambda.FunctionOptions{
			Description:                  jsii.String("SMART EHR launch: launch contexts, authorize and token proxies, Okta token hook"),
			MemorySize:                   jsii.Number(256),
			Timeout:                      awscdk.Duration_Seconds(jsii.Number(10)),
			ReservedConcurrentExecutions: concurrency,
			Environment:                  &env,
			LogGroup:                     logs,
		},
	})
	// Only the item operations the store performs (launchstore).
	e.table.Grant(e.function, jsii.String("dynamodb:PutItem"), jsii.String("dynamodb:GetItem"),
		jsii.String("dynamodb:DeleteItem"), jsii.String("dynamodb:UpdateItem"))
	key.GrantEncryptDecrypt(e.function)
	e.secret.GrantRead(e.function, nil)
	if e.assertionKey != nil {
		// Sign the assertions to Okta and read the public half for their kid;
		// nothing else with this key. The key policy leaves both to IAM for
		// the role (its account statement) and denies Sign to everyone else
		// (denySign).
		e.assertionKey.Grant(e.function, jsii.String("kms:Sign"), jsii.String("kms:GetPublicKey"))
		denySign(e.assertionKey, e.function.Role())
	}
	nagexcuse.On(e.function, true, []nagexcuse.Excuse{
		{
			Rule: "HIPAA.Security-LambdaDLQ",
			Reason: "API Gateway invokes the function synchronously for browsers, EHRs and Okta's hook, which all read " +
				"its answer; a dead-letter queue only receives failed asynchronous invocations, so it would never receive anything.",
		},
		{
			Rule: "HIPAA.Security-LambdaInsideVPC",
			Reason: "The function calls only Okta's public token endpoint and DynamoDB and Secrets Manager over TLS " +
				"with IAM; a VPC would need a NAT gateway for Okta and isolate nothing, while adding cold-start latency inside " +
				"Okta's 3-second hook timeout.",
		},
	}...)
	// golambda puts the role beside the function.
	nagexcuse.On(e.function.Role(), true, []nagexcuse.Excuse{{
		Rule: "AwsSolutions-IAM5",
		Reason: "CDK's encrypt/decrypt grant on the one key of the table and the hook secret: the ReEncrypt* and " +
			"GenerateDataKey* action families DynamoDB uses for a customer-managed key, on that key's ARN only.",
		AppliesTo: []any{"Action::kms:ReEncrypt*", "Action::kms:GenerateDataKey*"},
	}}...)

	integration := awsapigateway.NewLambdaIntegration(e.function, &awsapigateway.LambdaIntegrationOptions{Proxy: jsii.Bool(true)})
	root := api.Root()
	launch := root.AddResource(route(ehrlaunchenv.PathLaunch), nil).AddMethod(jsii.String("POST"), integration, &awsapigateway.MethodOptions{
		AuthorizationType: awsapigateway.AuthorizationType_IAM,
	})
	open := map[string]string{
		ehrlaunchenv.PathAuthorize: "GET", ehrlaunchenv.PathCallback: "GET", ehrlaunchenv.PathHook: "POST",
		ehrlaunchenv.PathToken: "POST", ehrlaunchenv.PathIntrospect: "POST", ehrlaunchenv.PathPicker: "POST",
	}
	var openMethods []awsapigateway.Method
	for _, path := range slices.Sorted(maps.Keys(open)) {
		m := root.AddResource(route(path), nil).AddMethod(jsii.String(open[path]), integration, &awsapigateway.MethodOptions{
			AuthorizationType: awsapigateway.AuthorizationType_NONE,
		})
		openMethods = append(openMethods, m)
	}
	tokenOptions := api.Root().GetResource(route(ehrlaunchenv.PathToken)).AddMethod(jsii.String("OPTIONS"), integration, &awsapigateway.MethodOptions{
		AuthorizationType: awsapigateway.AuthorizationType_NONE,
	})
	openMethods = append(openMethods, tokenOptions)
	for _, m := range openMethods {
		nagexcuse.On(m, false, []nagexcuse.Excuse{
			{
				Rule: "AwsSolutions-APIG4",
				Reason: "An OAuth endpoint called by browsers (authorize, callback, the patient picker's form, CORS " +
					"preflight), by clients with " +
					"their own client authentication (token, introspect: checked by Okta) or by Okta with the hook's header " +
					"secret, compared in constant time by the function; API Gateway has no authorizer for these callers.",
			},
			{
				Rule:   "AwsSolutions-COG4",
				Reason: "The callers are not Cognito users: see AwsSolutions-APIG4 on this method.",
			},
		}...)
	}
	nagexcuse.On(launch, false, []nagexcuse.Excuse{{
		Rule: "AwsSolutions-COG4",
		Reason: "POST /launch uses IAM authorization: EHRs are AWS principals signing with SigV4 (GrantLaunch), " +
			"not Cognito users, and the function checks the caller against the configured EHR roles.",
	}}...)
	nagexcuse.On(api, true, []nagexcuse.Excuse{
		{
			Rule: "AwsSolutions-APIG2",
			Reason: "Every route validates its own input in the function (OAuth parameters, the launch context " +
				"schema, the hook payload) and answers in the protocol's error format, which a request validator's 400 would not.",
		},
		{
			Rule: "AwsSolutions-APIG3",
			Reason: "A WAF web ACL is an account-level choice left to the deployment; the routes hold no data an " +
				"unauthenticated caller can read and the function's reserved concurrency bounds a flood.",
		},
		{
			Rule: "HIPAA.Security-APIGWSSLEnabled",
			Reason: "The backend is a Lambda integration, not an HTTP endpoint: there is no backend TLS connection " +
				"for a client certificate to authenticate.",
		},
		{
			Rule: "HIPAA.Security-APIGWCacheEnabledAndEncrypted",
			Reason: "Caching is off on purpose: every answer is single-use (launch ids, codes, tokens) and sent " +
				"with Cache-Control: no-store.",
		},
		{
			Rule: "AwsSolutions-IAM4",
			Reason: "API Gateway's account-level CloudWatch role uses the AWS managed " +
				"AmazonAPIGatewayPushToCloudWatchLogs policy, the documented set-up for execution logs.",
			AppliesTo: []any{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"},
		},
	}...)

	for _, r := range *props.EhrRoles {
		e.GrantLaunch(r)
	}
	return e
}

func (e *EhrLaunch) stageOptions(key awskms.IKey, retention awslogs.RetentionDays) *awsapigateway.StageOptions {
	access := awslogs.NewLogGroup(e, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention: retention, EncryptionKey: key, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	return &awsapigateway.StageOptions{
		StageName:            jsii.String(StageName),
		AccessLogDestination: awsapigateway.NewLogGroupLogDestination(access),
		// No query strings or bodies: the launch id, codes and states travel
		// there. The standard fields log the path only.
		AccessLogFormat: awsapigateway.AccessLogFormat_JsonWithStandardFields(&awsapigateway.JsonWithStandardFieldProps{
			Caller: jsii.Bool(true), HttpMethod: jsii.Bool(true), Ip: jsii.Bool(true), Protocol: jsii.Bool(true),
			RequestTime: jsii.Bool(true), ResourcePath: jsii.Bool(true), ResponseLength: jsii.Bool(true),
			Status: jsii.Bool(true), User: jsii.Bool(true),
		}),
		LoggingLevel:     awsapigateway.MethodLoggingLevel_ERROR,
		DataTraceEnabled: jsii.Bool(false), // full request logs would hold tokens and launch ids
		TracingEnabled:   jsii.Bool(true),
		MetricsEnabled:   jsii.Bool(true),
	}
}

// GrantLaunch gives grantee the IAM permission to call POST /launch
// (execute-api:Invoke). The function still accepts only sessions of EhrRoles,
// which get this grant already.
func (e *EhrLaunch) GrantLaunch(grantee awsiam.IGrantable) awsiam.Grant {
	return awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings("execute-api:Invoke"),
		ResourceArns: jsii.Strings(*e.api.ArnForExecuteApi(jsii.String("POST"), jsii.String(ehrlaunchenv.PathLaunch), jsii.String(StageName))),
	})
}

// Function is the EHR launch function.
func (e *EhrLaunch) Function() awslambda.Function { return e.function }

// Table is the table of launch contexts and transactions.
func (e *EhrLaunch) Table() awsdynamodb.Table { return e.table }

// Api is the REST API.
func (e *EhrLaunch) Api() awsapigateway.RestApi { return e.api }

// AssertionKey is the KMS key (RSA_2048, SIGN_VERIFY) the token proxy signs
// its client assertions to Okta with for props.BackendClients. Its key
// policy denies kms:Sign to every principal but the function's role (an
// explicit deny, which IAM policies and grants cannot lift); IAM policies of
// the account grant every other action (GetPublicKey to the Okta custom
// resource's handler, for one) as with the default policy. The Okta
// custom resource registers its public half on their clients
// (oktaauth.SmartAuthorizationServerProps.ProxyAssertionKey). Nil without
// backend clients.
func (e *EhrLaunch) AssertionKey() awskms.IKey { return e.assertionKey }

// HookSecret holds the token hook's header secret (for the Okta custom resource).
func (e *EhrLaunch) HookSecret() awssecretsmanager.ISecret { return e.secret }

// BaseUrl is the API's stage URL, without a trailing slash; the routes are
// beneath it.
func (e *EhrLaunch) BaseUrl() *string { return e.baseURL }

// LaunchUrl is the EHRs' POST /launch.
func (e *EhrLaunch) LaunchUrl() *string { return e.url(ehrlaunchenv.PathLaunch) }

// AuthorizeUrl is the SMART configuration's authorization_endpoint.
func (e *EhrLaunch) AuthorizeUrl() *string { return e.url(ehrlaunchenv.PathAuthorize) }

// TokenUrl is the SMART configuration's token_endpoint.
func (e *EhrLaunch) TokenUrl() *string { return e.url(ehrlaunchenv.PathToken) }

// CallbackUrl must be a redirect URI of every launched app in Okta.
func (e *EhrLaunch) CallbackUrl() *string { return e.url(ehrlaunchenv.PathCallback) }

// IntrospectUrl is the SMART configuration's introspection_endpoint (RFC 7662,
// with the launch context echoed).
func (e *EhrLaunch) IntrospectUrl() *string { return e.url(ehrlaunchenv.PathIntrospect) }

// HookUrl is the token inline hook's channel URI.
func (e *EhrLaunch) HookUrl() *string { return e.url(ehrlaunchenv.PathHook) }

// route is the API resource's path part of one of the function's paths.
func route(path string) *string { return jsii.String(strings.TrimPrefix(path, "/")) }

func (e *EhrLaunch) url(path string) *string {
	return awscdk.Fn_Join(jsii.String(""), &[]*string{e.baseURL, jsii.String(path)})
}

func validate(p *EhrLaunchProps) error {
	switch {
	case p == nil:
		return fmt.Errorf("props are required")
	case p.OktaIssuer == nil || *p.OktaIssuer == "":
		return fmt.Errorf("props.OktaIssuer is required")
	case p.FhirEndpoint == nil || *p.FhirEndpoint == "":
		return fmt.Errorf("props.FhirEndpoint is required")
	case p.Apps == nil || len(*p.Apps) == 0:
		return fmt.Errorf("props.Apps needs at least one app")
	case p.EhrRoles == nil || len(*p.EhrRoles) == 0:
		return fmt.Errorf("props.EhrRoles needs at least one role: no EHR could register a launch")
	}
	for i, a := range *p.Apps {
		if a == nil || a.ClientId == nil || *a.ClientId == "" {
			return fmt.Errorf("props.Apps[%d].ClientId is required", i)
		}
		if a.RedirectUris == nil || len(*a.RedirectUris) == 0 {
			return fmt.Errorf("props.Apps[%d].RedirectUris needs at least one URI", i)
		}
	}
	if p.LaunchLifetime != nil && !*awscdk.Token_IsUnresolved(p.LaunchLifetime.ToString()) {
		// The function reads whole seconds (ehrlaunchenv.Parse) and refuses to
		// start on anything else.
		s := *p.LaunchLifetime.ToSeconds(&awscdk.TimeConversionOptions{Integral: jsii.Bool(false)})
		if s != math.Trunc(s) || s < ehrlaunchenv.MinLaunchLifetime.Seconds() || s > ehrlaunchenv.MaxLaunchLifetime.Seconds() {
			return fmt.Errorf("props.LaunchLifetime must be whole seconds from %v to %v, not %v seconds",
				ehrlaunchenv.MinLaunchLifetime, ehrlaunchenv.MaxLaunchLifetime, s)
		}
	}
	return nil
}

// clientsJSON renders EHRLAUNCH_CLIENTS (a JSON array of ehrlaunchenv.Client);
// client ids may be tokens (the Okta custom resource's attributes), which
// Stack.ToJsonString resolves at deploy time (as values, never as keys).
func clientsJSON(stack awscdk.Stack, apps *[]*App) *string {
	var list []any
	for _, a := range *apps {
		app := map[string]any{ehrlaunchenv.ClientFieldID: a.ClientId, ehrlaunchenv.ClientFieldRedirectURIs: a.RedirectUris}
		if a.PatientPicker != nil && *a.PatientPicker {
			app[ehrlaunchenv.ClientFieldPatientPicker] = true
		}
		list = append(list, app)
	}
	return stack.ToJsonString(list, nil)
}

// clientsEstimate is EHRLAUNCH_CLIENTS as clientsJSON renders it, with each
// deploy-time client id counted as ClientIdAllowance bytes and any other
// token as TokenAllowance.
func clientsEstimate(apps *[]*App) string {
	var list []ehrlaunchenv.Client
	for _, a := range *apps {
		c := ehrlaunchenv.Client{ClientID: estimate(a.ClientId, ClientIdAllowance), PatientPicker: a.PatientPicker != nil && *a.PatientPicker}
		for _, u := range *a.RedirectUris {
			c.RedirectURIs = append(c.RedirectURIs, estimate(u, TokenAllowance))
		}
		list = append(list, c)
	}
	raw, _ := json.Marshal(list) // strings and bools only
	return string(raw)
}
