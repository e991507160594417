package backends

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sync/singleflight"
)

// maxCachedSecrets bounds the read cache; past it reads still work, they are
// just not remembered.
const maxCachedSecrets = 100_000

// readCache is *Store's per-run read cache. A *Store lives for one provider
// configuration, which the CLI makes once per command (plan, apply), so the
// cache lives for one run. Identical concurrent reads always share one store
// call (singleflight). With keep (StoreOptions.CacheReads), a name read once
// is not read again in the run unless the run changed it. Either way a
// Write, Delete, Rotate or UpdateMetadata of a name drops its entry and moves
// the name to a new generation, so a read that started before the change can
// neither fill the cache nor be joined by a read that starts after it. Only
// successful reads are kept; errors (a missing secret included) are shared by
// concurrent callers and then forgotten.
type readCache struct {
	keep    bool
	mu      sync.Mutex
	entries map[string]*Secret
	gens    map[string]uint64
	flights singleflight.Group
}

func newReadCache(keep bool) *readCache {
	return &readCache{keep: keep, entries: map[string]*Secret{}, gens: map[string]uint64{}}
}

// get returns a copy of the cached secret of name and the name's generation.
func (c *readCache) get(name string) (*Secret, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sec, ok := c.entries[name]
	if !ok {
		return nil, c.gens[name]
	}
	return cloneSecret(sec), c.gens[name]
}

// put remembers sec for name if no change of name happened since generation
// gen was read.
func (c *readCache) put(name string, gen uint64, sec *Secret) {
	if !c.keep {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gens[name] != gen || (len(c.entries) >= maxCachedSecrets && c.entries[name] == nil) {
		return
	}
	c.entries[name] = cloneSecret(sec)
}

// invalidate forgets name and starts its next generation.
func (c *readCache) invalidate(names ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range names {
		delete(c.entries, name)
		c.gens[name]++
	}
}

// read returns name from the cache, or runs fetch once for every concurrent
// caller of the same generation of name and caches a successful result.
func (c *readCache) read(ctx context.Context, name string, fetch func(context.Context) (*Secret, error)) (*Secret, error) {
	sec, gen := c.get(name)
	if sec != nil {
		return sec, nil
	}
	key := strconv.FormatUint(gen, 10) + "\x00" + name
	v, err, _ := c.flights.Do(key, func() (any, error) {
		// A caller that missed the cache just before a previous flight
		// of this generation finished lands here after it: use what that
		// flight cached.
		if sec, g := c.get(name); sec != nil && g == gen {
			return sec, nil
		}
		// The first caller's context runs the call; when it is canceled,
		// callers that joined get its error and may try again.
		sec, err := fetch(ctx)
		if err != nil {
			return nil, err
		}
		c.put(name, gen, sec)
		return sec, nil
	})
	if err != nil {
		return nil, err
	}
	sec, ok := v.(*Secret)
	if !ok {
		return nil, Errorf(Internal, "reading secret (%s): unexpected cache entry %T", name, v)
	}
	return cloneSecret(sec), nil
}

// cloneSecret copies a secret so that no caller can change what another
// caller, or the cache, holds.
func cloneSecret(s *Secret) *Secret {
	if s == nil {
		return nil
	}
	c := *s
	c.Value = slices.Clone(s.Value)
	c.Tags = maps.Clone(s.Tags)
	return &c
}
