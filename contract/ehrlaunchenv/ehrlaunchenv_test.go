package ehrlaunchenv_test

import (
	"strings"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
)

const (
	fhirAud  = "https://healthlake.us-east-1.amazonaws.com/datastore/0123456789abcdef0123456789abcdef/r4/"
	ehrRole  = "arn:aws:iam::123456789012:role/ehr/EhrLauncher"
	keyARN   = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	backends = `[{"client_id":"svc","jwks":{"keys":[{"kty":"RSA","kid":"k1","n":"AQAB","e":"AQAB"}]}}]`
)

func TestParse(t *testing.T) {
	good := map[string]string{
		ehrlaunchenv.EnvTable:         "t",
		ehrlaunchenv.EnvOktaIssuer:    "https://example.okta.com/oauth2/aus1/",
		ehrlaunchenv.EnvFHIRAudience:  fhirAud,
		ehrlaunchenv.EnvPublicURL:     "https://abc.execute-api.us-east-1.amazonaws.com/prod",
		ehrlaunchenv.EnvClients:       `[{"client_id":"app-1","redirect_uris":["https://app.example/cb"]}]`,
		ehrlaunchenv.EnvEHRPrincipals: ehrRole,
		ehrlaunchenv.EnvHookSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ehr-hook-AbCdEf",
	}
	env := func(edit map[string]string) func(string) string {
		return func(k string) string {
			if v, ok := edit[k]; ok {
				return v
			}
			return good[k]
		}
	}
	t.Run("a complete environment gives the defaults", func(t *testing.T) {
		c, err := ehrlaunchenv.Parse(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.LaunchLifetime != 5*time.Minute || c.OktaIssuer != "https://example.okta.com/oauth2/aus1" || c.Callback() != "https://abc.execute-api.us-east-1.amazonaws.com/prod/callback" {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("only the clients marked patient_picker use the picker", func(t *testing.T) {
		c, err := ehrlaunchenv.Parse(env(map[string]string{ehrlaunchenv.EnvClients: `[{"client_id":"a","redirect_uris":["https://a/cb"],"patient_picker":true},{"client_id":"b","redirect_uris":["https://b/cb"]}]`}))
		if err != nil {
			t.Fatal(err)
		}
		if !c.PickerClients["a"] || c.PickerClients["b"] || len(c.Clients) != 2 {
			t.Fatalf("pickers %v, clients %v", c.PickerClients, c.Clients)
		}
	})
	for _, c := range []struct {
		name string
		edit map[string]string
		want string
	}{
		{"a launch lifetime above five minutes is refused", map[string]string{ehrlaunchenv.EnvLaunchSeconds: "301"}, ehrlaunchenv.EnvLaunchSeconds},
		{"a launch lifetime of zero is refused", map[string]string{ehrlaunchenv.EnvLaunchSeconds: "0"}, ehrlaunchenv.EnvLaunchSeconds},
		{"an http issuer off loopback is refused", map[string]string{ehrlaunchenv.EnvOktaIssuer: "http://example.okta.com/oauth2/aus1"}, ehrlaunchenv.EnvOktaIssuer},
		{"clients that are not JSON are refused", map[string]string{ehrlaunchenv.EnvClients: "app-1"}, ehrlaunchenv.EnvClients},
		{"a client listed twice is refused", map[string]string{ehrlaunchenv.EnvClients: `[{"client_id":"a","redirect_uris":["https://a/cb"]},{"client_id":"a","redirect_uris":["https://b/cb"]}]`}, ehrlaunchenv.EnvClients},
		{"an object keyed by client id is refused", map[string]string{ehrlaunchenv.EnvClients: `{"a":["https://a/cb"]}`}, ehrlaunchenv.EnvClients},
		{"a client without redirect URIs is refused", map[string]string{ehrlaunchenv.EnvClients: `[{"client_id":"a","redirect_uris":[]}]`}, ehrlaunchenv.EnvClients},
		{"an http redirect URI off loopback is refused", map[string]string{ehrlaunchenv.EnvClients: `[{"client_id":"a","redirect_uris":["http://app.example/cb"]}]`}, ehrlaunchenv.EnvClients},
		{"a wildcard redirect URI is refused (httpsurl.CheckRedirect)", map[string]string{ehrlaunchenv.EnvClients: `[{"client_id":"a","redirect_uris":["https://*.example/cb"]}]`}, ehrlaunchenv.EnvClients},
		{"a custom-scheme redirect URI is refused", map[string]string{ehrlaunchenv.EnvClients: `[{"client_id":"a","redirect_uris":["com.example.app:/cb"]}]`}, ehrlaunchenv.EnvClients},
		{"no EHR principal is refused", map[string]string{ehrlaunchenv.EnvEHRPrincipals: ""}, ehrlaunchenv.EnvEHRPrincipals},
		{"a user ARN as EHR principal is refused", map[string]string{ehrlaunchenv.EnvEHRPrincipals: "arn:aws:iam::123456789012:user/x"}, ehrlaunchenv.EnvEHRPrincipals},
		{"a missing hook secret is refused", map[string]string{ehrlaunchenv.EnvHookSecretARN: ""}, ehrlaunchenv.EnvHookSecretARN},
		{"an http CORS origin is refused", map[string]string{ehrlaunchenv.EnvCORSOrigins: "http://app.example"}, ehrlaunchenv.EnvCORSOrigins},
		{"backend clients without an assertion key are refused", map[string]string{ehrlaunchenv.EnvBackendClients: backends}, ehrlaunchenv.EnvAssertionKeyARN},
		{"an assertion key without backend clients is refused", map[string]string{ehrlaunchenv.EnvAssertionKeyARN: keyARN}, ehrlaunchenv.EnvAssertionKeyARN},
		{"an alias as assertion key is refused", map[string]string{ehrlaunchenv.EnvAssertionKeyARN: "arn:aws:kms:us-east-1:123456789012:alias/x", ehrlaunchenv.EnvBackendClients: backends}, ehrlaunchenv.EnvAssertionKeyARN},
		{"a backend client with an empty key set is refused", map[string]string{ehrlaunchenv.EnvAssertionKeyARN: keyARN, ehrlaunchenv.EnvBackendClients: `[{"client_id":"svc","jwks":{"keys":[]}}]`}, ehrlaunchenv.EnvBackendClients},
		{"a backend client listed twice is refused", map[string]string{ehrlaunchenv.EnvAssertionKeyARN: keyARN, ehrlaunchenv.EnvBackendClients: `[{"client_id":"svc","jwks":{"keys":[{}]}},{"client_id":"svc","jwks":{"keys":[{}]}}]`}, ehrlaunchenv.EnvBackendClients},
		{"a backend client that is also a launched app is refused", map[string]string{ehrlaunchenv.EnvAssertionKeyARN: keyARN, ehrlaunchenv.EnvBackendClients: `[{"client_id":"app-1","jwks":{"keys":[{}]}}]`}, ehrlaunchenv.EnvBackendClients},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ehrlaunchenv.Parse(env(c.edit))
			if err == nil || !strings.Contains(err.Error(), c.want+":") {
				t.Fatalf("err = %v, want one naming %s", err, c.want)
			}
		})
	}
	t.Run("backend clients and the assertion key are read together", func(t *testing.T) {
		c, err := ehrlaunchenv.Parse(env(map[string]string{ehrlaunchenv.EnvAssertionKeyARN: keyARN, ehrlaunchenv.EnvBackendClients: backends}))
		if err != nil {
			t.Fatal(err)
		}
		if c.AssertionKeyARN != keyARN || len(c.BackendClients) != 1 || !strings.Contains(string(c.BackendClients["svc"]), `"kid":"k1"`) {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("every bad variable is named at once", func(t *testing.T) {
		_, err := ehrlaunchenv.Parse(func(string) string { return "" })
		for _, v := range []string{ehrlaunchenv.EnvTable, ehrlaunchenv.EnvOktaIssuer, ehrlaunchenv.EnvFHIRAudience, ehrlaunchenv.EnvPublicURL, ehrlaunchenv.EnvClients, ehrlaunchenv.EnvEHRPrincipals, ehrlaunchenv.EnvHookSecretARN} {
			if err == nil || !strings.Contains(err.Error(), v) {
				t.Errorf("error %v does not name %s", err, v)
			}
		}
	})
}
