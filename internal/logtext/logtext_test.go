package logtext_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/launchplane/runtime-identity/internal/logtext"
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
			if got := logtext.Truncate(tt.s, tt.n); got != tt.want {
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
		got := logtext.Truncate(s, n)
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

func TestOneLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"  a\nb\r\nc\t d  ", "a b c d"},
		{"x\u2028y\u2029z\u202ew", "x y z w"},
		{"nul\x00bell\x07", "nul bell"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"::error::forged\n::warning::x", "::error::forged ::warning::x"},
	}
	for _, tt := range tests {
		if got := logtext.OneLine(tt.in); got != tt.want {
			t.Errorf("OneLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzOneLine(f *testing.F) {
	f.Add("a\nb")
	f.Add("\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		got := logtext.OneLine(s)
		if strings.ContainsAny(got, "\r\n\u2028\u2029") || !utf8.ValidString(got) || got != strings.TrimSpace(got) {
			t.Fatalf("OneLine(%q) = %q", s, got)
		}
	})
}

func TestJSONString(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{`"x"`: "x", `12.5`: "12.5", `{"a":1}`: "", `null`: "", `[1]`: ""} {
		if got := logtext.JSONString([]byte(raw)); got != want {
			t.Errorf("JSONString(%s) = %q, want %q", raw, got, want)
		}
	}
}
