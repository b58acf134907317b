package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"github.com/launchplane/runtime-identity/internal/logtext"
	"gopkg.in/yaml.v3"
)

// A lanes file is read into one small tree by either front end, so both formats are held to the
// same rules and their problems name the same paths: JSON through encoding/json's tokenizer (YAML
// parsers reject valid JSON such as "\/" and surrogate-pair escapes), YAML through gopkg.in/yaml.v3.

type kind int

const (
	kindObject kind = iota + 1
	kindArray
	kindString
	kindNumber
	kindBool
	kindNull
)

func (k kind) String() string {
	switch k {
	case kindObject:
		return "an object"
	case kindArray:
		return "a list"
	case kindString:
		return "a string"
	case kindNumber:
		return "a number"
	case kindBool:
		return "a boolean"
	default:
		return "null"
	}
}

// node is one value of the file. Object keys keep their order; duplicates are kept too, so the
// validator can name them.
type node struct {
	kind kind
	text string // a string's value, a number's literal, "true" or "false"
	src  string // a scalar as written, for messages (YAML's 0042 is the number 34)
	line int
	keys []keyed // kindObject
	list []*node // kindArray
}

type keyed struct {
	key  string
	line int
	val  *node
}

// maxDepth bounds nesting; a lanes file needs four levels.
const maxDepth = 32

// errTooDeep is returned by both front ends for input nested deeper than maxDepth.
var errTooDeep = fmt.Errorf("is nested deeper than %d levels", maxDepth)

// parseJSONTree reads exactly one JSON value.
func parseJSONTree(data []byte) (*node, error) {
	lines := lineStarts(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readJSONValue(dec, lines, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("has more after the top-level object (line %d)", lineAt(lines, dec.InputOffset()))
	}
	return n, nil
}

func readJSONValue(dec *json.Decoder, lines []int64, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonSyntax(err, lines, dec)
	}
	line := lineAt(lines, dec.InputOffset())
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: kindObject, line: line}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, jsonSyntax(err, lines, dec)
				}
				key, _ := kt.(string) // inside an object the decoder only returns string keys
				kl := lineAt(lines, dec.InputOffset())
				v, err := readJSONValue(dec, lines, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, keyed{key, kl, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonSyntax(err, lines, dec)
			}
			return n, nil
		case '[':
			n := &node{kind: kindArray, line: line}
			for dec.More() {
				v, err := readJSONValue(dec, lines, depth+1)
				if err != nil {
					return nil, err
				}
				n.list = append(n.list, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, jsonSyntax(err, lines, dec)
			}
			return n, nil
		}
	case string:
		return &node{kind: kindString, text: t, line: line}, nil
	case json.Number:
		return &node{kind: kindNumber, text: t.String(), src: t.String(), line: line}, nil
	case bool:
		return &node{kind: kindBool, text: strconv.FormatBool(t), src: strconv.FormatBool(t), line: line}, nil
	case nil:
		return &node{kind: kindNull, line: line}, nil
	}
	return nil, fmt.Errorf("is not valid JSON (line %d)", line)
}

func jsonSyntax(err error, lines []int64, dec *json.Decoder) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("is not valid JSON: %s (line %d)", se.Error(), lineAt(lines, se.Offset))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("is not valid JSON: it ends early (line %d)", lineAt(lines, dec.InputOffset()))
	default:
		return fmt.Errorf("is not valid JSON: %s (line %d)", logtext.OneLine(err.Error()), lineAt(lines, dec.InputOffset()))
	}
}

// lineStarts returns the offset at which each line starts.
func lineStarts(data []byte) []int64 {
	starts := []int64{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, int64(i+1))
		}
	}
	return starts
}

// lineAt returns the 1-based line holding offset, or the line the last token ended on.
func lineAt(starts []int64, offset int64) int {
	return sort.Search(len(starts), func(i int) bool { return starts[i] > offset })
}

