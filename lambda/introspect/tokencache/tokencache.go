// Package tokencache is a bounded, expiring cache of validated tokens, keyed by a
// SHA-256 hash of the token so the tokens themselves are never kept in memory.
//
// HealthLake calls the authorizer once per FHIR request with the same token for
// the token's whole life, so a hit saves a signature check (or an introspection
// round trip) on nearly every request.
package tokencache

import (
	"crypto/sha256"
	"sync"
	"time"
)

// Key is the SHA-256 hash of a token.
type Key [sha256.Size]byte

// keyBuffers avoids allocating a copy of every token just to hash it: sha256.Sum256
// takes a []byte and a converted string escapes.
var keyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// KeyOf hashes a token.
func KeyOf(token string) Key {
	bp := keyBuffers.Get().(*[]byte)
	b := append((*bp)[:0], token...)
	k := Key(sha256.Sum256(b))
	*bp = b[:0]
	keyBuffers.Put(bp)
	return k
}

// Cache maps token hashes to values until each value's own expiry. It is safe
// for concurrent use. The zero value is not usable: call New.
type Cache[V any] struct {
	mu      sync.Mutex
	limit   int
	gen     uint64
	entries map[Key]entry[V]
}

type entry[V any] struct {
	value   V
	expires int64 // Unix nanoseconds; the entry is gone at this instant
}

// New returns a cache holding at most limit entries (at least 1).
func New[V any](limit int) *Cache[V] {
	size := max(limit, 1)
	return &Cache[V]{limit: size, entries: make(map[Key]entry[V], min(size, 1024))}
}

// Get returns the value stored for k if it has not expired at now.
func (c *Cache[V]) Get(k Key, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		var zero V
		return zero, false
	}
	if now.UnixNano() >= e.expires {
		delete(c.entries, k)
		var zero V
		return zero, false
	}
	return e.value, true
}

// Generation identifies the cache's contents since the last Clear. Take it before
// validating a token and pass it to Put, so that a validation that raced with a
// key rotation cannot store a result the rotation meant to forget.
func (c *Cache[V]) Generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Put stores v for k until expires, unless the cache was cleared since gen was
// taken or expires is not after now. When the cache is full it drops expired
// entries first, then arbitrary ones.
func (c *Cache[V]) Put(gen uint64, k Key, v V, now, expires time.Time) {
	if !expires.After(now) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.limit {
		c.evict(now.UnixNano())
	}
	c.entries[k] = entry[V]{value: v, expires: expires.UnixNano()}
}

// evict makes room for at least one entry. Dropping an eighth of a full cache at
// once keeps a flood of new tokens from paying a full sweep on every insert.
func (c *Cache[V]) evict(now int64) {
	for k, e := range c.entries {
		if now >= e.expires {
			delete(c.entries, k)
		}
	}
	excess := len(c.entries) - c.limit + max(c.limit/8, 1)
	for k := range c.entries { // map order is randomised: an arbitrary victim
		if excess <= 0 {
			break
		}
		delete(c.entries, k)
		excess--
	}
}

// Delete forgets one entry.
func (c *Cache[V]) Delete(k Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}

// Clear forgets every entry (on key rotation) and starts a new generation.
func (c *Cache[V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
	c.gen++
}

// Len returns the number of entries, expired ones included until they are seen.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
