package oktaprops_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/cfnprops"
	"github.com/openhealthstack/smart-healthlake/contract/oktaprops"
)

func base() cfnprops.Properties {
	return cfnprops.Properties{
		"ServiceToken":        "arn:aws:lambda:us-east-1:123456789012:function:provider",
		"OktaOrgUrl":          "https://example.okta.com",
		"CredentialSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta-AbCdEf",
		"Name":                "smart",
		"Audience":            "https://healthlake.us-east-1.amazonaws.com/datastore/abc/r4/",
	}
}

func with(p cfnprops.Properties, kv ...any) cfnprops.Properties {
	out := cfnprops.Properties{}
	for k, v := range p {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestDefaults(t *testing.T) {
	s, err := oktaprops.Parse(base())
	require.NoError(t, err)
	assert.Equal(t, oktaprops.Server{Name: "smart", Description: "SMART on FHIR authorization server",
		Audience: "https://healthlake.us-east-1.amazonaws.com/datastore/abc/r4/", IssuerMode: "ORG_URL", Active: true}, s.Server)
	names := s.ScopeNames()
	assert.Equal(t, oktaprops.ContextScopes, names[:5])
	assert.Len(t, names, 5+3*len(oktaprops.DefaultResources))
	assert.Contains(t, names, "patient/Observation.rs")
	assert.Contains(t, names, "system/Patient.rs")
	assert.NotContains(t, names, "patient/Observation.read", "v2 only by default")
	for _, sc := range s.Scopes {
		assert.Equal(t, "ALL_CLIENTS", sc.MetadataPublish, sc.Name)
		assert.Equal(t, "IMPLICIT", sc.Consent, sc.Name)
		assert.NotEmpty(t, sc.Description, sc.Name)
	}
	assert.Empty(t, s.Clients)
	assert.Empty(t, s.Policies, "no clients to assign policies to")
	require.Len(t, s.Claims, 3)
	assert.Equal(t, oktaprops.Claim{Name: "patient", ClaimType: "RESOURCE", ValueType: "EXPRESSION", Value: "user.patientId",
		Scopes: []string{"launch/patient"}, AlwaysIncludeInToken: true}, s.Claims[2])
}

func TestScopeCatalogue(t *testing.T) {
	cases := []struct {
		name  string
		props cfnprops.Properties
		want  []string // the clinical scopes, in order
	}{
		{"v1", with(base(), "SmartVersion", "v1", "ScopeLevels", []any{"patient"}, "ScopeResources", []any{"Observation"},
			"ScopePermissionsV1", []any{"read", "write", "*"}),
			[]string{"patient/Observation.read", "patient/Observation.write", "patient/Observation.*"}},
		{"v2 granular", with(base(), "ScopeLevels", []any{"user", "system"}, "ScopeResources", []any{"Patient"},
			"ScopePermissionsV2", []any{"rs", "cud", "cruds"}),
			[]string{"user/Patient.rs", "user/Patient.cud", "user/Patient.cruds", "system/Patient.rs", "system/Patient.cud", "system/Patient.cruds"}},
		{"both versions", with(base(), "SmartVersion", "both", "ScopeLevels", []any{"patient"}, "ScopeResources", []any{"Patient"}),
			[]string{"patient/Patient.read", "patient/Patient.rs"}},
		{"wildcard resource when asked for", with(base(), "ScopeLevels", []any{"system"}, "ScopeResources", []any{"*", "Group"}),
			[]string{"system/*.rs", "system/Group.rs"}},
		{"extras appended", with(base(), "ScopeLevels", []any{"patient"}, "ScopeResources", []any{"Patient"},
			"ExtraScopes", []any{"system/Group.cruds", "custom:read"}),
			[]string{"patient/Patient.rs", "system/Group.cruds", "custom:read"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := oktaprops.Parse(tc.props)
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.ScopeNames()[5:])
		})
	}
}

func TestScopeDescriptionsReadLikeConsentText(t *testing.T) {
	s, err := oktaprops.Parse(with(base(), "SmartVersion", "both", "ScopeLevels", []any{"patient", "system"},
		"ScopeResources", []any{"*", "Observation"}, "ScopePermissionsV1", []any{"write"}, "ScopePermissionsV2", []any{"cud"}))
	require.NoError(t, err)
	got := map[string]string{}
	for _, sc := range s.Scopes {
		got[sc.Name] = sc.Description
	}
	assert.Equal(t, "Write all resources for the patient in context", got["patient/*.write"])
	assert.Equal(t, "Create, update, delete Observation resources for a backend service", got["system/Observation.cud"])
}

func TestClientsAndPolicies(t *testing.T) {
	jwks := `{"keys":[{"kty":"RSA","kid":"k1","e":"AQAB","n":"sXch"}]}`
	all := with(base(), "ClientSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:c-AbCdEf",
		"IntrospectionSecretArn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:i-AbCdEf",
		"ConfidentialClient", "true", "ConfidentialClientRedirectUris", []any{"https://app.example.com/cb"},
		"PublicClient", "true", "PublicClientType", "native", "PublicClientRedirectUris", []any{"com.example.app:/callback"},
		"BackendClient", "true", "BackendClientJwks", jwks, "IntrospectionClient", "true")

	t.Run("all four clients", func(t *testing.T) {
		s, err := oktaprops.Parse(all)
		require.NoError(t, err)
		require.Len(t, s.Clients, 4)
		pub, _ := s.Client(oktaprops.PublicClient)
		assert.Equal(t, "native", pub.ApplicationType)
		assert.Equal(t, "none", pub.TokenEndpointAuthMethod)
		assert.True(t, pub.PKCERequired)
		assert.False(t, pub.HasSecret())
		conf, _ := s.Client(oktaprops.ConfidentialClient)
		assert.True(t, conf.HasSecret())
		be, _ := s.Client(oktaprops.BackendClient)
		assert.Equal(t, "private_key_jwt", be.TokenEndpointAuthMethod)
		assert.Equal(t, "k1", be.JWKS[0]["kid"])

		require.Len(t, s.Policies, 2)
		user, backend := s.Policies[0], s.Policies[1]
		assert.Equal(t, []oktaprops.ClientKind{oktaprops.ConfidentialClient, oktaprops.PublicClient}, user.ClientKinds)
		assert.Equal(t, []oktaprops.ClientKind{oktaprops.BackendClient}, backend.ClientKinds)
		assert.Equal(t, []int64{1, 2}, []int64{user.Priority, backend.Priority})
		rule := user.Rules[0]
		assert.Equal(t, []string{"authorization_code"}, rule.GrantTypes)
		assert.Subset(t, rule.Scopes, []string{"openid", "profile", "offline_access", "fhirUser", "launch/patient", "patient/Patient.rs", "user/Patient.rs"})
		assert.False(t, slices.ContainsFunc(rule.Scopes, func(s string) bool { return strings.HasPrefix(s, "system/") }))
		brule := backend.Rules[0]
		assert.Equal(t, []string{"client_credentials"}, brule.GrantTypes)
		assert.True(t, !slices.ContainsFunc(brule.Scopes, func(s string) bool { return !strings.HasPrefix(s, "system/") }))
		assert.Equal(t, int64(5), brule.AccessTokenLifetimeMinutes)
	})

	t.Run("REQUIRED consent makes user-facing apps ask for it", func(t *testing.T) {
		s, err := oktaprops.Parse(with(all, "ScopeConsent", "REQUIRED"))
		require.NoError(t, err)
		conf, _ := s.Client(oktaprops.ConfidentialClient)
		assert.Equal(t, "REQUIRED", conf.ConsentMethod)
		be, _ := s.Client(oktaprops.BackendClient)
		assert.Equal(t, "TRUSTED", be.ConsentMethod)
	})

	t.Run("only a public client: user-facing policy only", func(t *testing.T) {
		s, err := oktaprops.Parse(with(base(), "PublicClient", "true", "PublicClientRedirectUris", []any{"https://spa.example.com/cb"}))
		require.NoError(t, err)
		require.Len(t, s.Policies, 1)
		assert.Equal(t, oktaprops.UserFacingPolicyName, s.Policies[0].Name)
	})

	t.Run("ALL_CLIENTS without clients: both policies", func(t *testing.T) {
		s, err := oktaprops.Parse(with(base(), "PolicyAssignment", "ALL_CLIENTS"))
		require.NoError(t, err)
		require.Len(t, s.Policies, 2)
		assert.True(t, s.Policies[0].AllClients)
	})
}

func TestBadProperties(t *testing.T) {
	cases := []struct {
		name     string
		props    cfnprops.Properties
		property string
		reason   string
	}{
		{"missing org", with(base(), "OktaOrgUrl", ""), "OktaOrgUrl", "is required"},
		{"org over http", with(base(), "OktaOrgUrl", "http://example.okta.com"), "OktaOrgUrl", "https"},
		{"org with credentials", with(base(), "OktaOrgUrl", "https://u:p@example.okta.com"), "OktaOrgUrl", "https"},
		{"missing secret", with(base(), "CredentialSecretArn", nil), "CredentialSecretArn", "is required"},
		{"name with spaces around", with(base(), "Name", " smart"), "Name", "spaces"},
		{"audience with whitespace", with(base(), "Audience", "a b"), "Audience", "whitespace"},
		{"audience a list", with(base(), "Audience", []any{"a"}), "Audience", "must be a string"},
		{"description too long", with(base(), "Description", strings.Repeat("x", 501)), "Description", "500"},
		{"levels not a list", with(base(), "ScopeLevels", "patient"), "ScopeLevels", "list of strings"},
		{"duplicate level", with(base(), "ScopeLevels", []any{"user", "user"}), "ScopeLevels", "twice"},
		{"duplicate resource", with(base(), "ScopeResources", []any{"Patient", "Patient"}), "ScopeResources", "twice"},
		{"empty resource", with(base(), "ScopeResources", []any{""}), "ScopeResources[0]", "empty"},
		{"v2 repeated letter", with(base(), "ScopePermissionsV2", []any{"rr"}), "ScopePermissionsV2[0]", "cruds"},
		{"v2 unknown letter", with(base(), "ScopePermissionsV2", []any{"rx"}), "ScopePermissionsV2[0]", "cruds"},
		{"too many scopes", with(base(), "SmartVersion", "both", "ScopePermissionsV1", []any{"read", "write", "*"},
			"ScopePermissionsV2", []any{"c", "r", "u", "d", "s", "rs", "cud"}), "ScopeResources", "under 600"},
		{"okta. scope", with(base(), "ExtraScopes", []any{"okta.users.read"}), "ExtraScopes[0]", "reserved"},
		{"duplicate of a generated scope", with(base(), "ExtraScopes", []any{"launch"}), "ExtraScopes[0]", "already"},
		{"fhirUser attribute", with(base(), "FhirUserAttribute", "user.fhirUser"), "FhirUserAttribute", "attribute"},
		{"patient claim name reserved", with(base(), "PatientClaimName", "sub"), "PatientClaimName", "usable"},
		{"patient claim bool", with(base(), "PatientClaim", "maybe"), "PatientClaim", "true or false"},
		{"extra claim unknown field", with(base(), "ExtraClaims", `[{"name":"x","value":"y","type":"RESOURCE"}]`), "ExtraClaims", "unknown field"},
		{"extra claim type", with(base(), "ExtraClaims", `[{"name":"x","value":"y","claimType":"ACCESS"}]`), "ExtraClaims[0].claimType", `must be one of RESOURCE, IDENTITY, got "ACCESS"`},
		{"extra claim groups filter", with(base(), "ExtraClaims", `[{"name":"g","value":"a","valueType":"GROUPS"}]`), "ExtraClaims[0].groupFilterType", "STARTS_WITH"},
		{"extra claim duplicate of fhirUser", with(base(), "ExtraClaims", `[{"name":"fhirUser","value":"user.x","claimType":"IDENTITY"}]`), "ExtraClaims[0].name", "already"},
		{"extra claim without value", with(base(), "ExtraClaims", `[{"name":"x"}]`), "ExtraClaims[0].value", "required"},
		{"window too short", with(base(), "RefreshTokenWindowMinutes", "1"), "RefreshTokenWindowMinutes", "between 10"},
		{"window under Okta's 10 minutes", with(base(), "AccessTokenLifetimeMinutes", "5", "RefreshTokenWindowMinutes", "9"), "RefreshTokenWindowMinutes", "between 10"},
		{"window shorter than the access token", with(base(), "AccessTokenLifetimeMinutes", "120", "RefreshTokenWindowMinutes", "60"),
			"RefreshTokenWindowMinutes", "at least AccessTokenLifetimeMinutes"},
		{"scope with angle brackets", with(base(), "ExtraScopes", []any{"a", "x<y>"}), "ExtraScopes[1]", "'<' and '>'"},
		{"backend lifetime", with(base(), "BackendAccessTokenLifetimeMinutes", "2"), "BackendAccessTokenLifetimeMinutes", "between 5"},
		{"inline hook id", with(base(), "TokenInlineHookId", "my-hook"), "TokenInlineHookId", "inline hook id"},
		{"token hook URL without its secret", with(base(), "TokenHookUrl", "https://hook.example.com/hook"), "TokenHookSecretArn", "required"},
		{"token hook secret without its URL", with(base(), "TokenHookSecretArn", hookSecretARN), "TokenHookUrl", "required"},
		{"token hook over http", with(base(), "TokenHookUrl", "http://hook.example.com/hook", "TokenHookSecretArn", hookSecretARN), "TokenHookUrl", "https"},
		{"token hook URL with a space", with(base(), "TokenHookUrl", "https://hook.example.com/a b", "TokenHookSecretArn", hookSecretARN), "TokenHookUrl", "white space"},
		{"token hook URL with user info", with(base(), "TokenHookUrl", "https://u:p@hook.example.com/hook", "TokenHookSecretArn", hookSecretARN), "TokenHookUrl", "user info"},
		{"token hook URL too long", with(base(), "TokenHookUrl", "https://hook.example.com/"+strings.Repeat("a", 1000), "TokenHookSecretArn", hookSecretARN), "TokenHookUrl", "1024"},
		{"token hook secret not an ARN", with(base(), "TokenHookUrl", "https://hook.example.com/hook", "TokenHookSecretArn", "hook-secret"), "TokenHookSecretArn", "ARN"},
		{"token hook and a hook id", with(base(), "TokenHookUrl", "https://hook.example.com/hook", "TokenHookSecretArn", hookSecretARN,
			"TokenInlineHookId", "calhookAbCdEf0123456"), "TokenHookUrl", "TokenInlineHookId"},
		{"redirect with fragment", with(base(), "ConfidentialClient", "true", "ClientSecretArn", "x",
			"ConfidentialClientRedirectUris", []any{"https://a.example.com/cb#x"}), "ConfidentialClientRedirectUris[0]", "fragment"},
		{"custom scheme on a browser app", with(base(), "PublicClient", "true",
			"PublicClientRedirectUris", []any{"com.example:/cb"}), "PublicClientRedirectUris[0]", "native"},
		{"post-logout not a URL", with(base(), "ConfidentialClient", "true", "ClientSecretArn", "x",
			"ConfidentialClientRedirectUris", []any{"https://a.example.com/cb"}, "ConfidentialClientPostLogoutRedirectUris", []any{"/logout"}),
			"ConfidentialClientPostLogoutRedirectUris[0]", "absolute"},
		{"JWKS not JSON", with(base(), "BackendClient", "true", "BackendClientJwks", "{"), "BackendClientJwks", "JSON Web Key Set"},
		{"JWKS empty", with(base(), "BackendClient", "true", "BackendClientJwks", `{"keys":[]}`), "BackendClientJwks", "at least one"},
		{"JWKS EC key", with(base(), "BackendClient", "true", "BackendClientJwks", `{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b"}]}`),
			"BackendClientJwks.keys[0]", "RSA"},
		{"JWKS private RSA key", with(base(), "BackendClient", "true", "BackendClientJwks", `{"keys":[{"kty":"RSA","n":"a","e":"AQAB","p":"x"}]}`),
			"BackendClientJwks.keys[0]", "private key"},
		{"JWKS symmetric key", with(base(), "BackendClient", "true", "BackendClientJwks", `{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`),
			"BackendClientJwks.keys[0]", "private key"},
		{"JWKS RSA without e", with(base(), "BackendClient", "true", "BackendClientJwks", `{"keys":[{"kty":"RSA","n":"a"}]}`),
			"BackendClientJwks.keys[0]", "n and e"},
		{"introspection client without its secret", with(base(), "IntrospectionClient", "true"), "IntrospectionSecretArn", "required"},
		{"introspection client with only the general secret", with(base(), "IntrospectionClient", "true", "ClientSecretArn", "x"),
			"IntrospectionSecretArn", "required"},
		{"confidential client with only the introspection secret", with(base(), "ConfidentialClient", "true",
			"ConfidentialClientRedirectUris", []any{"https://a.example.com/cb"}, "IntrospectionSecretArn", "x"), "ClientSecretArn", "required"},
		{"audience with a tab", with(base(), "Audience", "api://x\ty"), "Audience", "whitespace"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oktaprops.Parse(tc.props)
			var perr *cfnprops.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, tc.property, perr.Property)
			assert.Contains(t, perr.Reason, tc.reason)
		})
	}
}

