// Package smarthealthlake provides SmartHealthLake, the construct most users
// import: a SMART on FHIR HealthLake data store with Okta as its authorization
// server, wired end to end with secure defaults.
//
// The order of the wiring is what makes it deployable in one pass:
//
//  1. the Okta authorization server (custom resource) gives the issuer and endpoints;
//  2. the token-validation Lambda is configured with the issuer, the JWKS URL, the
//     scope version and the service role's ARN (formatted from the role's name, so
//     no dependency on the role resource);
//  3. the HealthLake service role exists, its trust still unbound;
//  4. the SMART data store (custom resource) is created with metadata rendered from
//     the Okta endpoints, the scopes and SMART flows the Okta server serves
//     (its clients, patient claim), and the Lambda (or its
//     provisioned-concurrency alias);
//  5. the Okta audience is set to the data store's endpoint, which exists only now,
//     and the validator told so (TokenValidator.BindAudience);
//  6. the role's trust and permissions are bound to the data store's ARN;
//  7. the operations dashboard watches the validator and the handlers
//     (Dashboard, DashboardUrl).
//
// With EhrLaunch, the EHR launch API (constructs/ehrlaunch) comes first: its
// URLs come from its RestApi id alone, so Okta can take its callback (among
// the launched apps' redirect URIs) and its token hook, and the data store's
// SMART configuration its authorize, token and introspection proxies (with
// the launch-ehr capabilities), while its function reads the issuer, the
// client ids and the data store endpoint lazily, at synthesis: in the
// template the function comes after all three. The validator then requires
// the hook's marker claim (SMART_EHR_LAUNCH), and the discovery check
// compares only Okta's issuer and keys.
//
// With an ExternalAuthorizationServer, step 1 provisions nothing: its props
// give the issuer and endpoints, the validator gets its audiences and token
// rules, and step 5 is skipped (the audience is the server's own setting). In
// both cases the data store handler compares the endpoints with the server's
// live discovery document when it creates or updates the data store.
package smarthealthlake

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/datastore"
	"github.com/openhealthstack/smart-healthlake/constructs/ehrlaunch"
	"github.com/openhealthstack/smart-healthlake/constructs/oktaauth"
	"github.com/openhealthstack/smart-healthlake/constructs/servicerole"
	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/constructs/tokenvalidator"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/internal/logkey"
	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

