package action

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// Workflow is the part of the GitHub workflow context a run uses for defaults and links.
type Workflow struct {
	EventName  string
	PRNumber   int
	PRHeadSHA  string
	SHA        string
	Repository string // owner/name
	ServerURL  string
	APIURL     string
	RunID      int64
	RunAttempt int64
}

// IsPullRequest reports whether the run was triggered by a pull request event.
func (w Workflow) IsPullRequest() bool {
	return (w.EventName == "pull_request" || w.EventName == "pull_request_target") && w.PRNumber > 0
}

// RunURL links to the workflow run, or "" outside GitHub Actions.
func (w Workflow) RunURL() string {
	if w.ServerURL == "" || w.Repository == "" || w.RunID == 0 {
		return ""
	}
	u := fmt.Sprintf("%s/%s/actions/runs/%d", strings.TrimRight(w.ServerURL, "/"), w.Repository, w.RunID)
	if w.RunAttempt > 1 {
		u += fmt.Sprintf("/attempts/%d", w.RunAttempt)
	}
	return u
}

// SourceSHA is the commit a run deploys: the PR head on pull_request events (GITHUB_SHA is the
// merge commit there), else GITHUB_SHA.
func (w Workflow) SourceSHA() string {
	if w.IsPullRequest() && w.PRHeadSHA != "" {
		return w.PRHeadSHA
	}
	return w.SHA
}

// readWorkflow reads the workflow context. A variable that fails to parse is not fatal: the
// context comes back with the rest, and the problem is returned as a warning.
func readWorkflow(ga *githubactions.Action) (Workflow, error) {
	ctx, err := ga.Context()
	if ctx == nil {
		return Workflow{}, err
	}
	w := Workflow{
		EventName:  ctx.EventName,
		SHA:        ctx.SHA,
		Repository: ctx.Repository,
		ServerURL:  ctx.ServerURL,
		APIURL:     ctx.APIURL,
		RunID:      ctx.RunID,
		RunAttempt: ctx.RunAttempt,
	}
	if pr, ok := ctx.Event["pull_request"].(map[string]any); ok {
		switch n := pr["number"].(type) {
		case float64:
			w.PRNumber = int(n)
		case string:
			w.PRNumber, _ = strconv.Atoi(n)
		}
		if head, ok := pr["head"].(map[string]any); ok {
			w.PRHeadSHA, _ = head["sha"].(string)
		}
	}
	if w.PRNumber == 0 {
		if n, ok := ctx.Event["number"].(float64); ok {
			w.PRNumber = int(n)
		}
	}
	return w, err
}

// PreviewSlug is the pull request's preview slug, pr-<number>: the instance and preview id
// of a per-PR lane.
func (w Workflow) PreviewSlug() string { return "pr-" + strconv.Itoa(w.PRNumber) }
