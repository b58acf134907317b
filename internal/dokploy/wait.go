package dokploy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/launchplane/runtime-identity/internal/logtext"
	"github.com/launchplane/runtime-identity/internal/retry"
)

// Errors of WaitRollout, matched with errors.Is. Each comes wrapped in a
// *WaitError.
var (
	// ErrLostJob: no new deployment row appeared and the queue stopped
	// listing a job for the target (Dokploy restarted and lost its in-memory
	// queue, or the job crashed before creating its row).
	ErrLostJob = errors.New("deployment job lost")
	// ErrStuckRunning: the new row stays "running" while the queue shows no
	// active job for the target.
	ErrStuckRunning = errors.New("deployment stuck in running")
	// ErrRolloutTimeout: the rollout deadline passed first.
	ErrRolloutTimeout = errors.New("rollout deadline passed")
	// ErrRolloutFailed matches a *RolloutFailedError.
	ErrRolloutFailed = errors.New("deployment failed")
)

// WaitError reports a rollout that could not be followed to its end: its Err
// is ErrLostJob, ErrStuckRunning or ErrRolloutTimeout. Its fields carry what
// Dokploy sent as is; Error() makes that text one safe line.
type WaitError struct {
	Err    error
	Target Target
	// Deployment is the new row, nil when none appeared.
	Deployment *Deployment
	// Status is the last status seen: the row's, or the queue state.
	Status  string
	Elapsed time.Duration
	// Foreign lists rows of other services that the target's deployment
	// list held; they were ignored.
	Foreign []string
}

// Error implements error. Text from Dokploy in it is cleaned: one line, no
// control characters, bounded.
func (e *WaitError) Error() string {
	s := fmt.Sprintf("dokploy: %s: %v after %s", e.Target, e.Err, e.Elapsed.Round(time.Second))
	switch {
	case e.Deployment != nil:
		s += fmt.Sprintf(" (deployment %s, status %q)", SafeText(e.Deployment.DeploymentID), SafeText(e.Status))
	case e.Status != "":
		s += fmt.Sprintf(" (no deployment row yet, %s)", SafeText(e.Status))
	default:
		s += " (no deployment row yet)"
	}
	return s
}

// Unwrap returns the sentinel.
func (e *WaitError) Unwrap() error { return e.Err }

// RolloutFailedError reports a deployment that ended in "error" or
// "cancelled". It matches ErrRolloutFailed. Its fields carry what Dokploy
// sent as is (the log tail redacted); Error() makes that text one safe line.
type RolloutFailedError struct {
	Target     Target
	Deployment *Deployment
	Status     string
	// LogTail is the redacted end of the deployment log, "" when there is
	// none, when it could not be read (LogErr) or when no Redact was given.
	LogTail string
	LogErr  error
	// Foreign lists rows of other services that the target's deployment
	// list held; they were ignored.
	Foreign []string
}

// Error implements error. It never includes the log tail; text from Dokploy
// in it is cleaned.
func (e *RolloutFailedError) Error() string {
	return fmt.Sprintf("dokploy: %s: deployment %s ended with status %q", e.Target, SafeText(e.Deployment.DeploymentID), SafeText(e.Status))
}

// maxFieldRunes bounds a row field (an id, a status) quoted in text.
const maxFieldRunes = 100

// SafeText returns s, a field Dokploy sent (an id, a status, a title, a
// name), as one bounded line without line breaks or other control
// characters, ready to log. Fields of Progress, Rollout, Deployment,
// Candidate and the errors carry Dokploy's text as sent; Error() methods
// clean it themselves.
func SafeText(s string) string { return logtext.Truncate(logtext.OneLine(s), maxFieldRunes) }

// Is reports whether target is ErrRolloutFailed.
func (e *RolloutFailedError) Is(target error) bool { return target == ErrRolloutFailed }

// Phase is where a rollout stands.
type Phase string

