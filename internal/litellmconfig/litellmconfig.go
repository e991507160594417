// Package litellmconfig reads the part of a LiteLLM proxy config.yaml that
// says where the proxy's secrets live (general_settings.key_management_system
// and general_settings.key_management_settings), and renders it back. It reads
// the file as LiteLLM 1.110.2's proxy does at start-up
// (ProxyConfig._initialize_secret_manager_from_raw_config): YAML, then
// `os.environ/NAME` references resolved from the environment, then the
// settings validated as LiteLLM's KeyManagementSettings model validates them.
// It never imports the framework nor a store SDK.
package litellmconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// EnvPrefix marks a config value that LiteLLM reads from the environment.
const EnvPrefix = "os.environ/"

// Settings is general_settings.key_management_settings; nil (or a nil slice
// or map) is a key the file does not set, or sets to null, or points at an
// unset variable: LiteLLM's None, which its model reads as the default.
type Settings struct {
	AccessMode                 *string
	HostedKeys                 []string
	StoreVirtualKeys           *bool
	PrefixForStoredVirtualKeys *string
	PrimarySecretName          *string
	Description                *string
	Tags                       map[string]string
	KMSKeyID                   *string
	CustomSecretManager        *string
	AWSRegionName              *string
	AWSRoleName                *string
	AWSSessionName             *string
	AWSExternalID              *string
	AWSProfileName             *string
	AWSWebIdentityToken        *string
	AWSSTSEndpoint             *string
	ReplicaRegions             []string
}

// Config is what the proxy's config says about its secret manager.
type Config struct {
	// Path is the file read, for errors.
	Path string
	// KeyManagementSystem is nil when the file names none: the proxy then
	// starts no secret manager and reads every os.environ/ reference from
	// its process environment.
	KeyManagementSystem *string
	Settings            Settings
}

// Error is a setting of the file that cannot be read or honoured. Its text
// names the file and the key, never a value from the environment.
type Error struct {
	Path string
	// Key is the dotted key under general_settings, e.g.
	// "key_management_settings.access_mode"; empty for the file as a whole.
	Key  string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	where := e.Path
	if e.Line > 0 {
		where = fmt.Sprintf("%s, line %d", e.Path, e.Line)
	}
	if e.Key == "" {
		return fmt.Sprintf("reading LiteLLM config (%s): %s", where, e.Msg)
	}
	return fmt.Sprintf("reading LiteLLM config (%s): general_settings.%s: %s", where, e.Key, e.Msg)
}

// Load reads the config file at path.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the path is the user's provider setting
	if err != nil {
		return nil, &Error{Path: path, Msg: err.Error()}
	}
	return Parse(path, data, lookupEnv)
}

