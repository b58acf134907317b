package probe

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// cacheBuster makes every request URL unique, across runs too, so no cache along the way can
// answer for the tenant (some health endpoints even send Cache-Control: max-age).
type cacheBuster struct {
	nonce string
	seq   atomic.Uint64
}

func newCacheBuster() *cacheBuster {
	return &cacheBuster{nonce: strings.ToLower(rand.Text()[:10])}
}

func (c *cacheBuster) next() string {
	return c.nonce + "-" + strconv.FormatUint(c.seq.Add(1), 10)
}

// requestURL adds the cache-busting parameter to target, keeping its query as it is.
func (p *prober) requestURL(target *url.URL) string {
	u := *target
	param := QueryParam + "=" + p.buster.next()
	if u.RawQuery == "" {
		u.RawQuery = param
	} else {
		u.RawQuery += "&" + param
	}
	return u.String()
}

// round probes the tenant once and decides the verdict. With all, it reads every configured
// surface at once. Otherwise it reads the deciding surface first and the others only when they
// are needed: when the deciding surface carries no identity (another one decides), or when its
// match would complete a streak of p.required (the confirming round); streak is the matching
// rounds before this one.
func (p *prober) round(ctx context.Context, n int, start, deadline time.Time, all bool, streak int) Round {
	begin := p.now()
	lead, leadSurface, other := p.health, identity.SurfaceHealth, p.wellKnown
	if lead == nil {
		lead, leadSurface, other = p.wellKnown, identity.SurfaceWellKnown, nil
	}
	fetches := make([]fetched, 1, 2)
	if all && other != nil {
		fetches = fetches[:2]
		var wg sync.WaitGroup
		wg.Go(func() { fetches[0] = p.fetch(ctx, leadSurface, lead, deadline) })
		wg.Go(func() { fetches[1] = p.fetch(ctx, identity.SurfaceWellKnown, other, deadline) })
		wg.Wait()
	} else {
		fetches[0] = p.fetch(ctx, leadSurface, lead, deadline)
		if other != nil && p.wantsOthers(fetches[0].answer, streak) {
			fetches = append(fetches, p.fetch(ctx, identity.SurfaceWellKnown, other, deadline))
		}
	}

	answers := make([]Answer, 0, 2*len(fetches))
	for _, f := range fetches {
		answers = append(answers, f.answer)
	}
	for _, f := range fetches {
		if f.header == nil {
			continue
		}
		h := f.answer
		h.Surface = identity.SurfaceHeaders
		h.Observation = identity.ExtractHeaders(f.header)
		h.Error, h.Failure, h.Body = "", "", nil
		answers = append(answers, h)
	}
	r := Round{N: n, At: begin.Sub(start), Answers: answers, AllSurfaces: other == nil || len(fetches) == 2}
	p.decide(&r)
	r.Duration = p.now().Sub(begin)
	return r
}

// wantsOthers reports whether a round whose deciding surface gave a must read the other surfaces.
func (p *prober) wantsOthers(a Answer, streak int) bool {
	switch {
	case !answered(a):
		// A deciding surface without a 2xx answer decides alone (see decide).
		return false
	case !carries(a.Observation):
		return true
	default:
		return p.expected != nil && streak+1 >= p.required && identity.Compare(p.expected, a.Observation).Status == identity.StatusMatch
	}
}

// fetched is one response: its answer and, for a 2xx response, its headers.
type fetched struct {
	answer Answer
	header http.Header
}

