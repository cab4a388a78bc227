package handler_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
	"github.com/openhealthstack/smart-healthlake/lambda/oktaauth/internal/fakeokta"
)

// Okta's per-minute management rate limits for the buckets a create uses
// (developer docs, "Management rate limits": "Create or list applications"
// /api/v1/apps, "Get, update, or delete an application by ID" /api/v1/apps/{id},
// and "Most other API actions" /api/v1, which holds /api/v1/authorizationServers
// and /api/v1/groups), for the Developer (free) and Enterprise editions. An API
// token or service app gets half of each by default.
var rateLimits = []struct {
	bucket         string
	developer, ent float64
	matches        func(method, path string) bool
}{
	{"apps", 20, 100, func(_, p string) bool { return p == "/api/v1/apps" }},
	{"apps-id", 100, 600, func(_, p string) bool { return strings.HasPrefix(p, "/api/v1/apps/") }},
	{"other", 100, 600, func(_, p string) bool {
		return !strings.HasPrefix(p, "/api/v1/apps") && strings.HasPrefix(p, "/api/v1/")
	}},
}

// BenchmarkCreateFiftyApps is a Create of the full test resource with 50
// registry apps against the fake (no latency; 429s answered on app, rule and
// policy creates, with a reset already passed, so that the retries run without
// waiting). ns/op is the handler's own time; the other metrics are the calls
// per Okta rate-limit bucket, and the minutes those calls need at least under
// half of each bucket's limit (the bucket that needs longest decides), for a
// Developer and an Enterprise org.
func BenchmarkCreateFiftyApps(b *testing.B) {
	calls := map[string]float64{}
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, fakeokta.Options{})
		ev := withApps(b, e.fullEvent(), registryApps(b, e, 50))
		for _, f := range []fault.Rule{
			{Op: "POST /api/v1/apps", After: 10, Times: 2, Kind: fault.Throttle},
			{Op: "POST /api/v1/authorizationServers/*/policies", After: 25, Times: 2, Kind: fault.Throttle},
			{Op: "POST /api/v1/authorizationServers/*/policies/*/rules", After: 40, Times: 2, Kind: fault.Throttle},
		} {
			e.okta.Faults.Add(f)
		}
		b.StartTimer()
		_, err := e.run(ev)
		b.StopTimer()
		require.NoError(b, err)
		for k := range calls {
			delete(calls, k)
		}
		for _, r := range e.okta.Requests() {
			for _, l := range rateLimits {
				if l.matches(r.Method, r.Path) {
					calls[l.bucket]++
				}
			}
		}
		b.StartTimer()
	}
	var devMinutes, entMinutes float64
	for _, l := range rateLimits {
		b.ReportMetric(calls[l.bucket], l.bucket+"-calls/op")
		devMinutes = max(devMinutes, calls[l.bucket]/(l.developer/2))
		entMinutes = max(entMinutes, calls[l.bucket]/(l.ent/2))
	}
	b.ReportMetric(devMinutes, "developer-org-min/op")
	b.ReportMetric(entMinutes, "enterprise-org-min/op")
}
