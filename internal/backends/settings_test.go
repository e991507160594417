package backends_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

func strPtr(s string) *string { return &s }

func TestSettingsValidateDefaults(t *testing.T) {
	var s backends.Settings
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate of zero settings: %v", err)
	}
	if s.AccessMode != backends.ReadOnly {
		t.Errorf("default access_mode: got %q, want %q", s.AccessMode, backends.ReadOnly)
	}
	if s.PrefixForStoredVirtualKeys == nil || *s.PrefixForStoredVirtualKeys != "litellm/" || s.VirtualKeyPrefix() != "litellm/" {
		t.Errorf("default prefix_for_stored_virtual_keys: got %s, want %q", showPrefix(s.PrefixForStoredVirtualKeys), "litellm/")
	}
	if s.StoreVirtualKeys || s.HostedKeys != nil || s.PrimarySecretName != "" || s.Description != "" || s.Tags != nil {
		t.Errorf("other defaults: got %+v, want zero values", s)
	}
	if !slices.Equal(backends.AccessModes, []string{"read_only", "write_only", "read_and_write"}) {
		t.Errorf("AccessModes: got %v", backends.AccessModes)
	}
}

func TestSettingsValidateKeepsValues(t *testing.T) {
	for _, mode := range []backends.AccessMode{backends.ReadOnly, backends.WriteOnly, backends.ReadAndWrite} {
		s := backends.Settings{AccessMode: mode, PrefixForStoredVirtualKeys: strPtr("team"), PrimarySecretName: "litellm/primary"}
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(access_mode %q): %v", mode, err)
		}
		if s.AccessMode != mode || s.VirtualKeyPrefix() != "team" || s.PrimarySecretName != "litellm/primary" {
			t.Errorf("Validate changed set values: got %+v", s)
		}
	}
	// An empty prefix is a value, not "unset": LiteLLM joins it as "/" + name.
	s := backends.Settings{PrefixForStoredVirtualKeys: strPtr("")}
	if err := s.Validate(); err != nil || s.VirtualKeyPrefix() != "" {
		t.Errorf("Validate of prefix_for_stored_virtual_keys \"\": got %q, %v; want it kept as \"\"", s.VirtualKeyPrefix(), err)
	}
}

func TestSettingsValidateErrors(t *testing.T) {
	tests := []struct {
		name     string
		settings backends.Settings
		mention  []string
	}{
		{"UnknownAccessMode", backends.Settings{AccessMode: "readwrite"}, []string{"access_mode", `"readwrite"`, "read_only", "write_only", "read_and_write"}},
		{"AccessModeCase", backends.Settings{AccessMode: "READ_ONLY"}, []string{"access_mode"}},
		{"PrimaryDotDot", backends.Settings{PrimarySecretName: "a/../b"}, []string{"primary_secret_name", ".."}},
		{"PrimaryControl", backends.Settings{PrimarySecretName: "a\x00b"}, []string{"primary_secret_name", "U+0000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.settings.Validate()
			if got := backends.CodeOf(err); got != backends.InvalidArgument {
				t.Fatalf("Validate: got code %v, want InvalidArgument (err: %v)", got, err)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("Validate: got message %q, want it to mention %q", err, m)
				}
			}
		})
	}
}

func TestSettingsCanWrite(t *testing.T) {
	for mode, want := range map[backends.AccessMode]bool{backends.ReadOnly: false, backends.WriteOnly: true, backends.ReadAndWrite: true} {
		s := backends.Settings{AccessMode: mode}
		if got := s.CanWrite(); got != want {
			t.Errorf("CanWrite(%s): got %t, want %t", mode, got, want)
		}
	}
}

func TestSettingsHosted(t *testing.T) {
	tests := []struct {
		name    string
		hosted  []string
		n, full string
		want    bool
	}{
		{"NilHostsAll", nil, "A", "A", true},
		{"EmptyHostsNone", []string{}, "A", "A", false},
		{"ByName", []string{"A", "B"}, "B", "litellm/B", true},
		{"ByFullName", []string{"litellm/B"}, "B", "litellm/B", true},
		{"NotListed", []string{"A"}, "B", "B", false},
		{"CaseSensitive", []string{"a"}, "A", "A", false},
	}
	for _, tc := range tests {
		s := backends.Settings{HostedKeys: tc.hosted}
		if got := s.Hosted(tc.n, tc.full); got != tc.want {
			t.Errorf("%s: Hosted(%q, %q) with hosted_keys %v: got %t, want %t", tc.name, tc.n, tc.full, tc.hosted, got, tc.want)
		}
	}
}

