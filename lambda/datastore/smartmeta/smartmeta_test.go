package smartmeta

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

func oktaEndpoints() Endpoints {
	base := "https://example.okta.com/oauth2/aus1"
	return Endpoints{
		Issuer:        base,
		JWKSURI:       base + "/v1/keys",
		Authorization: base + "/v1/authorize",
		Token:         base + "/v1/token",
		Introspection: base + "/v1/introspect",
		Revocation:    base + "/v1/revoke",
	}
}

func TestBuild(t *testing.T) {
	t.Run("a SMART v2 document matches the reviewed example", func(t *testing.T) {
		got, err := Build(Config{
			Version:         smart.V2,
			Endpoints:       oktaEndpoints(),
			ScopesSupported: []string{"openid", "fhirUser", "launch/patient", "offline_access", "patient/*.read", "patient/Observation.rs"},
			Support:         everything,
		})
		require.NoError(t, err)
		want, err := os.ReadFile("testdata/smart-v2.json")
		require.NoError(t, err)
		assert.JSONEq(t, string(want), got)
	})

	t.Run("a document carries every key the SMART App Launch IG requires", func(t *testing.T) {
		for _, v := range []smart.Version{smart.V1, smart.V2} {
			got, err := Build(Config{Version: v, Endpoints: oktaEndpoints()})
			require.NoError(t, err)
			var keys map[string]any
			require.NoError(t, json.Unmarshal([]byte(got), &keys))
			// Required, or required because of the capabilities we advertise
			// (launch-* needs authorization_endpoint, sso-openid-connect needs
			// issuer and jwks_uri).
			for _, k := range []string{"issuer", "jwks_uri", "authorization_endpoint", "token_endpoint", "capabilities", "grant_types_supported", "code_challenge_methods_supported"} {
				assert.Contains(t, keys, k, "version %s", v)
			}
		}
	})

	t.Run("permission-v2 is advertised only for SMART v2", func(t *testing.T) {
		for v, want := range map[smart.Version]bool{smart.V1: false, smart.V2: true} {
			got, err := Build(Config{Version: v, Endpoints: oktaEndpoints()})
			require.NoError(t, err)
			var doc Document
			require.NoError(t, json.Unmarshal([]byte(got), &doc))
			assert.Equal(t, want, slices.Contains(doc.Capabilities, "permission-v2"), "version %s", v)
			assert.Contains(t, doc.Capabilities, "permission-v1")
		}
	})

	t.Run("optional endpoints and scopes are left out when not given", func(t *testing.T) {
		e := oktaEndpoints()
		e.Introspection, e.Revocation = "", ""
		got, err := Build(Config{Version: smart.V1, Endpoints: e})
		require.NoError(t, err)
		for _, k := range []string{"introspection_endpoint", "revocation_endpoint", "management_endpoint", "scopes_supported"} {
			assert.NotContains(t, got, `"`+k+`"`)
		}
	})

	t.Run("a management endpoint is advertised when given", func(t *testing.T) {
		e := oktaEndpoints()
		e.Management = "https://portal.example.org/apps"
		got, err := Build(Config{Version: smart.V2, Endpoints: e})
		require.NoError(t, err)
		assert.Contains(t, got, `"management_endpoint":"https://portal.example.org/apps"`)
	})

	t.Run("bad input is refused naming the key", func(t *testing.T) {
		cases := []struct {
			name    string
			mutate  func(*Config)
			wantErr string
		}{
			{"http token endpoint", func(c *Config) { c.Endpoints.Token = "http://example.okta.com/token" }, "token_endpoint"},
			{"missing issuer", func(c *Config) { c.Endpoints.Issuer = "" }, "issuer"},
			{"relative jwks uri", func(c *Config) { c.Endpoints.JWKSURI = "/keys" }, "jwks_uri"},
			{"v2 scope on a v1 store", func(c *Config) { c.Version, c.ScopesSupported = smart.V1, []string{"patient/Observation.rs"} }, "SMART v2 scope"},
			{"two scopes in one string", func(c *Config) { c.ScopesSupported = []string{"openid fhirUser"} }, "not a single scope"},
			{"unknown version", func(c *Config) { c.Version = "v3" }, "SMART version"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := Config{Version: smart.V2, Endpoints: oktaEndpoints()}
				tc.mutate(&c)
				_, err := Build(c)
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
			})
		}
	})
}

