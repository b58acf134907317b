package dokploytest

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// row is one deployment row.
type row struct {
	seq         int
	id          string
	svc         *service
	title       string
	description string
	status      string
	logPath     string
	createdAt   time.Time
	startedAt   time.Time
	finishedAt  time.Time
	log         []string
}

func (r *row) json() map[string]any {
	m := map[string]any{
		"deploymentId":        r.id,
		"title":               r.title,
		"description":         r.description,
		"status":              r.status,
		"logPath":             r.logPath,
		"pid":                 nil,
		"applicationId":       nil,
		"composeId":           nil,
		"serverId":            nil,
		"isPreviewDeployment": false,
		"previewDeploymentId": nil,
		"createdAt":           fmtTime(r.createdAt),
		"startedAt":           fmtNullTime(r.startedAt),
		"finishedAt":          fmtNullTime(r.finishedAt),
		"errorMessage":        nil,
		"scheduleId":          nil,
		"backupId":            nil,
		"rollbackId":          nil,
		"volumeBackupId":      nil,
		"buildServerId":       nil,
	}
	if r.svc.kind == kindApplication {
		m["applicationId"] = r.svc.id
	} else {
		m["composeId"] = r.svc.id
	}
	return m
}

// job is one queued deployment.
type job struct {
	seq         int
	id          string
	svc         *service
	typ         string // deploy | redeploy
	title       string
	description string
	timestamp   time.Time
	processedOn time.Time
	state       string // waiting | active
	env         []string
	envErr      string

	lost, stuck bool
	failLog     *string
	status      string
}

func (j *job) json() map[string]any {
	data := map[string]any{
		"titleLog":        j.title,
		"descriptionLog":  j.description,
		"type":            j.typ,
		"applicationType": j.svc.kind,
		"server":          false,
		"serverId":        nil,
	}
	if j.svc.kind == kindApplication {
		data["applicationId"] = j.svc.id
	} else {
		data["composeId"] = j.svc.id
	}
	m := map[string]any{
		"id":          j.id,
		"name":        j.svc.kind,
		"data":        data,
		"timestamp":   j.timestamp.UnixMilli(),
		"state":       j.state,
		"servicePath": j.svc.kind + "/" + j.svc.id,
	}
	if !j.processedOn.IsZero() {
		m["processedOn"] = j.processedOn.UnixMilli()
	}
	return m
}

func fmtTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func fmtNullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

const nanoidAlphabet = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict"

func nanoid() string {
	var b strings.Builder
	for range 21 {
		b.WriteByte(nanoidAlphabet[rand.IntN(len(nanoidAlphabet))])
	}
	return b.String()
}

// enqueue queues a deployment of svc and starts its worker; s.mu must be held.
func (s *Server) enqueueLocked(svc *service, typ, title, description string) {
	s.jobSeq++
	j := &job{
		seq: s.jobSeq, id: fmt.Sprintf("job-%d", s.jobSeq), svc: svc, typ: typ,
		title: title, description: description, timestamp: s.now(), state: "waiting",
		env: svc.processEnv(),
	}
	if strings.Contains(svc.env.s, "${{") {
		j.envErr = "Invalid environment variable reference: a ${{...}} reference could not be resolved"
	}
	f := &s.faults
	if f.overwriteTitle || (typ == "deploy" && svc.gitSourced()) {
		f.overwriteTitle = false
		j.title = svc.commitMessage
		j.description = "Commit: " + svc.commitHash
	}
	j.lost, f.loseNext = f.loseNext, false
	j.stuck, f.stickNext = f.stickNext, false
	j.failLog, f.failNext = f.failNext, nil
	j.status, f.injectStatus = f.injectStatus, ""
	s.jobs = append(s.jobs, j)
	if !svc.workerRunning && !s.closed {
		svc.workerRunning = true
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.work(svc)
		}()
	}
}

