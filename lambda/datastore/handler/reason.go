package handler

import (
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"
)

// Limits on a failure reason. The framework sends the error message as the
// Reason of its response, with a link to the logs, and CloudFormation refuses
// a response over 4 KB (cfnprops.MaxResponseBytes): past that the
// console shows a generic failure and the cause is lost.
const (
	maxProblems     = 3    // problems named in the reason; the rest are counted
	maxProblemBytes = 800  // each problem is cut to this many bytes
	maxReasonBytes  = 1500 // the whole reason, leaving CloudFormation's 4 KB room for the rest of the response
)

// shortReason wraps an error whose message was shortened; the whole error is
// still there for errors.Is and errors.As.
type shortReason struct {
	msg string
	err error
}

func (e *shortReason) Error() string { return e.msg }
func (e *shortReason) Unwrap() error { return e.err }

// shorten keeps err's message short enough to reach the console whole: the
// first few problems of a joined error and a count of the rest, each problem
// and the whole cut to a budget. When it shortens, the whole error goes to the
// log.
func shorten(err error, log *slog.Logger) error {
	if err == nil {
		return nil
	}
	problems := leaves(err)
	parts := make([]string, 0, maxProblems+1)
	for i, p := range problems {
		if i == maxProblems {
			parts = append(parts, fmt.Sprintf("and %d more problems (all of them are in the log)", len(problems)-maxProblems))
			break
		}
		parts = append(parts, truncate(p.Error(), maxProblemBytes))
	}
	msg := truncate(strings.Join(parts, "; "), maxReasonBytes)
	if msg == err.Error() {
		return err
	}
	log.Error("the failure reason sent to CloudFormation is shortened; the whole error follows", "error", err.Error())
	return &shortReason{msg: msg, err: err}
}

// leaves flattens errors.Join: its parts, and their parts, in order.
func leaves(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, leaves(e)...)
	}
	return out
}

// truncate cuts s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = " [...]"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
