package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// laxIntCases are pydantic 2.13's answers for an int field (TestLaxIntAgainstPydantic re-asks it);
// "" means a validation error.
var laxIntCases = []struct {
	raw, want string
}{
	{`1`, "1"}, {`1.0`, "1"}, {`"1"`, "1"}, {`" 1 "`, "1"}, {`true`, "1"}, {`false`, "0"},
	{`"1.0"`, "1"}, {`"1.00"`, "1"}, {`"+1"`, "1"}, {`"01"`, "1"}, {`"00001"`, "1"}, {`"+01.00"`, "1"},
	{`"\t1\n"`, "1"}, {`"\u00a01\u00a0"`, "1"}, {`"\u20281"`, "1"}, {`"1_0"`, "10"}, {`"1_000.0"`, "1000"},
	{`"0_0_1"`, "1"}, {`"0__1"`, "1"}, {`"0-1"`, "-1"}, {`1e0`, "1"}, {`1E0`, "1"}, {`10e-1`, "1"},
	{`1.0000000000000001`, "1"}, {`2`, "2"}, {`2.0`, "2"}, {`"2"`, "2"}, {`0`, "0"}, {`-1`, "-1"},
	{`"-0"`, "0"}, {`-0.0`, "0"}, {`"00.0"`, "0"}, {`99999999999999999999`, "99999999999999999999"},
	{`1.5`, ""}, {`"1.5"`, ""}, {`"1.50"`, ""}, {`"1e0"`, ""}, {`"1e1"`, ""}, {`"0x1"`, ""}, {`"1."`, ""},
	{`".1"`, ""}, {`"1.0_0"`, ""}, {`"1__0"`, ""}, {`"_1"`, ""}, {`"1_"`, ""}, {`"0_"`, ""}, {`"+-1"`, ""},
	{`"-+1"`, ""}, {`"1 0"`, ""}, {`"\u001c1"`, ""}, {`"\u0661"`, ""}, {`"\uff11"`, ""}, {`"true"`, ""},
	{`""`, ""}, {`" "`, ""}, {`1e400`, ""}, {`-1e400`, ""}, {`NaN`, ""}, {`Infinity`, ""}, {`-Infinity`, ""},
	{`null`, ""}, {`[]`, ""}, {`{}`, ""}, {`[1]`, ""},
}

func TestLaxInt(t *testing.T) {
	t.Parallel()
	for _, tc := range laxIntCases {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			got, reason := laxInt(FromPythonJSON([]byte(tc.raw)))
			if got != tc.want || (reason == "") != (tc.want != "") {
				t.Errorf("laxInt(%s) = %q, %q; want %q", tc.raw, got, reason, tc.want)
			}
		})
	}
}

// TestLaxIntAgainstPydantic asks pydantic itself about the table and about generated strings and
// numbers, so a difference in any rule (whitespace, signs, zeros, underscores, fractions) shows.
func TestLaxIntAgainstPydantic(t *testing.T) {
	t.Parallel()
	var cases [][]byte
	for _, tc := range laxIntCases {
		cases = append(cases, []byte(tc.raw))
	}
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := []string{"0", "1", "2", "9", "0", "1", "_", "_", ".", ".", "+", "-", " ", "\t", "e", "x", "\u00a0", "\u001c", "\u2028", "\u0661"}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(7) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		s, _ := json.Marshal(b.String())
		cases = append(cases, s)
	}
	numbers := []string{"0", "1", "-0", "7", "1.0", "1.25", "0.5e1", "2e0", "1e-1", "1e15", "1e19", "1e300", "1e309", "-1.0", "123456789012345678901234567890"}
	for _, n := range numbers {
		cases = append(cases, []byte(n))
	}
	answers := oracle(t, "int", nil, cases)
	for i, c := range cases {
		var a struct {
			Int   *string `json:"int"`
			Error string  `json:"error"`
		}
		if err := json.Unmarshal(answers[i], &a); err != nil {
			t.Fatal(err)
		}
		got, reason := laxInt(FromPythonJSON(c))
		switch {
		case a.Int == nil && reason == "":
			t.Errorf("laxInt(%s) = %s; pydantic says %s", show(c), got, a.Error)
		case a.Int != nil && (reason != "" || got != *a.Int):
			t.Errorf("laxInt(%s) = %q, %q; pydantic says %s", show(c), got, reason, *a.Int)
		}
	}
}

