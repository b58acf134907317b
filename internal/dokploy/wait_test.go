package dokploy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/launchplane/runtime-identity/internal/clock"
)

func depRow(id, status, created string) Deployment {
	return Deployment{DeploymentID: id, Title: "Manual deployment", Status: status, CreatedAt: created, LogPath: "/logs/" + id}
}

var (
	oldRow     = depRow("old-1", StatusDone, "2026-08-21T09:00:00.000Z")
	newRunning = depRow("new-1", StatusRunning, "2026-08-21T12:00:05.000Z")
	newDone    = depRow("new-1", StatusDone, "2026-08-21T12:00:05.000Z")
	newError   = func() Deployment {
		d := depRow("new-1", StatusError, "2026-08-21T12:00:05.000Z")
		d.ErrorMessage = ptr("env " + redactedSecret + " rejected\nsecond line")
		return d
	}()
	newCancelled = depRow("new-1", StatusCancelled, "2026-08-21T12:00:05.000Z")
	newQueued    = depRow("new-1", "queued", "2026-08-21T12:00:05.000Z")
	newer2       = depRow("new-2", StatusRunning, "2026-08-21T12:00:09.000Z")
)

func appJob(state string) QueueJob {
	return QueueJob{ID: "job-1", Name: "deployments", State: state,
		Data: QueueJobData{ApplicationID: "app-1", Type: "deploy", ApplicationType: "application"}}
}

func composeJob(state string) QueueJob {
	return QueueJob{ID: "job-2", Name: "deployments", State: state,
		Data: QueueJobData{ComposeID: "cmp-1", Type: "deploy", ApplicationType: "compose"}}
}

// rolloutServer answers the deployment routes from scripts: the n-th list
// call gets rows[n] (the last entry repeats), the n-th queueList call
// queue[n], and listStatus[n] (1-based) replaces a list answer with an error.
//
// Rows without an applicationId or composeId are stamped as the target's
// own; a test sets the ids itself to serve rows of other services.
type rolloutServer struct {
	target     Target
	mu         sync.Mutex
	rows       [][]Deployment
	queue      [][]QueueJob
	listStatus map[int]int
	// hangList (1-based list calls) and hangQueue make those calls hang
	// until the client gives up: a Dokploy that stops answering.
	hangList  map[int]bool
	hangQueue bool
	// onRequest, when set, runs at the start of every list or queue call.
	onRequest  func()
	logs       string
	listCalls  int
	queueCalls int
	logTails   []string
}

func (s *rolloutServer) mount(t *testing.T, mux *http.ServeMux) {
	list := func(w http.ResponseWriter, r *http.Request) {
		testRequest(t, r, http.MethodGet)
		if s.onRequest != nil {
			s.onRequest()
		}
		s.mu.Lock()
		s.listCalls++
		n := s.listCalls
		rows := s.rows[min(n-1, len(s.rows)-1)]
		status := s.listStatus[n]
		hang := s.hangList[n]
		s.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		switch status {
		case 0:
		case http.StatusUnauthorized:
			writeJSON(w, status, `{"message":"Unauthorized"}`)
			return
		default:
			writeJSON(w, status, `{"message":"Internal server error","code":"INTERNAL_SERVER_ERROR"}`)
			return
		}
		owned := make([]Deployment, len(rows))
		for i, d := range rows {
			if d.ApplicationID == nil && d.ComposeID == nil {
				id := s.target.ID
				if s.target.Kind == KindCompose {
					d.ComposeID = &id
				} else {
					d.ApplicationID = &id
				}
			}
			owned[i] = d
		}
		data, _ := json.Marshal(owned)
		writeJSON(w, 200, string(data))
	}
	mux.HandleFunc("/api/deployment.all", list)
	mux.HandleFunc("/api/deployment.allByCompose", list)
	mux.HandleFunc("/api/deployment.queueList", func(w http.ResponseWriter, r *http.Request) {
		testRequest(t, r, http.MethodGet)
		if s.onRequest != nil {
			s.onRequest()
		}
		s.mu.Lock()
		s.queueCalls++
		hang := s.hangQueue
		s.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		s.mu.Lock()
		var jobs []QueueJob
		if len(s.queue) > 0 {
			jobs = s.queue[min(s.queueCalls-1, len(s.queue)-1)]
		}
		s.mu.Unlock()
		if jobs == nil {
			jobs = []QueueJob{}
		}
		data, _ := json.Marshal(jobs)
		writeJSON(w, 200, string(data))
	})
	mux.HandleFunc("/api/deployment.readLogs", func(w http.ResponseWriter, r *http.Request) {
		testRequest(t, r, http.MethodGet)
		s.mu.Lock()
		s.logTails = append(s.logTails, r.URL.Query().Get("tail"))
		logs := s.logs
		s.mu.Unlock()
		data, _ := json.Marshal(logs)
		writeJSON(w, 200, string(data))
	})
}

