package vault_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault"
)

// TestEnvFallbacks: explicit attribute, then LiteLLM's HCP_VAULT_*, then
// Vault's VAULT_*, then the default.
func TestEnvFallbacks(t *testing.T) {
	type field struct {
		name string
		set  func(o *vault.Options, v string)
		get  func(r vault.Resolved) string
		vars []string // in priority order
		def  string
	}
	fields := []field{
		{"address", func(o *vault.Options, v string) { o.Address = v }, func(r vault.Resolved) string { return r.Address },
			[]string{"HCP_VAULT_ADDR", "VAULT_ADDR"}, "http://127.0.0.1:8200"},
		{"token", func(o *vault.Options, v string) { o.Token = v }, func(r vault.Resolved) string { return r.Token },
			[]string{"HCP_VAULT_TOKEN", "VAULT_TOKEN"}, ""},
		{"namespace", func(o *vault.Options, v string) { o.Namespace = v }, func(r vault.Resolved) string { return r.Namespace },
			[]string{"HCP_VAULT_NAMESPACE"}, ""},
		{"login_namespace", func(o *vault.Options, v string) {
			if v != "" {
				o.LoginNamespace = &v
			}
		}, func(r vault.Resolved) string { return r.LoginNamespace },
			[]string{"HCP_VAULT_LOGIN_NAMESPACE"}, ""},
		{"secret_namespace", func(o *vault.Options, v string) {
			if v != "" {
				o.SecretNamespace = &v
			}
		}, func(r vault.Resolved) string { return r.SecretNamespace },
			[]string{"HCP_VAULT_SECRET_NAMESPACE"}, ""},
		{"mount", func(o *vault.Options, v string) { o.Mount = v }, func(r vault.Resolved) string { return r.Mount },
			[]string{"HCP_VAULT_MOUNT_NAME"}, "secret"},
		{"path_prefix", func(o *vault.Options, v string) { o.PathPrefix = v }, func(r vault.Resolved) string { return r.PathPrefix },
			[]string{"HCP_VAULT_PATH_PREFIX"}, ""},
		{"data_key", func(o *vault.Options, v string) { o.DataKey = v }, func(r vault.Resolved) string { return r.DataKey },
			nil, "key"},
		{"approle.role_id", func(o *vault.Options, v string) { o.AppRole.RoleID = v }, func(r vault.Resolved) string { return r.AppRole.RoleID },
			[]string{"HCP_VAULT_APPROLE_ROLE_ID"}, ""},
		{"approle.secret_id", func(o *vault.Options, v string) { o.AppRole.SecretID = v }, func(r vault.Resolved) string { return r.AppRole.SecretID },
			[]string{"HCP_VAULT_APPROLE_SECRET_ID"}, ""},
		{"approle.mount_path", func(o *vault.Options, v string) { o.AppRole.MountPath = v }, func(r vault.Resolved) string { return r.AppRole.MountPath },
			[]string{"HCP_VAULT_APPROLE_MOUNT_PATH"}, "approle"},
		{"tls.ca_cert_file", func(o *vault.Options, v string) { o.TLS.CACertFile = v }, func(r vault.Resolved) string { return r.CACertFile },
			[]string{"VAULT_CACERT"}, ""},
		{"tls.client_cert_file", func(o *vault.Options, v string) { o.TLS.ClientCertFile = v }, func(r vault.Resolved) string { return r.ClientCertFile },
			[]string{"HCP_VAULT_CLIENT_CERT"}, ""},
		{"tls.client_key_file", func(o *vault.Options, v string) { o.TLS.ClientKeyFile = v }, func(r vault.Resolved) string { return r.ClientKeyFile },
			[]string{"HCP_VAULT_CLIENT_KEY"}, ""},
		{"tls.cert_role", func(o *vault.Options, v string) { o.TLS.CertRole = v }, func(r vault.Resolved) string { return r.CertRole },
			[]string{"HCP_VAULT_CERT_ROLE"}, ""},
	}
	// Values that pass the checks of each field.
	val := func(f field, src string) string {
		switch f.name {
		case "address":
			return "https://" + strings.ToLower(strings.ReplaceAll(src, "_", "-")) + ".example:8200"
		case "approle.role_id", "approle.secret_id":
			return src // approle needs both: the base env sets the other one
		}
		return "v-" + src
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			// A base that always has credentials and a pair for the
			// half-set auth fields.
			base := map[string]string{"HCP_VAULT_TOKEN": "base-token"}
			switch f.name {
			case "approle.role_id":
				base["HCP_VAULT_APPROLE_SECRET_ID"] = "sid"
			case "approle.secret_id":
				base["HCP_VAULT_APPROLE_ROLE_ID"] = "rid"
			case "tls.client_cert_file":
				base["HCP_VAULT_CLIENT_KEY"] = "key.pem"
			case "tls.client_key_file":
				base["HCP_VAULT_CLIENT_CERT"] = "cert.pem"
			}
			resolve := func(explicit string, env map[string]string) vault.Resolved {
				t.Helper()
				all := map[string]string{}
				for k, v := range base {
					all[k] = v
				}
				for k, v := range env {
					all[k] = v
				}
				if f.name == "token" {
					delete(all, "HCP_VAULT_TOKEN")
					for k, v := range env {
						all[k] = v
					}
				}
				o := &vault.Options{LookupEnv: envOf(all)}
				f.set(o, explicit)
				r, err := o.Resolve()
				if err != nil {
					t.Fatalf("Resolve(explicit %q, env %v): %v", explicit, env, err)
				}
				return r
			}
			// Explicit wins over every variable.
			env := map[string]string{}
			for _, v := range f.vars {
				env[v] = val(f, v)
			}
			if got, want := f.get(resolve(val(f, "explicit"), env)), val(f, "explicit"); got != want {
				t.Errorf("explicit over %v: got %q, want %q", f.vars, got, want)
			}
			// Each variable wins over the ones after it.
			for i, v := range f.vars {
				env := map[string]string{}
				for _, later := range f.vars[i:] {
					env[later] = val(f, later)
				}
				if got, want := f.get(resolve("", env)), val(f, v); got != want {
					t.Errorf("%s over %v: got %q, want %q", v, f.vars[i+1:], got, want)
				}
				// An empty variable counts as unset.
				env[v] = ""
				if i+1 < len(f.vars) {
					if got, want := f.get(resolve("", env)), val(f, f.vars[i+1]); got != want {
						t.Errorf("%s empty: got %q, want %q from %s", v, got, want, f.vars[i+1])
					}
				}
			}
			if f.def == "" {
				return // nothing to check; credentials and half pairs have none
			}
			if got := f.get(resolve("", nil)); got != f.def {
				t.Errorf("default: got %q, want %q", got, f.def)
			}
		})
	}
}

