package smartscope

import (
	"slices"
	"strings"
)

// Version is the scope syntax a data store understands.
type Version uint8

// The data store flavours: V2 is HealthLake's SMART_ON_FHIR (v1 and v2 scopes),
// V1 is SMART_ON_FHIR_V1 (v1 scopes only).
const (
	V2 Version = iota
	V1
)

// ParseVersion reads SMART_SCOPE_VERSION: "" and "v2" are V2, "v1" is V1.
func ParseVersion(s string) (Version, bool) {
	switch s {
	case "", "v2":
		return V2, true
	case "v1":
		return V1, true
	}
	return V2, false
}

// String returns "v1" or "v2".
func (v Version) String() string {
	if v == V1 {
		return "v1"
	}
	return "v2"
}

// Granted returns the scopes to hand to a data store of version v, in token
// order, without duplicates, as one space-separated string, and whether at least
// one of them is a resource scope (without one the token grants no data access).
//
// Context scopes and scopes the data store understands pass through unchanged.
// For V1, a v2 scope becomes the v1 scope granting no more than it: read+search
// ("rs") gives "read", create+update+delete ("cud") gives "write", all five give
// "*"; a filtered (v2.2) scope or one with a partial set ("r", "cu") has no such
// v1 scope and is dropped. Unknown scopes are dropped.
func Granted(scopes []string, v Version) (string, bool) {
	out := make([]string, 0, len(scopes))
	resource := false
	for _, s := range scopes {
		sc := Parse(s)
		switch sc.Kind {
		case Unknown:
			continue
		case ResourceV2:
			if v == V1 {
				s = toV1(sc)
				if s == "" {
					continue
				}
			}
			resource = true
		case ResourceV1:
			resource = true
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " "), resource
}

// toV1 returns the v1 scope granting no more than a v2 scope, or "".
func toV1(sc Scope) string {
	if sc.Filter != "" {
		// v1 has no filters, so any v1 scope would grant more than a filtered one.
		return ""
	}
	var perm string
	switch {
	case sc.Perms&(v1Read|v1Write) == v1Read|v1Write:
		perm = "*"
	case sc.Perms&v1Read == v1Read:
		perm = "read"
	case sc.Perms&v1Write == v1Write:
		perm = "write"
	default:
		return ""
	}
	return sc.Compartment + "/" + sc.Resource + "." + perm
}
