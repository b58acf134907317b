package ghdeploy

import (
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
