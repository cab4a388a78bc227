package envconfig_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/stacks/envconfig"
)

// decode turns JSON into the value CDK hands the app for a context key.
func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

const minimal = `{"okta": {"orgUrl": "https://dev-1.okta.com", "credentialSecret": "smart/okta"}}`

func TestTheSmallestEnvironmentGetsSecureDefaults(t *testing.T) {
	envs, err := envconfig.Parse(decode(t, `{"staging": `+minimal+`}`))
	require.NoError(t, err)
	require.Len(t, envs, 1)
	e := envs[0]
	require.Equal(t, "staging", e.Name)
	require.Equal(t, "SmartHealthLake-staging", e.StackName())
	require.False(t, e.Production)
	require.Equal(t, "https://dev-1.okta.com", e.Okta.OrgURL)
	require.Equal(t, "smart/okta", e.Okta.CredentialSecret)
	require.Equal(t, "smart-healthlake-staging", e.Datastore.Name)
	require.Equal(t, smart.V2, e.Datastore.SmartVersion)
	require.True(t, e.Datastore.FineGrainedAuthorization)
	require.Equal(t, envconfig.EncryptionCustomerManaged, e.Datastore.Encryption)
	require.False(t, e.Datastore.PreloadSynthea, "Synthea preload is for dev only")
	require.Equal(t, envconfig.RemovalRetain, e.Datastore.RemovalPolicy)
	require.Equal(t, 365, e.LogRetentionDays)
	require.Equal(t, 0, e.TokenValidator.ProvisionedConcurrency)
	require.Equal(t, validatorenv.ValidationJWT, e.TokenValidator.Validation)
	require.Equal(t, "INFO", e.LogLevel)
	require.Equal(t, "INFO", e.TokenValidator.LogLevel, "the validator follows the environment's level")
	require.Empty(t, e.Account)
	require.Empty(t, e.Region)
}

func TestDevPreloadsSyntheaAndProdIsProductionByDefault(t *testing.T) {
	envs, err := envconfig.Parse(decode(t, `{"dev": `+minimal+`, "prod": `+minimal+`}`))
	require.NoError(t, err)
	require.Equal(t, "dev", envs[0].Name)
	require.True(t, envs[0].Datastore.PreloadSynthea)
	require.False(t, envs[0].Production)
	require.Equal(t, "prod", envs[1].Name)
	require.True(t, envs[1].Production)
	require.False(t, envs[1].Datastore.PreloadSynthea)
}

func TestEveryKeyIsRead(t *testing.T) {
	envs, err := envconfig.Parse(decode(t, `{"eu": {
		"account": "123456789012", "region": "eu-west-1", "production": true,
		"okta": {"orgUrl": "https://acme.okta.com/", "credentialSecret": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:okta-AbCdEf",
		         "credentialSecretKey": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		         "policyAssignment": "ALL_CLIENTS"},
		"datastore": {"name": "acme fhir", "smartVersion": "v1", "fineGrainedAuthorization": false,
		              "encryption": "aws-owned", "preloadSynthea": false, "removalPolicy": "retain",
		              "acknowledgeReplacement": true},
		"tokenValidator": {"provisionedConcurrency": 3, "validation": "introspection", "logLevel": "WARN"},
		"logRetentionDays": 731, "logLevel": "DEBUG",
		"tags": {"CostCenter": "42", "owner": "fhir-team"}}}`))
	require.NoError(t, err)
	e := envs[0]
	require.Equal(t, envconfig.Environment{
		Name: "eu", Account: "123456789012", Region: "eu-west-1", Production: true,
		Okta: envconfig.Okta{OrgURL: "https://acme.okta.com", CredentialSecret: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:okta-AbCdEf",
			CredentialSecretKey: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
			PolicyAssignment:    oktaprops.PolicyAssignmentAllClients},
		Datastore: envconfig.Datastore{Name: "acme fhir", SmartVersion: smart.V1, FineGrainedAuthorization: false,
			Encryption: envconfig.EncryptionAWSOwned, PreloadSynthea: false, RemovalPolicy: envconfig.RemovalRetain,
			AcknowledgeReplacement: true},
		TokenValidator:   envconfig.TokenValidator{ProvisionedConcurrency: 3, Validation: validatorenv.ValidationIntrospection, LogLevel: "WARN"},
		LogRetentionDays: 731,
		LogLevel:         "DEBUG",
		Tags:             map[string]string{"CostCenter": "42", "owner": "fhir-team"},
	}, e)
	require.Equal(t, "SMART_ON_FHIR_V1", e.Datastore.SmartVersion.AuthorizationStrategy())
}

