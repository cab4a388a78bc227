package smartcheck_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/openhealthstack/smart-healthlake/internal/fakesecretsmanager"
	"github.com/openhealthstack/smart-healthlake/internal/sandbox"
	"github.com/openhealthstack/smart-healthlake/internal/smartcheck"
)

// fakeCloudFormation answers DescribeStacks in the AWS Query protocol
// (botocore's cloudformation model: POST / form Action=DescribeStacks,
// Version=2010-05-15, XML answer; an unknown stack is a 400 ValidationError
// "Stack with id X does not exist").
func fakeCloudFormation(t *testing.T, stack string, outputs map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("Action") != "DescribeStacks" || r.PostForm.Get("Version") != "2010-05-15" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIATEST") {
			http.Error(w, "unsigned", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		if name := r.PostForm.Get("StackName"); name != stack {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id %s does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>`, name)
			return
		}
		var b strings.Builder
		for k, v := range outputs {
			b.WriteString("<member><OutputKey>" + k + "</OutputKey><OutputValue>")
			_ = xml.EscapeText(&b, []byte(v))
			b.WriteString("</OutputValue></member>")
		}
		fmt.Fprintf(w, `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>
<StackName>%s</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/%s/1</StackId><StackStatus>CREATE_COMPLETE</StackStatus>
<CreationTime>2026-01-01T00:00:00Z</CreationTime><Outputs>%s</Outputs></member></Stacks></DescribeStacksResult>
<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>`, stack, stack, b.String())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fakeHealthLake answers DescribeFHIRDatastore in the JSON 1.0 protocol of
// aws-sdk-go-v2's service/healthlake (POST / with X-Amz-Target
// HealthLake.DescribeFHIRDatastore, answer {"DatastoreProperties": ...}; an
// unknown id is a 400 ResourceNotFoundException), with the given
// AuthorizationStrategy for data store id.
func fakeHealthLake(t *testing.T, id, strategy string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ DatastoreId string }
		if r.Header.Get("X-Amz-Target") != "HealthLake.DescribeFHIRDatastore" || json.NewDecoder(r.Body).Decode(&in) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if in.DatastoreId != id {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"ResourceNotFoundException","message":"Data store %s does not exist"}`, in.DatastoreId)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"DatastoreProperties": map[string]any{
			"DatastoreId": id, "DatastoreArn": "arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/" + id,
			"DatastoreStatus": "ACTIVE", "DatastoreTypeVersion": "R4", "DatastoreEndpoint": "https://healthlake.us-east-1.amazonaws.com/datastore/" + id + "/r4/",
			"IdentityProviderConfiguration": map[string]any{"AuthorizationStrategy": strategy, "FineGrainedAuthorizationEnabled": true},
		}})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// awsEnv points the default credential chain at test credentials and the
// fakes only.
func awsEnv(t *testing.T, cloudformation, secrets string) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIATEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", cloudformation)
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", secrets)
}

func mainRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := smartcheck.Main(context.Background(), args, &stdout, &stderr)
	t.Logf("smartcheck %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	return code, stdout.String(), stderr.String()
}