// SmartHealthLakeProps configures SmartHealthLake. Only OktaOrgUrl and
// OktaCredentialSecret are required, or ExternalAuthorizationServer instead.
type SmartHealthLakeProps struct {
	// OktaOrgUrl is the Okta org, such as https://dev-123456.okta.com. Required
	// unless ExternalAuthorizationServer is set.
	OktaOrgUrl *string
	// OktaCredentialSecret holds the Okta management credential (an API token or
	// a service app's private key; see lambda/oktaauth). Required unless
	// ExternalAuthorizationServer is set.
	OktaCredentialSecret awssecretsmanager.ISecret
	// ExternalAuthorizationServer uses an authorization server you run instead
	// of provisioning one in Okta: then no Okta custom resource, credential or
	// audience binding is made, and OktaOrgUrl, OktaCredentialSecret and
	// AuthorizationServer must be left unset. Default: nil (Okta).
	ExternalAuthorizationServer *ExternalAuthorizationServer
	// AuthorizationServer sets the Okta authorization server (scopes, claims,
	// clients, token lifetimes, ...). The org, its credential, the SMART
	// version and the introspection client are not among these options: they
	// come from OktaOrgUrl, OktaCredentialSecret, SmartVersion and Validation.
	// Audience is refused: the composite binds the audience to the data
	// store endpoint (more audiences go in TokenValidator.Audiences). With
	// EhrLaunch, TokenHookUrl, TokenHookSecret and TokenInlineHookId are
	// refused (EHR launch sets the hook) and the launched clients' redirect
	// URIs gain the proxy's callback. LogRetention, LogEncryptionKey and
	// LogLevel, when set here, take precedence over this construct's
	// LogRetention, log key and LogLevel for the Okta handler's logs.
	// Default: the oktaauth defaults (SMART scopes for the SMART version, no clients).
	AuthorizationServer *oktaauth.SmartAuthorizationServerOptions

	// DatastoreName names the HealthLake data store; it can be changed in place.
	// Default: "<stack name>-fhir" when this is the stack's only
	// SmartHealthLake without a DatastoreName and no other has that name,
	// else "<stack name>-<path>-fhir", the path in the stack with "/" as "-"
	// (Smart, or TeamA-Smart under a construct TeamA), decided at
	// synthesis. Adding a second SmartHealthLake named by default to a stack
	// whose only one relied on the default renames that one's data store (in
	// place; a synthesis warning says so): set DatastoreName to keep a
	// deployed name.
	DatastoreName *string
	// SmartVersion is the SMART version: smart.V1 (SMART_ON_FHIR_V1) or
	// smart.V2 (SMART_ON_FHIR, v1 and v2 scopes); changed in place.
	// Default: smart.V2.
	SmartVersion smart.Version
	// FineGrainedAuthorization limits user-level access to the fhirUser's own
	// patients. Default: true.
	FineGrainedAuthorization *bool
	// EncryptionKey encrypts the data store. Default: a new customer-managed key
	// with rotation, retained on delete (unless AwsOwnedKey).
	EncryptionKey awskms.IKey
	// AwsOwnedKey uses HealthLake's AWS-owned key instead of a customer-managed
	// one. Default: false.
	AwsOwnedKey *bool
	// PreloadSynthea loads synthetic patients at creation (never with real
	// patients' data). Default: false.
	PreloadSynthea *bool
	// RemovalPolicy of the data store: RETAIN keeps it and its data when it leaves
	// the stack, DESTROY deletes it. Default: awscdk.RemovalPolicy_RETAIN.
	RemovalPolicy awscdk.RemovalPolicy
	// AcknowledgeReplacement allows a change HealthLake can't make in place
	// (encryption, preload) to create a new, empty data store. Default: false.
	AcknowledgeReplacement *bool
	// DatastoreTags are set on the data store itself (stack tags don't reach a
	// custom resource). Default: none.
	DatastoreTags *map[string]*string

	// Validation is how the token Lambda checks tokens: validatorenv.ValidationJWT
	// or validatorenv.ValidationIntrospection (which also creates the Okta
	// introspection client and its secret). Default: validatorenv.ValidationJWT.
	Validation validatorenv.Validation
	// TokenValidator tunes the token-validation Lambda: capacity
	// (ProvisionedConcurrency, ReservedConcurrentExecutions, MemorySize,
	// Timeout), token timing (TokenLeeway), introspection (cache TTL, calls
	// per second), extra Audiences, logging (LogLevel: WARN turns its
	// per-request decision lines off, and with them the decision metrics, the
	// denial-rate alarm's data and the decision queries), X-Ray Tracing and
	// alarm thresholds. What the composite wires itself (issuer, keys, role,
	// SMART version, validation mode) is not in the Options.
	// Default: the tokenvalidator defaults, with LogLevel defaulting to this
	// construct's LogLevel.
	TokenValidator *tokenvalidator.TokenValidatorOptions
	// ReadOnly limits the service role HealthLake assumes to reads and searches,
	// whatever scopes a token has. Default: false.
	ReadOnly *bool

	// LogRetention of every log group. Default: awslogs.RetentionDays_ONE_YEAR.
	LogRetention awslogs.RetentionDays
	// AlarmTopic receives the token validator's alarms. Default: a new
	// KMS-encrypted SNS topic (subscribe to it after deploy).
	AlarmTopic awssns.ITopic

	// LogLevel is the application log level of every function (LoggingConfig;
	// the Go code honours it through AWS_LAMBDA_LOG_LEVEL).
	// Default: awslambda.ApplicationLogLevel_INFO.
	LogLevel awslambda.ApplicationLogLevel
	// DashboardName names the CloudWatch operations dashboard (unique in the
	// account, across its regions). Default: "<stack name>-<construct
	// id>-<region>" when this is the stack's only SmartHealthLake without a
	// DashboardName and no other has that name, else
	// "<stack name>-<path>-<region>" as for DatastoreName (the same for
	// composites at the stack's top level); <region> is the stack's region, at
	// deploy time for a stack without one. A new name replaces the dashboard.
	DashboardName *string

	// EhrLaunch turns on SMART's EHR launch in front of Okta (see
	// EhrLaunchOptions); Okta only. Default: nil (off).
	EhrLaunch *EhrLaunchOptions
}