// TestPySpaceAgainstPython checks pySpace against str.isspace over every code point.
func TestPySpaceAgainstPython(t *testing.T) {
	t.Parallel()
	answers := oracle(t, "space", nil, nil)
	var want []rune
	if err := json.Unmarshal(answers[0], &want); err != nil {
		t.Fatal(err)
	}
	var got []rune
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if pySpace(r) {
			got = append(got, r)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pySpace mismatch (-python +go):\n%s", diff)
	}
}

func TestFromPythonJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"valid JSON unchanged", `{"a":[1,-2.5e3,true,null,"NaN"]}`, `{"a":[1,-2.5e3,true,null,"NaN"]}`},
		{"NaN", `{"a":NaN}`, `{"a":1e999999}`},
		{"Infinity", `[Infinity]`, `[1e999999]`},
		{"-Infinity", `[ -Infinity ]`, `[ -1e999999 ]`},
		{"all three", `[NaN,Infinity,-Infinity]`, `[1e999999,1e999999,-1e999999]`},
		{"bare", `NaN`, `1e999999`},
		{"inside a string", `{"NaN":"Infinity -Infinity NaN"}`, `{"NaN":"Infinity -Infinity NaN"}`},
		{"after an escaped quote", `["\"NaN",NaN]`, `["\"NaN",1e999999]`},
		{"after an escaped backslash", `["\\",NaN,"\\\"NaN"]`, `["\\",1e999999,"\\\"NaN"]`},
		{"glued digit after", `[NaN1]`, `[NaN1]`},
		{"glued digit before", `[1NaN]`, `[1NaN]`},
		{"minus NaN", `[-NaN]`, `[-NaN]`},
		{"double minus", `[--Infinity]`, `[--Infinity]`},
		{"lowercase", `[nan,infinity]`, `[nan,infinity]`},
		{"longer word", `[NaNa,Infinityy]`, `[NaNa,Infinityy]`},
		{"plus", `[+Infinity]`, `[+Infinity]`},
		{"unterminated string", `["NaN`, `["NaN`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(FromPythonJSON([]byte(tt.in))); got != tt.want {
				t.Errorf("FromPythonJSON(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// pyDocs generates documents around Python's extra tokens: valid and broken, tokens glued to
// other text and inside strings.
func pyDocs(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	frags := []string{"NaN", "Infinity", "-Infinity", "NaN", "-", "+", "1", "0", ".5", "e5", "x", "_",
		`"`, `"NaN"`, `"\"NaN"`, `"\\"`, `\`, "[", "]", "{", "}", ":", ",", " ", "\n", "true", "null", `"k"`, "é"}
	var docs [][]byte
	for range n / 2 {
		var b strings.Builder
		for range 1 + rng.IntN(8) {
			b.WriteString(frags[rng.IntN(len(frags))])
		}
		docs = append(docs, []byte(b.String()))
	}
	values := []string{"NaN", "Infinity", "-Infinity", "1", "-0.5", `"NaN"`, `"x\"NaN\\"`, "true", "null", "[]", "{}"}
	var value func(depth int) string
	value = func(depth int) string {
		switch k := rng.IntN(4); {
		case depth > 2 || k < 2:
			return values[rng.IntN(len(values))]
		case k == 2:
			parts := make([]string, rng.IntN(4))
			for i := range parts {
				parts[i] = value(depth + 1)
			}
			return "[" + strings.Join(parts, ", ") + "]"
		default:
			parts := make([]string, rng.IntN(4))
			for i := range parts {
				parts[i] = `"k` + strconv.Itoa(i) + `":` + value(depth+1)
			}
			return "{" + strings.Join(parts, ",") + "}"
		}
	}
	for range n - n/2 {
		docs = append(docs, []byte(value(0)))
	}
	return docs
}

// TestFromPythonJSONAgainstPython: Go accepts FromPythonJSON(x) exactly when Python's json.loads
// accepts x, and reads the same value, NaN and ±Infinity as non-finite numbers.
func TestFromPythonJSONAgainstPython(t *testing.T) {
	t.Parallel()
	docs := pyDocs(4000)
	answers := oracle(t, "json", nil, docs)
	accepted := 0
	for i, doc := range docs {
		var a struct {
			OK    bool            `json:"ok"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(answers[i], &a); err != nil {
			t.Fatal(err)
		}
		y := FromPythonJSON(doc)
		ok := utf8.Valid(doc) && json.Valid(y)
		if ok != a.OK {
			t.Errorf("Go accepts FromPythonJSON(%s) = %s: %v; Python accepts it: %v", show(doc), show(y), ok, a.OK)
			continue
		}
		if !ok {
			continue
		}
		accepted++
		if diff := cmp.Diff(normalize(t, a.Value, true), normalize(t, y, false)); diff != "" {
			t.Errorf("value of %s differs (-python +go):\n%s", show(doc), diff)
		}
	}
	if accepted < len(docs)/4 {
		t.Errorf("only %d of %d documents are valid; the comparison needs both kinds", accepted, len(docs))
	}
}

// normalize decodes JSON into comparable values: numbers as float64, non-finite ones (Go's
// overflowing numbers, Python's tagged floats) as the string "non-finite".
func normalize(t *testing.T, raw []byte, tagged bool) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", show(raw), err)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			f, _ := strconv.ParseFloat(x.String(), 64)
			if math.IsInf(f, 0) {
				return "non-finite"
			}
			return f
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		case map[string]any:
			if tagged && len(x) == 1 && x["nonfinite"] == true {
				return "non-finite"
			}
			for k := range x {
				x[k] = walk(x[k])
			}
		}
		return v
	}
	return walk(v)
}

