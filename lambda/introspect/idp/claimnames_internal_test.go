package idp

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestPlainNamesKnowsEveryClaimName(t *testing.T) {
	for _, n := range claimNames {
		if len(n) > maxClaimName {
			t.Errorf("%s is longer than maxClaimName", n)
		}
		if !plainNames([]byte(`{"` + n + `":1}`)) {
			t.Errorf("the exact name %s is not plain", n)
		}
		for _, variant := range []string{strings.ToUpper(n), strings.ToUpper(n[:1]) + n[1:], strings.ToLower(n)} {
			if variant != n && plainNames([]byte(`{"x":1,"`+variant+`":1}`)) {
				t.Errorf("the variant %s of %s counts as plain", variant, n)
			}
		}
	}
}

func TestPlainNamesLooksAtMemberNamesOnly(t *testing.T) {
	for in, want := range map[string]bool{
		`{"a":"x\"EXP\":1","exp":1}`:   true,  // an escaped quote does not end a value
		`{"a":"x\\","EXP":1}`:          false, // an escaped backslash does
		`{"a":{"EXP":1},"exp":1}`:      true,  // nested members are not claims
		`{"a":["EXP",{"Scp":1}]}`:      true,
		`{"Scp":1}`:                    false,
		`{"\u0073cp":1}`:               false, // an escape in a name: the exact path decides
		`{"aſcp":1}`:                   false, // non-ASCII in a name: likewise
		`{"x":1,"ISS":2}`:              false,
		`{"x":1,"iss":2,"fhirUser":3}`: true,
		`{"fhiruser":1}`:               false,
	} {
		if got := plainNames([]byte(in)); got != want {
			t.Errorf("%s: got %v, want %v", in, got, want)
		}
	}
}

// claimNames must be exactly the members tokenClaims and introspection decode:
// a field missing from the list would be seen on the fast path and silently
// dropped by exactClaims.
func TestClaimNamesAreTheDecodedMembers(t *testing.T) {
	var tags []string
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
				tags = append(tags, name)
			}
		}
	}
	walk(reflect.TypeOf(introspection{}))
	slices.Sort(tags)
	want := slices.Clone(claimNames[:])
	slices.Sort(want)
	if !slices.Equal(tags, want) {
		t.Fatalf("claimNames %v, decoded members %v", want, tags)
	}
}
