package local

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// This file is the dotenv codec: a parser compatible with python-dotenv (the
// library LiteLLM loads .env files with) for normal files, an encoder under
// which any byte string round-trips, and in-place edits that keep the rest of
// the file byte for byte.

// entry is one KEY=VALUE binding of a dotenv file, with the byte offsets an
// in-place edit needs.
type entry struct {
	key string
	// value may share memory with the file's data; lookup copies it.
	value []byte
	// hasValue is false for a bare "KEY" line, which python-dotenv reads as
	// None and load_dotenv does not set.
	hasValue bool
	// line is the 1-based line the binding starts on.
	line int
	// lineStart is the start of that line; keyStart is where the key begins,
	// after indentation and any "export " prefix; suffixStart is where the
	// value ends and the trailing blanks or comment begin; eolStart is the
	// line terminator (or the end of the file) and end the byte after it.
	lineStart, keyStart, suffixStart, eolStart, end int
}

// document is a parsed dotenv file.
type document struct {
	data    []byte
	entries []entry
}

// parseError is a syntax error. It names a line and a rule, never content,
// so it cannot leak a value.
type parseError struct {
	line int
	msg  string
}

func (e *parseError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// isBlank reports python-dotenv's [^\S\r\n] for ASCII: blanks within a line.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' }

func isSpace(c byte) bool { return isBlank(c) || c == '\n' || c == '\r' }

type parser struct {
	data []byte
	pos  int
	line int
}

// parse reads a dotenv file the way python-dotenv's parse_stream does, with
// these differences: a line python-dotenv would skip with a warning is an
// error here; the two quoted forms are scanned escape by escape (python-dotenv
// matches them with a greedy regular expression that misreads a value ending
// in a backslash); a single-quoted key is taken as written, as python-dotenv
// does, but a key may also be double-quoted, with escapes; "\xHH" in a
// double-quoted string is a byte; whitespace is ASCII only. Line endings are read as
// Python's universal newlines do: "\r\n", "\n" and "\r" all end a line, and
// inside a quoted value each reads as "\n".
func parse(data []byte) (*document, error) {
	p := &parser{data: data, line: 1}
	doc := &document{data: data}
	for {
		lineStart := p.pos
		for p.pos < len(data) && isSpace(data[p.pos]) {
			if isBlank(data[p.pos]) {
				p.pos++
				continue
			}
			p.eol()
			lineStart = p.pos
		}
		if p.pos >= len(data) {
			return doc, nil
		}
		e, err := p.binding(lineStart)
		if err != nil {
			return nil, err
		}
		if e != nil {
			doc.entries = append(doc.entries, *e)
		}
	}
}

// eol consumes a line terminator and reports whether p was at one or at the
// end of the data.
func (p *parser) eol() bool {
	switch {
	case p.pos >= len(p.data):
		return true
	case p.data[p.pos] == '\r':
		p.pos++
		if p.pos < len(p.data) && p.data[p.pos] == '\n' {
			p.pos++
		}
	case p.data[p.pos] == '\n':
		p.pos++
	default:
		return false
	}
	p.line++
	return true
}

func (p *parser) skipBlanks() {
	for p.pos < len(p.data) && isBlank(p.data[p.pos]) {
		p.pos++
	}
}

// skipToEOL moves p to the next line terminator (or the end of the data).
func (p *parser) skipToEOL() {
	for p.pos < len(p.data) && p.data[p.pos] != '\n' && p.data[p.pos] != '\r' {
		p.pos++
	}
}

// binding parses one statement starting at a non-blank byte. It returns nil
// for a comment line.
func (p *parser) binding(lineStart int) (*entry, error) {
	e := &entry{line: p.line, lineStart: lineStart}
	if p.data[p.pos] == '#' {
		p.skipToEOL()
		p.eol()
		return nil, nil
	}
	if rest := p.data[p.pos:]; len(rest) > len("export") && bytes.HasPrefix(rest, []byte("export")) && isBlank(rest[len("export")]) {
		p.pos += len("export")
		p.skipBlanks()
		if p.pos < len(p.data) && p.data[p.pos] == '#' {
			// "export # ..." is a comment to python-dotenv too.
			p.skipToEOL()
			p.eol()
			return nil, nil
		}
	}
	e.keyStart = p.pos
	key, err := p.key(e.line)
	if err != nil {
		return nil, err
	}
	e.key = key
	p.skipBlanks()
	if p.pos < len(p.data) && p.data[p.pos] == '=' {
		p.pos++
		p.skipBlanks()
		if e.value, err = p.value(e.line); err != nil {
			return nil, err
		}
		e.value = expandUndefinable(e.value)
		e.hasValue = true
	}
	e.suffixStart = p.pos
	p.skipBlanks()
	if p.pos < len(p.data) && p.data[p.pos] == '#' {
		p.skipToEOL()
	}
	e.eolStart = p.pos
	if !p.eol() {
		if e.hasValue {
			return nil, &parseError{e.line, "unexpected text after the value (a value with spaces or quotes inside must be quoted)"}
		}
		return nil, &parseError{e.line, "expected = after the key"}
	}
	e.end = p.pos
	return e, nil
}

func (p *parser) key(line int) (string, error) {
	if p.pos >= len(p.data) {
		return "", &parseError{line, "missing key after export"}
	}
	var k []byte
	var err error
	switch p.data[p.pos] {
	case '\'':
		k, err = p.rawQuoted(line)
	case '"':
		k, err = p.quoted('"', line, "key")
	default:
		return p.bareKey(line)
	}
	if err != nil {
		return "", err
	}
	if len(k) == 0 {
		return "", &parseError{line, "empty quoted key"}
	}
	return string(k), nil
}

// rawQuoted parses a single-quoted key as python-dotenv does ('([^']+)'):
// no escapes, so a key cannot hold a single quote this way.
func (p *parser) rawQuoted(line int) ([]byte, error) {
	p.pos++
	out := []byte{}
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; c {
		case '\'':
			p.pos++
			return out, nil
		case '\n', '\r':
			out = append(out, '\n')
			p.eol()
		default:
			out = append(out, c)
			p.pos++
		}
	}
	return nil, &parseError{line, "unterminated single-quoted key"}
}

