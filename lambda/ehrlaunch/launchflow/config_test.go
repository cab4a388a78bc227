package launchflow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
)

func TestConfigFromEnv(t *testing.T) {
	good := map[string]string{
		launchflow.EnvTable:         "t",
		launchflow.EnvOktaIssuer:    "https://example.okta.com/oauth2/aus1/",
		launchflow.EnvFHIRAudience:  fhirAud,
		launchflow.EnvPublicURL:     "https://abc.execute-api.us-east-1.amazonaws.com/prod",
		launchflow.EnvClients:       `[{"client_id":"app-1","redirect_uris":["https://app.example/cb"]}]`,
		launchflow.EnvEHRPrincipals: ehrRole,
		launchflow.EnvHookSecretARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ehr-hook-AbCdEf",
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
		c, err := launchflow.ConfigFromEnv(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.LaunchLifetime != 5*time.Minute || c.OktaIssuer != "https://example.okta.com/oauth2/aus1" || c.Callback() != "https://abc.execute-api.us-east-1.amazonaws.com/prod/callback" {
			t.Fatalf("%+v", c)
		}
	})
	t.Run("only the clients marked patient_picker use the picker", func(t *testing.T) {
		c, err := launchflow.ConfigFromEnv(env(map[string]string{launchflow.EnvClients: `[{"client_id":"a","redirect_uris":["https://a/cb"],"patient_picker":true},{"client_id":"b","redirect_uris":["https://b/cb"]}]`}))
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
		{"a launch lifetime above five minutes is refused", map[string]string{launchflow.EnvLaunchSeconds: "301"}, launchflow.EnvLaunchSeconds},
		{"an http issuer off loopback is refused", map[string]string{launchflow.EnvOktaIssuer: "http://example.okta.com/oauth2/aus1"}, launchflow.EnvOktaIssuer},
		{"clients that are not JSON are refused", map[string]string{launchflow.EnvClients: "app-1"}, launchflow.EnvClients},
		{"a client listed twice is refused", map[string]string{launchflow.EnvClients: `[{"client_id":"a","redirect_uris":["https://a/cb"]},{"client_id":"a","redirect_uris":["https://b/cb"]}]`}, launchflow.EnvClients},
		{"an object keyed by client id is refused", map[string]string{launchflow.EnvClients: `{"a":["https://a/cb"]}`}, launchflow.EnvClients},
		{"a client without redirect URIs is refused", map[string]string{launchflow.EnvClients: `[{"client_id":"a","redirect_uris":[]}]`}, launchflow.EnvClients},
		{"an http redirect URI off loopback is refused", map[string]string{launchflow.EnvClients: `[{"client_id":"a","redirect_uris":["http://app.example/cb"]}]`}, launchflow.EnvClients},
		{"a wildcard redirect URI is refused (httpsurl.CheckRedirect)", map[string]string{launchflow.EnvClients: `[{"client_id":"a","redirect_uris":["https://*.example/cb"]}]`}, launchflow.EnvClients},
		{"a custom-scheme redirect URI is refused", map[string]string{launchflow.EnvClients: `[{"client_id":"a","redirect_uris":["com.example.app:/cb"]}]`}, launchflow.EnvClients},
		{"no EHR principal is refused", map[string]string{launchflow.EnvEHRPrincipals: ""}, launchflow.EnvEHRPrincipals},
		{"a user ARN as EHR principal is refused", map[string]string{launchflow.EnvEHRPrincipals: "arn:aws:iam::123456789012:user/x"}, launchflow.EnvEHRPrincipals},
		{"a missing hook secret is refused", map[string]string{launchflow.EnvHookSecretARN: ""}, launchflow.EnvHookSecretARN},
		{"an http CORS origin is refused", map[string]string{launchflow.EnvCORSOrigins: "http://app.example"}, launchflow.EnvCORSOrigins},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := launchflow.ConfigFromEnv(env(c.edit))
			if err == nil || !strings.Contains(err.Error(), c.want+":") {
				t.Fatalf("err = %v, want one naming %s", err, c.want)
			}
		})
	}
	t.Run("every bad variable is named at once", func(t *testing.T) {
		_, err := launchflow.ConfigFromEnv(func(string) string { return "" })
		for _, v := range []string{launchflow.EnvTable, launchflow.EnvOktaIssuer, launchflow.EnvFHIRAudience, launchflow.EnvPublicURL, launchflow.EnvClients, launchflow.EnvEHRPrincipals, launchflow.EnvHookSecretARN} {
			if err == nil || !strings.Contains(err.Error(), v) {
				t.Errorf("error %v does not name %s", err, v)
			}
		}
	})
}
