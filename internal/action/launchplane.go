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
	"github.com/sethvargo/go-githubactions"
)

// recordReport is what the run read from, and sent to, Launchplane.
type recordReport struct {
	client  *launchplane.Client
	URL     string
	TraceID string
}

// launchplaneClient builds the Launchplane client: a static launchplane-token (local CLI use),
// else a GitHub Actions OIDC token for the audience (the job needs id-token: write).
func (r *run) launchplaneClient() (*launchplane.Client, error) {
	token := launchplane.StaticToken(r.cfg.LaunchplaneToken)
	if r.cfg.LaunchplaneToken == "" {
		if r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_URL") == "" || r.env.Getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN") == "" {
			return nil, &ConfigError{Input: "launchplane-url", Problem: "reading a Launchplane record needs a token: give the job permissions: id-token: write (GitHub OIDC), or pass launchplane-token when running the CLI"}
		}
		audience := r.cfg.LaunchplaneAudience
		if audience == "" {
			u, _ := url.Parse(r.cfg.LaunchplaneURL)
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
	return launchplane.New(r.cfg.LaunchplaneURL, token, opts...)
}

// readRecord reads the expected identity from the Launchplane deployment record named by
// deployment-record-id. Bad input (no such record, a record without a usable identity) is a
// configuration error; Launchplane unreachable or refusing the token is exit 3.
func (r *run) readRecord(ctx context.Context) (*identity.Identity, int) {
	client, err := r.launchplaneClient()
	if err != nil {
		return nil, r.configError(err)
	}
	id := r.cfg.Fields["deployment_record_id"]
	dep, err := client.Deployment(ctx, id)
	switch {
	case err == nil:
	case errors.Is(err, launchplane.ErrNotFound):
		return nil, r.configError(&ConfigError{Input: "deployment-record-id", Problem: fmt.Sprintf("Launchplane has no deployment record %s; use the record id the deploy step output", show(id))})
	case errors.Is(err, launchplane.ErrNoIdentity), errors.Is(err, launchplane.ErrInvalidIdentity), errors.Is(err, launchplane.ErrRecordMismatch):
		return nil, r.configError(&ConfigError{Input: "deployment-record-id", Problem: "the Launchplane record cannot give the expected identity (" + r.red.String(strings.TrimPrefix(err.Error(), "launchplane: ")) + "); pass identity-json instead"})
	default:
		msg := "Launchplane: could not read deployment record " + id + ": " + r.red.String(err.Error())
		if errors.Is(err, launchplane.ErrUnauthorized) {
			msg = "Launchplane refused the token (check permissions: id-token: write, the audience, and Launchplane's allow-list for this repository) while reading deployment record " + id
		}
		r.sink.annotate("error", msg)
		fmt.Fprintln(r.stderr, "runtime-identity: the expected identity could not be read; nothing was written anywhere")
		return nil, ExitUnknown
	}
	r.record = &recordReport{client: client, URL: dep.URL, TraceID: dep.TraceID}
	if len(dep.UnknownKeys) > 0 {
		r.notes = append(r.notes, "the Launchplane record's identity has keys this version does not know (tolerated): "+strings.Join(dep.UnknownKeys, ", "))
	}
	r.sink.infof("expected identity read from Launchplane record %s", dep.URL)
	return &dep.Identity, ExitOK
}

// reportToLaunchplane posts the verification evidence back (launchplane-report). A failure is a
// warning: it never changes the verdict or the exit code.
func (r *run) reportToLaunchplane(ctx context.Context) {
	if !r.cfg.LaunchplaneReport || r.probe == nil {
		if r.cfg.LaunchplaneReport {
			r.warnings = append(r.warnings, "launchplane-report: the tenant was not probed, so there was nothing to report")
		}
		return
	}
	client := (*launchplane.Client)(nil)
	if r.record != nil {
		client = r.record.client
	} else {
		c, err := r.launchplaneClient()
		if err != nil {
			r.launchplaneWarning(err)
			return
		}
		client = c
	}
	var payload json.RawMessage
	if raw := r.observedRaw(); raw != nil {
		payload, _ = json.Marshal(map[string]json.RawMessage{"runtime_identity": json.RawMessage(r.red.String(string(raw)))})
		if !json.Valid(payload) {
			payload = nil
		}
	}
	v := launchplane.Verification{
		Product:            r.expected.Product,
		Context:            r.expected.Context,
		Instance:           r.expected.Instance,
		DeploymentRecordID: r.expected.DeploymentRecordID,
		Status:             string(r.verdict.Status),
		VerifiedAt:         r.env.Now(),
		TimeoutSeconds:     int(r.cfg.VerifyTimeout.Seconds()),
		HealthPayload:      payload,
	}
	if r.probe.URL != "" {
		v.CheckedURLs = []string{r.probe.URL}
	}
	if r.verdict.Status != identity.StatusMatch {
		v.FailureSummary = r.red.String(r.verdict.Detail)
	}
	key := fmt.Sprintf("stable-verification:%s:%s:%d:%d", r.expected.Product, r.expected.Instance, r.wf.RunID, r.wf.RunAttempt)
	trace, err := client.ReportVerification(ctx, v, key)
	if err != nil {
		r.launchplaneWarning(err)
		return
	}
	r.notes = append(r.notes, "the verification was reported to Launchplane (trace "+trace+")")
}

func (r *run) launchplaneWarning(err error) {
	msg := "Launchplane report: " + r.red.String(err.Error()) + " (the verdict and exit code are unaffected)"
	r.warnings = append(r.warnings, msg)
	r.sink.annotate("warning", msg)
}
