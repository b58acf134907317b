package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ten := []time.Duration{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}
	tests := []struct {
		name string
		ds   []time.Duration
		p    float64
		want time.Duration
	}{
		{"median of ten is the 5th", ten, 50, 5},
		{"p90 of ten is the 9th", ten, 90, 9},
		{"p100 is the largest", ten, 100, 10},
		{"a small p is the smallest", ten, 1, 1},
		{"median of three", []time.Duration{30, 10, 20}, 50, 20},
		{"one value", []time.Duration{7}, 90, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := percentile(tt.ds, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.ds, tt.p, got, tt.want)
			}
		})
	}
}

// TestFixedPoll: the reference probes at once, sleeps 1 s after every probe that does not match,
// and returns at the first match or fails at the deadline.
func TestFixedPoll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		flipAfter  int64 // the tenant switches after this many requests; 0: never
		timeout    time.Duration
		wantSleeps []time.Duration
		wantProbes int
		wantErr    bool
	}{
		{"matches on the third probe", 2, time.Minute, []time.Duration{time.Second, time.Second}, 3, false},
		{"matches at once", -1, time.Minute, nil, 1, false},
		{"never matches", 0, 3 * time.Second, []time.Duration{time.Second, time.Second, time.Second}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sw := newSwitcher()
			want := sw.next()
			var n atomic.Int64
			if tt.flipAfter < 0 {
				sw.flip()
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sw.ServeHTTP(w, r)
				if n.Add(1) == tt.flipAfter {
					sw.flip()
				}
			}))
			defer srv.Close()
			clk := clocktest.New()
			at, err := fixedPoll(context.Background(), srv.Client(), srv.URL+healthPath, want, tt.timeout, clk.Now, clk.Sleep)
			if (err != nil) != tt.wantErr {
				t.Fatalf("fixedPoll() error = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantSleeps, clk.Sleeps()); diff != "" {
				t.Errorf("fixedPoll() sleeps (-want +got):\n%s", diff)
			}
			if got := sw.served(fixedUserAgent); got != tt.wantProbes {
				t.Errorf("fixedPoll() sent %d requests, want %d", got, tt.wantProbes)
			}
			if !tt.wantErr && !at.Equal(clocktest.Start.Add(time.Duration(len(tt.wantSleeps))*time.Second)) {
				t.Errorf("fixedPoll() matched at %v, want after %d sleeps", at, len(tt.wantSleeps))
			}
		})
	}
}

// TestSwitcher: every surface switches at once, and a flip serves the identity next announced.
func TestSwitcher(t *testing.T) {
	t.Parallel()
	sw := newSwitcher()
	srv := httptest.NewServer(sw)
	defer srv.Close()
	read := func(path string) identity.Observation {
		t.Helper()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if path == healthPath {
			return identity.ExtractHealth(body)
		}
		h := identity.ExtractHeaders(resp.Header)
		if !h.Found {
			t.Errorf("%s: no identity headers", path)
		}
		return identity.ExtractWellKnown(body)
	}
	for range 2 {
		want := sw.next()
		before := read(healthPath)
		sw.flip()
		for _, path := range []string{healthPath, identity.WellKnownPath} {
			if got := identity.Compare(&want, read(path)).Status; got != identity.StatusMatch {
				t.Errorf("after flip, %s = %s, want match", path, got)
			}
		}
		if got := identity.Compare(&want, before).Status; got != identity.StatusMismatch {
			t.Errorf("before flip, health = %s, want mismatch", got)
		}
	}
}