// TestNamespaceFallbacks: namespaces resolve as LiteLLM's reader resolves
// them. HCP_VAULT_NAMESPACE (or namespace) is the default of the login and
// secret namespaces; HCP_VAULT_LOGIN_NAMESPACE and HCP_VAULT_SECRET_NAMESPACE
// replace it whenever they are set, an empty one meaning the root namespace;
// Vault's own VAULT_NAMESPACE is ignored, so a stray one cannot send writes
// where LiteLLM does not read; white space, then "/", is trimmed from the
// ends.
func TestNamespaceFallbacks(t *testing.T) {
	empty, admin, team := "", "admin", " /admin/team/ "
	cases := []struct {
		opts                vault.Options
		env                 map[string]string
		wantLogin, wantSecr string
	}{
		{vault.Options{}, nil, "", ""},
		{vault.Options{Namespace: "admin/"}, nil, "admin", "admin"},
		{vault.Options{Namespace: " /admin/ "}, nil, "admin", "admin"},
		{vault.Options{}, map[string]string{"VAULT_NAMESPACE": "vns"}, "", ""},
		{vault.Options{}, map[string]string{"HCP_VAULT_NAMESPACE": "hns", "VAULT_NAMESPACE": "vns"}, "hns", "hns"},
		{vault.Options{Namespace: "admin"}, map[string]string{"HCP_VAULT_LOGIN_NAMESPACE": "login"}, "login", "admin"},
		{vault.Options{Namespace: "admin"}, map[string]string{"HCP_VAULT_SECRET_NAMESPACE": "team"}, "admin", "team"},
		{vault.Options{Namespace: "admin", LoginNamespace: &admin, SecretNamespace: &team}, map[string]string{"HCP_VAULT_LOGIN_NAMESPACE": "x", "HCP_VAULT_SECRET_NAMESPACE": "y"}, "admin", "admin/team"},
		// Set but empty: the root namespace, not the default.
		{vault.Options{}, map[string]string{"HCP_VAULT_NAMESPACE": "admin", "HCP_VAULT_SECRET_NAMESPACE": ""}, "admin", ""},
		{vault.Options{}, map[string]string{"HCP_VAULT_NAMESPACE": "admin", "HCP_VAULT_LOGIN_NAMESPACE": ""}, "", "admin"},
		{vault.Options{Namespace: "admin", SecretNamespace: &empty}, map[string]string{"HCP_VAULT_SECRET_NAMESPACE": "y"}, "admin", ""},
		{vault.Options{}, map[string]string{"HCP_VAULT_NAMESPACE": "admin", "HCP_VAULT_SECRET_NAMESPACE": " / "}, "admin", ""},
	}
	for i, tc := range cases {
		env := map[string]string{"VAULT_TOKEN": "t"}
		for k, v := range tc.env {
			env[k] = v
		}
		tc.opts.LookupEnv = envOf(env)
		r, err := tc.opts.Resolve()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if r.LoginNamespace != tc.wantLogin || r.SecretNamespace != tc.wantSecr {
			t.Errorf("case %d (%+v, env %v): got login %q secret %q, want %q and %q", i, tc.opts, tc.env, r.LoginNamespace, r.SecretNamespace, tc.wantLogin, tc.wantSecr)
		}
	}
}