func TestBadConfigurationNamesTheEnvironmentAndTheKey(t *testing.T) {
	cases := []struct {
		name string
		env  string // the "prod" environment's JSON
		want string
	}{
		{"okta missing", `{}`, `environment "prod": okta is required`},
		{"org URL missing", `{"okta": {"credentialSecret": "s"}}`, `environment "prod": okta.orgUrl is required`},
		{"org URL over http", `{"okta": {"orgUrl": "http://acme.okta.com", "credentialSecret": "s"}}`, `environment "prod": okta.orgUrl must be an https URL`},
		{"org URL not a URL", `{"okta": {"orgUrl": "acme.okta.com", "credentialSecret": "s"}}`, `environment "prod": okta.orgUrl must be an https URL`},
		{"org URL with a path", `{"okta": {"orgUrl": "https://acme.okta.com/oauth2/default", "credentialSecret": "s"}}`, `environment "prod": okta.orgUrl must be an https URL with a host and no path`},
		{"org URL of the admin console (oktaprops.CheckOrgURL, as the handler refuses it)", `{"okta": {"orgUrl": "https://acme-admin.okta.com", "credentialSecret": "s"}}`, `environment "prod": okta.orgUrl must be the org address, not the admin console's (-admin)`},
		{"org URL of the wrong type", `{"okta": {"orgUrl": 42, "credentialSecret": "s"}}`, `environment "prod": okta.orgUrl must be a string, got a number (42)`},
		{"credential secret missing", `{"okta": {"orgUrl": "https://a.okta.com"}}`, `environment "prod": okta.credentialSecret is required`},
		{"credential secret invalid", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "not a secret!"}}`, `environment "prod": okta.credentialSecret must be a Secrets Manager secret name or ARN`},
		{"credential key not an ARN", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "credentialSecretKey": "alias/okta"}}`, `environment "prod": okta.credentialSecretKey must be a KMS key ARN`},
		{"scope resources not a list", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "scopeResources": "Patient"}}`, `environment "prod": okta.scopeResources must be a list of strings`},
		{"an empty scope resource", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "scopeResources": ["Patient", ""]}}`, `environment "prod": okta.scopeResources[1] must be a non-empty string`},
		{"token lifetime too long", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "accessTokenLifetimeMinutes": 2880}}`, `environment "prod": okta.accessTokenLifetimeMinutes must be between 5 and 1440`},
		{"redirect over http", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "confidentialClientRedirectUris": ["http://app.example.org/cb"]}}`, `environment "prod": okta.confidentialClientRedirectUris[0] must be https (http only for localhost, 127.0.0.1 or [::1])`},
		{"a wildcard redirect (httpsurl.CheckRedirect, as the Okta resource refuses it)", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "publicClientRedirectUris": ["https://*.example.org/cb"]}}`, `environment "prod": okta.publicClientRedirectUris[0] must not hold a wildcard`},
		{"a custom-scheme redirect: the stack's public client is a browser app", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "publicClientRedirectUris": ["com.example.app:/cb"]}}`, `environment "prod": okta.publicClientRedirectUris[0] must be https (custom schemes only for native public apps)`},
		{"a private key in the backend JWKS", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "backendClientJwks": {"keys": [{"kty": "RSA", "n": "x", "e": "AQAB", "d": "secret"}]}}}`, `environment "prod": okta.backendClientJwks.keys[0] holds private key material ("d")`},
		{"a JWKS without keys", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "backendClientJwks": {}}}`, `environment "prod": okta.backendClientJwks must be a JSON Web Key Set object`},
		{"okta of the wrong type", `{"okta": "https://a.okta.com"}`, `environment "prod": okta must be an object`},
		{"unknown SMART version", `{"okta": ` + oktaOK + `, "datastore": {"smartVersion": "v3"}}`, `environment "prod": datastore.smartVersion must be v1 (SMART_ON_FHIR_V1) or v2 (SMART_ON_FHIR), got "v3"`},
		{"SMART version of the wrong type", `{"okta": ` + oktaOK + `, "datastore": {"smartVersion": 2}}`, `environment "prod": datastore.smartVersion must be a string`},
		{"fine-grained flag as a string", `{"okta": ` + oktaOK + `, "datastore": {"fineGrainedAuthorization": "yes"}}`, `environment "prod": datastore.fineGrainedAuthorization must be true or false, got a string ("yes")`},
		{"unknown encryption", `{"okta": ` + oktaOK + `, "datastore": {"encryption": "kms"}}`, `environment "prod": datastore.encryption must be customer-managed or aws-owned`},
		{"Synthea in production", `{"okta": ` + oktaOK + `, "datastore": {"preloadSynthea": true}}`, `environment "prod": datastore.preloadSynthea must be false in a production environment`},
		{"destroy in production", `{"okta": ` + oktaOK + `, "datastore": {"removalPolicy": "destroy"}}`, `environment "prod": datastore.removalPolicy must be retain in a production environment`},
		{"unknown removal policy", `{"okta": ` + oktaOK + `, "datastore": {"removalPolicy": "snapshot"}}`, `environment "prod": datastore.removalPolicy must be retain or destroy`},
		{"data store name too odd", `{"okta": ` + oktaOK + `, "datastore": {"name": "a*b"}}`, `environment "prod": datastore.name must be 1-256`},
		{"bad account", `{"account": "1234", "okta": ` + oktaOK + `}`, `environment "prod": account must be a 12-digit AWS account id`},
		{"account as a number", `{"account": 123456789012, "okta": ` + oktaOK + `}`, `environment "prod": account must be a string`},
		{"bad region", `{"region": "Europe", "okta": ` + oktaOK + `}`, `environment "prod": region must be an AWS region`},
		{"odd log retention", `{"logRetentionDays": 42, "okta": ` + oktaOK + `}`, `environment "prod": logRetentionDays must be one of the values CloudWatch Logs accepts`},
		{"fractional log retention", `{"logRetentionDays": 30.5, "okta": ` + oktaOK + `}`, `environment "prod": logRetentionDays must be a whole number`},
		{"negative provisioned concurrency", `{"tokenValidator": {"provisionedConcurrency": -1}, "okta": ` + oktaOK + `}`, `environment "prod": tokenValidator.provisionedConcurrency must be between 0 and 100`},
		{"provisioned concurrency as a string", `{"tokenValidator": {"provisionedConcurrency": "2"}, "okta": ` + oktaOK + `}`, `environment "prod": tokenValidator.provisionedConcurrency must be a whole number`},
		{"unknown validation mode", `{"tokenValidator": {"validation": "trust-me"}, "okta": ` + oktaOK + `}`, `environment "prod": tokenValidator.validation must be jwt or introspection`},
		{"unknown log level", `{"logLevel": "VERBOSE", "okta": ` + oktaOK + `}`, `environment "prod": logLevel must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, got "VERBOSE"`},
		{"log level as a number", `{"logLevel": 3, "okta": ` + oktaOK + `}`, `environment "prod": logLevel must be a string`},
		{"unknown validator log level", `{"tokenValidator": {"logLevel": "quiet"}, "okta": ` + oktaOK + `}`, `environment "prod": tokenValidator.logLevel must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, got "quiet"`},
		{"production as a string", `{"production": "true", "okta": ` + oktaOK + `}`, `environment "prod": production must be true or false`},
		{"tags as a list", `{"tags": ["a"], "okta": ` + oktaOK + `}`, `environment "prod": tags must be an object of strings`},
		{"tag value as a number", `{"tags": {"CostCenter": 42}, "okta": ` + oktaOK + `}`, `environment "prod": tags.CostCenter must be a string`},
		{"reserved tag key", `{"tags": {"aws:owner": "x"}, "okta": ` + oktaOK + `}`, `environment "prod": tags.aws:owner is not a valid tag: the key must not start with aws:`},
		// The data store contract's rules (datastoreprops), as the handler applies them to the data store's tags.
		{"the data store handler's own tag key", `{"tags": {"smart-healthlake:stack-id": "x"}, "okta": ` + oktaOK + `}`,
			`environment "prod": tags.smart-healthlake:stack-id must not start with smart-healthlake:`},
		// The one KMS ARN rule (datastoreprops.CheckKeyARN): a region that is no region is refused here as by the handler.
		{"credential key ARN without a region", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "credentialSecretKey": "arn:aws:kms:eu:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}`,
			`environment "prod": okta.credentialSecretKey must be a KMS key ARN`},
		// An alias ARN is a KMS ARN, but the stack grants kms:Decrypt on the key, which an alias ARN does not cover: refused, saying why.
		{"credential key given by alias ARN", `{"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s", "credentialSecretKey": "arn:aws:kms:eu-west-1:123456789012:alias/okta"}}`,
			`environment "prod": okta.credentialSecretKey must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias ARN`},
		{"a typo in a key", `{"okta": {"orgURL": "https://a.okta.com", "orgUrl": "https://a.okta.com", "credentialSecret": "s"}}`, `environment "prod": okta.orgURL is not a known key`},
		{"an unknown top-level key", `{"okta": ` + oktaOK + `, "vpc": {}}`, `environment "prod": vpc is not a known key`},
		{"the environment is not an object", `"prod"`, `environment "prod": must be an object`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := envconfig.Parse(decode(t, `{"dev": `+minimal+`, "prod": `+c.env+`}`))
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.NotContains(t, err.Error(), `environment "dev"`, "only the bad environment is named")
		})
	}
}