// Rollout phases reported through WaitOptions.OnProgress.
const (
	// PhasePending: no new row, and the queue lists no job for the target.
	PhasePending Phase = "pending"
	// PhaseQueued: no new row, the job waits in the queue.
	PhaseQueued Phase = "queued"
	// PhaseActive: no new row yet, the worker has picked the job up.
	PhaseActive Phase = "active"
	// PhaseRunning: the new row is running.
	PhaseRunning Phase = "running"
	// PhaseUnknown: the new row has a status this client does not know
	// (Status holds it); the wait goes on.
	PhaseUnknown Phase = "unknown"
	// PhaseDone: the new row is done.
	PhaseDone Phase = "done"
	// PhaseFailed: the new row ended in error or cancelled.
	PhaseFailed Phase = "failed"
)

// Progress is one change in a rollout's state. Status and DeploymentID are
// Dokploy's text as sent: clean them (SafeText) before logging.
type Progress struct {
	Phase Phase
	// Status is the row status or queue state as Dokploy reported it.
	Status       string
	DeploymentID string
	Elapsed      time.Duration
	// Poll counts deployment list polls so far.
	Poll int
}

// WaitOptions tune WaitRollout. Zero values take the defaults.
type WaitOptions struct {
	// Timeout bounds the whole wait (default 10m); no request outlives it.
	Timeout time.Duration
	// Interval is the poll period (default 1s). Requests run on a fixed
	// schedule anchored at the start (start, start+Interval, ...), one per
	// slot, so request time does not stretch it; a request that overruns its
	// slot skips the slots it missed instead of catching up.
	Interval time.Duration
	// QueueEvery makes every QueueEvery-th request (default 5, at least 2)
	// a read of deployment.queueList in place of the deployment list, while
	// the queue can tell something: before a new row exists (queued, active,
	// lost) and while it runs (stuck). The second request is the first queue
	// read. At the defaults that is 60 requests a minute, 12 of them queue
	// reads, and a row's end is seen within a slot or two.
	QueueEvery int
	// LostPolls and GraceLost: the job counts as lost when no new row exists,
	// the queue has listed no job for the target on LostPolls consecutive
	// queue reads (default 3), and GraceLost (default 60s) has passed since
	// the wait began.
	LostPolls int
	GraceLost time.Duration
	// StuckPolls and StuckAfter: the new row counts as stuck when it is
	// running while the queue shows no active job for the target on
	// StuckPolls consecutive queue reads (default 3) spanning at least
	// StuckAfter (default 60s).
	StuckPolls int
	StuckAfter time.Duration
	// LogTail is how many log lines a failed deployment reports (default 40).
	LogTail int
	// Redact masks secrets in the log tail. Without it the log tail is not
	// read at all: it may echo env values.
	Redact func(string) string
	// OnProgress, when set, is called each time the phase, status or row
	// changes.
	OnProgress func(Progress)
}

func (o WaitOptions) withDefaults() WaitOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, 10*time.Minute)
	def(&o.Interval, time.Second)
	def(&o.GraceLost, 60*time.Second)
	def(&o.StuckAfter, 60*time.Second)
	if o.QueueEvery <= 0 {
		o.QueueEvery = 5
	}
	o.QueueEvery = max(o.QueueEvery, 2) // the list needs slots of its own
	if o.LostPolls <= 0 {
		o.LostPolls = 3
	}
	if o.StuckPolls <= 0 {
		o.StuckPolls = 3
	}
	if o.LogTail <= 0 {
		o.LogTail = 40
	}
	return o
}

// Rollout is a deployment followed to "done". Done means Dokploy handed the
// new version over (docker service update accepted, compose up returned), not
// that it serves: verify over HTTP next.
type Rollout struct {
	Deployment *Deployment
	Elapsed    time.Duration
	// Polls counts deployment list polls; QueueReads counts queue reads.
	Polls, QueueReads int
	// SawRunning is false when the row was already done at its first sight.
	SawRunning bool
	// Others lists further new rows seen for the target: deployments
	// triggered by someone else meanwhile.
	Others []string
	// Foreign lists rows of other services that the target's deployment
	// list held. They never decide the rollout; a caller may warn about them.
	Foreign []string
}

