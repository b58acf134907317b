package dokploytest

import "time"

type faults struct {
	fail5xx          int
	delay            time.Duration
	unauthorizedFrom int
	loseNext         bool
	stickNext        bool
	failNext         *string
	injectStatus     string
	overwriteTitle   bool
}

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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.failNext = &logTail
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

// DenyService makes every procedure on service id (and on its deployments) answer 401
// UNAUTHORIZED "You don't have access to this service", as a member without the permission
// meets it inside the procedure. An id that does not exist can be denied too: for a member,
// the access check fails before the lookup.
func (s *Server) DenyService(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denied[id] = true
}
