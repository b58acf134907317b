package identity

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Launchplane reads health bodies with Python's json module and validates identities with a
// pydantic model in its default lax mode (cbusillo/launchplane
// control_plane/workflows/runtime_identity_health.py at ff8f4aa, wait_for_json_healthcheck;
// control_plane/contracts/runtime_identity.py at 4b42a52, RuntimeIdentity and
// parse_runtime_identity_payload). This file holds the few rules where Python and pydantic read
// more than Go's encoding/json does, so an identity Launchplane accepts is read the same here.

// Replacements for the number tokens Python's json.loads accepts and JSON does not. Both are
// valid JSON that Python reads as an infinite float again, so a value that held NaN or
// ±Infinity stays a non-finite number for anyone downstream (evidence, Launchplane itself).
const (
	posInfinity = "1e999999"
	negInfinity = "-1e999999"
)

// FromPythonJSON returns text that Go's encoding/json accepts wherever Python's json.loads
// accepts b: the tokens NaN, Infinity and -Infinity outside strings become the overflowing
// numbers 1e999999 and -1e999999 (NaN too: it is as non-finite, and JSON has no NaN). Nothing
// else changes: valid JSON is returned as is (the same slice), string contents are never
// touched, and a token glued to a letter, digit, sign, dot or underscore is left alone, so text
// Python rejects stays rejected.
func FromPythonJSON(b []byte) []byte {
	if bytes.IndexByte(b, 'N') < 0 && bytes.IndexByte(b, 'I') < 0 {
		return b
	}
	var out []byte
	last, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++ // the escaped byte cannot end the string
			case '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			continue
		}
		if c != 'N' && c != 'I' && c != '-' {
			continue
		}
		n, repl := nonFinite(b[i:])
		if n == 0 || (i > 0 && gluing(b[i-1])) || (i+n < len(b) && gluing(b[i+n])) {
			continue
		}
		out = append(out, b[last:i]...)
		out = append(out, repl...)
		last = i + n
		i += n - 1
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// nonFinite returns the length of the Python-only token b starts with and its replacement, or 0.
func nonFinite(b []byte) (int, string) {
	switch {
	case bytes.HasPrefix(b, []byte("NaN")):
		return 3, posInfinity
	case bytes.HasPrefix(b, []byte("Infinity")):
		return 8, posInfinity
	case bytes.HasPrefix(b, []byte("-Infinity")):
		return 9, negInfinity
	}
	return 0, ""
}

