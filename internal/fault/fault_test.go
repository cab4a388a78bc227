package fault_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/openhealthstack/smart-healthlake/internal/fault"
)

func TestPlan(t *testing.T) {
	t.Run("a rule lets After calls through, then fails Times calls, then none", func(t *testing.T) {
		var p fault.Plan
		r := p.Add(fault.Rule{Op: "Get", After: 1, Times: 2, Kind: fault.Throttle})
		var got []bool
		for range 5 {
			_, fired := p.TakeOp("Get")
			got = append(got, fired)
		}
		assert.Equal(t, []bool{false, true, true, false, false}, got)
		assert.Equal(t, 2, p.Fired(r))
	})
	t.Run("a rule fails one call of its operation only, as a server error, unless told otherwise", func(t *testing.T) {
		var p fault.Plan
		p.Add(fault.Rule{Op: "Put"})
		_, fired := p.TakeOp("Get")
		assert.False(t, fired, "another operation")
		r, fired := p.TakeOp("Put")
		assert.True(t, fired)
		assert.Equal(t, fault.ServerError, r.Kind)
		_, fired = p.TakeOp("Put")
		assert.False(t, fired)
	})
	t.Run("a later rule for the same operation takes over when the earlier one is spent", func(t *testing.T) {
		var p fault.Plan
		p.Add(fault.Rule{Op: "Get", Kind: fault.Throttle, Times: 2})
		p.Add(fault.Rule{Op: "Get", Kind: fault.Denied})
		var kinds []fault.Kind
		for range 4 {
			r, _ := p.TakeOp("Get")
			kinds = append(kinds, r.Kind)
		}
		assert.Equal(t, []fault.Kind{fault.Throttle, fault.Throttle, fault.Denied, ""}, kinds)
	})
	t.Run("an empty Op matches every call and Clear removes the rules", func(t *testing.T) {
		var p fault.Plan
		p.Add(fault.Rule{Times: 10})
		_, fired := p.Take(func(string) bool { return false })
		assert.True(t, fired)
		p.Clear()
		_, fired = p.TakeOp("Get")
		assert.False(t, fired)
	})
	t.Run("an injected failure's message says it was injected unless the rule gives one", func(t *testing.T) {
		assert.Equal(t, "injected ThrottlingException", fault.Rule{}.MessageOr("ThrottlingException"))
		assert.Equal(t, "busy", fault.Rule{Message: "busy"}.MessageOr("ThrottlingException"))
	})
}
