package local

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Dotenv codec tests: parser, encoder, edits.

// unset marks a key bound without "=" in a want map.
const unset = "\x00<unset>"

// parseTests are python-dotenv-style inputs and what python-dotenv 1.2
// (dotenv_values with interpolate=False) reads from them, except for the
// marked extensions.
var parseTests = []struct {
	name string
	in   string
	want map[string]string // last binding of each key
}{
	{"empty", "", map[string]string{}},
	{"blank lines only", "\n\n  \r\n\t\n", map[string]string{}},
	{"comment only", "# a comment\n", map[string]string{}},
	{"plain", "a=b", map[string]string{"a": "b"}},
	{"plain newline", "a=b\n", map[string]string{"a": "b"}},
	{"crlf", "a=b\r\nc=d\r\n", map[string]string{"a": "b", "c": "d"}},
	{"lone cr", "a=b\rc=d", map[string]string{"a": "b", "c": "d"}},
	{"export", "export a=b", map[string]string{"a": "b"}},
	{"export tab", "export\ta=b", map[string]string{"a": "b"}},
	{"export several blanks", "export   a=b", map[string]string{"a": "b"}},
	{"key named export", "export=1", map[string]string{"export": "1"}},
	{"export comment", "export # nothing\na=b", map[string]string{"a": "b"}},
	{"spaces around equals", "a = b", map[string]string{"a": "b"}},
	{"indented", "  a=b  \n", map[string]string{"a": "b"}},
	{"unquoted trailing blanks", "a=b \t", map[string]string{"a": "b"}},
	{"unquoted inner space", "a=b c", map[string]string{"a": "b c"}},
	{"unquoted inner tab", "a=b\tc", map[string]string{"a": "b\tc"}},
	{"unquoted comment", "a=b # comment", map[string]string{"a": "b"}},
	{"unquoted tab comment", "a=b\t#comment", map[string]string{"a": "b"}},
	{"unquoted hash without blank", "a=b#c", map[string]string{"a": "b#c"}},
	{"unquoted leading hash", "a=#c", map[string]string{"a": "#c"}},
	{"unquoted blank then hash", "a= #c", map[string]string{"a": "#c"}},
	{"unquoted second comment", "a=b c #d #e", map[string]string{"a": "b c"}},
	{"unquoted apostrophe", "a=it's", map[string]string{"a": "it's"}},
	{"unquoted inner quotes", `a=b"c"`, map[string]string{"a": `b"c"`}},
	{"unquoted backslash", `a=b\n`, map[string]string{"a": `b\n`}},
	{"unquoted trailing backslash", `a=b\`, map[string]string{"a": `b\`}},
	{"unquoted equals", "a=b=c", map[string]string{"a": "b=c"}},
	{"unquoted dollar", "a=${HOME}", map[string]string{"a": "${HOME}"}},
	{"empty value", "a=", map[string]string{"a": ""}},
	{"empty value blanks", "a=  \nb=c", map[string]string{"a": "", "b": "c"}},
	{"empty single", "a=''", map[string]string{"a": ""}},
	{"empty double", `a=""`, map[string]string{"a": ""}},
	{"single", "a='b c'", map[string]string{"a": "b c"}},
	{"single escaped quote", `a='b\'c'`, map[string]string{"a": "b'c"}},
	{"single escaped backslash", `a='b\\c'`, map[string]string{"a": `b\c`}},
	{"single other escapes literal", `a='b\nc\x41'`, map[string]string{"a": `b\nc\x41`}},
	{"single keeps double quote", `a='b"c'`, map[string]string{"a": `b"c`}},
	{"single keeps hash", "a='b #c'", map[string]string{"a": "b #c"}},
	{"single multiline", "a='b\nc'\nd=e", map[string]string{"a": "b\nc", "d": "e"}},
	{"single multiline crlf", "a='b\r\nc'\r\n", map[string]string{"a": "b\nc"}},
	{"single multiline cr", "a='b\rc'", map[string]string{"a": "b\nc"}},
	{"single comment after", "a='b' # c", map[string]string{"a": "b"}},
	{"single comment no blank", "a='b'#c", map[string]string{"a": "b"}},
	{"single trailing blanks", "a='b'  \n", map[string]string{"a": "b"}},
	{"single blank around", "a = ' b '", map[string]string{"a": " b "}},
	{"double", `a="b c"`, map[string]string{"a": "b c"}},
	{"double escapes", `a="\\ \" \' \n \r \t \a \b \f \v"`, map[string]string{"a": "\\ \" ' \n \r \t \a \b \f \v"}},
	{"double unknown escape", `a="\q\$"`, map[string]string{"a": `\q\$`}},
	// References python-dotenv always expands to their default (the name
	// holds ' and =, so neither the environment nor the file can define
	// it) are expanded, as python-dotenv does (outputs checked with
	// python-dotenv 1.2.4); other references stay as written.
	{"undefinable reference as dollar", `a='${\'=:-$}{HOME}'`, map[string]string{"a": "${HOME}"}},
	{"undefinable reference empty", `a="x\\${'=:-}"`, map[string]string{"a": `x\`}},
	{"undefinable reference no default", `a=${'=}`, map[string]string{"a": ""}},
	{"undefinable references in a row", `a=${'=:-a}${'=:-b}`, map[string]string{"a": "ab"}},
	{"undefinable reference inside another", `a=${X${'=:-$}}`, map[string]string{"a": "$}"}},
	{"other references kept", `a=${HOME}/x ${B:-d}`, map[string]string{"a": "${HOME}/x ${B:-d}"}},
	{"double hex (extension)", `a="\x41\x00\xff\xFf"`, map[string]string{"a": "A\x00\xff\xff"}},
	{"double short hex", `a="\x4"`, map[string]string{"a": `\x4`}},
	{"double bad hex", `a="\xzz"`, map[string]string{"a": `\xzz`}},
	{"double escaped backslash then n", `a="\\n"`, map[string]string{"a": `\n`}},
	{"double keeps single quote", `a="it's"`, map[string]string{"a": "it's"}},
	{"double multiline", "a=\"b\nc\"", map[string]string{"a": "b\nc"}},
	{"double multiline crlf", "a=\"b\r\nc\"\r\n", map[string]string{"a": "b\nc"}},
	{"double dollar", `a="${HOME}"`, map[string]string{"a": "${HOME}"}},
	{"utf8", "a=é€😀", map[string]string{"a": "é€😀"}},
	{"single quoted key", "'a: b'=1", map[string]string{"a: b": "1"}},
	{"single quoted key no escapes", `'a\b\\c'=1`, map[string]string{`a\b\\c`: "1"}},
	{"single quoted key trailing backslash", `'a\'=1`, map[string]string{`a\`: "1"}},
	{"double quoted key (extension)", `"a b"=1`, map[string]string{"a b": "1"}},
	{"double quoted key escapes (extension)", `"it's \"q\" \\ \x41"=1`, map[string]string{`it's "q" \ A`: "1"}},
	{"key punctuation", "a?b=1=2", map[string]string{"a?b": "1=2"}},
	{"key slash", "litellm/virtual-key-x='v'", map[string]string{"litellm/virtual-key-x": "v"}},
	{"key dots", "a..b=1", map[string]string{"a..b": "1"}},
	{"comments and blanks", "# head\n\na=b # c\n\n# tail\n", map[string]string{"a": "b"}},
	{"last wins", "a=1\nb=2\na=3", map[string]string{"a": "3", "b": "2"}},
	{"bare key", "a", map[string]string{"a": unset}},
	{"bare key comment", "a # c", map[string]string{"a": unset}},
	{"bare export", "export a", map[string]string{"a": unset}},
	{"bare key last wins", "a=1\na\n", map[string]string{"a": unset}},
	{"value after bare key", "a\na=1\n", map[string]string{"a": "1"}},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("parse(%q): %v", tt.in, err)
			}
			got := map[string]string{}
			for _, e := range doc.entries {
				if e.hasValue {
					got[e.key] = string(e.value)
				} else {
					got[e.key] = unset
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("parse(%q): got %q, want %q", tt.in, got, tt.want)
			}
			for k, want := range tt.want {
				v, ok := doc.lookup(k)
				if want == unset {
					if ok {
						t.Errorf("lookup(%q): got %q, want unset", k, v)
					}
				} else if !ok || string(v) != want {
					t.Errorf("lookup(%q): got %q, %v, want %q", k, v, ok, want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"unterminated single", "a='secretvalue", 1, "unterminated single-quoted value"},
		{"unterminated double", "x=1\n\na=\"secretvalue", 3, "unterminated double-quoted value"},
		{"unterminated multiline", "x=1\na='secret\nvalue\n", 2, "unterminated single-quoted value"},
		{"unterminated after crlf", "x=1\r\ny=2\r\na='secretvalue\r\n", 3, "unterminated single-quoted value"},
		{"text after quote", "a='secret'value", 1, "unexpected text after the value"},
		{"text after quote line 2", "x=1\na=\"secret\" value\n", 2, "unexpected text after the value"},
		{"missing key", "=secretvalue", 1, "missing key before ="},
		{"no equals", "a secretvalue", 1, "expected = after the key"},
		{"empty quoted key", "''=secretvalue", 1, "empty quoted key"},
		{"unterminated key", "'a=secretvalue", 1, "unterminated single-quoted key"},
		{"escaped quote in single-quoted key", `'it\'s'=secretvalue`, 1, "expected = after the key"},
		{"unterminated double-quoted key", `"a=secretvalue`, 1, "unterminated double-quoted key"},
		{"export alone", "export ", 1, "missing key after export"},
		{"trailing backslash in single", `a='secretvalue\'`, 1, "unterminated single-quoted value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse([]byte(tt.in))
			pe, ok := err.(*parseError)
			if !ok {
				t.Fatalf("parse(%q): got error %v, want *parseError", tt.in, err)
			}
			if pe.line != tt.line || pe.msg != tt.msg && !strings.HasPrefix(pe.msg, tt.msg) {
				t.Errorf("parse(%q): got line %d %q, want line %d %q", tt.in, pe.line, pe.msg, tt.line, tt.msg)
			}
			if strings.Contains(pe.Error(), "secret") {
				t.Errorf("parse error %q repeats file content", pe)
			}
		})
	}
}

func TestEncodeValue(t *testing.T) {
	tests := []struct {
		in, eol, want string
	}{
		{"", "\n", `''`},
		{"sk-abc123", "\n", `'sk-abc123'`},
		{"it's", "\n", `'it\'s'`},
		{`a\b`, "\n", `'a\\b'`},
		{`a\'b`, "\n", `'a\\\'b'`},
		{`a"b`, "\n", `'a"b'`},
		{"a\nb", "\n", "'a\nb'"},
		{"a\nb", "\r\n", "'a\r\nb'"},
		{"a\tb", "\n", "'a\tb'"},
		{" lead and trail ", "\n", `' lead and trail '`},
		{"#x", "\n", `'#x'`},
		{"a #x", "\n", `'a #x'`},
		{"k=v", "\n", `'k=v'`},
		// python-dotenv expands ${...} in every value: "${" is written as
		// ${'=:-$}{, a reference it always expands to "$".
		{"${HOME}", "\n", `'${\'=:-$}{HOME}'`},
		{"$HOME $ {x} ${", "\n", `'$HOME $ {x} ${\'=:-$}{'`},
		{"a\r${X}", "\n", `"a\r${'=:-$}{X}"`},
		{"é€😀", "\n", `'é€😀'`},
		{"a\rb", "\n", `"a\rb"`},
		{"a\r\nb", "\n", `"a\r\nb"`},
		// Control characters other than CR are written as they are: both
		// parsers read them literally between quotes. (NUL and invalid
		// UTF-8 are refused before any write; the encoder still keeps them
		// for this store's own reader.)
		{"\a\b\f\v\x1b\x7f", "\n", "'\a\b\f\v\x1b\x7f'"},
		{"\u0085", "\n", "'\u0085'"},
		{"a\u2028b\u2029", "\n", "'a\u2028b\u2029'"},
		{"é'\"\\\n", "\n", "'é\\'\"\\\\\n'"},
		{`a\`, "\n", `a\`},
		{`\`, "\n", `\`},
		{`C:\dir\`, "\n", `C:\dir\`},
		{`a\\`, "\n", `a\\`},
		// A trailing backslash that cannot go unquoted is followed by
		// ${'=:-}, which python-dotenv expands to "", so no closing quote
		// follows a backslash.
		{`a b\`, "\n", `'a b\\${\'=:-}'`},
		{`'a\`, "\n", `'\'a\\${\'=:-}'`},
		{`"a\`, "\n", `'"a\\${\'=:-}'`},
		{`#a\`, "\n", `'#a\\${\'=:-}'`},
		{"é\\", "\n", `'é\\${\'=:-}'`},
		{"${x}\\", "\n", `'${\'=:-$}{x}\\${\'=:-}'`},
		{"\r\\", "\n", `"\r\\${'=:-}"`},
	}
	for _, tt := range tests {
		if got := encodeValue([]byte(tt.in), tt.eol); got != tt.want {
			t.Errorf("encodeValue(%q, %q): got %s, want %s", tt.in, tt.eol, got, tt.want)
		}
	}
}

func TestEncodeKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"OPENAI_API_KEY", "OPENAI_API_KEY"},
		{"litellm/virtual-key-x", "litellm/virtual-key-x"},
		{"a..b", "a..b"},
		{"..a", "..a"},
		{"export", "export"},
		{"a?b=1", `'a?b=1'`},
		{"a: b", `'a: b'`},
		{"a b", `'a b'`},
		{"it's", `"it's"`},
		{`back\slash`, `'back\slash'`},
		{`trail\`, `'trail\'`},
		{`'\`, `"'\x5c"`},
		{"#hash", `'#hash'`},
		{`"dq"`, `'"dq"'`},
		{"é", `'é'`},
		{"a\tb", `"a\tb"`},
		{"a\x00", `"a\x00"`},
		{"\xff", `"\xff"`},
	}
	for _, tt := range tests {
		if got := encodeKey(tt.in); got != tt.want {
			t.Errorf("encodeKey(%q): got %s, want %s", tt.in, got, tt.want)
		}
	}
}

// Edits of a parsed file.

func TestSet(t *testing.T) {
	tests := []struct {
		name, in, key, value, want string
	}{
		{"append to empty", "", "A", "v", "A='v'\n"},
		{"append", "# c\nB=1\n", "A", "v", "# c\nB=1\nA='v'\n"},
		{"append no final newline", "B=1", "A", "v", "B=1\nA='v'\n"},
		{"append crlf", "B=1\r\n", "A", "v", "B=1\r\nA='v'\r\n"},
		{"append crlf no final newline", "B=1\r\nC=2", "A", "v", "B=1\r\nC=2\r\nA='v'\r\n"},
		{"append multiline crlf", "B=1\r\n", "A", "x\ny", "B=1\r\nA='x\r\ny'\r\n"},
		{"append lone cr", "B=1\r", "A", "v", "B=1\rA='v'\r"},
		{"replace", "A=1\nB=2\n", "A", "v", "A='v'\nB=2\n"},
		{"replace keeps export and comment", "  export A=old # rotate monthly\nB=2\n", "A", "v", "  export A='v' # rotate monthly\nB=2\n"},
		{"replace keeps crlf", "A=1\r\nB=2\r\n", "A", "v", "A='v'\r\nB=2\r\n"},
		{"replace last line without newline", "B=2\nA=1", "A", "v", "B=2\nA='v'"},
		{"replace quoted multiline", "A='x\ny'\nB=2\n", "A", "v", "A='v'\nB=2\n"},
		{"replace quoted key", "'a: b'=1 # c\n", "a: b", "v", "'a: b'='v' # c\n"},
		{"replace bare key", "A\nB=2\n", "A", "v", "A='v'\nB=2\n"},
		{"comment gets a blank", "A='1'#c\n", "A", `x\`, "A=x\\ #c\n"},
		{"duplicates", "A=1\nB=2\n  A=3 # x\nC=4\nA=5\n", "A", "v", "B=2\nC=4\nA='v'\n"},
		{"duplicates keep last position", "A=1\nB=2\nA=3\nC=4\n", "A", "v", "B=2\nA='v'\nC=4\n"},
		{"other keys untouched", "X = \"q\\n\" # c\nexport Y='z'\n\n# end\n", "A", "v", "X = \"q\\n\" # c\nexport Y='z'\n\n# end\nA='v'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got := string(doc.set(tt.key, []byte(tt.value)))
			if got != tt.want {
				t.Errorf("set(%q) in %q:\ngot  %q\nwant %q", tt.key, tt.in, got, tt.want)
			}
			checkValue(t, []byte(got), tt.key, []byte(tt.value))
		})
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name, in, key, want string
		changed             bool
	}{
		{"missing", "B=1\n", "A", "B=1\n", false},
		{"only", "A=1\n", "A", "", true},
		{"middle", "# c\nB=1\n  export A='x\ny' # c\nC=2\n", "A", "# c\nB=1\nC=2\n", true},
		{"all duplicates", "A=1\nB=2\nA=3\n", "A", "B=2\n", true},
		{"last without newline", "B=1\nA=2", "A", "B=1\n", true},
		{"crlf", "A=1\r\nB=2\r\n", "A", "B=2\r\n", true},
		{"bare", "A\nB=2\n", "A", "B=2\n", true},
		{"keeps blank lines", "B=1\n\nA=2\n\nC=3\n", "A", "B=1\n\n\nC=3\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, changed := doc.remove(tt.key)
			if string(got) != tt.want || changed != tt.changed {
				t.Errorf("remove(%q) in %q: got %q, %v, want %q, %v", tt.key, tt.in, got, changed, tt.want, tt.changed)
			}
		})
	}
}

// Round trips.

// checkValue parses data and checks that key reads value.
func checkValue(t *testing.T, data []byte, key string, value []byte) {
	t.Helper()
	doc, err := parse(data)
	if err != nil {
		t.Fatalf("parse after writing %q: %v\nfile: %q", key, err, data)
	}
	got, ok := doc.lookup(key)
	if !ok || !bytes.Equal(got, value) {
		t.Fatalf("key %q: got %q, %v, want %q\nfile: %q", key, got, ok, value, data)
	}
}

// roundTripBases are files a value is written into: LF and CRLF, with
// comments, blank lines, export and every quoting style around it.
var roundTripBases = []string{
	"",
	"# head\nexport OTHER=1\n\nQUOTED='two' # c\nDQ=\"x\\ny\"\n",
	"# head\r\nexport OTHER=1\r\n\r\nQUOTED='two' # c\r\nDQ=\"x\\ny\"\r\n",
	"OTHER=1",
}

// roundTrip writes key=value into each base and checks that it reads back,
// that the other keys are unchanged, and that removing the key restores the
// base byte for byte. It also rewrites an existing binding.
func roundTrip(t *testing.T, key string, value []byte) {
	t.Helper()
	for _, base := range roundTripBases {
		doc, err := parse([]byte(base))
		if err != nil {
			t.Fatal(err)
		}
		data := doc.set(key, value)
		checkValue(t, data, key, value)
		after, err := parse(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(after.entries) != len(doc.entries)+1 {
			t.Fatalf("key %q value %q: got %d bindings, want %d\nfile: %q", key, value, len(after.entries), len(doc.entries)+1, data)
		}
		for _, e := range doc.entries {
			if e.key == key {
				continue
			}
			if v, _ := after.lookup(e.key); !bytes.Equal(v, e.value) {
				t.Fatalf("key %q value %q: other key %q changed to %q\nfile: %q", key, value, e.key, v, data)
			}
		}
		removed, changed := after.remove(key)
		want := base
		if base != "" && !strings.HasSuffix(base, "\n") {
			want += "\n"
		}
		if !changed || string(removed) != want {
			t.Fatalf("key %q value %q: removing it gave %q, want %q", key, value, removed, want)
		}
		// Overwrite in place.
		again := after.set(key, []byte("x"))
		checkValue(t, again, key, []byte("x"))
		redo, err := parse(again)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(redo.set(key, value)); got != string(data) {
			t.Fatalf("key %q value %q: rewriting in place gave %q, want %q", key, value, got, data)
		}
	}
}

// roundTripValues returns many byte strings: every byte, every pair and
// triple over an alphabet of troublesome bytes, and random strings.
func roundTripValues() [][]byte {
	var vals [][]byte
	for c := range 256 {
		vals = append(vals, []byte{byte(c)}, []byte{'a', byte(c), 'b'}, []byte{byte(c), '\\'})
	}
	alphabet := []byte("\\'\"\n\r\t #=$a\x00\xff\xc2\x85{}")
	for _, a := range alphabet {
		for _, b := range alphabet {
			vals = append(vals, []byte{a, b})
			for _, c := range alphabet {
				vals = append(vals, []byte{a, b, c})
			}
		}
	}
	vals = append(vals,
		[]byte{},
		[]byte("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"),
		[]byte("  leading and trailing  "),
		[]byte("line1\nline2\r\nline3\rline4"),
		[]byte("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"),
		[]byte(`{"json": "value", "n": 1}`),
		[]byte("${OTHER} $OTHER ${OTHER:-default}"),
		[]byte("é€😀\u2028\u2029\u0085"),
		[]byte("\\\\\\"),
		[]byte("'''"),
		[]byte(`"""`),
		[]byte("a\\'b\\\"c\\"),
		bytes.Repeat([]byte("x"), 100000),
	)
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		n := r.IntN(40)
		v := make([]byte, n)
		for i := range v {
			if r.IntN(2) == 0 {
				v[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				v[i] = byte(r.IntN(256))
			}
		}
		vals = append(vals, v)
	}
	return vals
}

// roundTripKeys are names the layer allows, including ones that need quotes.
var roundTripKeys = []string{
	"K", "OPENAI_API_KEY", "litellm/virtual-key-x", "a..b", "..a", "a..", "export",
	"a?b=1", "a: b", "a b", "it's", `back\slash`, `trail\`, `\`, "#hash", `"dq"`,
	"'", `''`, "é€😀", "a=b", "export x", "a#b", "=", "-",
}

func TestRoundTrip(t *testing.T) {
	vals := roundTripValues()
	for _, v := range vals {
		roundTrip(t, "K", v)
	}
	for _, k := range roundTripKeys {
		if err := backends.ValidateName(k); err != nil {
			t.Fatalf("test key %q: %v", k, err)
		}
		for _, v := range vals[:300] {
			roundTrip(t, k, v)
		}
	}
	t.Logf("%d values, %d keys", len(vals), len(roundTripKeys))
}

// FuzzRoundTrip checks that any value, under any name the layer and the store
// allow, reads back exactly. The seed corpus is in testdata/fuzz/FuzzRoundTrip.
func FuzzRoundTrip(f *testing.F) {
	f.Add("K", []byte("value"))
	f.Add("a: b", []byte("it's \"quoted\" \\ #x ${Y}\n\r\x00\xff"))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		roundTrip(t, "K", value)
		if backends.ValidateName(key) != nil || (&backend{}).ValidateName(key) != nil {
			return
		}
		roundTrip(t, key, value)
	})
}