// SmartHealthLake is the whole SMART on FHIR HealthLake set-up.
type SmartHealthLake struct {
	constructs.Construct
	// okta is nil with an external authorization server; auth is either.
	okta       *oktaauth.SmartAuthorizationServer
	auth       authorizationServer
	validator  *tokenvalidator.TokenValidator
	role       *servicerole.ServiceRole
	datastore  *datastore.SmartDatastore
	dataKey    awskms.IKey
	logKey     awskms.IKey
	alarmTopic awssns.ITopic
	dashboard  awscloudwatch.Dashboard
	// ehr is nil unless props.EhrLaunch is set.
	ehr *ehrlaunch.EhrLaunch
	// ehrPicker says some launched app uses the patient picker.
	ehrPicker bool
	// ehrAlarms are the EHR launch alarms, nil without it.
	ehrAlarms []awscloudwatch.Alarm
}

// NewSmartHealthLake creates and wires every part. It panics, naming the prop,
// on invalid props.
func NewSmartHealthLake(scope constructs.Construct, id *string, props *SmartHealthLakeProps) *SmartHealthLake {
	p := withDefaults(props)
	if err := p.validate(); err != nil {
		panic(fmt.Sprintf("smarthealthlake.NewSmartHealthLake(%s): %v", *id, err))
	}
	s := &SmartHealthLake{}
	constructs.NewConstruct_Override(s, scope, id)
	s.markComposite(p)
	if p.DatastoreName == nil {
		p.DatastoreName = s.defaultDatastoreName()
	}
	if p.DashboardName == nil {
		p.DashboardName = s.defaultDashboardName()
	}

	s.logKey = logkey.New(s, jsii.String("LogKey"), jsii.String("Encrypts the SMART HealthLake logs and alarm notifications"))
	if !*p.AwsOwnedKey {
		s.dataKey = p.EncryptionKey
		if s.dataKey == nil {
			s.dataKey = awskms.NewKey(s, jsii.String("DataKey"), &awskms.KeyProps{
				Description:       jsii.String("Encrypts the SMART HealthLake data store"),
				EnableKeyRotation: jsii.Bool(true),
				// Data encrypted with a deleted key is lost: keep it even when the stack goes.
				RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
			})
		}
	}
	s.alarmTopic = p.AlarmTopic
	if s.alarmTopic == nil {
		s.alarmTopic = s.newAlarmTopic()
	}

	// 0. The EHR launch API, whose URLs Okta's clients and hook need; its
	// function reads the issuer, client ids and endpoint lazily.
	if p.EhrLaunch != nil {
		s.ehr = s.newEhrLaunch(p)
		s.ehrPicker = len(p.EhrLaunch.PickerApps) > 0
	}

	// 1. Okta, unless the authorization server is external.
	if x := p.ExternalAuthorizationServer; x != nil {
		s.auth = external{x}
	} else {
		s.okta = s.newOkta(p)
		s.auth = s.okta
	}

	// 3 before 2: the role's ARN is known from its name before anything exists.
	s.role = servicerole.NewServiceRole(s, jsii.String("ServiceRole"), &servicerole.ServiceRoleProps{
		ReadOnly:      p.ReadOnly,
		EncryptionKey: s.dataKey,
	})

	// 2. The token validator.
	validatorProps := &tokenvalidator.TokenValidatorProps{
		TokenValidatorOptions: *p.TokenValidator,
		Issuer:                s.auth.Issuer(),
		JwksUri:               s.auth.JwksUri(),
		ServiceRole: awsiam.Role_FromRoleArn(s, jsii.String("ServiceRoleReference"), s.role.RoleArn(),
			&awsiam.FromRoleArnOptions{Mutable: jsii.Bool(false)}),
		SmartVersion:     p.SmartVersion,
		Validation:       p.Validation,
		LogRetention:     p.LogRetention,
		LogEncryptionKey: s.logKey,
		AlarmAction:      awscloudwatchactions.NewSnsAction(s.alarmTopic),
		EhrLaunch:        jsii.Bool(s.ehr != nil),
	}
	if p.Validation == validatorenv.ValidationIntrospection {
		validatorProps.IntrospectionEndpoint = s.auth.IntrospectionEndpoint()
		validatorProps.IntrospectionSecret = s.auth.IntrospectionSecret()
	}
	if x := p.ExternalAuthorizationServer; x != nil {
		// The server's own audiences, and any the Options add.
		if x.Audiences != nil {
			all := append([]*string{}, *x.Audiences...)
			if extra := validatorProps.Audiences; extra != nil {
				all = append(all, *extra...)
			}
			validatorProps.Audiences = &all
		}
		validatorProps.TokenRules = x.TokenRules
	}
	s.validator = tokenvalidator.NewTokenValidator(s, jsii.String("TokenValidator"), validatorProps)

	// 4. The data store.
	s.datastore = datastore.NewSmartDatastore(s, jsii.String("Datastore"), &datastore.SmartDatastoreProps{
		DatastoreName:            p.DatastoreName,
		SmartVersion:             p.SmartVersion,
		FineGrainedAuthorization: p.FineGrainedAuthorization,
		Endpoints:                s.smartEndpoints(),
		Discovery:                s.discovery(),
		ScopesSupported:          s.auth.ScopesSupported(),
		Support:                  s.smartSupport(),
		IdpFunction:              s.validator.IdpFunction(),
		EncryptionKey:            s.dataKey,
		PreloadSynthea:           p.PreloadSynthea,
		RemovalPolicy:            p.RemovalPolicy,
		AcknowledgeReplacement:   p.AcknowledgeReplacement,
		Tags:                     p.DatastoreTags,
		LogRetention:             p.LogRetention,
		LogEncryptionKey:         s.logKey,
		LogLevel:                 p.LogLevel,
	})

	// 5. and 6. An external server's audience is its own configuration.
	if s.okta != nil {
		s.validator.BindAudience(s.okta.BindAudience(s.datastore.DatastoreEndpoint()))
	} else {
		// The external server's own configuration names the data store
		// endpoint (or one of its Audiences).
		s.validator.BindAudience(nil)
	}
	s.role.BindDatastore(s.datastore.DatastoreArn())

	handlers := map[string]awslambda.IFunction{
		"Data store handler onEvent":    s.datastore.OnEventFunction(),
		"Data store handler isComplete": s.datastore.IsCompleteFunction(),
	}
	order := []string{"Data store handler onEvent", "Data store handler isComplete"}
	if s.okta != nil {
		handlers["Okta handler"] = s.okta.Function()
		order = append([]string{"Okta handler"}, order...)
	}
	s.dashboard = s.newDashboard(p.DashboardName, handlers, order)
	if s.ehr != nil {
		s.ehrAlarms = s.newEhrLaunchAlarms()
	}

	s.suppressNagFindings()
	return s
}

