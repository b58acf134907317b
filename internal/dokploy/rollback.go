package dokploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Rollbacks in Dokploy (applications only): with rollbackActive and a
// rollback registry, a build creates a rollback record (rollbackId,
// deploymentId, version, image "<appName>:v<version>", fullContext: the whole
// application as findApplicationById returned it, env and shared envs
// included) and sets the deployment row's rollbackId. rollback.rollback
// updates the Swarm service at once with the record's image and env; it
// creates no deployment row and leaves the stored env alone, and answers
// every failure with 400 "Error input: Rolling back". Sources, Dokploy
// repository: packages/server/src/services/rollbacks.ts,
// packages/server/src/db/schema/rollbacks.ts and deployment.ts,
// apps/dokploy/server/api/routers/rollbacks.ts and deployment.ts
// (allByType), apps/dokploy/__test__/env/rollback-environment.test.ts.

// DeploymentRollback is a deployment row with its rollback record, as
// deployment.allByType returns it. Rollback is nil when the row has none (no
// rollback registry at that build, or the record was pruned). The record's
// snapshot holds decrypted secrets: never log a DeploymentRollback.
type DeploymentRollback struct {
	Deployment
	Rollback *Rollback `json:"rollback"`
}

// Rollback is a rollback record.
type Rollback struct {
	RollbackID   string  `json:"rollbackId"`
	DeploymentID string  `json:"deploymentId"`
	Version      int     `json:"version"`
	Image        *string `json:"image"`
	CreatedAt    string  `json:"createdAt"`
	// FullContext is the application as it was at that build; nil when
	// Dokploy stored none.
	FullContext *RollbackSnapshot `json:"fullContext"`
}

// RollbackSnapshot is a rollback record's fullContext: the whole application
// row with its relations at the time of the build. The typed fields are the
// ones a rollback restores; Secrets reads every value. It holds decrypted
// secrets (env, shared envs, registry passwords): never log it.
type RollbackSnapshot struct {
	// Env is the application's env text at that build: what the container
	// runs with again after a rollback to it.
	Env          string       `json:"env"`
	BuildArgs    *string      `json:"buildArgs"`
	BuildSecrets *string      `json:"buildSecrets"`
	Environment  *Environment `json:"environment"`
	Project      *Project     `json:"project"` // before Dokploy had environments
	raw          json.RawMessage
}

// UnmarshalJSON keeps the whole snapshot, so Secrets can reach every value
// whatever the Dokploy version put in it.
func (s *RollbackSnapshot) UnmarshalJSON(data []byte) error {
	var typed struct {
		Env          *string      `json:"env"`
		BuildArgs    *string      `json:"buildArgs"`
		BuildSecrets *string      `json:"buildSecrets"`
		Environment  *Environment `json:"environment"`
		Project      *Project     `json:"project"`
	}
	if err := json.Unmarshal(data, &typed); err != nil {
		return err
	}
	*s = RollbackSnapshot{Env: deref(typed.Env), BuildArgs: typed.BuildArgs, BuildSecrets: typed.BuildSecrets,
		Environment: typed.Environment, Project: typed.Project, raw: append(json.RawMessage(nil), data...)}
	return nil
}

// dotenvFields hold dotenv text in a snapshot: their parsed values are
// secrets, the text itself is not printed anywhere.
var dotenvFields = map[string]bool{
	"env": true, "buildArgs": true, "buildSecrets": true,
	"previewEnv": true, "previewBuildArgs": true, "previewBuildSecrets": true,
}

// publicField reports a snapshot field that is not secret and that reports
// print: ids, timestamps, the service's names, a registry's name, URL and
// user name (a registry user such as "deploy" masked everywhere would garble
// every message holding the word; the password stays secret), and Dokploy's
// fixed choices (every *Type and *Status field) and build settings.
func publicField(key string) bool {
	switch key {
	case "appName", "name", "username", "registryName", "registryUrl", "imagePrefix",
		// Dokploy's fixed choices and build settings: words such as docker, github, nixpacks,
		// running, application, Dockerfile or main, which masked job-wide would garble every
		// line that holds them (a run link on github.com included).
		"provider", "branch", "buildPath", "dockerfile", "dockerContextPath", "dockerBuildStage",
		"publishDirectory", "composePath", "watchPaths", "networkSwarm":
		return true
	}
	return strings.HasSuffix(key, "Id") || strings.HasSuffix(key, "At") ||
		strings.HasSuffix(key, "Type") || strings.HasSuffix(key, "Status")
}

// Secrets returns every value of the snapshot that could be secret, to mask
// before anything is logged: every string in it, at any depth (registry
// passwords, mount contents, commands, ...), except ids, timestamps, names
// and a registry's URL and user name; every value of its dotenv fields (env, build args, build secrets,
// their preview forms, the environment's and the project's env) except the
// four runtime identity keys', which are public by design; and its env,
// build args and build secrets with references resolved. Multi-line values
// come whole and line by line, longest first, without duplicates.
func (s *RollbackSnapshot) Secrets() []string {
	set := newSecretSet()
	if s == nil {
		return set.list()
	}
	var v any
	if json.Unmarshal(s.raw, &v) == nil {
		walkSnapshot(v, "", set)
	}
	project, environment := sharedEnvs(s.Environment, s.Project)
	set.addShared(project, environment, s.Env, deref(s.BuildArgs), deref(s.BuildSecrets))
	return set.list()
}

