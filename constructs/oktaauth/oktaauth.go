// Package oktaauth provides SmartAuthorizationServer: an Okta custom
// authorization server set up for SMART on FHIR (scopes, claims, access
// policies and rules, optional OIDC clients), managed declaratively by a
// CloudFormation custom resource whose handler is this module's lambda/oktaauth.
//
// The smallest use needs the Okta org and a secret with management API
// credentials:
//
//	okta := oktaauth.NewSmartAuthorizationServer(stack, jsii.String("Okta"), &oktaauth.SmartAuthorizationServerProps{
//		OrgUrl:           jsii.String("https://example.okta.com"),
//		CredentialSecret: awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("OktaApi"), jsii.String("okta/management")),
//	})
//
// It then feeds the data store (SmartEndpoints, ScopesSupported) and the token
// validator (Issuer, JwksUri, IntrospectionSecret); once the data store exists,
// BindAudience makes its endpoint the tokens' audience without a dependency
// cycle (see BindAudience).
//
// What it creates:
//   - the custom resource Custom::SmartOktaAuthorizationServer, served by one
//     arm64 Go function behind the CDK Provider framework (onEvent only: every
//     request finishes in one invocation);
//   - a role for that function that may write its log group, read the
//     credential secret (and TokenHookSecret, when set), read the public half
//     of ProxyAssertionKey (when set) and write the
//     stack-owned secrets, and nothing else (see handlerPolicies);
//   - the stack-owned secrets, each only when its client is on: ClientSecret()
//     for the confidential client, IntrospectionSecret() for the
//     introspection client and AppClientSecret(name) for each confidential
//     app of Apps (construct id App<Name>Secret, from the app's name only),
//     created holding "{}" and written by the handler,
//     encrypted with SecretsEncryptionKey (a new rotating key by default), and
//     destroyed with the stack, because their clients are deleted from Okta with
//     it and a retained secret would only keep a dead credential;
//   - KMS-encrypted, retained log groups for the handler and the framework;
//   - cdk-nag suppressions with reasons for what does not apply.
//     HIPAA.Security-IAMNoInlinePolicy on CDK's role policies is left to the app.
//
// What the resource makes and keeps in Okta (the handler converges it on
// every create and update and removes it on delete, see contract/oktaprops):
//   - the custom authorization server (Name, Audience, IssuerMode), its SMART
//     scopes (the context scopes, the clinical scopes of SmartVersion for
//     ScopeLevels x ScopeResources, ExtraScopes), the fhirUser and patient
//     claims and ExtraClaims, and an access policy with its rule for the
//     user-facing apps and one for backend services;
//   - the OIDC apps of ConfidentialClient, PublicClient, BackendClient and
//     IntrospectionClient;
//   - for each app of Apps, its own OIDC client and access policy, whose one
//     rule grants the app's scopes (see AppProps);
//   - the group assignments of the user-facing apps (confidential and
//     public): it assigns them UserGroupIds (EVERYONE as the org's built-in
//     Everyone group), because Okta signs in only users assigned to an app,
//     and unassigns groups no longer listed;
//   - the user profile attributes the claims read (FhirUserAttribute,
//     PatientAttribute): a missing one is added to the default user schema as
//     a custom string attribute users can read but not change. Attributes are
//     never changed or removed, not even on delete: they may hold users' data;
//   - with TokenHookUrl, the token inline hook the user-facing rule calls;
//   - with ProxyAssertionKey, that key's public half in the JWKS of every
//     private_key_jwt client, after the service's own keys.
//
// It does not create Okta users or groups, or put values in the users'
// profile attributes: who may sign in and which FHIR resources they speak for
// are org-level data kept in Okta.
package oktaauth

