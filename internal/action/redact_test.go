package action

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedactor(t *testing.T) {
	t.Parallel()
	var r redactor
	masks := r.add("sk_live_abcdef", "sk_live_abcdef_extended", "true", "prod", "-----BEGIN KEY-----\nline-one-secret\nline-two-secret\n-----END KEY-----", "sk_live_abcdef")
	for _, m := range masks {
		if strings.ContainsAny(m, "\r\n") {
			t.Errorf("mask %q has a line break: a mask command ends at it and prints the rest", m)
		}
	}
	if diff := cmp.Diff([]string{"sk_live_abcdef", "sk_live_abcdef_extended", "-----BEGIN KEY-----", "line-one-secret", "line-two-secret", "-----END KEY-----"}, masks); diff != "" {
		t.Errorf("add() masks (-want +got):\n%s", diff)
	}
	tests := []struct{ in, want string }{
		{"key sk_live_abcdef_extended here", "key *** here"},
		{"key sk_live_abcdef.", "key ***."},
		{"require-identity true in prod", "require-identity true in prod"},
		{"tail: line-two-secret", "tail: ***"},
		{"whole -----BEGIN KEY-----\nline-one-secret\nline-two-secret\n-----END KEY----- end", "whole *** end"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var buf bytes.Buffer
	w := r.writer(&buf)
	if _, err := w.Write([]byte("leak sk_live_abcdef\n")); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "leak ***\n" {
		t.Errorf("writer wrote %q", buf.String())
	}
}

// A multi-line secret whose lines are each too short to mask on their own is still redacted
// whole.
func TestRedactorShortLines(t *testing.T) {
	t.Parallel()
	var r redactor
	if masks := r.add("ab\ncd\nef"); len(masks) != 0 {
		t.Errorf("add() masks = %q, want none (each line is shorter than %d)", masks, minSecretLen)
	}
	if got := r.String("value: ab\ncd\nef."); got != "value: ***." {
		t.Errorf("String() = %q, want the whole value redacted", got)
	}
}
