package action

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/ghdeploy"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/probe"
	"github.com/launchplane/runtime-identity/internal/summary"
)

// probeCase is one way the verify step can end.
type probeCase struct {
	name string
	pr   func() *Probe // nil: the step did not run
}

func probed(st identity.Status, confirmed bool) *Probe {
	res := &probe.Result{Attempts: 4, Confirmed: confirmed, Required: 2, Verdict: identity.Verdict{Status: st, Detail: "tenant said " + string(st)}}
	if st == identity.StatusMatch && !confirmed {
		res.Confirmations = 1
	}
	if st == identity.StatusMismatch {
		res.Verdict.Mismatched = []string{"deployment_record_id"}
	}
	return &Probe{Result: res, HealthURL: "https://shop.example.com/api/health"}
}

// probeCases: every verdict, the unconfirmed match, nothing to probe, and a probe that failed.
var probeCases = []probeCase{
	{"unchecked", func() *Probe { return probed(identity.StatusUnchecked, false) }},
	{"match", func() *Probe { return probed(identity.StatusMatch, true) }},
	{"match-unconfirmed", func() *Probe { return probed(identity.StatusMatch, false) }},
	{"mismatch", func() *Probe { return probed(identity.StatusMismatch, false) }},
	{"missing", func() *Probe { return probed(identity.StatusMissing, false) }},
	{"malformed", func() *Probe { return probed(identity.StatusMalformed, false) }},
	{"unverifiable", func() *Probe { return probed(identity.StatusUnverifiable, false) }},
	{"no-url", func() *Probe { return &Probe{Skipped: "no health-url or base-url was given"} }},
	{"probe-fault", func() *Probe {
		return &Probe{Result: &probe.Result{}, Fault: &Fault{Exit: ExitUnknown, Message: "the tenant could not be probed"}}
	}},
}

// decideCase is one consistent pipeline: the steps that ran, in order, and a cancellation.
type decideCase struct {
	exp       string // "", missing (Launchplane holds none), fault (could not be read)
	mode      Mode
	require   bool
	inj       string // "", ok, fault
	ro        string // "", done, failed, fault
	pr        string // "", or a probeCase name
	cancelled string
}

func (c decideCase) String() string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return fmt.Sprintf("expected=%-7s %-7s require=%-5v inject=%-5s rollout=%-6s probe=%-17s cancelled=%-7s", dash(c.exp), c.mode, c.require, dash(c.inj), dash(c.ro), dash(c.pr), dash(c.cancelled))
}

// allCases enumerates every pipeline a run can produce: each mode's steps in order, each step's
// endings, each verdict, both policies, and a cancellation in each stage that can be interrupted.
func allCases() []decideCase {
	// render and inject never verify, so require-identity is refused with them.
	out := []decideCase{
		{mode: ModeRender},
		{mode: ModeInject, inj: "ok"},
		{mode: ModeInject, inj: "fault"},
		{mode: ModeInject, inj: "fault", cancelled: StageInject},
	}
	for _, require := range []bool{false, true} {
		// verify against a Launchplane record or lane without an identity, or unreadable
		out = append(out,
			decideCase{exp: "missing", mode: ModeVerify, require: require, pr: "unchecked"},
			decideCase{exp: "fault", mode: ModeVerify, require: require},
		)
		// verify
		for _, pc := range probeCases[1:] {
			out = append(out, decideCase{mode: ModeVerify, require: require, pr: pc.name})
		}
		for _, pc := range probeCases[1:7] {
			out = append(out, decideCase{mode: ModeVerify, require: require, pr: pc.name, cancelled: StageVerify})
		}
		// deploy
		out = append(out,
			decideCase{mode: ModeDeploy, require: require, inj: "fault"},
			decideCase{mode: ModeDeploy, require: require, inj: "fault", cancelled: StageInject},
			decideCase{mode: ModeDeploy, require: require, inj: "ok", ro: "failed"},
			decideCase{mode: ModeDeploy, require: require, inj: "ok", ro: "fault"},
			decideCase{mode: ModeDeploy, require: require, inj: "ok", ro: "fault", cancelled: StageRollout},
		)
		for _, pc := range probeCases[1:] {
			out = append(out, decideCase{mode: ModeDeploy, require: require, inj: "ok", ro: "done", pr: pc.name})
		}
		for _, pc := range probeCases[1:7] {
			out = append(out, decideCase{mode: ModeDeploy, require: require, inj: "ok", ro: "done", pr: pc.name, cancelled: StageVerify})
		}
	}
	return out
}

