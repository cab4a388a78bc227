package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// The token shapes of the authorization servers the README documents, each
// signed by the fake's key and sent through the real handler. Every shape's
// source is in package tokenshape's documentation.

// signTyped signs claims with RS256 and kid k1, with a header typ ("" leaves
// the library's default, JWT).
func signTyped(t *testing.T, typ string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	if typ != "" {
		tok.Header["typ"] = typ
	}
	s, err := tok.SignedString(getKeys(t).rsa1)
	require.NoError(t, err)
	return s
}

// base is what every shape has: issuer, times, subject.
func base(f *fakeIdP) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": f.Issuer,
		"iat": t0.Add(-time.Minute).Unix(),
		"exp": t0.Add(time.Hour).Unix(),
		"sub": "user-1",
	}
}

func TestOktaShapedTokens(t *testing.T) {
	f := newFakeIdP(t)
	// Okta's access token payload: scp an array, aud one string, cid, uid.
	okta := f.claims()

	t.Run("an Okta token with scp as an array and its uid is accepted with the defaults", func(t *testing.T) {
		th := newTestHandler(t, f.env(), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "", okta))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		assert.Equal(t, "launch/patient openid fhirUser patient/Observation.rs patient/Patient.rs", resp.AuthPayload.Scope)
		assert.Equal(t, "00u-user-uid", resp.AuthPayload.Uid)
	})
	t.Run("an Okta token from a client off the allow-list (cid) is refused", func(t *testing.T) {
		th := newTestHandler(t, f.env(validatorenv.EnvClientIDs, "0oa-other"), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "", okta))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonClientNotAllowed), reason)
	})
	t.Run("an Okta token from a listed client (cid) is accepted", func(t *testing.T) {
		th := newTestHandler(t, f.env(validatorenv.EnvClientIDs, "0oa-other,0oa-client"), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "", okta))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	})
	t.Run("an Okta token for another audience is refused", func(t *testing.T) {
		th := newTestHandler(t, f.env(), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "", with(okta, "aud", "api://default")))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonAudience), reason)
	})
}

func TestRFC9068ShapedTokens(t *testing.T) {
	f := newFakeIdP(t)
	const api = "https://fhir.example.org"
	e := f.env(validatorenv.EnvAudiences, api, validatorenv.EnvScopeClaim, "scope")
	// RFC 9068 section 2.2 (Auth0's RFC 9068 profile, PingOne): scope a
	// string, aud an array, client_id, jti; header typ at+jwt (section 2.1).
	auth0 := with(base(f), "aud", []any{api, "https://tenant.auth0.com/userinfo"}, "client_id", "auth0-app",
		"jti", "73WakrfVbNJBaAmhQtEeDv", "scope", "openid fhirUser launch/patient patient/Observation.rs", "fhirUser", "Patient/123", "patient", "123")
	// Keycloak: aud a string or an array (with its "account"), the client in
	// azp, header typ JWT.
	keycloak := with(base(f), "aud", []any{api, "account"}, "azp", "smart-app", "typ", "Bearer",
		"scope", "openid patient/*.rs", "patient", "123")

	t.Run("an RFC 9068 token (typ at+jwt, scope string, aud array, client_id) is accepted", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "at+jwt", auth0))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		assert.Equal(t, "openid fhirUser launch/patient patient/Observation.rs", resp.AuthPayload.Scope)
		assert.Equal(t, "Patient/123", resp.AuthPayload.FhirUser)
		assert.Equal(t, "123", resp.AuthPayload.Patient)
		assert.Equal(t, endpoint, resp.AuthPayload.Aud, "HealthLake gets its own endpoint back")
	})
	t.Run("the media type form application/at+jwt is accepted too", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "application/at+jwt", auth0))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	})
	t.Run("a Keycloak token (typ JWT, aud array with account, azp) is accepted, its azp checked against the allow-list", func(t *testing.T) {
		th := newTestHandler(t, f.env(validatorenv.EnvAudiences, api, validatorenv.EnvScopeClaim, "scope", validatorenv.EnvClientIDs, "smart-app"), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "JWT", keycloak))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		assert.Equal(t, "openid patient/*.rs", resp.AuthPayload.Scope)
	})
	t.Run("a token with aud a single string is accepted", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "at+jwt", with(auth0, "aud", api)))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	})
	t.Run("a JWT of another type (a logout token) is refused", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "logout+jwt", auth0))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonTypNotAllowed), reason)
	})
	t.Run("the configured scope claim is split on spaces only, like the default ones", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "at+jwt", with(auth0, "scope", "openid patient/Observation.rs user/Patient.rs\tsystem/*.cruds")))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		assert.Equal(t, "openid patient/Observation.rs", resp.AuthPayload.Scope)
		assert.NotContains(t, strings.Fields(resp.AuthPayload.Scope), "system/*.cruds", "a tab does not make a second scope")
	})
	t.Run("scopes in scp are not read when the scope claim is scope", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "at+jwt", with(auth0, "scope", "openid", "scp", []any{"system/*.cruds"})))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonNoSMARTScope), reason)
	})
	t.Run("a token for another API of the same server is refused", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "at+jwt", with(auth0, "aud", []any{"https://billing.example.org"})))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonAudience), reason)
	})
}