// newOkta provisions the Okta authorization server.
func (s *SmartHealthLake) newOkta(p settings) *oktaauth.SmartAuthorizationServer {
	oktaProps := oktaauth.SmartAuthorizationServerProps{
		OrgUrl:              p.OktaOrgUrl,
		CredentialSecret:    p.OktaCredentialSecret,
		SmartVersion:        p.SmartVersion,
		IntrospectionClient: jsii.Bool(p.Validation == validatorenv.ValidationIntrospection),
	}
	if p.AuthorizationServer != nil {
		oktaProps.SmartAuthorizationServerOptions = *p.AuthorizationServer
	}
	if oktaProps.LogRetention == "" {
		oktaProps.LogRetention = p.LogRetention
	}
	if oktaProps.LogEncryptionKey == nil {
		oktaProps.LogEncryptionKey = s.logKey
	}
	if oktaProps.LogLevel == "" {
		oktaProps.LogLevel = p.LogLevel
	}
	if s.ehr != nil {
		oktaProps.SmartAuthorizationServerOptions = withEhrLaunch(oktaProps.SmartAuthorizationServerOptions, p.ehrLaunchApps(), s.ehr)
		// Nil without backend services through the proxy (see ehrBackendClients).
		oktaProps.ProxyAssertionKey = s.ehr.AssertionKey()
	}
	return oktaauth.NewSmartAuthorizationServer(s, jsii.String("Okta"), &oktaProps)
}

// discovery is the deploy-time check of the endpoints against the live
// discovery document: Okta serves it at the issuer, which the same deployment
// creates and activates before the data store.
func (s *SmartHealthLake) discovery() *smartconfig.Discovery {
	if x, ok := s.auth.(external); ok {
		return x.discovery()
	}
	if s.ehr != nil {
		// The proxies' URLs are not Okta's; its issuer and keys still are.
		return &smartconfig.Discovery{IssuerAndKeysOnly: jsii.Bool(true)}
	}
	return &smartconfig.Discovery{}
}

// smartEndpoints are what the SMART configuration advertises: the
// authorization server's, or with EHR launch its proxies in front of Okta.
func (s *SmartHealthLake) smartEndpoints() *smartconfig.Endpoints {
	if s.ehr != nil {
		return ehrLaunchEndpoints(s.auth.SmartEndpoints(), s.ehr)
	}
	return s.auth.SmartEndpoints()
}