func (c decideCase) run() summary.Decision {
	cfg := &Config{Mode: c.mode, RequireIdentity: c.require, VerifyTimeout: time.Minute}
	exp := &Expected{Identity: identity.Identity{DeploymentRecordID: "deployment-new"}}
	switch c.exp {
	case "missing":
		exp.Missing = "the Launchplane deployment record deployment-new carries no runtime identity"
	case "fault":
		exp.Missing = "the expected identity could not be read from Launchplane"
		exp.Fault = &Fault{Exit: ExitUnknown, Message: "Launchplane refused the token"}
	}
	var (
		inj *Injection
		ro  *Rollout
		pr  *Probe
	)
	switch c.inj {
	case "ok":
		inj = &Injection{Written: true}
	case "fault":
		inj = &Injection{Fault: &Fault{Exit: ExitUnknown, Message: "Dokploy: could not read application app1"}}
	}
	switch c.ro {
	case "done":
		ro = &Rollout{Trigger: "deploy", DeploymentID: "dep1", Status: "done"}
	case "failed":
		ro = &Rollout{Trigger: "deploy", DeploymentID: "dep1", Status: "error", Failed: true,
			Fault: &Fault{Exit: ExitFailed, Message: "Dokploy deployment dep1 ended with status error"}}
	case "fault":
		ro = &Rollout{Trigger: "deploy", Fault: &Fault{Exit: ExitUnknown, Message: "lost job"}}
	}
	for _, pc := range probeCases {
		if pc.name == c.pr {
			pr = pc.pr()
			if c.cancelled == StageVerify {
				pr.Fault = &Fault{Exit: ExitUnknown, Message: "the probe was cancelled"}
			}
		}
	}
	return decide(cfg, exp, inj, ro, pr, nil, c.cancelled)
}

func render(d summary.Decision) string {
	return fmt.Sprintf("exit=%d outcome=%-7s github=%-7s trust=%-11s status=%-12s rollout-failed=%-5v unconfirmed=%-5v failure=%q",
		d.ExitCode, d.Outcome, d.GitHubState, d.TrustState, d.Verdict.Status, d.RolloutFailed, d.Unconfirmed, d.Failure)
}

// TestDecideTable pins the decision of every pipeline in testdata/decide.golden, one line per
// case, so a change of policy shows as a reviewable diff. Refresh with -update.
func TestDecideTable(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for _, c := range allCases() {
		fmt.Fprintf(&b, "%s -> %s\n", c, render(c.run()))
	}
	path := filepath.Join("testdata", "decide.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("decide() table differs (-want +got); if the change of policy is intended, run go test ./internal/action -run TestDecideTable -update:\n%s", diff)
	}
}

// TestDecideRules checks the rules every decision keeps, over every pipeline, independently of
// the golden table.
func TestDecideRules(t *testing.T) {
	t.Parallel()
	for _, c := range allCases() {
		d := c.run()
		name := c.String()
		ok := d.Outcome == OutcomePassed || d.Outcome == OutcomeWarning
		if ok != (d.ExitCode == ExitOK) {
			t.Errorf("%s: outcome %s with exit %d; exit 0 goes with passed or warning only", name, d.Outcome, d.ExitCode)
		}
		if d.ExitCode == ExitConfig {
			t.Errorf("%s: decide returned exit 2; bad input ends the run before any step", name)
		}
		if c.require && (c.pr != "" || c.mode == ModeDeploy || c.mode == ModeVerify) && d.Verdict.Status != identity.StatusMatch && d.ExitCode == ExitOK {
			t.Errorf("%s: require-identity with verdict %s exits 0", name, d.Verdict.Status)
		}
		if d.Verdict.Status == identity.StatusMatch && d.ExitCode == ExitOK && d.GitHubState != ghdeploy.StateSuccess {
			t.Errorf("%s: a match that passed has GitHub state %s", name, d.GitHubState)
		}
		if d.Outcome == OutcomeError && d.GitHubState != ghdeploy.StateError {
			t.Errorf("%s: outcome error with GitHub state %s, want error", name, d.GitHubState)
		}
		if d.GitHubState == ghdeploy.StateError && d.Outcome != OutcomeError && d.Verdict.Status != identity.StatusUnverifiable {
			t.Errorf("%s: GitHub state error for outcome %s and verdict %s", name, d.Outcome, d.Verdict.Status)
		}
		if c.cancelled != "" {
			if d.Cancelled != c.cancelled || d.ExitCode != ExitUnknown || !strings.Contains(d.Failure, "cancelled") {
				t.Errorf("%s: cancelled run decided %s", name, render(d))
			}
		} else if d.Cancelled != "" {
			t.Errorf("%s: not cancelled, but the decision says cancelled in %s", name, d.Cancelled)
		}
		// The verdict is the last observation, whatever ended the run.
		if c.exp == "missing" && d.Verdict.Status != identity.StatusUnchecked {
			t.Errorf("%s: verdict %s without an expected identity, want unchecked", name, d.Verdict.Status)
		}
		if pc := c.pr; pc != "" && pc != "no-url" && pc != "probe-fault" {
			want := identity.Status(strings.TrimSuffix(pc, "-unconfirmed"))
			if pc == "match-unconfirmed" {
				want = identity.StatusUnverifiable
			}
			if d.Verdict.Status != want {
				t.Errorf("%s: verdict %s, want the last observation %s", name, d.Verdict.Status, want)
			}
		}
		if d.Unconfirmed != (c.pr == "match-unconfirmed") {
			t.Errorf("%s: unconfirmed = %v", name, d.Unconfirmed)
		}
		if want := summary.TrustStateOf(d.Verdict.Status, c.exp == ""); d.TrustState != want {
			t.Errorf("%s: trust state %s, want %s", name, d.TrustState, want)
		}
		if (d.ExitCode != ExitOK) != (d.Failure != "") {
			t.Errorf("%s: exit %d with failure %q; a failing run says why, a passing one does not", name, d.ExitCode, d.Failure)
		}
		if c.require && c.exp == "missing" && d.ExitCode != ExitFailed {
			t.Errorf("%s: require-identity without an expected identity exits %d, want 1", name, d.ExitCode)
		}
		if c.exp == "fault" && (d.ExitCode != ExitUnknown || !strings.Contains(d.Failure, "Launchplane")) {
			t.Errorf("%s: an unreadable Launchplane decided %s, want exit 3 naming it", name, render(d))
		}
		if d.RolloutFailed != (c.cancelled == "" && (c.inj == "fault" || c.ro == "failed" || c.ro == "fault")) {
			t.Errorf("%s: rollout-failed = %v", name, d.RolloutFailed)
		}
	}
}