// walkSnapshot adds the secrets of a decoded snapshot value found under key.
func walkSnapshot(v any, key string, set secretSet) {
	switch x := v.(type) {
	case string:
		switch {
		case dotenvFields[key]:
			set.addEnv(x)
		case !publicField(key):
			set.add(x)
		}
	case []any:
		for _, e := range x {
			walkSnapshot(e, key, set)
		}
	case map[string]any:
		for k, e := range x {
			walkSnapshot(e, k, set)
		}
	}
}

// AllByType lists the deployment rows of a service with their rollback
// records, newest first. kind is Dokploy's type: "application", "compose" (or
// another of its deployment owners).
//
// Dokploy API: GET deployment.allByType
func (s *DeploymentService) AllByType(ctx context.Context, kind, id string) ([]DeploymentRollback, error) {
	var rows []DeploymentRollback
	if _, err := s.c.get(ctx, "deployment.allByType", url.Values{"id": {id}, "type": {kind}}, &rows); err != nil {
		return nil, fmt.Errorf("dokploy: list deployments of %s %s with rollbacks: %w", kind, id, err)
	}
	return rows, nil
}

// DeploymentsByType lists the target's deployment rows with their rollback
// records (deployment.allByType), newest first.
func (c *Client) DeploymentsByType(ctx context.Context, t Target) ([]DeploymentRollback, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return c.Deployment.AllByType(ctx, string(t.Kind), t.ID)
}

// RollbackService calls the rollback router.
type RollbackService struct{ c *Client }

// ErrRollbackRefused matches a *RollbackError.
var ErrRollbackRefused = errors.New("dokploy: rollback refused")

// RollbackError reports a rollback Dokploy refused. Dokploy answers every
// failure of rollback.rollback (an unknown record, a snapshot it cannot use,
// a Swarm update that fails) with the same 400; the cause stays in its log.
type RollbackError struct {
	RollbackID string
	Err        *APIError
}

// Error implements error.
func (e *RollbackError) Error() string {
	return fmt.Sprintf("dokploy: roll back to %s: %v", SafeText(e.RollbackID), e.Err)
}

// Unwrap returns the API error.
func (e *RollbackError) Unwrap() error { return e.Err }

// Is reports whether target is ErrRollbackRefused.
func (e *RollbackError) Is(target error) bool { return target == ErrRollbackRefused }

// Rollback rolls an application back to a rollback record: Dokploy updates the
// service at once with the record's image and env. It accepts an empty answer,
// is never retried, and gives a *RollbackError when Dokploy refuses (400).
//
// Dokploy API: POST rollback.rollback
func (s *RollbackService) Rollback(ctx context.Context, rollbackID string) error {
	body := struct {
		RollbackID string `json:"rollbackId"`
	}{rollbackID}
	if _, err := s.c.post(ctx, "rollback.rollback", body, nil); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.StatusCode == 400 {
			return &RollbackError{RollbackID: rollbackID, Err: ae}
		}
		return fmt.Errorf("dokploy: roll back to %s: %w", rollbackID, err)
	}
	return nil
}

// Rollback rolls an application back to the rollback record rollbackID (see
// RollbackService.Rollback). The service's stored env is not changed: restore
// what must not come back on the next deploy.
func (c *Client) Rollback(ctx context.Context, rollbackID string) error {
	if strings.TrimSpace(rollbackID) == "" {
		return errors.New("dokploy: roll back: rollback id is empty")
	}
	return c.Rollbacks.Rollback(ctx, rollbackID)
}

// ErrNoRollbackTarget matches the error of RollbackTarget when no earlier
// deployment can be rolled back to.
var ErrNoRollbackTarget = errors.New("dokploy: no earlier deployment to roll back to")

// RollbackTarget picks the deployment to roll back to after deployment ours
// failed: the newest row of the same application, created before ours, that
// ended "done" and has a rollback record. Rows come as DeploymentsByType
// lists them (newest first); order by createdAt is used when every candidate's
// and our createdAt parse, the list order otherwise. A row that ended in error
// or cancelled also has a record (Dokploy creates it when the build starts)
// but is never a safe target.
func RollbackTarget(rows []DeploymentRollback, ours string) (*DeploymentRollback, error) {
	idx := -1
	for i, r := range rows {
		if r.DeploymentID == ours {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%w: deployment %s is not in the list", ErrNoRollbackTarget, SafeText(ours))
	}
	our := rows[idx]
	ourTime, ourErr := time.Parse(time.RFC3339Nano, our.CreatedAt)
	type cand struct {
		i int
		t time.Time
	}
	var cands []cand
	byTime := ourErr == nil
	for i, r := range rows {
		if i == idx || r.DeploymentID == "" || r.Status != StatusDone || r.RollbackID == nil || *r.RollbackID == "" ||
			r.Rollback == nil || r.Rollback.RollbackID != *r.RollbackID || !sameOwner(our.Deployment, r.Deployment) {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, r.CreatedAt)
		byTime = byTime && err == nil
		cands = append(cands, cand{i, t})
	}
	var best *cand
	for k, c := range cands {
		before := c.i > idx // newest first: later in the list is earlier
		if byTime {
			before = c.t.Before(ourTime)
		}
		if !before {
			continue
		}
		if best == nil || (byTime && c.t.After(best.t)) || (!byTime && c.i < best.i) {
			best = &cands[k]
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%w: no done deployment with a rollback record before %s", ErrNoRollbackTarget, SafeText(ours))
	}
	r := rows[best.i]
	return &r, nil
}

// sameOwner reports whether two rows belong to the same application (or
// compose service).
func sameOwner(a, b Deployment) bool {
	eq := func(x, y *string) bool { return x != nil && y != nil && *x == *y && *x != "" }
	return eq(a.ApplicationID, b.ApplicationID) || eq(a.ComposeID, b.ComposeID)
}
