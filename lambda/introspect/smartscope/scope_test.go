package smartscope_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"

	"github.com/openhealthstack/smart-healthlake/contract/smart"
	"github.com/openhealthstack/smart-healthlake/lambda/introspect/smartscope"
)

func TestParseRecognisesEachScopeSyntax(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want smartscope.Scope
	}{
		{"patient/Observation.read", smartscope.Scope{Kind: smartscope.ResourceV1, Compartment: "patient", Resource: "Observation", Perms: smartscope.Read | smartscope.Search}},
		{"user/*.*", smartscope.Scope{Kind: smartscope.ResourceV1, Compartment: "user", Resource: "*", Perms: 31}},
		{"system/Patient.write", smartscope.Scope{Kind: smartscope.ResourceV1, Compartment: "system", Resource: "Patient", Perms: smartscope.Create | smartscope.Update | smartscope.Delete}},
		{"patient/Observation.rs", smartscope.Scope{Kind: smartscope.ResourceV2, Compartment: "patient", Resource: "Observation", Perms: smartscope.Read | smartscope.Search}},
		{"system/*.cruds", smartscope.Scope{Kind: smartscope.ResourceV2, Compartment: "system", Resource: "*", Perms: 31}},
		{"user/Encounter.c", smartscope.Scope{Kind: smartscope.ResourceV2, Compartment: "user", Resource: "Encounter", Perms: smartscope.Create}},
		{"patient/Observation.rs?category=laboratory", smartscope.Scope{Kind: smartscope.ResourceV2, Compartment: "patient", Resource: "Observation", Perms: smartscope.Read | smartscope.Search, Filter: "category=laboratory"}},
		{"patient/Observation.rs?category=laboratory&code=1234", smartscope.Scope{Kind: smartscope.ResourceV2, Compartment: "patient", Resource: "Observation", Perms: smartscope.Read | smartscope.Search, Filter: "category=laboratory&code=1234"}},
		{"launch", smartscope.Scope{Kind: smartscope.Context}},
		{"launch/patient", smartscope.Scope{Kind: smartscope.Context}},
		{"launch/encounter", smartscope.Scope{Kind: smartscope.Context}},
		{"openid", smartscope.Scope{Kind: smartscope.Context}},
		{"fhirUser", smartscope.Scope{Kind: smartscope.Context}},
		{"offline_access", smartscope.Scope{Kind: smartscope.Context}},
		{"online_access", smartscope.Scope{Kind: smartscope.Context}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, smartscope.Parse(tc.in))
		})
	}
}

func TestParseCallsMalformedScopesUnknown(t *testing.T) {
	for _, in := range []string{
		"", "profile", "email", "okta.users.read", "patient", "patient/", "patient/Observation",
		"patient/Observation.", "patient/observation.read", "doctor/Observation.read",
		"patient/Observation.READ", "patient/Observation.sr", "patient/Observation.rr",
		"patient/Observation.crudsx", "patient/Observation.x", "patient/Obs-ervation.rs",
		"patient/Observation.rs?", "patient/Observation.rs?category", "patient/Observation.rs?=lab",
		"patient/Observation.read?category=laboratory", "patient/Observation.rs?a=b&", "launch/", "launch/Patient",
		"Patient/Observation.read", "patient/*.rs?category=a b", "patient/Observation.rs?x=1?y=2",
		"patient/" + strings.Repeat("A", 65) + ".rs",
	} {
		t.Run(in, func(t *testing.T) {
			assert.Equal(t, smartscope.Unknown, smartscope.Parse(in).Kind)
		})
	}
}