// work runs svc's jobs one at a time, FIFO, as Dokploy's in-memory queue does.
func (s *Server) work(svc *service) {
	for {
		s.mu.Lock()
		var j *job
		for _, q := range s.jobs {
			if q.svc == svc {
				j = q
				break
			}
		}
		if j == nil || s.closed {
			svc.workerRunning = false
			s.mu.Unlock()
			return
		}
		j.state = "active"
		j.processedOn = s.now()
		s.mu.Unlock()
		s.run(j)
		s.removeJob(j)
	}
}

func (s *Server) removeJob(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.jobs {
		if q == j {
			s.jobs = append(s.jobs[:i], s.jobs[i+1:]...)
			return
		}
	}
}

func (s *Server) run(j *job) {
	ctx := s.ctx
	svc := j.svc
	if j.lost {
		s.sleep(ctx, s.opts.LostJobLinger)
		return
	}
	if !s.sleep(ctx, s.opts.RowDelay) {
		return
	}
	r := s.createRow(j)
	if j.status != "" {
		if !s.sleep(ctx, s.opts.StatusHold) {
			return
		}
		s.setRow(r, "running", "")
	}
	if j.stuck {
		// The worker dies: the row stays running and the job leaves the queue.
		s.sleep(ctx, s.opts.RowDelay)
		return
	}
	if j.failLog != nil || j.envErr != "" {
		if !s.sleep(ctx, s.opts.RunDuration) {
			return
		}
		tail := j.envErr
		if j.failLog != nil {
			tail = *j.failLog
		}
		s.setRow(r, "error", tail)
		return
	}
	var b Backend
	if s.opts.Launcher != nil {
		var err error
		if b, err = s.launch(j.env); err != nil {
			if s.ctx.Err() == nil {
				s.setRow(r, "error", "Error: the container did not start: "+err.Error())
			}
			return
		}
	}
	if !s.sleep(ctx, s.opts.RunDuration) {
		return
	}
	s.setRow(r, "done", "")
	if b != nil {
		s.mu.Lock()
		replicas := svc.replicas
		s.mu.Unlock()
		svc.tenant.rollout(b, s.opts.StaleWindow, s.opts.MixedWindow, replicas)
	}
}

// createRow inserts the job's row (already running, unless a status was injected), keeping
// the 10 newest earlier rows.
func (s *Server) createRow(j *job) *row {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := j.svc
	rows := sortedRows(svc.rows)
	if len(rows) > 10 {
		for _, old := range rows[10:] {
			delete(s.rows, old.id)
		}
		rows = rows[:10]
	}
	// Keep creation order in svc.rows.
	sort.Slice(rows, func(a, b int) bool { return rows[a].seq < rows[b].seq })
	now := s.now()
	s.rowSeq++
	r := &row{
		seq: s.rowSeq, id: nanoid(), svc: svc, title: j.title, description: j.description,
		status: "running", createdAt: now, startedAt: now,
		logPath: fmt.Sprintf("/etc/dokploy/logs/%s/%s-%s.log", svc.appName, svc.appName, now.Format("2006-01-02:15:04:05")),
		log: []string{
			"Initializing deployment",
			fmt.Sprintf("Deploying %s (%s)", svc.appName, j.typ),
		},
	}
	if j.status != "" {
		r.status = j.status
	}
	svc.rows = append(rows, r)
	s.rows[r.id] = r
	svc.status = "running"
	return r
}

func (s *Server) setRow(r *row, status, tail string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.status = status
	switch status {
	case "done":
		r.finishedAt = s.now()
		r.log = append(r.log, "Deployment done ✅")
		r.svc.status = "done"
	case "error":
		r.finishedAt = s.now()
		if tail != "" {
			r.log = append(r.log, strings.Split(tail, "\n")...)
		}
		r.log = append(r.log, "Error occurred ❌, check the logs for details.")
		r.svc.status = "error"
	}
}

// sortedRows returns rows newest createdAt first.
func sortedRows(rows []*row) []*row {
	out := append([]*row(nil), rows...)
	sort.SliceStable(out, func(a, b int) bool {
		if !out[a].createdAt.Equal(out[b].createdAt) {
			return out[a].createdAt.After(out[b].createdAt)
		}
		return out[a].seq > out[b].seq
	})
	return out
}
