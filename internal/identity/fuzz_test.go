package identity

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func seedBodies(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "launchplane", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "null", "[]", "{}", `{"runtime_identity":null}`, `{"runtime_identity":"\"{}\""}`, "<html>", `{"runtime_identity":{"schema_version":1e400}}`} {
		f.Add([]byte(s))
	}
}

// checkObservation holds for anything the extractors return, whatever the input.
func checkObservation(t *testing.T, obs Observation) {
	if obs.Found {
		if obs.Status != "" {
			t.Fatalf("found observation has status %s", obs.Status)
		}
		if obs.Surface != SurfaceHeaders {
			for _, f := range Fields {
				if f.Required && blank(f.Get(&obs.Identity)) {
					t.Fatalf("found identity lacks %s", f.Name)
				}
			}
			// A decoded identity re-renders and re-reads to itself.
			again, _, err := Decode(obs.Identity.Canonical())
			if err != nil || again != obs.Identity {
				t.Fatalf("Decode(Canonical()) = %+v, %v; want %+v", again, err, obs.Identity)
			}
		}
	} else if obs.Status != StatusMissing && obs.Status != StatusMalformed && obs.Status != StatusUnverifiable {
		t.Fatalf("not-found observation has status %q", obs.Status)
	}
	if obs.Detail == "" {
		t.Fatal("observation has no detail")
	}
	stable := Identity{SchemaVersion: 1, Context: "c", Instance: "i", EnvironmentKind: KindStable, DeploymentRecordID: "d", ArtifactID: "a", SourceGitRef: "0123456789abcdef"}
	v := Compare(&stable, obs)
	switch v.Status {
	case StatusMatch, StatusMismatch:
		if !obs.Found {
			t.Fatalf("Compare() = %s for a not-found observation", v.Status)
		}
		if (v.Status == StatusMismatch) != (len(v.Mismatched) > 0) {
			t.Fatalf("Compare() = %s with mismatched %v", v.Status, v.Mismatched)
		}
	case StatusMissing, StatusMalformed, StatusUnverifiable:
	default:
		t.Fatalf("Compare() = %q", v.Status)
	}
}

func FuzzExtractHealth(f *testing.F) {
	seedBodies(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		obs := ExtractHealth(body)
		if obs.Surface != SurfaceHealth {
			t.Fatalf("surface %s", obs.Surface)
		}
		checkObservation(t, obs)
		if obs.Found && !json.Valid(FromPythonJSON(body)) {
			t.Fatal("identity found in a body Python's json.loads rejects")
		}
	})
}

func FuzzExtractWellKnown(f *testing.F) {
	seedBodies(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		checkObservation(t, ExtractWellKnown(body))
	})
}

func FuzzDecode(f *testing.F) {
	seedBodies(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, _, err := Decode(raw)
		if err != nil {
			return
		}
		if id.SchemaVersion != SchemaVersion {
			t.Fatalf("decoded schema_version %d", id.SchemaVersion)
		}
		// Canonical output is always valid JSON of pure printable ASCII.
		c := id.Canonical()
		if !json.Valid(c) {
			t.Fatalf("Canonical() = %q is not valid JSON", c)
		}
		for _, b := range c {
			if b < 0x20 || b > 0x7e {
				t.Fatalf("Canonical() has byte %#x outside printable ASCII", b)
			}
		}
		var back Identity
		if err := json.Unmarshal(c, &back); err != nil || back != id {
			t.Fatalf("encoding/json reads Canonical() as %+v, %v; want %+v", back, err, id)
		}
	})
}

func FuzzExtractHeaders(f *testing.F) {
	f.Add("deployment-1", "sha256:"+strings.Repeat("a", 64))
	f.Add("", "")
	f.Add("x", "sha256:zz")
	f.Fuzz(func(t *testing.T, dep, dig string) {
		h := http.Header{}
		h[HeaderDeployment] = []string{dep}
		h[HeaderDigest] = []string{dig}
		checkObservation(t, ExtractHeaders(h))
	})
}