import (
	"fmt"
	"maps"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/constructs/smartconfig"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/internal/crprovider"
	"github.com/openhealthstack/smart-healthlake/internal/golambda"
	"github.com/openhealthstack/smart-healthlake/internal/jsiiptr"
	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

// Entry is the handler's main package in this module.
const Entry = "lambda/oktaauth"

// Resource types of the two custom resources.
const (
	// ResourceType is the authorization server resource.
	ResourceType = oktaprops.ResourceTypeAuthorizationServer
	// AudienceResourceType is the resource BindAudience creates.
	AudienceResourceType = oktaprops.ResourceTypeAudience
)

// Timing and sizing of the handler.
const (
	// handlerTimeoutMinutes: a create makes a hundred or more Okta calls, and
	// Okta's rate limits (per minute) make the handler wait until
	// X-Rate-Limit-Reset, so a cold create can take minutes. The Provider
	// framework's onEvent function waits for the handler synchronously and has
	// a 15-minute timeout: 14 leaves it the time to report a failure instead of
	// timing out itself. Within the 14, a Create stops provisioning 3 minutes
	// before its deadline to remove what it made (reconcile.Reconciler's
	// CleanupReserve), since the framework never passes on the Delete that
	// follows a failed Create.
	handlerTimeoutMinutes = 14
	// serviceTimeoutSeconds bounds each custom resource operation in
	// CloudFormation: 15 minutes of the framework's function times the three
	// attempts Lambda makes of an asynchronous invocation, plus 5 minutes, inside
	// CloudFormation's one-hour maximum.
	serviceTimeoutSeconds = 3000
	handlerMemoryMB       = 256
	// handlerConcurrency: CloudFormation sends one request per resource and
	// the binding waits for the server (it reads its attribute), so 2 is
	// headroom; a reserved concurrency also keeps the account's unreserved pool
	// intact (and satisfies cdk-nag's HIPAA check).
	handlerConcurrency = 2
)

// subject names the server in the descriptions of the log key and the
// framework role.
const subject = "the Okta SMART authorization server"

// SmartAuthorizationServer is an Okta custom authorization server for SMART on
// FHIR and the custom resource machinery that manages it.
type SmartAuthorizationServer struct {
	constructs.Construct
	resource            awscdk.CustomResource
	audienceBinding     awscdk.CustomResource
	provider            customresources.Provider
	function            awslambda.Function
	clientSecret        awssecretsmanager.Secret
	introspectionSecret awssecretsmanager.Secret
	secretsKey          awskms.IKey
	logs                *crprovider.Logs
	settings            settings
	apps                []app
	scopes              []string
	scopesToken         string
}

// NewSmartAuthorizationServer creates the authorization server resource and
// its handler. It panics, naming the prop, on invalid props: the handler's own
// parser checks the literal values at synthesis time.
func NewSmartAuthorizationServer(scope constructs.Construct, id *string, props *SmartAuthorizationServerProps) *SmartAuthorizationServer {
	s := withDefaults(props)
	fail := func(err error) {
		panic(fmt.Sprintf("oktaauth.NewSmartAuthorizationServer(%s): %v", jsiiptr.Value(id), err))
	}
	if err := s.validate(); err != nil {
		fail(err)
	}
	a := &SmartAuthorizationServer{settings: s}
	// _Override makes a itself the jsii object, so it can be passed wherever a
	// construct is expected (Tags_Of, NagSuppressions, a scope).
	constructs.NewConstruct_Override(a, scope, id)
	this := a

	// The secrets are made first: their ARNs are properties, and the catalogue
	// check below needs every property.
	if s.ConfidentialClient != nil || s.introspection || s.hasConfidentialApp() {
		a.secretsKey = s.SecretsEncryptionKey
		if a.secretsKey == nil {
			a.secretsKey = awskms.NewKey(this, jsii.String("SecretsKey"), &awskms.KeyProps{
				Description:       jsii.String("Encrypts the Okta client secrets of the SMART authorization server"),
				EnableKeyRotation: jsii.Bool(true),
				// It protects only this construct's secrets, which go with the
				// stack; KMS still waits 30 days before deleting it.
				RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
			})
		}
	}
	newSecret := func(id, description string) awssecretsmanager.Secret {
		return awssecretsmanager.NewSecret(this, jsii.String(id), &awssecretsmanager.SecretProps{
			Description:   jsii.String(description),
			EncryptionKey: a.secretsKey,
			// "{}" until the handler writes the credential during the resource's
			// create: a generated password would look like a credential.
			SecretObjectValue: &map[string]awscdk.SecretValue{},
			RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		})
	}
	if s.ConfidentialClient != nil {
		a.clientSecret = newSecret("ClientSecret",
			"Credential of the Okta confidential SMART app, with the issuer; written by the Okta custom resource")
	}
	if s.introspection {
		a.introspectionSecret = newSecret("IntrospectionSecret",
			"Credential of the Okta token introspection client; written by the Okta custom resource, read by the token validator")
	}
	a.newAppSecrets(newSecret)
	secrets := secretRefs{}
	if a.clientSecret != nil {
		secrets.clientSecret = a.clientSecret
	}
	if a.introspectionSecret != nil {
		secrets.introspectionSecret = a.introspectionSecret
	}

	properties := s.properties(a.serverName(), secrets)
	checked := maps.Clone(properties)
	if s.Apps != nil && len(*s.Apps) > 0 {
		properties[oktaprops.PropApps] = jsii.String(appsJSON(*s.Apps, a.appSecretARN, false))
		// The same JSON with the tokens (secret ARNs) replaced by stand-ins,
		// for the contract's parser.
		checked[oktaprops.PropApps] = appsJSON(*s.Apps, a.appSecretARN, true)
	}
	scopes, tokenProp, err := checkCatalogue(checked)
	if err != nil {
		fail(err)
	}
	a.scopes, a.scopesToken = scopes, tokenProp

	// The log groups are the audit trail of every change made in Okta:
	// crprovider retains them, so they outlive the stack.
	a.logs = crprovider.NewLogs(this, subject, s.LogEncryptionKey, s.LogRetention)
	handlerLogs := a.logs.NewGroup("HandlerLogs")

	// With LogGroup and no Role, golambda makes a role that writes only that log
	// group; handlerPolicies adds the secrets.
	a.function = golambda.NewGoFunction(this, jsii.String("Handler"), &golambda.GoFunctionProps{
		Entry: jsii.String(Entry),
		Options: &awslambda.FunctionOptions{
			Description:                  jsii.String("Creates, updates and deletes the Okta SMART authorization server and binds its audience"),
			MemorySize:                   jsii.Number(handlerMemoryMB),
			Timeout:                      awscdk.Duration_Minutes(jsii.Number(handlerTimeoutMinutes)),
			ReservedConcurrentExecutions: jsii.Number(handlerConcurrency),
			LogGroup:                     handlerLogs,
			ApplicationLogLevelV2:        s.LogLevel,
			// Every change it makes, traced with its AWS calls' latency.
			Tracing: awslambda.Tracing_ACTIVE,
		},
	})
	for _, st := range a.handlerPolicies() {
		a.function.AddToRolePolicy(st)
	}

	a.provider = crprovider.New(this, &crprovider.Props{
		Subject:     subject,
		Logs:        a.logs,
		OnEvent:     a.function,
		Concurrency: handlerConcurrency,
		Excuses:     excuses,
	})

	a.resource = awscdk.NewCustomResource(this, jsii.String("Resource"), &awscdk.CustomResourceProps{
		ServiceToken:   a.provider.ServiceToken(),
		ResourceType:   jsii.String(ResourceType),
		Properties:     &properties,
		ServiceTimeout: awscdk.Duration_Seconds(jsii.Number(serviceTimeoutSeconds)),
		// RemovalPolicy stays DELETE: CloudFormation must send the Delete to the
		// handler, which removes the server and its apps from Okta.
	})
	a.grantAppSecrets()
	a.suppressNagFindings()
	return a
}

// serverName is props.Name, or one derived from the stack name and this
// construct's path in it ("Fhir-Okta"): stable across deployments, and
// different for each stack of an account and region sharing an Okta org.
func (a *SmartAuthorizationServer) serverName() *string {
	if a.settings.Name != nil && *a.settings.Name != "" {
		return a.settings.Name
	}
	stack := awscdk.Stack_Of(a)
	name := *stack.StackName() + "-" + strings.ReplaceAll(*awscdk.Names_StackRelativeConstructPath(a), "/", "-")
	if !isLiteral(stack.StackName()) || len(name) > 100 {
		// A nested stack's name is a token; Okta names are at most 100 characters.
		return awscdk.Names_UniqueResourceName(a, &awscdk.UniqueResourceNameOptions{
			MaxLength: jsii.Number(100), Separator: jsii.String("-"),
		})
	}
	return jsii.String(name)
}

// handlerPolicies are the handler's permissions besides its log group:
//   - GetSecretValue on the credential secret, and kms:Decrypt on its key
//     through Secrets Manager when it has a customer-managed key;
//   - the same on TokenHookSecret, when there is one (the handler puts its
//     value in Okta's hook);
//   - kms:GetPublicKey on ProxyAssertionKey, when there is one (the handler
//     registers its public half on the private_key_jwt clients);
//   - PutSecretValue on the stack-owned secrets, and on their key
//     GenerateDataKey (Secrets Manager encrypts each new value with a new data
//     key) and Decrypt (it decrypts the current value when a put might repeat
//     it), only through Secrets Manager and only for these secrets (the
//     SecretARN encryption context). The apps' secrets are granted apart, by
//     their own resource policies (see grantAppSecrets).
//
// The handler never reads the secrets it writes.
func (a *SmartAuthorizationServer) handlerPolicies() []awsiam.PolicyStatement {
	stack := awscdk.Stack_Of(a)
	viaSecretsManager := "secretsmanager." + *stack.Region() + ".amazonaws.com"
	cred := a.settings.CredentialSecret
	out := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadOktaCredentials"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: &[]*string{secretArnForPolicies(cred)},
		}),
	}
	if key := cred.EncryptionKey(); key != nil {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("DecryptOktaCredentials"),
			Actions:    jsii.Strings("kms:Decrypt"),
			Resources:  &[]*string{key.KeyArn()},
			Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": viaSecretsManager}},
		}))
	}
	if hook := a.settings.TokenHookSecret; hook != nil {
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadTokenHookSecret"),
			Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
			Resources: &[]*string{secretArnForPolicies(hook)},
		}))
		if key := hook.EncryptionKey(); key != nil {
			out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("DecryptTokenHookSecret"),
				Actions:    jsii.Strings("kms:Decrypt"),
				Resources:  &[]*string{key.KeyArn()},
				Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": viaSecretsManager}},
			}))
		}
	}
	if key := a.settings.ProxyAssertionKey; key != nil {
		// The public half only, of this key only: the handler registers it
		// in Okta and never signs.
		out = append(out, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadProxyAssertionPublicKey"),
			Actions:   jsii.Strings("kms:GetPublicKey"),
			Resources: &[]*string{key.KeyArn()},
		}))
	}
	var owned []*string
	for _, sec := range []awssecretsmanager.Secret{a.clientSecret, a.introspectionSecret} {
		if sec != nil {
			owned = append(owned, sec.SecretArn())
		}
	}
	if len(owned) > 0 {
		out = append(out,
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("WriteClientSecrets"),
				Actions:   jsii.Strings("secretsmanager:PutSecretValue"),
				Resources: &owned,
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("EncryptClientSecrets"),
				Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
				Resources: &[]*string{a.secretsKey.KeyArn()},
				Conditions: &map[string]any{"StringEquals": map[string]any{
					"kms:ViaService":                  viaSecretsManager,
					"kms:EncryptionContext:SecretARN": owned,
				}},
			}),
		)
	}
	return out
}

