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
// rewrite nothing: the safe default.
package tokenshape

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// The environment variables the rules are read from (the token validator
// construct sets them).
const (
	EnvScopeClaim   = "SMART_SCOPE_CLAIM"
	EnvClientIDs    = "SMART_CLIENT_IDS"
	EnvAudienceRule = "SMART_AUDIENCE_RULE"
	EnvScopeMap     = "SMART_SCOPE_MAP"
)

// Scope claims.
const (
	ClaimScope = "scope" // RFC 9068, Keycloak, Auth0, Ping, Cognito
	ClaimScp   = "scp"   // Okta (an array), Entra ID (a string)
)

// Audience rules.
const (
	// AudienceRequired: the token's aud must hold an accepted audience.
	AudienceRequired = "aud"
	// AudienceOrAllowedClient: a token without aud is accepted when its client
	// is in the allow-list (Cognito access tokens have no aud).
	AudienceOrAllowedClient = "aud-or-allowed-client"
)

// Rules is the validated configuration.
type Rules struct {
	// ScopeClaim is ClaimScope, ClaimScp or "" (scp when present, else scope).
	ScopeClaim string
	// ClientIDs, when not empty, is the allow-list of clients.
	ClientIDs []string
	// ClientStandsInForAudience accepts a token without aud from a listed client.
	ClientStandsInForAudience bool
	// rewrites are the scope map, longest prefix first.
	rewrites []rewrite
}

type rewrite struct{ prefix, replacement string }

// Problem is one invalid variable.
type Problem struct {
	Variable, Reason string
}

// FromEnv reads the rules; getenv is os.Getenv in production. Every problem
// is reported, each naming its variable; the rules returned with problems are
// the safe defaults for the variables in error.
func FromEnv(getenv func(string) string) (Rules, []Problem) {
	var r Rules
	var problems []Problem
	bad := func(v, format string, args ...any) {
		problems = append(problems, Problem{Variable: v, Reason: fmt.Sprintf(format, args...)})
	}

	switch c := getenv(EnvScopeClaim); c {
	case "", ClaimScope, ClaimScp:
		r.ScopeClaim = c
	default:
		bad(EnvScopeClaim, "must be %q or %q, not %q", ClaimScope, ClaimScp, c)
	}

	for id := range strings.SplitSeq(getenv(EnvClientIDs), ",") {
		if id = strings.TrimSpace(id); id != "" {
			r.ClientIDs = append(r.ClientIDs, id)
		}
	}

	switch rule := getenv(EnvAudienceRule); rule {
	case "", AudienceRequired:
	case AudienceOrAllowedClient:
		if len(r.ClientIDs) == 0 {
			// Tokens without aud from any client of the issuer: apps registered
			// for other APIs of the same server would get in.
			bad(EnvAudienceRule, "%s needs %s: without an allow-list, tokens with no audience would be accepted from any client",
				AudienceOrAllowedClient, EnvClientIDs)
		} else {
			r.ClientStandsInForAudience = true
		}
	default:
		bad(EnvAudienceRule, "must be %q or %q, not %q", AudienceRequired, AudienceOrAllowedClient, rule)
	}

	if raw := getenv(EnvScopeMap); raw != "" {
		var m map[string]string
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			bad(EnvScopeMap, "must be a JSON object of strings (scope prefix to replacement)")
		} else {
			for prefix, repl := range m {
				if err := CheckScopeMapEntry(prefix, repl); err != nil {
					bad(EnvScopeMap, "entry %q: %v", prefix, err)
					continue
				}
				r.rewrites = append(r.rewrites, rewrite{prefix, repl})
			}
			sort.Slice(r.rewrites, func(i, j int) bool {
				a, b := r.rewrites[i].prefix, r.rewrites[j].prefix
				if len(a) != len(b) {
					return len(a) > len(b)
				}
				return a < b
			})
		}
	}
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Variable < problems[j].Variable })
	}
	return r, problems
}

// Pick returns the raw claim that holds the scopes, of a token's scp and
// scope, per ScopeClaim (by default scp when present, else scope). The caller
// reads it (the validator splits a string on U+0020 only, RFC 6749 section
// 3.3) and applies Rewrite to each scope.
func (r *Rules) Pick(scp, scope any) any {
	switch r.ScopeClaim {
	case ClaimScp:
		return scp
	case ClaimScope:
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

// CheckScopeMapEntry checks one scope-map entry: a non-empty prefix that ends
// at a separator ('.', '/', '-' or ':'), so "patient." never rewrites
// "patientx.y", and no white space on either side. The construct checks
// entries with it at synthesis, the validator at start.
func CheckScopeMapEntry(prefix, replacement string) error {
	switch {
	case prefix == "":
		return errors.New("the prefix must be non-empty")
	case strings.ContainsAny(prefix+replacement, " \t\n\r\v\f"):
		return errors.New("neither side may hold spaces")
	case !strings.ContainsAny(prefix[len(prefix)-1:], "./-:"):
		return errors.New(`the prefix must end at a separator ('.', '/', '-' or ':'), such as "patient."`)
	}
	return nil
}
