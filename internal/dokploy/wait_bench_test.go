package dokploy

import (
	"context"
	"flag"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/clock"
)

// benchScale runs the rollout scenario faster than life: every duration of
// the scenario (poll intervals, rollout phases, server latency) is multiplied
// by it, and reported figures are divided by it again, so they read in real
// seconds. At 1 the scenario runs in real time.
var benchScale = flag.Float64("rollout-scale", 0.05, "time scale of BenchmarkRolloutEndDetection (1 = real time)")

// scenario is one rollout on the loopback fake: no row until rowAt, then a
// running row until endAt, then done; the queue lists the job as waiting,
// then active, then not at all, as Dokploy's queue does.
type scenario struct {
	rowAt, endAt time.Time
	latency      func() time.Duration
}

func (sc *scenario) mount(mux *http.ServeMux) {
	old := `{"deploymentId":"old-1","title":"t","status":"done","logPath":"/l","applicationId":"app-1","createdAt":"2026-08-21T09:00:00.000Z"}`
	row := func(status string) string {
		return `{"deploymentId":"new-1","title":"t","status":"` + status + `","logPath":"/l","applicationId":"app-1","createdAt":"2026-08-21T12:00:05.000Z"}`
	}
	mux.HandleFunc("/api/deployment.all", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(sc.latency())
		now := time.Now()
		switch {
		case now.Before(sc.rowAt):
			writeJSON(w, 200, "["+old+"]")
		case now.Before(sc.endAt):
			writeJSON(w, 200, "["+row(StatusRunning)+","+old+"]")
		default:
			writeJSON(w, 200, "["+row(StatusDone)+","+old+"]")
		}
	})
	mux.HandleFunc("/api/deployment.queueList", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(sc.latency())
		now := time.Now()
		state := "active"
		switch {
		case now.Before(sc.rowAt):
			state = "waiting"
		case !now.Before(sc.endAt):
			writeJSON(w, 200, `[]`)
			return
		}
		writeJSON(w, 200, `[{"id":"job-1","name":"deployments","state":"`+state+`","data":{"applicationId":"app-1","type":"deploy","applicationType":"application"}}]`)
	})
}

// pollResult is what one poller saw of one scenario.
type pollResult struct {
	lag      time.Duration // from the row's end to the poller noticing it
	requests int
	// busy is how long the poller held its schedule: from the trigger to
	// the end of the slot of its last request. Requests over busy is its
	// rate; without the last slot, n requests would count over n-1 slots.
	busy time.Duration
}

// referencePoll is the reference: a fixed 3s poller that lists the rows and
// reads the queue on every poll until the row is done.
func referencePoll(ctx context.Context, c *Client, interval time.Duration) error {
	t := ApplicationTarget("app-1")
	start := time.Now()
	for k := 1; ; k++ {
		rows, err := c.Deployments(ctx, t)
		if err != nil {
			return err
		}
		if row, _, _ := newestRows(rows, map[string]bool{"old-1": true}, t); row != nil && row.Status == StatusDone {
			return nil
		}
		if _, err := c.Deployment.QueueList(ctx); err != nil {
			return err
		}
		if err := clock.Sleep(ctx, time.Until(start.Add(time.Duration(k)*interval))); err != nil {
			return err
		}
	}
}

// BenchmarkRolloutEndDetection measures how long after a rollout ends each
// poller notices it, and how many requests a minute it sends, for the
// default WaitRollout schedule and for a reference fixed 3s poller, both
// following the same rollouts side by side. Each iteration is one rollout
// whose row appears 0.5-3s after the trigger and ends 1-20s later, with
// 30-120ms of server latency per request, all scaled by -rollout-scale.
// Figures are in real (unscaled) seconds. Run it with a fixed count, e.g.
//
//	go test -run '^$' -bench RolloutEndDetection -benchtime 200x ./internal/dokploy/
func BenchmarkRolloutEndDetection(b *testing.B) {
	scale := *benchScale
	if scale <= 0 {
		b.Fatalf("-rollout-scale = %v, want > 0", scale)
	}
	sd := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	rng := rand.New(rand.NewPCG(1, 2)) // the same rollouts on every run
	uniform := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo))) }
	var mu sync.Mutex
	latencyRng := rand.New(rand.NewPCG(3, 4))
	latency := func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return sd(30*time.Millisecond + time.Duration(latencyRng.Int64N(int64(90*time.Millisecond))))
	}
	real := []Option{WithClock(time.Now), WithSleep(clock.Sleep)}
	var ours, ref []pollResult
	for b.Loop() {
		trigger := time.Now()
		sc := &scenario{latency: latency}
		sc.rowAt = trigger.Add(sd(uniform(500*time.Millisecond, 3*time.Second)))
		sc.endAt = sc.rowAt.Add(sd(uniform(time.Second, 20*time.Second)))
		cNew, mux, _ := setup(b, real...)
		sc.mount(mux)
		cRef, muxRef, _ := setup(b, real...)
		sc.mount(muxRef)
		ctx := context.Background()

		var wg sync.WaitGroup
		var errNew, errRef error
		var doneNew, doneRef time.Time
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, errNew = cNew.WaitRollout(ctx, ApplicationTarget("app-1"), map[string]bool{"old-1": true}, WaitOptions{
				Timeout: sd(10 * time.Minute), Interval: sd(time.Second),
				GraceLost: sd(time.Minute), StuckAfter: sd(time.Minute),
			})
			doneNew = time.Now()
		}()
		go func() {
			defer wg.Done()
			errRef = referencePoll(ctx, cRef, sd(3*time.Second))
			doneRef = time.Now()
		}()
		wg.Wait()
		if errNew != nil || errRef != nil {
			b.Fatalf("WaitRollout() = %v, reference = %v; want both done", errNew, errRef)
		}
		count := func(c *Client) int {
			n := 0
			for _, v := range c.requestCounts() {
				n += v
			}
			return n
		}
		ours = append(ours, pollResult{doneNew.Sub(sc.endAt), count(cNew), doneNew.Sub(trigger) + sd(time.Second)})
		ref = append(ref, pollResult{doneRef.Sub(sc.endAt), count(cRef), doneRef.Sub(trigger) + sd(3*time.Second)})
	}
	for _, p := range []struct {
		name string
		rs   []pollResult
	}{{"new", ours}, {"ref3s", ref}} {
		lags := make([]time.Duration, len(p.rs))
		var requests int
		var busy time.Duration
		for i, r := range p.rs {
			lags[i] = r.lag
			requests += r.requests
			busy += r.busy
		}
		slices.Sort(lags)
		unscale := func(d time.Duration) float64 { return d.Seconds() / scale }
		b.ReportMetric(unscale(quantile(lags, 0.5)), p.name+"-lag-p50-s")
		b.ReportMetric(unscale(quantile(lags, 0.9)), p.name+"-lag-p90-s")
		b.ReportMetric(float64(requests)/unscale(busy)*60, p.name+"-req/min")
	}
	b.ReportMetric(0, "ns/op") // one iteration is one scenario; its duration says nothing
}

// quantile returns the q-quantile of sorted (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
