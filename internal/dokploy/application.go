package dokploy

import (
	"context"
	"fmt"
	"net/url"
)

// Application is a Dokploy application as application.one returns it (the
// fields this project uses). Env, BuildArgs, BuildSecrets, Password and
// Registry.Password arrive decrypted: never log an Application.
type Application struct {
	ApplicationID     string       `json:"applicationId"`
	Name              string       `json:"name"`
	AppName           string       `json:"appName"`
	Env               string       `json:"env"`
	BuildArgs         *string      `json:"buildArgs"`
	BuildSecrets      *string      `json:"buildSecrets"`
	CreateEnvFile     bool         `json:"createEnvFile"`
	ApplicationStatus string       `json:"applicationStatus"`
	SourceType        string       `json:"sourceType"`
	BuildType         string       `json:"buildType"`
	DockerImage       *string      `json:"dockerImage"`
	Username          *string      `json:"username"` // docker source credentials
	Password          *string      `json:"password"`
	RegistryURL       *string      `json:"registryUrl"`
	Replicas          int          `json:"replicas"`
	ServerID          *string      `json:"serverId"`
	EnvironmentID     string       `json:"environmentId"`
	Environment       *Environment `json:"environment"`
	Project           *Project     `json:"project"` // before Dokploy had environments
	RegistryID        *string      `json:"registryId"`
	Registry          *Registry    `json:"registry"`
	BuildRegistry     *Registry    `json:"buildRegistry"`
	// RollbackActive and RollbackRegistryID: Dokploy keeps rollback records
	// (see DeploymentsByType) only with both set.
	RollbackActive     bool         `json:"rollbackActive"`
	RollbackRegistryID *string      `json:"rollbackRegistryId"`
	RollbackRegistry   *Registry    `json:"rollbackRegistry"`
	Domains            []Domain     `json:"domains"`
	Deployments        []Deployment `json:"deployments"` // unordered
}

// Registry is the image registry an application pushes to and pulls from.
type Registry struct {
	RegistryID   string  `json:"registryId"`
	RegistryName string  `json:"registryName"`
	ImagePrefix  *string `json:"imagePrefix"`
	Username     string  `json:"username"`
	Password     string  `json:"password"`
	RegistryURL  string  `json:"registryUrl"`
	RegistryType string  `json:"registryType"`
}

// Domain is a domain routed to an application or compose service.
type Domain struct {
	DomainID     string  `json:"domainId"`
	Host         string  `json:"host"`
	HTTPS        bool    `json:"https"`
	Port         *int    `json:"port"`
	Path         *string `json:"path"`
	ServiceName  *string `json:"serviceName"`
	InternalPath *string `json:"internalPath"`
	StripPath    bool    `json:"stripPath"`
}

// Secrets returns every value that must be masked before anything is logged:
// each env value, build arg and build secret (parsed with Dokploy's dotenv
// rules), every value of the project's and the environment's shared env, each
// env value, build arg and build secret with its ${{project.X}},
// ${{environment.X}} and ${{X}} references resolved, the docker source
// password and the registries' passwords (Dokploy v0.30.2 leaves them out of
// application.one; older versions sent them). A multi-line value is returned whole
// and line by line. The values of the four runtime identity keys are left
// out: they are public by design and printed. The result is sorted longest
// first and has no empty or duplicate strings.
func (a *Application) Secrets() []string {
	s := newSecretSet()
	s.addEnv(a.Env)
	s.addEnv(deref(a.BuildArgs))
	s.addEnv(deref(a.BuildSecrets))
	project, environment := sharedEnvs(a.Environment, a.Project)
	s.addShared(project, environment, a.Env, deref(a.BuildArgs), deref(a.BuildSecrets))
	s.add(deref(a.Password))
	for _, r := range []*Registry{a.Registry, a.BuildRegistry, a.RollbackRegistry} {
		if r != nil {
			s.add(r.Password)
		}
	}
	return s.list()
}

// ApplicationService calls the application router.
type ApplicationService struct{ c *Client }

// One reads an application, secrets included.
//
// Dokploy API: GET application.one
func (s *ApplicationService) One(ctx context.Context, applicationID string) (*Application, error) {
	var a Application
	if _, err := s.c.get(ctx, "application.one", url.Values{"applicationId": {applicationID}}, &a); err != nil {
		return nil, fmt.Errorf("dokploy: read application %s: %w", applicationID, err)
	}
	// An empty or foreign answer must not pass for an empty env: a patch
	// written over it would wipe the real one.
	if a.ApplicationID != applicationID {
		return nil, fmt.Errorf("dokploy: read application %s: %w", applicationID, errWrongRow)
	}
	return &a, nil
}

// SaveEnvironment is the input of application.saveEnvironment. Dokploy
// v0.27+ requires all five fields and overwrites all four values: to change
// only Env, echo BuildArgs, BuildSecrets and CreateEnvFile as read (nil sends
// null, which wipes the value). Older versions took fewer fields (v0.18-v0.25:
// applicationId, env, buildArgs; v0.26 added buildSecrets; v0.27
// createEnvFile) and drop unknown keys, so this shape serves them too.
type SaveEnvironment struct {
	ApplicationID string  `json:"applicationId"`
	Env           string  `json:"env"`
	BuildArgs     *string `json:"buildArgs"`
	BuildSecrets  *string `json:"buildSecrets"`
	CreateEnvFile bool    `json:"createEnvFile"`
}

// SaveEnvironment overwrites an application's env, build args, build secrets
// and createEnvFile.
//
// Dokploy API: POST application.saveEnvironment
func (s *ApplicationService) SaveEnvironment(ctx context.Context, in *SaveEnvironment) error {
	if _, err := s.c.post(ctx, "application.saveEnvironment", in, nil); err != nil {
		return fmt.Errorf("dokploy: save environment of application %s: %w", in.ApplicationID, err)
	}
	return nil
}

// Deploy queues a deployment of an application. It returns once the job is
// queued, before any deployment row exists. It is never retried.
//
// Dokploy API: POST application.deploy
func (s *ApplicationService) Deploy(ctx context.Context, applicationID string, opts *DeployOptions) (*DeployResult, error) {
	return s.c.trigger(ctx, "application.deploy", "applicationId", applicationID, opts)
}

// Redeploy queues a redeployment (no new source fetch) of an application.
// It is never retried.
//
// Dokploy API: POST application.redeploy
func (s *ApplicationService) Redeploy(ctx context.Context, applicationID string, opts *DeployOptions) (*DeployResult, error) {
	return s.c.trigger(ctx, "application.redeploy", "applicationId", applicationID, opts)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