// FuzzFromPythonJSON checks, for any text, that valid JSON is never changed, that the output is
// the input with whole NaN/Infinity/-Infinity tokens replaced and nothing else, and that no
// replacement lies inside a string of the result as encoding/json reads it.
func FuzzFromPythonJSON(f *testing.F) {
	for _, d := range pyDocs(40) {
		f.Add(d)
	}
	for _, tc := range laxIntCases {
		f.Add([]byte(`{"schema_version":` + tc.raw + `}`))
	}
	f.Fuzz(func(t *testing.T, x []byte) {
		y := FromPythonJSON(x)
		if json.Valid(x) && !bytes.Equal(x, y) {
			t.Fatalf("FromPythonJSON changed valid JSON %q into %q", x, y)
		}
		// Align x and y: they differ only where a token was replaced.
		var spans [][2]int // replacements in y
		i, j := 0, 0
		for i < len(x) || j < len(y) {
			if i < len(x) && j < len(y) && x[i] == y[j] {
				i, j = i+1, j+1
				continue
			}
			n, repl := nonFinite(x[i:])
			if n == 0 || !bytes.HasPrefix(y[j:], []byte(repl)) {
				t.Fatalf("FromPythonJSON(%q) = %q: differs at input %d, output %d, not by a token replacement", x, y, i, j)
			}
			spans = append(spans, [2]int{j, j + len(repl)})
			i, j = i+n, j+len(repl)
		}
		if !json.Valid(y) {
			return
		}
		// Each string token of y runs from the first quote after the previous token to its end.
		dec := json.NewDecoder(bytes.NewReader(y))
		dec.UseNumber()
		prev := 0
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Token() on valid %q: %v", y, err)
			}
			end := int(dec.InputOffset())
			if _, ok := tok.(string); ok {
				start := prev + bytes.IndexByte(y[prev:end], '"')
				for _, s := range spans {
					if s[0] < end && s[1] > start {
						t.Fatalf("FromPythonJSON(%q) = %q replaced text inside the string at %d:%d", x, y, start, end)
					}
				}
			}
			prev = end
		}
	})
}

// FuzzLaxInt reads any schema_version string: an integer comes back in canonical decimal, and
// surrounding whitespace never changes the answer, as pydantic trims first.
func FuzzLaxInt(f *testing.F) {
	for _, tc := range laxIntCases {
		var s string
		if json.Unmarshal([]byte(tc.raw), &s) == nil {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, _ := json.Marshal(s)
		n, reason := laxInt(raw)
		if (n == "") == (reason == "") {
			t.Fatalf("laxInt(%q) = %q, %q: want exactly one of a number and a reason", s, n, reason)
		}
		if n != "" && (!jsonInt(n) || n == "-0") {
			t.Fatalf("laxInt(%q) = %q, not canonical decimal", s, n)
		}
		if strings.TrimSpace(s) == s {
			padded, _ := json.Marshal(" \u00a0" + s + "\t")
			if m, _ := laxInt(padded); m != n {
				t.Fatalf("laxInt(%q) = %q but padded %q", s, n, m)
			}
		}
	})
}
