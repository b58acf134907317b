package launchplane_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/launchplane/runtime-identity/internal/identity"
	"github.com/launchplane/runtime-identity/internal/launchplane"
	"github.com/launchplane/runtime-identity/internal/launchplane/launchplanetest"
)

var verifiedAt = time.Date(2026, 5, 10, 14, 20, 0, 0, time.UTC)

// healthOf is the tenant's whole health body serving id, as a generic-web tenant answers.
func healthOf(id identity.Identity) string {
	return `{"status":"ok","version":"1.4.2","image_reference":"` + id.ImageReference + `","runtime_identity":` + string(id.Injected().Canonical()) + `}`
}

func reportInput(verdict identity.Status, body string) launchplane.ReportInput {
	want := recorded()
	in := launchplane.ReportInput{
		Product: "sellyouroutboard", Context: "sellyouroutboard", Instance: "prod", RecordID: recordID,
		Expected: &want, Verdict: verdict, Detail: "detail of " + string(verdict),
		CheckedURL: "https://sellyouroutboard.example.com/api/health", Timeout: 60 * time.Second,
		VerifiedAt: verifiedAt, RunID: 4242, RunAttempt: 2,
	}
	if body != "" {
		in.HealthBody = []byte(body)
	}
	return in
}

func mustRequest(t *testing.T, in launchplane.ReportInput) launchplane.Request {
	t.Helper()
	req, _, err := launchplane.NewStableVerification(in)
	if err != nil {
		t.Fatalf("NewStableVerification() = %v", err)
	}
	return req
}

// bodyShapes are the health bodies a tenant may answer with, against recorded().
func bodyShapes() map[string]string {
	good := stable()
	stale := good
	stale.SourceGitRef = strings.Repeat("d", 40)
	shortSHA := strings.Replace(healthOf(good), good.SourceGitRef, good.SourceGitRef[:12], 1)
	return map[string]string{
		"none":                   "",
		"matching":               healthOf(good),
		"matching, status up":    strings.Replace(healthOf(good), `"ok"`, `"UP"`, 1),
		"matching, no status":    strings.Replace(healthOf(good), `"status":"ok",`, "", 1),
		"short sha":              shortSHA,
		"extra identity key":     strings.Replace(healthOf(good), `"runtime_identity":{`, `"runtime_identity":{"build":"7",`, 1),
		"stale":                  healthOf(stale),
		"stale, unhealthy":       strings.Replace(healthOf(stale), `"ok"`, `"unhealthy"`, 1),
		"stale, odd status":      strings.Replace(healthOf(stale), `"ok"`, `"degraded"`, 1),
		"odoo null identity":     `{"runtime_identity":null,"status":"pass"}`,
		"odoo error body":        `{"runtime_identity_error":"malformed","status":"fail"}`,
		"no identity":            `{"status":"pass"}`,
		"verireel style":         `{"ok":true,"buildRevision":"abc","buildTag":"v1"}`,
		"array":                  `["ok"]`,
		"html":                   `<html>oops</html>`,
		"nan":                    `{"status":"ok","load":NaN}`,
		"invalid utf-8":          "{\"status\":\"\xff\"}",
		"string encoded":         `{"status":"ok","LAUNCHPLANE_RUNTIME_IDENTITY_JSON":` + mustQuote(string(good.Injected().Canonical())) + `}`,
		"lax schema_version":     strings.Replace(healthOf(good), `"schema_version":1`, `"schema_version":"1"`, 1),
		"too large":              `{"status":"ok","pad":"` + strings.Repeat("x", launchplane.MaxForwardBytes) + `"}`,
		"deep":                   strings.Repeat("[", 300) + strings.Repeat("]", 300),
		"html chars in identity": strings.Replace(healthOf(good), `"version":"1.4.2"`, `"version":"<b>&</b>"`, 1),
	}
}

func mustQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestNewStableVerification runs every verdict against every body shape, with and without a
// recorded identity, and posts each request to the fake, which applies Launchplane's request
// model and its reclassification: every request must be accepted. It also pins the policy: only
// a match the strict rules confirm is pass, and the body goes only where Launchplane accepts it.
func TestNewStableVerification(t *testing.T) {
	t.Parallel()
	srv := launchplanetest.NewServer(t)
	srv.AddIdentity(stable())
	bare := launchplanetest.NewRecord(stable())
	bare.RecordID, bare.RuntimeIdentity = "deployment-20260101T000000Z-sellyouroutboard-prod", nil
	srv.AddDeployment(bare)
	c, err := launchplane.New(srv.URL(), launchplane.StaticToken(srv.Token()))
	if err != nil {
		t.Fatal(err)
	}
	strictMatch := map[string]bool{"matching": true, "matching, status up": true, "matching, no status": true, "string encoded": true, "lax schema_version": true, "html chars in identity": true}
	exempt := map[string]bool{"stale, unhealthy": true, "stale, odd status": true, "odoo error body": true, "array": true}
	run := 0
	for _, withIdentity := range []bool{true, false} {
		for _, verdict := range identity.Statuses {
			for shape, body := range bodyShapes() {
				run++
				in := reportInput(verdict, body)
				in.RunID = int64(run)
				if !withIdentity {
					in.Expected, in.RecordID = nil, bare.RecordID
				}
				req, notes, err := launchplane.NewStableVerification(in)
				if err != nil {
					t.Fatalf("%v/%s: NewStableVerification() = %v", verdict, shape, err)
				}
				name := string(verdict) + "/" + shape
				wantPass := verdict == identity.StatusMatch && withIdentity && strictMatch[shape]
				wantSent := (withIdentity && strictMatch[shape]) || exempt[shape]
				if (req.Status == launchplane.StatusPass) != wantPass {
					t.Errorf("%s (identity %v): Status = %s, want pass %v", name, withIdentity, req.Status, wantPass)
				}
				if req.HealthPayloadSent != wantSent {
					t.Errorf("%s (identity %v): HealthPayloadSent = %v, want %v", name, withIdentity, req.HealthPayloadSent, wantSent)
				}
				if verdict == identity.StatusMatch && !wantPass && len(notes) == 0 {
					t.Errorf("%s: a match reported as fail carries no note", name)
				}
				if (req.Status == launchplane.StatusFail) == (req.FailureSummary == "") || strings.ContainsAny(req.FailureSummary, "\n\r") {
					t.Errorf("%s: FailureSummary = %q for %s", name, req.FailureSummary, req.Status)
				}
				a, err := c.PostStableVerification(context.Background(), req)
				if err != nil {
					t.Errorf("%s (identity %v): PostStableVerification() = %v\nbody %.300s", name, withIdentity, err, req.Body)
					continue
				}
				if wantPass && a.DeploymentHealthStatus != "pass" {
					t.Errorf("%s: recorded %s, want pass", name, a.DeploymentHealthStatus)
				}
				if !wantPass && a.DeploymentHealthStatus != "fail" {
					t.Errorf("%s: recorded %s, want fail", name, a.DeploymentHealthStatus)
				}
			}
		}
	}
}

// TestNewStableVerificationBody pins the wire form of a match: every key of Launchplane's
// model and no other, the tenant's whole body, Launchplane's key format, the timeout rounded up.
func TestNewStableVerificationBody(t *testing.T) {
	t.Parallel()
	body := healthOf(stable())
	in := reportInput(identity.StatusMatch, body)
	in.CheckedURL = "https://user:pw@sellyouroutboard.example.com/api/health?token=x#f"
	in.Timeout = 1500 * time.Millisecond
	req, notes, err := launchplane.NewStableVerification(in)
	if err != nil || len(notes) != 0 {
		t.Fatalf("NewStableVerification() = %v, notes %v", err, notes)
	}
	want := `{"schema_version":1,"product":"sellyouroutboard","verification":{"schema_version":1,"context":"sellyouroutboard","instance":"prod","deployment_record_id":"` + recordID + `","promotion_record_id":"","verification_status":"pass","verified_at":"2026-05-10T14:20:00Z","checked_urls":["https://sellyouroutboard.example.com/api/health"],"timeout_seconds":2,"health_payload":` + body + `,"failure_summary":""}}`
	if diff := cmp.Diff(want, string(req.Body)); diff != "" {
		t.Errorf("Body (-want +got):\n%s", diff)
	}
	if req.IdempotencyKey != "generic-web-stable-verification:sellyouroutboard:sellyouroutboard:prod:"+recordID+":4242:2" {
		t.Errorf("IdempotencyKey = %q", req.IdempotencyKey)
	}
}

