package action

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/launchplane/runtime-identity/internal/ghdeploy"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// githubReport is what the run did on GitHub, and the client it did it with.
type githubReport struct {
	summary.GitHub
	client *ghdeploy.Client
}

// startGitHub creates the GitHub deployment and its in_progress status. Any failure is a warning:
// GitHub never changes the verdict or the exit code.
func (r *run) startGitHub(ctx context.Context) {
	if !r.githubClient() {
		return
	}
	if !r.cfg.GitHubDeployment {
		r.unavailable["github_deployment"] = "github-deployment is false"
		return
	}
	client, env, envURL := r.github.client, r.github.Environment, r.github.EnvironmentURL
	var payload map[string]any
	_ = json.Unmarshal(r.expected.Canonical(), &payload)
	id, err := client.CreateDeployment(ctx, ghdeploy.DeploymentRequest{
		Ref:         r.expected.SourceGitRef,
		Environment: env,
		Description: logtext.Truncate(r.expected.Breadcrumb(), ghdeploy.MaxDescription),
		Payload:     map[string]any{"runtime_identity": payload, "digest": r.expected.Digest()},
		Transient:   r.expected.EnvironmentKind == identity.KindPreview,
		Production:  r.expected.Instance == "prod",
	})
	if err != nil {
		r.githubWarning(err)
		return
	}
	r.github.DeploymentID = id
	r.sink.infof("GitHub deployment %d created for environment %s", id, env)
	if err := client.CreateStatus(ctx, id, ghdeploy.StatusRequest{
		State:          ghdeploy.StateInProgress,
		Description:    "verifying " + r.expected.DeploymentRecordID,
		EnvironmentURL: envURL,
		LogURL:         r.github.LogURL,
	}); err != nil {
		r.githubWarning(err)
	}
}

// githubClient sets up r.github without calling GitHub, and says whether GitHub is in use.
func (r *run) githubClient() bool {
	if r.github != nil {
		return true
	}
	switch {
	case !r.cfg.GitHubDeployment && !r.cfg.CommitStatus:
		r.unavailable["github"] = "github-deployment and commit-status are false"
		return false
	case r.cfg.GitHubToken == "":
		r.unavailable["github"] = "no github-token was given"
		return false
	case r.wf.Repository == "":
		r.unavailable["github"] = "GITHUB_REPOSITORY is not set (not running in GitHub Actions)"
		return false
	}
	api := r.wf.APIURL
	if api == "" {
		api = "https://api.github.com"
	}
	client, err := ghdeploy.New(r.env.HTTPClient, api, r.cfg.GitHubToken, r.wf.Repository, ghdeploy.WithSleep(r.env.Sleep), ghdeploy.WithNow(r.env.Now))
	if err != nil {
		r.githubWarning(err)
		return false
	}
	env := r.cfg.GitHubEnvironment
	if env == "" {
		env = r.expected.Context + "/" + r.expected.Instance
	}
	envURL := r.cfg.EnvironmentURL
	if envURL == "" {
		envURL = r.cfg.BaseURL
	}
	r.github = &githubReport{client: client, GitHub: summary.GitHub{Environment: env, EnvironmentURL: envURL, LogURL: r.wf.RunURL()}}
	return true
}

// finishGitHub posts the final deployment status and the optional commit status. The commit
// status is posted even when the run stopped before opening a deployment, so a required check
// never waits forever.
func (r *run) finishGitHub(ctx context.Context) {
	if r.github == nil {
		if !r.cfg.CommitStatus || (r.cfg.Mode != ModeDeploy && r.cfg.Mode != ModeVerify) || !r.githubClient() {
			return
		}
	}
	if r.github.EnvironmentURL == "" {
		// The tenant URL may have been found on the target's Dokploy domain meanwhile.
		r.github.EnvironmentURL = r.cfg.BaseURL
	}
	desc := r.description()
	state := r.githubState()
	if r.github.DeploymentID != 0 {
		if err := r.github.client.CreateStatus(ctx, r.github.DeploymentID, ghdeploy.StatusRequest{
			State:          state,
			Description:    desc,
			EnvironmentURL: r.github.EnvironmentURL,
			LogURL:         r.github.LogURL,
		}); err != nil {
			r.githubWarning(err)
		}
	}
	if r.cfg.CommitStatus {
		statusContext := "runtime-identity/" + r.expected.Context + "/" + r.expected.Instance
		if err := r.github.client.CreateCommitStatus(ctx, r.expected.SourceGitRef, statusContext, state, desc, r.github.LogURL); err != nil {
			r.githubWarning(err)
		}
	}
}

// githubState maps the outcome to a deployment status state: success for a match (or nothing to
// verify, or an identity not yet exposed while not required), failure when the tenant serves
// something else or the rollout failed, error when the outcome could not be found out.
func (r *run) githubState() string {
	switch {
	case r.outcome == OutcomeError:
		return ghdeploy.StateError
	case r.outcome == OutcomeFailed:
		return ghdeploy.StateFailure
	}
	switch r.verdict.Status {
	case identity.StatusMismatch, identity.StatusMalformed:
		return ghdeploy.StateFailure
	case identity.StatusUnverifiable:
		return ghdeploy.StateError
	}
	return ghdeploy.StateSuccess
}

func (r *run) githubWarning(err error) {
	msg := r.red.String(err.Error())
	if r.github != nil {
		r.github.Error = strings.TrimPrefix(r.github.Error+"; "+msg, "; ")
	}
	r.warnings = append(r.warnings, "GitHub: "+msg+" (the verdict and exit code are unaffected)")
	r.sink.annotate("warning", "GitHub: "+msg+" (the verdict and exit code are unaffected)")
}