// WaitRollout follows the deployment triggered right after the snapshot
// before (ids of the target's rows taken just before the trigger) until it
// ends. It polls the target's deployment list for a row of the target whose
// id is not in before, on a fixed schedule of one request per opts.Interval
// (1s); every opts.QueueEvery-th request (5th) reads deployment.queueList
// instead, to tell queued from active before the row exists, and to notice a
// lost job or a row stuck in running. When several new rows appear it follows
// the oldest. Rows of other services never count; they are reported in
// Foreign.
//
// It returns the row once it is "done". "error" and "cancelled" give a
// *RolloutFailedError carrying the redacted log tail. A vanished job, a row
// stuck in "running" and the deadline give a *WaitError wrapping ErrLostJob,
// ErrStuckRunning or ErrRolloutTimeout; every request ends at the deadline,
// and one it cuts short gives the rollout-timeout error too. Statuses it does
// not know keep it waiting. API errors end the wait at once (a 401 matches
// ErrUnauthorized), and so does ctx.
func (c *Client) WaitRollout(ctx context.Context, t Target, before map[string]bool, opts WaitOptions) (*Rollout, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	w := &waiter{c: c, t: t, before: before, o: o, start: c.now(), seenForeign: map[string]bool{}}
	w.deadline = w.start.Add(o.Timeout)
	// The first queue read is the second request: early enough to tell
	// "queued" from "pending", after a first look at the list.
	w.sinceQueue = o.QueueEvery - 2
	for slot := int64(0); ; {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("dokploy: wait for %s rollout: %w", t, err)
		}
		if now := c.now(); !now.Before(w.deadline) {
			return nil, w.fail(ErrRolloutTimeout, now)
		}
		r, err := w.step(ctx)
		if r != nil || err != nil {
			return r, w.wrap(ctx, err)
		}
		// The next slot after now: slots stay anchored at the start, and a
		// request that overran its slot skips the ones it missed.
		now := c.now()
		slot = max(slot+1, int64(now.Sub(w.start)/o.Interval)+1)
		next := w.start.Add(time.Duration(slot) * o.Interval)
		if err := c.sleep(ctx, min(next.Sub(now), w.deadline.Sub(now))); err != nil {
			return nil, fmt.Errorf("dokploy: wait for %s rollout: %w", t, err)
		}
	}
}

// waiter holds one WaitRollout's state between polls.
type waiter struct {
	c      *Client
	t      Target
	before map[string]bool
	o      WaitOptions
	start  time.Time
	// deadline is start + Timeout: no request outlives it.
	deadline time.Time

	polls      int
	queueReads int
	sinceQueue int // requests since the last queue read
	row        *Deployment
	status     string
	sawRunning bool
	others     []string
	lostPolls  int
	stuckPolls int
	stuckSince time.Time
	last       Progress

	foreign     []string
	seenForeign map[string]bool
}

// errDeadlinePassed marks a request that the rollout deadline cut short.
var errDeadlinePassed = errors.New("rollout deadline passed during a request")

// bounded runs one API call with a context that ends at the rollout
// deadline, so no request outlives it. A call the deadline cut short, or
// whose retry would have waited past it, returns errDeadlinePassed.
func (w *waiter) bounded(ctx context.Context, call func(context.Context) error) error {
	left := w.deadline.Sub(w.c.now())
	if left <= 0 {
		return errDeadlinePassed
	}
	rctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	err := call(rctx)
	if err != nil && ctx.Err() == nil && (rctx.Err() != nil || errors.Is(err, retry.ErrDeadline)) {
		return errDeadlinePassed
	}
	return err
}

// wrap turns errDeadlinePassed into the rollout-timeout *WaitError and the
// caller's cancellation into a wrapped ctx error; other errors pass as is.
func (w *waiter) wrap(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errDeadlinePassed):
		e := w.fail(ErrRolloutTimeout, w.c.now())
		// The deadline passed in wall-clock time even when an injected clock
		// stood still during the request.
		e.Elapsed = max(e.Elapsed, w.o.Timeout)
		return e
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return fmt.Errorf("dokploy: wait for %s rollout: %w", w.t, err)
	}
	return err
}