// smartSupport are the SMART flows served: the authorization server's, and
// EHR launch when its proxies are the endpoints.
func (s *SmartHealthLake) smartSupport() *smart.Support {
	support := s.auth.SmartSupport()
	if s.ehr != nil {
		out := *support
		out.EHRLaunch = true
		// The proxy's patient picker gives clinicians' standalone launches
		// a patient (context-standalone-patient) even without Okta's
		// patient claim.
		out.PatientContext = out.PatientContext || s.ehrPicker
		return &out
	}
	return support
}

// newAlarmTopic makes an SNS topic CloudWatch can publish to: encrypted with the
// log key (an AWS-managed SNS key would refuse CloudWatch) and TLS-only.
func (s *SmartHealthLake) newAlarmTopic() awssns.ITopic {
	s.logKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Stack_Of(s).Account()}},
	}), jsii.Bool(true))
	return awssns.NewTopic(s, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("SMART HealthLake alarms"),
		MasterKey:   s.logKey,
		EnforceSSL:  jsii.Bool(true),
	})
}

func (s *SmartHealthLake) suppressNagFindings() {
	nagexcuse.On(s, true, []nagexcuse.Excuse{{
		Rule: "HIPAA.Security-IAMNoInlinePolicy",
		Reason: "Every role here gets least-privilege statements scoped to single resources (one log group, " +
			"one secret, one data store) in an inline policy owned by that role alone; a customer-managed policy would hold " +
			"the same statements but could be attached to other principals, which widens rather than narrows access.",
	}}...)
}

// DatastoreId returns the HealthLake data store id.
func (s *SmartHealthLake) DatastoreId() *string { return s.datastore.DatastoreId() }

// DatastoreArn returns the data store's ARN.
func (s *SmartHealthLake) DatastoreArn() *string { return s.datastore.DatastoreArn() }

// DatastoreEndpoint returns the FHIR base URL (ending with "/").
func (s *SmartHealthLake) DatastoreEndpoint() *string { return s.datastore.DatastoreEndpoint() }

// SmartConfigurationUrl returns the data store's .well-known/smart-configuration URL.
func (s *SmartHealthLake) SmartConfigurationUrl() *string { return s.datastore.SmartConfigurationUrl() }

// Issuer returns the authorization server's issuer.
func (s *SmartHealthLake) Issuer() *string { return s.auth.Issuer() }

// TokenEndpoint returns the authorization server's token endpoint.
func (s *SmartHealthLake) TokenEndpoint() *string { return s.auth.TokenEndpoint() }

// AuthorizationEndpoint returns the authorization server's authorize endpoint.
func (s *SmartHealthLake) AuthorizationEndpoint() *string { return s.auth.AuthorizationEndpoint() }

// Function returns the token-validation Lambda function.
func (s *SmartHealthLake) Function() awslambda.Function { return s.validator.Function() }

// ServiceRole returns the service-role part: the role HealthLake assumes for
// SMART-authorized requests (its Role() and RoleArn()).
func (s *SmartHealthLake) ServiceRole() *servicerole.ServiceRole { return s.role }

// ConfidentialClientId returns the confidential web app's Okta client id ("" when
// none; nil with an external authorization server, whose clients are its own).
func (s *SmartHealthLake) ConfidentialClientId() *string {
	if s.okta == nil {
		return nil
	}
	return s.okta.ConfidentialClientId()
}

// PublicClientId returns the public app's Okta client id ("" when none; nil
// with an external authorization server).
func (s *SmartHealthLake) PublicClientId() *string {
	if s.okta == nil {
		return nil
	}
	return s.okta.PublicClientId()
}

// BackendClientId returns the backend service's Okta client id ("" when none;
// nil with an external authorization server).
func (s *SmartHealthLake) BackendClientId() *string {
	if s.okta == nil {
		return nil
	}
	return s.okta.BackendClientId()
}

// ClientSecret returns the secret holding the confidential client's secret, or
// nil when there is no confidential client (always with an external server).
func (s *SmartHealthLake) ClientSecret() awssecretsmanager.ISecret {
	if s.okta == nil {
		return nil
	}
	return s.okta.ClientSecret()
}

// EncryptionKey returns the data store's customer-managed key, or nil.
func (s *SmartHealthLake) EncryptionKey() awskms.IKey { return s.dataKey }

// AlarmTopic returns the topic the alarms notify.
func (s *SmartHealthLake) AlarmTopic() awssns.ITopic { return s.alarmTopic }

