package idp

import (
	"net/url"
	"strings"

	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
)

// The launch context (fhirUser, patient) goes to HealthLake's fine-grained
// authorization as given, so its shape is checked here: a claim of another
// shape is dropped from the answer, with a code in the request's log line (see
// ContextDrop), and patient/ scopes count only with a valid patient context.

// ContextDrop is a stable code logged (attribute "dropped", comma-separated)
// when part of a token's launch context is left out of the answer. Like Reason,
// codes are added, never renamed.
type ContextDrop string

// The drop codes.
const (
	// DropFHIRUser: fhirUser is not a reference to a Patient, Practitioner,
	// PractitionerRole, RelatedPerson or Person with a valid FHIR id (relative,
	// "Practitioner/pr-1", or absolute https, "https://host/fhir/Patient/p-1").
	DropFHIRUser ContextDrop = "fhir_user_invalid"
	// DropPatient: patient (or launch_response_patient) is not a FHIR id.
	DropPatient ContextDrop = "patient_invalid"
	// DropPatientScopes: patient/ scopes without a valid patient context.
	DropPatientScopes ContextDrop = "patient_scopes_without_patient"
	// DropLaunchUnverified: the patient context of an EHR launch token was
	// ignored because the launch token hook's marker is missing.
	DropLaunchUnverified ContextDrop = "launch_context_unverified"
)

// dropSet is a set of ContextDrop codes, small enough to keep in every cached
// grant.
type dropSet uint8

const (
	droppedFHIRUser dropSet = 1 << iota
	droppedPatient
	droppedPatientScopes
	droppedLaunchUnverified
)

// dropNames renders every dropSet once, so a log line never builds the string.
var dropNames = func() (names [16]string) {
	for s := range dropSet(len(names)) {
		var codes []string
		for bit, code := range []ContextDrop{DropFHIRUser, DropPatient, DropPatientScopes, DropLaunchUnverified} {
			if s&(1<<bit) != 0 {
				codes = append(codes, string(code))
			}
		}
		names[s] = strings.Join(codes, ",")
	}
	return names
}()

// String returns the codes, comma-separated, in declaration order.
func (s dropSet) String() string { return dropNames[s&15] }

// unverifiedLaunch reports an EHR launch token (launch scope) without the
// token hook's marker: Okta issued it without the hook's answer.
func unverifiedLaunch(c *tokenClaims) bool {
	if c.LaunchMarker == launchclaims.MarkerValue {
		return false
	}
	for _, s := range c.scopes {
		if s == launchclaims.LaunchScope {
			return true
		}
	}
	return false
}

// fhirUserTypes are the resource types SMART App Launch allows fhirUser to
// reference (the FHIR resource representing the user).
var fhirUserTypes = [...]string{"Patient", "Practitioner", "PractitionerRole", "RelatedPerson", "Person"}

// isFHIRID checks FHIR's id datatype, [A-Za-z0-9\-.]{1,64}. An id made of dots
// only (".", "..") is refused as well: in a reference it reads as a path step.
func isFHIRID(s string) bool {
	if s == "" || len(s) > 64 || strings.Trim(s, ".") == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// fhirUserRef returns the resource type and id a fhirUser claim references,
// and whether it is an acceptable reference: "<Type>/<id>", or an absolute
// https URL without userinfo, query, fragment or escapes whose path ends with
// "/<Type>/<id>" and has no "." or ".." step.
func fhirUserRef(s string) (typ, id string, ok bool) {
	ref := s
	if strings.HasPrefix(s, "https://") {
		for i := 0; i < len(s); i++ {
			if c := s[i]; !isAlnum(c) && !strings.ContainsRune("-._~:/", rune(c)) {
				return "", "", false // no escapes, query, fragment, userinfo, white space
			}
		}
		u, err := url.Parse(s)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Opaque != "" {
			return "", "", false
		}
		steps := strings.Split(u.Path, "/")
		if len(steps) < 3 || steps[0] != "" {
			return "", "", false
		}
		for _, step := range steps[1 : len(steps)-2] {
			if step == "" || step == "." || step == ".." {
				return "", "", false
			}
		}
		ref = steps[len(steps)-2] + "/" + steps[len(steps)-1]
	}
	typ, id, found := strings.Cut(ref, "/")
	if !found || !isFHIRID(id) {
		return "", "", false
	}
	for _, t := range fhirUserTypes {
		if typ == t {
			return typ, id, true
		}
	}
	return "", "", false
}
