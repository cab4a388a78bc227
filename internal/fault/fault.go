// Package fault holds Plan, the one way a test tells an in-process fake to
// fail: which operation, after how many calls, how many times, and what kind of
// failure. Each fake names its own operations (an AWS fake its X-Amz-Target or
// Query Action, the Okta fake "METHOD /path/pattern") and renders each Kind in
// its service's own wire format (error code, HTTP status, body, headers), citing
// where that format comes from.
package fault

import (
	"sync"
	"time"
)

// Kind is what failure a rule injects. A fake renders it as its service
// answers such a failure.
type Kind string

const (
	// ServerError is a 5xx from the service, which SDK retryers retry. It is
	// the Kind of a Rule that names none.
	ServerError Kind = "server error"
	// Throttle is the service's rate limit refusing the call (retried by the
	// SDKs, honouring any wait the service asks for: Rule.RetryAfter).
	Throttle Kind = "throttle"
	// Invalid is a request the service's validation refuses (not retried).
	Invalid Kind = "invalid"
	// Denied is a caller without permission for the call (not retried).
	Denied Kind = "denied"
	// NotFound is a resource the service does not know.
	NotFound Kind = "not found"
	// Conflict is a call refused because of the resource's current state.
	Conflict Kind = "conflict"
)

// Rule makes matching calls fail.
type Rule struct {
	// Op is the operation, in the fake's naming (see its Faults field). Empty
	// matches every call.
	Op string
	// After lets this many matching calls through before failing.
	After int
	// Times is how many matching calls fail (after After). Default: 1.
	Times int
	// Kind is the failure. Default: ServerError.
	Kind Kind
	// Code replaces the service error code the fake gives Kind (e.g.
	// "InternalFailure", "E0000001"); Status replaces its HTTP status; Message
	// its message. Zero values keep the fake's rendering of Kind.
	Code    string
	Status  int
	Message string
	// Causes are the failure's detailed causes, for a service whose errors
	// list them (Okta's errorCauses). Nil keeps the fake's rendering of Kind.
	Causes []string
	// RetryAfter is, for a Throttle, how long the service tells the client to
	// wait, where its format can say it (Okta's X-Rate-Limit-Reset). Zero: the
	// window has already reset.
	RetryAfter time.Duration

	seen, fired int
}

// Plan is a list of rules, consulted in the order they were added. The zero
// value is an empty plan, ready to use and safe for concurrent use.
type Plan struct {
	mu    sync.Mutex
	rules []*Rule
}

// Add appends a rule and returns it, for Fired.
func (p *Plan) Add(r Rule) *Rule {
	if r.Times <= 0 {
		r.Times = 1
	}
	if r.Kind == "" {
		r.Kind = ServerError
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rp := &r
	p.rules = append(p.rules, rp)
	return rp
}

// Fired reports how many calls a rule has failed so far.
func (p *Plan) Fired(r *Rule) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return r.fired
}

// Clear removes every rule.
func (p *Plan) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Take is called by a fake for each call it receives: matches tells whether a
// rule's Op names this call. Every matching rule counts the call; the first
// that has let After calls through and has not yet failed Times fires, and a
// copy of it (defaults filled in) is returned. Later rules for the same
// operation therefore take over once earlier ones are spent.
func (p *Plan) Take(matches func(op string) bool) (Rule, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.rules {
		if r.Op != "" && !matches(r.Op) {
			continue
		}
		r.seen++
		if r.seen <= r.After || r.fired >= r.Times {
			continue
		}
		r.fired++
		return *r, true
	}
	return Rule{}, false
}

// TakeOp is Take for fakes whose operations have plain names (an AWS
// X-Amz-Target suffix or Query Action): a rule matches when its Op is op.
func (p *Plan) TakeOp(op string) (Rule, bool) {
	return p.Take(func(name string) bool { return name == op })
}

// MessageOr gives the rule's Message, or "injected <what>" without one, so that
// an injected failure is recognisable in a test's output.
func (r Rule) MessageOr(what string) string {
	if r.Message != "" {
		return r.Message
	}
	return "injected " + what
}
