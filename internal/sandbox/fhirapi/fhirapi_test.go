package fhirapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openhealthstack/smart-healthlake/internal/sandbox/fhirapi"
)

const endpoint = "https://127.0.0.1/datastore/abc/r4/"

// fakeIdP answers with a payload built from the last event, and records events.
type fakeIdP struct {
	payload map[string]any // authPayload; aud, nbf, exp filled in when absent
	role    string
	err     error
	delay   time.Duration
	events  []map[string]string
}

func (f *fakeIdP) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var ev map[string]string
	_ = json.Unmarshal(payload, &ev)
	f.events = append(f.events, ev)
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.err != nil {
		return nil, f.err
	}
	p := map[string]any{"aud": ev["datastoreEndpoint"], "nbf": time.Now().Unix() - 10, "exp": time.Now().Unix() + 600, "isAuthorized": "true", "scope": ""}
	for k, v := range f.payload {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
	}
	ans := map[string]any{"authPayload": p}
	switch f.role {
	case "-":
	case "":
		ans["iamRoleARN"] = "arn:aws:iam::000000000000:role/hl"
	default:
		ans["iamRoleARN"] = f.role
	}
	return json.Marshal(ans)
}

type setup struct {
	v1, fineGrained bool
	idp             *fakeIdP
}

func serve(t *testing.T, s setup, method, path, authz string) (int, map[string]any) {
	t.Helper()
	srv, err := fhirapi.New(fhirapi.Options{Endpoint: endpoint, V1: s.v1, FineGrained: s.fineGrained,
		Metadata: `{"issuer":"https://as"}`, IdP: s.idp, Budget: 200 * time.Millisecond,
		RoleARN: "arn:aws:iam::000000000000:role/hl"})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(method, endpoint+path, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body
}

// ids lists a Bundle's resource ids.
func ids(bundle map[string]any) []string {
	var out []string
	entries, _ := bundle["entry"].([]any)
	for _, e := range entries {
		r := e.(map[string]any)["resource"].(map[string]any)
		out = append(out, r["id"].(string))
	}
	return out
}

func scoped(scope string, extra ...string) *fakeIdP {
	p := map[string]any{"scope": scope}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return &fakeIdP{payload: p}
}

func TestScopes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		setup        setup
		method, path string
		status       int
		ids          []string
	}{
		{"a v1 data store serves a v1 read scope", setup{v1: true, idp: scoped("system/Patient.read")}, "GET", "Patient", 200, []string{"p1", "p2", "p3"}},
		{"a v1 data store ignores a v2 scope", setup{v1: true, idp: scoped("system/Patient.rs")}, "GET", "Patient", 403, nil},
		{"a v2 data store serves a v2 scope", setup{idp: scoped("system/Patient.rs")}, "GET", "Patient", 200, []string{"p1", "p2", "p3"}},
		{"a read-only v2 scope does not allow search", setup{idp: scoped("system/Patient.r")}, "GET", "Patient", 403, nil},
		{"a read-only v2 scope allows read", setup{idp: scoped("system/Patient.r")}, "GET", "Patient/p2", 200, nil},
		{"a scope on another type grants nothing", setup{idp: scoped("system/Observation.rs")}, "GET", "Patient", 403, nil},
		{"v1 write does not allow read", setup{idp: scoped("system/Patient.write")}, "GET", "Patient/p1", 403, nil},
		{"a wildcard type reaches every type", setup{idp: scoped("system/*.read")}, "GET", "Observation", 200, []string{"o1", "o2", "o3"}},
		{"a filtered v2.2 scope grants nothing here", setup{idp: scoped("system/Observation.rs?category=laboratory")}, "GET", "Observation", 403, nil},
		{"a patient scope reaches the launch patient's compartment only", setup{idp: scoped("patient/Observation.rs", "patient", "p1")}, "GET", "Observation", 200, []string{"o1"}},
		{"a patient scope falls back to a Patient fhirUser", setup{idp: scoped("patient/Observation.rs", "fhirUser", "Patient/p2")}, "GET", "Observation", 200, []string{"o2"}},
		{"a patient scope refuses another patient's resource", setup{idp: scoped("patient/Observation.rs", "patient", "p1")}, "GET", "Observation/o2", 403, nil},
		{"a patient scope without a patient grants nothing, not everything", setup{idp: scoped("patient/Observation.rs")}, "GET", "Observation", 403, nil},
		{"fine-grained: a practitioner sees the patients they are general practitioner of", setup{fineGrained: true, idp: scoped("user/Patient.rs", "fhirUser", "Practitioner/dr-1")}, "GET", "Patient", 200, []string{"p1", "p2"}},
		{"fine-grained: a patient sees themself and their linked patients", setup{fineGrained: true, idp: scoped("user/Patient.rs", "fhirUser", "Patient/p2")}, "GET", "Patient", 200, []string{"p2", "p3"}},
		{"fine-grained: a user scope without fhirUser grants nothing", setup{fineGrained: true, idp: scoped("user/Patient.rs")}, "GET", "Patient", 403, nil},
		{"without fine-grained authorization a user scope reaches every patient", setup{idp: scoped("user/Patient.rs", "fhirUser", "Practitioner/dr-1")}, "GET", "Patient", 200, []string{"p1", "p2", "p3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := serve(t, tc.setup, tc.method, tc.path, "Bearer tok")
			if status != tc.status {
				t.Fatalf("status %d (%v), want %d", status, body, tc.status)
			}
			if tc.ids != nil && !slices.Equal(ids(body), tc.ids) {
				t.Errorf("ids %v, want %v", ids(body), tc.ids)
			}
		})
	}
}

