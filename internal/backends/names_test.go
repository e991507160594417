package backends_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/backendtest"
)

func TestValidateNameAllowed(t *testing.T) {
	for _, name := range []string{
		"a", "OPENAI_API_KEY", "a..b", "..a", "a..", "...", ".", "a/./b", "a?b=1", "a: b",
		"litellm/virtual-key-x", "a/b/c", "/leading", "trailing/", "a//b", "ключ", "🔑", "a b",
		"é", "日本", "a  b", "a: b: c", "naïve/键",
		strings.Repeat("x", 4096),
	} {
		if err := backends.ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q): got %v, want nil", name, err)
		}
	}
}

func TestValidateNameRefused(t *testing.T) {
	tests := []struct {
		name    string
		mention string
	}{
		{"", "empty"},
		{"..", `".."`},
		{"../a", `".."`},
		{"a/..", `".."`},
		{"a/../b", `".."`},
		{"/..", `".."`},
		{"../", `".."`},
		{"a\x00b", "U+0000"},
		{"a\x1fb", "U+001F"},
		{"\tx", "U+0009"},
		{"x\n", "U+000A"},
		{"a\rb", "U+000D"},
		{"a\x7fb", "U+007F"},
		{"a\u0080b", "U+0080"},
		{"a\u0085b", "U+0085"},
		{"a\u009fb", "U+009F"},
		{"a\u2028b", "U+2028"},
		{"a\u2029b", "U+2029"},
		// Invisible differences: white space at either end, Unicode
		// spaces other than U+0020 and format characters anywhere.
		{" a", "U+0020 at byte 0"},
		{"a ", "U+0020 at byte 1"},
		{"\u00a0a", "U+00A0 (at byte 0"},
		{"a\u00a0b", "U+00A0 (at byte 1, character 1)"},
		{"é\u00a0", "U+00A0 (at byte 2, character 1)"},
		{"a\u2003b", "U+2003"},
		{"a\u3000b", "U+3000"},
		{"a\u200bb", "U+200B (at byte 1"},
		{"a\u200cb", "U+200C"},
		{"a\u200db", "U+200D"},
		{"a\u2060b", "U+2060"},
		{"\ufeffOPENAI_API_KEY", "U+FEFF (at byte 0, character 0)"},
		{"OPENAI_API_KEY\ufeff", "U+FEFF (at byte 14, character 14)"},
		{"a\u00adb", "U+00AD"},
		{"a\u202eb", "U+202E"},
		{"日本\u200b", "U+200B (at byte 6, character 2)"},
		{"a\x85b", "UTF-8"}, // a raw C1 byte, not text
		{"\xff", "UTF-8"},
	}
	for _, tc := range tests {
		err := backends.ValidateName(tc.name)
		if got := backends.CodeOf(err); got != backends.InvalidArgument {
			t.Errorf("ValidateName(%q): got code %v, want InvalidArgument (err: %v)", tc.name, got, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("ValidateName(%q): got message %q, want it to mention %s", tc.name, err, tc.mention)
		}
		// A message never carries a raw control character.
		for _, r := range err.Error() {
			if r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 {
				t.Errorf("ValidateName(%q): message %q holds raw control character %U", tc.name, err, r)
			}
		}
	}
	for _, name := range backendtest.RefusedNames {
		if got := backends.CodeOf(backends.ValidateName(name)); got != backends.InvalidArgument {
			t.Errorf("ValidateName(%q) (suite list): got code %v, want InvalidArgument", name, got)
		}
	}
}

func TestValidateNameEveryControlRune(t *testing.T) {
	for r := rune(0); r <= 0xa0; r++ {
		name := "a" + string(r) + "b"
		refused := backends.ValidateName(name) != nil
		want := r <= 0x1f || r >= 0x7f && r <= 0x9f || r == 0xa0 // NO-BREAK SPACE: an invisible difference
		if refused != want {
			t.Errorf("ValidateName with %U: got refused=%t, want %t", r, refused, want)
		}
	}
}

// TestValidateNameEveryInvisibleRune: inside a name, every Unicode format
// character (Cf) and every space but U+0020 (Zs) is refused, naming its code
// point; every other printable rune passes.
func TestValidateNameEveryInvisibleRune(t *testing.T) {
	for r := rune(0xa0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) || r == 0x2028 || r == 0x2029 {
			continue
		}
		name := "a" + string(r) + "b"
		err := backends.ValidateName(name)
		want := unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zs, r)
		if (err != nil) != want {
			t.Errorf("ValidateName with %U: got %v, want refused=%t", r, err, want)
			continue
		}
		if want && !strings.Contains(err.Error(), fmt.Sprintf("%U (at byte 1, character 1)", r)) {
			t.Errorf("ValidateName with %U: got %q, want it to name the code point and its position", r, err)
		}
	}
}

