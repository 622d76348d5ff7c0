package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"syscall"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Bounds on what failoverd reads: a configuration of 2,000 records is
// about 470 kB (and takes 0.1 s to load); one of 2 MiB, about 9,000
// records, loads within a second even when it is all mistakes (about 0.5 s
// for 2 MiB of named checks or of records the library refuses; every step
// is linear in the file, which TestMany…LoadWithinBound check). A secret
// or a certificate file is a few kB.
const (
	maxConfigBytes = 2 << 20
	maxFileBytes   = 1 << 20
)

// readBounded reads a regular file of at most limit bytes. A FIFO, a
// device such as /dev/zero or a directory is refused without reading
// (opening a FIFO does not wait for a writer), and so is a larger file.
func readBounded(name string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%v)", name, st.Mode().Type())
	}
	tooBig := fmt.Errorf("%s: larger than %d bytes", name, limit)
	if st.Size() > limit {
		return nil, tooBig
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooBig
	}
	return data, nil
}

// parseYAML returns the one document data holds, or the problem that
// stops it from being read, always with its line and column: bytes that
// are not UTF-8, control characters and tabs in indentation are found
// before YAML sees them (its own messages give no column, or no line).
func parseYAML(data []byte) (*yaml.Node, *problem) {
	if p := scan(data); p != nil {
		return nil, p
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if errors.Is(err, io.EOF) || err == nil && len(doc.Content) == 0 {
		return nil, &problem{line: 1, col: 1, msg: "empty configuration"}
	}
	if err != nil {
		return nil, syntaxProblem(data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxProblem(data, err)
	default:
		line, col := next.Line, next.Column
		if len(next.Content) > 0 {
			line, col = next.Content[0].Line, next.Content[0].Column
		}
		return nil, &problem{line: line, col: col, msg: "a second YAML document: the file holds one configuration"}
	}
	return doc.Content[0], nil
}

// scan finds what YAML would reject without a position: a byte that is
// not UTF-8, a control character, a tab in indentation.
func scan(data []byte) *problem {
	line, col, indent := 1, 1, true
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return &problem{line: line, col: col, msg: fmt.Sprintf("byte 0x%02x is not UTF-8", data[i])}
		case r == '\n':
			line, col, indent = line+1, 1, true
			i += size
			continue
		case r == '\t' && indent:
			return &problem{line: line, col: col, msg: "tab in indentation: YAML indents with spaces"}
		case r == '\r' && i+1 < len(data) && data[i+1] == '\n', r == '\t':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0xfeff && i > 0:
			return &problem{line: line, col: col, msg: fmt.Sprintf("control character %U", r)}
		}
		if r != ' ' && r != '-' {
			indent = false
		}
		col++
		i += size
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxProblem places a YAML syntax error. yaml's own line is often that
// of the enclosing block, not of the mistake, and it gives no column; so
// the line is found as the first whose prefix of the file fails with the
// same message (a binary search: a few parses), and the column is that of
// the line's first character.
func syntaxProblem(data []byte, err error) *problem {
	msg := strings.TrimPrefix(yamlLine.ReplaceAllString(err.Error(), ""), "yaml: ")
	lines := bytes.SplitAfter(data, []byte("\n"))
	fails := func(n int) bool {
		var doc yaml.Node
		err := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:n], nil))).Decode(&doc)
		return err != nil && !errors.Is(err, io.EOF) && strings.HasSuffix(err.Error(), msg)
	}
	lo, hi := 0, len(lines) // fails(hi); the answer is the first n with fails(n)
	for lo+1 < hi {
		if mid := (lo + hi) / 2; fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return &problem{line: hi, col: firstColumn(data, hi), msg: msg}
}

// firstColumn is the column of the first non-blank character of line.
func firstColumn(data []byte, line int) int {
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return 1
		}
		data = data[i+1:]
	}
	col := 1
	for _, b := range data {
		if b != ' ' {
			break
		}
		col++
	}
	return col
}
