package dokploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// Deployment row statuses (deployment.status). Dokploy v0.30.2 knows only
// these; later versions may add others, such as "queued", which callers must
// tolerate.
const (
	StatusRunning   = "running"
	StatusDone      = "done"
	StatusError     = "error"
	StatusCancelled = "cancelled"
)

// Deployment is one deployment row. Dokploy inserts it already running when
// the worker picks the job up, and keeps only the newest ten per service.
type Deployment struct {
	DeploymentID        string  `json:"deploymentId"`
	Title               string  `json:"title"`
	Description         *string `json:"description"`
	Status              string  `json:"status"`
	LogPath             string  `json:"logPath"`
	ApplicationID       *string `json:"applicationId"`
	ComposeID           *string `json:"composeId"`
	ServerID            *string `json:"serverId"`
	CreatedAt           string  `json:"createdAt"`
	StartedAt           *string `json:"startedAt"`
	FinishedAt          *string `json:"finishedAt"`
	ErrorMessage        *string `json:"errorMessage"`
	IsPreviewDeployment bool    `json:"isPreviewDeployment"`
	// RollbackID names the rollback record of this build, when the
	// application keeps rollbacks (see DeploymentsByType).
	RollbackID *string `json:"rollbackId"`
}

// QueueJob is a waiting or active deployment job from deployment.queueList.
type QueueJob struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Data      QueueJobData `json:"data"`
	Timestamp int64        `json:"timestamp"`
	State     string       `json:"state"` // "waiting" or "active"
}

// QueueJobData says what a queued job deploys.
type QueueJobData struct {
	ApplicationID   string `json:"applicationId"`
	ComposeID       string `json:"composeId"`
	TitleLog        string `json:"titleLog"`
	DescriptionLog  string `json:"descriptionLog"`
	Type            string `json:"type"`            // "deploy" or "redeploy"
	ApplicationType string `json:"applicationType"` // "application", "compose", "application-preview"
}

// DeploymentService calls the deployment router.
type DeploymentService struct{ c *Client }

// All lists an application's deployment rows, newest first.
//
// Dokploy API: GET deployment.all
func (s *DeploymentService) All(ctx context.Context, applicationID string) ([]Deployment, error) {
	var rows []Deployment
	if _, err := s.c.get(ctx, "deployment.all", url.Values{"applicationId": {applicationID}}, &rows); err != nil {
		return nil, fmt.Errorf("dokploy: list deployments of application %s: %w", applicationID, err)
	}
	return rows, nil
}

// AllByCompose lists a compose service's deployment rows, newest first.
//
// Dokploy API: GET deployment.allByCompose
func (s *DeploymentService) AllByCompose(ctx context.Context, composeID string) ([]Deployment, error) {
	var rows []Deployment
	if _, err := s.c.get(ctx, "deployment.allByCompose", url.Values{"composeId": {composeID}}, &rows); err != nil {
		return nil, fmt.Errorf("dokploy: list deployments of compose %s: %w", composeID, err)
	}
	return rows, nil
}

// QueueList lists the waiting and active deployment jobs of the instance.
//
// Dokploy API: GET deployment.queueList
func (s *DeploymentService) QueueList(ctx context.Context) ([]QueueJob, error) {
	var jobs []QueueJob
	if _, err := s.c.get(ctx, "deployment.queueList", nil, &jobs); err != nil {
		return nil, fmt.Errorf("dokploy: list deployment queue: %w", err)
	}
	return jobs, nil
}

// ReadLogs returns the last tail lines (1-10000) of a deployment's log, ""
// when there is none. The log may echo secrets: redact it before showing it.
//
// Dokploy API: GET deployment.readLogs
func (s *DeploymentService) ReadLogs(ctx context.Context, deploymentID string, tail int) (string, error) {
	q := url.Values{"deploymentId": {deploymentID}}
	if tail > 0 {
		q.Set("tail", strconv.Itoa(min(tail, 10000)))
	}
	data, err := s.c.get(ctx, "deployment.readLogs", q, nil)
	if err != nil {
		return "", fmt.Errorf("dokploy: read logs of deployment %s: %w", deploymentID, err)
	}
	data = bytes.TrimSpace(data)
	var text string
	if json.Unmarshal(data, &text) == nil {
		return text, nil
	}
	if len(data) == 0 || string(data) == "null" {
		return "", nil
	}
	return string(data), nil // be lenient: a plain-text body is the log itself
}

