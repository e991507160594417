package backends

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ValidateName applies the rules every store shares (SPEC section 5): no empty
// name, no ".." path segment, no control characters (C0, DEL, C1, U+2028,
// U+2029) and no bytes that are not UTF-8. Names like "a..b", "a?b=1" and
// "a: b" pass; stores add their own limits through NameValidator.
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
