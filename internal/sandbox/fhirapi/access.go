package fhirapi

import (
	"fmt"
	"strings"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/smartscope"
)

// grant is what a request may touch: everything, or the resources of some
// patients' compartments.
type grant struct {
	all      bool
	patients map[string]bool
}

func (g *grant) allows(r Resource) bool {
	if g.all {
		return true
	}
	id := patientOf(r)
	return id != "" && g.patients[id]
}

// access returns the grant the IdP's scope gives the request, or nil and why not.
// Each granting scope contributes its compartment's reach; the reaches add up.
func (s *Server) access(p authPayload, req request) (*grant, string) {
	g := &grant{patients: map[string]bool{}}
	granted := false
	var refusals []string
	for _, f := range strings.Fields(p.Scope) {
		sc := smartscope.Parse(f)
		switch sc.Kind {
		case smartscope.ResourceV1:
		case smartscope.ResourceV2:
			if s.opts.V1 {
				continue // SMART_ON_FHIR_V1 understands v1 scopes only
			}
		default:
			continue
		}
		if sc.Filter != "" || (sc.Resource != "*" && sc.Resource != req.resource) || sc.Perms&req.need == 0 {
			continue
		}
		switch sc.Compartment {
		case "system":
			return &grant{all: true}, ""
		case "user":
			if !s.opts.FineGrained {
				return &grant{all: true}, ""
			}
			ids, why := s.patientsOfUser(p.FhirUser)
			if why != "" {
				refusals = append(refusals, f+": "+why)
				continue
			}
			for _, id := range ids {
				g.patients[id] = true
			}
			granted = true
		case "patient":
			id := p.Patient
			if id == "" {
				id, _ = strings.CutPrefix(p.FhirUser, "Patient/")
				if !strings.HasPrefix(p.FhirUser, "Patient/") {
					id = ""
				}
			}
			if id == "" {
				refusals = append(refusals, f+": the token carries no patient context")
				continue
			}
			g.patients[strings.TrimPrefix(id, "Patient/")] = true
			granted = true
		}
	}
	if granted {
		return g, ""
	}
	if len(refusals) > 0 {
		return nil, strings.Join(refusals, "; ")
	}
	return nil, fmt.Sprintf("no scope in %q grants %s on %s", p.Scope, req.operation, req.resource)
}

// patientsOfUser resolves fine-grained authorization for a user-level scope.
func (s *Server) patientsOfUser(fhirUser string) ([]string, string) {
	kind, id, ok := strings.Cut(fhirUser, "/")
	if !ok || id == "" {
		return nil, "fine-grained authorization needs a fhirUser reference in the token"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	switch kind {
	case "Practitioner":
		for pid, pat := range s.data["Patient"] {
			if references(pat["generalPractitioner"], fhirUser) {
				out = append(out, pid)
			}
		}
	case "Patient":
		out = append(out, id)
		if pat, ok := s.data["Patient"][id]; ok {
			out = append(out, linkedPatients(pat)...)
		}
	case "RelatedPerson":
		for pid, pat := range s.data["Patient"] {
			for _, l := range asList(pat["link"]) {
				if m, ok := l.(map[string]any); ok && references(m["other"], fhirUser) {
					out = append(out, pid)
				}
			}
		}
	default:
		return nil, fmt.Sprintf("fhirUser %q is not a Patient, Practitioner or RelatedPerson", fhirUser)
	}
	return out, ""
}

func linkedPatients(pat Resource) []string {
	var out []string
	for _, l := range asList(pat["link"]) {
		m, _ := l.(map[string]any)
		if ref := reference(m["other"]); strings.HasPrefix(ref, "Patient/") {
			out = append(out, strings.TrimPrefix(ref, "Patient/"))
		}
	}
	return out
}

// patientOf is the id of the patient whose compartment holds r, or "".
func patientOf(r Resource) string {
	if r.Type() == "Patient" {
		return r.ID()
	}
	for _, k := range []string{"subject", "patient"} {
		if ref := reference(r[k]); strings.HasPrefix(ref, "Patient/") {
			return strings.TrimPrefix(ref, "Patient/")
		}
	}
	return ""
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return nil
}

// reference reads a FHIR Reference's "reference".
func reference(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["reference"].(string)
	return s
}

// references reports whether a Reference or a list of them points at ref.
func references(v any, ref string) bool {
	if reference(v) == ref {
		return true
	}
	for _, e := range asList(v) {
		if reference(e) == ref {
			return true
		}
	}
	return false
}
