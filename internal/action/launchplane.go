package action

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/launchplane"
	"github.com/launchplane/runtime-identity/internal/summary"
	"github.com/sethvargo/go-githubactions"
)

// Record is the Launchplane deployment record or lane the expected identity was read from.
type Record struct {
	URL     string
	TraceID string
	// RecordID names the deployment record reports are about.
	RecordID string
	// Identity is the identity as Launchplane holds it, before inputs override fields: a report
	// to Launchplane is judged against it. Nil when Launchplane holds none.
	Identity *identity.Identity
	// HealthURL and BaseURL are the lane's URLs (a lane read only), used when health-url and
	// base-url are not given.
	HealthURL, BaseURL string
	client             *launchplane.Client
}

// Outputs of launchplane-report-status.
const (
	LaunchplaneAccepted = "accepted" // Launchplane recorded the verification (or replayed it)
	LaunchplaneRejected = "rejected" // Launchplane refused it; the warning names its code and trace id
	LaunchplaneFailed   = "failed"   // Launchplane could not be reached, or did not say
	LaunchplaneNotSent  = "not-sent" // there was nothing to report
)

// lpReport is what posting the verification back to Launchplane left. It never changes the
// decision.
type lpReport struct {
	status          string // one of the Launchplane* outputs, "" when no report was asked for
	notes, warnings []string
}

// launchplaneClient builds the Launchplane client: a static launchplane-token (local CLI use),
// else a GitHub Actions OIDC token for the audience (the job needs id-token: write).
func (r *runner) launchplaneClient(cfg *Config) (*launchplane.Client, error) {
	token := launchplane.StaticToken(cfg.LaunchplaneToken)
	if cfg.LaunchplaneToken == "" {
		if r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "" {
			return nil, &ConfigError{Input: "launchplane-url", Problem: "reading Launchplane needs a token: give the job permissions: id-token: write (GitHub OIDC), or pass launchplane-token when running the CLI"}
		}
		audience := cfg.LaunchplaneAudience
		if audience == "" {
			// As Launchplane's own client computes it: the host, a default port dropped.
			a, err := launchplane.Audience(cfg.LaunchplaneURL)
			if err != nil {
				return nil, &ConfigError{Input: "launchplane-url", Problem: err.Error()}
			}
			audience = a
		}
		r.mask(r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))
		ga := githubactions.New(githubactions.WithGetenv(r.env.Getenv), githubactions.WithWriter(io.Discard))
		token = func(ctx context.Context) (string, error) {
			tok, err := ga.GetIDToken(ctx, audience)
			if err != nil {
				return "", fmt.Errorf("GitHub OIDC token: %s", r.red.String(err.Error()))
			}
			r.mask(tok)
			return tok, nil
		}
	}
	opts := []launchplane.Option{launchplane.WithSleep(r.env.Sleep), launchplane.WithNow(r.env.Now)}
	if r.env.HTTPClient != nil {
		opts = append(opts, launchplane.WithHTTPClient(r.env.HTTPClient))
	}
	client, err := launchplane.New(cfg.LaunchplaneURL, token, opts...)
	if err != nil {
		return nil, &ConfigError{Input: "launchplane-url", Problem: err.Error()}
	}
	if p := client.IgnoredPath(); p != "" {
		r.sink.infof("launchplane-url: the path %s is ignored; Launchplane's routes are absolute, as its own client resolves them", p)
	}
	return client, nil
}

// readLaunchplane reads the expected identity from Launchplane: the deployment record named by
// deployment-record-id, else the lane product/instance (a pull-request check that knows only
// its lane). Bad input (no such record or lane, an identity that breaks the contract) is a
// configuration error; Launchplane unreachable or refusing the token is exit 3. A record or lane
// without an identity is neither: the run goes on, unchecked, and says why.
func (r *runner) readLaunchplane(ctx context.Context, cfg *Config, wf Workflow) (*Record, []string, *Fault, int) {
	client, err := r.launchplaneClient(cfg)
	if err != nil {
		return nil, nil, nil, r.configError(err)
	}
	rec := &Record{client: client}
	var (
		what, input string
		unknown     []string
	)
	if id := cfg.Fields["deployment_record_id"]; id != "" {
		what, input = "deployment record "+id, "deployment-record-id"
		dep, err := client.Deployment(ctx, id)
		if err != nil {
			f, code := r.launchplaneReadFailed(err, what, input)
			return nil, nil, f, code
		}
		rec.URL, rec.TraceID, rec.RecordID, rec.Identity, unknown = dep.URL, dep.TraceID, dep.RecordID, dep.Expected, dep.UnknownKeys
	} else {
		product, instance := cfg.Fields["product"], cfg.Fields["instance"]
		if instance == "" && wf.IsPullRequest() {
			instance = wf.PreviewSlug()
		}
		if instance == "" {
			return nil, nil, nil, r.configError(&ConfigError{Input: "instance", Problem: "reading the lane from Launchplane needs its instance (the Launchplane environment, such as prod; pull_request events default to pr-<number>), or set deployment-record-id"})
		}
		what, input = "the lane "+product+"/"+instance, "instance"
		env, err := client.ProductEnvironment(ctx, product, instance)
		if err != nil {
			f, code := r.launchplaneReadFailed(err, what, input)
			return nil, nil, f, code
		}
		rec.URL, rec.TraceID, rec.Identity, unknown = env.URL, env.TraceID, env.Expected, env.UnknownKeys
		rec.HealthURL, rec.BaseURL = env.HealthURL, env.BaseURL
		if env.Expected != nil {
			rec.RecordID = env.Expected.DeploymentRecordID
		}
	}
	var notes []string
	if len(unknown) > 0 {
		notes = append(notes, "the identity in Launchplane has keys this version does not know (tolerated): "+strings.Join(unknown, ", "))
	}
	r.sink.infof("expected identity read from Launchplane: %s", rec.URL)
	return rec, notes, nil, ExitOK
}

