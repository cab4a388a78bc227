package ehrlaunch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
	"github.com/openhealthstack/smart-healthlake/internal/nagexcuse"
)

// BackendClient is a SMART backend service (client_credentials with
// private_key_jwt) whose token requests go through the token proxy. The
// service signs its client assertion for TokenUrl(), which Okta would refuse
// (an assertion's aud must be Okta's own token URL), so the proxy verifies it
// against Jwks and signs a fresh one for Okta with AssertionKey(), whose
// public half the Okta custom resource registers on the client.
type BackendClient struct {
	// ClientId is the service's Okta client id; a token is allowed (the Okta
	// custom resource's attribute), counted as ClientIdAllowance bytes in
	// the environment's size check. Required.
	ClientId *string
	// Jwks is the service's PUBLIC JSON Web Key Set, {"keys": [...]}, as
	// literal JSON: RSA keys with n and e, no private member (the rule of the
	// Okta construct's backend JWKS, oktaprops.PublicJWKS). It goes into the
	// function's environment as it is, so it counts against Lambda's 4 KB
	// limit on all environment variables. Required.
	Jwks *string
}

// Sizes of the function's environment.
const (
	// MaxEnvironmentBytes is Lambda's limit on all environment variables of a
	// function together (Lambda quotas: "Function environment variables: 4 KB,
	// for all environment variables associated with the function, in
	// aggregate"), as Lambda measures them: the variables' JSON object.
	MaxEnvironmentBytes = 4096
	// ClientIdAllowance is what the synthesis-time size check counts for a
	// deploy-time Okta client id (App.ClientId, BackendClient.ClientId, such
	// as the Okta custom resource's attributes). Okta fills in the app's
	// instance id when no client_id is given (management API spec,
	// ApplicationCredentialsOAuthClient.client_id: "If you don't specify the
	// client_id, this immutable property is populated with the Application
	// instance ID"), 20 characters ("0oa" and 17 more), and the Okta
	// construct never gives one: 24 leaves room.
	ClientIdAllowance = 24
	// TokenAllowance is what the size check counts for any other deploy-time
	// value (an ARN, a URL, a table name): the length such values have in a
	// deployment of this module (a data store endpoint is about 100 bytes, a
	// role ARN without a path about 70). It is an assumption, not a bound:
	// an in-stack EHR role with a long IAM path, or a long custom Okta
	// domain, is longer, and Lambda then refuses the environment at deploy.
	TokenAllowance = 128
	// IssuerAllowance is what it counts for the deploy-time Okta issuer and
	// a generated secret ARN: the room contract/oktaprops reserves for them
	// in its own size budget (a 100-character custom domain host).
	IssuerAllowance = 160
	// apiIDAllowance, regionAllowance and urlSuffixAllowance count the parts
	// of the API's execute-api URL: a REST API id is 10 characters (API
	// Gateway's RestApi.id), the longest region name is 14 and the longest
	// partition DNS suffix 16 ("amazonaws.com.cn"; aws-sdk-go-v2's
	// partitions.json).
	apiIDAllowance     = 10
	regionAllowance    = 20
	urlSuffixAllowance = 20
)

// tokenMarker matches CDK's encoding of a string token in a string.
var tokenMarker = regexp.MustCompile(`\$\{Token\[[^\]]*\]\}`)

// estimate is s with each token counted as allowance bytes: exact for a
// literal, the literal parts of a string with tokens exact. A token that
// stands for a whole value (a reference, or a join made elsewhere, such as
// a composite's) is one allowance: this construct's own joins (the stage
// URL, the CORS origins, the EHR roles, the client lists) are estimated
// from their parts instead.
func estimate(s *string, allowance int) string {
	if s == nil {
		return ""
	}
	if !*awscdk.Token_IsUnresolved(s) {
		return *s
	}
	out := tokenMarker.ReplaceAllString(*s, strings.Repeat("x", allowance))
	if out == *s {
		// Not in the marker form (a list or number token): one value.
		return strings.Repeat("x", allowance)
	}
	return out
}

// jsonSize is the size of v as a JSON string, quotes and escapes included:
// what a value takes in the environment's JSON object.
func jsonSize(v string) int {
	raw, _ := json.Marshal(v) // a string
	return len(raw)
}

// environmentSize is the size Lambda measures of env, whose values are the
// estimates (see estimate): the JSON object of the variables.
func environmentSize(env map[string]string) int {
	raw, _ := json.Marshal(env) // strings only
	return len(raw)
}

