package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/launchplane/runtime-identity/internal/clock"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
	"github.com/launchplane/runtime-identity/internal/probe"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// Defaults of a run.
const (
	// DefaultConcurrency is how many lanes are probed at once.
	DefaultConcurrency = 32
	// MaxConcurrency bounds --concurrency.
	MaxConcurrency = 1024
	// DefaultTimeout bounds each lane, confirmations included.
	DefaultTimeout = 10 * time.Second
	// DefaultConfirmInterval is the pause between the rounds that confirm a match.
	DefaultConfirmInterval = 200 * time.Millisecond
	// MaxConfirmations bounds --confirmations.
	MaxConfirmations = 20
)

// Limits on what one lane's result keeps of a tenant's answer.
const (
	// MaxObservedBytes caps the observed identity kept as reported; a larger one is replaced by
	// {"_cut": true, "bytes": N, "reason": "..."}.
	MaxObservedBytes = 4 << 10
	valueRunes       = 300  // one field value
	detailRunes      = 1000 // the detail
	noteRunes        = 500  // one note
	maxNotes         = 10
)

// Prober probes lanes with a bounded pool of workers, each lane once (and again only to confirm a
// match), with the classification verify uses.
type Prober struct {
	// Concurrency is how many lanes are probed at once. Default DefaultConcurrency.
	Concurrency int
	// Timeout bounds each lane, confirmations included. Default DefaultTimeout.
	Timeout time.Duration
	// Confirmations is how many consecutive matching rounds confirm a match. Default 1.
	Confirmations int
	// Interval is the pause between confirming rounds. Default DefaultConfirmInterval.
	Interval time.Duration
	// Client sends the requests; nil: the probe's default.
	Client *http.Client
	// UserAgent is sent with every request; empty: the probe's default.
	UserAgent string
	// Now and Sleep are the clock. Defaults: time.Now and clock.Sleep.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// OnResult, when set, is called after each lane, one call at a time, with how many lanes are
	// done and the lane's result.
	OnResult func(done, total int, r LaneResult)
}

