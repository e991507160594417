package litellmconfig

import (
	"bytes"
	"maps"
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Render returns the general_settings fragment of a proxy config.yaml that
// selects kind and settings: what Load reads back into the same Config. The
// local store is rendered without key_management_system: LiteLLM has no
// `local` secret manager (its proxy refuses the value at start-up) and reads
// such secrets from its process environment.
func Render(kind string, s *Settings) ([]byte, error) {
	gs := &yaml.Node{Kind: yaml.MappingNode}
	if kind != "" && kind != "local" {
		addStr(gs, "key_management_system", &kind)
	}
	kms := &yaml.Node{Kind: yaml.MappingNode}
	addStr(kms, "access_mode", s.AccessMode)
	addList(kms, "hosted_keys", s.HostedKeys)
	if s.StoreVirtualKeys != nil {
		v := "false"
		if *s.StoreVirtualKeys {
			v = "true"
		}
		kms.Content = append(kms.Content, scalar("store_virtual_keys", "!!str"), scalar(v, "!!bool"))
	}
	addStr(kms, "prefix_for_stored_virtual_keys", s.PrefixForStoredVirtualKeys)
	addStr(kms, "primary_secret_name", s.PrimarySecretName)
	addStr(kms, "description", s.Description)
	if s.Tags != nil {
		tags := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
			v := s.Tags[k]
			addStr(tags, k, &v)
		}
		kms.Content = append(kms.Content, scalar("tags", "!!str"), tags)
	}
	addStr(kms, "custom_secret_manager", s.CustomSecretManager)
	addStr(kms, "aws_region_name", s.AWSRegionName)
	addStr(kms, "aws_role_name", s.AWSRoleName)
	addStr(kms, "aws_session_name", s.AWSSessionName)
	addStr(kms, "aws_external_id", s.AWSExternalID)
	addStr(kms, "aws_profile_name", s.AWSProfileName)
	addStr(kms, "aws_web_identity_token", s.AWSWebIdentityToken)
	addStr(kms, "aws_sts_endpoint", s.AWSSTSEndpoint)
	addStr(kms, "kms_key_id", s.KMSKeyID)
	addList(kms, "replica_regions", s.ReplicaRegions)
	if len(kms.Content) > 0 {
		gs.Content = append(gs.Content, scalar("key_management_settings", "!!str"), kms)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{scalar("general_settings", "!!str"), gs}}
	// Two spaces, as LiteLLM's documented configs are indented.
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func scalar(v, tag string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: v, Tag: tag}
	if tag == "!!str" && !plain(v) {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// plainText is text every YAML reader takes as the same string unquoted.
var plainText = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

// plain reports whether v may be written unquoted. The proxy reads its config
// with PyYAML, a YAML 1.1 reader, where yes, no, on, off, y and n are
// booleans: those are quoted, as is anything beyond plainText.
func plain(v string) bool {
	switch strings.ToLower(v) {
	case "y", "yes", "n", "no", "true", "false", "on", "off", "null":
		return false
	}
	return plainText.MatchString(v)
}

func addStr(m *yaml.Node, key string, v *string) {
	if v == nil {
		return
	}
	m.Content = append(m.Content, scalar(key, "!!str"), scalar(*v, "!!str"))
}

func addList(m *yaml.Node, key string, items []string) {
	if items == nil {
		return
	}
	l := &yaml.Node{Kind: yaml.SequenceNode}
	for _, it := range items {
		l.Content = append(l.Content, scalar(it, "!!str"))
	}
	m.Content = append(m.Content, scalar(key, "!!str"), l)
}