func TestTimeoutSeconds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, `"timeout_seconds":1`}, {time.Millisecond, `"timeout_seconds":1`}, {500 * time.Millisecond, `"timeout_seconds":1`},
		{time.Second, `"timeout_seconds":1`}, {1200 * time.Millisecond, `"timeout_seconds":2`}, {90 * time.Second, `"timeout_seconds":90`},
		{-time.Second, `"timeout_seconds":1`},
	} {
		in := reportInput(identity.StatusMismatch, "")
		in.Timeout = tt.d
		if req := mustRequest(t, in); !bytes.Contains(req.Body, []byte(tt.want)) {
			t.Errorf("Timeout %v: body %s, want %s", tt.d, req.Body, tt.want)
		}
	}
}

// TestIdempotencyKeyOutsideActions checks the nonce: two CLI reports of the same record never
// share a key, and a report keeps its key (it is part of the Request).
func TestIdempotencyKeyOutsideActions(t *testing.T) {
	t.Parallel()
	in := reportInput(identity.StatusMatch, healthOf(stable()))
	in.RunID, in.RunAttempt = 0, 0
	a, b := mustRequest(t, in), mustRequest(t, in)
	prefix := "generic-web-stable-verification:sellyouroutboard:sellyouroutboard:prod:" + recordID + ":local-"
	if !strings.HasPrefix(a.IdempotencyKey, prefix) || !strings.HasPrefix(b.IdempotencyKey, prefix) || a.IdempotencyKey == b.IdempotencyKey {
		t.Errorf("keys %q and %q, want distinct keys starting %q", a.IdempotencyKey, b.IdempotencyKey, prefix)
	}
	in.Rand = bytes.NewReader(nil)
	if _, _, err := launchplane.NewStableVerification(in); err == nil {
		t.Error("NewStableVerification() with an empty nonce source = nil, want an error")
	}
}

func TestNewStableVerificationRefusesInput(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		edit func(*launchplane.ReportInput)
	}{
		{"blank product", func(in *launchplane.ReportInput) { in.Product = " " }},
		{"no context", func(in *launchplane.ReportInput) { in.Context = "" }},
		{"instance with a space", func(in *launchplane.ReportInput) { in.Instance = "pr 42" }},
		{"no record", func(in *launchplane.ReportInput) { in.RecordID = "" }},
		{"no time", func(in *launchplane.ReportInput) { in.VerifiedAt = time.Time{} }},
	} {
		in := reportInput(identity.StatusMatch, healthOf(stable()))
		tt.edit(&in)
		if _, _, err := launchplane.NewStableVerification(in); err == nil {
			t.Errorf("%s: NewStableVerification() = nil, want an error", tt.name)
		}
	}
}

// TestWithhold checks that a body holding a secret never leaves, even for a match.
func TestWithhold(t *testing.T) {
	t.Parallel()
	in := reportInput(identity.StatusMatch, strings.Replace(healthOf(stable()), `"1.4.2"`, `"pa55w0rd-value"`, 1))
	in.Withhold = func(b []byte) bool { return bytes.Contains(b, []byte("pa55w0rd-value")) }
	req, notes, err := launchplane.NewStableVerification(in)
	if err != nil || req.Status != launchplane.StatusFail || req.HealthPayloadSent || bytes.Contains(req.Body, []byte("pa55w0rd")) || len(notes) == 0 {
		t.Errorf("NewStableVerification() = %+v, %v, %v; want fail without the body", req, notes, err)
	}
}

