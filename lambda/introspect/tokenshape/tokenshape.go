// Package tokenshape holds the rules that let the token validator read the
// access tokens of authorization servers other than the Okta one this project
// provisions: which claim holds the scopes, which claim names the client,
// whether a client allow-list may stand in for a missing audience, how scope
// names are rewritten into SMART's form, and which token_use values are
// access tokens (the JWT header's typ is checked by the validator's JOSE
// header rules: JWT or at+jwt only).
//
// The shapes, and where they are documented:
//
//   - Okta: scp an array, aud a string, cid the client, uid the user (Okta's
//     access token payload, developer.okta.com/docs/reference/api/oidc).
//   - RFC 9068 servers (Keycloak, Auth0's RFC 9068 profile, PingOne): scope a
//     space-separated string, aud a string or an array, client_id, header typ
//     "at+jwt" (RFC 9068 sections 2.1 and 2.2); Keycloak and Auth0's default
//     profile name the client in azp instead (OpenID Connect Core 1.0 section 2).
//   - Amazon Cognito: no aud, client_id, scope a string, token_use "access"
//     (ID tokens say "id"); custom scopes are <resource server identifier>/<scope
//     name> (Cognito API Reference, ResourceServerScopeType).
//   - Microsoft Entra ID: scp a space-separated string, aud the API's client id
//     (v2.0) or its application ID URI (v1.0), azp (v2.0) or appid (v1.0) the
//     client, iss per tenant (Entra ID access token claims reference); SMART
//     scopes registered with dots for slashes (patient.Observation.read), which a
//     scope map rewrites.
//
// The zero Rules read every shape above except a token without aud, and
// rewrite nothing: the safe default. The environment variables the rules
// come from, and their parser, are package validatorenv's.
package tokenshape

import (
	"slices"
	"sort"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
)

// Rules is the validated configuration.
type Rules struct {
	// ScopeClaim is validatorenv.ClaimScope, validatorenv.ClaimScp or "" (scp
	// when present, else scope).
	ScopeClaim validatorenv.ScopeClaim
	// ClientIDs, when not empty, is the allow-list of clients.
	ClientIDs []string
	// ClientStandsInForAudience accepts a token without aud from a listed client.
	ClientStandsInForAudience bool
	// rewrites are the scope map, longest prefix first.
	rewrites []rewrite
}

type rewrite struct{ prefix, replacement string }

// New builds the rules from the settings validatorenv.Parse read and checked.
func New(s validatorenv.TokenRules) Rules {
	r := Rules{
		ScopeClaim:                s.ScopeClaim,
		ClientIDs:                 s.ClientIDs,
		ClientStandsInForAudience: s.AudienceRule == validatorenv.AudienceOrAllowedClient && len(s.ClientIDs) > 0,
	}
	for prefix, repl := range s.ScopeMap {
		r.rewrites = append(r.rewrites, rewrite{prefix, repl})
	}
	sort.Slice(r.rewrites, func(i, j int) bool {
		a, b := r.rewrites[i].prefix, r.rewrites[j].prefix
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return a < b
	})
	return r
}

// Pick returns the raw claim that holds the scopes, of a token's scp and
// scope, per ScopeClaim (by default scp when present, else scope). The caller
// reads it (the validator splits a string on U+0020 only, RFC 6749 section
// 3.3) and applies Rewrite to each scope.
func (r *Rules) Pick(scp, scope any) any {
	switch r.ScopeClaim {
	case validatorenv.ClaimScp:
		return scp
	case validatorenv.ClaimScope:
		return scope
	}
	if scp != nil {
		return scp
	}
	return scope
}

// Rewrite applies the scope map to one scope: the longest matching prefix is
// replaced; a scope no prefix matches is returned as it is.
func (r *Rules) Rewrite(scope string) string {
	for _, w := range r.rewrites {
		if strings.HasPrefix(scope, w.prefix) {
			return w.replacement + scope[len(w.prefix):]
		}
	}
	return scope
}

// Rewrites reports whether a scope map is configured.
func (r *Rules) Rewrites() bool { return len(r.rewrites) > 0 }

// Client names a token's client: RFC 9068's client_id, else Okta's cid, else
// azp (OpenID Connect; Entra ID v2.0, Keycloak, Auth0), else Entra ID v1.0's appid.
func Client(clientID, cid, azp, appid string) string {
	for _, c := range []string{clientID, cid, azp, appid} {
		if c != "" {
			return c
		}
	}
	return ""
}

// ClientAllowed reports whether client passes the allow-list (always, without one).
func (r *Rules) ClientAllowed(client string) bool {
	return len(r.ClientIDs) == 0 || (client != "" && slices.Contains(r.ClientIDs, client))
}

// MissingAudienceAccepted reports whether a token without any aud is accepted:
// only with the stand-in rule, whose allow-list the token passed already
// (ClientAllowed is checked for every token).
func (r *Rules) MissingAudienceAccepted(aud []string) bool {
	if !r.ClientStandsInForAudience {
		return false
	}
	for _, a := range aud {
		if a != "" {
			return false
		}
	}
	return true
}

// AccessTokenUse reports whether a token_use claim allows the token as an access
// token: absent or "access" (Cognito's ID tokens say "id").
func AccessTokenUse(use string) bool { return use == "" || use == "access" }
