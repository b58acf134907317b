package probe

import (
	"net/url"
	"testing"
)

func TestRedactText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"credentials and query", `Get "https://user:pa55@host.example/api/health?token=abc&_launchplane_probe=x-1": EOF`, `Get "https://host.example/api/health": EOF`},
		{"fragment", "see http://h/p#frag now", "see http://h/p now"},
		{"no URL", "dial tcp 127.0.0.1:1: connect: connection refused", "dial tcp 127.0.0.1:1: connect: connection refused"},
		{"unparsable", "at http://[::1%zz/x?q=1 then", "at <url> then"},
		{"two URLs", "http://a:b@x/?q ftp://c@y/z", "http://x/ ftp://y/z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := redactText(tt.in); got != tt.want {
				t.Errorf("redactText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzRedactText: whatever the text, no URL in the output keeps credentials, a query or a
// fragment.
func FuzzRedactText(f *testing.F) {
	for _, s := range []string{
		`Get "https://user:pa55@host/api/health?token=abc": EOF`,
		"http://[::1%zz/x?q=1",
		"HTTPS://A:B@C/D?E#F http://x",
		"mailto:a@b?subject=x",
		"a://b@c?d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := redactText(s)
		for _, m := range urlPattern.FindAllString(out, -1) {
			if m == "<url>" {
				continue
			}
			u, err := url.Parse(m)
			if err != nil {
				continue // the <url> placeholder glued to neighbouring text
			}
			if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
				t.Errorf("redactText(%q) = %q keeps %q", s, out, m)
			}
		}
		if redactText(out) != out {
			t.Errorf("redactText is not idempotent on %q: %q then %q", s, out, redactText(out))
		}
	})
}
