package dokploytest

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// App describes an application service.
type App struct {
	ID      string
	Name    string
	AppName string
	// Description, Repository, Owner and DockerImage are columns application.search filters
	// on ("" is null).
	Description, Repository, Owner, DockerImage string
	// Env, BuildArgs and BuildSecrets are the stored dotenv texts, returned verbatim by one.
	Env, BuildArgs, BuildSecrets string
	CreateEnvFile                bool
	// RegistryPassword, when set, gives the application a registry whose password one returns.
	RegistryPassword string
	// Replicas > 1 makes rollouts alternate old and new backends for the mixed window.
	Replicas int
	// SourceType is Dokploy's source (github, gitlab, bitbucket, gitea, git, docker, drop;
	// default docker). Git sources make deploy overwrite title and description.
	SourceType string
	// ProjectID and EnvironmentID place the application (default DefaultProjectID and
	// DefaultEnvironmentID; a new EnvironmentID creates that environment in ProjectID).
	ProjectID, EnvironmentID string
	// ProjectEnv and EnvironmentEnv, when not empty, replace the env of the application's
	// project and environment, which ${{project.KEY}} and ${{environment.KEY}} references in
	// Env read (see SetProjectEnv).
	ProjectEnv, EnvironmentEnv string
	// RollbackActive and RollbackRegistryPassword (which gives the application a rollback
	// registry) together make every deployment record a rollback snapshot when its build
	// starts, as Dokploy does.
	RollbackActive           bool
	RollbackRegistryPassword string
}

// Compose describes a compose service.
type Compose struct {
	ID          string
	Name        string
	AppName     string
	Description string
	Env         string
	// ComposeFile is the compose YAML. The service env reaches the tenant only through
	// env_file naming .env or ${KEY} references (Dokploy's .env is for interpolation).
	ComposeFile   string
	CreateEnvFile bool
	Replicas      int
	// SourceType defaults to raw; git sources make deploy overwrite title and description.
	SourceType string
	// ProjectID, EnvironmentID, ProjectEnv and EnvironmentEnv work as for App.
	ProjectID, EnvironmentID   string
	ProjectEnv, EnvironmentEnv string
}

// nstr is a nullable string column.
type nstr struct {
	s     string
	valid bool
}

func some(s string) nstr { return nstr{s: s, valid: true} }

// nonEmpty is null for "", as optional text columns are when never set.
func nonEmpty(s string) nstr { return nstr{s: s, valid: s != ""} }

func (n nstr) json() any {
	if !n.valid {
		return nil
	}
	return n.s
}

func nstrOf(v any) nstr {
	if s, ok := v.(string); ok {
		return some(s)
	}
	return nstr{}
}

const (
	kindApplication = "application"
	kindCompose     = "compose"
)

// The project and environment of services added without ProjectID and EnvironmentID.
const (
	DefaultProjectID     = "project-1"
	DefaultEnvironmentID = "env-production"
)

// project and environment hold the env that services' references read (Dokploy's project.env
// and environment.env columns, both "" by default).
type project struct {
	id, name, env string
	createdAt     string
}

type environment struct {
	id, name, env, projectID string
	createdAt                string
	isDefault                bool
}

type service struct {
	kind                                     string
	id, name, appName                        string
	description, repository, owner, dockerIm nstr
	env, buildArgs, buildSecrets             nstr
	createEnvFile                            bool
	registryPassword                         string
	rollbackActive                           bool
	rollbackRegistryPassword                 string
	replicas                                 int
	sourceType                               string
	composeFile                              string
	environmentID                            string
	status                                   string
	createdAt                                string
	order                                    int
	rows                                     []*row // creation order
	foreignRows                              []*row // leaked rows of another service
	tenant                                   *tenant
	workerRunning                            bool
	commitMessage, commitHash                string
	editAfterWrite, editAfterRead            func(string) string
}

// AddApplication registers an application; its tenant URL exists from now on. After Start, it
// also launches the application's first backend.
func (s *Server) AddApplication(a App) error {
	if a.SourceType == "" {
		a.SourceType = "docker"
	}
	return s.add(&service{
		kind: kindApplication, id: a.ID, name: a.Name, appName: a.AppName,
		description: nonEmpty(a.Description), repository: nonEmpty(a.Repository), owner: nonEmpty(a.Owner), dockerIm: nonEmpty(a.DockerImage),
		env: some(a.Env), buildArgs: some(a.BuildArgs), buildSecrets: some(a.BuildSecrets),
		createEnvFile: a.CreateEnvFile, registryPassword: a.RegistryPassword,
		rollbackActive: a.RollbackActive, rollbackRegistryPassword: a.RollbackRegistryPassword,
		replicas: max(a.Replicas, 1), sourceType: a.SourceType,
	}, a.ProjectID, a.EnvironmentID, a.ProjectEnv, a.EnvironmentEnv)
}

