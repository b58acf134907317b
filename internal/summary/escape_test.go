package summary

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscapeMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"plain", "deployment-20260510T141500Z-prod", "deployment-20260510T141500Z-prod"},
		{"artifact", "ghcr.io/acme/syo@sha256:abc", "ghcr.io/acme/syo@sha256:abc"},
		{"pipe", "a|b", `a\|b`},
		{"backslash before pipe", `a\|b`, `a\\\|b`},
		{"backticks", "`x`", "\\`x\\`"},
		{"html", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"entity stays literal", "&lt;", "&amp;lt;"},
		{"emphasis", "*a* _b_ ~c~", `\*a\* \_b\_ \~c\~`},
		{"link", "[x](javascript:alert(1))", `\[x\](javascript:alert(1))`},
		{"math", "$x$", `\$x\$`},
		{"heading", "# h", `\# h`},
		{"hash inside", "a#b", "a#b"},
		{"indented heading", "  # h", `&#32;&#32;\# h`},
		{"indented code", "     x y", "&#32;&#32;&#32;&#32;&#32;x y"},
		{"list", "- x", `\- x`},
		{"plus", "+ x", `\+ x`},
		{"setext", "===", `\===`},
		{"ordered list", "12. x", `12\. x`},
		{"ordered list paren", "3) x", `3\) x`},
		{"version is not a list", "v1.2", "v1.2"},
		{"newlines", "a\nb\r\nc\rd", "a␤b␤␤c␤d"},
		{"unicode line separators", "a\u2028b\u2029c\u0085d", "a␤b␤c␤d"},
		{"controls", "a\x00b\x1bc\x7f", "a␀b␛c␡"},
		{"tab", "a\tb", "a␉b"},
		{"bidi override", "a\u202eb", "a⟨U+202E⟩b"},
		{"zero width", "a\u200bb", "a⟨U+200B⟩b"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
		{"multibyte kept", "café 日本 🚀", "café 日本 🚀"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := escapeMarkdown(tc.in); got != tc.want {
				t.Errorf("escapeMarkdown(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCut(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 3, "abc"},
		{"ascii", "abcdef", 3, "abc… (cut, 6 bytes)"},
		{"multibyte", "日本語テキスト", 2, "日本… (cut, 21 bytes)"},
		{"empty", "", 5, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := cut(tc.in, tc.n); got != tc.want {
				t.Errorf("cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

func TestSafeURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"https://github.com/acme/syo/actions/runs/42", true},
		{"http://127.0.0.1:8080/x?y=1", true},
		{"javascript:alert(1)", false},
		{"https://x.example/<script>", false},
		{"https://x.example/a b", false},
		{"https://x.example/a>b", false},
		{"https://x.example/\n", false},
		{"/relative", false},
		{"https://", false},
	}
	for _, tc := range tests {
		if got := safeURL(tc.in); got != tc.want {
			t.Errorf("safeURL(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzEscapeMarkdown checks the cell invariants on any input: one line, no unescaped pipe, no
// raw angle bracket, valid UTF-8, no raw control or format character.
func FuzzEscapeMarkdown(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := escapeMarkdown(s)
		if !utf8.ValidString(got) {
			t.Fatalf("escapeMarkdown(%q) is not valid UTF-8", s)
		}
		if strings.ContainsAny(got, "<>\n\r\u2028\u2029\u0085\u202e\x00") {
			t.Fatalf("escapeMarkdown(%q) = %q holds a raw break, bracket or control", s, got)
		}
		if n := unescapedPipes(got); n != 0 {
			t.Fatalf("escapeMarkdown(%q) = %q has %d unescaped pipes", s, got, n)
		}
		if row := "| " + got + " | x |"; unescapedPipes(row) != 3 {
			t.Fatalf("escapeMarkdown(%q) = %q changes a row's column count", s, got)
		}
	})
}
