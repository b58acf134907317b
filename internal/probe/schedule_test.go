package probe

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
)

const ms = time.Millisecond

// TestPollSchedule: rounds start on ticks of a fixed schedule, whatever their own duration, and
// a round that overruns a tick waits for the next one instead of bursting.
func TestPollSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		timeout  time.Duration
		interval time.Duration         // 0: the default
		took     map[int]time.Duration // how long the nth request takes, by the fake clock
		every    time.Duration         // how long every other request takes

		wantAt     []time.Duration
		wantSleeps []time.Duration
	}{
		{
			name: "the default interval", timeout: 500 * ms,
			wantAt:     []time.Duration{0, 100 * ms, 200 * ms, 300 * ms, 400 * ms},
			wantSleeps: []time.Duration{100 * ms, 100 * ms, 100 * ms, 100 * ms, 100 * ms},
		},
		{
			name: "rounds do not drift by their duration", timeout: 500 * ms, every: 30 * ms,
			wantAt:     []time.Duration{0, 100 * ms, 200 * ms, 300 * ms, 400 * ms},
			wantSleeps: []time.Duration{70 * ms, 70 * ms, 70 * ms, 70 * ms, 70 * ms},
		},
		{
			// Round 2 runs from 100 to 350 ms: the ticks at 200 and 300 ms are skipped.
			name: "an overrun skips to the next tick", timeout: 700 * ms, took: map[int]time.Duration{2: 250 * ms},
			wantAt:     []time.Duration{0, 100 * ms, 400 * ms, 500 * ms, 600 * ms},
			wantSleeps: []time.Duration{100 * ms, 50 * ms, 100 * ms, 100 * ms, 100 * ms},
		},
		{
			// Round 2 ends exactly on the tick at 300 ms, so round 3 starts at once.
			name: "an overrun that ends on a tick", timeout: 500 * ms, took: map[int]time.Duration{2: 200 * ms},
			wantAt:     []time.Duration{0, 100 * ms, 300 * ms, 400 * ms},
			wantSleeps: []time.Duration{100 * ms, 100 * ms, 100 * ms},
		},
		{
			name: "a longer interval", timeout: 2500 * ms, interval: time.Second, every: 10 * ms,
			wantAt:     []time.Duration{0, time.Second, 2 * time.Second},
			wantSleeps: []time.Duration{990 * ms, 990 * ms, 490 * ms},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := clocktest.New()
			tn := newTenant(t, false, map[string]func(int) reply{healthPath: func(n int) reply {
				if d, ok := tt.took[n]; ok {
					clk.Advance(d)
				} else {
					clk.Advance(tt.every)
				}
				return healthReply(oldID)
			}})
			var at []time.Duration
			res, err := Poll(context.Background(), Options{
				HealthURL: tn.URL + healthPath,
				Expected:  &newID,
				Timeout:   tt.timeout,
				Interval:  tt.interval,
				Now:       clk.Now,
				Sleep:     clk.Sleep,
				OnRound:   func(r Round) { at = append(at, r.At) },
			})
			if err != nil {
				t.Fatalf("Poll() error = %v", err)
			}
			if diff := cmp.Diff(tt.wantAt, at); diff != "" {
				t.Errorf("Poll() round starts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSleeps, clk.Sleeps()); diff != "" {
				t.Errorf("Poll() sleeps (-want +got):\n%s", diff)
			}
			if !res.TimedOut || res.Elapsed != tt.timeout || res.Attempts != len(tt.wantAt) {
				t.Errorf("Poll() timed out %v after %s and %d attempts, want true after %s and %d", res.TimedOut, res.Elapsed, res.Attempts, tt.timeout, len(tt.wantAt))
			}
			if got := len(tn.received()); got != len(tt.wantAt) {
				t.Errorf("tenant received %d requests, want %d", got, len(tt.wantAt))
			}
		})
	}
}

