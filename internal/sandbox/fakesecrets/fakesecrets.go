// Package fakesecrets is an in-memory AWS Secrets Manager that answers
// GetSecretValue, the one call the token-validation Lambda makes, over the
// service's real wire protocol (AWS JSON 1.1: POST / with X-Amz-Target
// "secretsmanager.GetSecretValue", per botocore's secretsmanager model), so the
// Lambda's own aws-sdk-go-v2 client can be pointed at it with
// AWS_ENDPOINT_URL_SECRETS_MANAGER.
package fakesecrets

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Secret is one stored secret.
type Secret struct {
	ARN, Name, Value string
}

// Server serves the secrets; it is an http.Handler.
type Server struct {
	// AccessKeyID is the only access key whose (SigV4-signed) requests are
	// answered; the signature itself is not recomputed.
	AccessKeyID string
	Secrets     []Secret
}

func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// ServeHTTP answers GetSecretValue.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		awsError(w, http.StatusNotFound, "UnknownOperationException", "")
		return
	}
	// An unsigned or foreign-key request is refused the way AWS refuses it.
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential="+s.AccessKeyID+"/") {
		awsError(w, http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid.")
		return
	}
	if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" {
		awsError(w, http.StatusBadRequest, "UnknownOperationException", "only GetSecretValue is emulated")
		return
	}
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.SecretID == "" {
		awsError(w, http.StatusBadRequest, "InvalidParameterException", "SecretId is required")
		return
	}
	for _, sec := range s.Secrets {
		if in.SecretID == sec.ARN || in.SecretID == sec.Name {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"ARN": sec.ARN, "Name": sec.Name, "SecretString": sec.Value,
				"VersionId":     "00000000-0000-0000-0000-000000000001",
				"VersionStages": []string{"AWSCURRENT"},
				"CreatedDate":   float64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()),
			})
			return
		}
	}
	awsError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}
