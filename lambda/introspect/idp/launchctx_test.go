package idp_test

import (
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/contract/validatorenv"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/idp"
)

func TestFHIRUserPassesOnlyAsAReferenceToAUserResource(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	// No patient claim: one naming another patient than a Patient fhirUser is
	// dropped (TestAPatientClaimMustAgreeWithAPatientFHIRUser).
	base := with(f.claims(), "launch_response_patient", nil, "scp", []string{"openid", "fhirUser", "user/*.rs"})
	for _, ok := range []string{
		"Patient/p-1", "Practitioner/pr-77", "PractitionerRole/role.1", "RelatedPerson/r-1", "Person/A-b.c",
		"Practitioner/" + strings.Repeat("a", 64),
		"https://fhir.example.com/r4/Practitioner/pr-1",
		"https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/Patient/p-9",
		"https://fhir.example.com:8443/Patient/1",
	} {
		t.Run("passes "+ok, func(t *testing.T) {
			resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(base, "fhirUser", ok)))
			require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
			assert.Equal(t, ok, resp.AuthPayload.FhirUser)
			assert.NotContains(t, th.logs.Last(t), "dropped")
		})
	}
	for _, bad := range []string{
		"Organization/1", "Device/d-1", "Group/g", "patient/p-1", "Practitioner/pr-1\n", "Practitioner/pr-1\u2028x",
		"Patient/p-1&_id=p-2", "Patient/p-1?_id=p-2", "../Patient/2", "Patient/../2", "Patient/..", "Patient/.",
		"Patient/", "Patient", "/Patient/1", "Patient/1/_history/2", "Practitioner/pr 1", "Practitioner/pr_1",
		"Practitioner/" + strings.Repeat("a", 65), "http://fhir.example.com/Patient/1",
		"https://user:pw@fhir.example.com/Patient/1", "https://fhir.example.com/Patient/1?x=1",
		"https://fhir.example.com/Patient/1#f", "https://fhir.example.com/a/../Patient/1",
		"https://fhir.example.com//Patient/1", "https://fhir.example.com/Patient/%31", "https:///Patient/1",
		"https://fhir.example.com/Organization/1", "urn:uuid:6b6c1f2e-0000-4000-8000-000000000000",
	} {
		t.Run("drops "+bad, func(t *testing.T) {
			resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(base, "fhirUser", bad)))
			require.True(t, bool(resp.AuthPayload.IsAuthorized), "the token still grants its user/ scope: %s", reason)
			assert.Empty(t, resp.AuthPayload.FhirUser)
			assert.Equal(t, string(idp.DropFHIRUser), th.logs.Last(t)["dropped"])
		})
	}
}

func TestPatientPassesOnlyAsAFHIRID(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	base := with(f.claims(), "launch_response_patient", nil, "scp", []string{"launch/patient", "user/*.rs"})
	for _, claim := range []string{"patient", "launch_response_patient"} {
		for _, ok := range []string{"p-1", "A.b-9", strings.Repeat("7", 64)} {
			t.Run(claim+" passes "+ok, func(t *testing.T) {
				resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(base, claim, ok)))
				require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
				assert.Equal(t, ok, resp.AuthPayload.Patient)
			})
		}
		for _, bad := range []string{
			"p-1&_id=p-2", "p 1", "p\n1", "p-1\u00a0", "Patient/p-1", "..", ".", "p_1", "p-1%00", "p-1,p-2", strings.Repeat("7", 65),
		} {
			t.Run(claim+" drops "+bad, func(t *testing.T) {
				resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, getKeys(t).rsa1, "k1", with(base, claim, bad)))
				require.True(t, bool(resp.AuthPayload.IsAuthorized), reason)
				assert.Empty(t, resp.AuthPayload.Patient)
				assert.Equal(t, string(idp.DropPatient), th.logs.Last(t)["dropped"])
			})
		}
	}
}

func TestPatientScopesNeedAValidPatientContext(t *testing.T) {
	f := newFakeIdP(t)
	th := newTestHandler(t, f.env(), idp.Options{})
	k := getKeys(t)
	bare := with(f.claims(), "launch_response_patient", nil, "fhirUser", nil)
	patientOnly := []string{"launch/patient", "openid", "patient/Observation.rs", "patient/*.read"}
	mixed := append([]string{"user/Encounter.rs"}, patientOnly...)

	for _, tc := range []struct {
		name    string
		claims  jwt.MapClaims
		reason  idp.Reason
		scope   string
		dropped string
	}{
		{"a patient claim gives the context", with(bare, "scp", patientOnly, "patient", "p-1"), idp.ReasonValid,
			"launch/patient openid patient/Observation.rs patient/*.read", ""},
		{"a fhirUser naming a Patient gives the context", with(bare, "scp", patientOnly, "fhirUser", "Patient/p-1"), idp.ReasonValid,
			"launch/patient openid patient/Observation.rs patient/*.read", ""},
		{"an absolute fhirUser naming a Patient gives the context", with(bare, "scp", patientOnly, "fhirUser", "https://fhir.example.com/r4/Patient/p-1"), idp.ReasonValid,
			"launch/patient openid patient/Observation.rs patient/*.read", ""},
		{"only patient scopes and no patient is refused", with(bare, "scp", patientOnly), idp.ReasonPatientContext,
			"", string(idp.DropPatientScopes)},
		{"a Practitioner fhirUser is no patient context", with(bare, "scp", patientOnly, "fhirUser", "Practitioner/pr-1"), idp.ReasonPatientContext,
			"", string(idp.DropPatientScopes)},
		{"an invalid patient is no patient context", with(bare, "scp", patientOnly, "patient", "p-1&_id=p-2"), idp.ReasonPatientContext,
			"", string(idp.DropPatient) + "," + string(idp.DropPatientScopes)},
		{"an invalid Patient fhirUser is no patient context", with(bare, "scp", patientOnly, "fhirUser", "Patient/../p-2"), idp.ReasonPatientContext,
			"", string(idp.DropFHIRUser) + "," + string(idp.DropPatientScopes)},
		{"without a patient the patient scopes are dropped, the rest kept", with(bare, "scp", mixed), idp.ReasonValid,
			"user/Encounter.rs launch/patient openid", string(idp.DropPatientScopes)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []string{"v2", "v1"} {
				th := th
				if v == "v1" {
					th = newTestHandler(t, f.env(validatorenv.EnvSmartVersion, "v1"), idp.Options{})
				}
				resp, reason := th.call(t, sign(t, jwt.SigningMethodRS256, k.rsa1, "k1", tc.claims))
				assert.Equal(t, string(tc.reason), reason, v)
				if v == "v2" {
					assert.Equal(t, tc.scope, resp.AuthPayload.Scope)
				} else if strings.Contains(tc.dropped, string(idp.DropPatientScopes)) {
					assert.NotContains(t, resp.AuthPayload.Scope, "patient/", "v1 drops them too")
				}
				dropped, _ := th.logs.Last(t)["dropped"].(string)
				assert.Equal(t, tc.dropped, dropped, v)
			}
		})
	}
}