// AddCompose registers a compose service; its tenant URL exists from now on. After Start, it
// also launches the service's first backend.
func (s *Server) AddCompose(c Compose) error {
	if c.SourceType == "" {
		c.SourceType = "raw"
	}
	return s.add(&service{
		kind: kindCompose, id: c.ID, name: c.Name, appName: c.AppName, description: nonEmpty(c.Description),
		env: some(c.Env), createEnvFile: c.CreateEnvFile, composeFile: c.ComposeFile,
		replicas: max(c.Replicas, 1), sourceType: c.SourceType,
	}, c.ProjectID, c.EnvironmentID, c.ProjectEnv, c.EnvironmentEnv)
}

func (s *Server) add(svc *service, projectID, environmentID, projectEnv, environmentEnv string) error {
	if svc.id == "" {
		return errors.New("dokploytest: add a service: empty id")
	}
	if svc.name == "" {
		svc.name = svc.id
	}
	if svc.appName == "" {
		svc.appName = svc.name
	}
	svc.status = "done"
	svc.createdAt = fmtTime(s.now())
	svc.commitMessage = "Update " + svc.appName
	svc.commitHash = "4f1c2a9e0b7d3c6f5a8e1d2c9b0a7f6e5d4c3b2a"
	t, err := newTenant(s)
	if err != nil {
		return fmt.Errorf("dokploytest: add %s: %w", svc.id, err)
	}
	svc.tenant = t
	s.mu.Lock()
	if _, dup := s.services[svc.id]; dup {
		s.mu.Unlock()
		t.close()
		return fmt.Errorf("dokploytest: service %q added twice", svc.id)
	}
	if environmentID == "" {
		environmentID = DefaultEnvironmentID
		if projectID != "" && projectID != DefaultProjectID {
			environmentID = projectID + "-production"
		}
	}
	if projectID == "" {
		projectID = DefaultProjectID
	}
	env := s.environmentLocked(environmentID, projectID)
	if env.projectID != projectID && projectID != DefaultProjectID {
		s.mu.Unlock()
		t.close()
		return fmt.Errorf("dokploytest: add %s: environment %q belongs to project %q, not %q", svc.id, environmentID, env.projectID, projectID)
	}
	svc.environmentID = environmentID
	if projectEnv != "" {
		s.projects[env.projectID].env = projectEnv
	}
	if environmentEnv != "" {
		env.env = environmentEnv
	}
	svc.order = len(s.order)
	s.services[svc.id] = svc
	s.order = append(s.order, svc.id)
	started := s.started
	s.mu.Unlock()
	if started {
		return s.startService(svc)
	}
	return nil
}

// environmentLocked returns environment id, creating it (and its project) when new; s.mu must
// be held.
func (s *Server) environmentLocked(id, projectID string) *environment {
	if e := s.environments[id]; e != nil {
		return e
	}
	if s.projects[projectID] == nil {
		name := projectID
		if projectID == DefaultProjectID {
			name = "launchplane"
		}
		s.projects[projectID] = &project{id: projectID, name: name, createdAt: fmtTime(s.now())}
	}
	name := id
	if id == DefaultEnvironmentID {
		name = "production"
	}
	e := &environment{id: id, name: name, projectID: projectID, createdAt: fmtTime(s.now()), isDefault: id == DefaultEnvironmentID}
	s.environments[id] = e
	return e
}

// SetProjectEnv replaces the env of project id (created when new), which ${{project.KEY}}
// references read at the next deploy.
func (s *Server) SetProjectEnv(id, env string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[id]
	if p == nil {
		p = &project{id: id, name: id, createdAt: fmtTime(s.now())}
		s.projects[id] = p
	}
	p.env = env
}

// SetEnvironmentEnv replaces the env of environment id (created in DefaultProjectID when new),
// which ${{environment.KEY}} references read at the next deploy.
func (s *Server) SetEnvironmentEnv(id, env string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.environmentLocked(id, DefaultProjectID).env = env
}

// TenantURL is the stable loopback URL serving the service's current backends ("" for an
// unknown id).
func (s *Server) TenantURL(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		return svc.tenant.srv.url
	}
	return ""
}

// Env returns the stored env text of service id ("" when null or unknown).
func (s *Server) Env(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		return svc.env.s
	}
	return ""
}

// BuildArgs returns the stored build args of application id.
func (s *Server) BuildArgs(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		return svc.buildArgs.s
	}
	return ""
}

// SetEnv replaces the stored env text of service id, as an edit made outside the program.
func (s *Server) SetEnv(id, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		svc.env = some(text)
	}
}

// SetComposeFile replaces the compose file of compose service id.
func (s *Server) SetComposeFile(id, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		svc.composeFile = text
	}
}

// SetReplicas changes the replica count of service id.
func (s *Server) SetReplicas(id string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		svc.replicas = max(n, 1)
	}
}

// EditAfterNextWrite applies edit to service id's env right after the next env write the API
// accepts for it, as a concurrent edit from outside would.
func (s *Server) EditAfterNextWrite(id string, edit func(env string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		svc.editAfterWrite = edit
	}
}