// TestReportReplay checks the replay rules end to end: a pass retried after a dropped
// connection is recognised (same key, byte-identical body), a new verification under the
// same key is refused with 409, and a 429 is retried once with the same bytes.
func TestReportReplay(t *testing.T) {
	t.Parallel()
	srv, c, clk := fakeWith(t)
	fresh, err := launchplane.New(srv.URL(), launchplane.StaticToken(srv.Token()), launchplane.WithHTTPClient(&http.Client{Transport: &http.Transport{}}), launchplane.WithSleep(clk.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	req := mustRequest(t, reportInput(identity.StatusMatch, healthOf(stable())))
	srv.DropNext(1)
	_, err = fresh.PostStableVerification(context.Background(), req)
	if !errors.Is(err, launchplane.ErrOutcomeUnknown) {
		t.Fatalf("dropped: %v, want ErrOutcomeUnknown", err)
	}
	a, err := c.PostStableVerification(context.Background(), req)
	if err != nil || !a.Replayed || a.OriginalTraceID == "" || a.DeploymentHealthStatus != "pass" {
		t.Errorf("replay after the drop: %+v, %v; want a replayed pass", a, err)
	}
	reqs := srv.Requests()
	if !bytes.Equal(reqs[len(reqs)-1].Body, reqs[len(reqs)-2].Body) || reqs[len(reqs)-1].Header.Get("Idempotency-Key") != req.IdempotencyKey {
		t.Error("the replay did not send the same key and bytes")
	}
	later := reportInput(identity.StatusMatch, healthOf(stable()))
	later.VerifiedAt = verifiedAt.Add(time.Minute)
	_, err = c.PostStableVerification(context.Background(), mustRequest(t, later))
	var ae *launchplane.APIError
	if !errors.Is(err, launchplane.ErrConflict) || !errors.As(err, &ae) || ae.Code != launchplane.CodeIdempotencyKeyReused || ae.TraceID == "" {
		t.Errorf("other body under the key: %v, want 409 idempotency_key_reused", err)
	}
	srv.FailNextRetryAfter(1, 429, "2")
	failIn := reportInput(identity.StatusMismatch, "")
	failIn.RunAttempt = 3 // a re-run: the same run's key already holds the pass
	fail := mustRequest(t, failIn)
	if _, err := c.PostStableVerification(context.Background(), fail); err != nil {
		t.Errorf("after a 429: %v", err)
	}
	reqs = srv.Requests()
	if !bytes.Equal(reqs[len(reqs)-1].Body, fail.Body) || !bytes.Equal(reqs[len(reqs)-2].Body, fail.Body) {
		t.Error("the 429 retry did not resend the same bytes")
	}
	// A fail is not stored for replay: the same report again is recorded again, not replayed.
	a, err = c.PostStableVerification(context.Background(), fail)
	if err != nil || a.Replayed {
		t.Errorf("a fail again: %+v, %v; want applied again", a, err)
	}
}

// TestReportRefusals checks typed refusals of a report: a product without the lane, a token
// without the grant, a 5xx (outcome unknown, never retried).
func TestReportRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []launchplanetest.Option
		edit     func(*launchplane.ReportInput)
		fault    func(*launchplanetest.Server)
		sentinel error
		code     string
		requests int
	}{
		{"no such lane", nil, func(in *launchplane.ReportInput) { in.Instance = "testing" }, nil, launchplane.ErrProductDriverMismatch, launchplane.CodeProductDriverMismatch, 1},
		{"not granted", []launchplanetest.Option{launchplanetest.WithPolicy(launchplanetest.Policy{Rules: []launchplanetest.Rule{{Repository: "acme/shop", Actions: []string{"deployment.read"}}}})}, nil, nil, launchplane.ErrUnauthorized, launchplane.CodeAuthorizationDenied, 1},
		{"server error", nil, nil, func(s *launchplanetest.Server) { s.FailNext(1, 502) }, launchplane.ErrOutcomeUnknown, "injected_fault", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, c, clk := fakeWith(t, tt.opts...)
			if tt.fault != nil {
				tt.fault(srv)
			}
			in := reportInput(identity.StatusMatch, healthOf(stable()))
			if tt.edit != nil {
				tt.edit(&in)
			}
			_, err := c.PostStableVerification(context.Background(), mustRequest(t, in))
			var ae *launchplane.APIError
			if !errors.Is(err, tt.sentinel) || !errors.As(err, &ae) || ae.Code != tt.code || ae.TraceID == "" {
				t.Errorf("PostStableVerification() = %v, want %v with code %s and a trace_id", err, tt.sentinel, tt.code)
			}
			if n := len(srv.Requests()); n != tt.requests || len(clk.Sleeps()) != 0 {
				t.Errorf("requests %d sleeps %v, want %d and none", n, clk.Sleeps(), tt.requests)
			}
		})
	}
}

