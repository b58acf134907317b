package action

import (
	"fmt"
	"slices"
	"strings"
)

// Input describes one action input. The table below is the single source of the inputs: action.yml
// and the README's inputs table are generated from it (TestActionYAML keeps them in step), and every
// default lives here, so the CLI, which has no action.yml, behaves the same.
type Input struct {
	Name    string
	Default string // the default the program applies; "" means none
	// ActionDefault, when set, is the default action.yml declares instead (an expression the
	// runner evaluates, such as ${{ github.token }}).
	ActionDefault string
	Description   string
	Secret        bool // masked and redacted wherever it could appear
}

// Inputs lists every input, in the order action.yml shows them.
var Inputs = []Input{
	{Name: "mode", Description: "deploy, inject, verify, render or inventory. Default: deploy when a Dokploy target is given, else verify."},
	{Name: "product", Description: "Identity field product (may be empty)."},
	{Name: "context", Description: "Identity field context (required unless an identity or record gives it)."},
	{Name: "instance", Description: "Identity field instance. Default on pull_request events: pr-<number>."},
	{Name: "environment-kind", Description: "stable or preview. Default: preview on pull_request events, else stable."},
	{Name: "deployment-record-id", Description: "Launchplane deployment record id. Default in deploy, inject and render: deployment-<YYYYMMDDTHHMMSSZ>-<context>-<instance>."},
	{Name: "artifact-id", Description: "The shipped artifact. Default: image-reference when only that is given."},
	{Name: "source-git-ref", Description: "Source commit. Default: the PR head SHA on pull_request events, else GITHUB_SHA."},
	{Name: "image-reference", Description: "Image reference (shown, not compared)."},
	{Name: "release-tuple-id", Description: "Release tuple id (shown, not compared)."},
	{Name: "preview-id", Description: "Preview id. Default on pull_request events: pr-<number>."},
	{Name: "preview-generation-id", Description: "Preview generation id."},
	{Name: "identity-json", Description: "A whole expected identity as JSON (explicit field inputs override its fields)."},
	{Name: "identity-file", Description: "Path of a file holding a whole expected identity as JSON."},
	{Name: "identity-out", Description: "Also write the expected identity's canonical JSON to this file, ready for identity-file of a later step or run."},
	{Name: "health-url", Description: "Tenant health JSON endpoint."},
	{Name: "base-url", Description: "Tenant base URL for the well-known document and headers. Default: the origin of health-url."},
	{Name: "require-identity", Default: "false", Description: "Fail the step (exit 1) on anything but a confirmed match, unverifiable included."},
	{Name: "verify-timeout", Default: "3m", Description: "How long to wait for a confirmed match (Go duration)."},
	{Name: "confirmations", Default: "auto", Description: "Consecutive matching answers needed: a number, or auto (1, or 2 x replicas when the Dokploy target runs more than one)."},
	{Name: "dokploy-url", Description: "Dokploy instance base URL (the client adds /api/)."},
	{Name: "dokploy-api-key", Description: "Dokploy API key (x-api-key).", Secret: true},
	{Name: "dokploy-application-id", Description: "Dokploy application to patch and deploy (exactly one target)."},
	{Name: "dokploy-compose-id", Description: "Dokploy compose service to patch and deploy (exactly one target)."},
	{Name: "dokploy-application-name", Description: "Dokploy application to patch and deploy, named by its exact appName (found with application.search), such as shop-pr-42."},
	{Name: "dokploy-compose-name", Description: "Dokploy compose service to patch and deploy, named by its exact appName (found with compose.search)."},
	{Name: "redeploy", Default: "false", Description: "Trigger redeploy instead of deploy."},
	{Name: "on-failure", Default: "none", Description: "none, or rollback: when the rollout fails or a required identity does not match, roll the application back to its newest earlier done deployment with Dokploy's rollback, restore the identity keys of the stored env, and verify the earlier identity serves again (applications in deploy mode; the step still fails)."},
	{Name: "rollout-timeout", Default: "10m", Description: "How long to wait for the Dokploy deployment (Go duration)."},
	{Name: "github-token", ActionDefault: "${{ github.token }}", Description: "Token for the GitHub deployment and statuses.", Secret: true},
	{Name: "github-deployment", Default: "true", Description: "Create a GitHub deployment and statuses (deploy and verify modes)."},
	{Name: "github-environment", Description: "GitHub environment name. Default: <context>/<instance>."},
	{Name: "environment-url", Description: "Link shown on the deployment. Default: base-url."},
	{Name: "commit-status", Default: "false", Description: "Also post a commit status runtime-identity/<context>/<instance>."},
	{Name: "launchplane-url", Description: "Launchplane base URL: read the expected identity from the deployment record deployment-record-id, or, without one, from the lane product/instance with its health URL (GitHub OIDC; the job needs id-token: write)."},
	{Name: "launchplane-audience", Description: "OIDC audience for Launchplane. Default: the Launchplane host."},
	{Name: "launchplane-token", Description: "Bearer token for Launchplane instead of OIDC, for local CLI use.", Secret: true},
	{Name: "lanes-file", Description: "Mode inventory: a JSON or YAML file listing the lanes to probe (see docs/inventory.md); or give launchplane-url and product."},
	{Name: "format", Description: "Mode inventory: format of the output file: table, json, markdown or html. Default: from output's extension."},
	{Name: "output", Description: "Mode inventory: also write the report to this file (the JSON read model always goes to evidence-path, the Markdown to the job summary)."},
	{Name: "concurrency", Default: "32", Description: "Mode inventory: lanes probed at once (1 to 256)."},
	{Name: "lane-timeout", Default: "10s", Description: "Mode inventory: how long each lane may take, confirmations included (Go duration)."},
	{Name: "shard", Description: "Mode inventory: probe only shard i/n (0-based) of the lanes, for a matrix; join the shards' reports with merge."},
	{Name: "merge", Description: "Mode inventory: shard reports (paths or globs, separated by spaces or newlines) to join into one report instead of probing."},
	{Name: "launchplane-report", Default: "false", Description: "Post the verification back to Launchplane's stable-verification route (needs launchplane-url)."},
}

