package launchflow_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/openhealthstack/smart-healthlake/contract/ehrlaunchenv"
	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchflow"
	"github.com/openhealthstack/smart-healthlake/lambda/ehrlaunch/launchstore"
)

func TestLaunchAPI(t *testing.T) {
	t.Run("an allowed EHR role's session registers a 256-bit launch valid for five minutes", func(t *testing.T) {
		h := newHarness(t)
		resp, body := h.post(ehrlaunchenv.PathLaunch, "application/json", launchBody(nil), nil)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var lr launchflow.LaunchResponse
		_ = json.Unmarshal(body, &lr)
		if len(lr.Launch) != 43 || lr.ExpiresIn != 300 {
			t.Fatalf("launch = %q (%d chars), expires_in = %d", lr.Launch, len(lr.Launch), lr.ExpiresIn)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Error("the launch id may be cached")
		}
		items := h.fake.Items(table)
		if len(items) != 1 || items[0]["pk"]["S"] != launchstore.HashKey("L#", lr.Launch) {
			t.Fatalf("items = %v", items)
		}
		if exp := items[0][launchstore.TTLAttribute]["N"]; exp != jsonNumber(h.clock.now().Unix()+300) {
			t.Fatalf("expires_at = %v", exp)
		}
	})
	t.Run("two launches get different ids", func(t *testing.T) {
		h := newHarness(t)
		if h.register(nil) == h.register(nil) {
			t.Fatal("ids repeat")
		}
	})
	t.Run("the allowed principals are fixed when the server is built: a later change to the Config's slice changes nothing", func(t *testing.T) {
		h := newHarness(t)
		h.cfg.EHRPrincipals[0] = "arn:aws:iam::123456789012:role/SomeoneElse" // shares the array the server was given
		h.register(nil)
		h.caller = "arn:aws:sts::123456789012:assumed-role/SomeoneElse/s"
		if resp, _ := h.post(ehrlaunchenv.PathLaunch, "application/json", launchBody(nil), nil); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a role added after New registered a launch: status %d", resp.StatusCode)
		}
	})
	for _, c := range []struct{ name, caller string }{
		{"a call without a SigV4 principal is refused", ""},
		{"a role that is not an EHR's is refused", "arn:aws:sts::123456789012:assumed-role/SomeoneElse/s"},
		{"the allowed role's name in another account is refused", "arn:aws:sts::999999999999:assumed-role/EhrLauncher/s"},
		{"a user of the same name is refused", "arn:aws:iam::123456789012:user/EhrLauncher"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.caller = c.caller
			resp, _ := h.post(ehrlaunchenv.PathLaunch, "application/json", launchBody(nil), nil)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if len(h.fake.Items(table)) != 0 {
				t.Fatal("a launch was stored")
			}
		})
	}
	for _, c := range []struct {
		name string
		edit map[string]any
		want string
	}{
		{"an app the server does not serve is refused", map[string]any{"client_id": "stranger"}, "client_id"},
		{"another FHIR server's aud is refused", map[string]any{"aud": "https://evil.example/r4/"}, "aud"},
		{"a launch without a patient is refused", map[string]any{"patient": nil}, "patient"},
		{"a patient that is not a FHIR id is refused", map[string]any{"patient": "Patient/123?x=1"}, "patient"},
		{"an encounter that is not a FHIR id is refused", map[string]any{"encounter": "a b"}, "encounter"},
		{"a user that is not a reference is refused", map[string]any{"user": "dr-who"}, "user"},
		{"an http style URL is refused", map[string]any{"smart_style_url": "http://ehr.example/style.json"}, "smart_style_url"},
		{"a style URL with user info is refused", map[string]any{"smart_style_url": "https://u:p@ehr.example/style.json"}, "smart_style_url"},
		{"a fhirContext entry without reference is refused", map[string]any{"fhirContext": []any{map[string]any{"role": "x"}}}, "fhirContext"},
		{"an unknown field is refused", map[string]any{"patientName": "Jane"}, "unknown field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			resp, body := h.post(ehrlaunchenv.PathLaunch, "application/json", launchBody(c.edit), nil)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if len(h.fake.Items(table)) != 0 {
				t.Fatal("a launch was stored")
			}
		})
	}
	t.Run("a DynamoDB outage is a 500, not a launch id", func(t *testing.T) {
		h := newHarness(t)
		h.fake.Faults.Add(fault.Rule{Op: "PutItem", Times: 5})
		resp, body := h.post(ehrlaunchenv.PathLaunch, "application/json", launchBody(nil), nil)
		if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), `"launch"`) {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
}

// TestLaunchThroughAPIGateway drives the default caller check with the
// events API Gateway's REST proxy integration delivers.
func TestLaunchThroughAPIGateway(t *testing.T) {
	h := newHarness(t)
	s, err := launchflow.New(h.cfg, launchstore.New(nil, table, nil), launchflow.Options{HookSecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	adapter := httpadapter.New(s)
	event := func(userArn string) events.APIGatewayProxyRequest {
		return events.APIGatewayProxyRequest{
			HTTPMethod: http.MethodPost, Path: ehrlaunchenv.PathLaunch,
			Headers: map[string]string{"Content-Type": "application/json"},
			Body:    string(launchBody(map[string]any{"aud": "https://wrong.example/"})),
			RequestContext: events.APIGatewayProxyRequestContext{
				Identity: events.APIGatewayRequestIdentity{UserArn: userArn},
			},
		}
	}
	t.Run("a request without an IAM identity is refused before the body is read", func(t *testing.T) {
		resp, err := adapter.ProxyWithContext(context.Background(), event(""))
		if err != nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
	})
	t.Run("the allowed role's identity reaches validation", func(t *testing.T) {
		resp, err := adapter.ProxyWithContext(context.Background(), event(ehrSession))
		if err != nil || resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, "aud") {
			t.Fatalf("%d %s %v", resp.StatusCode, resp.Body, err)
		}
	})
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
