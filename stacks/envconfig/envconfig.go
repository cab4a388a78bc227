// Package envconfig reads the per-environment configuration of the SMART
// HealthLake app from the CDK context (cdk.json's "context" section) into typed,
// validated Go values.
//
// cdk.json holds one object per environment under the context key
// "smart-healthlake:environments":
//
//	"smart-healthlake:environments": {
//	  "dev": {"region": "us-east-1", "okta": {"orgUrl": "https://dev-1.okta.com", "credentialSecret": "smart/okta"}},
//	  "prod": {...}
//	}
//
// Every key, its type, default and meaning is documented on the Environment
// struct and in the README's configuration reference. Errors name the
// environment and the key: `environment "prod": okta.orgUrl must be an https URL`.
package envconfig

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

// StackTagKeys are the tags the stack puts on every resource besides the
// environment's own (stacks.New: Application and Environment).
var StackTagKeys = []string{"Application", "Environment"}

// Tag limits of cdk.json's `tags`.
const (
	// MaxTagsPerResource is AWS's limit on the tags of one resource (the
	// resource types' CloudFormation schemas and the services' tagging APIs:
	// 50 user tags).
	MaxTagsPerResource = 50
	// MaxTags is how many tags `tags` may hold besides StackTagKeys, which
	// the stack adds to every resource.
	MaxTags = MaxTagsPerResource - 2
)

// ContextKey is the CDK context key that holds the environments.
const ContextKey = "smart-healthlake:environments"

// SelectKey is the CDK context key that picks one environment: `cdk synth -c env=prod`.
const SelectKey = "env"

// Encryption choices for the data store.
const (
	// EncryptionCustomerManaged: the stack creates a KMS key with rotation on.
	EncryptionCustomerManaged = "customer-managed"
	// EncryptionAWSOwned: HealthLake's AWS-owned key.
	EncryptionAWSOwned = "aws-owned"
)

// Removal policies for the data store when the stack or resource is deleted.
const (
	RemovalRetain  = "retain"
	RemovalDestroy = "destroy"
)

// Environment is one deployment target (dev, prod, ...).
type Environment struct {
	// Name is the environment's key in cdk.json.
	Name string
	// Account is the 12-digit AWS account id. Key: account. Default: the
	// account of the CLI's credentials at deploy time (an environment-agnostic stack).
	Account string
	// Region is the AWS region. Key: region. Default: the CLI's region at deploy time.
	Region string
	// Production environments always retain the data store, get termination
	// protection and may not preload Synthea data. Key: production.
	// Default: true for the environment named "prod".
	Production bool
	// Okta is the authorization server's configuration. Key: okta. Required
	// unless authorizationServer is external; refused then.
	Okta Okta
	// External is the authorization server the team runs itself, when the key
	// authorizationServer is "external" (see External); nil means Okta, the
	// default (authorizationServer "okta"). Key: external.
	External *External
	// Datastore configures the HealthLake data store. Key: datastore.
	Datastore Datastore
	// TokenValidator configures the token-validation Lambda. Key: tokenValidator.
	TokenValidator TokenValidator
	// EhrLaunch turns on SMART's EHR launch in front of Okta (see EhrLaunch).
	// Key: ehrLaunch. Default: off.
	EhrLaunch EhrLaunch
	// LogRetentionDays is how long CloudWatch keeps the Lambdas' logs; one of the
	// values CloudWatch accepts. Key: logRetentionDays. Default: 365.
	LogRetentionDays int
	// LogLevel is the application log level of every Lambda function (TRACE,
	// DEBUG, INFO, WARN, ERROR or FATAL). Key: logLevel. Default: INFO.
	LogLevel string
	// Tags are added to every resource of the environment's stack, besides
	// `Environment=<name>` and `Application=smart-healthlake`: at most
	// MaxTags besides those two. Key: tags. Default: none.
	Tags map[string]string
}

