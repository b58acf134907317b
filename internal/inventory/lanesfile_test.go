package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/launchplane/runtime-identity/internal/identity"
)

const goodJSON = `{"lanes": [
  {"product": "shop", "context": "shop", "instance": "prod",
   "health_url": "https://shop.example.com/api/health",
   "expected": {"schema_version": 1, "product": "shop", "context": "shop", "instance": "prod",
                "deployment_record_id": "deployment-20260510T141500Z-shop-prod",
                "artifact_id": "ghcr.io/acme/shop@sha256:1111", "source_git_ref": "6b3c9d7e8f90"},
   "require_identity": true},
  {"product": "shop", "context": "shop", "instance": "testing", "base_url": "http://10.0.0.1:8080/shop",
   "deployment_record_id": "deployment-20260510T141500Z-shop-testing"},
  {"product": "blog", "context": "blog", "instance": "prod", "health_url": "https://blog.example.com/health?x=1"}
]}`

const goodYAML = `# the same lanes, as YAML
lanes:
  - product: shop
    context: shop
    instance: prod
    health_url: https://shop.example.com/api/health
    expected:
      schema_version: 1
      product: shop
      context: shop
      instance: prod
      deployment_record_id: deployment-20260510T141500Z-shop-prod
      artifact_id: ghcr.io/acme/shop@sha256:1111
      source_git_ref: "6b3c9d7e8f90"
    require_identity: true
  - product: shop
    context: shop
    instance: testing
    base_url: http://10.0.0.1:8080/shop
    deployment_record_id: deployment-20260510T141500Z-shop-testing
  - {product: blog, context: blog, instance: prod, health_url: "https://blog.example.com/health?x=1"}
`

func TestParseLanesJSONAndYAMLAgree(t *testing.T) {
	t.Parallel()
	fromJSON, err := ParseLanes([]byte(goodJSON))
	if err != nil {
		t.Fatalf("ParseLanes(JSON) error = %v", err)
	}
	fromYAML, err := ParseLanes([]byte(goodYAML))
	if err != nil {
		t.Fatalf("ParseLanes(YAML) error = %v", err)
	}
	if diff := cmp.Diff(fromJSON, fromYAML, cmp.AllowUnexported(Lane{})); diff != "" {
		t.Errorf("JSON and YAML lanes differ (-json +yaml):\n%s", diff)
	}
	want := identity.Identity{SchemaVersion: 1, Product: "shop", Context: "shop", Instance: "prod", EnvironmentKind: "stable",
		DeploymentRecordID: "deployment-20260510T141500Z-shop-prod", ArtifactID: "ghcr.io/acme/shop@sha256:1111", SourceGitRef: "6b3c9d7e8f90"}
	l := fromJSON[0]
	if l.Expected == nil || *l.Expected != want || l.ExpectedFrom != ExpectedFromLanesFile || !l.RequireIdentity || l.Origin != "lanes[0]" {
		t.Errorf("lanes[0] = %+v, want the expected identity %+v from the lanes file, required", l, want)
	}
	if r := fromJSON[1]; r.DeploymentRecordID != "deployment-20260510T141500Z-shop-testing" || r.ExpectedFrom != ExpectedFromRecord || r.BaseURL == "" {
		t.Errorf("lanes[1] = %+v, want a record lane on a base URL", r)
	}
	if LanesDigest(fromJSON) != LanesDigest(fromYAML) {
		t.Errorf("LanesDigest differs between the JSON and YAML forms of the same lanes")
	}
}

func TestLanesDigestIgnoresOrder(t *testing.T) {
	t.Parallel()
	lanes, err := ParseLanes([]byte(goodJSON))
	if err != nil {
		t.Fatal(err)
	}
	reversed := []Lane{lanes[2], lanes[1], lanes[0]}
	if LanesDigest(lanes) != LanesDigest(reversed) {
		t.Errorf("LanesDigest changes with the order of the lanes")
	}
	changed := append([]Lane(nil), lanes...)
	changed[2].HealthURL = "https://blog.example.com/other"
	if LanesDigest(lanes) == LanesDigest(changed) {
		t.Errorf("LanesDigest does not change when a lane's URL does")
	}
}