// DeployOptions are the optional inputs of a deploy or redeploy. Dokploy
// overwrites Title and Description on a deploy of a git-sourced service.
type DeployOptions struct {
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}

// DeployResult is what a deploy or redeploy answered: an empty body
// (application), true (Dokploy Cloud) or {"success","message"} (compose).
type DeployResult struct {
	// Message is the server's message, e.g. "Deployment queued", or "".
	Message string
}

// trigger posts a deploy or redeploy, accepting an empty, true or object body.
func (c *Client) trigger(ctx context.Context, op, idKey, id string, opts *DeployOptions) (*DeployResult, error) {
	body := map[string]string{idKey: id}
	if opts != nil {
		if opts.Title != "" {
			body["title"] = opts.Title
		}
		if opts.Description != "" {
			body["description"] = opts.Description
		}
	}
	data, err := c.post(ctx, op, body, nil)
	if err != nil {
		router, proc, _ := strings.Cut(op, ".")
		return nil, fmt.Errorf("dokploy: %s %s %s: %w", proc, router, id, err)
	}
	res := &DeployResult{}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &obj) == nil {
		res.Message = newScrubber([]string{c.apiKey})(obj.Message)
	}
	return res, nil
}

// TargetKind says whether a Target is an application or a compose service.
type TargetKind string

// Target kinds.
const (
	KindApplication TargetKind = "application"
	KindCompose     TargetKind = "compose"
)

// Target names the Dokploy service a run works on.
type Target struct {
	Kind TargetKind
	ID   string
}

// ApplicationTarget returns the Target of an application.
func ApplicationTarget(id string) Target { return Target{KindApplication, id} }

// ComposeTarget returns the Target of a compose service.
func ComposeTarget(id string) Target { return Target{KindCompose, id} }

// String returns "application <id>" or "compose <id>".
func (t Target) String() string { return string(t.Kind) + " " + t.ID }

// Owns reports whether d is a row of this target: its applicationId (or
// composeId) is the target's id. A deployment list may hold rows of other
// services; they never decide this target's rollout.
func (t Target) Owns(d Deployment) bool {
	switch t.Kind {
	case KindApplication:
		return d.ApplicationID != nil && *d.ApplicationID == t.ID
	case KindCompose:
		return d.ComposeID != nil && *d.ComposeID == t.ID
	}
	return false
}

// Validate reports a target without a known kind or an id.
func (t Target) Validate() error {
	switch {
	case t.Kind != KindApplication && t.Kind != KindCompose:
		return fmt.Errorf("dokploy: unknown target kind %q", string(t.Kind))
	case strings.TrimSpace(t.ID) == "":
		return fmt.Errorf("dokploy: %s id is empty", t.Kind)
	}
	return nil
}

// TargetState is what Get read of a target, the same for both kinds.
// It holds decrypted secrets: never log it.
type TargetState struct {
	Target        Target
	Name, AppName string
	// Env is the env text exactly as stored.
	Env           string
	CreateEnvFile bool
	// BuildArgs and BuildSecrets are nil for a compose service.
	BuildArgs, BuildSecrets *string
	// Replicas is the application's replica count, 0 for a compose service
	// (Dokploy does not know it).
	Replicas int
	// RegistryPassword is the application registry's password, if any.
	RegistryPassword string
	// ComposeFile and ComposePath are set for a compose service.
	ComposeFile, ComposePath string
	// Status is applicationStatus or composeStatus.
	Status string
	// Application or Compose is the full row read, the other one is nil.
	Application *Application
	Compose     *Compose
}

// Secrets returns every value of the target that must be masked, the values
// its env pulls in from the project's and the environment's env included (see
// Application.Secrets and Compose.Secrets).
func (s *TargetState) Secrets() []string {
	if s.Application != nil {
		return s.Application.Secrets()
	}
	if s.Compose != nil {
		return s.Compose.Secrets()
	}
	return nil
}