// secretArnForPolicies is the secret's ARN as IAM must name it: a secret
// imported by name has a partial ARN, and Secrets Manager appends a dash and 6
// characters to every secret's name.
func secretArnForPolicies(s awssecretsmanager.ISecret) *string {
	if full := s.SecretFullArn(); full != nil {
		return full
	}
	return jsii.String(*s.SecretArn() + "-??????")
}

// excuses are the reasons for the findings on every function of the server's
// custom resource: the handler here, the Provider framework's in crprovider.New.
var excuses = crprovider.FunctionExcuses{
	NoDLQ: "Custom resource machinery invoked by CloudFormation: a failure is reported to CloudFormation, which " +
		"fails and rolls back the deployment; a dead-letter queue would only keep events with their pre-signed response URLs.",
	NoVPC: "The functions call Okta's management API on the internet, Secrets Manager and Lambda, and never touch " +
		"FHIR data; a VPC would need a NAT gateway and endpoints and would isolate no PHI.",
}

// suppressNagFindings excuses, with reasons, the cdk-nag findings that do not
// apply (crprovider.New excuses the framework's). HIPAA.Security-IAMNoInlinePolicy
// on CDK's role policies is a project-wide choice left to the app.
func (a *SmartAuthorizationServer) suppressNagFindings() {
	excuses.Apply(a.function)

	rotation := "Holds the credential of an OAuth client that Okta generated; only Okta can issue a new one, and the Okta custom " +
		"resource writes it here whenever the client is created or re-created. A Secrets Manager rotation function would need " +
		"Okta admin credentials of its own for no gain: the secret's lifetime is the client's."
	owned := []awssecretsmanager.Secret{a.clientSecret, a.introspectionSecret}
	for _, x := range a.apps {
		owned = append(owned, x.secret)
	}
	for _, sec := range owned {
		if sec == nil {
			continue
		}
		nagexcuse.On(sec, false,
			nagexcuse.Excuse{Rule: "AwsSolutions-SMG4", Reason: rotation},
			nagexcuse.Excuse{Rule: "HIPAA.Security-SecretsManagerRotationEnabled", Reason: rotation})
	}
}

