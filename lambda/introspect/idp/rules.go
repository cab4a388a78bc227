package idp

import "github.com/openhealthstack/smart-healthlake/lambda/introspect/tokenshape"

// applyRules reads validated claims by the token rules (package tokenshape),
// in both modes: a token whose token_use is present and not "access" (a
// Cognito ID token) is not an access token; its client must pass the
// allow-list; and the scopes are read again from the configured claim and
// rewritten by the scope map. The audience rule is applied per request, in
// answer. It returns "" when the token passes.
func applyRules(r *tokenshape.Rules, c *tokenClaims) Reason {
	if c.RawTokenUse != nil {
		if use, ok := c.RawTokenUse.(string); !ok || !tokenshape.AccessTokenUse(use) {
			return ReasonTokenType
		}
	}
	if !r.ClientAllowed(c.clientID()) {
		return ReasonClientNotAllowed
	}
	if r.ScopeClaim != "" || r.Rewrites() {
		// Read as normalize reads the default claims (strings1: a string split
		// on U+0020 only), then rewritten.
		scopes, ok := strings1(r.Pick(c.RawScp, c.RawScope), true)
		if !ok {
			return ReasonTokenMalformed
		}
		for i, s := range scopes {
			scopes[i] = r.Rewrite(s)
		}
		c.scopes = scopes
	}
	return ""
}
