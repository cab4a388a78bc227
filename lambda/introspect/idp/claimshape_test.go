package idp_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

// A launch-context claim of another JSON type is dropped like a malformed
// string, never the token: a profile attribute that became a number must not
// lock every user out.
func TestALaunchContextClaimOfAnotherTypeIsDroppedNotTheToken(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	base := with(f.claims(), "launch_response_patient", nil,
		"scp", []string{"openid", "fhirUser", "launch/patient", "user/*.rs", "patient/Observation.rs"})
	for _, tc := range []struct {
		name, claim string
		value       any
		drop        idp.ContextDrop
	}{
		{"a numeric patient", "patient", 12345, idp.DropPatient},
		{"a patient list", "launch_response_patient", []string{"p-1"}, idp.DropPatient},
		{"a numeric fhirUser", "fhirUser", 7, idp.DropFHIRUser},
		{"a fhirUser object", "fhirUser", map[string]any{"reference": "Patient/p-1"}, idp.DropFHIRUser},
	} {
		t.Run(tc.name+" is dropped and the user/ scope still served", func(t *testing.T) {
			resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(base, tc.claim, tc.value)))
			require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
			assert.Equal(t, "openid fhirUser launch/patient user/*.rs", resp.AuthPayload.Scope,
				"the patient/ scope has no patient left")
			assert.Contains(t, th.logs.Last(t)["dropped"], string(tc.drop))
		})
	}
	t.Run("a case variant of another type is another claim and changes nothing", func(t *testing.T) {
		resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(base, "patient", "p-1", "Patient", 5)))
		require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
		assert.Equal(t, "p-1", resp.AuthPayload.Patient)
	})
}

// HealthLake's fine-grained authorization follows fhirUser: a patient claim
// that names another patient than a Patient fhirUser is not passed on.
func TestAPatientClaimMustAgreeWithAPatientFHIRUser(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	base := with(f.claims(), "launch_response_patient", nil, "scp", []string{"openid", "fhirUser", "patient/Observation.rs"})

	resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(base, "fhirUser", "Patient/p-2", "patient", "p-1")))
	require.True(t, bool(resp.AuthPayload.IsAuthorized), "fhirUser still gives the patient context: %s", reason)
	assert.Empty(t, resp.AuthPayload.Patient)
	assert.Equal(t, "Patient/p-2", resp.AuthPayload.FhirUser)
	assert.Equal(t, string(idp.DropPatient), th.logs.Last(t)["dropped"])

	resp, reason = th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(base, "fhirUser", "Patient/p-1", "patient", "p-1")))
	require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, "p-1", resp.AuthPayload.Patient, "agreeing claims both pass")
}

// The decision log names the client even when the payload takes the exact
// decoding path (a case variant elsewhere in it), and a differently cased
// "CID" never replaces the real cid.
func TestTheClientIDIsReadByItsExactName(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(f.claims(), "Uid", "x", "CID", "0oa-other")))
	require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
	assert.Equal(t, "0oa-client", th.logs.Last(t)["client_id"])
}

// An introspection answer's members are matched by exact name, as a JWT's.
func TestAnIntrospectionAnswerIsDecodedWithExactNames(t *testing.T) {
	s := newIntrospectionSetup(t, goodSecret(), idp.Options{})
	s.setAnswer(func(url.Values) (int, any) {
		a := s.activeAnswer()
		delete(a, "launch_response_patient")
		a["fhirUser"] = "Practitioner/pr-1"
		a["PATIENT"] = "p-other"
		return http.StatusOK, a
	})
	resp, reason := s.call(t, "Bearer "+opaqueToken)
	assert.False(t, bool(resp.AuthPayload.IsAuthorized), "PATIENT is not patient: the patient/ scope has no context")
	assert.Equal(t, string(idp.ReasonPatientContext), reason)
	assert.Empty(t, resp.AuthPayload.Patient)
}
