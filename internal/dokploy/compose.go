package dokploy

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
)

// Compose is a Dokploy compose service as compose.one returns it (the fields
// this project uses). Env arrives decrypted: never log a Compose.
type Compose struct {
	ComposeID     string       `json:"composeId"`
	Name          string       `json:"name"`
	AppName       string       `json:"appName"`
	Env           string       `json:"env"`
	CreateEnvFile bool         `json:"createEnvFile"`
	ComposeStatus string       `json:"composeStatus"`
	ComposeType   string       `json:"composeType"` // "docker-compose" or "stack"
	SourceType    string       `json:"sourceType"`
	ComposePath   string       `json:"composePath"`
	ComposeFile   string       `json:"composeFile"`
	ServerID      *string      `json:"serverId"`
	EnvironmentID string       `json:"environmentId"`
	Environment   *Environment `json:"environment"`
	Project       *Project     `json:"project"` // before Dokploy had environments
	Domains       []Domain     `json:"domains"`
	Deployments   []Deployment `json:"deployments"`
}

// Secrets returns every env value of the compose service (parsed with
// Dokploy's dotenv rules), every value of the project's and the environment's
// shared env, and each env value with its references resolved, whole and
// line by line, except the values of the four runtime identity keys, longest
// first and without duplicates.
func (cm *Compose) Secrets() []string {
	s := newSecretSet()
	s.addEnv(cm.Env)
	project, environment := sharedEnvs(cm.Environment, cm.Project)
	s.addShared(project, environment, cm.Env)
	return s.list()
}

// ComposeService calls the compose router.
type ComposeService struct{ c *Client }

// One reads a compose service, env included.
//
// Dokploy API: GET compose.one
func (s *ComposeService) One(ctx context.Context, composeID string) (*Compose, error) {
	var cm Compose
	if _, err := s.c.get(ctx, "compose.one", url.Values{"composeId": {composeID}}, &cm); err != nil {
		return nil, fmt.Errorf("dokploy: read compose %s: %w", composeID, err)
	}
	if cm.ComposeID != composeID {
		return nil, fmt.Errorf("dokploy: read compose %s: %w", composeID, errWrongRow)
	}
	return &cm, nil
}

// UpdateEnv changes only a compose service's env ({composeId, env}), which
// works on every Dokploy version. It returns the updated row when Dokploy
// sends one (nil otherwise).
//
// Dokploy API: POST compose.update
func (s *ComposeService) UpdateEnv(ctx context.Context, composeID, env string) (*Compose, error) {
	body := struct {
		ComposeID string `json:"composeId"`
		Env       string `json:"env"`
	}{composeID, env}
	data, err := s.c.post(ctx, "compose.update", body, nil)
	if err != nil {
		return nil, fmt.Errorf("dokploy: update env of compose %s: %w", composeID, err)
	}
	var cm Compose
	if json.Unmarshal(data, &cm) != nil || cm.ComposeID == "" {
		return nil, nil
	}
	return &cm, nil
}

// Deploy queues a deployment of a compose service. It is never retried.
//
// Dokploy API: POST compose.deploy
func (s *ComposeService) Deploy(ctx context.Context, composeID string, opts *DeployOptions) (*DeployResult, error) {
	return s.c.trigger(ctx, "compose.deploy", "composeId", composeID, opts)
}

// Redeploy queues a redeployment of a compose service. It is never retried.
//
// Dokploy API: POST compose.redeploy
func (s *ComposeService) Redeploy(ctx context.Context, composeID string, opts *DeployOptions) (*DeployResult, error) {
	return s.c.trigger(ctx, "compose.redeploy", "composeId", composeID, opts)
}