// BindAudience makes audience (the data store endpoint) the authorization
// server's audience, through a second custom resource
// (Custom::SmartOktaAudience) served by the same handler. It exists because
// the endpoint depends on the server (data store <- token validator <-
// issuer): the server resource can't take it as a property without a
// dependency cycle, while the binding reads the server's id and so comes
// after both. Call it once, and only when props.Audience is not set.
//
// Removing the binding later leaves the server's audience as it is (live
// tokens keep working); changing audience updates it in place. It returns the
// binding resource, whose Audience attribute is the bound audience.
func (a *SmartAuthorizationServer) BindAudience(audience *string) awscdk.CustomResource {
	const method = "oktaauth.SmartAuthorizationServer.BindAudience"
	switch {
	case a.audienceBinding != nil:
		panic(method + ": already called; the server has one audience, bind it once")
	case a.settings.Audience != nil && *a.settings.Audience != "":
		panic(method + ": props.Audience is set; the server resource already owns the audience, so drop one of the two")
	case audience == nil || *audience == "":
		panic(method + ": audience is required (usually the data store endpoint)")
	case isLiteral(audience) && strings.ContainsAny(*audience, " \t\r\n"):
		panic(fmt.Sprintf("%s: audience must not contain whitespace, got %q", method, *audience))
	}
	a.audienceBinding = awscdk.NewCustomResource(a, jsii.String("Audience"), &awscdk.CustomResourceProps{
		ServiceToken: a.provider.ServiceToken(),
		ResourceType: jsii.String(AudienceResourceType),
		Properties: &map[string]any{
			oktaprops.PropOrgURL:                a.settings.OrgUrl,
			oktaprops.PropCredentialSecretARN:   a.settings.CredentialSecret.SecretArn(),
			oktaprops.PropAuthorizationServerID: a.AuthorizationServerId(),
			oktaprops.PropAudience:              audience,
		},
		ServiceTimeout: awscdk.Duration_Seconds(jsii.Number(serviceTimeoutSeconds)),
	})
	return a.audienceBinding
}

