package probe

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/clock/clocktest"
	"github.com/launchplane/runtime-identity/internal/identity"
)

// alternating is a rollout behind one URL: for the first k requests old and new replicas take
// turns (old first), after that only the new one answers.
func alternating(k int) func(int) reply {
	return func(n int) reply {
		if n <= k && n%2 == 1 {
			return healthReply(oldID)
		}
		return healthReply(newID)
	}
}

// TestPollRollout is the acceptance case of issue 2: a stale-then-new rollout is confirmed only
// once the answers are consistently new.
func TestPollRollout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		k             int // requests during which old and new alternate
		confirmations int
		timeout       time.Duration
		// Rounds are one second apart, round n at n-1 seconds.
		wantAttempts    int
		wantConfirmed   bool
		wantTimeToMatch time.Duration
		wantStreak      int
		wantStatuses    string // one letter per round: o old (mismatch), n new (match)
	}{
		{
			// o n o n o n o n o | n n n n: the first four consecutive new answers are rounds 10-13.
			name: "4 confirmations wait for the alternation to end", k: 9, confirmations: 4, timeout: time.Minute,
			wantAttempts: 13, wantConfirmed: true, wantTimeToMatch: 12 * time.Second, wantStreak: 4,
			wantStatuses: "onononononnnn",
		},
		{
			// o n o n o n o n | n n n: the last alternating new answer starts the run (rounds 8-11).
			name: "a run may start inside the alternation", k: 8, confirmations: 4, timeout: time.Minute,
			wantAttempts: 11, wantConfirmed: true, wantTimeToMatch: 10 * time.Second, wantStreak: 4,
			wantStatuses: "ononononnnn",
		},
		{
			name: "2 confirmations", k: 9, confirmations: 2, timeout: time.Minute,
			wantAttempts: 11, wantConfirmed: true, wantTimeToMatch: 10 * time.Second, wantStreak: 2,
			wantStatuses: "onononononn",
		},
		{
			name: "1 confirmation takes the first new answer", k: 9, confirmations: 1, timeout: time.Minute,
			wantAttempts: 2, wantConfirmed: true, wantTimeToMatch: time.Second, wantStreak: 1,
			wantStatuses: "on",
		},
		{
			name: "the deadline passes during the alternation", k: 100, confirmations: 4, timeout: 7 * time.Second,
			wantAttempts: 7, wantConfirmed: false, wantStreak: 0,
			wantStatuses: "ononono",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false, map[string]func(int) reply{healthPath: alternating(tt.k)})
			clk := clocktest.New()
			var statuses strings.Builder
			var rounds []Round
			res, err := Poll(context.Background(), Options{
				HealthURL:     tn.URL + healthPath,
				Expected:      &newID,
				Timeout:       tt.timeout,
				Interval:      time.Second,
				Confirmations: tt.confirmations,
				Now:           clk.Now,
				Sleep:         clk.Sleep,
				OnRound: func(r Round) {
					rounds = append(rounds, r)
					switch r.Verdict.Status {
					case identity.StatusMatch:
						statuses.WriteByte('n')
					case identity.StatusMismatch:
						statuses.WriteByte('o')
					default:
						statuses.WriteByte('?')
					}
				},
			})
			if err != nil {
				t.Fatalf("Poll() error = %v", err)
			}
			if got := statuses.String(); got != tt.wantStatuses {
				t.Errorf("Poll() round statuses = %q, want %q", got, tt.wantStatuses)
			}
			if res.Attempts != tt.wantAttempts {
				t.Errorf("Poll() attempts = %d, want %d", res.Attempts, tt.wantAttempts)
			}
			if res.Confirmed != tt.wantConfirmed {
				t.Errorf("Poll() confirmed = %v, want %v", res.Confirmed, tt.wantConfirmed)
			}
			if res.TimedOut == tt.wantConfirmed {
				t.Errorf("Poll() timed out = %v, want %v", res.TimedOut, !tt.wantConfirmed)
			}
			if res.TimeToMatch != tt.wantTimeToMatch {
				t.Errorf("Poll() time to match = %s, want %s", res.TimeToMatch, tt.wantTimeToMatch)
			}
			if res.Confirmations != tt.wantStreak || res.Required != tt.confirmations {
				t.Errorf("Poll() confirmations = %d of %d, want %d of %d", res.Confirmations, res.Required, tt.wantStreak, tt.confirmations)
			}
			wantFirst := map[identity.Status]time.Duration{identity.StatusMismatch: 0, identity.StatusMatch: time.Second}
			if diff := cmp.Diff(wantFirst, res.FirstSeen); diff != "" {
				t.Errorf("Poll() first seen (-want +got):\n%s", diff)
			}
			for i, r := range rounds {
				if r.N != i+1 || r.At != time.Duration(i)*time.Second {
					t.Errorf("round %d: N = %d, At = %s, want %d, %s", i, r.N, r.At, i+1, time.Duration(i)*time.Second)
				}
			}
			last := rounds[len(rounds)-1]
			if diff := cmp.Diff(last, res.Last); diff != "" {
				t.Errorf("Poll() last round differs from the last reported one (-want +got):\n%s", diff)
			}
			if res.Verdict.Status != last.Verdict.Status || res.Surface != identity.SurfaceHealth || res.URL != tn.URL+healthPath {
				t.Errorf("Poll() = %s from %s %s, want %s from health %s", res.Verdict.Status, res.Surface, res.URL, last.Verdict.Status, tn.URL+healthPath)
			}
			if got := len(tn.received()); got != tt.wantAttempts {
				t.Errorf("tenant received %d requests, want %d", got, tt.wantAttempts)
			}
		})
	}
}