// TestPathTrimming: mount and path_prefix are trimmed as LiteLLM's
// _sanitize_path_component trims them (Python's strip(), then strip("/")),
// and a mount left empty is "secret", LiteLLM's default.
func TestPathTrimming(t *testing.T) {
	cases := []struct {
		mount, prefix, env    string
		wantMount, wantPrefix string
	}{
		{" kv ", " app ", "", "kv", "app"},
		{" /kv/ ", "\t/team/app/\n", "", "kv", "team/app"},
		{"/", " / ", "", "secret", ""},
		{"", "", " \x1f/kv2/ ", "kv2", ""},
	}
	for _, tc := range cases {
		o := vault.Options{Token: "t", Mount: tc.mount, PathPrefix: tc.prefix, LookupEnv: envOf(map[string]string{"HCP_VAULT_MOUNT_NAME": tc.env})}
		r, err := o.Resolve()
		if err != nil {
			t.Fatalf("mount %q prefix %q env %q: %v", tc.mount, tc.prefix, tc.env, err)
		}
		if r.Mount != tc.wantMount || r.PathPrefix != tc.wantPrefix {
			t.Errorf("mount %q prefix %q (HCP_VAULT_MOUNT_NAME %q): got mount %q prefix %q, want %q and %q", tc.mount, tc.prefix, tc.env, r.Mount, r.PathPrefix, tc.wantMount, tc.wantPrefix)
		}
	}
}

func TestSkipVerifyFallback(t *testing.T) {
	f, tr := false, true
	cases := []struct {
		explicit *bool
		env      string
		want     bool
	}{
		{nil, "", false},
		{nil, "true", true},
		{nil, "1", true},
		{&f, "true", false},
		{&tr, "false", true},
	}
	for _, tc := range cases {
		r, err := (&vault.Options{Token: "t", TLS: vault.TLSOptions{SkipVerify: tc.explicit}, LookupEnv: envOf(map[string]string{"VAULT_SKIP_VERIFY": tc.env})}).Resolve()
		if err != nil || r.SkipVerify != tc.want {
			t.Errorf("skip_verify %v, VAULT_SKIP_VERIFY=%q: got %t, %v; want %t", tc.explicit, tc.env, r.SkipVerify, err, tc.want)
		}
	}
	_, err := (&vault.Options{Token: "t", LookupEnv: envOf(map[string]string{"VAULT_SKIP_VERIFY": "maybe"})}).Resolve()
	wantCode(t, "VAULT_SKIP_VERIFY=maybe", err, backends.InvalidArgument)
	wantContains(t, "VAULT_SKIP_VERIFY=maybe", err, "VAULT_SKIP_VERIFY", "tls.skip_verify")
}

func TestAuthMethodChoice(t *testing.T) {
	cases := []struct {
		label string
		env   map[string]string
		want  vault.AuthMethod
	}{
		{"Token", map[string]string{"VAULT_TOKEN": "t"}, vault.AuthToken},
		{"CertOverToken", map[string]string{"VAULT_TOKEN": "t", "HCP_VAULT_CLIENT_CERT": "c", "HCP_VAULT_CLIENT_KEY": "k"}, vault.AuthCert},
		{"AppRoleOverAll", map[string]string{"VAULT_TOKEN": "t", "HCP_VAULT_CLIENT_CERT": "c", "HCP_VAULT_CLIENT_KEY": "k", "HCP_VAULT_APPROLE_ROLE_ID": "r", "HCP_VAULT_APPROLE_SECRET_ID": "s"}, vault.AuthAppRole},
	}
	for _, tc := range cases {
		r, err := (&vault.Options{LookupEnv: envOf(tc.env)}).Resolve()
		if err != nil || r.Method != tc.want {
			t.Errorf("%s: got method %q, %v; want %q", tc.label, r.Method, err, tc.want)
		}
	}
}