// Parse reads a config file's text; path only names it in errors.
func Parse(path string, data []byte, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	p := &parser{path: path, lookupEnv: lookupEnv}
	cfg := &Config{Path: path}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			// An empty file: the proxy has nothing to read either.
			return cfg, nil
		}
		return nil, &Error{Path: path, Msg: "not YAML: " + err.Error()}
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if isNull(root) {
		return cfg, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Path: path, Line: root.Line, Msg: "the file is not a YAML mapping"}
	}
	gs := lookup(root, "general_settings")
	if gs == nil || isNull(gs) {
		return cfg, nil
	}
	if gs.Kind != yaml.MappingNode {
		// LiteLLM skips a general_settings that is not a mapping, and then
		// fails on it later; either way no secret manager comes from it.
		return nil, &Error{Path: path, Line: gs.Line, Msg: "general_settings is not a mapping"}
	}
	if n := lookup(gs, "key_management_system"); n != nil {
		v, err := p.str(n, "key_management_system")
		if err != nil {
			return nil, err
		}
		cfg.KeyManagementSystem = v
	}
	if n := lookup(gs, "key_management_settings"); n != nil && !isNull(n) {
		if err := p.settings(n, &cfg.Settings); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

type parser struct {
	path      string
	lookupEnv func(string) (string, bool)
}

func (p *parser) fail(n *yaml.Node, key, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{Path: p.path, Key: key, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// resolve applies LiteLLM's rule to a string scalar: a value that starts
// with "os.environ/" is get_secret(value), which removes every
// "os.environ/" in it (str.replace) and, with no secret manager up yet,
// reads the process environment; an unset variable is None. The second
// result is false for None.
func (p *parser) resolve(v string) (string, bool, bool) {
	if !strings.HasPrefix(v, EnvPrefix) {
		return v, true, false
	}
	val, ok := p.lookupEnv(strings.ReplaceAll(v, EnvPrefix, ""))
	return val, ok, true
}

// str reads a string setting: nil for null or an unset variable. LiteLLM
// turns a variable holding "true" or "false" into a bool, which a string
// field then refuses.
func (p *parser) str(n *yaml.Node, key string) (*string, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" || yaml11Bool(n) {
		return nil, p.fail(n, key, "must be a string (LiteLLM's model refuses %s)", describe(n))
	}
	v, ok, fromEnv := p.resolve(n.Value)
	if !ok {
		return nil, nil
	}
	if fromEnv && boolString(v) != nil {
		return nil, p.fail(n, key, "%s holds true or false, which LiteLLM reads as a boolean and then refuses for a string setting", n.Value)
	}
	return &v, nil
}

// strList reads a list of strings. LiteLLM resolves os.environ/ references
// only in mappings, never in list items, so items are taken as written.
func (p *parser) strList(n *yaml.Node, key string) ([]string, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.fail(n, key, "must be a list of strings, not %s", describe(n))
	}
	out := make([]string, 0, len(n.Content))
	for i, it := range n.Content {
		it = deref(it)
		if it.Kind != yaml.ScalarNode || it.Tag != "!!str" || yaml11Bool(it) {
			return nil, p.fail(it, fmt.Sprintf("%s[%d]", key, i), "must be a string, not %s", describe(it))
		}
		out = append(out, it.Value)
	}
	return out, nil
}

func (p *parser) settings(n *yaml.Node, s *Settings) error {
	const prefix = "key_management_settings"
	if n.Kind != yaml.MappingNode {
		return p.fail(n, prefix, "must be a mapping, not %s", describe(n))
	}
	strs := map[string]**string{
		"access_mode": &s.AccessMode, "prefix_for_stored_virtual_keys": &s.PrefixForStoredVirtualKeys,
		"primary_secret_name": &s.PrimarySecretName, "description": &s.Description, "kms_key_id": &s.KMSKeyID,
		"custom_secret_manager": &s.CustomSecretManager, "aws_region_name": &s.AWSRegionName,
		"aws_role_name": &s.AWSRoleName, "aws_session_name": &s.AWSSessionName, "aws_external_id": &s.AWSExternalID,
		"aws_profile_name": &s.AWSProfileName, "aws_web_identity_token": &s.AWSWebIdentityToken,
		"aws_sts_endpoint": &s.AWSSTSEndpoint,
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		key := prefix + "." + k.Value
		var err error
		switch into, ok := strs[k.Value]; {
		case ok:
			*into, err = p.str(v, key)
		case k.Value == "hosted_keys":
			s.HostedKeys, err = p.strList(v, key)
		case k.Value == "replica_regions":
			s.ReplicaRegions, err = p.strList(v, key)
		case k.Value == "store_virtual_keys":
			s.StoreVirtualKeys, err = p.boolean(v, key)
		case k.Value == "tags":
			s.Tags, err = p.tags(v, key)
		default:
			return p.fail(k, key, "is not a key_management_settings key of LiteLLM 1.110.2 (LiteLLM would ignore it); valid keys: %s",
				strings.Join(SettingsKeys, ", "))
		}
		if err != nil {
			return err
		}
	}
	// Keys whose None LiteLLM's model refuses: the proxy would not start.
	if lookup(n, "access_mode") != nil && s.AccessMode == nil {
		return p.fail(lookup(n, "access_mode"), prefix+".access_mode", "is null or an unset variable, which LiteLLM refuses; remove it for the default read_only")
	}
	if s.AccessMode != nil && !slices.Contains(AccessModes, *s.AccessMode) {
		return p.fail(lookup(n, "access_mode"), prefix+".access_mode", "must be one of %s", strings.Join(AccessModes, ", "))
	}
	if lookup(n, "prefix_for_stored_virtual_keys") != nil && s.PrefixForStoredVirtualKeys == nil {
		return p.fail(lookup(n, "prefix_for_stored_virtual_keys"), prefix+".prefix_for_stored_virtual_keys",
			"is null or an unset variable, which LiteLLM refuses; remove it for the default litellm/")
	}
	return nil
}

// boolean reads store_virtual_keys as pydantic's lax bool does.
func (p *parser) boolean(n *yaml.Node, key string) (*bool, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, p.fail(n, key, "%v", err)
		}
		return &b, nil
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int") {
		return nil, p.fail(n, key, "must be a boolean, not %s", describe(n))
	}
	v, ok, _ := p.resolve(n.Value)
	if !ok {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on", "t", "y":
		b := true
		return &b, nil
	case "false", "0", "no", "off", "f", "n":
		b := false
		return &b, nil
	}
	return nil, p.fail(n, key, "must be a boolean (true or false)")
}

