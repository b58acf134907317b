package bench

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/launchplane/runtime-identity/internal/clock"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/probe"
)

// probeUserAgent marks probe.Poll's requests.
const probeUserAgent = "runtime-identity-probe"

// poller is one side of the comparison: what it saw over every switch.
type poller struct {
	lags     []time.Duration // from each switch to the first matching answer
	polling  time.Duration   // time spent polling, summed over the switches
	requests int             // requests sent, summed over the switches
	deciding int             // requests to the deciding surface (the health URL)
}

// rate is n requests per second of polling. A poll's first request goes out at its start, so n
// requests span n-1 periods: the first request of each poll is not counted.
func (p poller) rate(n int) float64 {
	return float64(n-len(p.lags)) / p.polling.Seconds()
}

func (p *poller) add(begin, switched, matched time.Time) {
	p.lags = append(p.lags, matched.Sub(switched))
	p.polling += matched.Sub(begin)
}

// BenchmarkSwitchDetection: one iteration is one switch. Both pollers start polling for the next
// identity at the same time; the tenant switches at a random moment 100 ms to 1.1 s later (a
// uniform phase against both schedules); each poller's lag runs from the switch to its first
// matching answer. Run it with -benchtime Nx for N switches (see the package comment).
func BenchmarkSwitchDetection(b *testing.B) {
	sw := newSwitcher()
	srv := httptest.NewServer(sw)
	defer srv.Close()
	// Neither side keeps connections alive: the probe by design, Launchplane's urlopen by default.
	fixedClient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer fixedClient.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(10, 2026))
	const timeout = 30 * time.Second

	var pr, fx poller
	for b.Loop() {
		want := sw.next()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		var probeAt, fixedAt time.Time
		var probeErr, fixedErr error
		var wg sync.WaitGroup
		begin := time.Now()
		wg.Go(func() { probeAt, probeErr = pollProbe(ctx, srv.URL, want, timeout) })
		wg.Go(func() {
			fixedAt, fixedErr = fixedPoll(ctx, fixedClient, srv.URL+healthPath, want, timeout, time.Now, clock.Sleep)
		})
		time.Sleep(100*time.Millisecond + time.Duration(rng.Int64N(int64(time.Second))))
		switched := sw.flip()
		wg.Wait()
		cancel()
		if probeErr != nil || fixedErr != nil {
			b.Fatalf("probe: %v; reference: %v", probeErr, fixedErr)
		}
		pr.add(begin, switched, probeAt)
		fx.add(begin, switched, fixedAt)
	}
	pr.requests, pr.deciding = sw.served(probeUserAgent), sw.served(probeUserAgent, healthPath)
	fx.requests, fx.deciding = sw.served(fixedUserAgent), sw.served(fixedUserAgent, healthPath)

	b.ReportMetric(0, "ns/op") // the wall time of a switch says nothing about either poller
	for _, side := range []struct {
		name string
		p    poller
	}{{"probe", pr}, {"fixed1s", fx}} {
		b.ReportMetric(ms(percentile(side.p.lags, 50)), side.name+"-p50-ms")
		b.ReportMetric(ms(percentile(side.p.lags, 90)), side.name+"-p90-ms")
		b.ReportMetric(side.p.rate(side.p.requests), side.name+"-req/s")
		b.ReportMetric(side.p.rate(side.p.deciding), side.name+"-deciding-req/s")
		b.ReportMetric(float64(side.p.requests)/float64(len(side.p.lags)), side.name+"-req/switch")
	}
	b.ReportMetric(ms(percentile(fx.lags, 50))/ms(percentile(pr.lags, 50)), "p50-speedup-x")
	b.ReportMetric(ms(percentile(fx.lags, 90))/ms(percentile(pr.lags, 90)), "p90-speedup-x")
}

// pollProbe runs probe.Poll with its defaults on the tenant's health URL and base URL, and
// returns when its first matching answer arrived.
func pollProbe(ctx context.Context, base string, want identity.Identity, timeout time.Duration) (time.Time, error) {
	var matched time.Time
	res, err := probe.Poll(ctx, probe.Options{
		HealthURL: base + healthPath,
		BaseURL:   base,
		Expected:  &want,
		Timeout:   timeout,
		UserAgent: probeUserAgent,
		OnRound: func(r probe.Round) {
			if matched.IsZero() && r.Verdict.Status == identity.StatusMatch {
				matched = time.Now()
			}
		},
	})
	if err == nil && !res.Confirmed {
		err = context.DeadlineExceeded
	}
	return matched, err
}