func (p *parser) bareKey(line int) (string, error) {
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if isSpace(c) || c == '=' || c == '#' {
			break
		}
		p.pos++
	}
	if p.pos == start {
		return "", &parseError{line, "missing key before ="}
	}
	return string(p.data[start:p.pos]), nil
}

// value parses what follows "=" and its blanks.
func (p *parser) value(line int) ([]byte, error) {
	if p.pos >= len(p.data) {
		return []byte{}, nil
	}
	switch c := p.data[p.pos]; c {
	case '\'', '"':
		return p.quoted(c, line, "value")
	case '\n', '\r':
		return []byte{}, nil
	}
	// Unquoted: the rest of the line, cut at the first blanks followed by
	// "#" (python-dotenv's re.sub(r"\s+#.*", "")), right-trimmed.
	start := p.pos
	p.skipToEOL()
	v := p.data[start:p.pos]
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && isBlank(v[i-1]) {
			v = v[:i]
			break
		}
	}
	v = bytes.TrimRight(v, " \t\v\f")
	p.pos = start + len(v)
	return v, nil
}

// doubleQuoteEscapes are python-dotenv's double-quoted escapes.
var doubleQuoteEscapes = [256]byte{
	'\\': '\\', '"': '"', '\'': '\'',
	'n': '\n', 'r': '\r', 't': '\t', 'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v',
}

// quoted parses a quoted string opening at p.pos. Single quotes decode only
// \\ and \'; double quotes decode python-dotenv's escapes and \xHH. An unknown
// escape stays as written, backslash included.
func (p *parser) quoted(q byte, line int, what string) ([]byte, error) {
	p.pos++
	// Fast path: nothing to decode, so the value is a slice of the file.
	if n := bytes.IndexByte(p.data[p.pos:], q); n >= 0 {
		if raw := p.data[p.pos : p.pos+n]; !bytes.ContainsAny(raw, "\\\r\n") {
			p.pos += n + 1
			return raw, nil
		}
	}
	out := []byte{}
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == q:
			p.pos++
			return out, nil
		case c == '\\' && p.pos+1 < len(p.data):
			n := p.data[p.pos+1]
			if q == '\'' {
				if n == '\\' || n == '\'' {
					out = append(out, n)
					p.pos += 2
					continue
				}
			} else {
				if d := doubleQuoteEscapes[n]; d != 0 {
					out = append(out, d)
					p.pos += 2
					continue
				}
				if n == 'x' && p.pos+3 < len(p.data) {
					if hi, lo := unhex(p.data[p.pos+2]), unhex(p.data[p.pos+3]); hi >= 0 && lo >= 0 {
						out = append(out, byte(hi<<4|lo))
						p.pos += 4
						continue
					}
				}
			}
			out = append(out, '\\')
			p.pos++
		case c == '\n' || c == '\r':
			out = append(out, '\n')
			p.eol()
		default:
			out = append(out, c)
			p.pos++
		}
	}
	kind := "single"
	if q == '"' {
		kind = "double"
	}
	return nil, &parseError{line, fmt.Sprintf("unterminated %s-quoted %s", kind, what)}
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// lookup returns a copy of the value of key: the last binding wins, as in a
// Python dict, and a last binding without "=" sets nothing.
func (d *document) lookup(key string) ([]byte, bool) {
	for i := len(d.entries) - 1; i >= 0; i-- {
		if e := &d.entries[i]; e.key == key {
			if !e.hasValue {
				return nil, false
			}
			return bytes.Clone(e.value), true
		}
	}
	return nil, false
}