// progressKey is the part of a Progress a test compares.
type progressKey struct {
	Phase        Phase
	Status       string
	DeploymentID string
}

const redactedSecret = "hunter2-env-secret"

func redactTest(s string) string { return strings.ReplaceAll(s, redactedSecret, "***") }

func TestWaitRollout(t *testing.T) {
	t.Parallel()
	before := map[string]bool{"old-1": true}
	tests := []struct {
		name       string
		target     Target
		rows       [][]Deployment
		queue      [][]QueueJob
		listStatus map[int]int
		logs       string
		opts       WaitOptions

		wantID         string // the returned row (success) or the error's row
		wantErr        error
		wantText       string // substring of the error text
		wantElapsed    time.Duration
		wantProgress   []progressKey
		wantSawRunning bool
		wantOthers     []string
		wantLogTail    string
		wantLogTails   []string // tail parameters sent to readLogs
		wantListCalls  int
		wantQueueCalls int
	}{
		// The schedule: one request a second; the queue is read at t=1, 6,
		// 11, ... while it can tell something, the list the other seconds.
		{
			name:   "new row appears late",
			target: ApplicationTarget("app-1"),
			rows:   [][]Deployment{{oldRow}, {oldRow}, {oldRow}, {oldRow}, {oldRow}, {newRunning, oldRow}, {newDone, oldRow}},
			queue:  [][]QueueJob{{appJob("waiting")}, {appJob("active")}},
			wantID: "new-1", wantElapsed: 8 * time.Second, wantSawRunning: true,
			wantProgress: []progressKey{
				{PhaseQueued, "waiting", ""}, {PhaseActive, "active", ""},
				{PhaseRunning, StatusRunning, "new-1"}, {PhaseDone, StatusDone, "new-1"},
			},
			wantListCalls: 7, wantQueueCalls: 2, // lists at 0,2,3,4,5,7,8s; queue at 1,6s
		},
		{
			name:   "row created already running then done (compose)",
			target: ComposeTarget("cmp-1"),
			rows:   [][]Deployment{{newRunning, oldRow}, {newDone, oldRow}},
			queue:  [][]QueueJob{{composeJob("active")}},
			wantID: "new-1", wantElapsed: 2 * time.Second, wantSawRunning: true,
			wantProgress:  []progressKey{{PhaseRunning, StatusRunning, "new-1"}, {PhaseDone, StatusDone, "new-1"}},
			wantListCalls: 2, wantQueueCalls: 1,
		},
		{
			name:          "done at first sight",
			target:        ApplicationTarget("app-1"),
			rows:          [][]Deployment{{newDone, oldRow}},
			wantID:        "new-1",
			wantProgress:  []progressKey{{PhaseDone, StatusDone, "new-1"}},
			wantListCalls: 1,
		},
		{
			name:   "error with log tail redacted",
			target: ApplicationTarget("app-1"),
			rows:   [][]Deployment{{oldRow}, {newRunning, oldRow}, {newError, oldRow}},
			queue:  [][]QueueJob{{appJob("waiting")}},
			logs:   "Step 1/4\nDB_PASSWORD=" + redactedSecret + "\nx-api-key: " + testKey + "\nERROR: build failed",
			opts:   WaitOptions{Redact: redactTest},
			wantID: "new-1", wantErr: ErrRolloutFailed, wantText: `deployment new-1 ended with status "error"`,
			wantLogTail:  "Step 1/4\nDB_PASSWORD=***\nx-api-key: ***\nERROR: build failed",
			wantLogTails: []string{"40"},
			wantProgress: []progressKey{
				{PhaseQueued, "waiting", ""}, {PhaseRunning, StatusRunning, "new-1"}, {PhaseFailed, StatusError, "new-1"},
			},
			wantListCalls: 3, wantQueueCalls: 1,
		},
		{
			name:   "cancelled with custom tail",
			target: ApplicationTarget("app-1"),
			rows:   [][]Deployment{{newCancelled, oldRow}},
			opts:   WaitOptions{Redact: redactTest, LogTail: 5},
			wantID: "new-1", wantErr: ErrRolloutFailed, wantText: `ended with status "cancelled"`,
			wantLogTails:  []string{"5"},
			wantProgress:  []progressKey{{PhaseFailed, StatusCancelled, "new-1"}},
			wantListCalls: 1,
		},
		{
			name:   "error without redaction reads no log",
			target: ApplicationTarget("app-1"),
			rows:   [][]Deployment{{newError, oldRow}},
			logs:   "DB_PASSWORD=" + redactedSecret,
			wantID: "new-1", wantErr: ErrRolloutFailed,
			wantProgress:  []progressKey{{PhaseFailed, StatusError, "new-1"}},
			wantListCalls: 1,
		},
		{
			name:        "lost job",
			target:      ApplicationTarget("app-1"),
			rows:        [][]Deployment{{oldRow}},
			queue:       [][]QueueJob{{appJob("waiting")}, {}},
			wantErr:     ErrLostJob,
			wantText:    "dokploy: application app-1: deployment job lost after 1m1s (no deployment row yet)",
			wantElapsed: 61 * time.Second, // queue reads at 1,6,...,61s; the third miss past the 60s grace
			wantProgress: []progressKey{
				{PhaseQueued, "waiting", ""}, {PhasePending, "", ""},
			},
			wantListCalls: 49, wantQueueCalls: 13,
		},
		{
			name:        "lost job with a short grace, other jobs ignored",
			target:      ApplicationTarget("app-1"),
			rows:        [][]Deployment{{oldRow}},
			queue:       [][]QueueJob{{{ID: "job-9", State: "active", Data: QueueJobData{ApplicationID: "app-2"}}, {ID: "job-8", State: "waiting", Data: QueueJobData{ApplicationID: "app-1", ApplicationType: "application-preview"}}}},
			opts:        WaitOptions{GraceLost: 5 * time.Second},
			wantErr:     ErrLostJob,
			wantElapsed: 11 * time.Second, // the third queue read without the job
			wantProgress: []progressKey{
				{PhasePending, "", ""},
			},
			wantListCalls: 9, wantQueueCalls: 3,
		},
		{
			name:        "stuck running",
			target:      ApplicationTarget("app-1"),
			rows:        [][]Deployment{{newRunning, oldRow}},
			queue:       [][]QueueJob{{}},
			wantID:      "new-1",
			wantErr:     ErrStuckRunning,
			wantText:    `dokploy: application app-1: deployment stuck in running after 1m1s (deployment new-1, status "running")`,
			wantElapsed: 61 * time.Second, wantSawRunning: true, // no active job from 1s to 61s
			wantProgress:  []progressKey{{PhaseRunning, StatusRunning, "new-1"}},
			wantListCalls: 49, wantQueueCalls: 13,
		},
		{
			name:   "running with an active job is not stuck",
			target: ApplicationTarget("app-1"),
			rows: [][]Deployment{{newRunning}, {newRunning}, {newRunning}, {newRunning}, {newRunning}, {newRunning},
				{newRunning}, {newRunning}, {newRunning}, {newRunning}, {newRunning}, {newRunning}, {newDone}},
			queue:  [][]QueueJob{{appJob("active")}},
			opts:   WaitOptions{StuckAfter: 5 * time.Second}, // without the job: stuck at 11s
			wantID: "new-1", wantSawRunning: true, wantElapsed: 15 * time.Second,
			wantProgress:  []progressKey{{PhaseRunning, StatusRunning, "new-1"}, {PhaseDone, StatusDone, "new-1"}},
			wantListCalls: 13, wantQueueCalls: 3,
		},
		{
			name:        "timeout",
			target:      ApplicationTarget("app-1"),
			rows:        [][]Deployment{{oldRow}},
			queue:       [][]QueueJob{{appJob("waiting")}},
			opts:        WaitOptions{Timeout: 30 * time.Second},
			wantErr:     ErrRolloutTimeout,
			wantText:    "dokploy: application app-1: rollout deadline passed after 30s (no deployment row yet, job waiting)",
			wantElapsed: 30 * time.Second, // requests at 0..29s; none at the deadline itself
			wantProgress: []progressKey{
				{PhaseQueued, "waiting", ""},
			},
			wantListCalls: 24, wantQueueCalls: 6,
		},
		{
			name:   "unknown status tolerated, and the queue left alone meanwhile",
			target: ApplicationTarget("app-1"),
			rows:   [][]Deployment{{newQueued, oldRow}, {newQueued, oldRow}, {newRunning, oldRow}, {newDone, oldRow}},
			queue:  [][]QueueJob{{appJob("active")}},
			wantID: "new-1", wantSawRunning: true, wantElapsed: 4 * time.Second,
			wantProgress: []progressKey{
				{PhaseUnknown, "queued", "new-1"}, {PhaseRunning, StatusRunning, "new-1"}, {PhaseDone, StatusDone, "new-1"},
			},
			wantListCalls: 4, wantQueueCalls: 1, // lists at 0,1,2,4s; the queue read due at 1s waits for a running row
		},
		{
			name:       "401 mid-run",
			target:     ApplicationTarget("app-1"),
			rows:       [][]Deployment{{oldRow}},
			queue:      [][]QueueJob{{appJob("waiting")}},
			listStatus: map[int]int{3: http.StatusUnauthorized},
			wantErr:    ErrUnauthorized,
			wantText:   "dokploy: list deployments of application app-1: GET deployment.all: 401 Unauthorized: Unauthorized",
			wantProgress: []progressKey{
				{PhaseQueued, "waiting", ""},
			},
			wantListCalls: 3, wantQueueCalls: 1,
		},
		{
			name:       "5xx burst on a poll recovered",
			target:     ApplicationTarget("app-1"),
			rows:       [][]Deployment{{oldRow}, {oldRow}, {oldRow}, {newDone, oldRow}},
			queue:      [][]QueueJob{{appJob("waiting")}},
			listStatus: map[int]int{2: 503, 3: 502},
			wantID:     "new-1",
			// the list at 2s, then the client's 0.5s and 1s retries
			wantElapsed: 3500 * time.Millisecond,
			wantProgress: []progressKey{
				{PhaseQueued, "waiting", ""}, {PhaseDone, StatusDone, "new-1"},
			},
			wantListCalls: 4, wantQueueCalls: 1,
		},
		{
			name:   "a concurrent deployment: the oldest new row is ours",
			target: ApplicationTarget("app-1"),
			rows:   [][]Deployment{{newer2, newRunning, oldRow}, {newer2, newDone, oldRow}},
			queue:  [][]QueueJob{{appJob("active")}},
			wantID: "new-1", wantSawRunning: true, wantOthers: []string{"new-2"}, wantElapsed: 2 * time.Second,
			wantProgress:  []progressKey{{PhaseRunning, StatusRunning, "new-1"}, {PhaseDone, StatusDone, "new-1"}},
			wantListCalls: 2, wantQueueCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, clk := setup(t)
			srv := &rolloutServer{target: tt.target, rows: tt.rows, queue: tt.queue, listStatus: tt.listStatus, logs: tt.logs}
			srv.mount(t, mux)
			var got []progressKey
			opts := tt.opts
			opts.OnProgress = func(p Progress) { got = append(got, progressKey{p.Phase, p.Status, p.DeploymentID}) }
			start := clk.Now()

			r, err := c.WaitRollout(context.Background(), tt.target, before, opts)

			elapsed := clk.Now().Sub(start)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("WaitRollout() error = %v", err)
				}
				if r.Deployment.DeploymentID != tt.wantID {
					t.Errorf("Deployment = %v, want %v", r.Deployment.DeploymentID, tt.wantID)
				}
				if r.Elapsed != tt.wantElapsed {
					t.Errorf("Rollout.Elapsed = %v, want %v", r.Elapsed, tt.wantElapsed)
				}
				if r.SawRunning != tt.wantSawRunning {
					t.Errorf("SawRunning = %v, want %v", r.SawRunning, tt.wantSawRunning)
				}
				if diff := cmp.Diff(tt.wantOthers, r.Others); diff != "" {
					t.Errorf("Others mismatch (-want +got):\n%s", diff)
				}
				if tt.listStatus == nil && r.Polls != tt.wantListCalls {
					t.Errorf("Polls = %v, want %v", r.Polls, tt.wantListCalls)
				}
			} else {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("WaitRollout() error = %v, want %v", err, tt.wantErr)
				}
				if tt.wantText != "" && !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("error text = %q, want it to contain %q", err, tt.wantText)
				}
				checkWaitErrorRow(t, err, tt.wantID)
				for _, sentinel := range []error{ErrLostJob, ErrStuckRunning, ErrRolloutTimeout, ErrRolloutFailed, ErrUnauthorized} {
					if sentinel != tt.wantErr && errors.Is(err, sentinel) {
						t.Errorf("errors.Is(err, %v) = true, want only %v", sentinel, tt.wantErr)
					}
				}
			}
			if tt.wantElapsed != 0 && elapsed != tt.wantElapsed {
				t.Errorf("elapsed = %v, want %v (sleeps %v)", elapsed, tt.wantElapsed, clk.Sleeps())
			}
			var rf *RolloutFailedError
			if errors.As(err, &rf) {
				if rf.LogTail != tt.wantLogTail {
					t.Errorf("LogTail = %q, want %q", rf.LogTail, tt.wantLogTail)
				}
				if tt.opts.Redact == nil && rf.LogErr == nil {
					t.Error("LogErr = nil without Redact, want the reason the tail is missing")
				}
				if m := rf.Deployment.ErrorMessage; m != nil && (strings.Contains(*m, redactedSecret) || strings.Contains(*m, "\n")) {
					t.Errorf("Deployment.ErrorMessage = %q, want it redacted and on one line", *m)
				}
				if tt.opts.Redact != nil && rf.Deployment.ErrorMessage == nil && rf.Status == StatusError {
					t.Error("Deployment.ErrorMessage = nil, want the redacted message kept")
				}
				if strings.Contains(rf.Error(), "Step") || strings.Contains(rf.Error(), redactedSecret) {
					t.Errorf("Error() = %q carries the log", rf.Error())
				}
			}
			if diff := cmp.Diff(tt.wantProgress, got); diff != "" {
				t.Errorf("progress mismatch (-want +got):\n%s", diff)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if diff := cmp.Diff(tt.wantLogTails, srv.logTails); diff != "" {
				t.Errorf("readLogs tails mismatch (-want +got):\n%s", diff)
			}
			if srv.listCalls != tt.wantListCalls {
				t.Errorf("list calls = %v, want %v", srv.listCalls, tt.wantListCalls)
			}
			if srv.queueCalls != tt.wantQueueCalls {
				t.Errorf("queueList calls = %v, want %v", srv.queueCalls, tt.wantQueueCalls)
			}
		})
	}
}