func TestQuoteName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"a\nb", `"a\nb"`},
		{"ключ", `"\u043a\u043b\u044e\u0447"`},
		{"a\u2028", `"a\u2028"`},
	}
	for _, tc := range tests {
		if got := backends.QuoteName(tc.in); got != tc.want {
			t.Errorf("QuoteName(%q): got %s, want %s", tc.in, got, tc.want)
		}
	}
	long := backends.QuoteName(strings.Repeat("x", 1000))
	if len(long) > 200 || !strings.Contains(long, "(1000 bytes)") {
		t.Errorf("QuoteName(1000 bytes): got %q, want a truncated name that gives the length", long)
	}
}

// storeRule is a store name rule like Azure's: letters, digits and '-'.
func storeRule(kindInMessage bool, code backends.Code) func(string) error {
	return func(name string) error {
		for _, r := range name {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", r) {
				msg := "names allow only letters, digits and '-'"
				if kindInMessage {
					msg = backendtest.MemStoreKind + " " + msg
				}
				if code == backends.Unknown {
					return errors.New(msg)
				}
				return backends.Errorf(code, "%s", msg)
			}
		}
		return nil
	}
}

func TestStoreValidateName(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		kind bool
		code backends.Code
	}{
		{"PlainError", false, backends.Unknown},
		{"PlainErrorNamingStore", true, backends.Unknown},
		{"CodedError", true, backends.InvalidArgument},
		{"WrongCode", true, backends.Unavailable},
		{"WrongCodeWithoutStore", false, backends.FailedPrecondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := backendtest.NewMemStore(backendtest.AllCaps)
			m.SetNameValidator(storeRule(tc.kind, tc.code))
			s, _ := newStore(t, m, nil)
			for _, op := range []struct {
				what string
				err  func() error
			}{
				{"ValidateName", func() error { return s.ValidateName("a_b") }},
				{"Write", func() error {
					_, err := s.Write(ctx, backends.WriteRequest{Name: "a_b", Value: []byte("v")})
					return err
				}},
				{"Lookup", func() error { _, err := s.ReadAsGateway(ctx, "a_b", "a_b"); return err }},
				{"Rotate", func() error {
					_, err := s.Rotate(ctx, "old", backends.WriteRequest{Name: "a_b", Value: []byte("v")}, backends.DeleteForever)
					return err
				}},
			} {
				err := op.err()
				if got := backends.CodeOf(err); got != backends.InvalidArgument {
					t.Errorf("%s(a_b): got code %v, want InvalidArgument (err: %v)", op.what, got, err)
				}
				if err != nil && (!strings.Contains(err.Error(), backendtest.MemStoreKind) || !strings.Contains(err.Error(), "letters, digits")) {
					t.Errorf("%s(a_b): got message %q, want it to name the store and the rule", op.what, err)
				}
			}
			if err := s.ValidateName("a-b"); err != nil {
				t.Errorf("ValidateName(a-b): got %v, want nil", err)
			}
			if n := m.Calls(backendtest.MethodGet) + m.Calls(backendtest.MethodPut); n != 0 {
				t.Errorf("store calls for a refused name: got %d, want 0", n)
			}
		})
	}
}

func TestStoreValidateNameShared(t *testing.T) {
	// The shared rules come first, whatever the store's own rule says.
	m := backendtest.NewMemStore(backendtest.AllCaps)
	s, _ := newStore(t, m, nil)
	for _, name := range backendtest.RefusedNames {
		if got := backends.CodeOf(s.ValidateName(name)); got != backends.InvalidArgument {
			t.Errorf("Store.ValidateName(%q): got code %v, want InvalidArgument", name, got)
		}
	}
}

func TestPrimaryFieldNamesSkipStoreRule(t *testing.T) {
	ctx := context.Background()
	m := backendtest.NewMemStore(backendtest.AllCaps)
	m.SetNameValidator(storeRule(true, backends.Unknown))
	s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings.PrimarySecretName = "primary-secret" })
	// Field names are JSON keys: only the shared rules apply.
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "OPENAI_API_KEY", Value: []byte("v")}); err != nil {
		t.Errorf("Write of a field the store's own rule would refuse: got %v, want nil", err)
	}
	_, err := s.Write(ctx, backends.WriteRequest{Name: "a/../b", Value: []byte("v")})
	if got := backends.CodeOf(err); got != backends.InvalidArgument {
		t.Errorf("Write of a field with a .. segment: got code %v, want InvalidArgument", got)
	}
	// The primary secret's own name must pass the store's rule.
	_, err = backends.NewStore(m, &backends.StoreOptions{Settings: backends.Settings{PrimarySecretName: "litellm_primary"}})
	if got := backends.CodeOf(err); got != backends.InvalidArgument {
		t.Errorf("NewStore with a primary name the store refuses: got code %v, want InvalidArgument (err: %v)", got, err)
	}
	if err != nil && !strings.Contains(err.Error(), "primary_secret_name") {
		t.Errorf("NewStore with a primary name the store refuses: got message %q, want it to name primary_secret_name", err)
	}
	_, err = backends.NewStore(m, &backends.StoreOptions{Settings: backends.Settings{PrimarySecretName: "../x"}})
	if got := backends.CodeOf(err); got != backends.InvalidArgument {
		t.Errorf("NewStore with primary name ../x: got code %v, want InvalidArgument (err: %v)", got, err)
	}
}

