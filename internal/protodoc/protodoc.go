// Package protodoc reads the test vectors of docs/PROTOCOL.md, so that the
// tests of the codec, the bridge and the client check their bytes against
// the document, and the document cannot drift from what is sent.
//
// A vectors block is a fenced block whose info string names it, such as
// "vectors". Each of its lines is "name: hex bytes", the bytes in lower
// case and separated by single spaces; blank lines are allowed.
package protodoc

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Vector is one line of a vectors block.
type Vector struct {
	Name string
	Msg  []byte // one whole WebSocket message
	Line int    // its line in the document, from 1
}

// Path returns the path of docs/PROTOCOL.md, found from the working
// directory up to the module's root.
func Path() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "docs", "PROTOCOL.md"), nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("protodoc: no go.mod above the working directory")
		}
		dir = up
	}
}

// Load returns the vectors of the block named info in docs/PROTOCOL.md.
func Load(info string) ([]Vector, error) {
	path, err := Path()
	if err != nil {
		return nil, err
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	vs, err := Parse(doc, info)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(vs) == 0 {
		return nil, fmt.Errorf("%s: no ```%s block", path, info)
	}
	return vs, nil
}

// Find returns the bytes of the vector called name in the block info.
func Find(info, name string) ([]byte, error) {
	vs, err := Load(info)
	if err != nil {
		return nil, err
	}
	for _, v := range vs {
		if v.Name == name {
			return v.Msg, nil
		}
	}
	return nil, fmt.Errorf("docs/PROTOCOL.md: no vector %q in the ```%s block", name, info)
}

// Parse returns the vectors of the block named info in doc. A malformed
// line, a name given twice, an unclosed block or a second block of the
// same name is an error, so that a typo fails loudly rather than dropping
// a vector.
func Parse(doc []byte, info string) ([]Vector, error) {
	var out []Vector
	seen := map[string]bool{}
	blocks := 0
	in := false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			switch {
			case in:
				in = false
			case strings.TrimSpace(strings.TrimPrefix(line, "```")) == info:
				in = true
				blocks++
			}
			continue
		}
		if !in || strings.TrimSpace(line) == "" {
			continue
		}
		name, hexText, ok := strings.Cut(line, ": ")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d: want \"name: hex bytes\", got %q", n, line)
		}
		msg, err := ParseHex(hexText)
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %v", n, name, err)
		}
		if seen[name] {
			return nil, fmt.Errorf("line %d: vector %q appears twice", n, name)
		}
		seen[name] = true
		out = append(out, Vector{Name: name, Msg: msg, Line: n})
	}
	if in {
		return nil, fmt.Errorf("```%s block is not closed", info)
	}
	if blocks > 1 {
		return nil, fmt.Errorf("%d ```%s blocks, want one", blocks, info)
	}
	return out, sc.Err()
}

// ParseHex parses bytes written as lower-case hex pairs separated by
// single spaces, the only form the document uses.
func ParseHex(s string) ([]byte, error) {
	var out []byte
	for i, f := range strings.Split(s, " ") {
		if len(f) != 2 || strings.ToLower(f) != f {
			return nil, fmt.Errorf("byte %d is %q, want two lower-case hex digits", i, f)
		}
		b, err := hex.DecodeString(f)
		if err != nil {
			return nil, fmt.Errorf("byte %d: %v", i, err)
		}
		out = append(out, b[0])
	}
	return out, nil
}

// FormatHex is the inverse of ParseHex.
func FormatHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, " ")
}
