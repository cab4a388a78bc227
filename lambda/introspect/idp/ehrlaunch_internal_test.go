package idp

import (
	"reflect"
	"testing"

	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchclaims"
)

func TestLaunchMarkerTagIsTheHooksClaim(t *testing.T) {
	f, _ := reflect.TypeOf(tokenClaims{}).FieldByName("LaunchMarker")
	if got := f.Tag.Get("json"); got != launchclaims.Marker {
		t.Fatalf("tokenClaims.LaunchMarker reads %q, the hook writes %q", got, launchclaims.Marker)
	}
}
