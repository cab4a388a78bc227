package idp

import (
	"encoding/json"
	"strings"
)

// Claim names are case-sensitive (RFC 7519 section 4), but encoding/json matches
// struct fields case-insensitively: decoded as is, "EXP" would count as "exp",
// and a differently cased duplicate ("PATIENT") would override the real claim.
// Decoding into a map and picking exact names costs more than the struct
// decoding on every first sight of a token, so the struct decoding is kept and
// made exact: plainNames checks, in one pass over the already validated JSON,
// that no member name could be folded onto a claim name, and only a payload
// that fails the check is reduced by exactClaims to its exactly named claims
// before it is decoded.

// claimNames are the members tokenClaims and introspection decode.
var claimNames = [...]string{
	"iss", "sub", "iat", "nbf", "exp", "aud", "scope", "scp", "uid", "fhirUser",
	"patient", "launch_response_patient", "active", "token_type",
}

// plainNames reports whether every member name of the JSON object b (valid
// JSON, as checked by encoding/json) is ASCII without escapes and either is
// exactly one of claimNames or matches none of them case-insensitively. When it
// does, encoding/json's case-insensitive struct matching is exact for b.
// Anything unusual in a name (an escape, a non-ASCII byte, which encoding/json
// may fold: "ſ" matches "s", "K" (Kelvin) matches "k") answers false, which
// only costs the exact path.
func plainNames(b []byte) bool {
	depth := 0
	key := false // the next string at depth 1 is a member name
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{', '[':
			depth++
			key = c == '{' && depth == 1
		case '}', ']':
			depth--
		case ',':
			key = depth == 1
		case '"':
			j := i + 1
			for ; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					if key {
						return false
					}
					j++ // the escaped byte cannot end the string
				}
			}
			if key && !plainName(b[i+1:j]) {
				return false
			}
			i, key = j, false
		}
	}
	return true
}

func plainName(name []byte) bool {
	for _, c := range name {
		if c >= 0x80 {
			return false
		}
	}
	for _, n := range claimNames {
		if len(n) == len(name) && string(name) != n && strings.EqualFold(n, string(name)) {
			return false
		}
	}
	return true
}

// exactClaims returns the JSON object b reduced to the members named exactly
// as in claimNames, whose decoding into a struct is then exact too.
func exactClaims(b []byte) ([]byte, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	exact := make(map[string]json.RawMessage, len(claimNames))
	for _, n := range claimNames {
		if v, ok := all[n]; ok {
			exact[n] = v
		}
	}
	return json.Marshal(exact)
}

// decodeExact decodes the JSON object b into v by exact claim names.
func decodeExact(b []byte, v any) error {
	if !plainNames(b) {
		var err error
		if b, err = exactClaims(b); err != nil {
			return err
		}
	}
	return json.Unmarshal(b, v)
}