func TestCognitoShapedTokens(t *testing.T) {
	f := newFakeIdP(t)
	const client = "1example23456789"
	standIn := f.env(validatorenv.EnvScopeClaim, "scope", validatorenv.EnvClientIDs, client,
		validatorenv.EnvAudienceRule, string(validatorenv.AudienceOrAllowedClient))
	// Cognito's access token: no aud, client_id, scope a string with the
	// resource server's prefix, token_use access, username.
	access := with(base(f), "client_id", client, "token_use", "access", "username", "jane",
		"scope", "openid patient/*.read launch/patient", "fhirUser", "Patient/123")
	// Its ID token: aud the client id, token_use id.
	idToken := with(base(f), "aud", client, "token_use", "id", "cognito:username", "jane", "scope", "patient/*.read")

	t.Run("an access token without aud from a listed client is accepted when the list stands in for the audience", func(t *testing.T) {
		th := newTestHandler(t, standIn, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "", access))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		assert.Equal(t, "openid patient/*.read launch/patient", resp.AuthPayload.Scope)
		assert.Equal(t, "Patient/123", resp.AuthPayload.FhirUser)
	})
	t.Run("the same token is refused with the default rules: a missing aud never passes by default", func(t *testing.T) {
		th := newTestHandler(t, f.env(validatorenv.EnvScopeClaim, "scope", validatorenv.EnvClientIDs, client), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "", access))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonAudience), reason)
	})
	t.Run("an access token without aud from another client is refused", func(t *testing.T) {
		th := newTestHandler(t, standIn, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "", with(access, "client_id", "other-app")))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonClientNotAllowed), reason)
	})
	t.Run("an ID token is refused even when its aud, the client id, is configured as an audience", func(t *testing.T) {
		th := newTestHandler(t, f.env(validatorenv.EnvAudiences, client, validatorenv.EnvScopeClaim, "scope"), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "", idToken))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonTokenType), reason)
	})
	t.Run("a stand-in for the audience without an allow-list is a configuration error: nothing is accepted", func(t *testing.T) {
		th := newTestHandler(t, f.env(validatorenv.EnvAudienceRule, string(validatorenv.AudienceOrAllowedClient)), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "", access))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonConfigInvalid), reason)
	})
}

func TestEntraIDShapedTokens(t *testing.T) {
	f := newFakeIdP(t)
	const apiClientID = "6731de76-14a6-49ae-97bc-6eba6914391e"
	e := f.env(validatorenv.EnvAudiences, apiClientID, validatorenv.EnvScopeClaim, "scp",
		validatorenv.EnvScopeMap, `{"patient.": "patient/", "user.": "user/", "launch.": "launch/"}`)
	// Entra ID v2.0: scp a space-separated string, aud the API's client id,
	// azp the client, ver 2.0; SMART scopes registered with dots.
	entra := with(base(f), "aud", apiClientID, "azp", "c0ffee00-0000-4000-8000-000000000001", "ver", "2.0",
		"tid", "72f988bf-86f1-41af-91ab-2d7cd011db47", "scp", "patient.Observation.read launch.patient fhirUser",
		"fhirUser", "Patient/123")

	t.Run("dotted scopes in an scp string are mapped to SMART's form and accepted", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "JWT", entra))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		assert.Equal(t, "patient/Observation.read launch/patient fhirUser", resp.AuthPayload.Scope)
	})
	t.Run("without the scope map the same token holds no SMART scope", func(t *testing.T) {
		th := newTestHandler(t, f.env(validatorenv.EnvAudiences, apiClientID, validatorenv.EnvScopeClaim, "scp"), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "JWT", entra))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonNoSMARTScope), reason)
	})
	t.Run("the client allow-list reads azp (v2.0) and appid (v1.0)", func(t *testing.T) {
		th := newTestHandler(t, f.env(validatorenv.EnvAudiences, apiClientID, validatorenv.EnvScopeClaim, "scp",
			validatorenv.EnvScopeMap, `{"patient.": "patient/"}`, validatorenv.EnvClientIDs, "c0ffee00-0000-4000-8000-000000000001"), idp.Options{})
		resp, reason := th.call(t, signTyped(t, "JWT", entra))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		v1 := with(entra, "azp", nil, "appid", "c0ffee00-0000-4000-8000-000000000001", "ver", "1.0")
		resp, reason = th.call(t, signTyped(t, "JWT", v1))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		resp, reason = th.call(t, signTyped(t, "JWT", with(v1, "appid", "someone-else")))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonClientNotAllowed), reason)
	})
	t.Run("a token of another tenant (its issuer) is refused", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "JWT", with(entra, "iss", f.URL+"/other-tenant/v2.0")))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonIssuer), reason)
	})
	t.Run("a v1.0 token whose aud is the application ID URI is refused when only the client id is configured", func(t *testing.T) {
		th := newTestHandler(t, e, idp.Options{})
		resp, reason := th.call(t, signTyped(t, "JWT", with(entra, "aud", "api://fhir-api")))
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonAudience), reason)
	})
}

func TestTheTokenRulesApplyToIntrospectionAnswersToo(t *testing.T) {
	t.Run("an RFC 7662 answer's client_id is checked against the allow-list", func(t *testing.T) {
		s := newIntrospectionSetup(t, goodSecret(), idp.Options{}, validatorenv.EnvClientIDs, "0oa-other")
		resp, reason := s.call(t, opaqueToken)
		require.False(t, bool(resp.AuthPayload.IsAuthorized))
		assert.Equal(t, string(idp.ReasonClientNotAllowed), reason)
	})
	t.Run("an answer's dotted scopes are mapped", func(t *testing.T) {
		s := newIntrospectionSetup(t, goodSecret(), idp.Options{}, validatorenv.EnvScopeClaim, "scope",
			validatorenv.EnvScopeMap, `{"patient.": "patient/"}`)
		s.setAnswer(func(url.Values) (int, any) {
			a := s.activeAnswer()
			a["scope"] = "openid patient.Observation.rs"
			return http.StatusOK, a
		})
		resp, reason := s.call(t, opaqueToken)
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		assert.Equal(t, "openid patient/Observation.rs", resp.AuthPayload.Scope)
	})
}