// launchplaneReadFailed sorts a failed read: bad input is reported at once (exit 2); anything
// else is a fault (exit 3) the run reports.
func (r *runner) launchplaneReadFailed(err error, what, input string) (*Fault, int) {
	switch {
	case errors.Is(err, launchplane.ErrNotFound):
		return nil, r.configError(&ConfigError{Input: input, Problem: fmt.Sprintf("Launchplane has no %s; use the record id the deploy step output, or the lane's product and instance", what)})
	case errors.Is(err, launchplane.ErrInvalidIdentity), errors.Is(err, launchplane.ErrRecordMismatch):
		return nil, r.configError(&ConfigError{Input: input, Problem: "Launchplane's " + what + " cannot give the expected identity (" + r.red.String(err.Error()) + "); pass identity-json instead"})
	}
	msg := "Launchplane: could not read " + what + ": " + r.red.String(err.Error())
	if errors.Is(err, launchplane.ErrUnauthorized) {
		msg = "Launchplane refused the token while reading " + what + " (" + r.red.String(err.Error()) + "); check permissions: id-token: write, the audience, and Launchplane's allow-list for this repository"
	}
	return &Fault{Exit: ExitUnknown, Message: msg}, ExitOK
}

// reportToLaunchplane posts the verification back (launchplane-report) in Launchplane's own
// terms: pass only with a body its strict rules also call a match, fail with a one-line
// summary otherwise, under its own idempotency key. A refusal is a warning and the
// launchplane-report-status output: it never changes the verdict or the exit code.
func (r *runner) reportToLaunchplane(ctx context.Context, cfg *Config, wf Workflow, exp Expected, pr *Probe, d summary.Decision) lpReport {
	if !cfg.LaunchplaneReport {
		return lpReport{}
	}
	rep := lpReport{status: LaunchplaneNotSent}
	want := exp.Identity
	switch {
	case pr == nil || pr.Result == nil || pr.Result.Attempts == 0:
		rep.warnings = append(rep.warnings, "launchplane-report: the tenant was not probed, so there was nothing to report")
		return rep
	case want.Product == "":
		rep.warnings = append(rep.warnings, "launchplane-report: Launchplane needs the product to record a verification; set product")
		return rep
	}
	client, launchplaneIdentity, recordID := (*launchplane.Client)(nil), &want, want.DeploymentRecordID
	if exp.Record != nil {
		client, launchplaneIdentity, recordID = exp.Record.client, exp.Record.Identity, exp.Record.RecordID
	} else {
		c, err := r.launchplaneClient(cfg)
		if err != nil {
			return r.launchplaneWarning(rep, LaunchplaneFailed, err)
		}
		client = c
	}
	var body []byte
	for _, a := range pr.Result.Last.Answers {
		if a.Surface == identity.SurfaceHealth {
			body = a.Body // Launchplane reclassifies the health body, whichever surface decided
		}
	}
	in := launchplane.ReportInput{
		Product: want.Product, Context: want.Context, Instance: want.Instance, RecordID: recordID,
		Expected:   launchplaneIdentity,
		Verdict:    d.Verdict.Status,
		Detail:     r.red.String(d.Verdict.Detail),
		HealthBody: body,
		Withhold:   func(b []byte) bool { return r.red.String(string(b)) != string(b) },
		CheckedURL: pr.Result.URL,
		Timeout:    cfg.VerifyTimeout,
		VerifiedAt: r.env.Now(),
		RunID:      wf.RunID,
		RunAttempt: int(wf.RunAttempt),
	}
	req, notes, err := launchplane.NewStableVerification(in)
	if err != nil {
		return r.launchplaneWarning(rep, LaunchplaneNotSent, err)
	}
	rep.notes = append(rep.notes, notes...)
	acc, err := client.PostStableVerification(ctx, req)
	if errors.Is(err, launchplane.ErrOutcomeUnknown) {
		// The connection dropped after the post was sent: the same key and the same bytes
		// are recognised as the same report, so sending it again is safe.
		acc, err = client.PostStableVerification(ctx, req)
	}
	if err != nil {
		var apiErr *launchplane.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 {
			return r.launchplaneWarning(rep, LaunchplaneRejected, err)
		}
		return r.launchplaneWarning(rep, LaunchplaneFailed, err)
	}
	rep.status = LaunchplaneAccepted
	note := fmt.Sprintf("the verification was reported to Launchplane as %s (trace %s", req.Status, acc.TraceID)
	if acc.Replayed {
		note += ", a replay of " + acc.OriginalTraceID
	}
	if acc.DeploymentHealthStatus != "" {
		note += "; deployment health recorded as " + acc.DeploymentHealthStatus
	}
	rep.notes = append(rep.notes, note+")")
	return rep
}

func (r *runner) launchplaneWarning(rep lpReport, status string, err error) lpReport {
	rep.status = status
	msg := "Launchplane report " + status + ": " + r.red.String(err.Error()) + " (the verdict and exit code are unaffected)"
	rep.warnings = append(rep.warnings, msg)
	r.sink.annotate("warning", msg)
	return rep
}