func (a *SmartAuthorizationServer) attr(name string) *string {
	return a.resource.GetAttString(jsii.String(name))
}

// AuthorizationServerId returns the Okta authorization server id (aus...).
func (a *SmartAuthorizationServer) AuthorizationServerId() *string {
	return a.attr(oktaprops.AttrAuthorizationServerID)
}

// Issuer returns the issuer of the server's tokens (https://<org>/oauth2/<id>
// with oktaprops.IssuerModeOrgURL).
func (a *SmartAuthorizationServer) Issuer() *string { return a.attr(oktaprops.AttrIssuer) }

// AuthorizationEndpoint returns <issuer>/v1/authorize.
func (a *SmartAuthorizationServer) AuthorizationEndpoint() *string {
	return a.attr(oktaprops.AttrAuthorizationEndpoint)
}

// TokenEndpoint returns <issuer>/v1/token.
func (a *SmartAuthorizationServer) TokenEndpoint() *string {
	return a.attr(oktaprops.AttrTokenEndpoint)
}

// JwksUri returns <issuer>/v1/keys, the server's signing keys.
func (a *SmartAuthorizationServer) JwksUri() *string { return a.attr(oktaprops.AttrJwksURI) }

// IntrospectionEndpoint returns <issuer>/v1/introspect (RFC 7662).
func (a *SmartAuthorizationServer) IntrospectionEndpoint() *string {
	return a.attr(oktaprops.AttrIntrospectionEndpoint)
}

