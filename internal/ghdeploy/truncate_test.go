package ghdeploy_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/ghdeploy"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"short", "match", 140, "match"},
		{"exactly n", "abcde", 5, "abcde"},
		{"one over", "abcdef", 5, "abcd…"},
		{"multibyte exactly n", "日本語", 3, "日本語"},
		{"multibyte cut", "日本語テキスト", 4, "日本語…"},
		{"emoji cut", "🚀🚀🚀🚀", 3, "🚀🚀…"},
		{"trailing space before the cut", "ab  cdef", 5, "ab…"},
		{"n of one", "abc", 1, "…"},
		{"n of zero", "abc", 0, ""},
		{"negative n", "abc", -1, ""},
		{"empty", "", 3, ""},
		{"invalid UTF-8 counts per byte", "a\xffbcd", 3, "a\xff…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ghdeploy.Truncate(tt.s, tt.n); got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
			}
		})
	}
}

func FuzzTruncate(f *testing.F) {
	for _, s := range []string{"", "match: dr-42", strings.Repeat("é", 200), "🚀 a\u0301 \xff\xfe", strings.Repeat(" ", 150) + "x"} {
		f.Add(s, 140)
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		got := ghdeploy.Truncate(s, n)
		count := utf8.RuneCountInString(got)
		switch {
		case n <= 0:
			if got != "" {
				t.Fatalf("Truncate(%q, %d) = %q, want empty", s, n, got)
			}
		case utf8.RuneCountInString(s) <= n:
			if got != s {
				t.Fatalf("Truncate(%q, %d) = %q, want the input unchanged", s, n, got)
			}
		default:
			if count > n {
				t.Fatalf("Truncate(%q, %d) has %d runes, more than %d", s, n, count, n)
			}
			if !strings.HasSuffix(got, "…") || !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) {
				t.Fatalf("Truncate(%q, %d) = %q, want a prefix of the input ending in …", s, n, got)
			}
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Truncate(%q, %d) = %q split a character", s, n, got)
		}
	})
}