// everything is every flow this project can configure.
var everything = smart.Support{ConfidentialClients: true, PublicClients: true, BackendServices: true,
	PatientContext: true, OpenIDConnect: true, RefreshTokens: true}

// okta is what the Okta construct reports for a user-facing app: Okta issues
// ID tokens with fhirUser and refresh tokens to its user-facing apps.
func okta(s smart.Support) smart.Support {
	s.OpenIDConnect, s.RefreshTokens = true, true
	return s
}

func TestTheDocumentAdvertisesOnlyWhatTheDeploymentDoes(t *testing.T) {
	userScopes := []string{"openid", "profile", "offline_access", "fhirUser", "launch/patient", "patient/Patient.rs", "user/Observation.rs"}
	v1Scopes := []string{"openid", "profile", "offline_access", "fhirUser", "launch/patient", "patient/Patient.read"}
	cases := []struct {
		name         string
		version      smart.Version
		support      smart.Support
		scopes       []string
		capabilities []string
		grants       []string
		responses    []string
		authMethods  []string
	}{
		{
			name: "only a backend service: client credentials with an asymmetric key, no launch", version: smart.V2,
			support: smart.Support{BackendServices: true}, scopes: []string{"system/Patient.rs"},
			capabilities: []string{"client-confidential-asymmetric", "permission-v2"},
			grants:       []string{"client_credentials"}, authMethods: []string{"private_key_jwt"},
		},
		{
			name: "only a public app without a patient claim: standalone launch, no patient context", version: smart.V2,
			support: okta(smart.Support{PublicClients: true}), scopes: userScopes,
			capabilities: []string{"launch-standalone", "client-public", "sso-openid-connect", "permission-offline",
				"permission-patient", "permission-user", "permission-v2"},
			grants: []string{"authorization_code"}, responses: []string{"code"}, authMethods: []string{"none"},
		},
		{
			name: "a confidential app with the patient claim: standalone patient context", version: smart.V2,
			support: okta(smart.Support{ConfidentialClients: true, PatientContext: true}), scopes: userScopes,
			capabilities: []string{"launch-standalone", "client-confidential-symmetric", "context-standalone-patient",
				"sso-openid-connect", "permission-offline", "permission-patient", "permission-user", "permission-v2"},
			grants: []string{"authorization_code"}, responses: []string{"code"}, authMethods: []string{"client_secret_basic"},
		},
		{
			name: "the same app on a SMART v1 data store: v1 permissions only", version: smart.V1,
			support: okta(smart.Support{ConfidentialClients: true, PatientContext: true}), scopes: v1Scopes,
			capabilities: []string{"launch-standalone", "client-confidential-symmetric", "context-standalone-patient",
				"sso-openid-connect", "permission-offline", "permission-patient", "permission-v1"},
			grants: []string{"authorization_code"}, responses: []string{"code"}, authMethods: []string{"client_secret_basic"},
		},
		{
			name: "a v2 data store offering v1 scopes too: both permission syntaxes", version: smart.V2,
			support: smart.Support{BackendServices: true}, scopes: []string{"system/Patient.rs", "system/Patient.read"},
			capabilities: []string{"client-confidential-asymmetric", "permission-v1", "permission-v2"},
			grants:       []string{"client_credentials"}, authMethods: []string{"private_key_jwt"},
		},
		{
			name: "the patient claim without launch/patient offered: no patient context", version: smart.V2,
			support: okta(smart.Support{PublicClients: true, PatientContext: true}), scopes: []string{"openid", "fhirUser", "patient/Patient.rs"},
			capabilities: []string{"launch-standalone", "client-public", "sso-openid-connect", "permission-patient", "permission-v2"},
			grants:       []string{"authorization_code"}, responses: []string{"code"}, authMethods: []string{"none"},
		},
		{
			name: "a patient claim without a user-facing app: nothing to give it to", version: smart.V2,
			support:      smart.Support{BackendServices: true, PatientContext: true, OpenIDConnect: true, RefreshTokens: true},
			scopes:       []string{"system/Patient.rs", "launch/patient", "openid", "fhirUser", "offline_access"},
			capabilities: []string{"client-confidential-asymmetric", "permission-v2"},
			grants:       []string{"client_credentials"}, authMethods: []string{"private_key_jwt"},
		},
		{
			name: "every client: both grant types and every auth method", version: smart.V2,
			support: everything, scopes: userScopes,
			capabilities: []string{"launch-standalone", "client-public", "client-confidential-symmetric",
				"client-confidential-asymmetric", "context-standalone-patient", "sso-openid-connect", "permission-offline",
				"permission-patient", "permission-user", "permission-v2"},
			grants: []string{"authorization_code", "client_credentials"}, responses: []string{"code"},
			authMethods: []string{"client_secret_basic", "private_key_jwt", "none"},
		},
		{
			name: "no client at all: the SMART version, and authorization_code because HealthLake wants a grant type", version: smart.V2,
			capabilities: []string{"permission-v1", "permission-v2"},
			grants:       []string{"authorization_code"}, responses: []string{"code"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Build(Config{Version: tc.version, Endpoints: oktaEndpoints(), ScopesSupported: tc.scopes, Support: tc.support})
			require.NoError(t, err)
			var doc Document
			require.NoError(t, json.Unmarshal([]byte(got), &doc))
			assert.Equal(t, tc.capabilities, doc.Capabilities)
			assert.Equal(t, tc.grants, doc.GrantTypesSupported)
			assert.Equal(t, tc.responses, doc.ResponseTypesSupported)
			assert.Equal(t, tc.authMethods, doc.TokenEndpointAuthMethodsSupported)
			// SMART's asymmetric client authentication page: a server with
			// client-confidential-asymmetric lists RS384 or ES384 here.
			if tc.support.BackendServices {
				assert.Equal(t, []string{"RS384", "ES384"}, doc.TokenEndpointAuthSigningAlgValuesSupported)
			} else {
				assert.Empty(t, doc.TokenEndpointAuthSigningAlgValuesSupported)
			}
			for _, c := range doc.Capabilities {
				assert.False(t, c == "launch-ehr" || strings.HasPrefix(c, "context-ehr-"), "EHR launch is not supported: %s", c)
			}
		})
	}
}