// parseYAMLTree reads exactly one YAML document.
func parseYAMLTree(data []byte) (*node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, errors.New("is empty; want an object with a lanes list")
		}
		return nil, fmt.Errorf("is not valid YAML: %s", logtext.OneLine(trimYAMLPrefix(err.Error())))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return nil, errors.New("holds more than one YAML document; put every lane in one")
	}
	if len(doc.Content) != 1 {
		return nil, errors.New("is empty; want an object with a lanes list")
	}
	return fromYAML(doc.Content[0], 0)
}

func trimYAMLPrefix(s string) string {
	if len(s) > 6 && s[:6] == "yaml: " {
		return s[6:]
	}
	return s
}

// fromYAML converts one YAML node. Anchors, aliases and tags other than the core schema's are
// refused: a lanes file has no use for them, and aliases can expand a small file enormously.
func fromYAML(y *yaml.Node, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errTooDeep
	}
	if y.Anchor != "" || y.Kind == yaml.AliasNode {
		return nil, fmt.Errorf("uses a YAML anchor or alias (line %d); write each value out", y.Line)
	}
	switch y.Kind {
	case yaml.MappingNode:
		n := &node{kind: kindObject, line: y.Line}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				return nil, fmt.Errorf("has a key that is not a string (line %d)", k.Line)
			}
			val, err := fromYAML(v, depth+1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, keyed{k.Value, k.Line, val})
		}
		return n, nil
	case yaml.SequenceNode:
		n := &node{kind: kindArray, line: y.Line}
		for _, c := range y.Content {
			val, err := fromYAML(c, depth+1)
			if err != nil {
				return nil, err
			}
			n.list = append(n.list, val)
		}
		return n, nil
	case yaml.ScalarNode:
		n := &node{line: y.Line, text: y.Value, src: y.Value}
		switch y.ShortTag() {
		case "!!str", "!!timestamp":
			// An unquoted timestamp is its text: no field of a lanes file is a time value.
			n.kind = kindString
		case "!!null":
			n.kind, n.text = kindNull, ""
		case "!!bool":
			var b bool
			if err := y.Decode(&b); err != nil {
				return nil, fmt.Errorf("has a boolean that does not parse (line %d)", y.Line)
			}
			n.kind, n.text = kindBool, strconv.FormatBool(b)
		case "!!int":
			var i int64
			if err := y.Decode(&i); err != nil {
				return nil, fmt.Errorf("has an integer out of range (line %d)", y.Line)
			}
			n.kind, n.text = kindNumber, strconv.FormatInt(i, 10)
		case "!!float":
			var f float64
			if err := y.Decode(&f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, fmt.Errorf("has a number JSON cannot hold (line %d)", y.Line)
			}
			n.kind, n.text = kindNumber, strconv.FormatFloat(f, 'g', -1, 64)
		default:
			return nil, fmt.Errorf("has a value tagged %s (line %d); use plain strings, numbers and booleans", quote(y.ShortTag()), y.Line)
		}
		return n, nil
	}
	return nil, fmt.Errorf("has an unsupported YAML node (line %d)", y.Line)
}

// json renders the node as compact JSON, for decoders that take JSON (the expected identity).
func (n *node) json() []byte {
	var b bytes.Buffer
	n.appendJSON(&b)
	return b.Bytes()
}

func (n *node) appendJSON(b *bytes.Buffer) {
	switch n.kind {
	case kindObject:
		b.WriteByte('{')
		for i, kv := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(kv.key)
			b.Write(k)
			b.WriteByte(':')
			kv.val.appendJSON(b)
		}
		b.WriteByte('}')
	case kindArray:
		b.WriteByte('[')
		for i, v := range n.list {
			if i > 0 {
				b.WriteByte(',')
			}
			v.appendJSON(b)
		}
		b.WriteByte(']')
	case kindString:
		s, _ := json.Marshal(n.text)
		b.Write(s)
	case kindNumber, kindBool:
		b.WriteString(n.text)
	default:
		b.WriteString("null")
	}
}
