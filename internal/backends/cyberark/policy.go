package cyberark

import (
	"fmt"
	"strings"
)

// VariablePolicy returns the policy that declares variable id (relative to
// the branch it is loaded into): one YAML sequence item, the id a
// double-quoted scalar so no character of it can change the document
// (": ", "#", "- ", "!", "&", "*", "{", quotes, backslashes).
func VariablePolicy(id string) string {
	return "- !variable " + YAMLQuote(id) + "\n"
}

// YAMLQuote renders s as a YAML double-quoted scalar: printable ASCII stays
// as it is except " and \, everything else is a \u or \U escape. The result is
// plain ASCII, so no parser can misread an encoding or a line break.
func YAMLQuote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
