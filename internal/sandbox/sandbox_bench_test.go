package sandbox_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/openhealthstack/smart-healthlake/internal/sandbox"
	"github.com/openhealthstack/smart-healthlake/internal/smartcheck"
)

// BenchmarkFHIRSearch measures one FHIR search through the emulator, which
// invokes the real lambda/introspect process through the Runtime API for every
// request (a warm environment; the token is in the validator's cache after
// the first request), the figure smartcheck's p50 reports for the sandbox.
func BenchmarkFHIRSearch(b *testing.B) {
	if testing.Short() {
		b.Skip("-short: builds the Lambda")
	}
	dir := b.TempDir()
	bin, err := sandbox.BuildIdP(context.Background(), dir)
	if err != nil {
		b.Fatal(err)
	}
	sb, err := sandbox.Start(sandbox.Config{IdPBinary: bin, Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	client := httpsClient(b, sb.CAFile)
	token := backendToken(b, sb, client)
	u := sb.FHIREndpoint + "Patient?_count=1"
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

func httpsClient(b *testing.B, caFile string) *http.Client {
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = pool
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

func backendToken(b *testing.B, sb *sandbox.Sandbox, client *http.Client) string {
	keyPEM, _ := os.ReadFile(sb.KeyFile)
	key, err := smartcheck.ParseClientKey(keyPEM)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodES384, jwt.RegisteredClaims{
		Issuer: sandbox.BackendClientID, Subject: sandbox.BackendClientID, Audience: jwt.ClaimStrings{sb.TokenEndpoint},
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)), ID: fmt.Sprint(now.UnixNano()),
	}).SignedString(key.Signer)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := client.PostForm(sb.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "scope": {sb.Scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}})
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		b.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return out.AccessToken
}
