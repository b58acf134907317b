package dokploytest

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Rollbacks, as Dokploy has them for applications (compose has none). Sources in
// Dokploy/dokploy, read at canary commits after the pinned 772b768 (the reference document's
// "Rolling back an application" states the same at the pin); where the source index names no
// commit, none is given:
//   - packages/server/src/utils/cluster/upload.ts: uploadImageRemoteCommand, part of the
//     build command, calls createRollback for the newest row when the application has
//     rollbackActive and a rollbackRegistry. The record therefore exists from the build's
//     start, and rows that end error or cancelled carry one too.
//   - packages/server/src/services/rollbacks.ts (00fb5a67fbee636e4cb2c5564ab64a2913d9c6c6):
//     createRollback inserts the record (version a table-wide serial, image
//     "<appName>:v<version>"), stores as fullContext the whole application as
//     findApplicationById returns it minus deployments and git providers, and sets the row's
//     rollbackId. rollback() updates the Swarm service with the snapshot's image and
//     prepareEnvironmentVariables(snapshot env, snapshot project env): environment env is not
//     passed, so a ${{environment.KEY}} reference fails a rollback. The stored application is
//     not touched, no row is written, nothing is queued.
//   - apps/dokploy/server/api/routers/rollbacks.ts (2ad8bf355b008acc68f6e66de5713bbfe292db55):
//     rollback answers what rollback() returns (undefined: an empty body) and turns any error
//     into 400 BAD_REQUEST "Error input: Rolling back"; delete returns removeRollbackById
//     without awaiting it, so its "Rollback not found" escapes as a 500.
//   - packages/server/src/db/schema/rollbacks.ts (078ca19578075edd4a903bc329c89d22924141ba):
//     the record's columns; the deployment foreign key cascades, so records leave with their
//     rows (removeLastTenDeployments).
//   - apps/dokploy/server/api/routers/deployment.ts: allByType ({id, type}) lists rows newest
//     first with the rollback relation.

// snapshot is what a rollback record keeps of the application at its build.
type snapshot struct {
	context    map[string]any // fullContext
	env        string         // the application's env text
	projectEnv string         // its project's env text
}

// rollbackRecord is one row of Dokploy's rollback table.
type rollbackRecord struct {
	id        string
	row       *row
	version   int
	image     string
	createdAt time.Time
	snap      *snapshot
}

func (rec *rollbackRecord) json() map[string]any {
	return map[string]any{
		"rollbackId":   rec.id,
		"deploymentId": rec.row.id,
		"version":      rec.version,
		"image":        rec.image,
		"createdAt":    fmtTime(rec.createdAt),
		"fullContext":  rec.snap.context,
	}
}

// rollbacksOn reports whether svc records rollback snapshots.
func (svc *service) rollbacksOn() bool {
	return svc.kind == kindApplication && svc.rollbackActive && svc.rollbackRegistryPassword != ""
}

// snapshotLocked captures svc for a rollback record, or nil when svc has rollbacks off; s.mu
// must be held.
func (s *Server) snapshotLocked(svc *service) *snapshot {
	if !svc.rollbacksOn() {
		return nil
	}
	ctx := s.appJSON(svc)
	delete(ctx, "deployments")
	delete(ctx, "hasGitProviderAccess")
	projectEnv, _ := s.envOf(svc)
	return &snapshot{context: ctx, env: svc.env.s, projectEnv: projectEnv}
}

// recordRollbackLocked creates r's rollback record; s.mu must be held.
func (s *Server) recordRollbackLocked(r *row, snap *snapshot) {
	s.rollbackSeq++
	rec := &rollbackRecord{
		id: nanoid(), row: r, version: s.rollbackSeq, createdAt: s.now(), snap: snap,
		image: fmt.Sprintf("%s:v%d", r.svc.appName, s.rollbackSeq),
	}
	s.rollbacks[rec.id] = rec
	r.rollbackID = rec.id
}

