package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/launchplane"
	"github.com/launchplane/runtime-identity/internal/summary"
	"github.com/sethvargo/go-githubactions"
)

// Record is the Launchplane deployment record the expected identity was read from.
type Record struct {
	URL     string
	TraceID string
	client  *launchplane.Client
}

// lpReport is what posting the verification back to Launchplane left: notes and warnings for
// the report. It never changes the decision.
type lpReport struct {
	notes, warnings []string
}

// launchplaneClient builds the Launchplane client: a static launchplane-token (local CLI use),
// else a GitHub Actions OIDC token for the audience (the job needs id-token: write).
func (r *runner) launchplaneClient(cfg *Config) (*launchplane.Client, error) {
	token := launchplane.StaticToken(cfg.LaunchplaneToken)
	if cfg.LaunchplaneToken == "" {
		if r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "" {
			return nil, &ConfigError{Input: "launchplane-url", Problem: "reading a Launchplane record needs a token: give the job permissions: id-token: write (GitHub OIDC), or pass launchplane-token when running the CLI"}
		}
		audience := cfg.LaunchplaneAudience
		if audience == "" {
			u, _ := url.Parse(cfg.LaunchplaneURL)
			audience = u.Host
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
	return launchplane.New(cfg.LaunchplaneURL, token, opts...)
}

// readRecord reads the expected identity from the Launchplane deployment record named by
// deployment-record-id. Bad input (no such record, a record without a usable identity) is a
// configuration error; Launchplane unreachable or refusing the token is exit 3.
func (r *runner) readRecord(ctx context.Context, cfg *Config) (*identity.Identity, *Record, []string, int) {
	client, err := r.launchplaneClient(cfg)
	if err != nil {
		return nil, nil, nil, r.configError(err)
	}
	id := cfg.Fields["deployment_record_id"]
	dep, err := client.Deployment(ctx, id)
	switch {
	case err == nil:
	case errors.Is(err, launchplane.ErrNotFound):
		return nil, nil, nil, r.configError(&ConfigError{Input: "deployment-record-id", Problem: fmt.Sprintf("Launchplane has no deployment record %s; use the record id the deploy step output", show(id))})
	case errors.Is(err, launchplane.ErrNoIdentity), errors.Is(err, launchplane.ErrInvalidIdentity), errors.Is(err, launchplane.ErrRecordMismatch):
		return nil, nil, nil, r.configError(&ConfigError{Input: "deployment-record-id", Problem: "the Launchplane record cannot give the expected identity (" + r.red.String(err.Error()) + "); pass identity-json instead"})
	default:
		msg := "Launchplane: could not read deployment record " + id + ": " + r.red.String(err.Error())
		if errors.Is(err, launchplane.ErrUnauthorized) {
			msg = "Launchplane refused the token (check permissions: id-token: write, the audience, and Launchplane's allow-list for this repository) while reading deployment record " + id
		}
		r.sink.annotate("error", msg)
		fmt.Fprintln(r.stderr, "runtime-identity: the expected identity could not be read; nothing was written anywhere")
		return nil, nil, nil, ExitUnknown
	}
	var notes []string
	if len(dep.UnknownKeys) > 0 {
		notes = append(notes, "the Launchplane record's identity has keys this version does not know (tolerated): "+strings.Join(dep.UnknownKeys, ", "))
	}
	r.sink.infof("expected identity read from Launchplane record %s", dep.URL)
	return &dep.Identity, &Record{client: client, URL: dep.URL, TraceID: dep.TraceID}, notes, ExitOK
}

// reportToLaunchplane posts the verification evidence back (launchplane-report). A failure is
// a warning: it never changes the verdict or the exit code.
func (r *runner) reportToLaunchplane(ctx context.Context, cfg *Config, wf Workflow, exp Expected, pr *Probe, d summary.Decision) lpReport {
	var rep lpReport
	if !cfg.LaunchplaneReport {
		return rep
	}
	if pr == nil || pr.Result == nil || pr.Result.Attempts == 0 {
		rep.warnings = append(rep.warnings, "launchplane-report: the tenant was not probed, so there was nothing to report")
		return rep
	}
	var client *launchplane.Client
	if exp.Record != nil {
		client = exp.Record.client
	} else {
		c, err := r.launchplaneClient(cfg)
		if err != nil {
			return r.launchplaneWarning(rep, err)
		}
		client = c
	}
	var payload json.RawMessage
	if raw := pr.observedRaw(); raw != nil {
		payload, _ = json.Marshal(map[string]json.RawMessage{"runtime_identity": summary.RedactJSON(raw, r.red.String)})
	}
	want := exp.Identity
	v := launchplane.Verification{
		Product:            want.Product,
		Context:            want.Context,
		Instance:           want.Instance,
		DeploymentRecordID: want.DeploymentRecordID,
		Status:             string(d.Verdict.Status),
		VerifiedAt:         r.env.Now(),
		TimeoutSeconds:     int(cfg.VerifyTimeout.Seconds()),
		HealthPayload:      payload,
	}
	if pr.Result.URL != "" {
		v.CheckedURLs = []string{pr.Result.URL}
	}
	if d.Verdict.Status != identity.StatusMatch {
		v.FailureSummary = r.red.String(d.Verdict.Detail)
	}
	key := fmt.Sprintf("stable-verification:%s:%s:%d:%d", want.Product, want.Instance, wf.RunID, wf.RunAttempt)
	trace, err := client.ReportVerification(ctx, v, key)
	if err != nil {
		return r.launchplaneWarning(rep, err)
	}
	rep.notes = append(rep.notes, "the verification was reported to Launchplane (trace "+trace+")")
	return rep
}

func (r *runner) launchplaneWarning(rep lpReport, err error) lpReport {
	msg := "Launchplane report: " + r.red.String(err.Error()) + " (the verdict and exit code are unaffected)"
	rep.warnings = append(rep.warnings, msg)
	r.sink.annotate("warning", msg)
	return rep
}