func TestEHRLaunchIsAdvertisedOnlyWhenDeployed(t *testing.T) {
	ehr := smart.Support{PublicClients: true, EHRLaunch: true}
	caps := func(t *testing.T, s smart.Support, scopes []string) []string {
		got, err := Build(Config{Version: smart.V2, Endpoints: oktaEndpoints(), ScopesSupported: scopes, Support: s})
		require.NoError(t, err)
		var doc Document
		require.NoError(t, json.Unmarshal([]byte(got), &doc))
		return doc.Capabilities
	}
	t.Run("with the launch proxy deployed, launch-ehr and the EHR contexts are advertised", func(t *testing.T) {
		assert.Equal(t, []string{"launch-standalone", "launch-ehr", "client-public", "context-ehr-patient", "context-ehr-encounter",
			"permission-patient", "permission-v2"}, caps(t, ehr, []string{"launch", "patient/Observation.rs"}))
	})
	t.Run("without the launch scope offered, nothing of EHR launch is", func(t *testing.T) {
		for _, c := range caps(t, ehr, []string{"patient/Observation.rs"}) {
			assert.False(t, c == "launch-ehr" || strings.HasPrefix(c, "context-ehr-"), c)
		}
	})
	t.Run("without a user-facing client, nothing of EHR launch is", func(t *testing.T) {
		for _, c := range caps(t, smart.Support{BackendServices: true, EHRLaunch: true}, nil) {
			assert.False(t, c == "launch-ehr" || strings.HasPrefix(c, "context-ehr-"), c)
		}
	})
	t.Run("the feature travels in SmartSupport", func(t *testing.T) {
		s, err := smart.ParseFeatures(ehr.Features())
		require.NoError(t, err)
		assert.Equal(t, ehr, s)
		assert.Contains(t, ehr.Features(), smart.FeatureEHRLaunch)
	})
}