// Okta is where the Okta authorization server lives and how to manage it.
type Okta struct {
	// OrgURL is the Okta org, such as https://dev-123456.okta.com. Key: okta.orgUrl. Required.
	OrgURL string
	// CredentialSecret is the name or ARN of the Secrets Manager secret that holds
	// the Okta management credential (an API token or a service app's private key).
	// Key: okta.credentialSecret. Required.
	CredentialSecret string
	// CredentialSecretKey is the ARN of the customer-managed KMS key the credential
	// secret is encrypted with, so the Okta handler may decrypt it.
	// Key: okta.credentialSecretKey. Default: none (the aws/secretsmanager key).
	CredentialSecretKey string
	// ScopeResources are the FHIR resource types the clinical SMART scopes are
	// made for. Key: okta.scopeResources. Default: the US Core resource types.
	ScopeResources []string
	// UserGroupIDs are the Okta groups whose users may get tokens for user-facing
	// apps. Key: okta.userGroupIds. Default: everyone.
	UserGroupIDs []string
	// AccessTokenLifetimeMinutes of user-facing apps' access tokens, 5-1440
	// (oktaprops.MinAccessTokenLifetimeMinutes and Max...).
	// Key: okta.accessTokenLifetimeMinutes. Default: 60.
	AccessTokenLifetimeMinutes int
	// ConfidentialClientRedirectURIs create a confidential web app (authorization
	// code with PKCE; its secret goes to a Secrets Manager secret of the stack).
	// Key: okta.confidentialClientRedirectUris. Default: no such app.
	ConfidentialClientRedirectURIs []string
	// PublicClientRedirectURIs create a public browser app (authorization code
	// with PKCE, no secret). Key: okta.publicClientRedirectUris. Default: no such app.
	PublicClientRedirectURIs []string
	// BackendClientJWKS is the PUBLIC JSON Web Key Set (as JSON) of a SMART
	// backend service, which creates a client_credentials client authenticating
	// with private_key_jwt. Key: okta.backendClientJwks (an object).
	// Default: no such client.
	BackendClientJWKS string
	// Apps is the app registry: each app its own Okta client and access
	// policy, a confidential app its own Secrets Manager secret (see App).
	// At most 50. Key: okta.apps (a list of objects). Default: none.
	Apps []App
	// PolicyAssignment is which clients the server's access policies admit:
	// CREATED_CLIENTS (the clients and apps the stack creates) or ALL_CLIENTS
	// (every client of the Okta org, including apps registered outside the
	// stack, such as by an Okta admin, which then get the user-facing rule's
	// or the backend rule's scopes). Key: okta.policyAssignment.
	// Default: CREATED_CLIENTS.
	PolicyAssignment oktaprops.PolicyAssignment
}

// Datastore configures the SMART-enabled HealthLake data store.
type Datastore struct {
	// Name of the data store. Key: datastore.name. Default: "smart-healthlake-<env>".
	Name string
	// SmartVersion is v1 (SMART_ON_FHIR_V1) or v2 (SMART_ON_FHIR).
	// Key: datastore.smartVersion. Default: v2.
	SmartVersion smart.Version
	// FineGrainedAuthorization scopes user-level access to the fhirUser's own
	// patients. Key: datastore.fineGrainedAuthorization. Default: true.
	FineGrainedAuthorization bool
	// Encryption is customer-managed (a KMS key the stack creates) or aws-owned.
	// Key: datastore.encryption. Default: customer-managed.
	Encryption string
	// PreloadSynthea loads Synthea's synthetic patients at creation. Key:
	// datastore.preloadSynthea. Default: true for the environment named "dev",
	// false otherwise; never allowed in production.
	PreloadSynthea bool
	// RemovalPolicy is what happens to the data store when it leaves the stack:
	// retain or destroy. Key: datastore.removalPolicy. Default: retain; production
	// environments must retain.
	RemovalPolicy string
	// AcknowledgeReplacement lets a change HealthLake cannot make in place
	// (encryption, preloadSynthea) create a new, EMPTY data store; the current
	// one then follows removalPolicy. Set it for the one deployment that
	// replaces, then remove it. Key: datastore.acknowledgeReplacement.
	// Default: false.
	AcknowledgeReplacement bool
}

// TokenValidator configures the token-validation Lambda HealthLake calls.
type TokenValidator struct {
	// ProvisionedConcurrency keeps this many instances warm behind an alias, so
	// cold starts never eat HealthLake's 1-second budget. 0 turns it off.
	// Key: tokenValidator.provisionedConcurrency. Default: 0.
	ProvisionedConcurrency int
	// Validation is jwt (local signature checks) or introspection (RFC 7662).
	// Key: tokenValidator.validation. Default: jwt.
	Validation validatorenv.Validation
	// LogLevel overrides the environment's logLevel for the token validator:
	// WARN turns the per-request decision lines (and the decision metrics)
	// off. Key: tokenValidator.logLevel. Default: the environment's logLevel.
	LogLevel string
}