func TestParseConnectionNeedsOnlyTheConnection(t *testing.T) {
	p := with(base(), "SmartVersion", "v9", "ExtraClaims", "{{{")
	c, err := oktaprops.ParseConnection(p)
	require.NoError(t, err)
	assert.Equal(t, oktaprops.Connection{OrgURL: "https://example.okta.com", Name: "smart",
		CredentialSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta-AbCdEf"}, c)
	_, err = oktaprops.Parse(p)
	require.Error(t, err)
}

func TestUnknownProperties(t *testing.T) {
	assert.Empty(t, oktaprops.UnknownProperties(base()))
	assert.Equal(t, []string{"ScopeFlavour", "Zzz"}, oktaprops.UnknownProperties(with(base(), "Zzz", "1", "ScopeFlavour", "v2")))
}

func TestLoopbackHTTPIsForTheFakeOnly(t *testing.T) {
	s, err := oktaprops.Parse(with(base(), "OktaOrgUrl", "http://127.0.0.1:8080"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080", s.OrgURL)
	s, err = oktaprops.Parse(with(base(), "OktaOrgUrl", "https://Example.okta.com/"))
	require.NoError(t, err)
	assert.Equal(t, "https://Example.okta.com", s.OrgURL)
}

func TestParseConnectionDoesNotNeedTheName(t *testing.T) {
	p := with(base())
	delete(p, "Name")
	c, err := oktaprops.ParseConnection(p)
	require.NoError(t, err)
	assert.Empty(t, c.Name)
	_, err = oktaprops.ParseConnection(with(base(), "CredentialSecretArn", ""))
	require.Error(t, err)
}

func TestTheAudienceIsOptional(t *testing.T) {
	p := with(base())
	delete(p, "Audience")
	s, err := oktaprops.Parse(p)
	require.NoError(t, err)
	assert.Empty(t, s.Server.Audience, "absent: left to an audience binding")
	s, err = oktaprops.Parse(with(base(), "Audience", ""))
	require.NoError(t, err)
	assert.Empty(t, s.Server.Audience, "an empty string counts as absent")
}

func TestPlaceholderAudience(t *testing.T) {
	assert.Equal(t, "api://smart-healthlake/clinic", oktaprops.PlaceholderAudience("clinic"))
	assert.Equal(t, "api://smart-healthlake/SMART%20clinic", oktaprops.PlaceholderAudience("SMART clinic"),
		"names may hold spaces, audiences may not")
}

func bindingProps() cfnprops.Properties {
	return cfnprops.Properties{
		"ServiceToken":          "arn:aws:lambda:us-east-1:123456789012:function:provider",
		"OktaOrgUrl":            "https://example.okta.com/",
		"CredentialSecretArn":   "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta-AbCdEf",
		"AuthorizationServerId": "ausAbCdEfGhIjKlMnOpQ",
		"Audience":              "https://healthlake.us-east-1.amazonaws.com/datastore/abc/r4/",
	}
}

func TestParseAudienceBinding(t *testing.T) {
	b, err := oktaprops.ParseAudienceBinding(bindingProps())
	require.NoError(t, err)
	assert.Equal(t, oktaprops.AudienceBinding{OrgURL: "https://example.okta.com",
		CredentialSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:okta-AbCdEf",
		ServerID:            "ausAbCdEfGhIjKlMnOpQ", Audience: "https://healthlake.us-east-1.amazonaws.com/datastore/abc/r4/"}, b)
	assert.Empty(t, oktaprops.UnknownAudienceBindingProperties(bindingProps()))
	assert.Equal(t, []string{"Name"}, oktaprops.UnknownAudienceBindingProperties(with(bindingProps(), "Name", "x")))

	cases := []struct {
		name     string
		props    cfnprops.Properties
		property string
	}{
		{"missing server id", with(bindingProps(), "AuthorizationServerId", ""), "AuthorizationServerId"},
		{"not a server id", with(bindingProps(), "AuthorizationServerId", "default"), "AuthorizationServerId"},
		{"a path in the server id", with(bindingProps(), "AuthorizationServerId", "ausAbCdEfGh/../../x"), "AuthorizationServerId"},
		{"missing audience", with(bindingProps(), "Audience", ""), "Audience"},
		{"audience with a space", with(bindingProps(), "Audience", "a b"), "Audience"},
		{"http org", with(bindingProps(), "OktaOrgUrl", "http://example.okta.com"), "OktaOrgUrl"},
		{"missing credentials", with(bindingProps(), "CredentialSecretArn", nil), "CredentialSecretArn"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oktaprops.ParseAudienceBinding(tc.props)
			var perr *cfnprops.PropertyError
			require.True(t, errors.As(err, &perr), "got %v", err)
			assert.Equal(t, tc.property, perr.Property)
		})
	}
}

func TestOnlyTheIntrospectionClientNeedsOnlyItsSecret(t *testing.T) {
	s, err := oktaprops.Parse(with(base(), "IntrospectionClient", "true", "IntrospectionSecretArn", "arn:i"))
	require.NoError(t, err)
	assert.Equal(t, "arn:i", s.IntrospectionSecretARN)
	assert.Empty(t, s.ClientSecretARN)
}

const hookSecretARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ehr-hook-AbCdEf"

func TestTokenHookMakesTheUserFacingRuleReferenceIt(t *testing.T) {
	s, err := oktaprops.Parse(with(base(), "ConfidentialClient", "true", "ClientSecretArn", "x",
		"ConfidentialClientRedirectUris", []any{"https://a.example.com/cb"},
		"TokenHookUrl", "https://abc.execute-api.us-east-1.amazonaws.com/prod/hook", "TokenHookSecretArn", hookSecretARN))
	require.NoError(t, err)
	require.NotNil(t, s.TokenHook)
	assert.Equal(t, oktaprops.TokenHook{URL: "https://abc.execute-api.us-east-1.amazonaws.com/prod/hook", SecretARN: hookSecretARN}, *s.TokenHook)
	p, ok := s.Policy(oktaprops.UserFacingPolicyName)
	require.True(t, ok)
	assert.True(t, p.Rules[0].ManagedTokenHook)
	assert.Empty(t, p.Rules[0].InlineHookID)

	t.Run("without the props there is no hook", func(t *testing.T) {
		s, err := oktaprops.Parse(base())
		require.NoError(t, err)
		assert.Nil(t, s.TokenHook)
		for _, p := range s.Policies {
			assert.False(t, p.Rules[0].ManagedTokenHook)
		}
	})
}