func TestSupportTravelsAsAListOfFeatures(t *testing.T) {
	t.Run("every feature survives the round trip", func(t *testing.T) {
		names := everything.Features()
		assert.Equal(t, []string{"confidential-clients", "public-clients", "backend-services", "patient-context",
			"openid-connect", "refresh-tokens"}, names)
		got, err := smart.ParseFeatures(names)
		require.NoError(t, err)
		assert.Equal(t, everything, got)
	})
	t.Run("no feature is an empty list, and an absent property the zero smart.Support", func(t *testing.T) {
		assert.Equal(t, []string{}, smart.Support{}.Features())
		got, err := smart.ParseFeatures(nil)
		require.NoError(t, err)
		assert.Equal(t, smart.Support{}, got)
	})
	t.Run("an unknown feature is refused naming it", func(t *testing.T) {
		_, err := smart.ParseFeatures([]string{"public-clients", "telepathy"})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `unknown feature "telepathy"`)
	})
}

func TestValidate(t *testing.T) {
	valid, err := os.ReadFile("testdata/smart-v2.json")
	require.NoError(t, err)

	t.Run("the reviewed v2 example is valid", func(t *testing.T) {
		assert.NoError(t, Validate(valid, smart.V2))
	})

	cases := []struct {
		name    string
		edit    func(map[string]any)
		version smart.Version
		wantErr string
	}{
		{"token_endpoint missing", func(d map[string]any) { delete(d, "token_endpoint") }, smart.V2, "token_endpoint is required"},
		{"capabilities missing", func(d map[string]any) { delete(d, "capabilities") }, smart.V2, "capabilities is required"},
		{"grant_types_supported missing", func(d map[string]any) { delete(d, "grant_types_supported") }, smart.V2, "grant_types_supported is required"},
		{"code_challenge_methods_supported missing", func(d map[string]any) { delete(d, "code_challenge_methods_supported") }, smart.V2, "code_challenge_methods_supported is required"},
		{"authorization_endpoint missing while launch is advertised", func(d map[string]any) { delete(d, "authorization_endpoint") }, smart.V2, "authorization_endpoint is required"},
		{"jwks_uri missing while sso-openid-connect is advertised", func(d map[string]any) { delete(d, "jwks_uri") }, smart.V2, "jwks_uri is required"},
		{"plain PKCE offered", func(d map[string]any) { d["code_challenge_methods_supported"] = []any{"S256", "plain"} }, smart.V2, "must not include plain"},
		{"S256 missing", func(d map[string]any) { d["code_challenge_methods_supported"] = []any{"plain"} }, smart.V2, "must include S256"},
		{"AWS sample's misspelt grant type", func(d map[string]any) { d["grant_types_supported"] = []any{"client_credential"} }, smart.V2, `"client_credential" is not accepted`},
		{"AWS sample's invented capability", func(d map[string]any) { d["capabilities"] = append(d["capabilities"].([]any), "openId") }, smart.V2, `"openId" is not a SMART App Launch capability`},
		{"permission-v2 advertised on a v1 store", func(map[string]any) {}, smart.V1, "permission-v2 is advertised"},
		{"permission-v2 missing on a v2 store", func(d map[string]any) { d["capabilities"] = []any{"launch-standalone", "sso-openid-connect"} }, smart.V2, "permission-v2 is required"},
		{"http revocation endpoint", func(d map[string]any) { d["revocation_endpoint"] = "http://example.okta.com/revoke" }, smart.V2, "revocation_endpoint"},
		{"capabilities of the wrong type", func(d map[string]any) { d["capabilities"] = "launch-ehr" }, smart.V2, "wrong type"},
	}
	for _, tc := range cases {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			var d map[string]any
			require.NoError(t, json.Unmarshal(valid, &d))
			tc.edit(d)
			raw, err := json.Marshal(d)
			require.NoError(t, err)
			err = Validate(raw, tc.version)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}

	t.Run("refused: not a JSON object", func(t *testing.T) {
		err := Validate([]byte(`["issuer"]`), smart.V2)
		require.Error(t, err)
		assert.True(t, strings.Contains(err.Error(), "not a JSON object"))
	})
}