// LogLevels are the application log levels Lambda accepts, most verbose first.
var LogLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// StackName is the CloudFormation stack name of the environment.
func (e Environment) StackName() string { return "SmartHealthLake-" + e.Name }

// Parse reads every environment from the raw context value (as decoded from
// cdk.json). Environments come back sorted by name.
func Parse(raw any) ([]Environment, error) {
	if raw == nil {
		return nil, fmt.Errorf("cdk.json: context %q is missing: it must hold one object per environment", ContextKey)
	}
	all, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("cdk.json: context %q must be an object of environments, got %s", ContextKey, typeName(raw))
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("cdk.json: context %q has no environments", ContextKey)
	}
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	sort.Strings(names)

	var errs []error
	envs := make([]Environment, 0, len(names))
	for _, name := range names {
		env, err := parseEnvironment(name, all[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		envs = append(envs, env)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return envs, nil
}

// Select returns the environment named by `-c env=<name>`, or every environment
// when selected is nil or empty.
func Select(envs []Environment, selected any) ([]Environment, error) {
	if selected == nil || selected == "" {
		return envs, nil
	}
	name, ok := selected.(string)
	if !ok {
		return nil, fmt.Errorf("-c %s=...: must be an environment name, got %s", SelectKey, typeName(selected))
	}
	known := make([]string, 0, len(envs))
	for _, e := range envs {
		if e.Name == name {
			return []Environment{e}, nil
		}
		known = append(known, e.Name)
	}
	return nil, fmt.Errorf("-c %s=%s: no environment %q in cdk.json (known: %s)", SelectKey, name, name, strings.Join(known, ", "))
}

var (
	envNamePattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,30}$`)
	accountPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern    = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
	secretRefPattern = regexp.MustCompile(`^([A-Za-z0-9/_+=.@-]{1,512}|arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+)$`)
)

// LogRetentionDays are the values CloudWatch Logs accepts for logRetentionDays.
var LogRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func parseEnvironment(name string, raw any) (Environment, error) {
	if !envNamePattern.MatchString(name) {
		return Environment{}, fmt.Errorf("environment %q: the name must start with a letter and hold only letters, digits and hyphens (at most 31), since it becomes part of the stack name", name)
	}
	r := &reader{env: name}
	root := r.root(raw)
	e := Environment{Name: name}

	e.Account = root.str("account", "")
	if e.Account != "" && !accountPattern.MatchString(e.Account) {
		r.fail("account", "must be a 12-digit AWS account id, got %q", e.Account)
	}
	e.Region = root.str("region", "")
	if e.Region != "" && !regionPattern.MatchString(e.Region) {
		r.fail("region", "must be an AWS region such as us-east-1, got %q", e.Region)
	}
	e.Production = root.boolean("production", name == "prod")

	switch kind := root.str("authorizationServer", AuthorizationServerOkta); kind {
	case AuthorizationServerOkta:
		parseOkta(r, root, &e)
		if _, set := root.get("external"); set {
			r.fail("external", "is only read when authorizationServer is %s", AuthorizationServerExternal)
		}
	case AuthorizationServerExternal:
		e.External = parseExternal(r, root)
		if _, set := root.get("okta"); set {
			r.fail("okta", "must be left out when authorizationServer is %s: nothing is provisioned in Okta", AuthorizationServerExternal)
		}
	default:
		r.fail("authorizationServer", "must be %s (the stack provisions an Okta authorization server) or %s (one you run), got %q",
			AuthorizationServerOkta, AuthorizationServerExternal, kind)
	}

	parseEhrLaunch(r, root, &e)

	ds := root.object("datastore", false)
	e.Datastore.Name = ds.str("name", "smart-healthlake-"+name)
	if err := datastoreprops.CheckDatastoreName(e.Datastore.Name); err != nil {
		r.fail("datastore.name", "%v", err)
	}
	e.Datastore.SmartVersion = smart.Version(ds.str("smartVersion", string(smart.V2)))
	if !e.Datastore.SmartVersion.Valid() {
		r.fail("datastore.smartVersion", "must be v1 (SMART_ON_FHIR_V1) or v2 (SMART_ON_FHIR), got %q", e.Datastore.SmartVersion)
	}
	e.Datastore.FineGrainedAuthorization = ds.boolean("fineGrainedAuthorization", true)
	e.Datastore.Encryption = ds.str("encryption", EncryptionCustomerManaged)
	if e.Datastore.Encryption != EncryptionCustomerManaged && e.Datastore.Encryption != EncryptionAWSOwned {
		r.fail("datastore.encryption", "must be %s or %s, got %q", EncryptionCustomerManaged, EncryptionAWSOwned, e.Datastore.Encryption)
	}
	e.Datastore.PreloadSynthea = ds.boolean("preloadSynthea", name == "dev" && !e.Production)
	if e.Datastore.PreloadSynthea && e.Production {
		r.fail("datastore.preloadSynthea", "must be false in a production environment: synthetic patients do not belong beside real ones")
	}
	e.Datastore.RemovalPolicy = ds.str("removalPolicy", RemovalRetain)
	switch {
	case e.Datastore.RemovalPolicy != RemovalRetain && e.Datastore.RemovalPolicy != RemovalDestroy:
		r.fail("datastore.removalPolicy", "must be %s or %s, got %q", RemovalRetain, RemovalDestroy, e.Datastore.RemovalPolicy)
	case e.Datastore.RemovalPolicy == RemovalDestroy && e.Production:
		r.fail("datastore.removalPolicy", "must be %s in a production environment: the data store holds patients' records", RemovalRetain)
	}
	e.Datastore.AcknowledgeReplacement = ds.boolean("acknowledgeReplacement", false)
	ds.done()
	// The apps' scopes are matched against the catalogue, which depends on
	// datastore.smartVersion.
	checkApps(r, &e)

	tv := root.object("tokenValidator", false)
	e.TokenValidator.ProvisionedConcurrency = tv.integer("provisionedConcurrency", 0)
	if e.TokenValidator.ProvisionedConcurrency < 0 || e.TokenValidator.ProvisionedConcurrency > 100 {
		r.fail("tokenValidator.provisionedConcurrency", "must be between 0 and 100, got %d", e.TokenValidator.ProvisionedConcurrency)
	}
	e.TokenValidator.Validation = validatorenv.Validation(tv.str("validation", string(validatorenv.ValidationJWT)))
	if !e.TokenValidator.Validation.Valid() {
		r.fail("tokenValidator.validation", "must be %s or %s, got %q", validatorenv.ValidationJWT, validatorenv.ValidationIntrospection, e.TokenValidator.Validation)
	}
	e.LogLevel = root.str("logLevel", "INFO")
	if !containsString(LogLevels, e.LogLevel) {
		r.fail("logLevel", "must be one of %s, got %q", strings.Join(LogLevels, ", "), e.LogLevel)
	}
	e.TokenValidator.LogLevel = tv.str("logLevel", e.LogLevel)
	if !containsString(LogLevels, e.TokenValidator.LogLevel) {
		r.fail("tokenValidator.logLevel", "must be one of %s, got %q", strings.Join(LogLevels, ", "), e.TokenValidator.LogLevel)
	}
	tv.done()
	checkExternalValidation(r, &e)

	e.LogRetentionDays = root.integer("logRetentionDays", 365)
	if !contains(LogRetentionDays, e.LogRetentionDays) {
		r.fail("logRetentionDays", "must be one of the values CloudWatch Logs accepts (%s), got %d", joinInts(LogRetentionDays), e.LogRetentionDays)
	}
	e.Tags = root.stringMap("tags")
	// Every resource of the stack gets the tags, with the stack's own
	// (StackTagKeys), and the data store gets them too (DatastoreTags); a key
	// that is also a stack tag's replaces it rather than adding one.
	added := 0
	for k := range e.Tags {
		if !slices.Contains(StackTagKeys, k) {
			added++
		}
	}
	if added > MaxTags {
		r.fail("tags", "holds %d tags besides %s, at most %d: AWS allows %d tags on a resource and the stack puts %s on every one",
			added, strings.Join(StackTagKeys, " and "), MaxTags, MaxTagsPerResource, strings.Join(StackTagKeys, " and "))
	} else if added+len(StackTagKeys) > datastoreprops.MaxUserTags {
		// Unreachable while MaxTags is the smaller limit (a test checks); the
		// data store contract's rule, checked here so that cdk.json's key is
		// named rather than the construct's prop.
		r.fail("tags", "holds %d tags besides %s, at most %d: HealthLake keeps at most %d tags on a data store and its handler sets up to %d of its own",
			added, strings.Join(StackTagKeys, " and "), datastoreprops.MaxUserTags-len(StackTagKeys), datastoreprops.MaxTags, datastoreprops.HandlerTagCount)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Tags)) {
		if reason := datastoreprops.TagProblem(k, e.Tags[k]); reason != "" {
			r.fail("tags."+k, "is not a valid tag: %s", reason)
		} else if strings.HasPrefix(k, datastoreprops.TagPrefix) {
			r.fail("tags."+k, "must not start with %s (the data store handler's own tags)", datastoreprops.TagPrefix)
		}
	}
	root.done()

	if err := r.err(); err != nil {
		return Environment{}, err
	}
	return e, nil
}

// parseOkta reads the okta block.
func parseOkta(r *reader, root *object, e *Environment) {
	okta := root.object("okta", true)
	e.Okta.OrgURL = okta.str("orgUrl", "")
	if !okta.has("orgUrl") {
		r.fail("okta.orgUrl", "is required (the Okta org, such as https://dev-123456.okta.com)")
	} else if org, err := oktaprops.CheckOrgURL(e.Okta.OrgURL, false); err != nil {
		r.fail("okta.orgUrl", "%v", err)
	} else {
		e.Okta.OrgURL = org
	}
	e.Okta.CredentialSecret = okta.str("credentialSecret", "")
	switch {
	case !okta.has("credentialSecret"):
		r.fail("okta.credentialSecret", "is required (the name or ARN of the Secrets Manager secret holding the Okta management credential)")
	case !secretRefPattern.MatchString(e.Okta.CredentialSecret):
		r.fail("okta.credentialSecret", "must be a Secrets Manager secret name or ARN, got %q", e.Okta.CredentialSecret)
	}
	e.Okta.CredentialSecretKey = okta.str("credentialSecretKey", "")
	if e.Okta.CredentialSecretKey != "" {
		if err := datastoreprops.CheckKeyARN(e.Okta.CredentialSecretKey); err != nil {
			r.fail("okta.credentialSecretKey", "%v", err)
		}
	}
	e.Okta.ScopeResources = okta.stringList("scopeResources")
	e.Okta.UserGroupIDs = okta.stringList("userGroupIds")
	e.Okta.AccessTokenLifetimeMinutes = okta.integer("accessTokenLifetimeMinutes", 0)
	if l := e.Okta.AccessTokenLifetimeMinutes; l != 0 && (l < oktaprops.MinAccessTokenLifetimeMinutes || l > oktaprops.MaxAccessTokenLifetimeMinutes) {
		r.fail("okta.accessTokenLifetimeMinutes", "must be between %d and %d minutes (Okta's bounds), got %d",
			oktaprops.MinAccessTokenLifetimeMinutes, oktaprops.MaxAccessTokenLifetimeMinutes, l)
	}
	for _, k := range []struct {
		key  string
		uris *[]string
	}{
		{"confidentialClientRedirectUris", &e.Okta.ConfidentialClientRedirectURIs},
		{"publicClientRedirectUris", &e.Okta.PublicClientRedirectURIs},
	} {
		*k.uris = okta.stringList(k.key)
		for i, u := range *k.uris {
			// The stack's public client is a browser app: no custom schemes.
			if err := httpsurl.CheckRedirect(u, false); err != nil {
				r.fail(fmt.Sprintf("okta.%s[%d]", k.key, i), "%v", err)
			}
		}
	}
	e.Okta.BackendClientJWKS = okta.publicJWKS("backendClientJwks")
	e.Okta.Apps = parseApps(r, okta)
	e.Okta.PolicyAssignment = oktaprops.PolicyAssignment(okta.str("policyAssignment", string(oktaprops.PolicyAssignmentCreatedClients)))
	if !e.Okta.PolicyAssignment.Valid() {
		r.fail("okta.policyAssignment", "must be %s (the clients and apps the stack creates) or %s (every client of the Okta org, "+
			"apps registered outside the stack included), got %q", oktaprops.PolicyAssignmentCreatedClients, oktaprops.PolicyAssignmentAllClients,
			e.Okta.PolicyAssignment)
	}
	okta.done()
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func joinInts(list []int) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ", ")
}
