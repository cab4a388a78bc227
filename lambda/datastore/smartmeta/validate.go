package smartmeta

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/openhealthstack/smart-healthlake/contract/datastoreprops"
	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
	"github.com/openhealthstack/smart-healthlake/contract/smart"
)

// knownCapabilities are the capability codes the SMART App Launch IG 2.x defines.
// Checking against them catches typos and the invented values found in samples.
var knownCapabilities = []string{
	"launch-ehr", "launch-standalone", "authorize-post",
	"client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
	"sso-openid-connect",
	"context-passthrough-banner", "context-passthrough-style",
	"context-ehr-patient", "context-ehr-encounter",
	"context-standalone-patient", "context-standalone-encounter",
	"permission-offline", "permission-online", "permission-patient", "permission-user",
	"permission-v1", "permission-v2", "smart-app-state",
}

// healthLakeGrantTypes are the only grant types HealthLake accepts in the metadata.
var healthLakeGrantTypes = []string{"authorization_code", "client_credentials"}

var urlKeys = []string{
	"issuer", "jwks_uri", "authorization_endpoint", "token_endpoint",
	"introspection_endpoint", "revocation_endpoint", "management_endpoint",
}

// resourceScope splits a SMART resource scope into context, resource type and the
// permission part (v1 "read"/"write"/"*", or v2 "cruds" with an optional query).
var resourceScope = regexp.MustCompile(`^(patient|user|system)/([A-Za-z]+|\*)\.(.+)$`)

// Validate checks a SMART configuration document for a data store of the given
// version. It reports every problem it finds, each naming the offending key.
func Validate(raw []byte, v smart.Version) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return fmt.Errorf("SMART configuration is not a JSON object: %w", err)
	}
	var doc Document
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("SMART configuration has a key of the wrong type: %w", err)
	}

	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	require := func(key string) {
		if _, ok := keys[key]; !ok {
			add("%s is required", key)
		}
	}

	// Unconditionally required by the IG.
	for _, key := range []string{"token_endpoint", "capabilities", "grant_types_supported", "code_challenge_methods_supported"} {
		require(key)
	}
	// Conditionally required by the IG.
	if slices.Contains(doc.Capabilities, "launch-ehr") || slices.Contains(doc.Capabilities, "launch-standalone") {
		require("authorization_endpoint")
	}
	if slices.Contains(doc.Capabilities, "sso-openid-connect") {
		require("issuer")
		require("jwks_uri")
	}

	for _, key := range urlKeys {
		if _, present := keys[key]; !present {
			continue
		}
		var s string
		_ = json.Unmarshal(keys[key], &s) // types were checked by Unmarshal above
		if err := httpsurl.Check(s); err != nil {
			add("%s: %v", key, err)
		}
	}

	if len(doc.GrantTypesSupported) == 0 {
		add("grant_types_supported must not be empty")
	}
	for _, g := range doc.GrantTypesSupported {
		if !slices.Contains(healthLakeGrantTypes, g) {
			add("grant_types_supported: %q is not accepted by HealthLake (only %s)", g, strings.Join(healthLakeGrantTypes, ", "))
		}
	}

	if !slices.Contains(doc.CodeChallengeMethodsSupported, "S256") {
		add("code_challenge_methods_supported must include S256")
	}
	if slices.Contains(doc.CodeChallengeMethodsSupported, "plain") {
		add("code_challenge_methods_supported must not include plain")
	}

	for _, c := range doc.Capabilities {
		if !slices.Contains(knownCapabilities, c) {
			add("capabilities: %q is not a SMART App Launch capability", c)
		}
	}
	switch v {
	case smart.V1:
		if slices.Contains(doc.Capabilities, "permission-v2") {
			add("capabilities: permission-v2 is advertised but the data store enforces SMART v1 scopes only")
		}
	case smart.V2:
		if !slices.Contains(doc.Capabilities, "permission-v2") {
			add("capabilities: permission-v2 is required for SMART v2 (strategy SMART_ON_FHIR)")
		}
	default:
		add("SMART version must be %q or %q, got %q", smart.V1, smart.V2, v)
	}

	for _, s := range doc.ScopesSupported {
		if err := datastoreprops.CheckScope(s, v); err != nil {
			add("scopes_supported: %v", err)
		}
	}
	return errors.Join(problems...)
}