// TestConfigErrors: a missing or bad value names the attribute and the
// variables that could supply it.
func TestConfigErrors(t *testing.T) {
	cases := []struct {
		label string
		opts  vault.Options
		env   map[string]string
		want  []string
	}{
		{"NoCredentials", vault.Options{}, nil, []string{"hashicorp_vault.token", "HCP_VAULT_TOKEN", "VAULT_TOKEN", "approle.role_id", "HCP_VAULT_APPROLE_ROLE_ID", "tls.client_cert_file", "HCP_VAULT_CLIENT_CERT"}},
		{"RoleIDWithoutSecretID", vault.Options{Token: "t"}, map[string]string{"HCP_VAULT_APPROLE_ROLE_ID": "r"}, []string{"approle.secret_id is required", "HCP_VAULT_APPROLE_SECRET_ID", "from HCP_VAULT_APPROLE_ROLE_ID"}},
		{"SecretIDWithoutRoleID", vault.Options{AppRole: vault.AppRoleOptions{SecretID: "s"}}, nil, []string{"approle.role_id is required", "HCP_VAULT_APPROLE_ROLE_ID"}},
		{"CertWithoutKey", vault.Options{TLS: vault.TLSOptions{ClientCertFile: "c.pem"}}, nil, []string{"tls.client_key_file is required", "HCP_VAULT_CLIENT_KEY"}},
		{"KeyWithoutCert", vault.Options{}, map[string]string{"HCP_VAULT_CLIENT_KEY": "k.pem"}, []string{"tls.client_cert_file is required", "HCP_VAULT_CLIENT_CERT"}},
		{"CertRoleAlone", vault.Options{TLS: vault.TLSOptions{CertRole: "r"}}, nil, []string{"tls.cert_role", "client_cert_file"}},
		{"BadAddress", vault.Options{Token: "t"}, map[string]string{"HCP_VAULT_ADDR": "127.0.0.1:8200"}, []string{"hashicorp_vault.address (from HCP_VAULT_ADDR)", "not a Vault URL"}},
		{"AddressWithQuery", vault.Options{Token: "t", Address: "http://v:8200/?x=1"}, nil, []string{"hashicorp_vault.address", "query"}},
		{"MountQuery", vault.Options{Token: "t", Mount: "kv?x"}, nil, []string{"hashicorp_vault.mount", "?"}},
		{"PrefixPercent", vault.Options{Token: "t"}, map[string]string{"HCP_VAULT_PATH_PREFIX": "a%2Fb"}, []string{"hashicorp_vault.path_prefix (from HCP_VAULT_PATH_PREFIX)", "%"}},
		{"MountDoubleSlash", vault.Options{Token: "t"}, map[string]string{"HCP_VAULT_MOUNT_NAME": "a//b"}, []string{"hashicorp_vault.mount (from HCP_VAULT_MOUNT_NAME)", "//"}},
		{"PrefixDotDot", vault.Options{Token: "t", PathPrefix: "a/../b"}, nil, []string{"hashicorp_vault.path_prefix", ".."}},
		{"BlankDataKey", vault.Options{Token: "t", DataKey: "  "}, nil, []string{"hashicorp_vault.data_key"}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			tc.opts.LookupEnv = envOf(tc.env)
			_, err := tc.opts.Resolve()
			wantCode(t, "Resolve", err, backends.InvalidArgument)
			wantContains(t, "Resolve", err, tc.want...)
			_, err = vault.New(context.Background(), &tc.opts)
			wantCode(t, "New", err, backends.InvalidArgument)
		})
	}
}

func TestTLSFileErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		label string
		opts  vault.Options
		env   map[string]string
		want  []string
	}{
		{"MissingCA", vault.Options{Token: "t"}, map[string]string{"VAULT_CACERT": filepath.Join(dir, "missing.pem")}, []string{"hashicorp_vault.tls.ca_cert_file (from VAULT_CACERT)", "missing.pem"}},
		{"CANotPEM", vault.Options{Token: "t", TLS: vault.TLSOptions{CACertFile: notPEM}}, nil, []string{"hashicorp_vault.tls.ca_cert_file", "no PEM certificate"}},
		{"BadClientCert", vault.Options{TLS: vault.TLSOptions{ClientCertFile: notPEM, ClientKeyFile: notPEM}}, nil, []string{"tls.client_cert_file", "tls.client_key_file", "client certificate"}},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			tc.opts.LookupEnv = envOf(tc.env)
			_, err := vault.New(context.Background(), &tc.opts)
			wantCode(t, "New", err, backends.InvalidArgument)
			wantContains(t, "New", err, tc.want...)
		})
	}
}

