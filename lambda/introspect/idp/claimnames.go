package idp

import (
	"bytes"
	"encoding/json"
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
	"patient", "launch_response_patient", "smart_launch_ctx", "active", "token_type",
	"cid", "client_id", "azp", "appid", "token_use",
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
			j := closingQuote(b, i)
			if j < 0 {
				return false // not valid JSON after all: the exact path reports it
			}
			if key {
				name := b[i+1 : j]
				if bytes.IndexByte(name, '\\') >= 0 || !plainName(name) {
					return false
				}
			}
			i, key = j, false
		}
	}
	return true
}

// closingQuote returns the index of the quote that ends the string opening at
// b[open], or -1: the first quote not escaped by an odd run of backslashes.
func closingQuote(b []byte, open int) int {
	for j := open + 1; ; j++ {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k
		backslashes := 0
		for m := j - 1; m > open && b[m] == '\\'; m-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return j
		}
	}
}

// plainName reports whether a member name (ASCII, no escapes) is exactly a
// claim name or folds onto none. It runs for every member of every new token,
// so the names are matched by a switch rather than a map.
func plainName(name []byte) bool {
	if len(name) > maxClaimName {
		return true // longer than every claim name: folds onto none
	}
	var buf [maxClaimName]byte
	folded := buf[:len(name)]
	for i, c := range name {
		switch {
		case c >= 0x80:
			return false
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		folded[i] = c
	}
	// The cases are claimNames in lower case (TestPlainNamesKnowsEveryClaimName).
	switch string(folded) {
	case "fhiruser":
		return string(name) == "fhirUser"
	case "iss", "sub", "iat", "nbf", "exp", "aud", "scope", "scp", "uid",
		"patient", "launch_response_patient", "smart_launch_ctx", "active", "token_type",
		"cid", "client_id", "azp", "appid", "token_use":
		return string(name) == string(folded)
	}
	return true
}

// maxClaimName is the length of the longest claim name.
const maxClaimName = len("launch_response_patient")

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
