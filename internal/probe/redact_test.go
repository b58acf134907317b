package probe

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
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

func TestDescribe(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	secret := &url.Error{Op: "Get", URL: "http://u:secret@h/?k=secret", Err: errors.New("proxy said no to http://u:secret@h/x?k=secret")}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"redirects", context.Background(), &url.Error{Op: "Get", URL: "http://h/?k=secret", Err: errTooManyRedirects}, "more than 3 redirects: stopped before following the 4th"},
		{"cancelled", cancelled, context.Canceled, "cancelled"},
		{"deadline", context.Background(), fmt.Errorf("wrap: %w", context.DeadlineExceeded), "timed out after 5s"},
		{"other error", context.Background(), secret, "proxy said no to http://h/x"},
		{"long error", context.Background(), errors.New(strings.Repeat("x", 300)), strings.Repeat("x", maxDetail) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := describe(tt.ctx, tt.err, 5*time.Second); got != tt.want {
				t.Errorf("describe() = %q, want %q", got, tt.want)
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
