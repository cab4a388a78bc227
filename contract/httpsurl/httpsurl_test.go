package httpsurl_test

import (
	"strings"
	"testing"

	"github.com/openhealthstack/smart-healthlake/contract/httpsurl"
)

func TestCheck(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://idp.example.com/oauth2/v1/token":            true,
		"https://login.microsoftonline.com/t/keys?appid=abc": true,
		"http://idp.example.com/token":                       false,
		"https:///token":                                     false,
		"/token":                                             false,
		"https://user:pass@idp.example.com/token":            false,
		"https://idp.example.com/token#frag":                 false,
		"https://idp.example.com/token#":                     true, // an empty fragment is no fragment (url.Parse)
		"http://localhost/token":                             false,
		"https://idp.example.com/%zz":                        false,
	} {
		if err := httpsurl.Check(raw); (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok %v", raw, err, ok)
		}
	}
	t.Run("an error never quotes the credentials or query of the URL", func(t *testing.T) {
		err := httpsurl.Check("http://user:s3cret@idp.example.com/x?token=abc")
		if err == nil || contains(err.Error(), "s3cret") || contains(err.Error(), "token=abc") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestCheckOrLoopback(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://idp.example.com/oauth2/default": true,
		"http://127.0.0.1:8080/oauth2/default":   true,
		"http://localhost:8080":                  true,
		"http://[::1]:8080":                      true,
		"http://idp.example.com":                 false,
		"http://127.0.0.2:8080":                  false,
		"http://[0:0:0:0:0:0:0:1]:8080":          false,
		"http://localhost.example.com":           false,
		"https://idp.example.com/x?a=b":          false,
		"https://idp.example.com/x?":             false,
		"https://idp.example.com/x#f":            false,
		"https://u:p@idp.example.com":            false,
		"idp.example.com":                        false,
		"ftp://idp.example.com":                  false,
	} {
		if err := httpsurl.CheckOrLoopback(raw); (err == nil) != ok {
			t.Errorf("CheckOrLoopback(%q) = %v, want ok %v", raw, err, ok)
		}
	}
	t.Run("an error never quotes the query or fragment of the URL", func(t *testing.T) {
		for _, raw := range []string{"https://idp.example.com/x?token=abc", "ftp://idp.example.com/x#token=abc"} {
			if err := httpsurl.CheckOrLoopback(raw); err == nil || contains(err.Error(), "token=abc") {
				t.Errorf("CheckOrLoopback(%q) = %v", raw, err)
			}
		}
	})
}

func TestRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"https://u:p@idp.example.com/a/b?x=1#f": "https://idp.example.com/a/b",
		"https://idp.example.com/a?":            "https://idp.example.com/a",
		"https://idp.example.com/%zz":           "(unparseable URL)",
	} {
		if got := httpsurl.Redact(raw); got != want {
			t.Errorf("Redact(%q) = %q, want %q", raw, got, want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestCheckRedirect is the one redirect-URI rule. Before it there were four,
// each missing a check another had; every case below names the copy whose
// stricter behaviour it keeps (or the rule it adds).
func TestCheckRedirect(t *testing.T) {
	cases := []struct {
		name   string
		raw    string
		custom bool // customSchemeAllowed
		want   string
	}{
		{"an https callback is accepted", "https://app.example.com/cb", false, ""},
		{"a query is accepted (RFC 6749 section 3.1.2 allows one)", "https://app.example.com/cb?tenant=a", false, ""},
		{"http on localhost is accepted", "http://localhost:3000/cb", false, ""},
		{"http on 127.0.0.1 is accepted", "http://127.0.0.1:8080/cb", false, ""},
		{"http on [::1] is accepted (RFC 8252 section 7.3; oktaprops.Parse and envconfig refused it)", "http://[::1]:8080/cb", false, ""},
		{"a native app's private-use scheme is accepted when allowed", "com.example.app:/callback", true, ""},

		{"http off loopback is refused (every copy)", "http://app.example.com/cb", false, "http only for localhost"},
		{"http on another loopback spelling is refused (IsLoopback)", "http://127.0.0.2/cb", true, "http only for localhost"},
		{"http with no host is refused, even where custom schemes are allowed", "http:/cb", true, "http only for localhost"},
		{"https without a host is refused (envconfig, launchflow)", "https:///cb", false, "must name a host"},
		{"a relative URI is refused", "/cb", false, "absolute"},
		{"a custom scheme is refused where it is not allowed (oktaprops, envconfig, launchflow)", "com.example.app:/callback", false, "native"},
		{"a fragment is refused (every copy)", "https://app.example.com/cb#x", false, "fragment"},
		{"an empty fragment is refused too (oktaprops.Apps; url.Parse drops it)", "https://app.example.com/cb#", false, "fragment"},
		{"a wildcard is refused (oktaprops.Apps)", "https://*.example.com/cb", false, "wildcard"},
		{"a wildcard is refused in a custom scheme too (oktaprops.Apps)", "com.example.app:/*", true, "wildcard"},
		{"white space is refused (oktaprops.Apps)", "https://app.example.com/c b", false, "absolute"},
		{"a trailing newline is refused (oktaprops.Apps)", "https://app.example.com/cb\n", false, "absolute"},
		{"user info is refused (new: it would be registered in the template and at Okta)", "https://u:p@app.example.com/cb", false, "user info"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := httpsurl.CheckRedirect(tc.raw, tc.custom)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CheckRedirect(%q, %v) = %v, want nil", tc.raw, tc.custom, err)
			case tc.want != "" && (err == nil || !contains(err.Error(), tc.want)):
				t.Fatalf("CheckRedirect(%q, %v) = %v, want an error with %q", tc.raw, tc.custom, err, tc.want)
			}
		})
	}
	t.Run("an error never quotes the credentials or query of the URI", func(t *testing.T) {
		err := httpsurl.CheckRedirect("http://user:s3cret@app.example.com/cb?code=abc", false)
		if err == nil || contains(err.Error(), "s3cret") || contains(err.Error(), "code=abc") {
			t.Fatalf("err = %v", err)
		}
	})
}