const oktaOK = `{"orgUrl": "https://a.okta.com", "credentialSecret": "s"}`

func TestOktaAppsAndScopesAreRead(t *testing.T) {
	envs, err := envconfig.Parse(decode(t, `{"dev": {"okta": {"orgUrl": "https://a.okta.com", "credentialSecret": "s",
		"scopeResources": ["Patient", "Observation"], "userGroupIds": ["00g1"], "accessTokenLifetimeMinutes": 30,
		"confidentialClientRedirectUris": ["https://app.example.org/cb"], "publicClientRedirectUris": ["http://localhost:3000/cb"],
		"backendClientJwks": {"keys": [{"kty": "RSA", "kid": "k1", "n": "abc", "e": "AQAB"}]}}}}`))
	require.NoError(t, err)
	o := envs[0].Okta
	require.Equal(t, []string{"Patient", "Observation"}, o.ScopeResources)
	require.Equal(t, []string{"00g1"}, o.UserGroupIDs)
	require.Equal(t, 30, o.AccessTokenLifetimeMinutes)
	require.Equal(t, []string{"https://app.example.org/cb"}, o.ConfidentialClientRedirectURIs)
	require.Equal(t, []string{"http://localhost:3000/cb"}, o.PublicClientRedirectURIs)
	require.JSONEq(t, `{"keys": [{"kty": "RSA", "kid": "k1", "n": "abc", "e": "AQAB"}]}`, o.BackendClientJWKS)
}

