package dokploytest

import (
	"testing"
	"time"
)

// TestServingAlone follows ServingAlone through rollouts: the first backend serves alone from
// Start; a rollout's stale and mixed windows are not alone; the switch moment is the end of the
// windows, and every request from then on reaches the new backend.
func TestServingAlone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replicas int
		stale    time.Duration
		mixed    time.Duration
	}{
		{name: "one replica: the switch ends the stale window", replicas: 1, stale: time.Second, mixed: time.Hour},
		{name: "two replicas: the switch ends the mixed window", replicas: 2, stale: 500 * time.Millisecond, mixed: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newServer(t, setup{process: true, opts: Options{StaleWindow: tt.stale, MixedWindow: tt.mixed}})
			s.AddApplication(App{ID: "app1", Env: identityEnv("old"), Replicas: tt.replicas})
			if _, ok := s.ServingAlone("app1"); ok {
				t.Errorf("ServingAlone() before Start = ok, want not ok")
			}
			before := time.Now()
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
			first, ok := s.ServingAlone("app1")
			if !ok || first.Before(before) || first.After(time.Now()) {
				t.Errorf("ServingAlone() after Start = %v, %v, want ok at a moment during Start (from %v)", first, ok, before)
			}
			if _, ok := s.ServingAlone("nope"); ok {
				t.Errorf("ServingAlone(unknown id) = ok, want not ok")
			}

			saveEnv(t, s, "app1", identityEnv("new"))
			deploy(t, s, "app1")
			eventually(t, "done", func() bool {
				rs := rows(t, s, kindApplication, "app1")
				return len(rs) == 1 && rs[0]["status"] == "done"
			})
			done := time.Now()
			if since, ok := s.ServingAlone("app1"); ok {
				t.Errorf("ServingAlone() right after done = %v, ok, want not ok inside the windows", since)
			}
			eventually(t, "the switch", func() bool { _, ok := s.ServingAlone("app1"); return ok })
			since, _ := s.ServingAlone("app1")
			windows := tt.stale
			if tt.replicas > 1 {
				windows += tt.mixed
			}
			// The windows start when the row turns done, which happened before done was seen.
			if lo, hi := done.Add(windows-time.Second), done.Add(windows); since.Before(lo) || since.After(hi) {
				t.Errorf("ServingAlone() = %v, want the end of the windows, between %v and %v", since, lo, hi)
			}
			for range 4 {
				if got := identity(t, s, "app1"); got != identityJSON("new") {
					t.Fatalf("identity after ServingAlone = %s, want the new one", got)
				}
			}
			if again, ok := s.ServingAlone("app1"); !ok || !again.Equal(since) {
				t.Errorf("ServingAlone() once promoted = %v, %v, want %v, true", again, ok, since)
			}
		})
	}
}