// tags reads a mapping of strings; LiteLLM resolves os.environ/ references in
// a mapping's values, and its model refuses a None among them.
func (p *parser) tags(n *yaml.Node, key string) (map[string]string, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.fail(n, key, "must be a mapping of strings, not %s", describe(n))
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		s, err := p.str(v, key+"."+k.Value)
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, p.fail(v, key+"."+k.Value, "is null or an unset variable, which LiteLLM refuses in tags")
		}
		out[k.Value] = *s
	}
	return out, nil
}

// AccessModes are LiteLLM's access_mode values.
var AccessModes = []string{"read_only", "write_only", "read_and_write"}

// SettingsKeys are the keys of LiteLLM 1.110.2's KeyManagementSettings.
var SettingsKeys = []string{
	"hosted_keys", "store_virtual_keys", "prefix_for_stored_virtual_keys", "access_mode", "primary_secret_name",
	"description", "tags", "kms_key_id", "custom_secret_manager", "aws_region_name", "aws_role_name",
	"aws_session_name", "aws_external_id", "aws_profile_name", "aws_web_identity_token", "aws_sts_endpoint",
	"replica_regions",
}

// AWSKeys are the settings only LiteLLM's AWS Secrets Manager reader uses
// (AWSSecretsManagerV2.load_aws_secret_manager); with any other store LiteLLM
// ignores them.
var AWSKeys = []string{
	"aws_region_name", "aws_role_name", "aws_session_name", "aws_external_id", "aws_profile_name",
	"aws_web_identity_token", "aws_sts_endpoint", "kms_key_id", "replica_regions",
}

// boolString is LiteLLM's str_to_bool.
func boolString(v string) *bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		b := true
		return &b
	case "false":
		b := false
		return &b
	}
	return nil
}

func lookup(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	// The last occurrence wins, as in PyYAML.
	var found *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			found = deref(m.Content[i+1])
		}
	}
	return found
}

// deref follows a YAML alias, as PyYAML does.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// yaml11Bool reports an unquoted yes, no, on, off, y or n: a string to this
// YAML 1.2 reader, a boolean to PyYAML (YAML 1.1), which the proxy uses.
func yaml11Bool(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return false
	}
	switch strings.ToLower(n.Value) {
	case "yes", "no", "on", "off", "y", "n":
		return true
	}
	return false
}

func describe(n *yaml.Node) string {
	if yaml11Bool(n) {
		return "a bool (PyYAML reads an unquoted " + n.Value + " as a boolean; quote it)"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a " + strings.TrimPrefix(n.ShortTag(), "!!")
}