// FuzzNewStableVerification feeds random verdicts, bodies and options through the builder and
// checks each request against the fake's rebuild of Launchplane's models (request model,
// record agreement, health-payload identity rule): no request the builder makes is one the
// service would refuse, and only a strictly confirmed match is pass.
func FuzzNewStableVerification(f *testing.F) {
	for _, body := range bodyShapes() {
		f.Add(uint8(1), body, true, int64(1500))
	}
	f.Add(uint8(0), `{"status":"ok","runtime_identity":{"schema_version":true}}`, false, int64(0))
	f.Fuzz(func(t *testing.T, verdict uint8, body string, withIdentity bool, timeoutMS int64) {
		in := reportInput(identity.Statuses[int(verdict)%len(identity.Statuses)], body)
		in.Timeout = time.Duration(timeoutMS) * time.Millisecond
		in.Detail = body // outside text in the summary too
		rec := launchplanetest.NewRecord(stable())
		if !withIdentity {
			in.Expected, rec.RuntimeIdentity = nil, nil
		}
		req, _, err := launchplane.NewStableVerification(in)
		if err != nil {
			t.Fatalf("NewStableVerification() = %v", err)
		}
		if err := launchplanetest.Accepts(req.Body, rec); err != nil {
			t.Fatalf("Launchplane would refuse %s: %v", req.Body, err)
		}
		if req.Status == launchplane.StatusPass {
			_, st, err := launchplanetest.Reclassify(in.Expected, []byte(body))
			if err != nil || st != "match" {
				t.Errorf("pass sent for a body Launchplane reads as %s (%v)", st, err)
			}
		}
	})
}

// TestBuilderAgainstRandomBodies is the same property over generated bodies, so it runs in
// every `go test` with more than the seed corpus: random mutations of the shapes above.
func TestBuilderAgainstRandomBodies(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := make([]string, 0)
	for _, b := range bodyShapes() {
		shapes = append(shapes, b)
	}
	mutations := []func(string) string{
		func(s string) string { return s },
		func(s string) string {
			return strings.Replace(s, `"ok"`, []string{`"FAIL"`, `"pa\u017fs"`, `" up "`, `0`, `false`, `"FA\u0130L"`}[rng.IntN(6)], 1)
		},
		func(s string) string {
			return strings.Replace(s, `"schema_version":1`, []string{`"schema_version":1.0`, `"schema_version":"01"`, `"schema_version":0`, `"schema_version":null`, `"schema_version":"1_0"`}[rng.IntN(5)], 1)
		},
		func(s string) string { return strings.Replace(s, `"instance":"prod"`, `"instance":"prod "`, 1) },
		func(s string) string {
			return strings.Replace(s, `"runtime_identity":`, `"runtime_identity":null,"launchplane_runtime_identity":`, 1)
		},
		func(s string) string { return strings.Replace(s, `"product":"sellyouroutboard",`, ``, 1) },
		func(s string) string { return strings.Replace(s, `"deployed_at":""`, `"deployed_at":7`, 1) },
	}
	rec := launchplanetest.NewRecord(stable())
	for i := range 3000 {
		body := mutations[rng.IntN(len(mutations))](shapes[rng.IntN(len(shapes))])
		verdict := identity.Statuses[rng.IntN(len(identity.Statuses))]
		req, _, err := launchplane.NewStableVerification(reportInput(verdict, body))
		if err != nil {
			t.Fatalf("case %d: NewStableVerification() = %v", i, err)
		}
		if err := launchplanetest.Accepts(req.Body, rec); err != nil {
			t.Fatalf("case %d: Launchplane would refuse %s: %v", i, req.Body, err)
		}
	}
}