// backendClients checks props.BackendClients and returns each client's JWKS
// compacted.
func backendClients(p *EhrLaunchProps) ([]string, error) {
	if p.BackendClients == nil {
		return nil, nil
	}
	launched := map[string]bool{}
	for _, a := range *p.Apps {
		if a != nil && a.ClientId != nil && !*awscdk.Token_IsUnresolved(a.ClientId) {
			launched[*a.ClientId] = true
		}
	}
	seen := map[string]bool{}
	var out []string
	for i, b := range *p.BackendClients {
		prop := fmt.Sprintf("props.BackendClients[%d]", i)
		switch {
		case b == nil || b.ClientId == nil || *b.ClientId == "":
			return nil, fmt.Errorf("%s.ClientId is required", prop)
		case b.Jwks == nil || *b.Jwks == "":
			return nil, fmt.Errorf("%s.Jwks is required: the service's public JSON Web Key Set {\"keys\": [...]}", prop)
		case *awscdk.Token_IsUnresolved(b.Jwks):
			return nil, fmt.Errorf("%s.Jwks must be literal JSON: it is checked for private key material and measured at synthesis", prop)
		}
		if !*awscdk.Token_IsUnresolved(b.ClientId) {
			id := *b.ClientId
			switch {
			case seen[id]:
				return nil, fmt.Errorf("%s.ClientId %q is listed twice", prop, id)
			case launched[id]:
				return nil, fmt.Errorf("%s.ClientId %q is also in props.Apps: a backend service has no redirect URI and is not launched", prop, id)
			}
			seen[id] = true
		}
		if _, err := oktaprops.PublicJWKS(json.RawMessage(*b.Jwks)); err != nil {
			return nil, fmt.Errorf("%s.Jwks %v", prop, err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(*b.Jwks)); err != nil {
			return nil, fmt.Errorf("%s.Jwks: %v", prop, err) // valid JSON (PublicJWKS)
		}
		out = append(out, compact.String())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("props.BackendClients is empty: leave it out, or list at least one service")
	}
	return out, nil
}

// newAssertionKey creates the proxy's assertion key.
func (e *EhrLaunch) newAssertionKey() awskms.Key {
	key := awskms.NewKey(e, jsii.String("AssertionKey"), &awskms.KeyProps{
		Description: jsii.String("Signs the EHR launch token proxy's client assertions to Okta for SMART backend services " +
			"(its public half is in their Okta clients' JWKS)"),
		KeySpec:  awskms.KeySpec(ehrlaunchenv.AssertionKeySpec),
		KeyUsage: awskms.KeyUsage_SIGN_VERIFY,
		// It signs only short-lived assertions (ehrlaunchenv.MaxAssertionLifetime)
		// and nothing is encrypted with it: once the backend services are
		// gone from the stack it has nothing left to do (KMS still waits 30
		// days before deleting it).
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		// The default policy's account statement (IAM policies grant
		// GetPublicKey and administration, as for any key), and an explicit
		// deny of Sign to every principal but the function's role (denySign,
		// once the role exists): without it any principal with kms:Sign, or
		// kms:CreateGrant, on * in an IAM policy could mint assertions Okta
		// accepts for every backend service. An explicit deny in the key
		// policy overrides IAM policies and grants alike (KMS Developer
		// Guide, "Authentication and access control": policy evaluation).
		Policy: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("AccountThroughIAM"),
				Principals: &[]awsiam.IPrincipal{awsiam.NewAccountRootPrincipal()},
				Actions:    jsii.Strings("kms:*"),
				Resources:  jsii.Strings("*"),
			}),
		}}),
	})
	rotation := "An asymmetric RSA_2048 signing key: KMS rotates only symmetric encryption keys, and its public half is " +
		"registered in Okta by kid, so a new key comes with a new deployment (a new key, a new kid in the clients' JWKS)."
	nagexcuse.On(key, true,
		nagexcuse.Excuse{Rule: "AwsSolutions-KMS5", Reason: rotation},
		nagexcuse.Excuse{Rule: "HIPAA.Security-KMSBackingKeyRotationEnabled", Reason: rotation})
	return key
}

// denySign keeps every principal but role from signing with the assertion
// key, whatever its IAM policies or grants allow (though whoever may run code
// as the role, by changing the function's code or passing the role to a new
// function, or may change the key policy, still can): an explicit deny for any
// principal whose aws:PrincipalArn is not the role's ARN (for a role's
// sessions it is the role's ARN: IAM's global condition keys). The role
// signs through its IAM grant and the account statement. The role is named
// in a condition, not as a principal: KMS refuses a key policy naming a
// principal it cannot see yet (CreateKey and PutKeyPolicy reference: "you
// might need to enforce a delay before including the new principal"), and
// the role is created in the same deployment just before the key.
func denySign(key awskms.Key, role awsiam.IRole) {
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("OnlyTheTokenProxySigns"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:Sign"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": role.RoleArn()}},
	}), jsii.Bool(false))
}

// backendClientsJSON renders EHRLAUNCH_BACKEND_CLIENTS (a JSON array of
// ehrlaunchenv.BackendClient) with the client ids as CloudFormation fills
// them in and each JWKS as given (compacted); backendEntry is its estimate.
func backendClientsJSON(stack awscdk.Stack, clients []*BackendClient, jwks []string) *string {
	parts := []*string{jsii.String("[")}
	for i, c := range clients {
		if i > 0 {
			parts = append(parts, jsii.String(","))
		}
		parts = append(parts, jsii.String(`{"`+ehrlaunchenv.BackendFieldID+`":`), stack.ToJsonString(c.ClientId, nil),
			jsii.String(`,"`+ehrlaunchenv.BackendFieldJWKS+`":`+jwks[i]+"}"))
	}
	parts = append(parts, jsii.String("]"))
	return awscdk.Fn_Join(jsii.String(""), &parts)
}

// backendEntry is one service's entry of EHRLAUNCH_BACKEND_CLIENTS as
// backendClientsJSON renders it, with id the client id (or its estimate).
func backendEntry(id, jwks string) string {
	quoted, _ := json.Marshal(id) // a string
	return `{"` + ehrlaunchenv.BackendFieldID + `":` + string(quoted) + `,"` + ehrlaunchenv.BackendFieldJWKS + `":` + jwks + "}"
}
