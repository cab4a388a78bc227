package lambdalog_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/internal/lambdalog"
)

func getenv(value string) func(string) string {
	return func(k string) string {
		if k == lambdalog.EnvLogLevel {
			return value
		}
		return ""
	}
}

// lines logs one line at each level and returns the levels that were written.
func written(t *testing.T, value string) (levels []string, all []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	log := lambdalog.New(&buf, getenv(value))
	log.Debug("d")
	log.Info("i")
	log.Warn("w")
	log.Error("e")
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "every line is JSON: %s", line)
		all = append(all, m)
		if m["msg"] == "d" || m["msg"] == "i" || m["msg"] == "w" || m["msg"] == "e" {
			levels = append(levels, m["level"].(string))
		}
	}
	return levels, all
}

func TestTheLoggerHonoursLambdasApplicationLogLevel(t *testing.T) {
	for _, c := range []struct {
		value string
		want  []string
	}{
		{"", []string{"INFO", "WARN", "ERROR"}},
		{"TRACE", []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{"DEBUG", []string{"DEBUG", "INFO", "WARN", "ERROR"}},
		{"INFO", []string{"INFO", "WARN", "ERROR"}},
		{"WARN", []string{"WARN", "ERROR"}},
		{"warn", []string{"WARN", "ERROR"}},
		{"ERROR", []string{"ERROR"}},
		{"FATAL", nil},
	} {
		t.Run("AWS_LAMBDA_LOG_LEVEL="+c.value+" writes "+strings.Join(c.want, ","), func(t *testing.T) {
			got, _ := written(t, c.value)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestAnUnknownLevelLogsAtInfoAndSaysSo(t *testing.T) {
	got, all := written(t, "VERBOSE")
	assert.Equal(t, []string{"INFO", "WARN", "ERROR"}, got)
	require.NotEmpty(t, all)
	assert.Equal(t, "WARN", all[0]["level"])
	assert.Equal(t, "VERBOSE", all[0]["value"])
	assert.Equal(t, lambdalog.EnvLogLevel, all[0]["variable"])
}

func TestLevelNamesEveryValueLambdaSets(t *testing.T) {
	// The six application log levels of Lambda's LoggingConfig.
	for _, v := range []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"} {
		_, ok := lambdalog.Level(v)
		assert.True(t, ok, v)
	}
	_, ok := lambdalog.Level("")
	assert.False(t, ok)
}
