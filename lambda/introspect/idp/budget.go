package idp

import (
	"context"
	"time"
)

// budget is a request's allowance for network waits. The deadline-bound context
// is made only when a wait is about to happen: the common path (keys held, or a
// cached token) never needs one, and making one costs a timer.
type budget struct {
	parent   context.Context
	deadline time.Time
	ctx      context.Context
	cancel   context.CancelFunc
}

// context returns the deadline-bound context, creating it on first use.
func (b *budget) context() context.Context {
	if b.ctx == nil {
		b.ctx, b.cancel = context.WithDeadline(b.parent, b.deadline)
	}
	return b.ctx
}

// spent reports whether the deadline has passed (or the caller gave up).
func (b *budget) spent() bool {
	if b.ctx != nil {
		return b.ctx.Err() != nil
	}
	return b.parent.Err() != nil || !time.Now().Before(b.deadline)
}

func (b *budget) release() {
	if b.cancel != nil {
		b.cancel()
	}
}
