package filterpattern_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/internal/filterpattern"
)

// The examples are those of the CloudWatch Logs user guide's JSON filter
// pattern pages, against events of the same shape.
func TestPatternsMatchAsTheCloudWatchLogsGuideDescribes(t *testing.T) {
	event := `{"eventType":"UpdateTrail","sourceIPAddress":"123.123.1.1","bandwidth":80,"user":{"id":"u1"},"items":["a","b"],"latency":0.5,"flag":"true"}`
	cases := []struct {
		pattern string
		want    bool
	}{
		{`{ $.eventType = "UpdateTrail" }`, true},
		{`{ $.eventType = "DeleteTrail" }`, false},
		{`{ $.eventType != "DeleteTrail" }`, true},
		{`{ $.sourceIPAddress = "123.123.*" }`, true},
		{`{ $.sourceIPAddress != "123.123.*" }`, false},
		{`{ $.eventType = "*Trail" }`, true},
		{`{ $.bandwidth > 75 }`, true},
		{`{ $.bandwidth <= 75 }`, false},
		{`{ $.bandwidth = 80 }`, true},
		{`{ $.latency >= 0.5 }`, true},
		{`{ $.user.id = "u1" }`, true},
		{`{ $.items[1] = "b" }`, true},
		{`{ $.items[2] = "b" }`, false},
		{`{ $.eventType = "UpdateTrail" && $.bandwidth < 50 }`, false},
		{`{ $.eventType = "UpdateTrail" && ($.bandwidth < 50 || $.user.id = "u1") }`, true},
		{`{ $.eventType = "x" || $.eventType = "y" && $.bandwidth > 0 }`, false},
		// A comparison on a missing field, or on a field of the other type, never matches.
		{`{ $.missing != "x" }`, false},
		{`{ $.missing > 0 }`, false},
		{`{ $.eventType > 0 }`, false},
		{`{ $.bandwidth = "80" }`, false},
		{`{ $.flag = "true" }`, true},
	}
	for _, c := range cases {
		t.Run(c.pattern, func(t *testing.T) {
			p, err := filterpattern.Parse(c.pattern)
			require.NoError(t, err)
			assert.Equal(t, c.want, p.Match(event))
		})
	}
}

func TestANonJSONEventNeverMatchesAJSONPattern(t *testing.T) {
	p, err := filterpattern.Parse(`{ $.msg = "authorization" }`)
	require.NoError(t, err)
	assert.False(t, p.Match(`REPORT RequestId: 1 Duration: 2 ms`))
	assert.False(t, p.Match(`["msg", "authorization"]`))
	assert.True(t, p.Match(`{"msg":"authorization"}`))
}

func TestPatternsOutsideTheSubsetAreRefused(t *testing.T) {
	for _, src := range []string{
		`ERROR`,
		`[ip, user, ...]`,
		`{ $.x IS NULL }`,
		`{ $.x NOT EXISTS }`,
		`{ $.x = %regex% }`,
		`{ $.x = "a*b" }`,
		`{ $.x > "a" }`,
		`{ $.x = bare }`,
		`{ $.x = "a" && }`,
		`{ ($.x = "a" }`,
	} {
		t.Run(src, func(t *testing.T) {
			_, err := filterpattern.Parse(src)
			assert.Error(t, err)
		})
	}
}

func TestValueResolvesMetricValuesAndDimensions(t *testing.T) {
	event := `{"type":"platform.report","record":{"metrics":{"initDurationMs":136.09}},"reason":"expired"}`
	v, ok := filterpattern.Value("$.record.metrics.initDurationMs", event)
	require.True(t, ok)
	assert.Equal(t, 136.09, v)
	v, ok = filterpattern.Value("$.reason", event)
	require.True(t, ok)
	assert.Equal(t, "expired", v)
	v, ok = filterpattern.Value("1", event)
	require.True(t, ok)
	assert.Equal(t, 1.0, v)
	_, ok = filterpattern.Value("$.record", event)
	assert.False(t, ok, "an object is no metric value")
	_, ok = filterpattern.Value("$.nothing", event)
	assert.False(t, ok)
}
