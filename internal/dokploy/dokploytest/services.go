package dokploytest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/launchplane/runtime-identity/internal/dokploy"
)

// App describes an application service.
type App struct {
	ID      string
	Name    string
	AppName string
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
}

// Compose describes a compose service.
type Compose struct {
	ID      string
	Name    string
	AppName string
	Env     string
	// ComposeFile is the compose YAML. The service env reaches the tenant only through
	// env_file naming .env or ${KEY} references (Dokploy's .env is for interpolation).
	ComposeFile   string
	CreateEnvFile bool
	Replicas      int
	// SourceType defaults to raw; git sources make deploy overwrite title and description.
	SourceType string
}

// nstr is a nullable string column.
type nstr struct {
	s     string
	valid bool
}

func some(s string) nstr { return nstr{s: s, valid: true} }

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

type service struct {
	kind                         string
	id, name, appName            string
	env, buildArgs, buildSecrets nstr
	createEnvFile                bool
	registryPassword             string
	replicas                     int
	sourceType                   string
	composeFile                  string
	status                       string
	createdAt                    string
	rows                         []*row // creation order
	tenant                       *tenant
	workerRunning                bool
	commitMessage, commitHash    string
	editAfterWrite               func(string) string
}

// AddApplication registers an application; its tenant URL exists from now on.
func (s *Server) AddApplication(a App) {
	if a.SourceType == "" {
		a.SourceType = "docker"
	}
	s.add(&service{
		kind: kindApplication, id: a.ID, name: a.Name, appName: a.AppName,
		env: some(a.Env), buildArgs: some(a.BuildArgs), buildSecrets: some(a.BuildSecrets),
		createEnvFile: a.CreateEnvFile, registryPassword: a.RegistryPassword,
		replicas: max(a.Replicas, 1), sourceType: a.SourceType,
	})
}

// AddCompose registers a compose service; its tenant URL exists from now on.
func (s *Server) AddCompose(c Compose) {
	if c.SourceType == "" {
		c.SourceType = "raw"
	}
	s.add(&service{
		kind: kindCompose, id: c.ID, name: c.Name, appName: c.AppName,
		env: some(c.Env), createEnvFile: c.CreateEnvFile, composeFile: c.ComposeFile,
		replicas: max(c.Replicas, 1), sourceType: c.SourceType,
	})
}

func (s *Server) add(svc *service) {
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
	svc.tenant = newTenant(s)
	s.mu.Lock()
	if _, dup := s.services[svc.id]; dup {
		s.mu.Unlock()
		svc.tenant.close()
		panic(fmt.Sprintf("dokploytest: service %q added twice", svc.id))
	}
	s.services[svc.id] = svc
	s.order = append(s.order, svc.id)
	started := s.started
	s.mu.Unlock()
	if started {
		if err := s.startService(svc); err != nil && s.opts.T != nil {
			s.opts.T.Errorf("%v", err)
		}
	}
}

// TenantURL is the stable loopback URL serving the service's current backends ("" for an
// unknown id).
func (s *Server) TenantURL(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if svc := s.services[id]; svc != nil {
		return svc.tenant.srv.URL
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

// afterWrite runs a pending concurrent edit; s.mu must be held.
func (svc *service) afterWrite() {
	if svc.editAfterWrite != nil {
		edit := svc.editAfterWrite
		svc.editAfterWrite = nil
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

// processEnv is the environment the tenant container would see; s.mu must be held.
func (svc *service) processEnv() []string {
	vars := dokploy.ParseEnv(svc.env.s)
	if svc.kind == kindCompose {
		vars = composeDelivered(svc.composeFile, vars)
	}
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
