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

// githubReporter writes the run to GitHub: the deployment, its statuses and the commit status.
// It reports; it never changes the decision. Every failure is a warning.
type githubReporter struct {
	r      *runner
	cfg    *Config
	want   identity.Identity
	client *ghdeploy.Client // nil when GitHub is not in use
	// report is what the run did on GitHub; nil when GitHub is not in use.
	report *summary.GitHub
	// off says why GitHub is not in use.
	off      string
	warnings []string
}

// newGitHub sets up the GitHub reporter without calling GitHub.
func (r *runner) newGitHub(cfg *Config, wf Workflow, want identity.Identity) *githubReporter {
	g := &githubReporter{r: r, cfg: cfg, want: want}
	switch {
	case !cfg.GitHubDeployment && !cfg.CommitStatus:
		g.off = "github-deployment and commit-status are false"
		return g
	case cfg.Mode != ModeDeploy && cfg.Mode != ModeVerify:
		g.off = string(cfg.Mode) + " mode writes no GitHub deployment"
		return g
	case cfg.GitHubToken == "":
		g.off = "no github-token was given"
		return g
	case wf.Repository == "":
		g.off = "GITHUB_REPOSITORY is not set (not running in GitHub Actions)"
		return g
	case want.SourceGitRef == "" || want.Context == "" || want.Instance == "":
		g.off = "the expected identity names no source_git_ref, context and instance to deploy"
		return g
	}
	api := wf.APIURL
	if api == "" {
		api = "https://api.github.com"
	}
	client, err := ghdeploy.New(r.env.HTTPClient, api, cfg.GitHubToken, wf.Repository, ghdeploy.WithSleep(r.env.Sleep), ghdeploy.WithNow(r.env.Now))
	if err != nil {
		g.off = "the GitHub client could not be set up"
		g.warn(err)
		return g
	}
	env := cfg.GitHubEnvironment
	if env == "" {
		env = want.Context + "/" + want.Instance
	}
	g.client = client
	g.report = &summary.GitHub{Environment: env, EnvironmentURL: cfg.EnvironmentURL, LogURL: wf.RunURL()}
	return g
}

// start creates the GitHub deployment and its in_progress status.
func (g *githubReporter) start(ctx context.Context) {
	if g.client == nil || !g.cfg.GitHubDeployment {
		return
	}
	var payload map[string]any
	_ = json.Unmarshal(g.want.Canonical(), &payload)
	id, err := g.client.CreateDeployment(ctx, ghdeploy.DeploymentRequest{
		Ref:         g.want.SourceGitRef,
		Environment: g.report.Environment,
		Description: logtext.Truncate(g.want.Breadcrumb(), ghdeploy.MaxDescription),
		Payload:     map[string]any{"runtime_identity": payload, "digest": g.want.Digest()},
		Transient:   g.want.EnvironmentKind == identity.KindPreview,
		Production:  g.want.Instance == "prod",
	})
	if err != nil {
		g.warn(err)
		return
	}
	g.report.DeploymentID = id
	g.r.sink.infof("GitHub deployment %d created for environment %s", id, g.report.Environment)
	if err := g.client.CreateStatus(ctx, id, ghdeploy.StatusRequest{
		State:          ghdeploy.StateInProgress,
		Description:    "verifying " + g.want.DeploymentRecordID,
		EnvironmentURL: g.report.EnvironmentURL,
		LogURL:         g.report.LogURL,
	}); err != nil {
		g.warn(err)
	}
}

// finish posts the decision as the final deployment status and the optional commit status.
// The commit status is posted even when the run stopped before opening a deployment, so a
// required check never waits forever.
func (g *githubReporter) finish(ctx context.Context, d summary.Decision, description, environmentURL string) {
	if g.client == nil {
		return
	}
	if g.report.EnvironmentURL == "" {
		g.report.EnvironmentURL = environmentURL
	}
	if g.report.DeploymentID != 0 {
		if err := g.client.CreateStatus(ctx, g.report.DeploymentID, ghdeploy.StatusRequest{
			State:          d.GitHubState,
			Description:    description,
			EnvironmentURL: g.report.EnvironmentURL,
			LogURL:         g.report.LogURL,
		}); err != nil {
			g.warn(err)
		}
	}
	if g.cfg.CommitStatus {
		statusContext := "runtime-identity/" + g.want.Context + "/" + g.want.Instance
		if err := g.client.CreateCommitStatus(ctx, g.want.SourceGitRef, statusContext, d.GitHubState, description, g.report.LogURL); err != nil {
			g.warn(err)
		}
	}
}

func (g *githubReporter) warn(err error) {
	msg := g.r.red.String(err.Error())
	if g.report != nil {
		g.report.Error = strings.TrimPrefix(g.report.Error+"; "+msg, "; ")
	}
	line := "GitHub: " + msg + " (the verdict and exit code are unaffected)"
	g.warnings = append(g.warnings, line)
	g.r.sink.annotate("warning", line)
}
