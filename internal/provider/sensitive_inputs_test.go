package provider

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awskms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/azurekv"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/custom"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/cyberark"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpkms"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpsm"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/testpki"
)

// leakMarker is in every wrong value the tests below feed the provider; no
// diagnostic may contain it.
const leakMarker = "Zq7LEAKMARKERv3"

// wrongSecretForms are the wrong forms of a sensitive value: each holds the
// marker where an error quoting the value, or a part of it, would show it.
func wrongSecretForms() map[string]string {
	junk := base64.StdEncoding.EncodeToString([]byte("\x00\x01junk that is neither JSON nor a key " + leakMarker))
	return map[string]string{
		"plain text":         leakMarker + "-not-json-not-a-path",
		"base64 of junk":     "eyJ0eXBlIjoi" + leakMarker + junk,
		"base64 of JSON":     base64.StdEncoding.EncodeToString([]byte(`{"type":"service_account"}`)) + leakMarker,
		"PEM without armour": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + leakMarker + "\nBKcwggSjAgEAAoIBAQC7" + leakMarker,
		"missing path":       "/nonexistent/" + leakMarker + "/key.json",
		"relative path":      "secrets/" + leakMarker + ".pem",
		"newline":            leakMarker + "\n" + leakMarker,
		"very long":          leakMarker + strings.Repeat("x", 6000) + leakMarker + strings.Repeat("y", 6000) + leakMarker,
		"JSON of the wrong kind": `{"type":"` + leakMarker + `","private_key":"` + leakMarker +
			`","client_email":"` + leakMarker + `"}`,
		"malformed JSON": `{"type": "service_account", "private_key": "` + leakMarker + `"`,
		"armoured junk":  "-----BEGIN PRIVATE KEY-----\n" + leakMarker + "\n-----END PRIVATE KEY-----\n",
	}
}

// wrongURLForms are URLs whose userinfo holds the marker, well formed or not.
func wrongURLForms() map[string]string {
	cred := "tok" + leakMarker + ":" + leakMarker
	return map[string]string{
		"userinfo":             "https://" + cred + "@127.0.0.1:1",
		"userinfo and path":    "http://" + cred + "@127.0.0.1:1/v1/x?y=z",
		"user only":            "https://" + leakMarker + "@127.0.0.1:1",
		"wrong scheme":         "ftp://" + cred + "@127.0.0.1:1",
		"space in host":        "https://" + cred + "@bad host:1",
		"no scheme":            cred + "@127.0.0.1:1",
		"port out of range":    "https://" + cred + "@127.0.0.1:99999",
		"trailing newline":     "https://" + cred + "@127.0.0.1:1\n",
		"control character":    "https://" + cred + "@127.0.0.1:1/\x7f",
		"percent-encoded junk": "https://" + cred + "%zz@127.0.0.1:1",
	}
}

// urlAttributes are the store block attributes that hold a URL (or an
// address that may be written as one).
var urlAttributes = []string{"address", "url", "endpoint", "vault_url", "sts_endpoint"}

// leakBase is, per store, the attributes set beside the one under test so that
// the provider gets past "what is missing" to using the value: every address
// is a closed local port, so calls fail fast.
var leakBase = map[string]map[string]any{
	vault.Kind:    {"address": "http://127.0.0.1:1"},
	awssm.Kind:    {"region": "us-east-1", "endpoint": "http://127.0.0.1:1", "access_key": "AKIDEXAMPLE", "secret_key": "plain"},
	awskms.Kind:   {"region": "us-east-1", "endpoint": "http://127.0.0.1:1", "access_key": "AKIDEXAMPLE", "secret_key": "plain"},
	azurekv.Kind:  {"vault_url": "https://127.0.0.1:1/", "tenant_id": "00000000-0000-0000-0000-000000000000", "client_id": "00000000-0000-0000-0000-000000000000"},
	gcpsm.Kind:    {"endpoint": "https://127.0.0.1:1", "project_id": "leak-test"},
	gcpkms.Kind:   {"endpoint": "https://127.0.0.1:1", "key_name": "projects/p/locations/global/keyRings/r/cryptoKeys/k"},
	cyberark.Kind: {"url": "https://127.0.0.1:1", "login": "admin", "api_key": "plain"},
	custom.Kind:   {"url": "http://127.0.0.1:1"},
}

// leakCompanions are the attributes an attribute under test needs beside it
// to be used at all (a key needs its certificate), by store.attribute path.
func leakCompanions(t *testing.T) map[string]map[string]any {
	t.Helper()
	_, certPEM, err := testpki.LocalhostCert("leak test CA")
	if err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]map[string]any{
		vault.Kind + ".approle.secret_id":             {"approle": map[string]any{"role_id": "role"}},
		cyberark.Kind + ".authn_jwt.token":            {"authn_jwt": map[string]any{"service_id": "svc"}},
		cyberark.Kind + ".client_key":                 {"client_cert": string(certPEM)},
		azurekv.Kind + ".client_certificate_password": {"client_certificate_path": certFile},
	}
}

