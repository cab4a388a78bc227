package smartscope

import (
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// LaunchContext is what scope selection needs to know of a token's launch context.
type LaunchContext struct {
	// Patient is set when the token names its patient: a valid patient claim,
	// or a fhirUser that references a Patient (the caller checks both).
	Patient bool
}

// Selection is the scopes chosen for a data store.
type Selection struct {
	// Scope is the chosen scopes, in token order, without duplicates, as one
	// space-separated string; split on any white space it yields exactly them.
	Scope string
	// Resource reports at least one resource scope among them: without one the
	// token grants no data access.
	Resource bool
	// PatientDropped reports patient/ scopes dropped for want of a patient
	// context.
	PatientDropped bool
}

// Granted returns the scopes to hand to a data store of SMART version v (any
// version but smart.V1 is served as smart.V2).
//
// Context scopes and scopes the data store understands pass through unchanged.
// For smart.V1, a v2 scope becomes the v1 scope granting no more than it: read+search
// ("rs") gives "read", create+update+delete ("cud") gives "write", all five give
// "*"; a filtered (v2.2) scope or one with a partial set ("r", "cu") has no such
// v1 scope and is dropped. Unknown scopes are dropped.
//
// A patient/ scope grants access to one patient's compartment, the one the
// token's patient context names. Without that context it is dropped: nothing
// documents what HealthLake would make of it, and a patient-level grant
// without its patient must never become broader.
func Granted(scopes []string, v smart.Version, c LaunchContext) Selection {
	out := make([]string, 0, len(scopes))
	var sel Selection
	for _, s := range scopes {
		sc := Parse(s)
		switch sc.Kind {
		case Unknown:
			continue
		case ResourceV1, ResourceV2:
			if sc.Compartment == "patient" && !c.Patient {
				sel.PatientDropped = true
				continue
			}
			if sc.Kind == ResourceV2 && v == smart.V1 {
				if s = toV1(sc); s == "" {
					continue
				}
			}
			sel.Resource = true
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sel.Scope = strings.Join(out, " ")
	return sel
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
