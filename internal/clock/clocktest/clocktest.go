// Package clocktest holds the fake clock the tests of every package share: Now stands still
// until Sleep advances it, so polling and retries run instantly and deterministically.
package clocktest

import (
	"context"
	"sync"
	"time"
)

// Start is the time a new Fake reads.
var Start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Fake is a clock whose Sleep advances Now at once and records the delay. Safe for concurrent use.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// New returns a Fake reading Start.
func New() *Fake { return &Fake{now: Start} }

// At returns a Fake reading t.
func At(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Sleep advances the clock by d, or returns ctx's error without moving when ctx is done.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(max(d, 0))
	f.sleeps = append(f.sleeps, d)
	return nil
}

// Advance moves the clock by d without recording a sleep.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// Sleeps returns every delay Sleep was asked for, in order.
func (f *Fake) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}
