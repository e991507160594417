package azurekv

import (
	"fmt"
	"strings"
	"sync"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// MaxNameLength is Key Vault's limit on a secret name, in characters.
const MaxNameLength = 127

// NameRule is the mapping, as error messages and docs state it.
const NameRule = "Key Vault secret names are 1 to 127 letters, digits and '-'; the provider maps each '_' and '/' " +
	"to '-' and keeps letters, digits and '-' as they are (OPENAI_API_KEY is stored as OPENAI-API-KEY, " +
	"litellm/virtual-key-1 as litellm-virtual-key-1); any other character is refused"

// StoredName maps a full secret name (prefix joined) to the Key Vault name:
// each '_' and '/' becomes '-'; letters, digits and '-' stay. Names with any
// other character, or longer than 127 characters once mapped, are refused with
// an InvalidArgument error that states the rule. The mapping is idempotent:
// a valid Key Vault name maps to itself, so mapping twice changes nothing.
func StoredName(fullName string) (string, error) {
	if fullName == "" {
		return "", backends.Errorf(backends.InvalidArgument, "the azure_key_vault store does not accept an empty secret name")
	}
	var sb strings.Builder
	sb.Grow(len(fullName))
	n := 0
	for i, r := range fullName {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			sb.WriteRune(r)
		case r == '_', r == '/':
			sb.WriteByte('-')
		default:
			return "", backends.Errorf(backends.InvalidArgument,
				"the azure_key_vault store cannot map secret name %s: character %q (at byte %d) is not allowed. %s",
				backends.QuoteName(fullName), r, i, NameRule)
		}
		n++
	}
	if n > MaxNameLength {
		return "", backends.Errorf(backends.InvalidArgument,
			"the azure_key_vault store does not accept secret name %s: it is %d characters long, Key Vault allows at most %d",
			backends.QuoteName(fullName), n, MaxNameLength)
	}
	return sb.String(), nil
}

// claims remembers which name took each Key Vault name in one provider
// configuration, so that two different names that map to the same Key Vault
// secret are refused at plan. Key Vault names are case-insensitive, so the key
// is the lower-cased Key Vault name. A backend is built once per Terraform
// operation (plan, apply), so claims live exactly as long as one run.
type claims struct {
	mu sync.Mutex
	by map[string]string
}

// claim records that fullName uses kvName, or returns an InvalidArgument error
// naming both names when another name already uses it.
func (c *claims) claim(fullName, kvName string) error {
	key := strings.ToLower(kvName)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.by == nil {
		c.by = map[string]string{}
	}
	prev, ok := c.by[key]
	switch {
	case !ok:
		c.by[key] = fullName
		return nil
	case prev == fullName:
		return nil
	}
	return backends.Errorf(backends.InvalidArgument,
		"the azure_key_vault store cannot tell secret names %s and %s apart: both map to Key Vault secret %q "+
			"(Key Vault names are case-insensitive; %s). Use one spelling for both",
		backends.QuoteName(prev), backends.QuoteName(fullName), kvName, NameRule)
}

// kvName maps and claims a full name. Only the provider's mapping of a user's
// spelling claims: reads, writes and deletes carry Key Vault names already.
func (b *backend) kvName(fullName string) (string, error) {
	kv, err := StoredName(fullName)
	if err != nil {
		return "", err
	}
	if err := b.claims.claim(fullName, kv); err != nil {
		return "", err
	}
	return kv, nil
}

// ValidateName implements backends.NameValidator: the name must map to a Key
// Vault name. A name that is not yet in Key Vault spelling also claims its Key
// Vault name, so no other name seen by this provider configuration may map to
// the same one. A name already in Key Vault spelling is what the layer passes
// after StoreName mapped (and claimed) the user's spelling, so it claims
// nothing here.
func (b *backend) ValidateName(fullName string) error {
	kv, err := StoredName(fullName)
	if err != nil || kv == fullName {
		return err
	}
	return b.claims.claim(fullName, kv)
}

// StoreName implements backends.NameMapper: the Key Vault name of fullName
// (see StoredName), claimed so that two spellings of one Key Vault name in a
// configuration are refused at plan. full_name shows it.
func (b *backend) StoreName(fullName string) (string, error) { return b.kvName(fullName) }

// describeName renders a name and, when it differs, its Key Vault name.
func describeName(fullName, kvName string) string {
	if fullName == kvName {
		return fmt.Sprintf("%q", kvName)
	}
	return fmt.Sprintf("%q (Key Vault name %q)", fullName, kvName)
}