func (p *Prober) fill() {
	if p.Concurrency <= 0 {
		p.Concurrency = DefaultConcurrency
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.Confirmations <= 0 {
		p.Confirmations = 1
	}
	if p.Interval <= 0 {
		p.Interval = DefaultConfirmInterval
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Sleep == nil {
		p.Sleep = clock.Sleep
	}
}

// Probe probes every lane and returns their results in the lanes' order. When ctx ends, the lanes
// not yet probed are reported unverifiable ("cancelled") and Probe returns at once.
func (p Prober) Probe(ctx context.Context, lanes []Lane) []LaneResult {
	p.fill()
	out := make([]LaneResult, len(lanes))
	next := make(chan int)
	var (
		mu   sync.Mutex
		done int
		wg   sync.WaitGroup
	)
	report := func(i int, r LaneResult) {
		out[i] = r
		if p.OnResult == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		p.OnResult(done, len(lanes), r)
	}
	for range min(p.Concurrency, len(lanes)) {
		wg.Go(func() {
			for i := range next {
				report(i, p.lane(ctx, lanes[i]))
			}
		})
	}
	i := 0
feed:
	for ; i < len(lanes); i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for ; i < len(lanes); i++ {
		report(i, notProbed(lanes[i], "the inventory was cancelled before this lane was probed"))
	}
	return out
}

// notProbed is the result of a lane that was not probed.
func notProbed(l Lane, why string) LaneResult {
	r := baseResult(l)
	r.Status = identity.StatusUnverifiable
	r.Detail = "Runtime identity could not be checked: " + why
	r.TrustState = summary.TrustStateOf(r.Status, l.Expected != nil)
	return r
}

func baseResult(l Lane) LaneResult {
	return LaneResult{
		Product:            l.Product,
		Context:            l.Context,
		Instance:           l.Instance,
		Expected:           l.Expected,
		ExpectedFrom:       l.ExpectedFrom,
		DeploymentRecordID: l.DeploymentRecordID,
		RequireIdentity:    l.RequireIdentity,
		Mismatched:         []string{},
		Fields:             []FieldDiff{},
		Notes:              append([]string{}, l.notes...),
	}
}

// lane probes one lane: one round, and more only while a match is being confirmed. A non-match
// ends the lane at once: an inventory reports what serves now, it does not wait for a rollout.
func (p Prober) lane(ctx context.Context, l Lane) LaneResult {
	if l.NotProbed != "" {
		return notProbed(l, l.NotProbed)
	}
	if ctx.Err() != nil {
		return notProbed(l, "the inventory was cancelled before this lane was probed")
	}
	opts := probe.Options{
		HealthURL:      l.HealthURL,
		BaseURL:        l.BaseURL,
		Expected:       l.Expected,
		RequestTimeout: min(probe.DefaultRequestTimeout, p.Timeout),
		Client:         p.Client,
		UserAgent:      p.UserAgent,
		Now:            p.Now,
		Sleep:          p.Sleep,
	}
	if opts.BaseURL == "" {
		// As verify does: the health URL's origin serves the well-known document and headers.
		if origin, err := probe.Origin(l.HealthURL); err == nil {
			opts.BaseURL = origin
		}
	}
	deadline := p.Now().Add(p.Timeout)
	var (
		last        probe.Round
		rounds      int
		streak      int
		unconfirmed bool
	)
	for {
		opts.Timeout = deadline.Sub(p.Now())
		if opts.Timeout <= 0 {
			unconfirmed = true
			break
		}
		r, err := probe.Once(ctx, opts)
		if err != nil {
			if ctx.Err() != nil {
				return notProbed(l, "the inventory was cancelled while this lane was probed")
			}
			return notProbed(l, "it could not be probed ("+err.Error()+")")
		}
		rounds++
		last = r
		if l.Expected == nil || r.Verdict.Status != identity.StatusMatch {
			break
		}
		streak++
		if streak >= p.Confirmations {
			break
		}
		remaining := deadline.Sub(p.Now())
		if remaining <= 0 {
			unconfirmed = true
			break
		}
		if err := p.Sleep(ctx, min(p.Interval, remaining)); err != nil {
			return notProbed(l, "the inventory was cancelled while this lane was probed")
		}
	}
	res := p.result(l, last, rounds)
	switch {
	case unconfirmed:
		// A match seen, but not enough in a row: old and new may both still serve. Calling it a
		// match is the mistake the confirmation rule exists to prevent.
		res.Status = identity.StatusUnverifiable
		res.Detail = fmt.Sprintf("A match was seen but not confirmed: %d of %d consecutive answers matched before the lane timeout %s; old and new replicas may both still be serving.", streak, p.Confirmations, p.Timeout)
		res.TrustState = summary.TrustStateOf(res.Status, true)
	case streak > 0 && last.Verdict.Status != identity.StatusMatch:
		res.Notes = append(res.Notes, fmt.Sprintf("%d answer(s) in a row matched before this one: old and new replicas may both be serving", streak))
	}
	return res
}

// result turns the last round into the lane's result, cutting every value the tenant reported.
func (p Prober) result(l Lane, r probe.Round, rounds int) LaneResult {
	res := baseResult(l)
	v := r.Verdict
	res.URL, res.Surface = r.DecidingURL, string(r.Deciding)
	res.Status = v.Status
	res.Detail = logtext.Truncate(v.Detail, detailRunes)
	res.TrustState = summary.TrustStateOf(v.Status, l.Expected != nil)
	res.Attempts = rounds
	res.LatencyMS = r.Duration.Milliseconds()
	for _, m := range v.Mismatched {
		res.Mismatched = append(res.Mismatched, logtext.Truncate(m, valueRunes))
	}
	for _, f := range v.Fields {
		res.Fields = append(res.Fields, FieldDiff{
			Field:    logtext.Truncate(f.Field, valueRunes),
			Expected: logtext.Truncate(f.Expected, valueRunes),
			Observed: logtext.Truncate(f.Observed, valueRunes),
			Result:   f.Result,
		})
	}
	for i, n := range v.Notes {
		if i == maxNotes {
			res.Notes = append(res.Notes, fmt.Sprintf("… and %d more notes", len(v.Notes)-maxNotes))
			break
		}
		res.Notes = append(res.Notes, logtext.Truncate(n, noteRunes))
	}
	if a, ok := r.Decided(); ok {
		res.HTTPStatus = a.StatusCode
		if a.Surface != identity.SurfaceHeaders {
			res.Observed = cutObserved(a.Observation.Raw)
		}
		if l.Expected == nil && a.Observation.Found {
			res.Fields = observedOnly(a.Observation.Identity)
		}
	}
	return res
}

// observedOnly lists what an unchecked lane serves, so the fleet view shows it.
func observedOnly(id identity.Identity) []FieldDiff {
	var m map[string]any
	b, _ := json.Marshal(id)
	_ = json.Unmarshal(b, &m)
	out := make([]FieldDiff, 0, len(m))
	for _, name := range identityFields() {
		var s string
		switch v := m[name].(type) {
		case string:
			s = v
		case float64:
			s = fmt.Sprint(v)
		}
		out = append(out, FieldDiff{Field: name, Observed: logtext.Truncate(s, valueRunes), Result: identity.ResultNotCompared})
	}
	return out
}

// cutObserved keeps the observed identity as reported, or null; a value over MaxObservedBytes
// or one that is not JSON is replaced by a marker object.
func cutObserved(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	marker := func(reason string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"_cut":true,"bytes":%d,"reason":%q}`, len(raw), reason))
	}
	if len(raw) > MaxObservedBytes {
		return marker(fmt.Sprintf("larger than %d bytes", MaxObservedBytes))
	}
	if !json.Valid(raw) {
		return marker("not valid JSON")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return marker("not valid JSON")
	}
	return b.Bytes()
}
