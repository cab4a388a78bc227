package oktaprops

import "slices"

// reservedClaims are the claim names Okta refuses for a custom authorization
// server's custom claims (and for token inline hooks to add or change).
//
// Source: Okta support, "OIDC Bearer Tokens: List of Reserved Claims"
// (support.okta.com/help/s/article/list-of-reserved-claim-names), which lists
// each name with the token it is reserved in; the JWT registered claims
// (RFC 7519 §4.1) not on that list; and scp, the claim Okta's access tokens
// carry their scopes in. A name reserved in one token is refused for both
// claim types here: the article does not say Okta accepts it in the other, and
// a refusal at synth is cheaper than a failed deployment. The one exception is
// reservedOnlyInAccessTokens.
var reservedClaims = []string{
	// Access token.
	"acr", "amr", "as_uri", "cid", "rpt", "rsi", "uid", "username",
	// ID token.
	"active", "aid", "aud", "app_id", "app_type", "at_hash", "auth_time", "client_id", "client_ip",
	"client_req_id", "client_type", "client_user_agent", "cnf", "c_hash", "device_compliance", "device_id",
	"device_known", "device_managed", "device_name", "device_trust", "did", "dst", "group", "hotk", "idp",
	"idp_iss", "mac_key", "may_act", "nonce", "oid", "okta_emailVerified", "okta_lastUpdated", "orig",
	"permissions", "purpose", "pwd_exp_days", "pwd_exp_time", "rid", "role", "scope", "scopes", "sid", "sub",
	"term", "user_ip",
	// Both.
	"iss", "jti", "token_type", "ver",
	// RFC 7519 §4.1 registered claims not listed above, and Okta's scp.
	"exp", "iat", "nbf", "scp",
}

// reservedOnlyInAccessTokens are reserved in access tokens (RESOURCE claims)
// only: Okta's guide "Add a Groups claim for a Custom Authorization Server"
// itself adds an ID-token claim named groups.
var reservedOnlyInAccessTokens = []string{"groups"}

// ReservedClaimName reports whether Okta refuses name for a custom claim of
// claimType (RESOURCE for access tokens, IDENTITY for ID tokens).
func ReservedClaimName(name, claimType string) bool {
	if slices.Contains(reservedClaims, name) {
		return true
	}
	return claimType != "IDENTITY" && slices.Contains(reservedOnlyInAccessTokens, name)
}
