package idp

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRenewBuildsOnceHoweverManyCallersReportTheSameRejection(t *testing.T) {
	ctx := context.Background()
	var builds atomic.Int32
	s := newSetup(time.Hour, func(context.Context) (*int32, error) {
		n := builds.Add(1)
		time.Sleep(5 * time.Millisecond) // a Secrets Manager round trip: the others wait for it
		return &n, nil
	})
	require.NoError(t, s.start(ctx))
	stale := s.loaded()

	var wg sync.WaitGroup
	var renewed atomic.Int32
	for range 50 {
		wg.Go(func() {
			v, built, err := s.renew(ctx, stale)
			if assert.NoError(t, err) {
				assert.Equal(t, int32(2), *v, "every caller gets the new value")
			}
			if built {
				renewed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(2), builds.Load())
	assert.Equal(t, int32(1), renewed.Load())

	// The new value is rejected too: not rebuilt before the interval.
	_, _, err := s.renew(ctx, s.loaded())
	assert.ErrorIs(t, err, errRenewedRecently)
	assert.Equal(t, int32(2), builds.Load())
	assert.Equal(t, int32(2), *s.loaded())
}

func TestAFailedRenewKeepsTheValueAndWaitsTheInterval(t *testing.T) {
	ctx := context.Background()
	const interval = 50 * time.Millisecond
	var fail atomic.Bool
	var builds atomic.Int32
	s := newSetup(interval, func(context.Context) (*int32, error) {
		n := builds.Add(1)
		if fail.Load() {
			return nil, errors.New("secrets manager is down")
		}
		return &n, nil
	})
	require.NoError(t, s.start(ctx))
	held := s.loaded()

	fail.Store(true)
	_, _, err := s.renew(ctx, held)
	assert.ErrorContains(t, err, "down")
	assert.Same(t, held, s.loaded(), "the held value stays")
	_, _, err = s.renew(ctx, held)
	assert.ErrorIs(t, err, errRenewedRecently)
	v, err := s.get(ctx)
	assert.NoError(t, err)
	assert.Same(t, held, v)

	fail.Store(false)
	time.Sleep(interval)
	v, built, err := s.renew(ctx, held)
	require.NoError(t, err)
	assert.True(t, built)
	assert.Equal(t, int32(3), *v)
	assert.Equal(t, int32(3), builds.Load())
}
