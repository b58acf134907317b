package identity

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// healthBodies generates health bodies around every reading rule Launchplane has: framing
// whitespace, bodies that are not objects or not JSON, every alias, string-encoded values with
// Python-only whitespace, lax schema_version forms, blank and mistyped fields, NaN and Infinity.
// It leaves out what this project reads differently on purpose (docs/contract.md): alias values
// of null, unknown keys, short commit SHAs; schema_version 2 and up appears in one-alias bodies
// only, where the expected difference is exact.
func healthBodies(want Identity, n int) [][]byte {
	rng := rand.New(rand.NewPCG(42, 4242))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	chance := func(p float64) bool { return rng.Float64() < p }

	identityObject := func(allowNewer bool) string {
		var parts []string
		for _, f := range Fields {
			val := ""
			if f.str == nil {
				if !chance(0.5) {
					continue
				}
				sv := laxIntCases[rng.IntN(len(laxIntCases))]
				for !allowNewer && sv.want != "" && sv.want != "1" && sv.want != "0" && !strings.HasPrefix(sv.want, "-") {
					sv = laxIntCases[rng.IntN(len(laxIntCases))]
				}
				parts = append(parts, `"schema_version":`+sv.raw)
				continue
			}
			v := f.Get(&want)
			switch r := rng.Float64(); {
			case r < 0.05:
				continue // omitted: a default, or a missing required field
			case r < 0.10:
				val = pick(`""`, `" "`, `"\u001c"`, `"\u00a0"`, `"\u3000"`, `"\u200b"`, `"\t\n"`)
			case r < 0.13:
				val = pick(`7`, `null`, `true`, `[]`, `{}`, `NaN`, `-Infinity`, `1.5`)
			case r < 0.20 && f.Compared:
				val = strconv.Quote(pick("other", "ffffffffffffffffffffffffffffffffffffffff", "preview", "caf\u00e9", strings.ToUpper(v)))
			default:
				val = jsonQuote(v)
			}
			parts = append(parts, jsonQuote(f.Name)+":"+val)
		}
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		return "{" + strings.Join(parts, pick(",", ", ", " ,\n")) + "}"
	}
	aliasValue := func(allowNewer bool) string {
		switch r := rng.Float64(); {
		case r < 0.65:
			return identityObject(allowNewer)
		case r < 0.85:
			s := pick("", " ", "\n", "\u001c", "\u00a0", "\u2028") + identityObject(allowNewer) + pick("", " ", "\t", "\u001f")
			if chance(0.3) {
				s = jsonQuote(s)
			}
			return jsonQuote(s)
		default:
			return pick(`7`, `NaN`, `Infinity`, `[]`, `true`, `""`, `"  "`, `"null"`, `"{bad"`, `"[1]"`, `"\"{}\""`, `"NaN"`)
		}
	}
	var bodies [][]byte
	for range n {
		var body string
		switch r := rng.Float64(); {
		case r < 0.88:
			var members []string
			if chance(0.7) {
				members = append(members, `"status":`+pick(`"ok"`, `"pass"`, `NaN`))
			}
			if chance(0.2) {
				members = append(members, `"uptime":`+pick(`Infinity`, `-Infinity`, `NaN`, `12.5`, `"NaN"`))
			}
			aliases := 1 + rng.IntN(2)
			if chance(0.1) {
				aliases = 0
			}
			for i := 0; i < aliases; i++ {
				members = append(members, jsonQuote(HealthKeys[rng.IntN(len(HealthKeys))])+":"+aliasValue(aliases == 1))
			}
			rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
			body = "{" + strings.Join(members, ",") + "}"
		default:
			body = pick(`[`+identityObject(false)+`]`, `NaN`, `"runtime_identity"`, `null`, `42`, `{`, ``, `{"runtime_identity":`+identityObject(false)+`}x`, `<html></html>`)
		}
		if chance(0.1) {
			body = pick(" ", "\n", "\t", "\v", "\u00a0", "\ufeff", "\r\n") + body + pick("", " ", "\n", "\f")
		}
		bodies = append(bodies, []byte(body))
	}
	return bodies
}

// TestExtractAgainstLaunchplane classifies generated bodies here and with Launchplane's own
// reading rules run in Python with pydantic (testdata/python/oracle.py), and requires the same
// status and the same observed identity, except for the differences docs/contract.md lists.
func TestExtractAgainstLaunchplane(t *testing.T) {
	t.Parallel()
	for _, expected := range []string{"stable", "preview"} {
		t.Run(expected, func(t *testing.T) {
			t.Parallel()
			want := stable(t)
			if expected == "preview" {
				want = preview(t)
			}
			bodies := healthBodies(want, 1500)
			answers := oracle(t, "health", want.Canonical(), bodies)
			seen := map[Status]int{}
			for i, body := range bodies {
				var a struct {
					Status   Status         `json:"status"`
					Observed map[string]any `json:"observed"`
					Crash    string         `json:"crash"`
				}
				if err := json.Unmarshal(answers[i], &a); err != nil {
					t.Fatal(err)
				}
				if a.Crash != "" {
					t.Errorf("Launchplane's rules raise %s on %s; keep such bodies out of the generator", a.Crash, show(body))
					continue
				}
				obs := ExtractHealth(body)
				got := Compare(&want, obs)
				wantStatus := a.Status
				if sv, ok := a.Observed["schema_version"].(float64); ok && sv >= 2 {
					wantStatus = StatusMalformed // only schema_version 1 is read here, on purpose
				}
				seen[wantStatus]++
				if got.Status != wantStatus {
					t.Errorf("body %s: %s here (%s), %s by Launchplane's rules", show(body), got.Status, got.Detail, a.Status)
					continue
				}
				if !obs.Found {
					continue
				}
				for _, f := range Fields {
					exp := ""
					switch v := a.Observed[f.Name].(type) {
					case string:
						exp = v
					case float64:
						exp = strconv.FormatFloat(v, 'f', -1, 64)
					}
					if got := f.Get(&obs.Identity); got != exp {
						t.Errorf("body %s: observed %s = %q, Launchplane reads %q", show(body), f.Name, got, exp)
					}
				}
			}
			for _, st := range []Status{StatusMatch, StatusMismatch, StatusMissing, StatusMalformed, StatusUnverifiable} {
				if seen[st] < 20 {
					t.Errorf("only %d bodies classify %s; the generator must cover every status", seen[st], st)
				}
			}
		})
	}
}
