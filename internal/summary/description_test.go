package summary

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/logtext"
)

// mismatchReport is a deployment_record_id mismatch with the given ids and mismatched fields.
func mismatchReport(exp, obs string, fields ...string) Report {
	want := stable()
	want.DeploymentRecordID = exp
	r := base()
	r.Expected = &want
	r.Verdict = identity.Verdict{
		Status:     identity.StatusMismatch,
		Fields:     []identity.FieldResult{{Field: "deployment_record_id", Expected: exp, Observed: obs, Compared: true, Result: identity.ResultMismatch}},
		Mismatched: append([]string{"deployment_record_id"}, fields...),
	}
	return r
}

func TestDescription(t *testing.T) {
	t.Parallel()
	long := "deployment-" + strings.Repeat("x", 245)
	multi := strings.Repeat("é日🚀", 80)
	tests := []struct {
		name string
		r    Report
		want string
	}{
		{
			name: "short mismatch whole",
			r:    mismatchReport("deployment-NEW", "deployment-OLD", "artifact_id"),
			want: "mismatch: tenant serves deployment-OLD, expected deployment-NEW (deployment_record_id, artifact_id)",
		},
		{
			name: "fields cut before the observed id",
			r:    mismatchReport("deployment-NEW", strings.Repeat("o", 80), "artifact_id", "source_git_ref"),
			want: "mismatch: tenant serves " + strings.Repeat("o", 80) + ", expected deployment-NEW (deploym…)",
		},
		{
			name: "long observed id cut, expected kept",
			r:    mismatchReport("deployment-NEW", long),
			want: "mismatch: tenant serves " + long[:86] + "…, expected deployment-NEW (…)",
		},
		{
			name: "huge expected id cut last",
			r:    mismatchReport(long, long, "artifact_id"),
			want: "mismatch: tenant serves …, expected " + long[:99] + "… (…)",
		},
		{
			name: "multibyte observed id",
			r:    mismatchReport("deployment-NEW", multi),
			want: "mismatch: tenant serves " + string([]rune(multi)[:86]) + "…, expected deployment-NEW (…)",
		},
		{
			name: "newline in observed id",
			r:    mismatchReport("deployment-NEW", "deployment-OLD\nX=1"),
			want: "mismatch: tenant serves deployment-OLD X=1, expected deployment-NEW (deployment_record_id)",
		},
		{
			name: "no expected identity",
			r:    Report{Mode: "verify"},
			want: "unchecked: no expected identity",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Description(tc.r)
			if got != tc.want {
				t.Errorf("Description() = %q, want %q", got, tc.want)
			}
			if n := utf8.RuneCountInString(got); n > MaxDescriptionRunes {
				t.Errorf("Description() has %d runes, want <= %d", n, MaxDescriptionRunes)
			}
		})
	}
}

// TestDescriptionProperty tries many random lengths and alphabets for every verdict: the
// description stays within the limit, starts with the verdict, and keeps an expected record id of
// up to 80 runes whole.
func TestDescriptionProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabets := [][]rune{[]rune("abcdef-0123456789"), []rune("é日🚀ß"), []rune("a|`<\n\t b")}
	str := func(n int) string {
		a := alphabets[rng.IntN(len(alphabets))]
		r := make([]rune, n)
		for i := range r {
			r[i] = a[rng.IntN(len(a))]
		}
		return string(r)
	}
	for i := 0; i < 3000; i++ {
		exp := "d" + str(rng.IntN(300))
		obs := str(rng.IntN(400))
		r := mismatchReport(exp, obs, str(rng.IntN(60)), str(rng.IntN(60)))
		st := identity.Statuses[rng.IntN(len(identity.Statuses))]
		r.Verdict.Status = st
		r.Verdict.Detail = str(rng.IntN(500))
		r.Probe = &Probe{Surface: identity.SurfaceHealth, URL: str(rng.IntN(200)), TimeToMatch: 1500, Attempts: rng.IntN(1000),
			Answers: []Answer{{Surface: identity.SurfaceHealth, StatusCode: rng.IntN(600), Detail: str(rng.IntN(300))}}}
		if rng.IntN(5) == 0 {
			r.Rollout.Status, r.Rollout.DeploymentID = str(rng.IntN(100)), str(rng.IntN(100))
		}
		got := Description(r)
		if n := utf8.RuneCountInString(got); n > MaxDescriptionRunes {
			t.Fatalf("Description() has %d runes, want <= %d: %q", n, MaxDescriptionRunes, got)
		}
		if !strings.HasPrefix(got, string(st)+": ") {
			t.Fatalf("Description() = %q, want the prefix %q", got, st+": ")
		}
		if cleanExp := logtext.OneLine(exp); utf8.RuneCountInString(cleanExp) <= 80 && !strings.Contains(got, cleanExp) {
			t.Fatalf("Description() = %q lost the expected record id %q", got, cleanExp)
		}
		if strings.ContainsAny(got, "\n\r") {
			t.Fatalf("Description() = %q has a line break", got)
		}
	}
}

func FuzzDescription(f *testing.F) {
	f.Add("deployment-NEW", "deployment-OLD", "artifact_id")
	f.Add(strings.Repeat("é", 256), strings.Repeat("日", 300), "\n|")
	f.Fuzz(func(t *testing.T, exp, obs, field string) {
		got := Description(mismatchReport(exp, obs, field))
		if n := utf8.RuneCountInString(got); n > MaxDescriptionRunes {
			t.Fatalf("Description() has %d runes: %q", n, got)
		}
		if !strings.HasPrefix(got, "mismatch: ") {
			t.Fatalf("Description() = %q, want the verdict prefix", got)
		}
	})
}