func TestCommandReadsStackOutputsAndSecret(t *testing.T) {
	sb := startSandbox(t, sandbox.Config{})
	keyPEM, err := os.ReadFile(sb.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	cf := fakeCloudFormation(t, "SmartHealthLake-dev", map[string]string{
		smartcheck.OutputFhirEndpoint:    sb.FHIREndpoint,
		smartcheck.OutputIssuer:          sb.Issuer,
		smartcheck.OutputTokenEndpoint:   sb.TokenEndpoint,
		smartcheck.OutputBackendClientID: sandbox.BackendClientID,
		"AlarmTopicArn":                  "arn:aws:sns:us-east-1:123456789012:alarms",
	})
	secretValue, _ := json.Marshal(map[string]string{"privateKey": string(keyPEM), "keyId": sb.KeyID})
	sm := fakesecretsmanager.New(t)
	sm.RequireAccessKey("AKIATEST")
	sm.Put("smart/backend-key", string(secretValue))
	awsEnv(t, cf.URL, sm.URL)

	t.Run("settings come from the stack outputs and the key from Secrets Manager; --json reports every check", func(t *testing.T) {
		code, out, _ := mainRun(t, "--stack", "SmartHealthLake-dev", "--private-key-secret", "smart/backend-key",
			"--scope", sb.Scope, "--ca-file", sb.CAFile, "--json")
		if code != smartcheck.ExitOK {
			t.Fatalf("exit %d, want 0", code)
		}
		var rep smartcheck.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("--json output is not a report: %v", err)
		}
		if !rep.Passed || len(rep.Results) != 14 || rep.FHIREndpoint != sb.FHIREndpoint {
			t.Errorf("report passed=%v with %d checks for %s", rep.Passed, len(rep.Results), rep.FHIREndpoint)
		}
		if rep.Results[0].DurationMS <= 0 {
			t.Errorf("duration_ms %v, want the check's timing", rep.Results[0].DurationMS)
		}
	})

	t.Run("a flag overrides a stack output", func(t *testing.T) {
		code, out, _ := mainRun(t, "--stack", "SmartHealthLake-dev", "--private-key-secret", "smart/backend-key",
			"--client-id", "someone-else", "--scope", sb.Scope, "--ca-file", sb.CAFile)
		if code != smartcheck.ExitFailed || !strings.Contains(out, "FAIL  token") || !strings.Contains(out, "invalid_client") {
			t.Errorf("exit %d, want 1 with the token check failing on invalid_client", code)
		}
	})

	t.Run("with a DatastoreId output, the data store's AuthorizationStrategy is the SMART version the configuration must advertise", func(t *testing.T) {
		const id = "0123456789abcdef0123456789abcdef"
		outputs := map[string]string{
			smartcheck.OutputFhirEndpoint: sb.FHIREndpoint, smartcheck.OutputIssuer: sb.Issuer,
			smartcheck.OutputBackendClientID: sandbox.BackendClientID, smartcheck.OutputDatastoreID: id,
		}
		for strategy, want := range map[string]int{"SMART_ON_FHIR": smartcheck.ExitOK, "SMART_ON_FHIR_V1": smartcheck.ExitFailed, "AWS_AUTH": smartcheck.ExitUsage} {
			cf := fakeCloudFormation(t, "WithId", outputs)
			t.Setenv("AWS_ENDPOINT_URL_CLOUDFORMATION", cf.URL)
			t.Setenv("AWS_ENDPOINT_URL_HEALTHLAKE", fakeHealthLake(t, id, strategy).URL)
			code, out, _ := mainRun(t, "--stack", "WithId", "--private-key-secret", "smart/backend-key", "--ca-file", sb.CAFile)
			if code != want {
				t.Errorf("%s: exit %d, want %d", strategy, code, want)
			}
			if want == smartcheck.ExitFailed && !strings.Contains(out, "FAIL  smart-configuration") {
				t.Errorf("%s: the smart-configuration check did not fail on a v1 data store advertising permission-v2", strategy)
			}
		}
	})

	t.Run("an unknown stack is a usage error naming it", func(t *testing.T) {
		code, _, errOut := mainRun(t, "--stack", "NoSuchStack", "--private-key", sb.KeyFile)
		if code != smartcheck.ExitUsage || !strings.Contains(errOut, "NoSuchStack") {
			t.Errorf("exit %d, stderr %q, want 2 naming the stack", code, errOut)
		}
	})
}

func TestCommandReport(t *testing.T) {
	t.Run("a failing deployment exits 1 and the last line names the failed checks", func(t *testing.T) {
		sb := startSandbox(t, sandbox.Config{IdPBinary: brokenIdP["extrascope"]})
		code, out, _ := mainRun(t, "--fhir-endpoint", sb.FHIREndpoint, "--issuer", sb.Issuer, "--client-id", sandbox.BackendClientID,
			"--private-key", sb.KeyFile, "--scope", sb.Scope, "--ca-file", sb.CAFile)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != smartcheck.ExitFailed {
			t.Errorf("exit %d, want 1", code)
		}
		if len(lines) != 15 || lines[14] != "FAILED: "+smartcheck.CheckForbiddenType {
			t.Errorf("%d lines ending %q, want 14 checks and the summary", len(lines), lines[len(lines)-1])
		}
	})

	t.Run("the sandbox's printed command line passes", func(t *testing.T) {
		sb := startSandbox(t, sandbox.Config{})
		args := strings.Fields(strings.TrimPrefix(sb.CheckCommand(), "go run ./cmd/smartcheck "))
		if code, _, _ := mainRun(t, args...); code != smartcheck.ExitOK {
			t.Errorf("exit %d, want 0", code)
		}
	})

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"without an endpoint", []string{"--issuer", "https://example.okta.com/oauth2/x"}, "--fhir-endpoint"},
		{"with two key sources", []string{"--private-key", "a", "--private-key-secret", "b"}, "not both"},
		{"with an unknown SMART version", []string{"--smart-version", "v3"}, "--smart-version must be v1 or v2"},
		{"with an unreadable key", []string{"--fhir-endpoint", "https://x/", "--issuer", "https://y", "--private-key", "/nonexistent"}, "reading the private key"},
	} {
		t.Run("flags "+tc.name+" are a usage error", func(t *testing.T) {
			code, _, errOut := mainRun(t, tc.args...)
			if code != smartcheck.ExitUsage || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q, want 2 mentioning %q", code, errOut, tc.want)
			}
		})
	}
}
