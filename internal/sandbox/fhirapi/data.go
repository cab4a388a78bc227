package fhirapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// SampleResources is the sandbox's data: a practitioner, three patients (two
// under the practitioner's care, the second linked to the third) and one
// Observation each.
func SampleResources() []Resource {
	ref := func(r string) map[string]any { return map[string]any{"reference": r} }
	obs := func(id, patient, value string) Resource {
		return Resource{"resourceType": "Observation", "id": id, "status": "final",
			"code":          map[string]any{"text": "Heart rate"},
			"subject":       ref("Patient/" + patient),
			"valueQuantity": map[string]any{"value": json.Number(value), "unit": "beats/min"}}
	}
	return []Resource{
		{"resourceType": "Practitioner", "id": "dr-1", "name": []any{map[string]any{"family": "Osler"}}},
		{"resourceType": "Patient", "id": "p1", "name": []any{map[string]any{"family": "Alvarez"}},
			"generalPractitioner": []any{ref("Practitioner/dr-1")}},
		{"resourceType": "Patient", "id": "p2", "name": []any{map[string]any{"family": "Baker"}},
			"generalPractitioner": []any{ref("Practitioner/dr-1")},
			"link":                []any{map[string]any{"other": ref("Patient/p3"), "type": "seealso"}}},
		{"resourceType": "Patient", "id": "p3", "name": []any{map[string]any{"family": "Chen"}}},
		obs("o1", "p1", "72"), obs("o2", "p2", "64"), obs("o3", "p3", "80"),
	}
}

// answer performs an authorized interaction within the grant.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, req request, g *grant) (int, string) {
	switch req.operation {
	case "SearchWithGet", "SearchWithPost":
		q := r.URL.Query()
		if req.operation == "SearchWithPost" {
			if err := r.ParseForm(); err == nil {
				q = r.PostForm
			}
		}
		return s.search(w, req.resource, q, g)
	case "ReadResource":
		s.mu.Lock()
		res, ok := s.data[req.resource][req.id]
		s.mu.Unlock()
		if !ok {
			outcome(w, http.StatusNotFound, "not-found", req.resource+"/"+req.id+" does not exist")
			return http.StatusNotFound, "not found"
		}
		if !g.allows(res) {
			outcome(w, http.StatusForbidden, "forbidden", req.resource+"/"+req.id+" is outside the token's patient compartment")
			return http.StatusForbidden, "outside compartment"
		}
		writeFHIR(w, http.StatusOK, res)
		return http.StatusOK, ""
	case "CreateResource", "UpdateResource":
		var res Resource
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&res); err != nil || res.Type() != req.resource {
			outcome(w, http.StatusBadRequest, "invalid", "the body is not a "+req.resource+" resource")
			return http.StatusBadRequest, "bad body"
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if req.operation == "CreateResource" {
			s.next++
			res["id"] = fmt.Sprintf("new-%d", s.next)
		} else if res.ID() != req.id {
			outcome(w, http.StatusBadRequest, "invalid", "the resource id does not match the URL")
			return http.StatusBadRequest, "id mismatch"
		}
		old, existed := s.data[req.resource][res.ID()]
		if !g.allows(res) || (existed && !g.allows(old)) {
			outcome(w, http.StatusForbidden, "forbidden", "the resource is outside the token's patient compartment")
			return http.StatusForbidden, "outside compartment"
		}
		if s.data[req.resource] == nil {
			s.data[req.resource] = map[string]Resource{}
		}
		s.data[req.resource][res.ID()] = res
		status := http.StatusOK
		if !existed {
			status = http.StatusCreated
			w.Header().Set("Location", s.opts.Endpoint+req.resource+"/"+res.ID())
		}
		writeFHIR(w, status, res)
		return status, ""
	case "DeleteResource":
		s.mu.Lock()
		defer s.mu.Unlock()
		if old, ok := s.data[req.resource][req.id]; ok {
			if !g.allows(old) {
				outcome(w, http.StatusForbidden, "forbidden", "the resource is outside the token's patient compartment")
				return http.StatusForbidden, "outside compartment"
			}
			delete(s.data[req.resource], req.id)
		}
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent, ""
	}
	outcome(w, http.StatusBadRequest, "not-supported", req.operation+" is not emulated")
	return http.StatusBadRequest, "unsupported"
}

// search supports _id, patient/subject and _count; other parameters are ignored.
func (s *Server) search(w http.ResponseWriter, typ string, q url.Values, g *grant) (int, string) {
	count := 100
	if c := q.Get("_count"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			outcome(w, http.StatusBadRequest, "invalid", "_count must be a whole number")
			return http.StatusBadRequest, "bad _count"
		}
		count = n
	}
	patient := q.Get("patient")
	if patient == "" {
		patient = q.Get("subject")
	}
	patient = strings.TrimPrefix(patient, "Patient/")
	s.mu.Lock()
	ids := make([]string, 0, len(s.data[typ]))
	for id := range s.data[typ] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	entries := []any{}
	total := 0
	for _, id := range ids {
		res := s.data[typ][id]
		if !g.allows(res) || (q.Has("_id") && q.Get("_id") != id) || (patient != "" && patientOf(res) != patient) {
			continue
		}
		total++
		if len(entries) < count {
			entries = append(entries, map[string]any{"fullUrl": s.opts.Endpoint + typ + "/" + id,
				"resource": res, "search": map[string]any{"mode": "match"}})
		}
	}
	s.mu.Unlock()
	writeFHIR(w, http.StatusOK, map[string]any{"resourceType": "Bundle", "type": "searchset", "total": total, "entry": entries})
	return http.StatusOK, ""
}

func writeFHIR(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// outcome writes a FHIR OperationOutcome, the error body HealthLake returns.
func outcome(w http.ResponseWriter, status int, code, diagnostics string) {
	writeFHIR(w, status, map[string]any{"resourceType": "OperationOutcome",
		"issue": []any{map[string]any{"severity": "error", "code": code, "diagnostics": diagnostics}}})
}
