// Package launchclaims names the access-token claims the EHR launch token hook
// adds and the token proxy and validator read. It imports nothing, so the
// validator can depend on it without linking the launch Lambda's SDKs.
package launchclaims

// Context claims: SMART App Launch's launch context parameters, carried in the
// access token under the same names the token response uses.
const (
	Patient           = "patient"
	Encounter         = "encounter"
	FHIRContext       = "fhirContext"
	NeedPatientBanner = "need_patient_banner"
	SmartStyleURL     = "smart_style_url"
	FHIRUser          = "fhirUser"
)

// ResponseFields are the context claims the token proxy copies to the top level
// of the token response (SMART App Launch 2.x, "Response"), in that order.
var ResponseFields = []string{Patient, Encounter, FHIRContext, NeedPatientBanner, SmartStyleURL}

// Marker is the claim only the token hook adds, with the value MarkerValue. A
// token that carries launch scopes but not the marker was issued without the
// hook's context (Okta issues tokens unchanged when a hook times out or
// fails), and the validator refuses it.
const (
	Marker      = "smart_launch_ctx"
	MarkerValue = "hook-v1"
)

// LaunchScope is the SMART scope an EHR-launched app asks for with the launch
// parameter.
const LaunchScope = "launch"