func TestJoinPrefix(t *testing.T) {
	// LiteLLM's _get_secret_name: prefix+name when the prefix ends with "/",
	// else prefix+"/"+name, so "" gives "/"+name.
	tests := []struct{ prefix, name, want string }{
		{"", "KEY", "/KEY"},
		{"litellm/", "KEY", "litellm/KEY"},
		{"litellm", "KEY", "litellm/KEY"},
		{"a/b/", "KEY", "a/b/KEY"},
		{"a/b", "c/KEY", "a/b/c/KEY"},
		{"/", "KEY", "/KEY"},
		{"team-", "KEY", "team-/KEY"},
		{"litellm/", "", "litellm/"},
		{"litellm", "", "litellm/"},
	}
	for _, tc := range tests {
		if got := backends.JoinPrefix(tc.prefix, tc.name); got != tc.want {
			t.Errorf("JoinPrefix(%q, %q): got %q, want %q", tc.prefix, tc.name, got, tc.want)
		}
	}
}

func TestFullName(t *testing.T) {
	vk := backends.Settings{StoreVirtualKeys: true}
	tests := []struct {
		name       string
		settings   backends.Settings
		objName    string
		prefix     *string
		virtualKey bool
		want       string
	}{
		{"NoVirtualKeys", backends.Settings{}, "KEY", nil, false, "KEY"},
		{"NoVirtualKeysVirtualKey", backends.Settings{}, "KEY", nil, true, "KEY"},
		{"NoVirtualKeysPrefixIgnored", backends.Settings{PrefixForStoredVirtualKeys: strPtr("p/")}, "KEY", nil, true, "KEY"},
		// LiteLLM prefixes only the virtual keys it stores; get_secret
		// reads every other name bare.
		{"StoreVirtualKeysPlainNameBare", vk, "OPENAI_API_KEY", nil, false, "OPENAI_API_KEY"},
		{"DefaultPrefix", vk, "KEY", nil, true, "litellm/KEY"},
		{"PrefixWithSlash", backends.Settings{StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("team/")}, "KEY", nil, true, "team/KEY"},
		{"PrefixWithoutSlash", backends.Settings{StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("team")}, "KEY", nil, true, "team/KEY"},
		{"EmptySettingsPrefixAsLiteLLM", backends.Settings{StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("")}, "KEY", nil, true, "/KEY"},
		{"EmptySettingsPrefixPlainName", backends.Settings{StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("")}, "KEY", nil, false, "KEY"},
		{"ObjectPrefixOverrides", vk, "KEY", strPtr("own/"), true, "own/KEY"},
		{"ObjectPrefixOnPlainName", vk, "KEY", strPtr("own/"), false, "own/KEY"},
		{"ObjectPrefixWithoutSlash", vk, "KEY", strPtr("own"), true, "own/KEY"},
		{"ObjectPrefixEmptyOptsOut", vk, "KEY", strPtr(""), true, "KEY"},
		{"ObjectPrefixWithoutVirtualKeys", backends.Settings{}, "KEY", strPtr("own"), false, "own/KEY"},
		{"NameWithSlashes", vk, "virtual-key/abc", nil, true, "litellm/virtual-key/abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.settings
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := s.FullName(tc.objName, tc.prefix, tc.virtualKey); got != tc.want {
				t.Errorf("FullName(%q, prefix %s, virtual_key %t): got %q, want %q", tc.objName, showPrefix(tc.prefix), tc.virtualKey, got, tc.want)
			}
		})
	}
}