func TestEveryErrorOfAnEnvironmentIsReportedAtOnce(t *testing.T) {
	_, err := envconfig.Parse(decode(t, `{"prod": {"okta": {"orgUrl": "http://x"}, "datastore": {"smartVersion": "v9"}}}`))
	require.Error(t, err)
	msg := err.Error()
	for _, key := range []string{"okta.orgUrl", "okta.credentialSecret", "datastore.smartVersion"} {
		require.Contains(t, msg, key)
	}
	require.Equal(t, 3, strings.Count(msg, "\n")+1, msg)
}

func TestTheContextItselfMustHoldEnvironments(t *testing.T) {
	for name, raw := range map[string]string{"missing": `null`, "a list": `["dev"]`, "empty": `{}`} {
		t.Run(name, func(t *testing.T) {
			_, err := envconfig.Parse(decode(t, raw))
			require.ErrorContains(t, err, `context "smart-healthlake:environments"`)
		})
	}
	_, err := envconfig.Parse(decode(t, `{"dev_1": `+minimal+`}`))
	require.ErrorContains(t, err, `environment "dev_1": the name must start with a letter`)
}

func TestSelectPicksOneEnvironmentOrAll(t *testing.T) {
	envs, err := envconfig.Parse(decode(t, `{"dev": `+minimal+`, "prod": `+minimal+`}`))
	require.NoError(t, err)

	all, err := envconfig.Select(envs, nil)
	require.NoError(t, err)
	require.Len(t, all, 2)

	one, err := envconfig.Select(envs, "prod")
	require.NoError(t, err)
	require.Len(t, one, 1)
	require.Equal(t, "prod", one[0].Name)

	_, err = envconfig.Select(envs, "staging")
	require.EqualError(t, err, `-c env=staging: no environment "staging" in cdk.json (known: dev, prod)`)

	_, err = envconfig.Select(envs, 42.0)
	require.ErrorContains(t, err, "-c env=...: must be an environment name")
}