// step makes the request of one slot: a queue read when one is due and the
// queue can tell something, a deployment list poll otherwise. It returns a
// result or an error when the wait is over, nil and nil to go on.
func (w *waiter) step(ctx context.Context) (*Rollout, error) {
	queueHelps := w.row == nil || w.row.Status == StatusRunning
	if queueHelps && w.sinceQueue >= w.o.QueueEvery-1 {
		w.sinceQueue = 0
		return nil, w.readQueue(ctx)
	}
	w.sinceQueue++
	return w.poll(ctx)
}

// poll reads the deployment list once.
func (w *waiter) poll(ctx context.Context) (*Rollout, error) {
	var rows []Deployment
	err := w.bounded(ctx, func(ctx context.Context) error {
		var err error
		rows, err = w.c.Deployments(ctx, w.t)
		return err
	})
	if err != nil {
		return nil, err
	}
	w.polls++
	row, others, foreign := newestRows(rows, w.before, w.t)
	for _, id := range foreign {
		if !w.seenForeign[id] {
			w.seenForeign[id] = true
			w.foreign = append(w.foreign, id)
		}
	}
	if row != nil {
		w.row, w.others = row, others
	}
	if w.row == nil {
		return nil, nil
	}
	w.lostPolls = 0
	w.status = w.row.Status
	switch w.row.Status {
	case StatusDone:
		w.report(PhaseDone, StatusDone)
		return &Rollout{Deployment: w.row, Elapsed: w.elapsed(), Polls: w.polls, QueueReads: w.queueReads,
			SawRunning: w.sawRunning, Others: w.others, Foreign: w.foreign}, nil
	case StatusError, StatusCancelled:
		w.report(PhaseFailed, w.row.Status)
		return nil, w.failed(ctx)
	case StatusRunning:
		w.sawRunning = true
		w.report(PhaseRunning, StatusRunning)
		return nil, nil
	default:
		w.stuckPolls = 0
		w.report(PhaseUnknown, w.row.Status)
		return nil, nil
	}
}

// readQueue reads the queue once: before the row exists it reports the job's
// queue state and decides whether the job is lost; while the row runs it
// decides whether the row is stuck.
func (w *waiter) readQueue(ctx context.Context) error {
	jobs, err := w.queue(ctx)
	if err != nil {
		return err
	}
	w.queueReads++
	if w.row != nil {
		return w.checkStuck(jobs)
	}
	return w.checkLost(jobs)
}

// checkLost runs while no new row exists: it reports the job's queue state
// and decides whether the job is lost.
func (w *waiter) checkLost(jobs []QueueJob) error {
	job := findJob(jobs, w.t, false)
	if job == nil {
		w.lostPolls++
		w.status = ""
		w.report(PhasePending, "")
		if now := w.c.now(); w.lostPolls >= w.o.LostPolls && now.Sub(w.start) >= w.o.GraceLost {
			return w.fail(ErrLostJob, now)
		}
		return nil
	}
	w.lostPolls = 0
	w.status = "job " + job.State
	switch job.State {
	case "active":
		w.report(PhaseActive, job.State)
	default:
		w.report(PhaseQueued, job.State)
	}
	return nil
}

// queue reads the deployment queue within the rollout deadline.
func (w *waiter) queue(ctx context.Context) ([]QueueJob, error) {
	var jobs []QueueJob
	err := w.bounded(ctx, func(ctx context.Context) error {
		var err error
		jobs, err = w.c.Deployment.QueueList(ctx)
		return err
	})
	return jobs, err
}

// checkStuck runs while the new row is running: a running row needs an
// active job behind it.
func (w *waiter) checkStuck(jobs []QueueJob) error {
	if findJob(jobs, w.t, true) != nil {
		w.stuckPolls = 0
		return nil
	}
	now := w.c.now()
	if w.stuckPolls == 0 {
		w.stuckSince = now
	}
	w.stuckPolls++
	if w.stuckPolls >= w.o.StuckPolls && now.Sub(w.stuckSince) >= w.o.StuckAfter {
		return w.fail(ErrStuckRunning, now)
	}
	return nil
}

