package backends

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// AccessMode is key_management_settings.access_mode.
type AccessMode string

const (
	// ReadOnly: data sources and ephemeral resources read the store; resources
	// are refused at plan.
	ReadOnly AccessMode = "read_only"
	// WriteOnly: resources write; reads come from the process environment.
	WriteOnly AccessMode = "write_only"
	// ReadAndWrite: both.
	ReadAndWrite AccessMode = "read_and_write"
)

// AccessModes lists the valid values, for schema validators and docs.
var AccessModes = []string{string(ReadOnly), string(WriteOnly), string(ReadAndWrite)}

// DefaultVirtualKeyPrefix is prefix_for_stored_virtual_keys when unset.
const DefaultVirtualKeyPrefix = "litellm/"

// Settings mirrors LiteLLM's key_management_settings.
type Settings struct {
	AccessMode AccessMode
	// HostedKeys, when non-nil, lists the names read from the store; other
	// names are read from the process environment. Writes are not filtered.
	HostedKeys []string
	// StoreVirtualKeys applies PrefixForStoredVirtualKeys to the names of
	// objects marked as virtual keys, as LiteLLM prefixes only the virtual
	// keys it stores (its get_secret reads every other name bare).
	StoreVirtualKeys bool
	// PrefixForStoredVirtualKeys is nil for the default, "litellm/". An
	// empty prefix joins as LiteLLM does: "/" + name.
	PrefixForStoredVirtualKeys *string
	// PrimarySecretName, when set, stores every name as a field of one JSON
	// object under this name.
	PrimarySecretName string
	// Description and Tags are defaults merged under each object's own.
	Description string
	Tags        map[string]string
}

// Validate checks the settings and fills defaults.
func (s *Settings) Validate() error {
	switch s.AccessMode {
	case "":
		s.AccessMode = ReadOnly
	case ReadOnly, WriteOnly, ReadAndWrite:
	default:
		return Errorf(InvalidArgument, "key_management_settings.access_mode %q is not one of %s", s.AccessMode, strings.Join(AccessModes, ", "))
	}
	if s.PrefixForStoredVirtualKeys == nil {
		p := DefaultVirtualKeyPrefix
		s.PrefixForStoredVirtualKeys = &p
	}
	if s.PrimarySecretName != "" {
		if err := ValidateName(s.PrimarySecretName); err != nil {
			return Errorf(InvalidArgument, "key_management_settings.primary_secret_name: %w", err)
		}
	}
	return nil
}

// CanWrite reports whether resources may write under this access mode.
func (s *Settings) CanWrite() bool { return s.AccessMode != ReadOnly }

// Hosted reports whether reads of name (as written by the user, or its full
// name) go to the store rather than the process environment.
func (s *Settings) Hosted(name, fullName string) bool {
	if s.HostedKeys == nil {
		return true
	}
	return slices.Contains(s.HostedKeys, name) || slices.Contains(s.HostedKeys, fullName)
}

// VirtualKeyPrefix is prefix_for_stored_virtual_keys, the default when unset.
func (s *Settings) VirtualKeyPrefix() string {
	if s.PrefixForStoredVirtualKeys == nil {
		return DefaultVirtualKeyPrefix
	}
	return *s.PrefixForStoredVirtualKeys
}

// PrefixesVirtualKey reports whether FullName applies the settings' prefix
// to an object: store_virtual_keys is on, the object is a virtual key and
// has no prefix of its own.
func (s *Settings) PrefixesVirtualKey(prefix *string, virtualKey bool) bool {
	return prefix == nil && virtualKey && s.StoreVirtualKeys
}

// FullName returns the stored name of name. prefix is the object's own prefix
// attribute: nil means "use the settings", "" opts out of any prefix, any
// other value is joined with name as LiteLLM joins. virtualKey marks a
// LiteLLM virtual key: only those get prefix_for_stored_virtual_keys (when
// store_virtual_keys is on), as LiteLLM's _get_secret_name prefixes only the
// virtual keys it stores; every other name is stored bare, where LiteLLM's
// get_secret reads it.
func (s *Settings) FullName(name string, prefix *string, virtualKey bool) string {
	switch {
	case prefix != nil && *prefix == "":
		return name
	case prefix != nil:
		return JoinPrefix(*prefix, name)
	case s.PrefixesVirtualKey(prefix, virtualKey):
		return JoinPrefix(s.VirtualKeyPrefix(), name)
	}
	return name
}

// SplitFullName is FullName's inverse for import: it returns the name, the
// prefix attribute (nil for "the settings'") and virtual_key that give
// fullName. With store_virtual_keys on, a name under the settings' prefix is
// a virtual key; any other name is a bare name.
func (s *Settings) SplitFullName(fullName string) (name string, prefix *string, virtualKey bool) {
	if s.StoreVirtualKeys {
		p := JoinPrefix(s.VirtualKeyPrefix(), "")
		if rest, ok := strings.CutPrefix(fullName, p); ok && rest != "" {
			return rest, nil, true
		}
	}
	return fullName, nil, false
}

// JoinPrefix joins exactly as LiteLLM's _get_secret_name does: prefix+name
// when prefix ends with "/", else prefix+"/"+name. An empty prefix therefore
// gives "/"+name, as in LiteLLM.
func JoinPrefix(prefix, name string) string {
	if strings.HasSuffix(prefix, "/") {
		return prefix + name
	}
	return prefix + "/" + name
}

// Merge returns the description and tags to write: the object's own win over
// the settings' defaults, key by key for tags (like aws default_tags).
func (s *Settings) Merge(description string, tags map[string]string) (string, map[string]string) {
	if description == "" {
		description = s.Description
	}
	if len(s.Tags) == 0 && len(tags) == 0 {
		return description, nil
	}
	merged := maps.Clone(s.Tags)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, tags)
	return description, merged
}

// String describes the settings without any secret (they hold none).
func (s *Settings) String() string {
	return fmt.Sprintf("access_mode=%s store_virtual_keys=%t primary_secret_name=%q", s.AccessMode, s.StoreVirtualKeys, s.PrimarySecretName)
}
