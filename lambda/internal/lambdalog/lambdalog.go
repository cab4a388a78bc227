// Package lambdalog builds the JSON slog logger of this module's Lambda
// functions, at the application log level Lambda's advanced logging controls
// configure.
//
// When a function's LoggingConfig sets an application log level, Lambda puts
// it in the AWS_LAMBDA_LOG_LEVEL environment variable (TRACE, DEBUG, INFO,
// WARN, ERROR or FATAL; see "Log-level filtering" in the Lambda developer
// guide) and drops JSON lines whose "level" is below it before they reach
// CloudWatch Logs. A custom runtime's code must still write them first: a
// logger at the same level skips building and writing lines nobody will
// store, so WARN takes the token validator's per-request decision line off
// the hot path, not just out of the log group.
package lambdalog

import (
	"io"
	"log/slog"
	"strings"
)

// EnvLogLevel is the variable Lambda sets from LoggingConfig.ApplicationLogLevel.
const EnvLogLevel = "AWS_LAMBDA_LOG_LEVEL"

// slog has no TRACE or FATAL; these sit a step below DEBUG and above ERROR,
// as slog's documentation suggests for extra levels.
const (
	levelTrace = slog.LevelDebug - 4
	levelFatal = slog.LevelError + 4
)

// Level returns the slog level for an AWS_LAMBDA_LOG_LEVEL value
// (case-insensitive). ok is false for anything else, the empty string
// included; the level is then INFO, Lambda's own default.
func Level(s string) (level slog.Level, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "TRACE":
		return levelTrace, true
	case "DEBUG":
		return slog.LevelDebug, true
	case "INFO":
		return slog.LevelInfo, true
	case "WARN":
		return slog.LevelWarn, true
	case "ERROR":
		return slog.LevelError, true
	case "FATAL":
		return levelFatal, true
	}
	return slog.LevelInfo, false
}

// New returns a JSON logger writing to w at the level getenv(EnvLogLevel)
// names (os.Getenv in production). An unknown value gives INFO and one WARN
// line saying so, so a typo does not silence the logs.
func New(w io.Writer, getenv func(string) string) *slog.Logger {
	raw := getenv(EnvLogLevel)
	level, ok := Level(raw)
	logger := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	if !ok && raw != "" {
		logger.Warn("unknown log level; logging at INFO", "variable", EnvLogLevel, "value", clip(raw))
	}
	return logger
}

func clip(s string) string {
	if len(s) > 32 {
		return s[:32]
	}
	return s
}
