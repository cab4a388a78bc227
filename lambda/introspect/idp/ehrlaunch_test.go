package idp_test

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// With SMART_EHR_LAUNCH=true, an EHR launch token (launch scope) gets patient
// context only with the launch token hook's marker: Okta issues the token
// unchanged when the hook times out or fails.
func TestEHRLaunchTokensNeedTheHookMarker(t *testing.T) {
	f := newFakeIdP(t)
	k := getKeys(t)
	on := newTestHandler(t, f.env(validatorenv.EnvEHRLaunch, "true"), idp.Options{})
	off := newTestHandler(t, f.env(), idp.Options{})
	bare := with(f.claims(), "launch_response_patient", nil, "fhirUser", nil)
	ehr := []string{"launch", "openid", "patient/Observation.rs"}
	mixed := []string{"launch", "openid", "patient/Observation.rs", "user/Encounter.rs"}
	marker := launchclaims.MarkerValue

	for _, tc := range []struct {
		name    string
		th      *testHandler
		claims  jwt.MapClaims
		reason  idp.Reason
		patient string
		dropped string
	}{
		{"a launch token with the marker and a patient is valid", on,
			with(bare, "scp", ehr, "patient", "p-1", launchclaims.Marker, marker), idp.ReasonValid, "p-1", ""},
		{"a launch token without the marker is refused though it names a patient", on,
			with(bare, "scp", ehr, "patient", "p-1"), idp.ReasonLaunchUnverified, "",
			string(idp.DropPatientScopes) + "," + string(idp.DropLaunchUnverified)},
		{"a marker of another value does not count", on,
			with(bare, "scp", ehr, "patient", "p-1", launchclaims.Marker, "hook-v0"), idp.ReasonLaunchUnverified, "",
			string(idp.DropPatientScopes) + "," + string(idp.DropLaunchUnverified)},
		{"a Patient fhirUser is no EHR launch context without the marker", on,
			with(bare, "scp", ehr, "fhirUser", "Patient/p-1"), idp.ReasonLaunchUnverified, "",
			string(idp.DropPatientScopes) + "," + string(idp.DropLaunchUnverified)},
		{"the marker without a valid patient is no patient context", on,
			with(bare, "scp", ehr, "patient", "p-1&_id=p-2", launchclaims.Marker, marker), idp.ReasonPatientContext, "",
			string(idp.DropPatient) + "," + string(idp.DropPatientScopes)},
		{"without the marker the patient scopes go and the user scopes stay, with no patient", on,
			with(bare, "scp", mixed, "patient", "p-1"), idp.ReasonValid, "",
			string(idp.DropPatientScopes) + "," + string(idp.DropLaunchUnverified)},
		{"a standalone token (no launch scope) keeps its profile patient", on,
			with(bare, "scp", []string{"launch/patient", "patient/Observation.rs"}, "patient", "p-1"), idp.ReasonValid, "p-1", ""},
		{"with EHR launch off a launch token without the marker is as before", off,
			with(bare, "scp", ehr, "patient", "p-1"), idp.ReasonValid, "p-1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, reason := tc.th.call(t, sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", tc.claims))
			require.Equal(t, string(tc.reason), reason)
			assert.Equal(t, tc.patient, resp.AuthPayload.Patient)
			dropped, _ := tc.th.logs.Last(t)["dropped"].(string)
			assert.Equal(t, tc.dropped, dropped)
			if tc.reason != idp.ReasonValid {
				assert.False(t, bool(resp.AuthPayload.IsAuthorized))
			}
		})
	}
}

func TestEHRLaunchSetting(t *testing.T) {
	f := newFakeIdP(t)
	for _, v := range []string{"yes", "1", "TRUE"} {
		t.Run("refuses "+v, func(t *testing.T) {
			e := f.env(validatorenv.EnvEHRLaunch, v)
			_, err := idp.ConfigFromEnv(func(k string) string { return e[k] })
			var ce *validatorenv.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, validatorenv.EnvEHRLaunch, ce.Variable())
		})
	}
}
