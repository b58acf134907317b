package action

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/launchplane/runtime-identity/internal/logtext"
	"github.com/sethvargo/go-githubactions"
)

// maxOutputLen caps one output value: untrusted values (what a tenant reports) must not fill the
// job's 1 MB output budget.
const maxOutputLen = 64 << 10

// sink is where a run's results go: the GitHub runner's file commands, or a terminal.
type sink interface {
	// setOutput writes value as it is: the caller cleans and redacts untrusted values.
	setOutput(name, value string)
	summary(markdown string)
	mask(values []string)
	annotate(level, msg string)
	infof(format string, args ...any)
	// block prints untrusted text (a deployment log tail) in a collapsed group, with workflow
	// commands inside it switched off.
	block(title, text string)
}

// cleanOutput strips line breaks from a value and caps its length: the runner's output file uses
// a fixed heredoc delimiter, so a value with a line equal to it could inject outputs.
func cleanOutput(v string) string {
	v = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(v)
	if len(v) > maxOutputLen {
		v = v[:maxOutputLen]
	}
	return v
}

// actionSink writes through go-githubactions: outputs and the summary to their files, log lines
// and annotations to stdout, everything redacted. Mask commands go out raw: the runner consumes them.
type actionSink struct {
	ga  *githubactions.Action
	raw io.Writer
	red *redactor
}

func (s *actionSink) setOutput(name, value string) {
	s.ga.SetOutput(name, value)
}
func (s *actionSink) summary(md string) { s.ga.AddStepSummary(s.red.String(md)) }
func (s *actionSink) mask(values []string) {
	for _, v := range values {
		// The runner decodes %25, %0D and %0A in command data: encode them, or a secret holding
		// "%25" would register a different mask.
		fmt.Fprintf(s.raw, "::add-mask::%s\n", maskEscaper.Replace(v))
	}
}
func (s *actionSink) annotate(level, msg string) {
	msg = logtext.OneLine(msg)
	switch level {
	case "error":
		s.ga.Errorf("%s", msg)
	case "warning":
		s.ga.Warningf("%s", msg)
	case "notice":
		s.ga.Noticef("%s", msg)
	}
}
func (s *actionSink) block(title, text string) {
	// An unguessable token: the log cannot end the pause by printing it.
	var nonce [12]byte
	_, _ = rand.Read(nonce[:])
	token := "runtime-identity-" + hex.EncodeToString(nonce[:])
	s.ga.Group(title)
	fmt.Fprintf(s.raw, "::stop-commands::%s\n", token)
	fmt.Fprintln(s.red.writer(s.raw), strings.TrimRight(text, "\n"))
	fmt.Fprintf(s.raw, "::%s::\n", token)
	s.ga.EndGroup()
}
func (s *actionSink) infof(f string, args ...any) {
	// Outside text (a Dokploy row id, a tenant's detail) never starts a line of its own: one
	// that did could form a workflow command.
	s.ga.Infof("%s\n", logtext.OneLine(fmt.Sprintf(f, args...)))
}

// termSink is for the CLI outside GitHub Actions: log lines on stderr, and at the end the outputs
// and the summary on stdout.
type termSink struct {
	stdout, stderr io.Writer // already redacting
	outputs        map[string]string
	md             strings.Builder
}

func (s *termSink) setOutput(name, value string) {
	if s.outputs == nil {
		s.outputs = map[string]string{}
	}
	s.outputs[name] = value
}
func (s *termSink) summary(md string) { s.md.WriteString(md) }
func (s *termSink) mask([]string)     {}
func (s *termSink) block(title, text string) {
	fmt.Fprintf(s.stderr, "--- %s\n%s\n---\n", title, strings.TrimRight(text, "\n"))
}
func (s *termSink) annotate(level, msg string) {
	fmt.Fprintf(s.stderr, "%s: %s\n", level, logtext.OneLine(msg))
}
func (s *termSink) infof(f string, args ...any) {
	fmt.Fprintln(s.stderr, logtext.OneLine(fmt.Sprintf(f, args...)))
}

// flush prints the summary and the outputs, sorted, as name=value lines.
func (s *termSink) flush() {
	if s.md.Len() > 0 {
		fmt.Fprintln(s.stdout, strings.TrimRight(s.md.String(), "\n"))
		fmt.Fprintln(s.stdout)
	}
	names := make([]string, 0, len(s.outputs))
	for n := range s.outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(s.stdout, "%s=%s\n", n, s.outputs[n])
	}
}

var maskEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