// gluing reports whether c, next to a token, would make Python read something else than the
// token alone (and the replacement number part of a longer token).
func gluing(c byte) bool {
	return c >= 0x80 || c == '_' || c == '.' || c == '+' || c == '-' ||
		('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// pySpace reports whether Python's str.isspace holds for r: Unicode White_Space (Go's
// unicode.IsSpace) plus the four information separators U+001C to U+001F.
func pySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// blank reports whether s is empty after Python's str.strip(), Launchplane's test of a required
// field.
func blank(s string) bool {
	return PyStrip(s) == ""
}

// PyStrip is Python's str.strip() with no argument.
func PyStrip(s string) string {
	return strings.TrimFunc(s, pySpace)
}

// bodyBlank reports whether a body is empty after Python's bytes.strip(), which strips ASCII
// whitespace only: Launchplane treats such a body as no payload at all.
func bodyBlank(b []byte) bool {
	return len(bytes.Trim(b, " \t\n\r\v\f")) == 0
}

// readJSON reads untrusted text the way Python's json.loads does (after a UTF-8 decode when it
// came as bytes): invalid UTF-8 or anything json.loads rejects is an error, NaN and ±Infinity are
// numbers. It returns text encoding/json accepts.
func readJSON(b []byte) ([]byte, bool) {
	if !utf8.Valid(b) {
		return nil, false
	}
	b = FromPythonJSON(b)
	return b, json.Valid(b)
}

// LaxInt returns the integer pydantic's lax int validator reads from a JSON value (Python's
// NaN and ±Infinity included), in canonical decimal, and whether it reads one; see laxInt.
func LaxInt(raw []byte) (string, bool) {
	n, reason := laxInt(FromPythonJSON(raw))
	return n, reason == ""
}

// laxInt reads a JSON value the way pydantic's lax int validator reads the Python value
// json.loads made of it, and returns the integer in decimal (sign, no leading zeros), or a
// reason it is no integer. Its rules (pydantic/pydantic pydantic-core/src/input/shared.rs at
// 2706d1f, str_as_int, clean_int_str, float_as_int; checked against pydantic 2.13 by
// TestLaxIntAgainstPydantic):
//   - an integer: itself; true and false: 1 and 0;
//   - a float: only when finite with no fractional part and inside the int64 range (1.0 and 1e0
//     are 1; 1.5, 1e19, NaN and Infinity are not integers);
//   - a string: trimmed of Unicode whitespace, with an optional '+' or '-', leading zeros,
//     single underscores between digits and a fraction of zeros allowed (" 1 ", "+01", "1.00",
//     "1_0"); "1.5", "1e0", "0x1" and "" are not integers.
func laxInt(raw []byte) (string, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", "is empty; want an integer"
	}
	switch raw[0] {
	case 't':
		return "1", ""
	case 'f':
		return "0", ""
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", "is not a valid JSON string; want an integer"
		}
		if n, ok := pyIntString(s); ok {
			return n, ""
		}
		return "", "is a string that does not hold an integer; want the integer 1"
	case 'n', '[', '{':
		return "", "is " + jsonKind(raw) + "; want the integer 1"
	}
	text := string(raw)
	if jsonInt(text) {
		return normInt(text), ""
	}
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return "", "is a number that is not finite (NaN, Infinity or too large); want the integer 1"
	case err != nil:
		return "", "is not a number; want the integer 1"
	case f != math.Trunc(f):
		return "", "is a number with a fractional part; want the integer 1"
	case f <= math.MinInt64 || f >= math.MaxInt64:
		// pydantic turns a float into a 64-bit integer only strictly inside the int64 range.
		return "", "is a number too large for an integer; want the integer 1"
	case f == 0:
		return "0", ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64), ""
}

// pyIntString is pydantic's str_as_int: the string as a JSON integer, or else cleaned of
// whitespace, a plus sign, leading zeros, a zero fraction and underscores.
func pyIntString(s string) (string, bool) {
	if jsonInt(s) {
		return normInt(s), true
	}
	c, ok := cleanIntString(s)
	if !ok || !jsonInt(c) {
		return "", false
	}
	return normInt(c), true
}

func cleanIntString(s string) (string, bool) {
	before := len(s)
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		if strings.HasPrefix(rest, "-") {
			return "", false
		}
		s = rest
	}
	sign := ""
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return "", false
		}
		sign, s = "-", rest
	}
	s, ok := stripLeadingZeros(s)
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		if frac := s[i+1:]; frac != "" && strings.Trim(frac, "0") == "" {
			s = s[:i]
		}
	}
	if strings.Contains(s, "_") && !strings.HasPrefix(s, "_") && !strings.HasSuffix(s, "_") && !strings.Contains(s, "__") {
		return sign + strings.ReplaceAll(s, "_", ""), true
	}
	if len(s) == before {
		return "", false
	}
	return sign + s, true
}

// stripLeadingZeros drops leading zeros (and underscores among them), keeping one zero before a
// dot or when nothing else is left. A string that does not start with a digit or '-' fails.
func stripLeadingZeros(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	switch c := s[0]; {
	case c == '0':
	case ('1' <= c && c <= '9') || c == '-':
		return s, true
	default:
		return "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '0' || c == '_':
		case ('1' <= c && c <= '9') || c == '-':
			return s[i:], true
		case c == '.':
			return s[i-1:], true
		default:
			return "", false
		}
	}
	return s[len(s)-1:], true
}

// jsonInt reports whether s is a JSON integer: -?(0|[1-9][0-9]*).
func jsonInt(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normInt turns a JSON integer into canonical decimal: "-0" is "0".
func normInt(s string) string {
	if s == "-0" {
		return "0"
	}
	return s
}
