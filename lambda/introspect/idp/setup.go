package idp

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// errNotReady is returned while a failed setup waits for its next attempt.
var errNotReady = errors.New("not ready; waiting before the next attempt")

// errRenewedRecently is returned by renew when the value was rebuilt (or a
// build was attempted) less than a retry interval ago.
var errRenewedRecently = errors.New("rebuilt less than a retry interval ago")

// setup holds something built once per container over the network (a JWK Set
// after discovery, introspection credentials). It is tried at start; if that
// fails, a request tries again, at most once per retry interval, so that an
// authorization server outage costs one request the wait, not every request.
// A value its user finds rejected can be renewed, under the same interval.
type setup[T any] struct {
	build func(context.Context) (*T, error)
	retry time.Duration

	v    atomic.Pointer[T]
	lock chan struct{} // a mutex a waiter can give up on when its deadline passes

	// Guarded by lock.
	next    time.Time // no build attempt by a request (get or renew) before then
	lastErr error
}

func newSetup[T any](retry time.Duration, build func(context.Context) (*T, error)) *setup[T] {
	return &setup[T]{build: build, retry: retry, lock: make(chan struct{}, 1)}
}

// start makes the first attempt. Its failure does not delay the first request's
// own attempt: a cold start that lost a race with the network gets a second try.
func (s *setup[T]) start(ctx context.Context) error {
	_, err := s.attempt(ctx, false)
	return err
}

// loaded returns the value if it has been built, without waiting.
func (s *setup[T]) loaded() *T { return s.v.Load() }

// get returns the value, building it if it is missing and an attempt is due.
func (s *setup[T]) get(ctx context.Context) (*T, error) {
	if v := s.v.Load(); v != nil {
		return v, nil
	}
	return s.attempt(ctx, true)
}

func (s *setup[T]) attempt(ctx context.Context, gate bool) (*T, error) {
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.lock }()
	if v := s.v.Load(); v != nil {
		return v, nil
	}
	now := time.Now()
	if gate && now.Before(s.next) {
		return nil, fmt.Errorf("%w: %w", errNotReady, s.lastErr)
	}
	if gate {
		s.next = now.Add(s.retry)
	}
	v, err := s.build(ctx)
	if err != nil {
		s.lastErr = err
		return nil, err
	}
	s.v.Store(v)
	return v, nil
}

// renew rebuilds the value after its user found stale, the value it was given,
// rejected (introspection credentials the authorization server refused: the
// secret may have been rotated). However many callers report a rejection, a
// build is attempted at most once per retry interval (the interval is shared
// with get's attempts): a flood of rejected requests makes one read, not one
// each. A caller whose stale value was already replaced gets the current one
// without a build; renewed reports whether this call built it. When the build
// fails, the stale value stays in place (the rejection may have been the
// server's mistake) and the error is returned; when it is not due yet, the error
// is errRenewedRecently.
func (s *setup[T]) renew(ctx context.Context, stale *T) (v *T, renewed bool, err error) {
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	defer func() { <-s.lock }()
	if v := s.v.Load(); v != nil && v != stale {
		return v, false, nil
	}
	now := time.Now()
	if now.Before(s.next) {
		return nil, false, errRenewedRecently
	}
	s.next = now.Add(s.retry)
	if v, err = s.build(ctx); err != nil {
		s.lastErr = err
		return nil, false, err
	}
	s.v.Store(v)
	return v, true, nil
}