func TestEnvReadsSkipStoreRule(t *testing.T) {
	// A read served by the process environment is not bound by the store's
	// own name limits; the shared rules still apply.
	ctx := context.Background()
	env := envOf(map[string]string{"OPENAI_API_KEY": "from-env"})
	for _, tc := range []struct {
		name     string
		settings backends.Settings
	}{
		{"WriteOnly", backends.Settings{AccessMode: backends.WriteOnly}},
		{"NotHosted", backends.Settings{AccessMode: backends.ReadAndWrite, HostedKeys: []string{"other"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := backendtest.NewMemStore(backendtest.AllCaps)
			m.SetNameValidator(storeRule(true, backends.Unknown)) // refuses '_'
			s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.Settings = tc.settings; o.LookupEnv = env })
			sec, err := s.ReadAsGateway(ctx, "OPENAI_API_KEY", "OPENAI_API_KEY")
			if err != nil || string(sec.Value) != "from-env" {
				t.Errorf("Lookup from the environment of a name the store refuses: got (%v, %v), want from-env", sec, err)
			}
			got, err := s.ReadManyAsGateway(ctx, []string{"OPENAI_API_KEY"}, []string{"OPENAI_API_KEY"})
			if err != nil || string(got["OPENAI_API_KEY"].Value) != "from-env" {
				t.Errorf("ReadManyAsGateway from the environment of a name the store refuses: got (%v, %v), want from-env", got, err)
			}
			_, err = s.ReadAsGateway(ctx, "a/../b", "a/../b")
			wantCode(t, "Lookup from the environment of a name the shared rules refuse", err, backends.InvalidArgument)
		})
	}
	// Reads that go to the store still apply its rule.
	m := backendtest.NewMemStore(backendtest.AllCaps)
	m.SetNameValidator(storeRule(true, backends.Unknown))
	s, _ := newStore(t, m, func(o *backends.StoreOptions) { o.LookupEnv = env })
	_, err := s.ReadAsGateway(ctx, "OPENAI_API_KEY", "OPENAI_API_KEY")
	wantCode(t, "Lookup from the store of a name the store refuses", err, backends.InvalidArgument)
	if n := m.Calls(backendtest.MethodGet); n != 0 {
		t.Errorf("Get calls: got %d, want 0", n)
	}
}

// TestFullNameEmptyVirtualKeyPrefix: prefix_for_stored_virtual_keys = ""
// joins as LiteLLM does ("/" + name); a store that refuses the result
// refuses it in FullName (at plan), saying the prefix produced it. Names that
// are not virtual keys stay bare.
func TestFullNameEmptyVirtualKeyPrefix(t *testing.T) {
	empty := ""
	settings := func(o *backends.StoreOptions) {
		o.Settings.StoreVirtualKeys = true
		o.Settings.PrefixForStoredVirtualKeys = &empty
	}
	open, _ := newStore(t, backendtest.NewMemStore(backendtest.AllCaps), settings)
	if full, err := open.FullName("KEY", nil, true); err != nil || full != "/KEY" {
		t.Errorf("FullName(KEY, virtual_key) with an empty prefix: got (%q, %v), want /KEY", full, err)
	}
	m := backendtest.NewMemStore(backendtest.AllCaps)
	m.SetNameValidator(func(name string) error {
		if strings.HasPrefix(name, "/") {
			return fmt.Errorf("%s names must not start with %q", backendtest.MemStoreKind, "/")
		}
		return nil
	})
	strict, _ := newStore(t, m, settings)
	_, err := strict.FullName("KEY", nil, true)
	wantCode(t, "FullName of a virtual key under an empty prefix the store refuses", err, backends.InvalidArgument)
	wantContains(t, "FullName of a virtual key under an empty prefix the store refuses", err,
		"must not start with", "prefix_for_stored_virtual_keys \"\"", "virtual_key")
	if full, err := strict.FullName("KEY", nil, false); err != nil || full != "KEY" {
		t.Errorf("FullName(KEY) of a plain name with an empty prefix: got (%q, %v), want KEY", full, err)
	}
}
