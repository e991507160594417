package local

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
)

// FuzzParse feeds arbitrary file content to the dotenv parser: quotes,
// newlines, "=" and "#" in values, NUL bytes, CR line endings, invalid
// UTF-8. It must never panic; a file it refuses gets a parseError that names
// a line and a rule, never the content; a file it accepts can be edited the
// way Put and Delete edit it (set a key in place, append a new key, remove a
// key) without losing or changing any other binding. The seed corpus is in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("A=1\nexport B='two # not a comment'\nC=\"3\\n\\x00\" # comment\n"))
	f.Add([]byte("'a: b'=x\r\nK=\"unterminated\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parse(data)
		if err != nil {
			checkParseError(t, err)
			return
		}
		before := bindings(doc)
		// A new key, as Put appends it.
		checkEdit(t, before, doc.set("FUZZ_NEW_KEY", []byte("v'\"\\\n#=\x00")), "FUZZ_NEW_KEY", []byte("v'\"\\\n#=\x00"))
		if len(doc.entries) == 0 {
			return
		}
		// The last binding's key, rewritten in place, and removed.
		k := doc.entries[len(doc.entries)-1].key
		checkEdit(t, before, doc.set(k, []byte("new\r\nvalue # x")), k, []byte("new\r\nvalue # x"))
		out, ok := doc.remove(k)
		if !ok {
			t.Fatalf("remove(%q): the key was not found", k)
		}
		checkEdit(t, before, out, k, nil)
	})
}

var parseErrorRE = regexp.MustCompile(`^line [0-9]+: [a-z][a-zA-Z0-9 ,()'"=#\\/.:;_-]*$`)

// checkParseError: a refused file gets a short parseError without content.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	var pe *parseError
	if !errors.As(err, &pe) {
		t.Fatalf("parse error %T is not a *parseError", err)
	}
	if msg := err.Error(); len(msg) > 200 || !parseErrorRE.MatchString(msg) {
		t.Fatalf("parse error %q is not \"line N: rule\"", msg)
	}
}

// bindings is what load_dotenv would set: every key's last binding with a
// value.
func bindings(doc *document) map[string][]byte {
	out := map[string][]byte{}
	for _, e := range doc.entries {
		if v, ok := doc.lookup(e.key); ok {
			out[e.key] = v
		} else {
			delete(out, e.key)
		}
	}
	return out
}

// checkEdit parses an edited file: key holds want (nil: absent) and every
// other binding is what it was.
func checkEdit(t *testing.T, before map[string][]byte, out []byte, key string, want []byte) {
	t.Helper()
	doc, err := parse(out)
	if err != nil {
		t.Fatalf("the file no longer parses after editing %q: %v", key, err)
	}
	after := bindings(doc)
	got, ok := after[key]
	switch {
	case want == nil && ok:
		t.Fatalf("%q is still bound after its removal", key)
	case want != nil && (!ok || !bytes.Equal(got, want)):
		t.Fatalf("%q does not read back what was set (bound: %v)", key, ok)
	}
	for k, v := range before {
		if k == key {
			continue
		}
		if w, ok := after[k]; !ok || !bytes.Equal(v, w) {
			t.Fatalf("editing %q changed or lost the binding of %q", key, k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && k != key {
			t.Fatalf("editing %q created a binding of %q", key, k)
		}
	}
}