// RecordDeployment adds a finished deployment row to service id, as if a deployment of its
// current env had run and ended with status (done, error, cancelled), with a rollback record
// when the application has rollbacks on. Nothing is launched: the backend serving now stands
// for that deployment's result. It returns the row's deploymentId. Use it to give a target a
// history, such as an earlier done deployment to roll back to.
func (s *Server) RecordDeployment(id, status string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.services[id]
	if svc == nil {
		return "", fmt.Errorf("dokploytest: record a deployment: no service %q", id)
	}
	snap := s.snapshotLocked(svc)
	r := s.insertRowLocked(svc, "Manual deployment", "", "deploy", false)
	if snap != nil {
		s.recordRollbackLocked(r, snap)
	}
	r.status = status
	if status == "done" || status == "error" {
		r.finishedAt = r.startedAt
	}
	switch status {
	case "done":
		r.log = append(r.log, "Deployment done ✅")
	case "error":
		r.log = append(r.log, "Error occurred ❌, check the logs for details.")
	}
	svc.status = status
	if status == "cancelled" {
		svc.status = "idle"
	}
	return r.id, nil
}

// RollbackID returns the rollbackId of deployment row deploymentID ("" when it has none).
func (s *Server) RollbackID(deploymentID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rows[deploymentID]; r != nil {
		return r.rollbackID
	}
	return ""
}

func rollingBackError() *trpcError {
	return &trpcError{status: http.StatusBadRequest, code: "BAD_REQUEST", message: "Error input: Rolling back"}
}

// rollbackProcedure is rollback.rollback: restart the application's tenant with the
// snapshot's env at once.
func rollbackProcedure(s *Server, in map[string]any) (any, *trpcError) {
	s.mu.Lock()
	rec := s.rollbacks[in["rollbackId"].(string)]
	fail := s.faults.failRollback
	s.faults.failRollback = false
	if rec != nil && s.denied[rec.row.svc.id] {
		s.mu.Unlock()
		return nil, accessDenied()
	}
	if fail || rec == nil {
		s.mu.Unlock()
		return nil, rollingBackError()
	}
	svc := rec.row.svc
	vars, err := resolveEnv(rec.snap.env, rec.snap.projectEnv, "")
	replicas := svc.replicas
	s.mu.Unlock()
	if err != nil {
		return nil, rollingBackError()
	}
	if s.opts.Launcher != nil {
		// Swarm accepts the update at once and rolls it out afterwards.
		s.goAsync(func() {
			b, err := s.launch(envList(vars))
			if err != nil {
				return
			}
			svc.tenant.rollout(b, s.opts.StaleWindow, s.opts.MixedWindow, replicas)
		})
	}
	return emptyBody{}, nil
}

// rollbackDeleteProcedure is rollback.delete: the record goes, the row keeps living without it.
func rollbackDeleteProcedure(s *Server, in map[string]any) (any, *trpcError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.rollbacks[in["rollbackId"].(string)]
	if rec == nil {
		return nil, internalError()
	}
	if s.denied[rec.row.svc.id] {
		return nil, accessDenied()
	}
	delete(s.rollbacks, rec.id)
	rec.row.rollbackID = ""
	out := rec.json()
	out["deployment"] = rec.row.json()
	return out, nil
}

// deploymentTypes are allByType's type values.
var deploymentTypes = []string{"application", "compose", "server", "schedule", "previewDeployment", "backup", "volumeBackup"}

// allByTypeProcedure is deployment.allByType: the service's rows newest first, each with its
// rollback record (null when none).
func allByTypeProcedure(s *Server, in map[string]any) (any, *trpcError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, typ := in["id"].(string), in["type"].(string)
	if s.denied[id] {
		return nil, accessDenied()
	}
	out := []any{}
	svc := s.services[id]
	if svc == nil || svc.kind != typ {
		return out, nil
	}
	for _, r := range s.listRowsLocked(svc) {
		m := r.json()
		m["rollback"] = nil
		if rec := s.rollbacks[r.rollbackID]; rec != nil {
			m["rollback"] = rec.json()
		}
		out = append(out, m)
	}
	return out, nil
}

// errNoRollback is returned by RollbackSnapshotEnv for an unknown record.
var errNoRollback = errors.New("dokploytest: no such rollback record")

// RollbackSnapshotEnv returns the env text the rollback record rollbackID holds.
func (s *Server) RollbackSnapshotEnv(rollbackID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.rollbacks[rollbackID]
	if rec == nil {
		return "", errNoRollback
	}
	return rec.snap.env, nil
}