// RevocationEndpoint returns <issuer>/v1/revoke (RFC 7009).
func (a *SmartAuthorizationServer) RevocationEndpoint() *string {
	return a.attr(oktaprops.AttrRevocationEndpoint)
}

// Audience returns the server's audience as of the server resource's last
// create or update: props.Audience, or the placeholder. After BindAudience
// the audience is the value given to it, which the binding's Audience
// attribute also returns; this attribute catches up at the server's next
// update.
func (a *SmartAuthorizationServer) Audience() *string { return a.attr(oktaprops.AttrAudience) }

// ConfidentialClientId returns the confidential client's id, or "" without one.
func (a *SmartAuthorizationServer) ConfidentialClientId() *string {
	return a.attr(oktaprops.AttrConfidentialClientID)
}

// PublicClientId returns the public client's id, or "" without one.
func (a *SmartAuthorizationServer) PublicClientId() *string {
	return a.attr(oktaprops.AttrPublicClientID)
}

// BackendClientId returns the backend services client's id, or "" without one.
func (a *SmartAuthorizationServer) BackendClientId() *string {
	return a.attr(oktaprops.AttrBackendClientID)
}

// IntrospectionClientId returns the introspection client's id, or "" without one.
func (a *SmartAuthorizationServer) IntrospectionClientId() *string {
	return a.attr(oktaprops.AttrIntrospectionClientID)
}

// ClientSecret returns the secret holding the confidential client's
// credential ({"issuer", "confidentialClientId", "confidentialClientSecret"}),
// or nil without a confidential client. Grant reads with its GrantRead.
func (a *SmartAuthorizationServer) ClientSecret() awssecretsmanager.ISecret {
	if a.clientSecret == nil {
		return nil
	}
	return a.clientSecret
}

// IntrospectionSecret returns the secret holding the introspection client's
// credential as the token validator reads it ({"client_id", "client_secret"}),
// or nil without an introspection client.
func (a *SmartAuthorizationServer) IntrospectionSecret() awssecretsmanager.ISecret {
	if a.introspectionSecret == nil {
		return nil
	}
	return a.introspectionSecret
}

// SecretsEncryptionKey returns the key of the stack-owned secrets, or nil when
// there are none.
func (a *SmartAuthorizationServer) SecretsEncryptionKey() awskms.IKey { return a.secretsKey }

// LogEncryptionKey returns the key of the log groups.
func (a *SmartAuthorizationServer) LogEncryptionKey() awskms.IKey { return a.logs.Key() }

