// Package logtext makes text that came from outside (a server's error message, a tenant's value)
// safe to print on one line: one line, bounded, never split inside a character. Each client adds
// its own secret scrubbing on top; this is the part they all share.
package logtext

import (
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ellipsis marks a cut string. It is one character, so a cut string is exactly n long.
const ellipsis = "…"

// Truncate returns s when it holds at most n characters (runes, as JSON Schema's maxLength
// counts them); otherwise its first n-1 characters, trailing space removed, followed by "…".
// It never splits a multi-byte character. n <= 0 gives "".
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return strings.TrimRightFunc(s[:i], unicode.IsSpace) + ellipsis
}

// OneLine makes s a single plain line: line breaks and other control or format characters
// (U+2028, U+2029 and bidi controls included) become spaces, runs of spaces collapse, the ends
// are trimmed, and invalid UTF-8 becomes U+FFFD.
func OneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029
	}), " ")
}

// JSONString returns raw as text when it is a JSON string or number, else "": servers put odd
// types in their error fields.
func JSONString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