func TestIdPContract(t *testing.T) {
	t.Run("the event carries the endpoint, the raw token and the HealthLake operation", func(t *testing.T) {
		idp := scoped("system/Patient.read")
		serve(t, setup{idp: idp}, "GET", "Patient/p1", "Bearer abc.def.ghi")
		ev := idp.events[0]
		if ev["datastoreEndpoint"] != endpoint || ev["bearerToken"] != "abc.def.ghi" || ev["operationName"] != "ReadResource" {
			t.Errorf("event %v", ev)
		}
	})

	t.Run("a request without a token is refused without calling the IdP", func(t *testing.T) {
		idp := scoped("system/*.read")
		if status, _ := serve(t, setup{idp: idp}, "GET", "Patient", ""); status != 401 || len(idp.events) != 0 {
			t.Errorf("status %d after %d IdP calls, want 401 and none", status, len(idp.events))
		}
	})

	t.Run("the SMART configuration is served without a token", func(t *testing.T) {
		idp := scoped("")
		if status, body := serve(t, setup{idp: idp}, "GET", ".well-known/smart-configuration", ""); status != 200 || body["issuer"] != "https://as" || len(idp.events) != 0 {
			t.Errorf("status %d, body %v", status, body)
		}
	})

	for _, tc := range []struct {
		name   string
		idp    *fakeIdP
		status int
		want   string
	}{
		{"isAuthorized false is 401", &fakeIdP{payload: map[string]any{"isAuthorized": "false", "scope": "system/*.read"}}, 401, "did not authorize"},
		{"isAuthorized as a JSON boolean is read too", &fakeIdP{payload: map[string]any{"isAuthorized": false, "scope": "system/*.read"}}, 401, "did not authorize"},
		{"an aud other than the endpoint is 401", &fakeIdP{payload: map[string]any{"aud": "https://elsewhere/", "scope": "system/*.read"}}, 401, "aud"},
		{"isAuthorized as the JSON boolean true is served", &fakeIdP{payload: map[string]any{"isAuthorized": true, "scope": "system/*.read"}}, 200, ""},
		{"an nbf in the future is 401", &fakeIdP{payload: map[string]any{"nbf": time.Now().Unix() + 600, "scope": "system/*.read"}}, 401, "nbf"},
		{"an iamRoleARN other than the data store's role is 403", &fakeIdP{role: "arn:aws:iam::000000000000:role/other", payload: map[string]any{"scope": "system/*.read"}}, 403, "iamRoleARN"},
		{"a passed exp is 401", &fakeIdP{payload: map[string]any{"exp": time.Now().Unix() - 1, "scope": "system/*.read"}}, 401, "exp"},
		{"a missing required field is 500", &fakeIdP{payload: map[string]any{"nbf": nil, "scope": "system/*.read"}}, 500, "authPayload.nbf"},
		{"a missing iamRoleARN is 500", &fakeIdP{role: "-", payload: map[string]any{"scope": "system/*.read"}}, 500, "iamRoleARN"},
		{"a function error is 500", &fakeIdP{err: errors.New("boom")}, 500, "custom Idp execution failed"},
		{"an answer past the budget is HealthLake's timeout", &fakeIdP{delay: time.Second, payload: map[string]any{"scope": "system/*.read"}}, 500, "Timeout during custom Idp execution"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := serve(t, setup{idp: tc.idp}, "GET", "Patient", "Bearer tok")
			issue, _ := json.Marshal(body["issue"])
			if status != tc.status || !strings.Contains(string(issue), tc.want) {
				t.Errorf("status %d %s, want %d mentioning %q", status, issue, tc.status, tc.want)
			}
		})
	}
}

func TestIdPErrorsAreNotPassedOn(t *testing.T) {
	t.Run("a function error answers a fixed message, not the Lambda's error", func(t *testing.T) {
		status, body := serve(t, setup{idp: &fakeIdP{err: errors.New(`function error: {"errorMessage":"dial tcp 10.0.0.7:443"}`)}}, "GET", "Patient", "Bearer tok")
		issue, _ := json.Marshal(body["issue"])
		if status != 500 || strings.Contains(string(issue), "10.0.0.7") || !strings.Contains(string(issue), "custom Idp execution failed") {
			t.Errorf("status %d %s, want 500 with the fixed message only", status, issue)
		}
	})
}

var _ http.Handler = (*fhirapi.Server)(nil)