// leakCase is one value fed to one attribute (path within the store block).
type leakCase struct {
	kind  string
	path  []string
	value string
}

// leakCases walks the provider schema: every sensitive attribute of every
// store block, at any depth, gets every wrong secret form, and every URL
// attribute gets every wrong URL form. A new sensitive attribute is covered
// without touching this test.
func leakCases(t *testing.T, provider *tfprotov6.Schema) (map[string]leakCase, int) {
	t.Helper()
	cases := map[string]leakCase{}
	sensitiveAttrs := 0
	var walk func(kind string, prefix []string, attrs []*tfprotov6.SchemaAttribute)
	walk = func(kind string, prefix []string, attrs []*tfprotov6.SchemaAttribute) {
		for _, a := range attrs {
			p := append(slices.Clone(prefix), a.Name)
			if a.NestedType != nil {
				walk(kind, p, a.NestedType.Attributes)
				continue
			}
			var forms map[string]string
			switch {
			case a.Sensitive:
				sensitiveAttrs++
				forms = wrongSecretForms()
			case len(prefix) == 0 && slices.Contains(urlAttributes, a.Name):
				forms = wrongURLForms()
			default:
				continue
			}
			for form, v := range forms {
				cases[kind+"."+strings.Join(p, ".")+"/"+form] = leakCase{kind: kind, path: p, value: v}
			}
		}
	}
	for _, a := range provider.Block.Attributes {
		if slices.Contains(storeKinds, a.Name) && a.NestedType != nil {
			walk(a.Name, nil, a.NestedType.Attributes)
		}
	}
	return cases, sensitiveAttrs
}

// TestProviderConfigure_neverEchoesSensitiveInputs feeds every sensitive
// attribute of every store block, and every URL attribute with userinfo, in
// every wrong form through the provider's protocol server as the CLI does
// (validate, configure, then read a secret through the configured store), and
// fails when any diagnostic quotes the value.
func TestProviderConfigure_neverEchoesSensitiveInputs(t *testing.T) {
	ctx := context.Background()
	noEnv := func(string) (string, bool) { return "", false }
	newServer := func(t *testing.T) tfprotov6.ProviderServer {
		srv, err := providerserver.NewProtocol6WithError(&LLMSecretProvider{version: "test", lookupEnv: noEnv})()
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := newServer(t)
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil || len(schemas.Diagnostics) > 0 {
		t.Fatalf("GetProviderSchema: %v %s", err, diagText(schemas.Diagnostics))
	}
	cases, sensitiveAttrs := leakCases(t, schemas.Provider)
	// The walk must find the attributes: credentials, access_token (x2
	// Google), secret_key (x2 AWS), token, approle.secret_id, client_secret,
	// client_certificate_password, api_key, client_key, authn_jwt.token,
	// custom.headers at least.
	if sensitiveAttrs < 13 {
		t.Fatalf("the schema walk found %d sensitive store attributes; want every one (at least 13)", sensitiveAttrs)
	}
	providerType := asObject(t, schemas.Provider.ValueType())
	dataType := asObject(t, schemas.DataSourceSchemas["llmsecret_secret"].ValueType())
	dataConfig := dynamic(t, nullsExcept(dataType, map[string]tftypes.Value{"name": tftypes.NewValue(tftypes.String, "LEAKTESTKEY")}))

	companions := leakCompanions(t)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			block := map[string]any{}
			for _, set := range []map[string]any{leakBase[tc.kind], companions[tc.kind+"."+strings.Join(tc.path, ".")]} {
				for k, v := range set {
					if m, ok := v.(map[string]any); ok {
						v = mapsClone(m)
					}
					block[k] = v
				}
			}
			setPath(block, tc.path, tc.value)
			blockType := asObject(t, providerType.AttributeTypes[tc.kind])
			timeoutsType := asObject(t, providerType.AttributeTypes["timeouts"])
			config := dynamic(t, nullsExcept(providerType, map[string]tftypes.Value{
				"key_management_system": tftypes.NewValue(tftypes.String, tc.kind),
				tc.kind:                 objectValue(t, blockType, block),
				"timeouts": nullsExcept(timeoutsType, map[string]tftypes.Value{
					"per_call":     tftypes.NewValue(tftypes.String, "3s"),
					"max_attempts": tftypes.NewValue(tftypes.Number, big.NewFloat(1)),
				}),
			}))
			srv := newServer(t)
			var diags []*tfprotov6.Diagnostic
			v, err := srv.ValidateProviderConfig(ctx, &tfprotov6.ValidateProviderConfigRequest{Config: config})
			if err != nil {
				t.Fatal(err)
			}
			diags = append(diags, v.Diagnostics...)
			c, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: config})
			if err != nil {
				t.Fatal(err)
			}
			diags = append(diags, c.Diagnostics...)
			if !hasError(c.Diagnostics) {
				// The store built: its first call must not quote the value either.
				r, err := srv.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{TypeName: "llmsecret_secret", Config: dataConfig})
				if err != nil {
					t.Fatal(err)
				}
				diags = append(diags, r.Diagnostics...)
			}
			t.Logf("diagnostics: %s", diagText(diags))
			for _, d := range diags {
				if leaks(d.Summary) || leaks(d.Detail) {
					t.Errorf("a diagnostic quotes the value of %s.%s:\n%s: %s", tc.kind, strings.Join(tc.path, "."), d.Summary, d.Detail)
				}
			}
		})
	}
}

