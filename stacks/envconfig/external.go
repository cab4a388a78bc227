package envconfig

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

// Authorization servers an environment can use. Key: authorizationServer.
const (
	// AuthorizationServerOkta: the stack provisions an Okta custom
	// authorization server (the okta block). The default.
	AuthorizationServerOkta = "okta"
	// AuthorizationServerExternal: an OAuth 2.0 authorization server the team
	// already runs (Amazon Cognito, Microsoft Entra ID, Keycloak, Auth0, Ping,
	// ...), described by the external block; nothing is provisioned on it.
	AuthorizationServerExternal = "external"
)

// External is an authorization server the stack does not provision. Its
// endpoints are written into the data store's SMART configuration at synth
// time and checked against the server's live discovery document at deploy
// time; the token validator trusts its issuer, keys and audiences.
type External struct {
	// Issuer is the exact iss of its access tokens (an https URL).
	// Key: external.issuer. Required.
	Issuer string
	// DiscoveryURL is where its metadata is served.
	// Key: external.discoveryUrl. Default: Issuer + /.well-known/openid-configuration,
	// then Issuer + /.well-known/oauth-authorization-server.
	DiscoveryURL string
	// SkipDiscoveryCheck turns off the deploy-time comparison of the endpoints
	// with the live discovery document, for a server the data store handler
	// cannot reach. Key: external.skipDiscoveryCheck. Default: false.
	SkipDiscoveryCheck bool
	// AuthorizationEndpoint, TokenEndpoint and JwksURI are the server's URLs.
	// Keys: external.authorizationEndpoint, external.tokenEndpoint,
	// external.jwksUri. Required.
	AuthorizationEndpoint string
	TokenEndpoint         string
	JwksURI               string
	// IntrospectionEndpoint (RFC 7662), RevocationEndpoint (RFC 7009) and
	// ManagementEndpoint (SMART's app-access management page) are advertised
	// when given. Keys: external.introspectionEndpoint,
	// external.revocationEndpoint, external.managementEndpoint. Default: none.
	IntrospectionEndpoint string
	RevocationEndpoint    string
	ManagementEndpoint    string
	// ScopesSupported are advertised in the SMART configuration.
	// Key: external.scopesSupported. Default: none advertised.
	ScopesSupported []string
	// Supports are the SMART flows the server serves (smartmeta feature names:
	// confidential-clients, public-clients, backend-services, patient-context,
	// openid-connect, refresh-tokens). Key: external.supports. Default: none
	// (the SMART version and authorization_code only).
	Supports []string
	// Audiences are accepted token aud values besides the data store endpoint.
	// Key: external.audiences. Default: the data store endpoint only.
	Audiences []string
	// ClientIDs, when given, is an allow-list: a token's client (client_id,
	// Okta's cid, Entra ID's azp or appid) must be in it.
	// Key: external.clientIds. Default: any client.
	ClientIDs []string
	// ClientIDsStandInForAudience accepts a token WITHOUT aud when its client is
	// in ClientIDs (Amazon Cognito's access tokens carry no aud). Never without
	// ClientIDs. Key: external.clientIdsStandInForAudience. Default: false.
	ClientIDsStandInForAudience bool
	// ScopeClaim is the claim that holds the scopes: scope or scp.
	// Key: external.scopeClaim. Default: scp, else scope.
	ScopeClaim string
	// ScopeMap rewrites token scopes into SMART's form: each key is a prefix
	// of a token scope, replaced by its value; the longest matching key wins;
	// other scopes are kept as they are. Key: external.scopeMap.
	// Default: none. Example for Entra ID: {"patient.": "patient/"}.
	ScopeMap map[string]string
	// IntrospectionClientSecret is the name or ARN of the Secrets Manager
	// secret holding {"client_id", "client_secret"} of a client allowed to
	// introspect; required with tokenValidator.validation introspection.
	// Key: external.introspectionClientSecret.
	IntrospectionClientSecret string
	// IntrospectionClientSecretKey is the ARN of the customer-managed KMS key
	// that secret is encrypted with, so the validator may decrypt it through
	// Secrets Manager. Key: external.introspectionClientSecretKey.
	// Default: none (the aws/secretsmanager key).
	IntrospectionClientSecretKey string
}

// AuthorizationServer names the environment's authorization server:
// AuthorizationServerExternal when External is set, else AuthorizationServerOkta.
func (e Environment) AuthorizationServer() string {
	if e.External != nil {
		return AuthorizationServerExternal
	}
	return AuthorizationServerOkta
}