// lane renders one JSON lane with the given fields replacing or removing ("-") the defaults.
func lane(over map[string]string) string {
	fields := map[string]string{
		"product":    `"shop"`,
		"context":    `"shop"`,
		"instance":   `"prod"`,
		"health_url": `"https://shop.example.com/api/health"`,
	}
	for k, v := range over {
		if v == "-" {
			delete(fields, k)
			continue
		}
		fields[k] = v
	}
	var parts []string
	for _, k := range append(append([]string{}, laneFields...), "helth_url", "expected_runtime_identity") {
		if v, ok := fields[k]; ok {
			parts = append(parts, fmt.Sprintf("%q: %s", k, v))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func TestParseLanesRejects(t *testing.T) {
	t.Parallel()
	ok := lane(nil)
	exp := `{"context": "shop", "instance": "prod", "deployment_record_id": "d-1", "artifact_id": "a", "source_git_ref": "s"}`
	tests := []struct {
		name string
		file string
		want []string // each "path: reason fragment"
	}{
		{"empty", "  \n", []string{"is empty"}},
		{"not JSON", `{"lanes": [`, []string{"is not valid JSON"}},
		{"not YAML", "lanes:\n  - product: [\n", []string{"is not valid YAML"}},
		{"a list at the top", `- product: shop`, []string{"is a list; want an object with a lanes list"}},
		{"unknown top-level key", `{"lanes": [` + ok + `], "lane": []}`, []string{"lane: is not a field here; valid fields: lanes"}},
		{"no lanes", `{}`, []string{"lanes: is missing"}},
		{"lanes empty", `{"lanes": []}`, []string{"lanes: is empty"}},
		{"lanes not a list", `{"lanes": {"a": 1}}`, []string{"lanes: is an object; want a list of lanes"}},
		{"a lane not an object", `{"lanes": [` + ok + `, "shop"]}`, []string{"lanes[1]: is a string; want an object"}},
		{"missing context", `{"lanes": [` + ok + `, ` + lane(map[string]string{"instance": `"testing"`, "context": "-"}) + `]}`, []string{"lanes[1].context: is missing; give the lane's context"}},
		{"empty product", `{"lanes": [` + lane(map[string]string{"product": `""`}) + `]}`, []string{"lanes[0].product: is empty"}},
		{"context with a space", `{"lanes": [` + lane(map[string]string{"context": `"shop eu"`}) + `]}`, []string{`lanes[0].context: is "shop eu"; valid names have letters, digits`}},
		{"instance a number", `{"lanes": [` + lane(map[string]string{"instance": `42`}) + `]}`, []string{"lanes[0].instance: is a number; want a string (in YAML, quote it"}},
		{"YAML instance a number", "lanes:\n  - {product: shop, context: shop, instance: 0042, health_url: 'https://a.example'}\n", []string{`lanes[0].instance: is a number; want a string (in YAML, quote it: "0042")`}},
		{"unknown lane key", `{"lanes": [` + lane(map[string]string{"helth_url": `"x"`}) + `]}`, []string{"lanes[0].helth_url: is not a field here; valid fields: product, context, instance, health_url, base_url"}},
		{"repeated key", `{"lanes": [{"product": "shop", "product": "blog", "context": "c", "instance": "i", "base_url": "http://a.example"}]}`, []string{"lanes[0].product: is given twice (first on line 1)"}},
		{"both URLs", `{"lanes": [` + lane(map[string]string{"base_url": `"https://shop.example.com"`}) + `]}`, []string{"lanes[0]: has both health_url and base_url; give exactly one"}},
		{"neither URL", `{"lanes": [` + lane(map[string]string{"health_url": "-"}) + `]}`, []string{"lanes[0]: has neither health_url nor base_url"}},
		{"URL without scheme", `{"lanes": [` + lane(map[string]string{"health_url": `"shop.example.com/health"`}) + `]}`, []string{"lanes[0].health_url: must start with http:// or https://"}},
		{"URL with credentials", `{"lanes": [` + lane(map[string]string{"health_url": `"https://u:secret@shop.example.com/h"`}) + `]}`, []string{"lanes[0].health_url: must not contain credentials"}},
		{"URL without host", `{"lanes": [` + lane(map[string]string{"base_url": `"https:///x"`, "health_url": "-"}) + `]}`, []string{"lanes[0].base_url: has no host"}},
		{"URL with a fragment", `{"lanes": [` + lane(map[string]string{"health_url": `"https://a.example/h#x"`}) + `]}`, []string{"lanes[0].health_url: must not have a #fragment"}},
		{"two lanes alike", `{"lanes": [` + ok + `, ` + lane(map[string]string{"base_url": `"https://b.example"`, "health_url": "-"}) + `]}`, []string{`lanes[1]: repeats product, context and instance "shop/shop/prod" of lanes[0]`}},
		{"expected and record", `{"lanes": [` + lane(map[string]string{"expected": exp, "deployment_record_id": `"d-1"`}) + `]}`, []string{"lanes[0]: has both expected and deployment_record_id"}},
		{"expected not an object", `{"lanes": [` + lane(map[string]string{"expected": `"d-1"`}) + `]}`, []string{"lanes[0].expected: is a string; want the runtime identity object"}},
		{"expected missing a field", `{"lanes": [` + lane(map[string]string{"expected": strings.Replace(exp, `"source_git_ref": "s"`, `"source_git_ref": ""`, 1)}) + `]}`, []string{"lanes[0].expected.source_git_ref: is required and must not be empty"}},
		{"expected with a bad value", `{"lanes": [` + lane(map[string]string{"expected": strings.Replace(exp, `"a"`, `"a b"`, 1)}) + `]}`, []string{"lanes[0].expected.artifact_id: contains whitespace"}},
		{"expected with an unknown key", `{"lanes": [` + lane(map[string]string{"expected": strings.Replace(exp, `{`, `{"sha": "x", `, 1)}) + `]}`, []string{"lanes[0].expected.sha: is not a field of the runtime identity; valid fields: artifact_id, context"}},
		{"expected for another lane", `{"lanes": [` + lane(map[string]string{"expected": strings.Replace(exp, `"instance": "prod"`, `"instance": "testing"`, 1)}) + `]}`, []string{`lanes[0].expected.instance: is "testing" but the lane's instance is "prod"`}},
		{"bad record id", `{"lanes": [` + lane(map[string]string{"deployment_record_id": `"a b"`}) + `]}`, []string{`lanes[0].deployment_record_id: is "a b"; want a Launchplane deployment record id`}},
		{"require_identity not a boolean", `{"lanes": [` + lane(map[string]string{"require_identity": `"yes"`, "deployment_record_id": `"d-1"`}) + `]}`, []string{"lanes[0].require_identity: is a string; want true or false"}},
		{"required with nothing to compare", `{"lanes": [` + lane(map[string]string{"require_identity": `true`}) + `]}`, []string{"lanes[0].require_identity: is true but the lane has neither expected nor deployment_record_id"}},
		{"YAML alias", "x: &a {product: shop}\nlanes: [*a]\n", []string{"uses a YAML anchor or alias"}},
		{"two YAML documents", "lanes: []\n---\nlanes: []\n", []string{"holds more than one YAML document"}},
		{"JSON with trailing data", `{"lanes": [` + ok + `]} {}`, []string{"has more after the top-level object"}},
		{"several problems at once", `{"lanes": [` + lane(map[string]string{"context": "-"}) + `, ` + lane(map[string]string{"instance": `"testing"`, "health_url": `"ftp://x"`}) + `]}`, []string{"lanes[0].context: is missing", "lanes[1].health_url: must start with http:// or https://"}},
		{"line numbers", "lanes:\n  - product: shop\n    context: shop\n    instance: prod\n    health_url: nope\n", []string{"lanes[0].health_url: must start with http:// or https:// (line 5)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lanes, err := ParseLanes([]byte(tt.file))
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("ParseLanes() = %d lanes, error %v; want an *InputError", len(lanes), err)
			}
			if lanes != nil {
				t.Errorf("ParseLanes() returned %d lanes with its error, want none", len(lanes))
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("ParseLanes() error =\n%s\nwant it to contain %q", msg, w)
				}
			}
			if len(ie.Problems) < len(tt.want) {
				t.Errorf("ParseLanes() listed %d problems, want at least %d", len(ie.Problems), len(tt.want))
			}
		})
	}
}

func TestParseLanesJSONEscapes(t *testing.T) {
	t.Parallel()
	// Valid JSON that YAML parsers refuse: an escaped slash and a surrogate pair.
	file := `{"lanes":[{"product":"shop","context":"shop","instance":"prod","health_url":"https:\/\/shop.example.com\/api\/health?q=\ud83d\ude00"}]}`
	lanes, err := ParseLanes([]byte(file))
	if err != nil {
		t.Fatalf("ParseLanes() error = %v", err)
	}
	if got, want := lanes[0].HealthURL, "https://shop.example.com/api/health?q=😀"; got != want {
		t.Errorf("health_url = %q, want %q", got, want)
	}
}

func FuzzParseLanes(f *testing.F) {
	f.Add([]byte(goodJSON))
	f.Add([]byte(goodYAML))
	f.Add([]byte(`{"lanes":[{"product":"a","context":"b","instance":"c","base_url":"http://x"}]}`))
	f.Add([]byte("lanes:\n  - &a {product: a}\n  - *a\n"))
	f.Add([]byte(`{"lanes":[{"product":"a","product":"a"}]}`))
	f.Add([]byte("lanes: !!binary aGVsbG8=\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lanes, err := ParseLanes(data)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 {
				t.Fatalf("ParseLanes() error %v is not an *InputError with problems", err)
			}
			if lanes != nil {
				t.Fatalf("ParseLanes() returned lanes with an error")
			}
			return
		}
		seen := map[string]bool{}
		for _, l := range lanes {
			if checkKey(l.Product) != "" || checkKey(l.Context) != "" || checkKey(l.Instance) != "" {
				t.Fatalf("accepted lane with a bad key %q", l.Key())
			}
			if (l.HealthURL == "") == (l.BaseURL == "") {
				t.Fatalf("accepted lane %q with both or neither URL", l.Key())
			}
			if seen[l.Key()] {
				t.Fatalf("accepted lane %q twice", l.Key())
			}
			seen[l.Key()] = true
			if l.Expected != nil && l.Expected.Validate() != nil {
				t.Fatalf("accepted an invalid expected identity for %q", l.Key())
			}
		}
	})
}