// leaks reports whether s shows the marker, whole or cut (a message that
// truncates or wraps the value).
func leaks(s string) bool {
	return strings.Contains(s, leakMarker[:8]) || strings.Contains(s, leakMarker[len(leakMarker)-8:])
}

func hasError(ds []*tfprotov6.Diagnostic) bool {
	return slices.ContainsFunc(ds, func(d *tfprotov6.Diagnostic) bool { return d.Severity == tfprotov6.DiagnosticSeverityError })
}

func mapsClone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// setPath sets value at path in block, creating nested blocks.
func setPath(block map[string]any, path []string, value string) {
	for _, p := range path[:len(path)-1] {
		next, ok := block[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			block[p] = next
		}
		block = next
	}
	block[path[len(path)-1]] = value
}

// objectValue is block as a value of t: strings, nested blocks, and for map
// and list attributes one element holding the string.
func objectValue(t *testing.T, typ tftypes.Object, block map[string]any) tftypes.Value {
	t.Helper()
	set := map[string]tftypes.Value{}
	for name, v := range block {
		at, ok := typ.AttributeTypes[name]
		if !ok {
			t.Fatalf("no attribute %q in %s", name, typ)
		}
		switch v := v.(type) {
		case map[string]any:
			set[name] = objectValue(t, asObject(t, at), v)
		case string:
			switch at := at.(type) {
			case tftypes.Map:
				set[name] = tftypes.NewValue(at, map[string]tftypes.Value{"Authorization": tftypes.NewValue(tftypes.String, v)})
			case tftypes.List:
				set[name] = tftypes.NewValue(at, []tftypes.Value{tftypes.NewValue(tftypes.String, v)})
			default:
				set[name] = tftypes.NewValue(tftypes.String, v)
			}
		}
	}
	return nullsExcept(typ, set)
}

// TestAccProvider_credentialsNeverEchoed is the same check through the CLI,
// for the cases seen echoed: a Google credentials key given as base64, and
// URLs with user info, well formed or not. The values come from sensitive
// variables, as a user passes them, so the CLI's own source snippets cannot
// show them; whatever the CLI prints must not contain the marker.
func TestAccProvider_credentialsNeverEchoed(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte(`{"type":"service_account","private_key":"`)) + leakMarker
	cases := map[string]struct {
		block, value, want string
	}{
		"google credentials as base64": {
			block: `key_management_system = "google_secret_manager"
  google_secret_manager = { project_id = "p", credentials = var.secret }`,
			value: key, want: `google_secret_manager.credentials: not a JSON document`,
		},
		"custom url with user info": {
			block: `key_management_system = "custom"
  custom = { url = var.secret }`,
			value: "http://admin:" + leakMarker + "@127.0.0.1:1", want: `custom store at http://REDACTED@127.0.0.1:1`,
		},
		"vault address with user info, malformed": {
			block: `key_management_system = "hashicorp_vault"
  hashicorp_vault = { address = var.secret, token = "t" }`,
			value: "https://admin:" + leakMarker + "@bad host:8200", want: `is not a Vault URL`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			checked := false
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { testAccPreCheck(t) },
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				// The step must fail; its whole output is checked here.
				ErrorCheck: func(err error) error {
					checked = true
					t.Logf("the CLI said: %v", err)
					switch msg := err.Error(); {
					case leaks(msg):
						return fmt.Errorf("the CLI output quotes the secret: %s", msg)
					case !strings.Contains(msg, tc.want):
						return fmt.Errorf("want an error containing %q, got: %w", tc.want, err)
					}
					return nil
				},
				Steps: []resource.TestStep{{
					ConfigVariables: config.Variables{"secret": config.StringVariable(tc.value)},
					Config: `
variable "secret" {
  type      = string
  sensitive = true
}

provider "llmsecret" {
  ` + tc.block + `
  timeouts = { max_attempts = 1, per_call = "5s" }
}

data "llmsecret_secret" "test" {
  name = "LEAKTESTKEY"
}
`,
				}},
			})
			if !checked {
				t.Errorf("the configuration was accepted; want an error")
			}
		})
	}
}
