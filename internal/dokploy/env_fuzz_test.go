package dokploy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/launchplane/runtime-identity/internal/identity"
)

// envFuzzVars turns fuzz arguments into vars: bits 0-3 of keys pick which of
// the four identity keys to set (none picked means all four), bit 4 gives the
// JSON key a JSON-shaped value, and value is reduced to identity-safe bytes.
func envFuzzVars(keys uint8, value string) []identity.EnvVar {
	safe := strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f && !strings.ContainsRune("'\"`#\\$", r) {
			return r
		}
		return -1
	}, value)
	var vars []identity.EnvVar
	for i, k := range identity.EnvKeys {
		if keys&0xf != 0 && keys&(1<<i) == 0 {
			continue
		}
		v := safe
		if i > 0 && v != "" {
			v += "-" + string(rune('0'+i))
		}
		if k == identity.EnvJSON && keys&0x10 != 0 {
			v = `{"artifact_id":"` + safe + `","schema_version":1}`
		}
		vars = append(vars, identity.EnvVar{Key: k, Value: v})
	}
	return vars
}

var envFuzzSeeds = []string{
	"",
	"A=1\nB=2\n",
	"LAUNCHPLANE_ARTIFACT_ID=old\r\nAPP=1\r\nLAUNCHPLANE_ARTIFACT_ID=older\r\n",
	"export LAUNCHPLANE_SOURCE_GIT_REF='main' # ref\n",
	"CERT=\"a\nLAUNCHPLANE_ARTIFACT_ID=inside\n\"\nLAUNCHPLANE_ARTIFACT_ID=x",
	"A=\"open\nLAUNCHPLANE_ARTIFACT_ID=\"art-1\"\nB=x\"\n",
	"LAUNCHPLANE_ARTIFACT_ID=\n'orphan'\n",
	"APP=1\nWEIRD:",
	"WEIRD:\n",
	"LAUNCHPLANE_ARTIFACT_ID=\"a\"\u2028B=2",
	"K=`x\nLAUNCHPLANE_DEPLOYMENT_RECORD_ID=y`\rLAUNCHPLANE_DEPLOYMENT_RECORD_ID: z # c",
	"#LAUNCHPLANE_ARTIFACT_ID=x\n\n  \t\n__proto__=1\na.b-c=2",
	"LAUNCHPLANE_RUNTIME_IDENTITY_JSON={\"artifact_id\":\"a\"}\nLAUNCHPLANE_IMAGE_REFERENCE=img\n",
	"A='x\\' \nLAUNCHPLANE_ARTIFACT_ID='old'\nC='\n",
}

// FuzzPatchEnv checks PatchEnv with ParseEnv: the parse invariant, that no
// byte outside our keys' lines changes, that changed tells the truth, and
// that patching the result again changes nothing.
func FuzzPatchEnv(f *testing.F) {
	for i, s := range envFuzzSeeds {
		f.Add(s, uint8(i), "v"+string(rune('a'+i)))
	}
	for _, tt := range envPatchCases {
		f.Add(tt.text, uint8(0x10), "art-2")
	}
	f.Fuzz(func(t *testing.T, text string, keys uint8, value string) {
		vars := envFuzzVars(keys, value)
		patched, changed := PatchEnv(text, vars)
		_, mode := patchEnv(text, vars)
		if err := envCheckPatch(text, vars, patched, changed, mode); err != nil {
			t.Fatalf("PatchEnv(%q, %v) = %q: %v", text, vars, patched, err)
		}
		again, _ := PatchEnv(patched, vars)
		if mode == patchExact && again != patched {
			t.Fatalf("PatchEnv(%q) = %q, but patching that again gives %q", text, patched, again)
		}
	})
}

// FuzzParseEnv checks that ParseEnv never panics, that the form of line ends
// does not matter, that keys are well formed, and that PatchEnv keeps its invariant on the text with the test
// identity.
func FuzzParseEnv(f *testing.F) {
	for _, s := range envFuzzSeeds {
		f.Add(s)
	}
	for _, s := range envParseCases() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		got := ParseEnv(text)
		// dotenv normalizes line ends first, so their form cannot matter.
		crlf := strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")
		if diff := cmp.Diff(got, ParseEnv(crlf)); diff != "" {
			t.Fatalf("ParseEnv(%q) and ParseEnv(%q) differ:\n%s", text, crlf, diff)
		}
		for k := range got {
			if k == "" || strings.ContainsAny(k, " \t\n\r=:#'\"`") {
				t.Fatalf("ParseEnv(%q) has key %q", text, k)
			}
		}
		patched, changed := PatchEnv(text, envTestVars)
		_, mode := patchEnv(text, envTestVars)
		if err := envCheckPatch(text, envTestVars, patched, changed, mode); err != nil {
			t.Fatalf("PatchEnv(%q) = %q: %v", text, patched, err)
		}
	})
}