// checkWaitErrorRow checks the row an error carries (none when wantID is "").
func checkWaitErrorRow(t *testing.T, err error, wantID string) {
	t.Helper()
	var got string
	var we *WaitError
	var rf *RolloutFailedError
	switch {
	case errors.As(err, &we):
		if we.Deployment != nil {
			got = we.Deployment.DeploymentID
		}
	case errors.As(err, &rf):
		got = rf.Deployment.DeploymentID
	}
	if got != wantID {
		t.Errorf("error row = %q, want %q", got, wantID)
	}
}

// TestWaitRolloutSchedule checks the fixed schedule: one request a slot,
// slots anchored at the start whatever a request takes, missed slots skipped,
// the queue read every QueueEvery-th request, and so at most 60 requests in a
// minute at the defaults.
func TestWaitRolloutSchedule(t *testing.T) {
	t.Parallel()
	s := time.Second
	ms := time.Millisecond
	repeat := func(d time.Duration, n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = d
		}
		return out
	}
	tests := []struct {
		name           string
		opts           WaitOptions
		requestTakes   time.Duration // fake time each request takes
		wantSleeps     []time.Duration
		wantListCalls  int
		wantQueueCalls int
	}{
		{
			name: "defaults: a minute is 60 requests, 12 of them queue reads",
			opts: WaitOptions{Timeout: time.Minute}, wantSleeps: repeat(s, 60),
			wantListCalls: 48, wantQueueCalls: 12,
		},
		{
			name: "slow requests do not stretch the schedule",
			opts: WaitOptions{Timeout: 10 * s}, requestTakes: 300 * ms, wantSleeps: repeat(700*ms, 10),
			wantListCalls: 8, wantQueueCalls: 2,
		},
		{
			name: "a request that overruns its slot skips the missed slots",
			opts: WaitOptions{Timeout: 10 * s}, requestTakes: 1500 * ms, wantSleeps: repeat(500*ms, 5),
			wantListCalls: 4, wantQueueCalls: 1, // requests at 0,2,4,6,8s
		},
		{
			name: "custom interval and queue share",
			opts: WaitOptions{Timeout: 5 * s, Interval: 500 * ms, QueueEvery: 2}, wantSleeps: repeat(500*ms, 10),
			wantListCalls: 5, wantQueueCalls: 5,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, clk := setup(t)
			srv := &rolloutServer{target: ApplicationTarget("app-1"), rows: [][]Deployment{{oldRow}},
				queue: [][]QueueJob{{appJob("waiting")}}, onRequest: func() { clk.Advance(tt.requestTakes) }}
			srv.mount(t, mux)
			_, err := c.WaitRollout(context.Background(), ApplicationTarget("app-1"), map[string]bool{"old-1": true}, tt.opts)
			if !errors.Is(err, ErrRolloutTimeout) {
				t.Fatalf("WaitRollout() error = %v, want ErrRolloutTimeout", err)
			}
			if diff := cmp.Diff(tt.wantSleeps, clk.Sleeps()); diff != "" {
				t.Errorf("poll delays mismatch (-want +got):\n%s", diff)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if srv.listCalls != tt.wantListCalls || srv.queueCalls != tt.wantQueueCalls {
				t.Errorf("list, queue calls = %d, %d; want %d, %d", srv.listCalls, srv.queueCalls, tt.wantListCalls, tt.wantQueueCalls)
			}
		})
	}
}