func TestResolvedRedactsCredentials(t *testing.T) {
	r, err := (&vault.Options{Token: "hvs.SECRET-token", AppRole: vault.AppRoleOptions{RoleID: "role", SecretID: "SECRET-sid"}, LookupEnv: noEnv}).Resolve()
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, r); strings.Contains(s, "SECRET") {
			t.Errorf("fmt %s of Resolved: %q contains a credential", verb, s)
		}
	}
}

// TestTokenFile: ~/.vault-token, which vault login writes, is the token's
// last fallback, as the Vault CLI reads it (white space trimmed): after the
// block's token, HCP_VAULT_TOKEN and VAULT_TOKEN, and never over AppRole or
// certificate login. HOME points at a directory of the test's own.
func TestTokenFile(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte("hvs.from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withHome := func(env map[string]string) map[string]string {
		env["HOME"] = home
		return env
	}
	cases := []struct {
		label      string
		opts       vault.Options
		env        map[string]string
		wantToken  string
		wantMethod vault.AuthMethod
		wantSource string
	}{
		{"file alone", vault.Options{}, withHome(map[string]string{}), "hvs.from-file", vault.AuthToken, "~/.vault-token"},
		{"VAULT_TOKEN over file", vault.Options{}, withHome(map[string]string{"VAULT_TOKEN": "v"}), "v", vault.AuthToken, "VAULT_TOKEN"},
		{"HCP_VAULT_TOKEN over file", vault.Options{}, withHome(map[string]string{"HCP_VAULT_TOKEN": "h"}), "h", vault.AuthToken, "HCP_VAULT_TOKEN"},
		{"block token over file", vault.Options{Token: "b"}, withHome(map[string]string{}), "b", vault.AuthToken, "hashicorp_vault.token"},
		{"AppRole: file not read", vault.Options{}, withHome(map[string]string{"HCP_VAULT_APPROLE_ROLE_ID": "r", "HCP_VAULT_APPROLE_SECRET_ID": "s"}), "", vault.AuthAppRole, ""},
	}
	for _, tc := range cases {
		tc.opts.LookupEnv = envOf(tc.env)
		r, err := tc.opts.Resolve()
		if err != nil {
			t.Errorf("%s: %v", tc.label, err)
			continue
		}
		if r.Token != tc.wantToken || r.Method != tc.wantMethod || r.Sources["token"] != tc.wantSource {
			t.Errorf("%s: got token %q (from %q), method %q; want %q (from %q), %q", tc.label, r.Token, r.Sources["token"], r.Method, tc.wantToken, tc.wantSource, tc.wantMethod)
		}
	}

	t.Run("process HOME", func(t *testing.T) {
		for _, v := range []string{"HCP_VAULT_TOKEN", "VAULT_TOKEN", "HCP_VAULT_APPROLE_ROLE_ID", "HCP_VAULT_APPROLE_SECRET_ID", "HCP_VAULT_CLIENT_CERT", "HCP_VAULT_CLIENT_KEY"} {
			t.Setenv(v, "")
		}
		t.Setenv("HOME", home)
		r, err := (&vault.Options{}).Resolve()
		if err != nil || r.Token != "hvs.from-file" {
			t.Fatalf("with HOME=%s: got token %q, %v; want the file's", home, r.Token, err)
		}
	})

	t.Run("no file: the error names it", func(t *testing.T) {
		_, err := (&vault.Options{LookupEnv: envOf(map[string]string{"HOME": t.TempDir()})}).Resolve()
		if err == nil || !strings.Contains(err.Error(), "~/.vault-token") || !strings.Contains(err.Error(), "VAULT_TOKEN") {
			t.Fatalf("got %v, want the no-credentials error naming VAULT_TOKEN and ~/.vault-token", err)
		}
	})

	t.Run("an empty file is no token", func(t *testing.T) {
		empty := t.TempDir()
		if err := os.WriteFile(filepath.Join(empty, ".vault-token"), []byte(" \n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := (&vault.Options{LookupEnv: envOf(map[string]string{"HOME": empty})}).Resolve(); err == nil {
			t.Fatal("an empty ~/.vault-token resolved to credentials")
		}
	})
}
