package idp

import (
	"encoding/json"
	"fmt"
)

// Event is what HealthLake sends. Real events carry more fields (datastoreId,
// datastoreName, datastoreTypeVersion, ...), which are ignored.
type Event struct {
	// DatastoreEndpoint is the data store's base URL, ending with "/".
	DatastoreEndpoint string `json:"datastoreEndpoint"`
	// BearerToken is the access token, possibly prefixed with "Bearer ".
	BearerToken string `json:"bearerToken"`
	// OperationName is the HealthLake action, such as "SearchWithGet".
	OperationName string `json:"operationName"`
}

// Response is what HealthLake expects back.
type Response struct {
	AuthPayload AuthPayload `json:"authPayload"`
	// IAMRoleARN is the role HealthLake assumes to serve the request.
	IAMRoleARN string `json:"iamRoleARN"`
}

// AuthPayload is the decision and the token's context. HealthLake requires nbf,
// exp, isAuthorized, aud and scope; the rest is optional.
type AuthPayload struct {
	Iss string `json:"iss,omitempty"`
	// Aud is the event's datastoreEndpoint, not the token's audience.
	Aud string `json:"aud"`
	Iat int64  `json:"iat,omitempty"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
	// IsAuthorized is the decision.
	IsAuthorized Authorized `json:"isAuthorized"`
	Uid          string     `json:"uid,omitempty"`
	// Scope is the granted scopes, space-separated.
	Scope    string `json:"scope"`
	FhirUser string `json:"fhirUser,omitempty"`
	Patient  string `json:"patient,omitempty"`
}

// Authorized is the decision. It is written as the JSON string "true" or "false",
// the form of HealthLake's documented example (AWS's Python sample uses a JSON
// boolean; the documentation is the contract we follow). Both forms are read.
type Authorized bool

// MarshalJSON writes "true" or "false" as a JSON string.
func (a Authorized) MarshalJSON() ([]byte, error) {
	if a {
		return []byte(`"true"`), nil
	}
	return []byte(`"false"`), nil
}

// UnmarshalJSON reads a JSON string or boolean.
func (a *Authorized) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"true"`, `true`:
		*a = true
	case `"false"`, `false`:
		*a = false
	default:
		return fmt.Errorf("isAuthorized: want \"true\" or \"false\", got %s", b)
	}
	return nil
}

var _ json.Marshaler = Authorized(false)