// FuzzParseLanesJSONValues checks the JSON front end against encoding/json: whatever strings a
// lane holds, a file json.Marshal wrote reads back to the same values, or is refused by the rules.
func FuzzParseLanesJSONValues(f *testing.F) {
	f.Add("shop", "shop", "prod", "https://shop.example.com/api/health", true)
	f.Add("a", "b<>&", "c", "http://x/\u2028?\ud7ff", false)
	f.Add("a", "b", "c", "http://x/\"\\/", false)
	f.Fuzz(func(t *testing.T, product, context, instance, url string, require bool) {
		doc := map[string]any{"lanes": []any{map[string]any{
			"product": product, "context": context, "instance": instance, "health_url": url, "require_identity": require,
		}}}
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err) // strings and a bool always marshal
		}
		// What encoding/json itself reads back (invalid UTF-8 became U+FFFD on the way out).
		var back struct {
			Lanes []struct {
				Product, Context, Instance string
				HealthURL                  string `json:"health_url"`
			} `json:"lanes"`
		}
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		b := back.Lanes[0]
		product, context, instance, url = b.Product, b.Context, b.Instance, b.HealthURL
		lanes, err := ParseLanes(data)
		valid := checkKey(product) == "" && checkKey(context) == "" && checkKey(instance) == "" && checkTargetURL(url) == "" && !require
		if !valid {
			if err == nil && require {
				t.Fatalf("accepted require_identity with nothing to compare")
			}
			if err == nil && (checkKey(product) != "" || checkKey(context) != "" || checkKey(instance) != "") {
				t.Fatalf("accepted bad names %q %q %q", product, context, instance)
			}
			if err == nil && checkTargetURL(url) != "" {
				t.Fatalf("accepted health_url %q: %s", url, checkTargetURL(url))
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseLanes(%s) error = %v", data, err)
		}
		want := []Lane{{Product: product, Context: context, Instance: instance, HealthURL: url, Origin: "lanes[0]"}}
		if diff := cmp.Diff(want, lanes, cmpopts.IgnoreUnexported(Lane{})); diff != "" {
			t.Fatalf("ParseLanes(%s) (-want +got):\n%s", data, diff)
		}
	})
}
