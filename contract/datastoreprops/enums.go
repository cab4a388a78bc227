package datastoreprops

import (
	"fmt"
	"strings"
)

// RemovalPolicy says what a Delete does to the data store.
type RemovalPolicy string

const (
	// Retain removes the resource from the stack and keeps the data store.
	Retain RemovalPolicy = "retain"
	// Destroy deletes the data store and its data.
	Destroy RemovalPolicy = "destroy"
)

// ParseRemovalPolicy reads a policy, in any letter case (awscdk's
// RemovalPolicy values are lower case, older templates had "Destroy").
func ParseRemovalPolicy(s string) (RemovalPolicy, error) {
	switch p := RemovalPolicy(strings.ToLower(s)); p {
	case Retain, Destroy:
		return p, nil
	}
	return "", fmt.Errorf("must be %s or %s, got %q", Retain, Destroy, s)
}

// DiscoveryMode is the value of DiscoveryCheck: whether the handler compares
// the endpoints with the authorization server's live discovery document.
type DiscoveryMode string

const (
	// DiscoveryNone (the property absent): no check, as for stacks deployed
	// before the check existed.
	DiscoveryNone DiscoveryMode = ""
	// DiscoveryVerify compares issuer, authorization, token, JWKS,
	// introspection and revocation endpoints.
	DiscoveryVerify DiscoveryMode = "verify"
	// DiscoveryVerifyIssuer compares issuer and jwks_uri only (proxied endpoints).
	DiscoveryVerifyIssuer DiscoveryMode = "verify-issuer"
	// DiscoverySkip makes no check, and the handler logs that it made none.
	DiscoverySkip DiscoveryMode = "skip"
)

// ParseDiscoveryMode reads a mode; "" is DiscoveryNone.
func ParseDiscoveryMode(s string) (DiscoveryMode, error) {
	switch m := DiscoveryMode(s); m {
	case DiscoveryNone, DiscoveryVerify, DiscoveryVerifyIssuer, DiscoverySkip:
		return m, nil
	}
	return "", fmt.Errorf("must be %s, %s or %s, got %q", DiscoveryVerify, DiscoveryVerifyIssuer, DiscoverySkip, s)
}

// Fetches reports whether the mode fetches the discovery document.
func (m DiscoveryMode) Fetches() bool { return m == DiscoveryVerify || m == DiscoveryVerifyIssuer }

// FHIRVersion is the FHIR version of the data store (HealthLake's
// DatastoreTypeVersion).
type FHIRVersion string

// R4 is the only version HealthLake offers (botocore's FHIRVersion enum).
const R4 FHIRVersion = "R4"

// FHIRVersions are the versions HealthLake offers.
var FHIRVersions = []FHIRVersion{R4}

// ParseFHIRVersion reads a version.
func ParseFHIRVersion(s string) (FHIRVersion, error) {
	for _, v := range FHIRVersions {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("must be one of %v, got %q", FHIRVersions, s)
}

// RemovalPolicyOf reads RemovalPolicy alone (Retain when absent), so that a
// Delete needs nothing else of properties that may come from another
// handler version.
func RemovalPolicyOf(p Properties) (RemovalPolicy, error) {
	v, err := p.OptionalString(PropRemovalPolicy, string(Retain))
	if err != nil {
		return Retain, err
	}
	policy, err := ParseRemovalPolicy(v)
	if err != nil {
		return Retain, &PropertyError{Property: PropRemovalPolicy, Reason: err.Error()}
	}
	return policy, nil
}