// TestPollSurfaces: the deciding surface is read alone, the others when they are needed.
func TestPollSurfaces(t *testing.T) {
	t.Parallel()
	missing := reply{body: `{"status":"ok"}`}
	tests := []struct {
		name          string
		health        func(int) reply
		wellKnown     func(int) reply
		confirmations int
		timeout       time.Duration

		wantAt        []time.Duration
		wantAll       []bool
		wantPaths     map[string]int
		wantStatus    identity.Status
		wantDeciding  identity.Surface
		wantConfirmed bool
		wantDisagree  string // a substring of one of the last round's disagreements
	}{
		{
			// Rounds 3 and 4 match; only round 4 completes the streak of 2.
			name:   "the confirming round reads every surface",
			health: seq(healthReply(oldID), healthReply(oldID), healthReply(newID)), wellKnown: always(wellKnownReply(oldID)),
			confirmations: 2, timeout: time.Minute,
			wantAt:     []time.Duration{0, 100 * ms, 200 * ms, 300 * ms},
			wantAll:    []bool{false, false, false, true},
			wantPaths:  map[string]int{healthPath: 4, identity.WellKnownPath: 1},
			wantStatus: identity.StatusMatch, wantDeciding: identity.SurfaceHealth, wantConfirmed: true,
			wantDisagree: "the health JSON and the well-known document disagree",
		},
		{
			name:   "the last round before the deadline reads every surface",
			health: always(healthReply(oldID)), wellKnown: always(wellKnownReply(newID)),
			confirmations: 1, timeout: 300 * ms,
			wantAt:     []time.Duration{0, 100 * ms, 200 * ms},
			wantAll:    []bool{false, false, true},
			wantPaths:  map[string]int{healthPath: 3, identity.WellKnownPath: 1},
			wantStatus: identity.StatusMismatch, wantDeciding: identity.SurfaceHealth,
			wantDisagree: "the health JSON and the well-known document disagree",
		},
		{
			// Each round sends two requests, so it spends two ticks.
			name:   "a health body without identity reads the others every round",
			health: always(missing), wellKnown: seq(wellKnownReply(oldID), wellKnownReply(oldID), wellKnownReply(newID)),
			confirmations: 1, timeout: time.Minute,
			wantAt:     []time.Duration{0, 200 * ms, 400 * ms},
			wantAll:    []bool{true, true, true},
			wantPaths:  map[string]int{healthPath: 3, identity.WellKnownPath: 3},
			wantStatus: identity.StatusMatch, wantDeciding: identity.SurfaceWellKnown, wantConfirmed: true,
		},
		{
			name:   "a failing deciding surface decides alone",
			health: seq(reply{status: http.StatusServiceUnavailable}, healthReply(newID)), wellKnown: always(wellKnownReply(newID)),
			confirmations: 1, timeout: time.Minute,
			wantAt:     []time.Duration{0, 100 * ms},
			wantAll:    []bool{false, true},
			wantPaths:  map[string]int{healthPath: 2, identity.WellKnownPath: 1},
			wantStatus: identity.StatusMatch, wantDeciding: identity.SurfaceHealth, wantConfirmed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false, map[string]func(int) reply{healthPath: tt.health, identity.WellKnownPath: tt.wellKnown})
			clk := clocktest.New()
			var at []time.Duration
			var all []bool
			res, err := Poll(context.Background(), Options{
				HealthURL:     tn.URL + healthPath,
				BaseURL:       tn.URL,
				Expected:      &newID,
				Timeout:       tt.timeout,
				Confirmations: tt.confirmations,
				Now:           clk.Now,
				Sleep:         clk.Sleep,
				OnRound: func(r Round) {
					at = append(at, r.At)
					all = append(all, r.AllSurfaces)
				},
			})
			if err != nil {
				t.Fatalf("Poll() error = %v", err)
			}
			if diff := cmp.Diff(tt.wantAt, at); diff != "" {
				t.Errorf("Poll() round starts (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAll, all); diff != "" {
				t.Errorf("Poll() rounds reading every surface (-want +got):\n%s", diff)
			}
			paths := map[string]int{}
			for _, r := range tn.received() {
				paths[r.Path]++
			}
			if diff := cmp.Diff(tt.wantPaths, paths); diff != "" {
				t.Errorf("tenant requests by path (-want +got):\n%s", diff)
			}
			if res.Verdict.Status != tt.wantStatus || res.Surface != tt.wantDeciding || res.Confirmed != tt.wantConfirmed {
				t.Errorf("Poll() = %s from %s, confirmed %v; want %s from %s, confirmed %v",
					res.Verdict.Status, res.Surface, res.Confirmed, tt.wantStatus, tt.wantDeciding, tt.wantConfirmed)
			}
			// The last round read every surface, so the evidence holds all four answers.
			if got := len(res.Last.Answers); got != 4 && tt.wantAll[len(tt.wantAll)-1] {
				t.Errorf("Poll() last round has %d answers, want 4: %v", got, summarize(res.Last.Answers))
			}
			if tt.wantDisagree != "" && !containsOne(res.Last.Disagreements, tt.wantDisagree) {
				t.Errorf("Poll() last disagreements = %q, want one containing %q", res.Last.Disagreements, tt.wantDisagree)
			}
			if tt.wantDisagree == "" && len(res.Last.Disagreements) != 0 {
				t.Errorf("Poll() last disagreements = %q, want none", res.Last.Disagreements)
			}
		})
	}
}