// TestTheRepositorysCdkJsonIsValid reads the cdk.json that `cdk synth` uses.
func TestTheRepositorysCdkJsonIsValid(t *testing.T) {
	b, err := os.ReadFile("../../cdk.json")
	require.NoError(t, err)
	var cdk struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	require.NoError(t, json.Unmarshal(b, &cdk))
	envs, err := envconfig.Parse(cdk.Context[envconfig.ContextKey])
	require.NoError(t, err)
	names := []string{}
	for _, e := range envs {
		names = append(names, e.Name)
	}
	require.Subset(t, names, []string{"dev", "prod"})
	for _, e := range envs {
		if e.Name == "prod" {
			require.True(t, e.Production)
			require.Equal(t, envconfig.RemovalRetain, e.Datastore.RemovalPolicy)
		}
	}
}

func TestTagsLeaveRoomForTheStacksOwnOnEveryResource(t *testing.T) {
	tags := func(n int, extra ...string) string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("t%02d", i)] = "v"
		}
		for _, k := range extra {
			m[k] = "mine"
		}
		raw, err := json.Marshal(m)
		require.NoError(t, err)
		return `{"okta": ` + oktaOK + `, "tags": ` + string(raw) + `}`
	}
	parse := func(env string) error {
		_, err := envconfig.Parse(decode(t, `{"prod": `+env+`}`))
		return err
	}
	t.Run("48 tags fit: with Application and Environment, 50 on each resource", func(t *testing.T) {
		require.NoError(t, parse(tags(48)))
	})
	t.Run("49 are refused naming cdk.json's tags and why", func(t *testing.T) {
		err := parse(tags(49))
		require.Error(t, err)
		assert.Contains(t, err.Error(), `environment "prod": tags holds 49 tags besides Application and Environment, at most 48: AWS allows 50 tags on a resource`)
	})
	t.Run("a tag replacing a stack tag adds none", func(t *testing.T) {
		require.NoError(t, parse(tags(48, "Environment", "Application")))
	})
	t.Run("the per-resource limit is the smaller: the data store's can never be the one that fails", func(t *testing.T) {
		assert.Equal(t, envconfig.MaxTagsPerResource-len(envconfig.StackTagKeys), envconfig.MaxTags)
		assert.LessOrEqual(t, envconfig.MaxTags+len(envconfig.StackTagKeys), datastoreprops.MaxUserTags,
			"the data store gets the stack's tags too (DatastoreTags)")
	})
}