// fetch sends one GET and reads the surface's observation from the answer.
func (p *prober) fetch(ctx context.Context, s identity.Surface, target *url.URL, deadline time.Time) fetched {
	begin := p.now()
	a := Answer{Surface: s, URL: redactURL(target)}
	fail := func(kind Failure, msg string) fetched {
		a.Error, a.Failure = msg, kind
		a.Observation = identity.Observation{Surface: s, Status: identity.StatusUnverifiable, Detail: msg}
		a.Duration = p.now().Sub(begin)
		return fetched{answer: a}
	}
	timeout := min(p.reqTimeout, deadline.Sub(begin))
	if timeout <= 0 {
		return fail(FailureDeadline, "the deadline passed before the request")
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, p.requestURL(target), nil)
	if err != nil {
		return fail(FailureTransport, "the request could not be built")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Pragma", "no-cache")
	req.Header.Set("User-Agent", p.userAgent)
	// A fresh connection per request: behind a connection-level load balancer a kept-alive
	// connection would reach the same replica every round and hide a mixed rollout.
	req.Close = true
	resp, err := p.client.Do(req)
	if err != nil {
		return fail(classify(ctx, err, timeout))
	}
	defer resp.Body.Close()
	a.StatusCode = resp.StatusCode
	if resp.Request != nil && resp.Request.URL != nil {
		if final := redactURL(resp.Request.URL); final != a.URL {
			a.FinalURL = final
		}
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	if !ok && s != identity.SurfaceHealth {
		// Never classified, even when the body carries an identity (contract section 5); the
		// connection is not reused, so nothing needs draining.
		return fail(FailureHTTPStatus, "HTTP "+strconv.Itoa(resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err == nil && len(body) <= MaxBodyBytes && s == identity.SurfaceHealth {
		// Kept for the report to Launchplane, which wants the whole health body, failing ones too.
		a.Body = body
	}
	if !ok {
		return fail(FailureHTTPStatus, "HTTP "+strconv.Itoa(resp.StatusCode))
	}
	if err != nil {
		f := fail(classify(ctx, err, timeout))
		f.header = resp.Header
		return f
	}
	if len(body) > MaxBodyBytes {
		f := fail(FailureTooLarge, "body over 1 MiB")
		f.header = resp.Header
		return f
	}
	if s == identity.SurfaceHealth {
		a.Observation = identity.ExtractHealth(body)
	} else {
		a.Observation = identity.ExtractWellKnown(body)
	}
	a.Duration = p.now().Sub(begin)
	return fetched{answer: a, header: resp.Header}
}

// carries reports whether an observation holds an identity, readable or not.
func carries(o identity.Observation) bool {
	return o.Found || o.Status == identity.StatusMalformed
}

func answered(a Answer) bool { return a.StatusCode >= 200 && a.StatusCode <= 299 }

// decide picks the deciding answer, flags disagreements and sets the verdict.
//
// The first answer (health when configured, else well-known) decides. When it answered 2xx but
// carries no identity, the first later answer that carries one decides instead, in the order
// health, well-known, headers. When it gave no 2xx answer at all (refused, timed out, 503), it
// still decides: an unreachable or failing tenant is unverifiable whatever other routes say.
func (p *prober) decide(r *Round) {
	idx := 0
	first := r.Answers[0]
	if answered(first) && !carries(first.Observation) {
		for i := 1; i < len(r.Answers); i++ {
			if carries(r.Answers[i].Observation) {
				idx = i
				break
			}
		}
	}
	d := r.Answers[idx]
	r.Deciding, r.DecidingURL = d.Surface, d.URL
	// A 404 from a surface that does not decide means the tenant does not offer it: no failure.
	for i := range r.Answers {
		if a := &r.Answers[i]; i != idx && a.StatusCode == http.StatusNotFound {
			a.NotServed, a.Error, a.Failure = true, "", ""
			a.Observation = identity.Observation{Surface: a.Surface, Status: identity.StatusMissing, Detail: "not served (404)"}
		}
	}
	r.Verdict = identity.Compare(p.expected, d.Observation)
	// Each answer's own verdict, so reports show every surface without comparing again.
	for i := range r.Answers {
		a := &r.Answers[i]
		switch {
		case i == idx:
			a.Status = r.Verdict.Status
		case a.Observation.Found:
			a.Status = identity.Compare(p.expected, a.Observation).Status
		default:
			a.Status = a.Observation.Status
		}
	}

	var notes []string
	switch {
	case idx != 0:
		notes = append(notes, fmt.Sprintf("%s carries no identity (%s), so %s decided", label(first), first.Observation.Status, label(d)))
	case !carries(first.Observation):
		for _, a := range r.Answers[1:] {
			if a.Observation.Found {
				notes = append(notes, fmt.Sprintf("%s reports an identity, but %s gave no usable answer (%s), and that decides", label(a), label(first), first.Observation.Detail))
				break
			}
		}
	}
	r.Disagreements = disagreements(r.Answers, idx)
	notes = append(notes, r.Disagreements...)
	if len(notes) > 0 {
		r.Verdict.Notes = append(r.Verdict.Notes, notes...)
	}
}

func label(a Answer) string {
	switch a.Surface {
	case identity.SurfaceHealth:
		return "the health JSON"
	case identity.SurfaceWellKnown:
		return "the well-known document"
	default:
		return "the headers of " + a.URL
	}
}

// disagreements compares every answer that carries a readable identity with the reference: the
// deciding answer, or the first readable one when the deciding answer has none.
func disagreements(answers []Answer, idx int) []string {
	ref := -1
	if answers[idx].Observation.Found {
		ref = idx
	} else {
		for i, a := range answers {
			if a.Observation.Found {
				ref = i
				break
			}
		}
	}
	if ref < 0 {
		return nil
	}
	var out []string
	for i, a := range answers {
		if i == ref || !a.Observation.Found {
			continue
		}
		if diff := differ(answers[ref].Observation, a.Observation); len(diff) > 0 {
			out = append(out, fmt.Sprintf("%s and %s disagree on %s: a cache, CDN or stale route may be serving one of them", label(answers[ref]), label(a), strings.Join(diff, ", ")))
		}
	}
	return out
}

// differ names what two readable observations disagree on. Only what both carry is compared:
// headers carry deployment_record_id and the digest. deployed_at is left out, since it is not
// part of the injected identity.
func differ(a, b identity.Observation) []string {
	if a.Surface == identity.SurfaceHeaders && b.Surface != identity.SurfaceHeaders {
		a, b = b, a
	}
	if a.Surface != identity.SurfaceHeaders && b.Surface != identity.SurfaceHeaders {
		// deployed_at is empty in the injected env and set on records: not a disagreement.
		return identity.DiffFields(a.Identity.Injected(), b.Identity.Injected())
	}
	var diff []string
	if da, db := a.Identity.DeploymentRecordID, b.Identity.DeploymentRecordID; da != "" && db != "" && da != db {
		diff = append(diff, "deployment_record_id")
	}
	switch {
	case b.Digest == "":
	case a.Surface == identity.SurfaceHeaders:
		if a.Digest != "" && a.Digest != b.Digest {
			diff = append(diff, "identity_digest")
		}
	case b.Digest != a.Identity.Injected().Digest() && b.Digest != a.Identity.Digest():
		diff = append(diff, "identity_digest")
	}
	return diff
}