func TestGrantedForEachDataStoreVersion(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		v2, v1 string
	}{
		{"v1 scopes pass through", "patient/Observation.read user/*.*", "patient/Observation.read user/*.*", "patient/Observation.read user/*.*"},
		{"rs becomes read", "patient/Observation.rs", "patient/Observation.rs", "patient/Observation.read"},
		{"cud becomes write", "user/Encounter.cud", "user/Encounter.cud", "user/Encounter.write"},
		{"cruds becomes star", "system/*.cruds", "system/*.cruds", "system/*.*"},
		{"rs plus partial write is read only", "patient/*.rds", "patient/*.rds", "patient/*.read"},
		{"cud plus partial read is write only", "patient/*.cuds", "patient/*.cuds", "patient/*.write"},
		{"r alone has no v1 equivalent", "patient/Observation.r", "patient/Observation.r", ""},
		{"s alone has no v1 equivalent", "patient/Observation.s", "patient/Observation.s", ""},
		{"cu alone has no v1 equivalent", "user/Observation.cu", "user/Observation.cu", ""},
		{"a filtered scope is dropped for v1", "patient/Observation.rs?category=laboratory", "patient/Observation.rs?category=laboratory", ""},
		{"context scopes pass through", "launch/patient openid fhirUser offline_access", "launch/patient openid fhirUser offline_access", "launch/patient openid fhirUser offline_access"},
		{"unknown scopes are dropped", "profile email patient/Patient.rs okta.myAccount.read", "patient/Patient.rs", "patient/Patient.read"},
		{"translations are not repeated", "patient/Observation.read patient/Observation.rs", "patient/Observation.read patient/Observation.rs", "patient/Observation.read"},
		{"order is kept", "openid patient/Patient.rs launch/patient", "openid patient/Patient.rs launch/patient", "openid patient/Patient.read launch/patient"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Fields(tc.in)
			got := smartscope.Granted(in, smart.V2, withPatient)
			assert.Equal(t, tc.v2, got.Scope, "v2 data store")
			got = smartscope.Granted(in, smart.V1, withPatient)
			assert.Equal(t, tc.v1, got.Scope, "v1 data store")
		})
	}
}

// withPatient is a token with a valid patient context.
var withPatient = smartscope.LaunchContext{Patient: true}

func TestGrantedSaysWhetherAResourceScopeRemains(t *testing.T) {
	sel := smartscope.Granted([]string{"openid", "launch/patient", "fhirUser"}, smart.V2, withPatient)
	assert.False(t, sel.Resource, "context scopes alone grant no data")
	sel = smartscope.Granted([]string{"openid", "patient/Observation.r"}, smart.V1, withPatient)
	assert.False(t, sel.Resource, "a v2 scope dropped for v1 leaves no resource scope")
	sel = smartscope.Granted([]string{"openid", "patient/Observation.r"}, smart.V2, withPatient)
	assert.True(t, sel.Resource)
	sel = smartscope.Granted(nil, smart.V2, withPatient)
	assert.False(t, sel.Resource)
}

func TestPatientScopesNeedAPatientContext(t *testing.T) {
	in := []string{"launch/patient", "patient/Observation.rs", "user/Encounter.rs", "patient/*.read"}
	for _, v := range []smart.Version{smart.V1, smart.V2} {
		sel := smartscope.Granted(in, v, smartscope.LaunchContext{})
		assert.True(t, sel.PatientDropped, v)
		assert.True(t, sel.Resource, "the user/ scope remains (%s)", v)
		assert.NotContains(t, sel.Scope, "patient/", v)
		assert.Contains(t, sel.Scope, "launch/patient", "a context scope is not a patient/ scope (%s)", v)

		sel = smartscope.Granted([]string{"openid", "patient/Observation.rs"}, v, smartscope.LaunchContext{})
		assert.False(t, sel.Resource, "nothing remains: the token is refused (%s)", v)
		assert.True(t, sel.PatientDropped, v)

		sel = smartscope.Granted(in, v, withPatient)
		assert.False(t, sel.PatientDropped, v)
		assert.Contains(t, sel.Scope, "patient/", v)
	}
}

func TestParseRefusesWhiteSpaceAndControlCharacters(t *testing.T) {
	for _, in := range []string{
		"patient/*.rs?a=b\vsystem/*.cruds", "patient/*.rs?a=b\fsystem/*.cruds", "patient/*.rs?a=b\u0085system/*.cruds",
		"patient/*.rs?a=b\u00a0system/*.cruds", "patient/*.rs?a=b\u2028system/*.cruds", "patient/*.rs?a=b\u3000system/*.cruds",
		"patient/*.rs?a=b\tsystem/*.cruds", "patient/*.rs?a=b\nsystem/*.cruds", "patient/*.rs?a=b\x00", "patient/*.rs?a=b\x7f",
		"system/*.cruds\u200b", "\u00a0system/*.cruds", "openid\v", "launch/patient\x00", "fhirUser\u2029",
		"patient/*.rs?a=\"b\"", "patient/*.rs?a=b\\c", "patient/*.rs?a=caf\u00e9",
	} {
		t.Run(strconv.Quote(in), func(t *testing.T) {
			assert.Equal(t, smartscope.Unknown, smartscope.Parse(in).Kind)
		})
	}
}

