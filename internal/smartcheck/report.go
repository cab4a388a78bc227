// Package smartcheck verifies a deployed SMART on FHIR endpoint end to end, the
// way a SMART Backend Services client meets it: the SMART configuration the
// data store serves, the authorization server's discovery document and keys, a
// client_credentials token obtained with a private_key_jwt assertion, and FHIR
// calls that must succeed or be refused. Each check yields one Result with its
// timing and, when it fails, what to fix.
//
// It is the engine of cmd/smartcheck; it lives under internal/ because its API
// is the command line, not a Go interface others should build on. It makes
// read-only FHIR calls only (search and read), so it is safe against
// production data.
package smartcheck

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Status is a check's outcome.
type Status string

// The outcomes. A skipped check did not run because an earlier one failed or it
// does not apply (its Detail says which); it does not fail the run.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// The check names, stable for CI.
const (
	CheckSmartConfiguration = "smart-configuration"
	CheckIssuerDiscovery    = "issuer-discovery"
	CheckJWKS               = "jwks"
	CheckToken              = "token"
	CheckTokenClaims        = "token-claims"
	CheckAllowedSearch      = "fhir-allowed-search"
	CheckAllowedRead        = "fhir-allowed-read"
	CheckForbiddenType      = "fhir-forbidden-type"
	CheckNoToken            = "fhir-no-token"
	CheckAlteredSignature   = "fhir-altered-signature"
	CheckExpiredToken       = "fhir-expired-token"
	CheckWrongAudience      = "fhir-wrong-audience"
	CheckAlgNone            = "fhir-alg-none"
	CheckLatency            = "latency"
)

// Result is one check's outcome.
type Result struct {
	Name     string        `json:"name"`
	Status   Status        `json:"status"`
	Duration time.Duration `json:"-"`
	// DurationMS is Duration in milliseconds, for the JSON report.
	DurationMS float64 `json:"duration_ms"`
	// Detail is what was seen; for a failure, what to fix.
	Detail string `json:"detail"`
}

// Timings are the figures a deployment is judged by.
type Timings struct {
	TokenMS         float64 `json:"token_ms"`
	FirstFHIRCallMS float64 `json:"first_fhir_call_ms"`
	P50MS           float64 `json:"p50_ms"`
	Calls           int     `json:"calls"`
}

// Report is the outcome of a run.
type Report struct {
	FHIREndpoint string   `json:"fhir_endpoint"`
	Passed       bool     `json:"passed"`
	Results      []Result `json:"checks"`
	Timings      Timings  `json:"timings"`
}

// Failed returns the names of the failed checks.
func (r Report) Failed() []string {
	var out []string
	for _, res := range r.Results {
		if res.Status == Fail {
			out = append(out, res.Name)
		}
	}
	return out
}

// Result returns the named check's result and whether it ran.
func (r Report) Result(name string) (Result, bool) {
	i := slices.IndexFunc(r.Results, func(res Result) bool { return res.Name == name })
	if i < 0 {
		return Result{}, false
	}
	return r.Results[i], true
}

// WriteText writes one line per check, then a summary line.
func (r Report) WriteText(w io.Writer) error {
	width := 0
	for _, res := range r.Results {
		width = max(width, len(res.Name))
	}
	var b strings.Builder
	for _, res := range r.Results {
		fmt.Fprintf(&b, "%-4s  %-*s  %7s  %s\n", res.Status, width, res.Name, formatDuration(res.Duration), res.Detail)
	}
	if r.Passed {
		fmt.Fprintf(&b, "OK: %d checks passed against %s\n", countStatus(r.Results, Pass), r.FHIREndpoint)
	} else {
		fmt.Fprintf(&b, "FAILED: %s\n", strings.Join(r.Failed(), ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as one JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func countStatus(rs []Result, s Status) int {
	n := 0
	for _, r := range rs {
		if r.Status == s {
			n++
		}
	}
	return n
}

func formatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(100 * time.Millisecond).String()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