func TestWaitRolloutContextWins(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	srv := &rolloutServer{target: ApplicationTarget("app-1"), rows: [][]Deployment{{oldRow}}, queue: [][]QueueJob{{appJob("waiting")}}}
	srv.mount(t, mux)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := c.WaitRollout(ctx, ApplicationTarget("app-1"), map[string]bool{"old-1": true}, WaitOptions{
		OnProgress: func(Progress) { cancel() },
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitRollout() error = %v, want context.Canceled", err)
	}
	if srv.listCalls != 1 {
		t.Errorf("list calls = %v, want 1", srv.listCalls)
	}
}

func TestWaitRolloutInvalidTarget(t *testing.T) {
	t.Parallel()
	c, _, _ := setup(t)
	if _, err := c.WaitRollout(context.Background(), Target{Kind: "service", ID: "x"}, nil, WaitOptions{}); err == nil {
		t.Fatal("WaitRollout() error = nil, want an invalid target error")
	}
	if len(c.requestCounts()) != 0 {
		t.Errorf("Calls() = %v, want none", c.requestCounts())
	}
}

// TestWaitRolloutHappyPathCalls counts the API calls of a whole happy-path
// application deploy: read, write, re-read, snapshot, trigger, then the polls
// of a job that is queued once, runs once and is done.
func TestWaitRolloutHappyPathCalls(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t)
	mux.HandleFunc("/api/application.one", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, applicationJSON) })
	mux.HandleFunc("/api/application.saveEnvironment", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `true`) })
	mux.HandleFunc("/api/application.deploy", func(w http.ResponseWriter, r *http.Request) {})
	srv := &rolloutServer{
		target: ApplicationTarget("app-1"),
		rows:   [][]Deployment{{oldRow}, {oldRow}, {newRunning, oldRow}, {newDone, oldRow}},
		queue:  [][]QueueJob{{appJob("active")}},
	}
	srv.mount(t, mux)
	ctx := context.Background()
	tg := ApplicationTarget("app-1")
	st, err := c.Get(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteEnv(ctx, st, st.Env+"LAUNCHPLANE_DEPLOYMENT_RECORD_ID=deployment-1\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, tg); err != nil {
		t.Fatal(err)
	}
	before, err := c.Snapshot(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deploy(ctx, tg, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitRollout(ctx, tg, before, WaitOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"application.one":             2,
		"application.saveEnvironment": 1,
		"deployment.all":              4, // snapshot + polls at 0, 2, 3s
		"application.deploy":          1,
		"deployment.queueList":        1, // at 1s
	}
	if diff := cmp.Diff(want, c.requestCounts()); diff != "" {
		t.Errorf("Calls() mismatch (-want +got):\n%s", diff)
	}
}

func foreignRow(id, status, created string, app, compose *string) Deployment {
	d := depRow(id, status, created)
	d.ApplicationID, d.ComposeID = app, compose
	return d
}

// TestWaitRolloutForeignRows checks that rows of other services in the
// target's deployment list never decide the rollout and are reported.
func TestWaitRolloutForeignRows(t *testing.T) {
	t.Parallel()
	before := map[string]bool{"old-1": true}
	otherDone := foreignRow("other-9", StatusDone, "2026-08-21T12:00:09.000Z", ptr("app-2"), nil)
	otherOld := foreignRow("other-1", StatusDone, "2026-08-21T12:00:01.000Z", ptr("app-2"), nil)
	noOwner := foreignRow("server-3", StatusDone, "2026-08-21T12:00:08.000Z", ptr(""), nil)
	composeOther := foreignRow("cmp-row-7", StatusDone, "2026-08-21T12:00:07.000Z", nil, ptr("cmp-2"))
	tests := []struct {
		name        string
		target      Target
		rows        [][]Deployment
		queue       [][]QueueJob
		opts        WaitOptions
		wantID      string
		wantErr     error
		wantForeign []string
	}{
		{
			name:   "a newer done row of another application does not end the wait; ours fails",
			target: ApplicationTarget("app-1"),
			rows: [][]Deployment{{otherDone, oldRow}, {otherDone, newRunning, oldRow},
				{otherDone, newError, otherOld, oldRow}},
			queue:       [][]QueueJob{{appJob("active")}},
			opts:        WaitOptions{Redact: redactTest},
			wantID:      "new-1",
			wantErr:     ErrRolloutFailed,
			wantForeign: []string{"other-9", "other-1"},
		},
		{
			name:        "rows with an empty owner are not ours",
			target:      ApplicationTarget("app-1"),
			rows:        [][]Deployment{{noOwner, oldRow}, {noOwner, newDone, oldRow}},
			queue:       [][]QueueJob{{appJob("active")}},
			wantID:      "new-1",
			wantForeign: []string{"server-3"},
		},
		{
			name:        "compose: another compose's row",
			target:      ComposeTarget("cmp-1"),
			rows:        [][]Deployment{{composeOther, newRunning, oldRow}, {composeOther, newDone, oldRow}},
			queue:       [][]QueueJob{{composeJob("active")}},
			wantID:      "new-1",
			wantForeign: []string{"cmp-row-7"},
		},
		{
			name:        "only foreign rows: the job is lost, not done",
			target:      ApplicationTarget("app-1"),
			rows:        [][]Deployment{{otherDone, oldRow}},
			queue:       [][]QueueJob{{}},
			opts:        WaitOptions{GraceLost: 5 * time.Second},
			wantErr:     ErrLostJob,
			wantForeign: []string{"other-9"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			srv := &rolloutServer{target: tt.target, rows: tt.rows, queue: tt.queue}
			srv.mount(t, mux)
			r, err := c.WaitRollout(context.Background(), tt.target, before, tt.opts)
			var foreign []string
			var we *WaitError
			var rf *RolloutFailedError
			switch {
			case tt.wantErr == nil:
				if err != nil {
					t.Fatalf("WaitRollout() error = %v", err)
				}
				if r.Deployment.DeploymentID != tt.wantID {
					t.Errorf("Deployment = %v, want %v", r.Deployment.DeploymentID, tt.wantID)
				}
				foreign = r.Foreign
			case !errors.Is(err, tt.wantErr):
				t.Fatalf("WaitRollout() = %v, %v; want error %v", r, err, tt.wantErr)
			case errors.As(err, &we):
				foreign = we.Foreign
				checkWaitErrorRow(t, err, tt.wantID)
			case errors.As(err, &rf):
				foreign = rf.Foreign
				checkWaitErrorRow(t, err, tt.wantID)
			}
			if diff := cmp.Diff(tt.wantForeign, foreign); diff != "" {
				t.Errorf("Foreign mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWaitRolloutDeadlineBoundsRequests checks that a Dokploy that stops
// answering ends the wait at the rollout deadline with the rollout-timeout
// error, never with a transport timeout and never later. The guard context
// only catches a wait that would otherwise run until the HTTP client's
// backstop.
func TestWaitRolloutDeadlineBoundsRequests(t *testing.T) {
	t.Parallel()
	before := map[string]bool{"old-1": true}
	tests := []struct {
		name      string
		rows      [][]Deployment
		queue     [][]QueueJob
		hangList  map[int]bool
		hangQueue bool
		interval  time.Duration
		timeout   time.Duration
		realClock bool
		wantID    string // the row the error carries
	}{
		{name: "the first list call hangs", rows: [][]Deployment{{oldRow}}, hangList: map[int]bool{1: true},
			timeout: 300 * time.Millisecond},
		{name: "the queue hangs", rows: [][]Deployment{{oldRow}}, hangQueue: true, timeout: 1300 * time.Millisecond},
		// The second list call is at 2s, 300ms before the deadline.
		{name: "the list hangs mid-rollout", rows: [][]Deployment{{newRunning, oldRow}}, queue: [][]QueueJob{{appJob("active")}},
			hangList: map[int]bool{2: true}, timeout: 2300 * time.Millisecond, wantID: "new-1"},
		{name: "the list hangs mid-rollout, wall clock", rows: [][]Deployment{{newRunning, oldRow}}, queue: [][]QueueJob{{appJob("active")}},
			hangList: map[int]bool{2: true, 3: true, 4: true}, interval: 200 * time.Millisecond, timeout: time.Second,
			realClock: true, wantID: "new-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if tt.realClock {
				opts = append(opts, WithClock(time.Now), WithSleep(clock.Sleep))
			}
			c, mux, _ := setup(t, opts...)
			tg := ApplicationTarget("app-1")
			srv := &rolloutServer{target: tg, rows: tt.rows, queue: tt.queue, hangList: tt.hangList, hangQueue: tt.hangQueue}
			srv.mount(t, mux)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			_, err := c.WaitRollout(ctx, tg, before, WaitOptions{Timeout: tt.timeout, Interval: tt.interval})
			wall := time.Since(start)
			var we *WaitError
			if !errors.As(err, &we) || !errors.Is(err, ErrRolloutTimeout) {
				t.Fatalf("WaitRollout() error = %v, want the rollout-timeout *WaitError", err)
			}
			if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "context deadline") {
				t.Errorf("WaitRollout() error = %v, want no transport timeout in it", err)
			}
			if we.Elapsed < tt.timeout {
				t.Errorf("WaitError.Elapsed = %v, want at least the timeout %v", we.Elapsed, tt.timeout)
			}
			// A bound, not a measurement: the old client waited out its 30s
			// HTTP timeout four times.
			if wall > tt.timeout+5*time.Second {
				t.Errorf("WaitRollout() returned after %v, want it near the timeout %v", wall, tt.timeout)
			}
			checkWaitErrorRow(t, err, tt.wantID)
		})
	}
}

// TestWaitRolloutHostileFields follows a row whose id, title and status hold
// control characters: the wait still works, the values are carried as sent,
// and error text stays one clean line.
func TestWaitRolloutHostileFields(t *testing.T) {
	t.Parallel()
	const id = "new-1\r\n::error::pwned\x1b[2J\u2028x"
	running := depRow(id, StatusRunning, "2026-08-21T12:00:05.000Z")
	running.Title = "deploy\n::add-mask::nothing"
	weird := depRow(id, "running\n::warning::x", "2026-08-21T12:00:05.000Z")
	failed := depRow(id, StatusError, "2026-08-21T12:00:05.000Z")
	c, mux, _ := setup(t)
	tg := ApplicationTarget("app-1")
	srv := &rolloutServer{target: tg, rows: [][]Deployment{{running, oldRow}, {weird, oldRow}, {failed, oldRow}},
		queue: [][]QueueJob{{appJob("active")}}}
	srv.mount(t, mux)
	var got []progressKey
	_, err := c.WaitRollout(context.Background(), tg, map[string]bool{"old-1": true}, WaitOptions{
		OnProgress: func(p Progress) { got = append(got, progressKey{p.Phase, p.Status, p.DeploymentID}) },
	})
	var rf *RolloutFailedError
	if !errors.As(err, &rf) {
		t.Fatalf("WaitRollout() error = %v, want *RolloutFailedError", err)
	}
	if rf.Deployment.DeploymentID != id {
		t.Errorf("Deployment.DeploymentID = %q, want %q as sent", rf.Deployment.DeploymentID, id)
	}
	want := []progressKey{{PhaseRunning, StatusRunning, id}, {PhaseUnknown, "running\n::warning::x", id}, {PhaseFailed, StatusError, id}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress mismatch (-want +got):\n%s", diff)
	}
	checkOneLine(t, err.Error())
}

func checkOneLine(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 {
			t.Fatalf("text %q holds control character %U", s, r)
		}
	}
}

func FuzzWaitErrorText(f *testing.F) {
	for _, s := range []string{"new-1", "a\nb", "\r\n::error::x", "\x1b[2J", "\u2028\u202e", strings.Repeat("é", 300), "\xff\xfe"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, id, status string) {
		row := &Deployment{DeploymentID: id, Status: status}
		for _, err := range []error{
			&WaitError{Err: ErrStuckRunning, Target: ApplicationTarget("app-1"), Deployment: row, Status: status},
			&WaitError{Err: ErrLostJob, Target: ApplicationTarget("app-1"), Status: status},
			&RolloutFailedError{Target: ComposeTarget("cmp-1"), Deployment: row, Status: status},
		} {
			checkOneLine(t, err.Error())
		}
		checkOneLine(t, SafeText(id))
	})
}