func TestFiltersAreParamEqualsValuePairsOfASafeCharacterSet(t *testing.T) {
	for _, f := range []string{
		"category=laboratory", "category=laboratory&code=1234-5",
		"category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
		"code:in=http://example.org/ValueSet/vs-1", "subject.name=x", "_id=a,b", "_tag=a%7Cb", "_tag=a%2Fb",
	} {
		t.Run("accepts "+f, func(t *testing.T) {
			sc := smartscope.Parse("patient/Observation.rs?" + f)
			assert.Equal(t, smartscope.ResourceV2, sc.Kind)
			assert.Equal(t, f, sc.Filter)
		})
	}
	for _, f := range []string{
		"a=b;c", "a=b'", "a=<script>", "a=b+c", "a=b=c", "a=b%zz", "a=b%2", "a=b#c", "a=b?c", "a=b&&c=d",
		"&a=b", "a=b&", "=b", "a=", "a", "a b=c", "a$=b", "a=(b)", "a=b!", "a=b*", "a=b@c",
		// Escapes that become syntax once decoded: another parameter, a space, a
		// query, another escape, a control character, non-ASCII.
		"a=b%26c=d", "a=b%3Dc", "a=b%20c", "a=b%3fc", "a=b%23c", "a=b%2Bc", "a=b%25", "a=b%0A", "a=b%7F", "a=b%C3%A9",
	} {
		t.Run("refuses "+f, func(t *testing.T) {
			assert.Equal(t, smartscope.Unknown, smartscope.Parse("patient/Observation.rs?"+f).Kind)
		})
	}
}

func TestTheGrantedStringSplitsIntoExactlyTheGrantedScopes(t *testing.T) {
	in := []string{
		"openid", "patient/*.rs?a=b\vsystem/*.cruds", "user/Observation.rs", "patient/*.rs?a=b\u00a0system/*.cruds",
		"user/*.rs?x=1\u2028system/*.cruds", "patient/Observation.rs?category=laboratory",
	}
	for _, v := range []smart.Version{smart.V1, smart.V2} {
		sel := smartscope.Granted(in, v, withPatient)
		for _, s := range strings.FieldsFunc(sel.Scope, unicode.IsSpace) {
			assert.NotEqual(t, "system/*.cruds", s, "no scope is smuggled in (%s)", v)
			assert.NotEqual(t, smartscope.Unknown, smartscope.Parse(s).Kind, "every part is a granted scope (%s)", v)
		}
	}
	sel := smartscope.Granted(in, smart.V2, withPatient)
	assert.Equal(t, []string{"openid", "user/Observation.rs", "patient/Observation.rs?category=laboratory"}, strings.FieldsFunc(sel.Scope, unicode.IsSpace))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"patient/Observation.read", "user/*.*", "system/*.cruds", "patient/Observation.rs?category=laboratory",
		"launch/patient", "openid", "patient/Observation.sr", "patient/.rs", "a/b.c?d=e&f=g", "",
		"patient/*.rs?a=b\vsystem/*.cruds", "user/*.rs?a=b\u00a0system/*.cruds", "user/*.rs?a=b\u2028user/*.cruds",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc := smartscope.Parse(s)
		for _, v := range []smart.Version{smart.V1, smart.V2} {
			sel := smartscope.Granted([]string{s}, v, withPatient)
			got, resource := sel.Scope, sel.Resource
			if parts := strings.FieldsFunc(got, unicode.IsSpace); got != "" && (len(parts) != 1 || parts[0] != got) {
				t.Fatalf("%q granted as %q, which splits into %q", s, got, parts)
			}
			if sc.Kind == smartscope.Unknown && got != "" {
				t.Fatalf("unknown scope %q granted as %q", s, got)
			}
			if resource && sc.Kind != smartscope.ResourceV1 && sc.Kind != smartscope.ResourceV2 {
				t.Fatalf("%q counted as a resource scope", s)
			}
			if v == smart.V1 && got != "" && smartscope.Parse(got).Kind == smartscope.ResourceV2 {
				t.Fatalf("v1 data store got a v2 scope %q from %q", got, s)
			}
			if got != "" {
				// What is granted never grants more than what was asked.
				g := smartscope.Parse(got)
				// A filter narrows: dropping or changing it would widen the grant.
				if g.Perms&^sc.Perms != 0 || g.Compartment != sc.Compartment || g.Resource != sc.Resource || g.Filter != sc.Filter {
					t.Fatalf("%q widened to %q", s, got)
				}
			}
		}
	})
}