// Output describes one action output.
type Output struct {
	Name        string
	Description string
}

// Outputs lists every output the action sets.
var Outputs = []Output{
	{"status", "The verdict: unchecked, match, mismatch, missing, malformed or unverifiable."},
	{"identity-json", "The expected identity's canonical JSON."},
	{"digest", "sha256:<hex> of the canonical JSON."},
	{"breadcrumb", "Short display string: product/context/instance deployment_record_id @sha7."},
	{"deployment-record-id", "The expected deployment record id."},
	{"mismatched-fields", "Comma-separated fields that differ (empty unless mismatch)."},
	{"observed-json", "The identity the tenant reported, as JSON on one line (empty when none)."},
	{"dokploy-deployment-id", "The Dokploy deployment this run followed."},
	{"github-deployment-id", "The GitHub deployment this run created."},
	{"evidence-path", "Path of the evidence JSON file (mode inventory: the fleet's JSON read model): relative to the workspace in a workflow (open it as ${{ github.workspace }}/<path> or from any later step), absolute from the CLI."},
	{"time-to-match-ms", "Milliseconds from the first probe to the confirmed match (empty without one)."},
	{"env-lines", "The four LAUNCHPLANE_* env lines, one per line (render mode)."},
	{"rollback-status", "With on-failure: rollback: rolled-back, rolled-back-unverified, not-possible or failed; empty when no rollback was due."},
	{"rollback-deployment-id", "The Dokploy deployment rolled back to."},
	{"launchplane-report-status", "With launchplane-report: accepted, rejected (the warning names Launchplane's code and trace id), failed (unreachable) or not-sent."},
}

func lookupInput(name string) (Input, bool) {
	for _, in := range Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}

// inputGroups names the modes that read an input, for its --help; every input not listed in
// inputGroups applies to every mode but inventory.
var inputGroups = map[string][]Mode{
	"health-url": {ModeVerify, ModeDeploy}, "base-url": {ModeVerify, ModeDeploy}, "require-identity": {ModeVerify, ModeDeploy},
	"verify-timeout": {ModeVerify, ModeDeploy}, "confirmations": {ModeVerify, ModeDeploy},
	"dokploy-url": {ModeDeploy, ModeInject}, "dokploy-api-key": {ModeDeploy, ModeInject},
	"dokploy-application-id": {ModeDeploy, ModeInject}, "dokploy-compose-id": {ModeDeploy, ModeInject},
	"dokploy-application-name": {ModeDeploy, ModeInject}, "dokploy-compose-name": {ModeDeploy, ModeInject},
	"redeploy": {ModeDeploy}, "on-failure": {ModeDeploy}, "rollout-timeout": {ModeDeploy},
	"github-token": {ModeVerify, ModeDeploy}, "github-deployment": {ModeVerify, ModeDeploy}, "github-environment": {ModeVerify, ModeDeploy},
	"environment-url": {ModeVerify, ModeDeploy}, "commit-status": {ModeVerify, ModeDeploy},
	"launchplane-report": {ModeVerify, ModeDeploy},
	"lanes-file":         {ModeInventory}, "format": {ModeInventory}, "output": {ModeInventory}, "concurrency": {ModeInventory},
	"lane-timeout": {ModeInventory}, "shard": {ModeInventory}, "merge": {ModeInventory},
}

// appliesTo reports whether input in is read in mode m.
func (in Input) appliesTo(m Mode) bool {
	if in.Name == "mode" {
		return false
	}
	modes, ok := inputGroups[in.Name]
	if !ok {
		return m != ModeInventory
	}
	return slices.Contains(modes, m)
}

// modeHelp lists a mode's flags with their defaults.
func modeHelp(m Mode) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: runtime-identity %s [--flag value ...]\n\nFlags (each is also the action input of the same name):\n", m)
	for _, in := range Inputs {
		if !in.appliesTo(m) {
			continue
		}
		fmt.Fprintf(&b, "  --%s", in.Name)
		if in.Default != "" {
			fmt.Fprintf(&b, " (default %s)", in.Default)
		}
		fmt.Fprintf(&b, "\n      %s\n", in.Description)
	}
	b.WriteString("\nSecrets may come from DOKPLOY_API_KEY, GITHUB_TOKEN and LAUNCHPLANE_TOKEN instead of flags.\n")
	return b.String()
}
