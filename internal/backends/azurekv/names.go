package azurekv

import (
	"strings"
	"unicode/utf8"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// MaxNameLength is Key Vault's limit on a secret name, in characters.
const MaxNameLength = 127

// NameRule is the rule, as error messages and docs state it.
const NameRule = "Key Vault secret names are 1 to 127 characters, each an ASCII letter, a digit or '-', and " +
	"LiteLLM reads a secret by exactly the name it is given (no mapping), so the provider stores every name as written"

// CheckName refuses, with an InvalidArgument error naming the secret, the
// store and the rule, a full secret name (prefix joined) that Key Vault or
// LiteLLM cannot use: anything but 1 to 127 ASCII letters, digits and '-'.
// Nothing is mapped: LiteLLM's get_secret passes the name to
// SecretClient.get_secret as it is, so a name stored under another spelling
// would never be found. The error suggests the Key Vault spelling (each
// other character replaced by '-') and how LiteLLM references it.
func CheckName(fullName string) error {
	if fullName == "" {
		return backends.RuleViolation("the azure_key_vault store does not accept an empty secret name. %s", NameRule)
	}
	for i, r := range fullName {
		if !validRune(r) {
			return backends.RuleViolation(
				"the azure_key_vault store does not accept secret name %s: character %q (at byte %d) is not allowed. %s.%s",
				backends.QuoteName(fullName), r, i, NameRule, suggestion(fullName))
		}
	}
	if n := utf8.RuneCountInString(fullName); n > MaxNameLength {
		return backends.RuleViolation(
			"the azure_key_vault store does not accept secret name %s: it is %d characters long, Key Vault allows at most %d. %s",
			backends.QuoteName(fullName), n, MaxNameLength, NameRule)
	}
	return nil
}

func validRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-'
}

// SuggestName is the Key Vault spelling of name: each character Key Vault
// does not allow replaced by '-' (OPENAI_API_KEY gives OPENAI-API-KEY). It
// returns "" when the result would still be refused (too long).
func SuggestName(name string) string {
	var sb strings.Builder
	sb.Grow(len(name))
	n := 0
	for _, r := range name {
		if validRune(r) {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('-')
		}
		n++
	}
	if n == 0 || n > MaxNameLength {
		return ""
	}
	return sb.String()
}

func suggestion(name string) string {
	s := SuggestName(name)
	if s == "" {
		return ""
	}
	return " Use the Key Vault spelling " + backends.QuoteName(s) + " as the name, and reference it in the LiteLLM config as os.environ/" + s
}

// ValidateName implements backends.NameValidator (see CheckName).
func (b *backend) ValidateName(fullName string) error { return CheckName(fullName) }

// kvName returns name after CheckName: the Key Vault name is the name.
func kvName(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	return name, nil
}
