package tokencache_test

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhealthstack/smart-healthlake/lambda/introspect/tokencache"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestKeyOfIsTheSHA256OfTheToken(t *testing.T) {
	for _, tok := range []string{"", "abc", strings.Repeat("x", 16<<10)} {
		assert.Equal(t, tokencache.Key(sha256.Sum256([]byte(tok))), tokencache.KeyOf(tok))
	}
}

func TestKeyOfDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	tok := strings.Repeat("y", 1200)
	tokencache.KeyOf(tok)
	assert.Zero(t, testing.AllocsPerRun(100, func() { tokencache.KeyOf(tok) }))
}

func TestAnEntryLivesUntilItsExpiry(t *testing.T) {
	c := tokencache.New[string](10)
	k := tokencache.KeyOf("t")
	c.Put(c.Generation(), k, "v", t0, t0.Add(time.Minute))

	v, ok := c.Get(k, t0.Add(59*time.Second))
	require.True(t, ok)
	assert.Equal(t, "v", v)

	_, ok = c.Get(k, t0.Add(time.Minute))
	assert.False(t, ok, "gone at the expiry instant")
	assert.Zero(t, c.Len(), "an expired entry is dropped when seen")
}

func TestAnAlreadyExpiredValueIsNotStored(t *testing.T) {
	c := tokencache.New[string](10)
	c.Put(c.Generation(), tokencache.KeyOf("t"), "v", t0, t0)
	assert.Zero(t, c.Len())
}

func TestDeleteForgetsOneEntry(t *testing.T) {
	c := tokencache.New[string](10)
	c.Put(c.Generation(), tokencache.KeyOf("a"), "a", t0, t0.Add(time.Hour))
	c.Put(c.Generation(), tokencache.KeyOf("b"), "b", t0, t0.Add(time.Hour))
	c.Delete(tokencache.KeyOf("a"))
	_, ok := c.Get(tokencache.KeyOf("a"), t0)
	assert.False(t, ok)
	_, ok = c.Get(tokencache.KeyOf("b"), t0)
	assert.True(t, ok)
}

func TestClearForgetsEverythingAndRefusesStaleWrites(t *testing.T) {
	c := tokencache.New[string](10)
	gen := c.Generation()
	c.Put(gen, tokencache.KeyOf("a"), "a", t0, t0.Add(time.Hour))
	c.Clear()
	_, ok := c.Get(tokencache.KeyOf("a"), t0)
	assert.False(t, ok)

	// A validation that started before the rotation finishes after it.
	c.Put(gen, tokencache.KeyOf("b"), "b", t0, t0.Add(time.Hour))
	assert.Zero(t, c.Len(), "a result from before the clear is not stored")

	c.Put(c.Generation(), tokencache.KeyOf("b"), "b", t0, t0.Add(time.Hour))
	assert.Equal(t, 1, c.Len())
}

func TestTheCacheStaysWithinItsBound(t *testing.T) {
	c := tokencache.New[int](64)
	for i := range 1000 {
		c.Put(c.Generation(), tokencache.KeyOf(fmt.Sprint(i)), i, t0, t0.Add(time.Hour))
		require.LessOrEqual(t, c.Len(), 64)
	}
	// The newest entry always survives its own insertion.
	v, ok := c.Get(tokencache.KeyOf("999"), t0)
	require.True(t, ok)
	assert.Equal(t, 999, v)
}

func TestExpiredEntriesAreEvictedFirst(t *testing.T) {
	c := tokencache.New[int](4)
	for i := range 3 {
		c.Put(c.Generation(), tokencache.KeyOf(fmt.Sprint("short", i)), i, t0, t0.Add(time.Second))
	}
	c.Put(c.Generation(), tokencache.KeyOf("long"), 9, t0, t0.Add(time.Hour))
	later := t0.Add(time.Minute)
	c.Put(c.Generation(), tokencache.KeyOf("new"), 10, later, later.Add(time.Hour))
	_, ok := c.Get(tokencache.KeyOf("long"), later)
	assert.True(t, ok, "a live entry survives while expired ones can go")
	assert.Equal(t, 2, c.Len())
}

func TestConcurrentUseIsSafe(t *testing.T) {
	c := tokencache.New[int](32)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				k := tokencache.KeyOf(fmt.Sprint(g, i%40))
				c.Put(c.Generation(), k, i, t0, t0.Add(time.Hour))
				c.Get(k, t0)
				if i%50 == 0 {
					c.Clear()
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, c.Len(), 32)
}
