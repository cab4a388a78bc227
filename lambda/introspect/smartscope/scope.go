// Package smartscope parses SMART App Launch scopes (v1, v2 and v2.2 filtered
// scopes, plus the launch-context and identity scopes) and chooses the ones a
// HealthLake data store is given.
//
// A SMART_ON_FHIR data store understands v1 and v2 scopes; a SMART_ON_FHIR_V1 data
// store understands only v1, so v2 scopes are translated to the v1 scope that
// grants no more than they do, or dropped when no such scope exists.
//
// A scope is one RFC 6749 scope-token (printable ASCII, no space, '"' or '\'),
// so the chosen scopes joined by spaces split back into exactly themselves
// whatever white space the splitter knows; v2.2 filters are limited to
// param=value(&param=value)* over a safe character set. patient/ scopes are
// chosen only for a token with a patient context (see LaunchContext).
package smartscope

import "strings"

// Kind says what a scope is.
type Kind uint8

// The kinds of scope. Unknown scopes (OIDC "profile", "email", vendor scopes,
// malformed resource scopes) mean nothing to HealthLake and are never passed on.
const (
	Unknown Kind = iota
	// Context is a launch-context or identity scope: launch, launch/patient,
	// openid, fhirUser, offline_access, ...
	Context
	// ResourceV1 is patient|user|system/<Type>|*.read|write|*.
	ResourceV1
	// ResourceV2 is patient|user|system/<Type>|*.<ordered subset of cruds>,
	// optionally filtered (v2.2: "?category=laboratory").
	ResourceV2
)

// Perm is a set of SMART v2 permissions.
type Perm uint8

// The v2 permissions, in the order the scope syntax requires.
const (
	Create Perm = 1 << iota
	Read
	Update
	Delete
	Search
)

// v1 "read" is read+search and v1 "write" is create+update+delete.
const (
	v1Read  = Read | Search
	v1Write = Create | Update | Delete
)

// Scope is one parsed scope.
type Scope struct {
	Kind Kind
	// Compartment is "patient", "user" or "system" for resource scopes.
	Compartment string
	// Resource is a FHIR resource type or "*" for resource scopes.
	Resource string
	// Perms is what a resource scope grants (v1 scopes are expressed as v2 sets).
	Perms Perm
	// Filter is the v2.2 query after "?", empty when unfiltered.
	Filter string
}

// isContextScope accepts the SMART launch-context and identity scopes
// HealthLake documents (launch, openid, fhirUser, offline_access,
// online_access); other "launch/<x>" scopes are accepted by isLaunchScope. A
// switch, not a map: it runs for every scope of every new token.
func isContextScope(s string) bool {
	switch s {
	case "launch", "openid", "fhirUser", "offline_access", "online_access":
		return true
	}
	return false
}

// Parse reads one scope. Anything it does not recognise is Kind Unknown, and so
// is any string outside RFC 6749's scope-token syntax (section 3.3: printable
// ASCII without space, '"' or '\'): a scope holding white space of any kind
// (\v, \f, U+0085, U+00A0, U+2028, ...) or a control character would read as
// several scopes to whoever splits the answer's scope string on white space.
func Parse(s string) Scope {
	if !isScopeToken(s) {
		return Scope{}
	}
	if isContextScope(s) || isLaunchScope(s) {
		return Scope{Kind: Context}
	}
	compartment, rest, ok := strings.Cut(s, "/")
	if !ok || (compartment != "patient" && compartment != "user" && compartment != "system") {
		return Scope{}
	}
	resource, perms, ok := strings.Cut(rest, ".")
	if !ok || !isResourceType(resource) {
		return Scope{}
	}
	sc := Scope{Compartment: compartment, Resource: resource}
	switch perms {
	case "read":
		sc.Kind, sc.Perms = ResourceV1, v1Read
		return sc
	case "write":
		sc.Kind, sc.Perms = ResourceV1, v1Write
		return sc
	case "*":
		sc.Kind, sc.Perms = ResourceV1, v1Read|v1Write
		return sc
	}
	perms, filter, filtered := strings.Cut(perms, "?")
	if filtered && !isFilter(filter) {
		return Scope{}
	}
	p, ok := parsePerms(perms)
	if !ok {
		return Scope{}
	}
	sc.Kind, sc.Perms, sc.Filter = ResourceV2, p, filter
	return sc
}

// isScopeToken reports whether s is one RFC 6749 scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// isLaunchScope accepts "launch/patient", "launch/encounter" and the other
// launch/<lower-case word> context requests.
func isLaunchScope(s string) bool {
	name, ok := strings.CutPrefix(s, "launch/")
	if !ok || name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 'a' || name[i] > 'z' {
			return false
		}
	}
	return true
}

// isResourceType accepts "*" and FHIR resource type names (an upper-case letter
// then letters), which is all R4 uses.
func isResourceType(s string) bool {
	if s == "*" {
		return true
	}
	if s == "" || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// isFilter accepts a v2.2 filter, param=value(&param=value)*: a parameter
// name of letters, digits and "_-.:" (search parameters, with a modifier or a
// chain), and a value of letters, digits, "-._~:/|," and %XX escapes, which is
// what token, reference and code searches (system|code, absolute URLs) need.
// Anything else (";", "'", "<", "+", "=", "#", a second "?", an empty name or
// value) makes the scope Unknown: the filter reaches HealthLake as the data
// store's own query syntax, and its shape is ours to bound.
func isFilter(q string) bool {
	if q == "" {
		return false
	}
	for pair := range strings.SplitSeq(q, "&") {
		name, value, ok := strings.Cut(pair, "=")
		if !ok || !isFilterName(name) || !isFilterValue(value) {
			return false
		}
	}
	return true
}

func isFilterName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && !strings.ContainsRune("_-.:", rune(c)) {
			return false
		}
	}
	return true
}

func isFilterValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isAlnum(c) || strings.ContainsRune("-._~:/|,", rune(c)):
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) && safeEscape(s[i+1:i+3]):
			i += 2
		default:
			return false
		}
	}
	return true
}

// safeEscape reports whether a %XX escape in a filter value stands for a
// character that cannot act as syntax once decoded: never a separator of the
// filter or the query (&, =, ?, #, +, space), another escape (%), a control
// character or a non-ASCII byte. Whoever decodes the filter before splitting
// it would otherwise see more parameters than the scope was granted.
func safeEscape(hex string) bool {
	var b byte
	for i := 0; i < 2; i++ {
		c := hex[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		b = b<<4 | c
	}
	return b > 0x20 && b < 0x7f && !strings.ContainsRune("&=?#+%", rune(b))
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// parsePerms reads a non-empty, ordered, duplicate-free subset of "cruds".
func parsePerms(s string) (Perm, bool) {
	const order = "cruds"
	if s == "" || len(s) > len(order) {
		return 0, false
	}
	var p Perm
	next := 0
	for i := 0; i < len(s); i++ {
		j := strings.IndexByte(order[next:], s[i])
		if j < 0 {
			return 0, false
		}
		next += j + 1
		p |= 1 << (next - 1)
	}
	return p, true
}
