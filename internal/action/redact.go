package action

import (
	"io"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// minSecretLen is the shortest value treated as a secret. Shorter env values (true, 1, prod) are
// not credentials, and redacting them would garble every message that happens to contain them.
const minSecretLen = 6

// redactor replaces every registered secret with *** in anything the program writes. The runner
// masks registered values in the log, but not in files (summary, outputs, evidence), and a log
// tail or an error body may echo them; so the program redacts everything itself.
type redactor struct {
	mu      sync.RWMutex
	secrets []string // longest first, so a secret containing another is replaced whole
	r       *strings.Replacer
}

// add registers values as secrets and returns the new single-line ones, for ::add-mask::. A
// multi-line value is redacted whole and line by line, and masked line by line only: the runner
// masks per line, and a mask command ends at the first line break, so the rest would be printed.
func (r *redactor) add(values ...string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var added []string
	grew := false
	seen := map[string]bool{}
	for _, s := range r.secrets {
		seen[s] = true
	}
	for _, v := range values {
		parts := []string{v}
		if strings.ContainsAny(v, "\r\n") {
			parts = append(parts, strings.FieldsFunc(v, func(c rune) bool { return c == '\n' || c == '\r' })...)
		}
		// A connection URL's password may be printed on its own (an authentication error).
		for _, p := range parts {
			if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok {
					parts = append(parts, pw)
				}
			}
		}
		for _, p := range parts {
			p = strings.TrimSpace(p)
			if len(p) < minSecretLen || seen[p] {
				continue
			}
			seen[p] = true
			r.secrets = append(r.secrets, p)
			grew = true
			if !strings.ContainsAny(p, "\r\n") {
				added = append(added, p)
			}
		}
	}
	// Rebuild whenever a secret was added, masked or not: a multi-line value whose lines are all
	// too short to mask one by one is still redacted whole.
	if grew {
		sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
		pairs := make([]string, 0, 2*len(r.secrets))
		for _, s := range r.secrets {
			pairs = append(pairs, s, "***")
		}
		r.r = strings.NewReplacer(pairs...)
	}
	return added
}

// String returns s with every secret replaced.
func (r *redactor) String(s string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// writer wraps w so everything written through it is redacted. Writes are line-oriented in this
// program (every message ends in a newline), so a secret never straddles two writes.
func (r *redactor) writer(w io.Writer) io.Writer { return redactingWriter{r, w} }

type redactingWriter struct {
	r *redactor
	w io.Writer
}

func (rw redactingWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.String(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