// EditAfterNextRead applies edit to service id's env right after the next application.one or
// compose.one answer for it is computed: the reader gets the text from before the edit, as
// when someone edits the env between a client's read and its write.
func (s *Server) EditAfterNextRead(id string, edit func(env string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		svc.editAfterRead = edit
	}
}

// afterWrite runs a pending concurrent edit; s.mu must be held.
func (svc *service) afterWrite() {
	if svc.editAfterWrite != nil {
		edit := svc.editAfterWrite
		svc.editAfterWrite = nil
		svc.env = some(edit(svc.env.s))
	}
}

// afterRead runs a pending edit that follows a read; s.mu must be held.
func (svc *service) afterRead() {
	if svc.editAfterRead != nil {
		edit := svc.editAfterRead
		svc.editAfterRead = nil
		svc.env = some(edit(svc.env.s))
	}
}

func (svc *service) gitSourced() bool {
	switch svc.sourceType {
	case "github", "gitlab", "bitbucket", "gitea", "git":
		return true
	}
	return false
}

// envOf returns the env texts of svc's project and environment; s.mu must be held.
func (s *Server) envOf(svc *service) (projectEnv, environmentEnv string) {
	e := s.environments[svc.environmentID]
	if e == nil {
		return "", ""
	}
	if p := s.projects[e.projectID]; p != nil {
		projectEnv = p.env
	}
	return projectEnv, e.env
}

// processEnvLocked is the environment the tenant container would see, references resolved as
// Dokploy's prepareEnvironmentVariables resolves them; s.mu must be held. An unresolved
// reference is an error, as it fails the deployment in Dokploy.
func (s *Server) processEnvLocked(svc *service) (map[string]string, error) {
	projectEnv, environmentEnv := s.envOf(svc)
	vars, err := resolveEnv(svc.env.s, projectEnv, environmentEnv)
	if err != nil {
		return nil, err
	}
	if svc.kind == kindCompose {
		vars = composeDelivered(svc.composeFile, vars)
	}
	return vars, nil
}

// envList turns variables into KEY=value entries in key order.
func envList(vars map[string]string) []string {
	out := make([]string, 0, len(vars))
	for _, k := range sortedKeys(vars) {
		out = append(out, k+"="+vars[k])
	}
	return out
}

var (
	// dotEnvToken is .env (or ./.env) as a whole YAML scalar.
	dotEnvToken = regexp.MustCompile(`(^|[\s\[,"':])(\./)?\.env($|[\s\],"'])`)
	// NAME: ${KEY}, NAME=${KEY}, NAME: ${KEY:-default}; the container sees NAME.
	forwardRef = regexp.MustCompile(`(?m)^\s*-?\s*["']?([A-Za-z_][A-Za-z0-9_.]*)["']?\s*[:=]\s*["']?\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?-][^}]*)?\}`)
)

// composeDelivered returns what the containers of a compose file see of the service env: all
// of it when the file loads .env with env_file, else only what environment entries forward
// with ${KEY}. This is deliberately a line-based reading, not a YAML parser.
func composeDelivered(file string, vars map[string]string) map[string]string {
	if loadsDotEnv(file) {
		return vars
	}
	out := map[string]string{}
	for _, m := range forwardRef.FindAllStringSubmatch(file, -1) {
		if v, ok := vars[m[2]]; ok {
			out[m[1]] = v
		}
	}
	return out
}

// loadsDotEnv reports whether an env_file entry names .env, inline (env_file: .env,
// env_file: [.env]) or as a block list (- .env, - path: .env).
func loadsDotEnv(file string) bool {
	lines := strings.Split(strings.ReplaceAll(file, "\r\n", "\n"), "\n")
	for i, l := range lines {
		t := strings.TrimSpace(l)
		key, rest, ok := strings.Cut(t, ":")
		if !ok || strings.Trim(key, `"'`) != "env_file" {
			continue
		}
		if rest = strings.TrimSpace(rest); rest != "" {
			if dotEnvToken.MatchString(rest) {
				return true
			}
			continue
		}
		for _, next := range lines[i+1:] {
			nt := strings.TrimSpace(next)
			if nt == "" || strings.HasPrefix(nt, "#") {
				continue
			}
			if !strings.HasPrefix(nt, "-") && !strings.HasPrefix(nt, "path:") && !strings.HasPrefix(nt, "required:") {
				break
			}
			if dotEnvToken.MatchString(strings.TrimPrefix(nt, "-")) {
				return true
			}
		}
	}
	return false
}

// DeploymentIDs returns the ids of the deployment rows of service id, foreign rows leaked into
// its lists excluded.
func (s *Server) DeploymentIDs(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for rid, r := range s.rows {
		if r.svc != nil && r.svc.id == id {
			out = append(out, rid)
		}
	}
	sort.Strings(out)
	return out
}