// eol returns the file's line ending: the first one in it, else "\n".
func (d *document) eol() string {
	i := bytes.IndexAny(d.data, "\r\n")
	switch {
	case i < 0 || d.data[i] == '\n':
		return "\n"
	case i+1 < len(d.data) && d.data[i+1] == '\n':
		return "\r\n"
	}
	return "\r"
}

func (d *document) indexes(key string) []int {
	var idx []int
	for i := range d.entries {
		if d.entries[i].key == key {
			idx = append(idx, i)
		}
	}
	return idx
}

// set returns the file with key bound to value. The last binding of key is
// rewritten in place, keeping its indentation, "export " prefix, inline
// comment and line terminator; earlier bindings of key are dropped; a new key
// is appended. Every other byte is kept.
func (d *document) set(key string, value []byte) []byte {
	eol := d.eol()
	line := encodeKey(key) + "=" + encodeValue(value, eol)
	idx := d.indexes(key)
	if len(idx) == 0 {
		out := make([]byte, 0, len(d.data)+len(line)+2*len(eol))
		out = append(out, d.data...)
		if n := len(out); n > 0 && out[n-1] != '\n' && out[n-1] != '\r' {
			out = append(out, eol...)
		}
		out = append(out, line...)
		return append(out, eol...)
	}
	out := make([]byte, 0, len(d.data)+len(line))
	pos := 0
	for _, i := range idx[:len(idx)-1] {
		e := &d.entries[i]
		out = append(out, d.data[pos:e.lineStart]...)
		pos = e.end
	}
	last := &d.entries[idx[len(idx)-1]]
	out = append(out, d.data[pos:last.keyStart]...)
	out = append(out, line...)
	if suffix := d.data[last.suffixStart:last.eolStart]; bytes.IndexByte(suffix, '#') >= 0 {
		// Keep the inline comment, separated by a blank so that it stays a
		// comment after an unquoted value.
		if !isBlank(suffix[0]) {
			out = append(out, ' ')
		}
		out = append(out, suffix...)
	}
	return append(out, d.data[last.eolStart:]...)
}

// remove returns the file without any binding of key (each binding's whole
// lines go) and whether there was one.
func (d *document) remove(key string) ([]byte, bool) {
	idx := d.indexes(key)
	if len(idx) == 0 {
		return d.data, false
	}
	out := make([]byte, 0, len(d.data))
	pos := 0
	for _, i := range idx {
		e := &d.entries[i]
		out = append(out, d.data[pos:e.lineStart]...)
		pos = e.end
	}
	return append(out, d.data[pos:]...), true
}

// isControl is the layer's set of control characters: C0, DEL, C1, U+2028 and
// U+2029.
func isControl(r rune) bool {
	return r <= 0x1f || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029
}

// singleQuotable reports whether s can be written between single quotes:
// valid UTF-8 without control characters other than those allowed.
func singleQuotable(s string, allowNewlineTab bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if isControl(r) && (!allowNewlineTab || r != '\n' && r != '\t') {
			return false
		}
	}
	return true
}

// isBareKey reports whether a key can be written without quotes:
// ^[A-Za-z0-9_./-]+$.
func isBareKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '.', c == '/', c == '-':
		default:
			return false
		}
	}
	return true
}

// encodeKey writes a key bare when it matches ^[A-Za-z0-9_./-]+$; else
// between single quotes as it is, when it is valid UTF-8 without control
// characters or single quotes (python-dotenv reads quoted keys without
// escapes); else double-quoted like a value, which only this parser reads.
func encodeKey(k string) string {
	switch {
	case isBareKey(k):
		return k
	case singleQuotable(k, false) && !strings.Contains(k, "'"):
		return "'" + k + "'"
	}
	return doubleQuote(k)
}

