package dokploytest

import (
	"fmt"
	"maps"
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
	rollbackID  string // "" when the deployment has no rollback record
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
		"rollbackId":          nullString(r.rollbackID),
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
	state       string            // waiting | active
	vars        map[string]string // what the tenant process gets
	envErr      string            // an unresolved reference: the deployment fails
	snap        *snapshot         // the rollback snapshot, when rollbacks are on

	lost, stuck, hostile bool
	failLog              func(env map[string]string) string
	tamper               func(env map[string]string)
	status               string
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

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
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

// enqueueLocked queues a deployment of svc and starts its worker; s.mu must be held. The job
// deploys the env held now.
func (s *Server) enqueueLocked(svc *service, typ, title, description string) {
	s.jobSeq++
	j := &job{
		seq: s.jobSeq, id: fmt.Sprintf("job-%d", s.jobSeq), svc: svc, typ: typ,
		title: title, description: description, timestamp: s.now(), state: "waiting",
		snap: s.snapshotLocked(svc),
	}
	vars, err := s.processEnvLocked(svc)
	if err != nil {
		j.envErr = err.Error()
	}
	j.vars = vars
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
	j.hostile, f.hostileNext = f.hostileNext, false
	j.tamper, f.tamperNext = f.tamperNext, nil
	if f.leakForeign != nil {
		s.leakForeignRowLocked(svc, *f.leakForeign)
		f.leakForeign = nil
	}
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
			tail = j.failLog(maps.Clone(j.vars))
		}
		s.setRow(r, "error", tail)
		return
	}
	vars := maps.Clone(j.vars)
	if j.tamper != nil {
		j.tamper(vars)
	}
	var b Backend
	if s.opts.Launcher != nil {
		var err error
		if b, err = s.launch(envList(vars)); err != nil {
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
// the 10 newest earlier rows, and records the rollback snapshot when rollbacks are on.
func (s *Server) createRow(j *job) *row {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.insertRowLocked(j.svc, j.title, j.description, j.typ, j.hostile)
	if j.status != "" {
		r.status = j.status
	}
	if j.snap != nil {
		s.recordRollbackLocked(r, j.snap)
	}
	return r
}

// insertRowLocked adds a running row to svc, dropping (with their rollback records) the rows
// beyond the 10 newest earlier ones, as Dokploy's removeLastTenDeployments does; s.mu must be
// held.
func (s *Server) insertRowLocked(svc *service, title, description, typ string, hostile bool) *row {
	rows := sortedRows(svc.rows)
	if len(rows) > 10 {
		for _, old := range rows[10:] {
			delete(s.rows, old.id)
			if old.rollbackID != "" {
				delete(s.rollbacks, old.rollbackID)
			}
		}
		rows = rows[:10]
	}
	// Keep creation order in svc.rows.
	sort.Slice(rows, func(a, b int) bool { return rows[a].seq < rows[b].seq })
	now := s.now()
	s.rowSeq++
	r := &row{
		seq: s.rowSeq, id: nanoid(), svc: svc, title: title, description: description,
		status: "running", createdAt: now, startedAt: now,
		logPath: fmt.Sprintf("/etc/dokploy/logs/%s/%s-%s.log", svc.appName, svc.appName, now.Format("2006-01-02:15:04:05")),
		log: []string{
			"Initializing deployment",
			fmt.Sprintf("Deploying %s (%s)", svc.appName, typ),
		},
	}
	if hostile {
		r.id += HostileText
		r.title += HostileText
		r.log = append(r.log, strings.Split(strings.TrimSpace(HostileText), "\n")...)
		r.log = append(r.log, "::endgroup::", "::add-mask::", "::stop-commands::pwned")
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

// listRowsLocked is svc's rows as Dokploy lists them, newest createdAt first, with any leaked
// row of another service on top; s.mu must be held.
func (s *Server) listRowsLocked(svc *service) []*row {
	rows := append([]*row(nil), svc.rows...)
	var newest time.Time
	for _, r := range rows {
		if r.createdAt.After(newest) {
			newest = r.createdAt
		}
	}
	for _, f := range svc.foreignRows {
		c := *f
		if !c.createdAt.After(newest) {
			// Always newer than the target's own rows, however many appear later.
			c.createdAt = newest.Add(time.Millisecond)
		}
		rows = append(rows, &c)
	}
	return sortedRows(rows)
}

// leakForeignRowLocked makes svc's row lists carry a row of another service; s.mu must be
// held.
func (s *Server) leakForeignRowLocked(svc *service, status string) {
	owner := s.foreign[svc.kind]
	if owner == nil {
		owner = &service{kind: svc.kind, id: svc.kind + "-foreign-1", appName: "foreign-app", status: "done"}
		s.foreign[svc.kind] = owner
	}
	now := s.now()
	s.rowSeq++
	r := &row{
		seq: s.rowSeq, id: nanoid(), svc: owner, title: "Manual deployment", status: status,
		createdAt: now, startedAt: now,
		logPath: "/etc/dokploy/logs/foreign-app/foreign-app.log",
		log:     []string{"Initializing deployment", "Deploying foreign-app (deploy)"},
	}
	if status == "done" || status == "error" {
		r.finishedAt = now
	}
	svc.foreignRows = append(svc.foreignRows, r)
	s.rows[r.id] = r
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