// Get reads a target (application.one or compose.one).
func (c *Client) Get(ctx context.Context, t Target) (*TargetState, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if t.Kind == KindCompose {
		cm, err := c.Compose.One(ctx, t.ID)
		if err != nil {
			return nil, err
		}
		return &TargetState{
			Target: t, Name: cm.Name, AppName: cm.AppName, Env: cm.Env,
			CreateEnvFile: cm.CreateEnvFile, ComposeFile: cm.ComposeFile,
			ComposePath: cm.ComposePath, Status: cm.ComposeStatus, Compose: cm,
		}, nil
	}
	a, err := c.Application.One(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	st := &TargetState{
		Target: t, Name: a.Name, AppName: a.AppName, Env: a.Env,
		CreateEnvFile: a.CreateEnvFile, BuildArgs: a.BuildArgs, BuildSecrets: a.BuildSecrets,
		Replicas: a.Replicas, Status: a.ApplicationStatus, Application: a,
	}
	if a.Registry != nil {
		st.RegistryPassword = a.Registry.Password
	}
	return st, nil
}

// WriteEnv replaces the env text of the target read as s. An application is
// written with application.saveEnvironment, echoing the build args, build
// secrets and createEnvFile of s; a compose service with compose.update
// {composeId, env}, which every Dokploy version accepts. Read the target again
// afterwards to confirm the write.
func (c *Client) WriteEnv(ctx context.Context, s *TargetState, env string) error {
	if s == nil {
		return errors.New("dokploy: write env: no target state")
	}
	if err := s.Target.Validate(); err != nil {
		return err
	}
	if s.Target.Kind == KindCompose {
		_, err := c.Compose.UpdateEnv(ctx, s.Target.ID, env)
		return err
	}
	return c.Application.SaveEnvironment(ctx, &SaveEnvironment{
		ApplicationID: s.Target.ID,
		Env:           env,
		BuildArgs:     s.BuildArgs,
		BuildSecrets:  s.BuildSecrets,
		CreateEnvFile: s.CreateEnvFile,
	})
}

// Deploy triggers a deploy (or, with redeploy, a redeploy) of the target. It
// is never retried: take a Snapshot first and follow it with WaitRollout.
func (c *Client) Deploy(ctx context.Context, t Target, redeploy bool) (*DeployResult, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	switch {
	case t.Kind == KindCompose && redeploy:
		return c.Compose.Redeploy(ctx, t.ID, nil)
	case t.Kind == KindCompose:
		return c.Compose.Deploy(ctx, t.ID, nil)
	case redeploy:
		return c.Application.Redeploy(ctx, t.ID, nil)
	default:
		return c.Application.Deploy(ctx, t.ID, nil)
	}
}

// Deployments lists the target's deployment rows, newest first.
func (c *Client) Deployments(ctx context.Context, t Target) ([]Deployment, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if t.Kind == KindCompose {
		return c.Deployment.AllByCompose(ctx, t.ID)
	}
	return c.Deployment.All(ctx, t.ID)
}

// Snapshot returns the ids of the target's own existing deployment rows
// (rows of other services in the answer are left out). Take it just before
// triggering and pass it to WaitRollout.
func (c *Client) Snapshot(ctx context.Context, t Target) (map[string]bool, error) {
	rows, err := c.Deployments(ctx, t)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(rows))
	for _, r := range rows {
		if t.Owns(r) && r.DeploymentID != "" {
			ids[r.DeploymentID] = true
		}
	}
	return ids, nil
}

// isIdentityKey reports whether key is one of the env keys this project
// writes. Their values are public by design (and printed), so they are not
// secrets.
func isIdentityKey(key string) bool {
	return slices.Contains(identity.EnvKeys, key)
}

// secretSet collects values to mask.
type secretSet map[string]bool

func newSecretSet() secretSet { return secretSet{} }

// add adds v, and each non-empty line of a multi-line v.
func (s secretSet) add(v string) {
	if strings.TrimSpace(v) == "" {
		return
	}
	s[v] = true
	if strings.ContainsAny(v, "\r\n") {
		for _, line := range strings.Split(strings.ReplaceAll(v, "\r\n", "\n"), "\n") {
			line = strings.TrimSuffix(line, "\r")
			if strings.TrimSpace(line) != "" {
				s[line] = true
			}
		}
	}
}

// addEnv adds every value of dotenv text except the identity keys'.
func (s secretSet) addEnv(text string) {
	for k, v := range ParseEnv(text) {
		if !isIdentityKey(k) {
			s.add(v)
		}
	}
}

// list returns the values longest first, so replacing them in that order
// never leaves part of a longer secret behind.
func (s secretSet) list() []string {
	out := make([]string, 0, len(s))
	for v := range s {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}
