package fakeokta

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// token is the org authorization server's token endpoint, for service apps that
// call the management API with private_key_jwt: it checks the signed client
// assertion against the registered public key and issues a scoped access token.
// The SDK sends its parameters in the query string with an empty body.
func (s *Server) token(r *http.Request) (int, any, *apiError) {
	oauthErr := func(code, desc string) *apiError {
		// Okta's OAuth endpoints answer {"error", "error_description"}; the SDK's
		// error type reads both shapes, so Okta's management error shape is used.
		return &apiError{status: http.StatusUnauthorized, code: code, summary: desc}
	}
	if r.Method != http.MethodPost {
		return 0, nil, methodNotAllowed()
	}
	q := r.URL.Query()
	if err := r.ParseForm(); err == nil {
		for k, v := range r.PostForm {
			q[k] = v
		}
	}
	if q.Get("grant_type") != "client_credentials" {
		return 0, nil, oauthErr("unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
	}
	if q.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return 0, nil, oauthErr("invalid_client", "client_assertion_type is missing or invalid")
	}
	parts := strings.Split(q.Get("client_assertion"), ".")
	if len(parts) != 3 {
		return 0, nil, oauthErr("invalid_client", "The client_assertion is not a JWT")
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var claims struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
	}
	if decodeSegment(parts[0], &header) != nil || decodeSegment(parts[1], &claims) != nil || header.Alg != "RS256" {
		return 0, nil, oauthErr("invalid_client", "The client_assertion is malformed")
	}
	app, ok := s.serviceApps[claims.Sub]
	if !ok || claims.Iss != claims.Sub {
		return 0, nil, oauthErr("invalid_client", "The client is not registered")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return 0, nil, oauthErr("invalid_client", "The client_assertion signature is malformed")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(app.key, crypto.SHA256, digest[:], sig) != nil {
		return 0, nil, oauthErr("invalid_client", "The client_assertion signature is invalid")
	}
	if claims.Aud != s.URL+"/oauth2/v1/token" {
		return 0, nil, oauthErr("invalid_client", "The audience of the client_assertion is invalid")
	}
	if claims.Exp < s.now().Unix() {
		return 0, nil, oauthErr("invalid_client", "The client_assertion has expired")
	}
	scopes := strings.Fields(q.Get("scope"))
	for _, sc := range scopes {
		if !slices.Contains(app.scopes, sc) {
			return 0, nil, &apiError{status: http.StatusBadRequest, code: "invalid_scope",
				summary: "The following scopes are not allowed: " + sc}
		}
	}
	token := "eyJfake." + s.newSecret()
	s.accessTokens[token] = scopes
	return 200, map[string]any{
		"token_type": "Bearer", "expires_in": int(time.Hour / time.Second),
		"access_token": token, "scope": strings.Join(scopes, " "),
	}, nil
}

func decodeSegment(seg string, into any) error {
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}