// AuthorizationServer returns the Okta part (its client ids and secrets,
// its server id, its handler function), or nil with an
// ExternalAuthorizationServer, which this construct provisions nothing on.
// What both kinds of server have (Issuer, TokenEndpoint,
// AuthorizationEndpoint) is on SmartHealthLake itself, so that code working
// with either needs no nil check; an interface both satisfied would hold only
// those and hide what the Okta part has besides.
func (s *SmartHealthLake) AuthorizationServer() *oktaauth.SmartAuthorizationServer { return s.okta }

// EhrLaunch returns the EHR launch part (its LaunchUrl is where EHRs register
// launch contexts), or nil when props.EhrLaunch is not set.
func (s *SmartHealthLake) EhrLaunch() *ehrlaunch.EhrLaunch { return s.ehr }

// TokenValidator returns the token-validation part (its function, alias,
// log group, metrics and alarms).
func (s *SmartHealthLake) TokenValidator() *tokenvalidator.TokenValidator { return s.validator }

// Datastore returns the data store part, as other constructs reference a
// data store (its id, ARN, endpoint and grants), whether made here or
// imported with datastore.SmartDatastore_FromDatastoreAttributes.
func (s *SmartHealthLake) Datastore() datastore.ISmartDatastore { return s.datastore }

// GrantRead lets an IAM principal read and search the FHIR data with SigV4.
func (s *SmartHealthLake) GrantRead(grantee awsiam.IGrantable) awsiam.Grant {
	return s.datastore.GrantRead(grantee)
}

// GrantReadWrite lets an IAM principal read and write the FHIR data with SigV4.
func (s *SmartHealthLake) GrantReadWrite(grantee awsiam.IGrantable) awsiam.Grant {
	return s.datastore.GrantReadWrite(grantee)
}

type settings = SmartHealthLakeProps

func withDefaults(in *SmartHealthLakeProps) settings {
	var p settings
	if in != nil {
		p = *in
	}
	if p.SmartVersion == "" {
		p.SmartVersion = smart.V2
	}
	if p.FineGrainedAuthorization == nil {
		p.FineGrainedAuthorization = jsii.Bool(true)
	}
	if p.AwsOwnedKey == nil {
		p.AwsOwnedKey = jsii.Bool(false)
	}
	if p.PreloadSynthea == nil {
		p.PreloadSynthea = jsii.Bool(false)
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if p.Validation == "" {
		p.Validation = validatorenv.ValidationJWT
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_YEAR
	}
	if p.LogLevel == "" {
		p.LogLevel = awslambda.ApplicationLogLevel_INFO
	}
	// A copy: the caller's Options are not changed.
	validator := tokenvalidator.TokenValidatorOptions{}
	if p.TokenValidator != nil {
		validator = *p.TokenValidator
	}
	if validator.LogLevel == "" {
		validator.LogLevel = p.LogLevel
	}
	p.TokenValidator = &validator
	return p
}

func (p settings) validate() error {
	var errs []string
	if x := p.ExternalAuthorizationServer; x != nil {
		if p.OktaOrgUrl != nil || p.OktaCredentialSecret != nil || p.AuthorizationServer != nil {
			errs = append(errs, "props.OktaOrgUrl, props.OktaCredentialSecret and props.AuthorizationServer must be left unset "+
				"with props.ExternalAuthorizationServer: nothing is provisioned in Okta")
		}
		errs = append(errs, x.problems(p.Validation)...)
	} else {
		if p.OktaOrgUrl == nil || *p.OktaOrgUrl == "" {
			errs = append(errs, "props.OktaOrgUrl is required (or props.ExternalAuthorizationServer)")
		}
		if p.OktaCredentialSecret == nil {
			errs = append(errs, "props.OktaCredentialSecret is required (or props.ExternalAuthorizationServer)")
		}
	}
	if a := p.AuthorizationServer; a != nil && a.Audience != nil {
		// BindAudience sets it to the data store endpoint, which oktaauth
		// refuses beside an Audience of the props.
		errs = append(errs, "props.AuthorizationServer.Audience cannot be set: the composite sets the Okta audience to the "+
			"data store endpoint, the audience HealthLake requests carry; add other audiences the validator accepts "+
			"with props.TokenValidator.Audiences")
	}
	if *p.AwsOwnedKey && p.EncryptionKey != nil {
		errs = append(errs, "props.EncryptionKey and props.AwsOwnedKey exclude each other")
	}
	errs = append(errs, p.ehrLaunchProblems()...)
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}