// TestRollbackDue: a rollback follows a failed rollout or a required identity not matched, and
// nothing else: never bad input, an outcome that could not be found out, or a cancellation.
func TestRollbackDue(t *testing.T) {
	t.Parallel()
	for _, c := range allCases() {
		if c.mode != ModeDeploy {
			continue
		}
		for _, on := range []bool{false, true} {
			cfg := &Config{Mode: ModeDeploy, RequireIdentity: c.require, Rollback: on, VerifyTimeout: time.Minute}
			d := c.run()
			var ro *Rollout
			if c.ro == "failed" {
				ro = &Rollout{Failed: true}
			}
			var pr *Probe
			for _, pc := range probeCases {
				if pc.name == c.pr {
					pr = pc.pr()
				}
			}
			got := rollbackDue(cfg, d, ro, pr)
			nonMatch := c.pr == "mismatch" || c.pr == "missing" || c.pr == "malformed" || c.pr == "unverifiable" || c.pr == "match-unconfirmed"
			want := on && c.cancelled == "" && (c.ro == "failed" || (c.require && nonMatch))
			if got != want {
				t.Errorf("%s on-failure rollback=%v: rollbackDue() = %v, want %v", c, on, got, want)
			}
		}
	}
}

func TestRollbackStatus(t *testing.T) {
	t.Parallel()
	verified := &Probe{Result: &probe.Result{Attempts: 3, Confirmed: true, Verdict: identity.Verdict{Status: identity.StatusMatch}}}
	seenOnly := &Probe{Result: &probe.Result{Attempts: 3, Verdict: identity.Verdict{Status: identity.StatusMatch}}}
	stale := &Probe{Result: &probe.Result{Attempts: 3, Verdict: identity.Verdict{Status: identity.StatusMismatch}}}
	tests := []struct {
		name string
		rb   *Rollback
		want string
	}{
		{"none due", nil, ""},
		{"rollbacks off", &Rollback{NotPossible: "rollbacks are off"}, summary.RollbackNotPossible},
		{"call refused", &Rollback{CallFailed: "refused"}, summary.RollbackFailed},
		{"verified", &Rollback{Performed: true, Probe: verified}, summary.RollbackDone},
		{"match not confirmed", &Rollback{Performed: true, Probe: seenOnly}, summary.RollbackUnverified},
		{"still the failed identity", &Rollback{Performed: true, Probe: stale}, summary.RollbackUnverified},
		{"no identity to verify", &Rollback{Performed: true}, summary.RollbackUnverified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := rollbackStatus(tt.rb); got != tt.want {
				t.Errorf("rollbackStatus() = %q, want %q", got, tt.want)
			}
		})
	}
}