// python-dotenv expands ${NAME} and ${NAME:-default} in every value, quoted
// or not, with the process environment and the keys above it (load_dotenv
// and dotenv_values interpolate by default, and LiteLLM calls load_dotenv
// with the default). It has no escape for "$". A name holding both "'" and
// "=" can be neither an environment variable (names end at the first "=")
// nor a python-dotenv key (an unquoted key stops at "=", a quoted one at
// "'"), so python-dotenv always expands such a reference to its default.
// The writer uses two of them to keep a value literal.
const (
	// dollarRef reads as "$": every "${" of a value is written as
	// dollarRef + "{", so no "${" is left for python-dotenv to expand.
	dollarRef = "${'=:-$}"
	// emptyRef reads as "": it follows a quoted value's trailing
	// backslash, so the closing quote never follows a backslash (which
	// older python-dotenv releases read as an escaped quote).
	emptyRef = "${'=:-}"
)

// dotenvVariable is python-dotenv's _posix_variable.
var dotenvVariable = regexp.MustCompile(`\$\{([^}:]*)(?::-([^}]*))?\}`)

// expandUndefinable expands, as python-dotenv does, the variable references
// of v whose name no environment or dotenv file can define (see dollarRef);
// other references stay as written (this parser does not interpolate).
// References are matched left to right without overlap, as Python's
// re.finditer does.
func expandUndefinable(v []byte) []byte {
	if !bytes.Contains(v, []byte("${")) {
		return v
	}
	matches := dotenvVariable.FindAllSubmatchIndex(v, -1)
	var out []byte
	pos := 0
	for _, m := range matches {
		name := v[m[2]:m[3]]
		if !bytes.ContainsRune(name, '\'') || !bytes.ContainsRune(name, '=') {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(v))
		}
		out = append(out, v[pos:m[0]]...)
		if m[4] >= 0 {
			out = append(out, v[m[4]:m[5]]...)
		}
		pos = m[1]
	}
	if out == nil {
		return v
	}
	return append(out, v[pos:]...)
}

// encodeValue writes a value so that parse returns it byte for byte, and so
// that python-dotenv (load_dotenv, dotenv_values, with interpolation as
// LiteLLM uses them) returns it character for character when it is valid
// UTF-8 without NUL (ValidateWrite refuses other values: python-dotenv
// decodes the file as UTF-8 and os.environ refuses NUL):
//
//   - A value ending in a backslash is written unquoted when it is printable
//     ASCII without blanks or "${" and starts with none of ' " #, which every
//     python-dotenv 1.x reads as written.
//   - Otherwise every "${" is written as dollarRef + "{", and a trailing
//     backslash gets emptyRef after it. Then a value without a carriage
//     return is single-quoted, with \ and ' escaped as \\ and \'
//     (python-dotenv's single-quote escapes) and a newline written as the
//     file's own line ending; a value with a carriage return is
//     double-quoted, with \\ \" \r and \n escapes (a CR in the file
//     would be read as a newline). Other characters, control characters
//     included, are written as they are.
func encodeValue(v []byte, eol string) string {
	s := string(v)
	if strings.HasSuffix(s, `\`) && unquotedSafe(s) {
		return s
	}
	s = strings.ReplaceAll(s, "${", dollarRef+"{")
	if strings.HasSuffix(s, `\`) {
		s += emptyRef
	}
	if strings.Contains(s, "\r") {
		return doubleQuoteValue(s)
	}
	return singleQuote(s, eol)
}

// unquotedSafe reports whether s reads back unchanged when written unquoted,
// by python-dotenv as by parse.
func unquotedSafe(s string) bool {
	if s == "" || s[0] == '\'' || s[0] == '"' || s[0] == '#' || strings.Contains(s, "${") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// doubleQuoteValue writes s double-quoted with only the escapes
// python-dotenv decodes and needs: \\ \" \r \n.
func doubleQuoteValue(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func singleQuote(s, eol string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(eol)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

const hexDigits = "0123456789abcdef"

func doubleQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	hexByte := func(c byte) {
		b.WriteString(`\x`)
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xf])
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '\\':
				if i == len(s)-1 {
					b.WriteString(`\x5c`)
				} else {
					b.WriteString(`\\`)
				}
			case '"':
				b.WriteString(`\"`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\a':
				b.WriteString(`\a`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			case '\v':
				b.WriteString(`\v`)
			default:
				if c < 0x20 || c == 0x7f {
					hexByte(c)
				} else {
					b.WriteByte(c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || isControl(r) {
			for j := range size {
				hexByte(s[i+j])
			}
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