func TestPollDeadline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		timeout      time.Duration
		interval     time.Duration
		wantAttempts int
		wantSleeps   []time.Duration
	}{
		{"whole intervals", 5 * time.Second, time.Second, 5, []time.Duration{time.Second, time.Second, time.Second, time.Second, time.Second}},
		{"the last sleep ends at the deadline", 2500 * time.Millisecond, time.Second, 3, []time.Duration{time.Second, time.Second, 500 * time.Millisecond}},
		{"an interval longer than the timeout", 3 * time.Second, 10 * time.Second, 1, []time.Duration{3 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tn := newTenant(t, false, map[string]func(int) reply{healthPath: always(healthReply(oldID))})
			clk := clocktest.New()
			res, err := Poll(context.Background(), Options{
				HealthURL: tn.URL + healthPath,
				Expected:  &newID,
				Timeout:   tt.timeout,
				Interval:  tt.interval,
				Now:       clk.Now,
				Sleep:     clk.Sleep,
			})
			if err != nil {
				t.Fatalf("Poll() error = %v", err)
			}
			if !res.TimedOut || res.Confirmed {
				t.Errorf("Poll() timed out = %v, confirmed = %v, want true, false", res.TimedOut, res.Confirmed)
			}
			if res.Verdict.Status != identity.StatusMismatch || res.Last.Verdict.Status != identity.StatusMismatch {
				t.Errorf("Poll() status = %s, want the last observation %s", res.Verdict.Status, identity.StatusMismatch)
			}
			if diff := cmp.Diff([]string{"deployment_record_id", "artifact_id", "source_git_ref"}, res.Verdict.Mismatched); diff != "" {
				t.Errorf("Poll() mismatched (-want +got):\n%s", diff)
			}
			if res.Attempts != tt.wantAttempts || res.Last.N != tt.wantAttempts {
				t.Errorf("Poll() attempts = %d (last round %d), want %d", res.Attempts, res.Last.N, tt.wantAttempts)
			}
			if res.Elapsed != tt.timeout {
				t.Errorf("Poll() elapsed = %s, want %s", res.Elapsed, tt.timeout)
			}
			if res.TimeToMatch != 0 {
				t.Errorf("Poll() time to match = %s, want 0", res.TimeToMatch)
			}
			if diff := cmp.Diff(map[identity.Status]time.Duration{identity.StatusMismatch: 0}, res.FirstSeen); diff != "" {
				t.Errorf("Poll() first seen (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSleeps, clk.Sleeps()); diff != "" {
				t.Errorf("Poll() sleeps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPollFirstSeen walks a tenant through every status on its way to the match.
func TestPollFirstSeen(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false, map[string]func(int) reply{healthPath: seq(
		reply{status: http.StatusBadGateway, body: "bad gateway"},
		reply{body: `{"status":"starting"}`},
		reply{body: `{"runtime_identity":"{not json"}`},
		healthReply(oldID),
		reply{body: `{"status":"ok"}`},
		healthReply(newID),
	)})
	clk := clocktest.New()
	res, err := Poll(context.Background(), Options{
		HealthURL: tn.URL + healthPath,
		Expected:  &newID,
		Interval:  2 * time.Second,
		Now:       clk.Now,
		Sleep:     clk.Sleep,
	})
	if err != nil {
		t.Fatalf("Poll() error = %v", err)
	}
	want := map[identity.Status]time.Duration{
		identity.StatusUnverifiable: 0,
		identity.StatusMissing:      2 * time.Second,
		identity.StatusMalformed:    4 * time.Second,
		identity.StatusMismatch:     6 * time.Second,
		identity.StatusMatch:        10 * time.Second,
	}
	if diff := cmp.Diff(want, res.FirstSeen); diff != "" {
		t.Errorf("Poll() first seen (-want +got):\n%s", diff)
	}
	if res.Attempts != 6 || !res.Confirmed || res.TimeToMatch != 10*time.Second || res.Verdict.Status != identity.StatusMatch {
		t.Errorf("Poll() = %d attempts, confirmed %v after %s, %s; want 6, true, 10s, match", res.Attempts, res.Confirmed, res.TimeToMatch, res.Verdict.Status)
	}
}

func TestPollUnchecked(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false, map[string]func(int) reply{healthPath: always(healthReply(oldID))})
	clk := clocktest.New()
	res, err := Poll(context.Background(), Options{HealthURL: tn.URL + healthPath, Confirmations: 3, Now: clk.Now, Sleep: clk.Sleep})
	if err != nil {
		t.Fatalf("Poll() error = %v", err)
	}
	if res.Verdict.Status != identity.StatusUnchecked || res.Attempts != 1 || res.Required != 0 || res.Confirmed || res.TimedOut {
		t.Errorf("Poll() = %s, %d attempts, required %d, confirmed %v, timed out %v; want unchecked, 1, 0, false, false",
			res.Verdict.Status, res.Attempts, res.Required, res.Confirmed, res.TimedOut)
	}
	dec, ok := res.Last.Decided()
	if !ok || !dec.Observation.Found || dec.Observation.Identity != oldID {
		t.Errorf("Poll() observed %+v, want the tenant's identity", dec.Observation.Identity)
	}
	if len(clk.Sleeps()) != 0 {
		t.Errorf("Poll() slept %v, want no sleep", clk.Sleeps())
	}
}

func TestPollCancel(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false, map[string]func(int) reply{healthPath: always(healthReply(oldID))})
	clk := clocktest.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Poll(ctx, Options{
		HealthURL: tn.URL + healthPath,
		Expected:  &newID,
		Now:       clk.Now,
		Sleep:     clk.Sleep,
		OnRound: func(r Round) {
			if r.N == 2 {
				cancel()
			}
		},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll() error = %v, want context.Canceled", err)
	}
	if res.Attempts != 2 || res.Verdict.Status != identity.StatusMismatch || res.TimedOut {
		t.Errorf("Poll() = %d attempts, %s, timed out %v; want 2, mismatch, false", res.Attempts, res.Verdict.Status, res.TimedOut)
	}
}

// TestPollCancelDuringRequest: a cancelled ctx wins over a request in flight, and the cancelled
// round is not reported as the tenant's answer.
func TestPollCancelDuringRequest(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	tn := newTenant(t, false, map[string]func(int) reply{healthPath: func(n int) reply {
		if n == 2 {
			once.Do(cancel)
			return reply{block: true}
		}
		return healthReply(oldID)
	}})
	clk := clocktest.New()
	res, err := Poll(ctx, Options{HealthURL: tn.URL + healthPath, Expected: &newID, Now: clk.Now, Sleep: clk.Sleep})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll() error = %v, want context.Canceled", err)
	}
	if res.Attempts != 1 || res.Verdict.Status != identity.StatusMismatch {
		t.Errorf("Poll() = %d attempts, %s; want 1, mismatch", res.Attempts, res.Verdict.Status)
	}
}

// TestRequests checks what the tenant actually receives: cache bypass headers, a unique
// cache-busting parameter next to the URL's own query, and the recorded URLs without either.
func TestRequests(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false, map[string]func(int) reply{
		healthPath:             always(healthReply(newID)),
		identity.WellKnownPath: always(wellKnownReply(newID)),
	})
	u, err := url.Parse(tn.URL)
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktest.New()
	var all []bool
	res, err := Poll(context.Background(), Options{
		OnRound:       func(r Round) { all = append(all, r.AllSurfaces) },
		HealthURL:     "http://probe:s3cret@" + u.Host + healthPath + "?verbose=1",
		BaseURL:       tn.URL + "/",
		Expected:      &newID,
		Confirmations: 3,
		UserAgent:     "probe-test/1",
		Now:           clk.Now,
		Sleep:         clk.Sleep,
	})
	if err != nil {
		t.Fatalf("Poll() error = %v", err)
	}
	if !res.Confirmed || res.Attempts != 3 {
		t.Fatalf("Poll() confirmed = %v after %d attempts, want true after 3", res.Confirmed, res.Attempts)
	}
	// The health JSON is read every round, the well-known document only on the confirming one.
	if diff := cmp.Diff([]bool{false, false, true}, all); diff != "" {
		t.Errorf("Poll() rounds reading every surface (-want +got):\n%s", diff)
	}
	reqs := tn.received()
	if len(reqs) != 4 {
		t.Fatalf("tenant received %d requests, want 4", len(reqs))
	}
	if got := tn.conns.Load(); got != int64(len(reqs)) {
		t.Errorf("tenant saw %d connections for %d requests, want a fresh one per request", got, len(reqs))
	}
	seen := map[string]bool{}
	paths := map[string]int{}
	for _, r := range reqs {
		paths[r.Path]++
		for k, want := range map[string]string{"Cache-Control": "no-cache", "Pragma": "no-cache", "Accept": "application/json", "User-Agent": "probe-test/1"} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s: header %s = %q, want %q", r.Path, k, got, want)
			}
		}
		if !r.Close {
			t.Errorf("%s: the request keeps its connection alive, want a fresh one per request", r.Path)
		}
		q, err := url.ParseQuery(r.Query)
		if err != nil {
			t.Fatalf("%s: query %q: %v", r.Path, r.Query, err)
		}
		token := q.Get(QueryParam)
		if token == "" || seen[token] {
			t.Errorf("%s: %s = %q, want a non-empty value no other request had", r.Path, QueryParam, token)
		}
		seen[token] = true
		if r.Path == healthPath && q.Get("verbose") != "1" {
			t.Errorf("%s: query %q lost the URL's own verbose=1", r.Path, r.Query)
		}
		user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
		if r.Path == healthPath && (!ok || user != "probe" || pass != "s3cret") {
			t.Errorf("%s: basic auth = %q, %q, %v, want the URL's credentials", r.Path, user, pass, ok)
		}
	}
	if diff := cmp.Diff(map[string]int{healthPath: 3, identity.WellKnownPath: 1}, paths); diff != "" {
		t.Errorf("tenant paths (-want +got):\n%s", diff)
	}
	var urls []string
	for _, a := range res.Last.Answers {
		urls = append(urls, string(a.Surface)+" "+a.URL)
	}
	wantURLs := []string{
		"health http://" + u.Host + healthPath,
		"well-known " + tn.URL + identity.WellKnownPath,
		"headers http://" + u.Host + healthPath,
		"headers " + tn.URL + identity.WellKnownPath,
	}
	if diff := cmp.Diff(wantURLs, urls); diff != "" {
		t.Errorf("recorded URLs (-want +got):\n%s", diff)
	}
	if res.URL != "http://"+u.Host+healthPath {
		t.Errorf("Poll() URL = %q, want it without credentials or query", res.URL)
	}
}

