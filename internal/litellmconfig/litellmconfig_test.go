package litellmconfig

import (
	"reflect"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func ptr[T any](v T) *T { return &v }

func TestParse(t *testing.T) {
	const file = `
model_list: []
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  key_management_system: os.environ/KMS
  key_management_settings:
    access_mode: read_and_write
    hosted_keys: ["OPENAI_API_KEY", "os.environ/NOT_RESOLVED"]
    store_virtual_keys: os.environ/STORE_VK
    prefix_for_stored_virtual_keys: "gw/"
    description: os.environ/UNSET
    tags: {team: os.environ/TEAM, env: prod}
    aws_region_name: eu-west-1
    aws_role_name: arn:aws:iam::1:role/r
    replica_regions: [us-east-2]
    kms_key_id: alias/k
`
	cfg, err := Parse("config.yaml", []byte(file), env(map[string]string{"KMS": "aws_secret_manager", "STORE_VK": "True", "TEAM": "ml"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		AccessMode: ptr("read_and_write"), HostedKeys: []string{"OPENAI_API_KEY", "os.environ/NOT_RESOLVED"},
		StoreVirtualKeys: ptr(true), PrefixForStoredVirtualKeys: ptr("gw/"), Tags: map[string]string{"team": "ml", "env": "prod"},
		AWSRegionName: ptr("eu-west-1"), AWSRoleName: ptr("arn:aws:iam::1:role/r"), ReplicaRegions: []string{"us-east-2"},
		KMSKeyID: ptr("alias/k"),
	}
	if *cfg.KeyManagementSystem != "aws_secret_manager" || !reflect.DeepEqual(cfg.Settings, want) {
		t.Fatalf("got %v %+v", *cfg.KeyManagementSystem, cfg.Settings)
	}

	out, err := Render(*cfg.KeyManagementSystem, &cfg.Settings)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("rendered", out, env(nil))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if *back.KeyManagementSystem != "aws_secret_manager" || !reflect.DeepEqual(back.Settings, want) {
		t.Fatalf("round trip: got %+v\n%s", back.Settings, out)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, f := range []string{"", "model_list: []\n", "general_settings:\n", "general_settings: {master_key: x}\n"} {
		cfg, err := Parse("c.yaml", []byte(f), env(nil))
		if err != nil || cfg.KeyManagementSystem != nil || !reflect.DeepEqual(cfg.Settings, Settings{}) {
			t.Errorf("%q: %v %+v", f, err, cfg)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"general_settings:\n  key_management_settings:\n    acces_mode: read_only\n", "c.yaml, line 3): general_settings.key_management_settings.acces_mode: is not a key_management_settings key"},
		{"general_settings:\n  key_management_settings:\n    access_mode: read\n", "access_mode: must be one of"},
		{"general_settings:\n  key_management_settings:\n    access_mode: os.environ/UNSET\n", "access_mode: is null or an unset variable"},
		{"general_settings:\n  key_management_settings:\n    description: os.environ/SECRETISH\n", "holds true or false"},
		{"general_settings:\n  key_management_settings:\n    hosted_keys: A\n", "hosted_keys: must be a list"},
		{"general_settings:\n  key_management_settings:\n    store_virtual_keys: maybe\n", "store_virtual_keys: must be a boolean"},
		{"general_settings:\n  key_management_system: 3\n", "key_management_system: must be a string"},
		{"general_settings: [\n", "not YAML"},
		{"general_settings:\n  key_management_settings:\n    description: yes\n", "PyYAML reads an unquoted yes as a boolean"},
	} {
		_, err := Parse("c.yaml", []byte(tc.file), env(map[string]string{"SECRETISH": "TRUE"}))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.file, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "TRUE") {
			t.Errorf("an environment value leaked: %v", err)
		}
	}
}

func TestRenderLocalAndQuoting(t *testing.T) {
	out, err := Render("local", &Settings{AccessMode: ptr("read_and_write"), Description: ptr("true"), HostedKeys: []string{"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "key_management_system") {
		t.Fatalf("local rendered a key_management_system:\n%s", out)
	}
	back, err := Parse("r", out, env(nil))
	if err != nil || *back.Settings.Description != "true" || back.Settings.HostedKeys[0] != "1" {
		t.Fatalf("%v %+v\n%s", err, back, out)
	}
}

// PyYAML (YAML 1.1) reads yes/on/y as booleans and 0777 as a number: every
// such string is quoted.
func TestRenderQuotesYAML11(t *testing.T) {
	out, err := Render("hashicorp_vault", &Settings{Tags: map[string]string{"on": "yes", "y": "0777", "k": "a b", "arn": "arn:aws:x"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"on": "yes"`, `"y": "0777"`, `k: "a b"`, `arn: "arn:aws:x"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%q not in\n%s", want, out)
		}
	}
}