// failed builds the *RolloutFailedError of a row in error or cancelled.
func (w *waiter) failed(ctx context.Context) error {
	row := *w.row
	e := &RolloutFailedError{Target: w.t, Deployment: &row, Status: row.Status, Foreign: w.foreign}
	redact := w.o.Redact
	if redact == nil {
		e.LogErr = errors.New("log tail not read: no redaction given")
		row.ErrorMessage = nil
		return e
	}
	unkey := func(s string) string {
		if w.c.apiKey == "" {
			return s
		}
		return strings.ReplaceAll(s, w.c.apiKey, "***")
	}
	if row.ErrorMessage != nil {
		m := newScrubber(nil)(redact(unkey(*row.ErrorMessage)))
		row.ErrorMessage = &m
	}
	// The row has ended: the deadline cutting the log read short leaves the
	// failure as it is, without its log.
	var tail string
	err := w.bounded(ctx, func(ctx context.Context) error {
		var err error
		tail, err = w.c.Deployment.ReadLogs(ctx, row.DeploymentID, w.o.LogTail)
		return err
	})
	if err != nil {
		e.LogErr = err
		return e
	}
	e.LogTail = redact(unkey(tail))
	return e
}

// fail builds a *WaitError.
func (w *waiter) fail(sentinel error, now time.Time) *WaitError {
	e := &WaitError{Err: sentinel, Target: w.t, Status: w.status, Elapsed: now.Sub(w.start), Foreign: w.foreign}
	if w.row != nil {
		row := *w.row
		e.Deployment = &row
	}
	return e
}

func (w *waiter) elapsed() time.Duration { return w.c.now().Sub(w.start) }

// report calls OnProgress when something changed.
func (w *waiter) report(phase Phase, status string) {
	p := Progress{Phase: phase, Status: status, Elapsed: w.elapsed(), Poll: w.polls}
	if w.row != nil {
		p.DeploymentID = w.row.DeploymentID
	}
	if w.o.OnProgress == nil || (p.Phase == w.last.Phase && p.Status == w.last.Status && p.DeploymentID == w.last.DeploymentID) {
		return
	}
	w.last = p
	w.o.OnProgress(p)
}

// newestRows returns the oldest of the target's own rows not in before
// (ours: it was queued right after the snapshot), the ids of the other new
// rows of the target, and the ids of rows of other services, which never
// count.
func newestRows(rows []Deployment, before map[string]bool, t Target) (ours *Deployment, others, foreign []string) {
	var fresh []Deployment
	for i, r := range rows {
		switch {
		case r.DeploymentID == "":
		case !t.Owns(r):
			foreign = append(foreign, r.DeploymentID)
		case !before[r.DeploymentID] && !r.IsPreviewDeployment:
			fresh = append(fresh, rows[i])
		}
	}
	if len(fresh) == 0 {
		return nil, nil, foreign
	}
	// Rows come newest first; re-sort by createdAt only when every one
	// parses, then take the last.
	times := make([]time.Time, len(fresh))
	sortable := true
	for i, r := range fresh {
		t, err := time.Parse(time.RFC3339Nano, r.CreatedAt)
		times[i], sortable = t, sortable && err == nil
	}
	if sortable {
		idx := make([]int, len(fresh))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return times[idx[a]].After(times[idx[b]]) })
		sorted := make([]Deployment, len(fresh))
		for i, k := range idx {
			sorted[i] = fresh[k]
		}
		fresh = sorted
	}
	row := fresh[len(fresh)-1]
	for _, r := range fresh[:len(fresh)-1] {
		others = append(others, r.DeploymentID)
	}
	return &row, others, foreign
}

// findJob returns a queued job of the target (only an active one when
// activeOnly). Preview jobs of an application are not its own.
func findJob(jobs []QueueJob, t Target, activeOnly bool) *QueueJob {
	for i, j := range jobs {
		if activeOnly && j.State != "active" {
			continue
		}
		switch t.Kind {
		case KindApplication:
			if j.Data.ApplicationID == t.ID && j.Data.ApplicationType != "application-preview" {
				return &jobs[i]
			}
		case KindCompose:
			if j.Data.ComposeID == t.ID {
				return &jobs[i]
			}
		}
	}
	return nil
}
