package identity

import (
	"strings"
	"sync"
)

// sessionCache remembers the records of session cookies this process has
// decoded, by the cookie's exact value, so that the requests of a session
// after its first skip the base64, HMAC and AES work. A value is the
// authenticated ciphertext itself, so equal values always decode to equal
// records; every request still checks the record's lifetimes and token
// expiry. The cache holds cookies of one part only, the common case.
type sessionCache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]cachedSession
}

// cachedSession is a decoded record, which must not change once cached.
type cachedSession struct {
	record   *sessionRecord
	keyIndex int
}

// newSessionCache returns a cache of up to max records, or nil, which
// caches nothing, when max is not positive.
func newSessionCache(max int) *sessionCache {
	if max <= 0 {
		return nil
	}

	return &sessionCache{max: max, entries: make(map[string]cachedSession, max)}
}

// get returns the record cached for value.
func (c *sessionCache) get(value string) (cachedSession, bool) {
	if c == nil {
		return cachedSession{}, false
	}

	c.mu.RLock()
	defer c.mu.RUnlock()

	entry, ok := c.entries[value]

	return entry, ok
}

// put caches entry for value. A full cache drops an entry first, whichever
// map iteration yields, which is random enough to keep the hot sessions
// most of the time.
func (c *sessionCache) put(value string, entry cachedSession) {
	if c == nil {
		return
	}

	// The value is a substring of the request's header, which the map must
	// not keep alive.
	value = strings.Clone(value)

	c.mu.Lock()
	defer c.mu.Unlock()

	if len(c.entries) >= c.max {
		for old := range c.entries {
			delete(c.entries, old)
			break
		}
	}

	c.entries[value] = entry
}
