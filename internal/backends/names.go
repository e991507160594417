package backends

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidateName applies the rules every store shares: no empty name, no ".."
// path segment, no control characters (C0, DEL, C1, U+2028, U+2029), no
// bytes that are not UTF-8, and no invisible differences: no white space at
// either end, and nowhere a Unicode format character (category Cf: zero-width
// spaces and joiners U+200B..U+200D, word joiner U+2060, byte order mark
// U+FEFF, soft hyphen, bidi controls, ...) or a Unicode space other than
// U+0020 (category Zs: no-break space U+00A0, U+2000..U+200A, ...). Two names
// that print the same must be the same name, or a secret lands where LiteLLM
// never reads. Names like "a..b", "a?b=1", "a: b", "a b", "ключ" and "日本"
// pass; stores add their own limits through NameValidator.
func ValidateName(name string) error {
	if name == "" {
		return Errorf(InvalidArgument, "secret name must not be empty")
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == ".." {
			return Errorf(InvalidArgument, "secret name %q must not contain %q as a path segment", name, "..")
		}
	}
	if !utf8.ValidString(name) {
		// A raw byte 0x80-0x9f is a C1 control in Latin-1; no store takes
		// names that are not text.
		return Errorf(InvalidArgument, "secret name %s must be valid UTF-8 text", quoteName(name))
	}
	for i, r := range name {
		if isControl(r) {
			return Errorf(InvalidArgument, "secret name %s must not contain control character %U (at byte %d)", quoteName(name), r, i)
		}
	}
	for i, r := range name {
		switch {
		case unicode.Is(unicode.Cf, r):
			return Errorf(InvalidArgument, "secret name %s must not contain invisible format character %U (at byte %d, character %d): names that print the same must be the same name", quoteName(name), r, i, utf8.RuneCountInString(name[:i]))
		case r != ' ' && unicode.Is(unicode.Zs, r):
			return Errorf(InvalidArgument, "secret name %s must not contain the Unicode space %U (at byte %d, character %d); only the ASCII space U+0020 is allowed, and not at either end", quoteName(name), r, i, utf8.RuneCountInString(name[:i]))
		}
	}
	if r, _ := utf8.DecodeRuneInString(name); unicode.IsSpace(r) {
		return Errorf(InvalidArgument, "secret name %s must not start with white space (%U at byte 0)", quoteName(name), r)
	}
	if r, n := utf8.DecodeLastRuneInString(name); unicode.IsSpace(r) {
		return Errorf(InvalidArgument, "secret name %s must not end with white space (%U at byte %d, character %d)", quoteName(name), r, len(name)-n, utf8.RuneCountInString(name)-1)
	}
	return nil
}

func isControl(r rune) bool {
	return r <= 0x1f || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029
}

// quoteName renders a name for an error message so control characters show as
// escapes instead of breaking the message.
func quoteName(name string) string {
	const limit = 128
	if len(name) > limit {
		return fmt.Sprintf("%+q... (%d bytes)", name[:limit], len(name))
	}
	return fmt.Sprintf("%+q", name)
}

// QuoteName is quoteName for store packages.
func QuoteName(name string) string { return quoteName(name) }