func TestSplitFullName(t *testing.T) {
	vk := backends.Settings{StoreVirtualKeys: true}
	tests := []struct {
		name       string
		settings   backends.Settings
		full       string
		wantName   string
		wantPrefix *string
		wantVK     bool
	}{
		{"NoVirtualKeys", backends.Settings{}, "litellm/KEY", "litellm/KEY", nil, false},
		{"DefaultPrefix", vk, "litellm/KEY", "KEY", nil, true},
		{"DefaultPrefixNested", vk, "litellm/a/b", "a/b", nil, true},
		{"OutsidePrefixIsPlain", vk, "OPENAI_API_KEY", "OPENAI_API_KEY", nil, false},
		{"OtherPrefixIsPlain", vk, "other/KEY", "other/KEY", nil, false},
		{"PrefixOnly", vk, "litellm/", "litellm/", nil, false},
		{"PrefixWithoutSlash", backends.Settings{StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("team")}, "team/KEY", "KEY", nil, true},
		{"PrefixWithoutSlashNoMatch", backends.Settings{StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("team")}, "teamKEY", "teamKEY", nil, false},
		{"EmptyPrefix", backends.Settings{StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("")}, "/KEY", "KEY", nil, true},
		{"EmptyPrefixPlain", backends.Settings{StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("")}, "KEY", "KEY", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.settings
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			gotName, gotPrefix, gotVK := s.SplitFullName(tc.full)
			if gotName != tc.wantName || !samePrefix(gotPrefix, tc.wantPrefix) || gotVK != tc.wantVK {
				t.Errorf("SplitFullName(%q): got (%q, %s, %t), want (%q, %s, %t)", tc.full, gotName, showPrefix(gotPrefix), gotVK, tc.wantName, showPrefix(tc.wantPrefix), tc.wantVK)
			}
			// Import must land on the same stored name.
			if back := s.FullName(gotName, gotPrefix, gotVK); back != tc.full {
				t.Errorf("FullName(SplitFullName(%q)): got %q, want %q", tc.full, back, tc.full)
			}
		})
	}
}

func samePrefix(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func showPrefix(p *string) string {
	if p == nil {
		return "nil"
	}
	return strings.ReplaceAll(`"`+*p+`"`, "\n", `\n`)
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name     string
		defDesc  string
		defTags  map[string]string
		desc     string
		tags     map[string]string
		wantDesc string
		wantTags map[string]string
	}{
		{"Nothing", "", nil, "", nil, "", nil},
		{"EmptyMaps", "", map[string]string{}, "", map[string]string{}, "", nil},
		{"DefaultsOnly", "managed by terraform", map[string]string{"team": "ml"}, "", nil, "managed by terraform", map[string]string{"team": "ml"}},
		{"ResourceOnly", "", nil, "own", map[string]string{"owner": "platform"}, "own", map[string]string{"owner": "platform"}},
		{"ResourceDescriptionWins", "default", nil, "own", nil, "own", nil},
		{"TagsMergedResourceWins", "", map[string]string{"team": "ml", "owner": "default"}, "", map[string]string{"owner": "platform", "env": "prod"}, "", map[string]string{"team": "ml", "owner": "platform", "env": "prod"}},
		{"EmptyTagValueWins", "", map[string]string{"team": "ml"}, "", map[string]string{"team": ""}, "", map[string]string{"team": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := backends.Settings{Description: tc.defDesc, Tags: maps.Clone(tc.defTags)}
			resTags := maps.Clone(tc.tags)
			gotDesc, gotTags := s.Merge(tc.desc, resTags)
			if gotDesc != tc.wantDesc {
				t.Errorf("Merge description: got %q, want %q", gotDesc, tc.wantDesc)
			}
			if !maps.Equal(gotTags, tc.wantTags) || (gotTags == nil) != (tc.wantTags == nil) {
				t.Errorf("Merge tags: got %#v, want %#v", gotTags, tc.wantTags)
			}
			// Neither input is modified, and the result aliases neither.
			if !maps.Equal(s.Tags, tc.defTags) || !maps.Equal(resTags, tc.tags) {
				t.Errorf("Merge modified its inputs: settings %v, resource %v", s.Tags, resTags)
			}
			if gotTags != nil {
				gotTags["mutated"] = "x"
				if _, ok := s.Tags["mutated"]; ok {
					t.Errorf("Merge result aliases the settings' tags")
				}
			}
		})
	}
}

func TestSettingsString(t *testing.T) {
	s := backends.Settings{AccessMode: backends.ReadAndWrite, StoreVirtualKeys: true, PrimarySecretName: "p", Description: "d", Tags: map[string]string{"k": "v"}}
	got := s.String()
	for _, want := range []string{"access_mode=read_and_write", "store_virtual_keys=true", `primary_secret_name="p"`} {
		if !strings.Contains(got, want) {
			t.Errorf("String(): got %q, want it to contain %q", got, want)
		}
	}
}
