package identity

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// oracle runs testdata/python/oracle.py in mode over cases (header first, when given) and returns
// one answer per case. It skips the test when python3 with pydantic is not installed; the tables
// next to each live test still pin the behaviour.
func oracle(t *testing.T, mode string, header []byte, cases [][]byte) []json.RawMessage {
	t.Helper()
	// Where CI has python3 with pydantic, RUNTIME_IDENTITY_REQUIRE_ORACLE=1 (set by .ci/run)
	// turns a skip into a failure, so the oracle can never be skipped there silently.
	skip := t.Skip
	if os.Getenv("RUNTIME_IDENTITY_REQUIRE_ORACLE") == "1" {
		skip = t.Fatal
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		skip("python3 is not on PATH; the table tests still pin Launchplane's behaviour")
	}
	if err := exec.Command(py, "-c", "import pydantic").Run(); err != nil {
		skip("pydantic is not installed for python3; the table tests still pin Launchplane's behaviour")
	}
	var in bytes.Buffer
	if header != nil {
		in.Write(header)
		in.WriteByte('\n')
	}
	for _, c := range cases {
		line, _ := json.Marshal(base64.StdEncoding.EncodeToString(c))
		in.Write(line)
		in.WriteByte('\n')
	}
	cmd := exec.Command(py, filepath.Join("testdata", "python", "oracle.py"), mode)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle.py %s: %v\n%s", mode, err, stderr.Bytes())
	}
	var answers []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var a json.RawMessage
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("oracle.py %s answer: %v", mode, err)
		}
		answers = append(answers, a)
	}
	if mode != "space" && len(answers) != len(cases) {
		t.Fatalf("oracle.py %s answered %d cases, want %d", mode, len(answers), len(cases))
	}
	return answers
}

// show renders a case for a failure message: printable, bounded.
func show(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\ufffd")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.TrimPrefix(strings.TrimSuffix(jsonQuote(s), `"`), `"`)
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