// LogGroups returns the log groups of the handler and of the Provider
// framework, in that order.
func (a *SmartAuthorizationServer) LogGroups() []awslogs.ILogGroup { return a.logs.Groups() }

// Function returns the handler function.
func (a *SmartAuthorizationServer) Function() awslambda.Function { return a.function }

// Provider returns the Provider framework construct.
func (a *SmartAuthorizationServer) Provider() customresources.Provider { return a.provider }

// Resource returns the authorization server custom resource.
func (a *SmartAuthorizationServer) Resource() awscdk.CustomResource { return a.resource }

// SmartEndpoints returns the authorization server's URLs as the data store
// construct takes them (datastore.SmartDatastoreProps.Endpoints), for its SMART
// configuration document.
func (a *SmartAuthorizationServer) SmartEndpoints() *smartconfig.Endpoints {
	return &smartconfig.Endpoints{
		Issuer:                a.Issuer(),
		JwksUri:               a.JwksUri(),
		AuthorizationEndpoint: a.AuthorizationEndpoint(),
		TokenEndpoint:         a.TokenEndpoint(),
		IntrospectionEndpoint: a.IntrospectionEndpoint(),
		RevocationEndpoint:    a.RevocationEndpoint(),
	}
}

// SmartSupport returns the SMART flows the server serves, as the data store
// construct takes them (datastore.SmartDatastoreProps.Support), so that the
// data store's SMART configuration advertises only those:
//   - the clients it creates (ConfidentialClient, PublicClient,
//     BackendClient, and the apps of Apps by their Type); with
//     oktaprops.PolicyAssignmentAllClients the policies admit every app of
//     the org, so every client type Okta supports counts (backend
//     services when the catalogue has system/ scopes, which their rule needs);
//   - patient context when PatientClaim is on (the default);
//   - ID tokens with fhirUser and refresh tokens: the user-facing rule grants
//     openid, fhirUser and offline_access, the fhirUser claim is an identity
//     claim too, and the user-facing apps have the refresh_token grant (the
//     apps of Apps with RefreshTokens too).
//
// It panics when PolicyAssignment is all clients and a scope prop is a token,
// because whether backend services are served can't be known then.
func (a *SmartAuthorizationServer) SmartSupport() *smart.Support {
	s := a.settings
	all := s.PolicyAssignment == oktaprops.PolicyAssignmentAllClients
	backend := s.BackendClient != nil || a.hasApp(oktaprops.AppBackend)
	if all {
		if a.scopesToken != "" {
			panic(fmt.Sprintf("oktaauth.SmartAuthorizationServer.SmartSupport: props.%s is a token, so whether the "+
				"server serves backend services can't be known at synthesis time", propName(a.scopesToken)))
		}
		for _, sc := range a.scopes {
			backend = backend || strings.HasPrefix(sc, "system/")
		}
	}
	return &smart.Support{
		ConfidentialClients: all || s.ConfidentialClient != nil || a.hasApp(oktaprops.AppConfidential),
		PublicClients:       all || s.PublicClient != nil || a.hasApp(oktaprops.AppPublic),
		BackendServices:     backend,
		PatientContext:      s.PatientClaim == nil || *s.PatientClaim,
		OpenIDConnect:       true,
		RefreshTokens:       true,
	}
}

// ScopesSupported returns the scope names the server offers, computed at
// synthesis time with the handler's own catalogue: Okta's openid, profile and
// offline_access, then every custom scope the resource creates. It is meant
// for the data store's scopes_supported, whatever ScopeMetadataPublish says.
// It panics when a scope prop is a token.
func (a *SmartAuthorizationServer) ScopesSupported() *[]*string {
	if a.scopesToken != "" {
		panic(fmt.Sprintf("oktaauth.SmartAuthorizationServer.ScopesSupported: the scopes can't be known at synthesis time "+
			"because props.%s is a token; list them yourself", propName(a.scopesToken)))
	}
	out := jsii.Strings("openid", "profile", "offline_access")
	for _, s := range a.scopes {
		*out = append(*out, jsii.String(s))
	}
	return out
}