func TestWellKnownUnderPrefix(t *testing.T) {
	t.Parallel()
	tn := newTenant(t, false, map[string]func(int) reply{"/app" + identity.WellKnownPath: always(wellKnownReply(newID))})
	r, err := Once(context.Background(), Options{BaseURL: tn.URL + "/app/", Expected: &newID})
	if err != nil {
		t.Fatalf("Once() error = %v", err)
	}
	if r.Verdict.Status != identity.StatusMatch || r.DecidingURL != tn.URL+"/app"+identity.WellKnownPath {
		t.Errorf("Once() = %s from %s, want match from %s", r.Verdict.Status, r.DecidingURL, tn.URL+"/app"+identity.WellKnownPath)
	}
}

func TestOptionsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no URL", Options{}, "neither a health URL nor a base URL"},
		{"bad scheme", Options{HealthURL: "ftp://example.com/health"}, "health URL must start with http:// or https://"},
		{"no scheme", Options{BaseURL: "example.com"}, "base URL must start with http:// or https://"},
		{"no host", Options{HealthURL: "http:///health"}, "health URL has no host"},
		{"unparsable", Options{HealthURL: "http://[::1/health"}, "health URL is not a valid URL"},
		{"negative timeout", Options{BaseURL: "http://x", Timeout: -time.Second}, "timeout -1s is negative"},
		{"negative request timeout", Options{BaseURL: "http://x", RequestTimeout: -time.Second}, "request timeout -1s is negative"},
		{"negative interval", Options{BaseURL: "http://x", Interval: -time.Second}, "interval -1s is negative"},
		{"interval under the floor", Options{BaseURL: "http://x", Interval: 99 * time.Millisecond}, "interval 99ms is under 100ms: at most 10 requests/s"},
		{"negative confirmations", Options{BaseURL: "http://x", Confirmations: -1}, "confirmations -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Poll(context.Background(), tt.opts)
			if !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Poll() error = %v, want ErrOptions with %q", err, tt.want)
			}
			_, err = Once(context.Background(), tt.opts)
			if !errors.Is(err, ErrOptions) {
				t.Errorf("Once() error = %v, want ErrOptions", err)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"path and query", "https://syo.example.com/api/health?x=1#f", "https://syo.example.com", false},
		{"port and credentials", "http://u:p@127.0.0.1:8080/health", "http://127.0.0.1:8080", false},
		{"not http", "file:///etc/passwd", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Origin(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Origin(%q) = %q, %v, want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
