package dokploytest

import "time"

type faults struct {
	fail5xx          int
	delay            time.Duration
	unauthorizedFrom int
	stallFrom        int
	loseNext         bool
	stickNext        bool
	failNext         func(env map[string]string) string
	tamperNext       func(env map[string]string)
	injectStatus     string
	overwriteTitle   bool
	hostileNext      bool
	leakForeign      *string
	failRollback     bool
}

// HostileText is what HostileNextRow puts into a row's deploymentId and title, and line by
// line into its log: line breaks followed by GitHub workflow commands, as a hostile or broken
// Dokploy could send them. Nothing of it may ever start a line of a workflow's log.
const HostileText = "\r\n::error::pwned\n::set-output name=status::match\n"

// FailNextRequests makes the next n API requests answer 500 INTERNAL_SERVER_ERROR (a 5xx
// burst). They are still recorded and counted; a failed POST changes nothing.
func (s *Server) FailNextRequests(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.fail5xx = n
}

// SetLatency delays every API answer by d (0 turns it off).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.delay = d
}

// UnauthorizedFrom makes the nth API request the server receives (counting from 1 since New)
// and every later one answer 401, as an expired, revoked or rate-limited key does. Use
// RequestCount()+k to start k requests from now. 0 turns it off.
func (s *Server) UnauthorizedFrom(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.unauthorizedFrom = n
}

// RequestCount is the number of API requests received so far.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqCount
}

// LoseNextJob makes the next deploy or redeploy be accepted, show in queueList for
// Options.LostJobLinger, then vanish without ever creating a row (a restart losing the
// in-memory queue).
func (s *Server) LoseNextJob() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.loseNext = true
}

// StickNextDeployment makes the next deployment's row stay running forever; its job leaves
// the queue a moment after the row appears.
func (s *Server) StickNextDeployment() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.stickNext = true
}

// FailNextDeployment makes the next deployment end in error after Options.RunDuration, with
// logTail as the end of its log (readLogs returns it). The old backend keeps serving.
func (s *Server) FailNextDeployment(logTail string) {
	s.FailNextDeploymentWith(func(map[string]string) string { return logTail })
}

// FailNextDeploymentWith is FailNextDeployment with the log tail made from env, the variables
// the tenant process would have got (references to project and environment env resolved): a
// failed build's log may echo them.
func (s *Server) FailNextDeploymentWith(logTail func(env map[string]string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failNext = logTail
}

// TamperNextDeployment lets edit change the variables the next deployment's tenant process
// gets, after Dokploy resolved them: the deployment ends done, yet the tenant runs with other
// values, as when a build bakes in a stale image. The stored env is unchanged.
func (s *Server) TamperNextDeployment(edit func(env map[string]string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.tamperNext = edit
}

// StallFrom makes the nth API request the server receives (counting from 1 since New) and
// every later one hang without an answer until the client gives up or the fake closes: a
// Dokploy that stops answering mid-rollout. The requests are still recorded. Use
// RequestCount()+k to start k requests from now; 0 turns it off.
func (s *Server) StallFrom(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.stallFrom = n
}

// LeakForeignRow makes the next deploy or redeploy leak a row of another service into the
// target's row lists (deployment.all, deployment.allByCompose, deployment.allByType and the
// deployments of one): a row with the other service's applicationId or composeId and status,
// always newer than the target's own rows. A hostile or broken Dokploy; the row must never
// decide the target's rollout.
func (s *Server) LeakForeignRow(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.leakForeign = &status
}

// HostileNextRow makes the next deployment's row carry HostileText in its deploymentId and
// title, and workflow commands on lines of its log. The row follows its course as usual, and
// readLogs answers for its id.
func (s *Server) HostileNextRow() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.hostileNext = true
}

// FailNextRollback makes the next rollback.rollback answer Dokploy's 400 BAD_REQUEST "Error
// input: Rolling back" and change nothing, as when the rollback image is gone.
func (s *Server) FailNextRollback() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failRollback = true
}

// HideFromSearch leaves service id out of application.search and compose.search while one and
// every other procedure still serve it. Dokploy does this to a service missing from the
// caller's accessedServices list, owners and admins included (Dokploy issue #5361: search
// filters on accessedServices unconditionally; services land there only for the user who
// created them).
func (s *Server) HideFromSearch(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hidden[id] = true
}

// OverwriteNextTitle makes the next deploy overwrite the row's title with a commit message and
// its description with "Commit: <hash>", as a git-sourced deploy does, whatever the source.
func (s *Server) OverwriteNextTitle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.overwriteTitle = true
}

// SetCommit sets the commit message and hash that git-sourced deploys (and
// OverwriteNextTitle) write into the row of service id.
func (s *Server) SetCommit(id, message, hash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		svc.commitMessage, svc.commitHash = message, hash
	}
}

// InjectStatus makes the next deployment row appear with status (an unknown future status
// such as "queued") for Options.StatusHold before it turns running and proceeds.
func (s *Server) InjectStatus(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.injectStatus = status
}

// DenyService makes every procedure on service id (and on its deployments and rollbacks)
// answer 401 UNAUTHORIZED "You don't have access to this service", as a member without the
// permission meets it inside the procedure, and leaves it out of search answers, as a member
// whose access is limited to other services sees them. An id that does not exist can be
// denied too: for a member, the access check fails before the lookup.
func (s *Server) DenyService(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[id] = true
}