// parseExternal reads the external block.
func parseExternal(r *reader, root *object) *External {
	o := root.object("external", true)
	x := &External{}
	url := func(key string, required bool) string {
		v := o.str(key, "")
		switch {
		case v == "" && required:
			r.fail(o.key(key), "is required when authorizationServer is %s", AuthorizationServerExternal)
		case v != "" && !isEndpointURL(v):
			r.fail(o.key(key), "must be an absolute https URL without user info or fragment, got %q", v)
		}
		return v
	}
	x.Issuer = url("issuer", true)
	x.DiscoveryURL = url("discoveryUrl", false)
	x.SkipDiscoveryCheck = o.boolean("skipDiscoveryCheck", false)
	x.AuthorizationEndpoint = url("authorizationEndpoint", true)
	x.TokenEndpoint = url("tokenEndpoint", true)
	x.JwksURI = url("jwksUri", true)
	x.IntrospectionEndpoint = url("introspectionEndpoint", false)
	x.RevocationEndpoint = url("revocationEndpoint", false)
	x.ManagementEndpoint = url("managementEndpoint", false)

	x.ScopesSupported = o.stringList("scopesSupported")
	for i, s := range x.ScopesSupported {
		if strings.ContainsAny(s, " \t\n") {
			r.fail(fmt.Sprintf("%s[%d]", o.key("scopesSupported"), i), "must be one scope without spaces, got %q", s)
		}
	}
	x.Supports = o.stringList("supports")
	for i, f := range x.Supports {
		if _, err := smart.ParseFeatures([]string{f}); err != nil {
			r.fail(fmt.Sprintf("%s[%d]", o.key("supports"), i), "must be one of %s, got %q", strings.Join(smart.Support{
				ConfidentialClients: true, PublicClients: true, BackendServices: true,
				PatientContext: true, OpenIDConnect: true, RefreshTokens: true,
			}.Features(), ", "), f)
		}
	}

	x.Audiences = o.stringList("audiences")
	x.ClientIDs = o.stringList("clientIds")
	for _, l := range []struct {
		key  string
		list []string
	}{{"audiences", x.Audiences}, {"clientIds", x.ClientIDs}} {
		for i, v := range l.list {
			// The validator reads them as one comma-separated variable.
			if strings.ContainsAny(v, ", \t\n") {
				r.fail(fmt.Sprintf("%s[%d]", o.key(l.key), i), "must not contain commas or spaces, got %q", v)
			}
		}
	}
	x.ClientIDsStandInForAudience = o.boolean("clientIdsStandInForAudience", false)
	if x.ClientIDsStandInForAudience && len(x.ClientIDs) == 0 {
		// Tokens without aud, from any client of the issuer: any app registered
		// with the same server (for another API) could use its tokens here.
		r.fail(o.key("clientIdsStandInForAudience"), "needs %s: without an allow-list of client ids, tokens with no audience "+
			"would be accepted from any client of the issuer", o.key("clientIds"))
	}

	x.ScopeClaim = o.str("scopeClaim", "")
	if c := validatorenv.ScopeClaim(x.ScopeClaim); c != "" && c != validatorenv.ClaimScope && c != validatorenv.ClaimScp {
		r.fail(o.key("scopeClaim"), "must be %s (RFC 9068, Keycloak, Auth0, Ping, Cognito) or %s (Okta, Entra ID), got %q",
			validatorenv.ClaimScope, validatorenv.ClaimScp, x.ScopeClaim)
	}
	x.ScopeMap = o.stringMap("scopeMap")
	for _, k := range slices.Sorted(maps.Keys(x.ScopeMap)) {
		if err := validatorenv.CheckScopeMapEntry(k, x.ScopeMap[k]); err != nil {
			r.fail(o.key("scopeMap")+"."+k, "must map a scope prefix to a replacement: %v, got %q -> %q", err, k, x.ScopeMap[k])
		}
	}
	if len(x.ScopeMap) == 0 {
		x.ScopeMap = nil
	}

	x.IntrospectionClientSecret = o.str("introspectionClientSecret", "")
	if x.IntrospectionClientSecret != "" && !secretRefPattern.MatchString(x.IntrospectionClientSecret) {
		r.fail(o.key("introspectionClientSecret"), "must be a Secrets Manager secret name or ARN, got %q", x.IntrospectionClientSecret)
	}
	x.IntrospectionClientSecretKey = o.str("introspectionClientSecretKey", "")
	switch {
	case x.IntrospectionClientSecretKey != "" && datastoreprops.CheckKeyARN(x.IntrospectionClientSecretKey) != nil:
		r.fail(o.key("introspectionClientSecretKey"), "%v", datastoreprops.CheckKeyARN(x.IntrospectionClientSecretKey))
	case x.IntrospectionClientSecretKey != "" && x.IntrospectionClientSecret == "":
		r.fail(o.key("introspectionClientSecretKey"), "is the key of %s, which is not set", o.key("introspectionClientSecret"))
	}
	o.done()
	return x
}

// checkExternalValidation cross-checks the external block with the token
// validator's mode, once both are read.
func checkExternalValidation(r *reader, e *Environment) {
	if e.External == nil || e.TokenValidator.Validation != validatorenv.ValidationIntrospection {
		return
	}
	if e.External.IntrospectionEndpoint == "" {
		r.fail("external.introspectionEndpoint", "is required when tokenValidator.validation is %s", validatorenv.ValidationIntrospection)
	}
	if e.External.IntrospectionClientSecret == "" {
		r.fail("external.introspectionClientSecret", "is required when tokenValidator.validation is %s "+
			"(the secret holding the introspecting client's client_id and client_secret)", validatorenv.ValidationIntrospection)
	}
	if e.External.ClientIDsStandInForAudience {
		// validatorenv.Parse refuses the combination: an introspection answer
		// without aud is refused before any audience rule applies.
		r.fail("external.clientIdsStandInForAudience", "applies to tokenValidator.validation %s only: with %s an answer "+
			"without aud is always refused", validatorenv.ValidationJWT, validatorenv.ValidationIntrospection)
	}
}

// isEndpointURL accepts what the data store handler accepts for an endpoint:
// absolute https, no user info or fragment (a query is allowed: Entra ID's
// jwks_uri carries ?appid= for apps with their own signing keys).
func isEndpointURL(s string) bool { return httpsurl.Check(s) == nil }
