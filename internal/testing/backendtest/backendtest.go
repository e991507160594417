// Package backendtest is the conformance suite every store runs, in one line:
//
//	func TestConformance(t *testing.T) { backendtest.RunConformanceTests(t, newHarness) }
//
// Each behaviour of DESIGN.md's Settings, Objects and Names that a store can show is one
// subtest. Subtests go through *backends.Store, as provider code does, so they
// check the store and the layer together, and they assert error codes, never
// only err != nil. Each subtest makes its own harness, uses names with a
// random part (stores with shared state work) and deletes what it wrote.
//
// A store without a capability (Caps) skips the subtests that need it, saying
// which; subtests that can check the store refuses the operation properly do
// so instead of skipping.
//
// The package also holds MemStore, an in-memory store for unit tests.
package backendtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Harness makes backends for the suite.
type Harness interface {
	// MakeBackend returns a Backend scoped to a clean test namespace. The
	// suite closes it.
	MakeBackend(ctx context.Context, t *testing.T) (backends.Backend, error)
	// Close releases what the harness holds (servers, temp dirs).
	Close()
}

// HarnessMaker makes a harness for one subtest.
type HarnessMaker func(ctx context.Context, t *testing.T) (Harness, error)

// RunConformanceTests runs the suite against the store newHarness makes.
func RunConformanceTests(t *testing.T, newHarness HarnessMaker) {
	tests := []struct {
		name string
		fn   func(*testing.T, HarnessMaker)
	}{
		// Reading and writing.
		{"GetMissing", testGetMissing},
		{"WriteCapability", testWriteCapability},
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"VersionStable", testVersionStable},
		{"PutRepeatedAfterLostAnswer", testPutRepeated},
		// Deleting.
		{"Delete", testDelete},
		{"DeleteMissing", testDeleteMissing},
		{"SoftDeleteRecreate", testSoftDeleteRecreate},
		{"SoftDeleteThenDeleteForever", testSoftDeleteThenForever},
		// Names (DESIGN.md, Names).
		{"AllowedNames", testAllowedNames},
		{"RefusedNames", testRefusedNames},
		// Rotation (DESIGN.md, Objects).
		{"Rotate", testRotate},
		{"RotateReadBackFails", testRotateReadBackFails},
		{"RotateReadBackDiffers", testRotateReadBackDiffers},
		{"RotateWriteFails", testRotateWriteFails},
		// Concurrency.
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentPrimaryWriters", testConcurrentPrimaryWriters},
		// Settings (DESIGN.md, Settings).
		{"AccessModeReadOnly", testReadOnly},
		{"AccessModeWriteOnly", testWriteOnly},
		{"HostedKeys", testHostedKeys},
		{"Prefixes", testPrefixes},
		{"PrimaryLookup", testPrimaryLookup},
		{"PrimaryWriteDelete", testPrimaryWriteDelete},
		{"PrimaryMalformed", testPrimaryMalformed},
		{"Metadata", testMetadata},
		{"EnvFallback", testEnvFallback},
		// Store health and batch reads.
		{"Health", testHealth},
		{"LookupMany", testLookupMany},
		// Adoption.
		{"List", testList},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newHarness) })
	}
}

// fixture is one subtest's harness, backend and the names it wrote.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	h    Harness
	b    backends.Backend
	caps backends.Caps
	kind string
	uniq string

	mu      sync.Mutex
	written []string
}

func newFixture(t *testing.T, newHarness HarnessMaker) *fixture {
	t.Helper()
	ctx := context.Background()
	h, err := newHarness(ctx, t)
	if err != nil {
		t.Fatalf("making harness: %v", err)
	}
	b, err := h.MakeBackend(ctx, t)
	if err != nil {
		h.Close()
		t.Fatalf("making backend: %v", err)
	}
	return &fixture{
		t: t, ctx: ctx, h: h, b: b, caps: b.Caps(), kind: b.Kind(),
		uniq: fmt.Sprintf("bt%08x", rand.Uint32()),
	}
}

// Close deletes what the subtest wrote, then closes backend and harness.
func (f *fixture) Close() {
	if f.caps.Delete {
		for _, n := range f.written {
			_ = f.b.Delete(f.ctx, n, backends.DeleteForever)
		}
	}
	if err := f.b.Close(); err != nil {
		f.t.Errorf("closing backend: %v", err)
	}
	f.h.Close()
}

// name returns a unique name ending in s and remembers it for cleanup.
func (f *fixture) name(s string) string { return f.track(f.uniq + "-" + s) }

// track remembers a full name for cleanup.
func (f *fixture) track(full string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.written = append(f.written, full)
	return full
}

func (f *fixture) requireWrite() {
	f.t.Helper()
	if !f.caps.Write {
		f.t.Skipf("the %s store has no Write cap: nothing to read back", f.kind)
	}
}

func (f *fixture) requireDelete() {
	f.t.Helper()
	if !f.caps.Delete {
		f.t.Skipf("the %s store has no Delete cap", f.kind)
	}
}

// primaryRefused reports whether the store has no primary secret (LiteLLM
// reads one only from AWS Secrets Manager). Then it checks that NewStore
// refuses primary_secret_name with an error naming the setting, the store
// and where LiteLLM reads primary secrets, and the primary-secret test has
// nothing more to check.
func (f *fixture) primaryRefused() bool {
	f.t.Helper()
	if _, ok := f.b.(backends.Composite); ok {
		f.t.Skip("the backend under test is a primary secret's fields already (PrimarySecretHarness); a field holds no primary secret")
	}
	if f.caps.PrimarySecret {
		return false
	}
	_, err := backends.NewStore(f.b, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: f.uniq + "-primary"}})
	wantCode(f.t, "NewStore with primary_secret_name on a store LiteLLM reads name by name", err, backends.InvalidArgument)
	if err != nil {
		for _, want := range []string{"primary_secret_name", "LiteLLM reads primary secrets only from AWS Secrets Manager", "the " + f.kind + " store"} {
			if !strings.Contains(err.Error(), want) {
				f.t.Errorf("NewStore with primary_secret_name on %s: got %q, want it to contain %q", f.kind, err, want)
			}
		}
	}
	return true
}

func rw() backends.Settings { return backends.Settings{AccessMode: backends.ReadAndWrite} }

// noWait is the suite's StoreOptions.Wait: it never sleeps.
func noWait(ctx context.Context, _ time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	runtime.Gosched()
	return nil
}

// store returns a *Store over b (the fixture's backend when nil) with
// settings and an environment made of env only.
func (f *fixture) store(b backends.Backend, settings backends.Settings, env map[string]string) *backends.Store {
	f.t.Helper()
	if b == nil {
		b = f.b
	}
	s, err := backends.NewStore(b, &backends.StoreOptions{
		Settings: settings,
		LookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		Wait: noWait,
	})
	if err != nil {
		f.t.Fatalf("NewStore(%s): %v", settings.String(), err)
	}
	return s
}

func (f *fixture) mustWrite(s *backends.Store, name, value string) string {
	f.t.Helper()
	v, err := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte(value)})
	if err != nil {
		f.t.Fatalf("Write(%s): %v", name, err)
	}
	return v
}

// checkValue asserts that ReadStored(name) returns want.
func (f *fixture) checkValue(s *backends.Store, name, want string) *backends.Secret {
	f.t.Helper()
	sec, err := s.ReadStored(f.ctx, name)
	if err != nil {
		f.t.Errorf("ReadStored(%s): got error %v, want value %q", name, err, want)
		return nil
	}
	if string(sec.Value) != want {
		f.t.Errorf("ReadStored(%s).Value: got %q, want %q", name, sec.Value, want)
	}
	return sec
}

// checkLookup asserts that ReadAsGateway(name, fullName) returns want.
func (f *fixture) checkLookup(s *backends.Store, name, fullName, want string) {
	f.t.Helper()
	sec, err := s.ReadAsGateway(f.ctx, name, fullName)
	if err != nil {
		f.t.Errorf("ReadAsGateway(%s, %s): got error %v, want value %q", name, fullName, err, want)
		return
	}
	if string(sec.Value) != want {
		f.t.Errorf("ReadAsGateway(%s, %s).Value: got %q, want %q", name, fullName, sec.Value, want)
	}
}

func wantCode(t *testing.T, what string, err error, want backends.Code) {
	t.Helper()
	if got := backends.CodeOf(err); got != want {
		t.Errorf("%s: got code %v, want %v (err: %v)", what, got, want, err)
	}
}

// noLeak asserts that err's message contains none of the secret values.
func noLeak(t *testing.T, what string, err error, values ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, v := range values {
		if v != "" && strings.Contains(err.Error(), v) {
			t.Errorf("%s: error message %q contains a secret value", what, err)
		}
	}
}

// refusedByStore reports whether the store's own name rule refuses name, and
// then checks the refusal is InvalidArgument and names the store.
func (f *fixture) refusedByStore(s *backends.Store, name string) bool {
	f.t.Helper()
	err := s.ValidateName(name)
	if err == nil {
		return false
	}
	wantCode(f.t, fmt.Sprintf("ValidateName(%s)", backends.QuoteName(name)), err, backends.InvalidArgument)
	if !strings.Contains(err.Error(), f.kind) {
		f.t.Errorf("ValidateName(%s): got message %q, want it to name the store %q", backends.QuoteName(name), err, f.kind)
	}
	_, werr := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte("v")})
	wantCode(f.t, fmt.Sprintf("Write(%s) of a name the store refuses", backends.QuoteName(name)), werr, backends.InvalidArgument)
	return true
}

func testGetMissing(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	s := f.store(nil, rw(), nil)
	name := f.name("missing")

	_, err := s.ReadStored(f.ctx, name)
	wantCode(t, "ReadStored(missing)", err, backends.NotFound)
	_, err = s.ReadAsGateway(f.ctx, name, name)
	wantCode(t, "ReadAsGateway(missing)", err, backends.NotFound)
}

func testWriteCapability(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	s := f.store(nil, rw(), nil)
	name := f.name("cap")

	v, err := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte("value")})
	if !f.caps.Write {
		wantCode(t, "Write on a store without Write", err, backends.Unsupported)
		wantCode(t, "CheckWritable on a store without Write", s.CheckWritable(), backends.Unsupported)
		return
	}
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if v == "" {
		t.Errorf("Write: got empty version, want the store's version or a fingerprint")
	}
	if err := s.CheckWritable(); err != nil {
		t.Errorf("CheckWritable: got %v, want nil", err)
	}
}

// textValues are values every store must keep byte for byte.
var textValues = []struct{ name, value string }{
	{"Simple", "sk-test-0123456789abcdef"},
	{"OneChar", "x"},
	{"Unicode", "ключ-🔑-鍵-clé-ñ"},
	{"Newlines", "line one\nline two\n"},
	{"CRLF", "line one\r\nline two\r\n"},
	{"Quotes", `double " single ' back ` + "`" + ` end`},
	{"Equals", "a=b==c="},
	{"Hash", "#not-a-comment # nor this"},
	{"Dollar", "$HOME ${PATH} $(id) $$ $"},
	{"Backslashes", `C:\path\to\n \\ \" \`},
	{"LeadingTrailingSpaces", "  padded value  "},
	{"OnlySpaces", "   "},
	{"Tabs", "\tindented\t"},
	{"JSONObject", `{"key":"value","n":1,"nested":{"a":[1,2]}}`},
	{"JSONString", `"quoted"`},
	{"ExportLine", "export FOO=bar"},
	{"Long", strings.Repeat("0123456789abcdef", 256)},
}

// binaryValues are kept by stores with Caps.Binary.
var binaryValues = []struct{ name, value string }{
	{"NUL", "\x00a\x00b\x00"},
	{"InvalidUTF8", "\xff\xfe\xfd\x80\xc3"},
	{"AllBytes", func() string {
		b := make([]byte, 256)
		for i := range b {
			b[i] = byte(i)
		}
		return string(b)
	}()},
}

func testRoundTrip(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	s := f.store(nil, rw(), nil)

	values := slices.Clone(textValues)
	if f.caps.Binary {
		values = append(values, binaryValues...)
	}
	for _, tc := range values {
		t.Run(tc.name, func(t *testing.T) {
			name := f.name("rt-" + strings.ToLower(tc.name))
			v, err := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte(tc.value)})
			if err != nil {
				t.Fatalf("Write(%s): %v", name, err)
			}
			sec, err := s.ReadStored(f.ctx, name)
			if err != nil {
				t.Fatalf("ReadStored(%s): %v", name, err)
			}
			if !bytes.Equal(sec.Value, []byte(tc.value)) {
				t.Errorf("ReadStored(%s).Value: got %q, want %q", name, sec.Value, tc.value)
			}
			if sec.Version != v {
				t.Errorf("ReadStored(%s).Version: got %q, want %q (returned by Write)", name, sec.Version, v)
			}
			got, err := s.ReadAsGateway(f.ctx, name, name)
			if err != nil {
				t.Fatalf("ReadAsGateway(%s): %v", name, err)
			}
			if !bytes.Equal(got.Value, []byte(tc.value)) {
				t.Errorf("ReadAsGateway(%s).Value: got %q, want %q", name, got.Value, tc.value)
			}
		})
	}
}

func testOverwrite(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	s := f.store(nil, rw(), nil)
	name := f.name("overwrite")

	v1 := f.mustWrite(s, name, "first value")
	v2 := f.mustWrite(s, name, "second value")
	if v1 == v2 {
		t.Errorf("versions of two different values: got %q twice, want different versions", v1)
	}
	sec := f.checkValue(s, name, "second value")
	if sec != nil && sec.Version != v2 {
		t.Errorf("Find after overwrite: got version %q, want %q", sec.Version, v2)
	}
	v3 := f.mustWrite(s, name, "first value")
	if v3 == v2 {
		t.Errorf("version after writing the first value back: got %q, want a version other than %q", v3, v2)
	}
	f.checkValue(s, name, "first value")
}

func testVersionStable(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	s := f.store(nil, rw(), nil)
	name := f.name("stable")

	v := f.mustWrite(s, name, "stable value")
	for i := range 3 {
		sec, err := s.ReadStored(f.ctx, name)
		if err != nil {
			t.Fatalf("Find #%d: %v", i+1, err)
		}
		if sec.Version != v {
			t.Errorf("Find #%d: got version %q, want %q", i+1, sec.Version, v)
		}
	}
	// A second Store (a later terraform run) sees the same version.
	sec, err := f.store(nil, rw(), nil).ReadStored(f.ctx, name)
	if err != nil {
		t.Fatalf("Find from a new Store: %v", err)
	}
	if sec.Version != v {
		t.Errorf("Find from a new Store: got version %q, want %q", sec.Version, v)
	}
}

// testPutRepeated: the store applies a Put but the answer is lost; the layer
// retries it. The store must end up holding the value once, under one name.
func testPutRepeated(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	name := f.name("lost-answer")
	var mu sync.Mutex
	puts := 0
	fb := &faultyBackend{Backend: f.b}
	fb.put = func(ctx context.Context, req backends.WriteRequest) (string, error) {
		mu.Lock()
		puts++
		n := puts
		mu.Unlock()
		v, err := f.b.Put(ctx, req)
		if n == 1 && err == nil {
			return "", backends.Errorf(backends.Unavailable, "injected: connection reset after the store applied the write")
		}
		return v, err
	}
	s := f.store(fb, rw(), nil)

	v, err := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte("written twice")})
	if err != nil {
		t.Fatalf("Write with a lost first answer: got %v, want success after a retry", err)
	}
	if puts != 2 {
		t.Errorf("Put calls: got %d, want 2 (one lost answer, one retry)", puts)
	}
	sec := f.checkValue(f.store(nil, rw(), nil), name, "written twice")
	if sec != nil && sec.Version != v {
		t.Errorf("Find after a repeated Put: got version %q, want %q (returned by Write)", sec.Version, v)
	}
}

func testDelete(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	s := f.store(nil, rw(), nil)
	name := f.name("delete")
	f.mustWrite(s, name, "to be deleted")

	err := s.Delete(f.ctx, name, backends.DeleteForever)
	if !f.caps.Delete {
		wantCode(t, "Delete on a store without Delete", err, backends.Unsupported)
		f.checkValue(s, name, "to be deleted")
		return
	}
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err = s.ReadStored(f.ctx, name)
	wantCode(t, "Find after Delete", err, backends.NotFound)
	_, err = s.ReadAsGateway(f.ctx, name, name)
	wantCode(t, "Lookup after Delete", err, backends.NotFound)
}

func testDeleteMissing(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireDelete()
	s := f.store(nil, rw(), nil)
	name := f.name("never-written")

	if err := s.Delete(f.ctx, name, backends.DeleteForever); err != nil {
		t.Errorf("Delete(missing, DeleteForever): got %v, want nil", err)
	}
	if f.caps.SoftDelete {
		if err := s.Delete(f.ctx, name, backends.DeleteSoft); err != nil {
			t.Errorf("Delete(missing, DeleteSoft): got %v, want nil", err)
		}
	}
}

func testSoftDeleteRecreate(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	f.requireDelete()
	s := f.store(nil, rw(), nil)
	name := f.name("soft")
	f.mustWrite(s, name, "before soft delete")

	err := s.Delete(f.ctx, name, backends.DeleteSoft)
	if !f.caps.SoftDelete {
		wantCode(t, "Delete(DeleteSoft) on a store without SoftDelete", err, backends.Unsupported)
		f.checkValue(s, name, "before soft delete")
		return
	}
	if err != nil {
		t.Fatalf("Delete(DeleteSoft): %v", err)
	}
	_, err = s.ReadStored(f.ctx, name)
	wantCode(t, "Find after soft delete", err, backends.NotFound)
	_, err = s.ReadAsGateway(f.ctx, name, name)
	wantCode(t, "Lookup after soft delete", err, backends.NotFound)

	// DESIGN.md, Objects: creating a name that exists only as soft-deleted recovers or
	// overwrites it, never a hard failure.
	v, err := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte("after recreate")})
	if err != nil {
		t.Fatalf("Write of a soft-deleted name: got %v, want success", err)
	}
	sec := f.checkValue(s, name, "after recreate")
	if sec != nil && sec.Version != v {
		t.Errorf("Find after recreate: got version %q, want %q", sec.Version, v)
	}

	if err := s.Delete(f.ctx, name, backends.DeleteForever); err != nil {
		t.Fatalf("Delete(DeleteForever) after recreate: %v", err)
	}
	_, err = s.ReadStored(f.ctx, name)
	wantCode(t, "Find after hard delete", err, backends.NotFound)
}

func testSoftDeleteThenForever(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	f.requireDelete()
	s := f.store(nil, rw(), nil)
	name := f.name("soft-purge")
	f.mustWrite(s, name, "soon purged")
	if !f.caps.SoftDelete {
		// Without soft delete, DeleteSoft is refused and loses nothing.
		err := s.Delete(f.ctx, name, backends.DeleteSoft)
		wantCode(t, "Delete(DeleteSoft) on a store without soft delete", err, backends.Unsupported)
		f.checkValue(s, name, "soon purged")
		if err := s.Delete(f.ctx, name, backends.DeleteForever); err != nil {
			t.Fatalf("Delete(DeleteForever): %v", err)
		}
		return
	}

	if err := s.Delete(f.ctx, name, backends.DeleteSoft); err != nil {
		t.Fatalf("Delete(DeleteSoft): %v", err)
	}
	// Destroying a soft-deleted secret purges it (azure purge, aws force).
	if err := s.Delete(f.ctx, name, backends.DeleteForever); err != nil {
		t.Fatalf("Delete(DeleteForever) of a soft-deleted secret: got %v, want nil", err)
	}
	_, err := s.ReadStored(f.ctx, name)
	wantCode(t, "Find after purge", err, backends.NotFound)
	f.mustWrite(s, name, "written after purge")
	f.checkValue(s, name, "written after purge")
}

// allowedNames are accepted by the shared rules (DESIGN.md, Names). Each builds a
// unique name that keeps the shape under test.
var allowedNames = []struct {
	label string
	build func(uniq string) string
}{
	{"DotsInside", func(u string) string { return "a..b-" + u }},
	{"DotsLeading", func(u string) string { return "..a-" + u }},
	{"DotsTrailing", func(u string) string { return u + "-a.." }},
	{"QueryLike", func(u string) string { return u + "-a?b=1" }},
	{"ColonSpace", func(u string) string { return u + "-a: b" }},
	{"VirtualKeyPath", func(u string) string { return "litellm/virtual-key-" + u }},
}

func testAllowedNames(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	s := f.store(nil, rw(), nil)

	for _, tc := range allowedNames {
		t.Run(tc.label, func(t *testing.T) {
			name := f.track(tc.build(f.uniq))
			if err := backends.ValidateName(name); err != nil {
				t.Fatalf("ValidateName(%q): got %v, want nil (the shared name rules allow it)", name, err)
			}
			if f.refusedByStore(s, name) {
				return // the store's own rule; checked to be InvalidArgument naming the store
			}
			value := "value of " + name
			v, err := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte(value)})
			if err != nil {
				t.Fatalf("Write(%q): %v", name, err)
			}
			sec := f.checkValue(s, name, value)
			if sec != nil && sec.Version != v {
				t.Errorf("ReadStored(%q).Version: got %q, want %q", name, sec.Version, v)
			}
			f.checkLookup(s, name, name, value)
			if !f.caps.Delete {
				return
			}
			if err := s.Delete(f.ctx, name, backends.DeleteForever); err != nil {
				t.Fatalf("Delete(%q): %v", name, err)
			}
			_, err = s.ReadStored(f.ctx, name)
			wantCode(t, fmt.Sprintf("ReadStored(%q) after Delete", name), err, backends.NotFound)
		})
	}
}

// RefusedNames are refused by the shared rules (DESIGN.md, Names), exported for the
// layer's unit tests.
var RefusedNames = []string{
	"",
	"..",
	"../a",
	"a/..",
	"a/../b",
	"/..",
	"../",
	"a\x00b",
	"a\x1fb",
	"a\nb",
	"a\tb",
	"\x7f",
	"a\u0085b",
	"a\u009fb",
	"a\u2028b",
	"a\u2029b",
	" leading-space",
	"trailing-space ",
	"a\u00a0b",
	"a\u200bb",
	"\ufeffa",
	"a\u2060b",
}

func testRefusedNames(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	counting := newCounting(f.b)
	env := map[string]string{}
	for _, n := range RefusedNames {
		env[n] = "from-env"
	}
	s := f.store(counting, rw(), env)
	wo := f.store(counting, backends.Settings{AccessMode: backends.WriteOnly}, env)
	valid := f.name("valid")

	for _, name := range RefusedNames {
		q := backends.QuoteName(name)
		_, err := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte("v")})
		if !f.caps.Write {
			wantCode(t, fmt.Sprintf("Write(%s) on a store without Write", q), err, backends.Unsupported)
		} else {
			wantCode(t, fmt.Sprintf("Write(%s)", q), err, backends.InvalidArgument)
		}
		_, err = s.ReadAsGateway(f.ctx, name, name)
		wantCode(t, fmt.Sprintf("ReadAsGateway(%s)", q), err, backends.InvalidArgument)
		_, err = wo.ReadAsGateway(f.ctx, name, name)
		wantCode(t, fmt.Sprintf("ReadAsGateway(%s) with access_mode write_only", q), err, backends.InvalidArgument)
		_, err = s.ReadManyAsGateway(f.ctx, []string{valid, name}, []string{valid, name})
		wantCode(t, fmt.Sprintf("LookupMany(..., %s)", q), err, backends.InvalidArgument)
		if f.caps.Write {
			_, err = s.Rotate(f.ctx, valid, backends.WriteRequest{Name: name, Value: []byte("v")}, backends.DeleteForever)
			wantCode(t, fmt.Sprintf("Rotate(%s -> %s)", valid, q), err, backends.InvalidArgument)
		}
	}
	if n := counting.Total(); n != 0 {
		t.Errorf("store calls for refused names: got %d (Get %v, Put %v, Delete %v), want 0",
			n, counting.Names(MethodGet), counting.Names(MethodPut), counting.Names(MethodDelete))
	}
}

func testRotate(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	f.requireDelete() // rotation deletes the old name
	s := f.store(nil, rw(), nil)
	oldName, newName := f.name("rot-old"), f.name("rot-new")
	f.mustWrite(s, oldName, "rotated value")

	v, err := s.Rotate(f.ctx, oldName, backends.WriteRequest{Name: newName, Value: []byte("rotated value")}, backends.DeleteForever)
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	sec := f.checkValue(s, newName, "rotated value")
	if sec != nil && sec.Version != v {
		t.Errorf("ReadStored(new) after Rotate: got version %q, want %q", sec.Version, v)
	}
	_, err = s.ReadStored(f.ctx, oldName)
	wantCode(t, "ReadStored(old) after Rotate", err, backends.NotFound)

	// A rotation with a changed value (name and value changed in one apply).
	third := f.name("rot-third")
	if _, err := s.Rotate(f.ctx, newName, backends.WriteRequest{Name: third, Value: []byte("changed value")}, backends.DeleteForever); err != nil {
		t.Fatalf("Rotate with a new value: %v", err)
	}
	f.checkValue(s, third, "changed value")
	_, err = s.ReadStored(f.ctx, newName)
	wantCode(t, "ReadStored(old) after the second Rotate", err, backends.NotFound)
}

// checkRotationKeptOld asserts the state after a failed rotation: the old
// secret still holds oldValue and nothing is left under newName.
// checkRotationKeptOld checks a rotation that failed after writing the new
// name (which was free): the old secret is kept, and the new name is deleted
// again recoverably where the store can soft-delete, else left in the store
// (never deleted for good) with rotErr saying so.
func (f *fixture) checkRotationKeptOld(oldName, oldValue, newName string, rotErr error) {
	f.t.Helper()
	clean := f.store(nil, rw(), nil)
	f.checkValue(clean, oldName, oldValue)
	_, err := clean.ReadStored(f.ctx, newName)
	if f.caps.Delete && f.caps.SoftDelete {
		wantCode(f.t, "ReadStored(new) after a failed rotation", err, backends.NotFound)
		return
	}
	if err != nil {
		f.t.Errorf("ReadStored(new) after a failed rotation on a store without soft delete: got %v, want the new name left in the store (never deleted for good)", err)
	}
	if !strings.Contains(rotErr.Error(), "left in the store") {
		f.t.Errorf("failed rotation on a store without soft delete: got %q, want it to say the new name was left in the store", rotErr)
	}
}

func testRotateReadBackFails(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	f.requireDelete()
	oldName, newName := f.name("rbf-old"), f.name("rbf-new")
	const oldValue, newValue = "sk-SECRET-old-rbf", "sk-SECRET-new-rbf"
	var mu sync.Mutex
	failed := false
	written := false
	fb := &faultyBackend{Backend: f.b}
	fb.put = func(ctx context.Context, req backends.WriteRequest) (string, error) {
		v, err := f.b.Put(ctx, req)
		mu.Lock()
		written = written || req.Name == newName
		mu.Unlock()
		return v, err
	}
	fb.get = func(ctx context.Context, name string) (*backends.Secret, error) {
		mu.Lock()
		// The read-back, not the check that the new name is free.
		fail := name == newName && written && !failed
		failed = failed || fail
		mu.Unlock()
		if fail {
			return nil, backends.Errorf(backends.Internal, "injected: read-back of %s failed", name)
		}
		return f.b.Get(ctx, name)
	}
	s := f.store(fb, rw(), nil)
	f.mustWrite(s, oldName, oldValue)

	_, err := s.Rotate(f.ctx, oldName, backends.WriteRequest{Name: newName, Value: []byte(newValue)}, backends.DeleteForever)
	if err == nil {
		t.Fatalf("Rotate with a failing read-back: got nil error, want one")
	}
	wantCode(t, "Rotate with a failing read-back", err, backends.Internal)
	noLeak(t, "Rotate with a failing read-back", err, oldValue, newValue)
	if !failed {
		t.Errorf("the read-back of the new name never happened")
	}
	f.checkRotationKeptOld(oldName, oldValue, newName, err)
}

func testRotateReadBackDiffers(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	f.requireDelete()
	oldName, newName := f.name("rbd-old"), f.name("rbd-new")
	const oldValue, newValue, tampered = "sk-SECRET-old-rbd", "sk-SECRET-new-rbd", "sk-SECRET-tampered"
	fb := &faultyBackend{Backend: f.b}
	fb.get = func(ctx context.Context, name string) (*backends.Secret, error) {
		sec, err := f.b.Get(ctx, name)
		if err == nil && name == newName {
			sec.Value = []byte(tampered)
		}
		return sec, err
	}
	s := f.store(fb, rw(), nil)
	f.mustWrite(s, oldName, oldValue)

	_, err := s.Rotate(f.ctx, oldName, backends.WriteRequest{Name: newName, Value: []byte(newValue)}, backends.DeleteForever)
	if err == nil {
		t.Fatalf("Rotate with a read-back that differs: got nil error, want one")
	}
	wantCode(t, "Rotate with a read-back that differs", err, backends.FailedPrecondition)
	noLeak(t, "Rotate with a read-back that differs", err, oldValue, newValue, tampered)
	f.checkRotationKeptOld(oldName, oldValue, newName, err)
}

func testRotateWriteFails(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	f.requireDelete()
	oldName, newName := f.name("rwf-old"), f.name("rwf-new")
	const oldValue, newValue = "sk-SECRET-old-rwf", "sk-SECRET-new-rwf"
	fb := &faultyBackend{Backend: f.b}
	fb.put = func(ctx context.Context, req backends.WriteRequest) (string, error) {
		if req.Name == newName {
			return "", backends.Errorf(backends.PermissionDenied, "injected: not allowed to create %s", req.Name)
		}
		return f.b.Put(ctx, req)
	}
	s := f.store(fb, rw(), nil)
	f.mustWrite(s, oldName, oldValue)

	_, err := s.Rotate(f.ctx, oldName, backends.WriteRequest{Name: newName, Value: []byte(newValue)}, backends.DeleteForever)
	wantCode(t, "Rotate with a failing write", err, backends.PermissionDenied)
	noLeak(t, "Rotate with a failing write", err, oldValue, newValue)
	clean := f.store(nil, rw(), nil)
	f.checkValue(clean, oldName, oldValue)
	_, err = clean.ReadStored(f.ctx, newName)
	wantCode(t, "ReadStored(new) after a rotation whose write failed", err, backends.NotFound)
}

const concurrency = 50

func testConcurrentWriters(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	s := f.store(nil, rw(), nil)
	names := make([]string, concurrency)
	for i := range names {
		names[i] = f.name(fmt.Sprintf("conc-%02d", i))
	}

	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			_, errs[i] = s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte(fmt.Sprintf("value-%02d", i))})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Write(%s): %v", names[i], err)
		}
	}
	clean := f.store(nil, rw(), nil)
	for i, name := range names {
		f.checkValue(clean, name, fmt.Sprintf("value-%02d", i))
	}
}

func testConcurrentPrimaryWriters(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	if f.primaryRefused() {
		return
	}
	primary := f.name("primary-conc")
	s := f.store(nil, backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: primary}, nil)

	errs := make([]error, concurrency)
	var wg sync.WaitGroup
	for i := range concurrency {
		wg.Go(func() {
			_, errs[i] = s.Write(f.ctx, backends.WriteRequest{Name: fmt.Sprintf("FIELD_%02d", i), Value: []byte(fmt.Sprintf("value-%02d", i))})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Write(FIELD_%02d) into the primary secret: %v", i, err)
		}
	}

	// A later run (a new Store) reads every field.
	later := f.store(nil, backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: primary}, nil)
	for i := range concurrency {
		n := fmt.Sprintf("FIELD_%02d", i)
		f.checkLookup(later, n, n, fmt.Sprintf("value-%02d", i))
	}
	// The store holds one JSON object with every field.
	raw, err := f.store(nil, rw(), nil).ReadStored(f.ctx, primary)
	if err != nil {
		t.Fatalf("ReadStored(primary): %v", err)
	}
	var fields map[string]string
	if err := json.Unmarshal(raw.Value, &fields); err != nil {
		t.Fatalf("primary secret: got %q, want a JSON object of strings (%v)", raw.Value, err)
	}
	if len(fields) != concurrency {
		t.Errorf("fields in the primary secret: got %d (%v), want %d", len(fields), slices.Sorted(maps.Keys(fields)), concurrency)
	}
	for i := range concurrency {
		n := fmt.Sprintf("FIELD_%02d", i)
		if got, want := fields[n], fmt.Sprintf("value-%02d", i); got != want {
			t.Errorf("field %s of the primary secret: got %q, want %q", n, got, want)
		}
	}
}

func testReadOnly(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	name, other := f.name("ro"), f.name("ro-other")
	f.mustWrite(f.store(nil, rw(), nil), name, "seeded")
	counting := newCounting(f.b)
	ro := f.store(counting, backends.Settings{}, nil) // the default access_mode is read_only
	if got := ro.Settings().AccessMode; got != backends.ReadOnly {
		t.Errorf("default access_mode: got %q, want %q", got, backends.ReadOnly)
	}

	checkDenied := func(what string, err error) {
		t.Helper()
		wantCode(t, what+" with access_mode read_only", err, backends.PermissionDenied)
		if err != nil && !strings.Contains(err.Error(), "access_mode") {
			t.Errorf("%s with access_mode read_only: got message %q, want it to name access_mode", what, err)
		}
	}
	checkDenied("CheckWritable", ro.CheckWritable())
	_, err := ro.Write(f.ctx, backends.WriteRequest{Name: other, Value: []byte("v")})
	checkDenied("Write", err)
	_, err = ro.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte("overwritten")})
	checkDenied("Write of an existing name", err)
	checkDenied("Delete", ro.Delete(f.ctx, name, backends.DeleteForever))
	_, err = ro.Rotate(f.ctx, name, backends.WriteRequest{Name: other, Value: []byte("seeded")}, backends.DeleteForever)
	checkDenied("Rotate", err)
	checkDenied("UpdateMetadata", ro.UpdateMetadata(f.ctx, name, "d", nil))
	if n := counting.Calls(MethodPut) + counting.Calls(MethodDelete); n != 0 {
		t.Errorf("Put and Delete calls with access_mode read_only: got %d, want 0", n)
	}

	// Reads go to the store, and the secret is untouched.
	f.checkLookup(ro, name, name, "seeded")
	f.checkValue(ro, name, "seeded")
	_, err = ro.ReadStored(f.ctx, other)
	wantCode(t, "ReadStored(name a refused Write would have created)", err, backends.NotFound)
}

func testWriteOnly(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	name, unset := f.name("wo"), f.name("wo-unset")
	counting := newCounting(f.b)
	wo := f.store(counting, backends.Settings{AccessMode: backends.WriteOnly}, map[string]string{name: "from-env"})

	if _, err := wo.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte("from-store")}); err != nil {
		t.Fatalf("Write with access_mode write_only: %v", err)
	}
	f.checkValue(f.store(nil, rw(), nil), name, "from-store")

	gets := counting.Calls(MethodGet)
	f.checkLookup(wo, name, name, "from-env")
	_, err := wo.ReadAsGateway(f.ctx, unset, unset)
	wantCode(t, "Lookup of an unset environment variable with access_mode write_only", err, backends.NotFound)
	if n := counting.Calls(MethodGet) - gets; n != 0 {
		t.Errorf("store reads by Lookup with access_mode write_only: got %d, want 0", n)
	}
}

func testHostedKeys(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	hosted, other, unset := f.name("hosted"), f.name("not-hosted"), f.name("not-hosted-unset")
	seed := f.store(nil, rw(), nil)
	f.mustWrite(seed, hosted, "hosted-from-store")
	f.mustWrite(seed, other, "other-from-store")
	env := map[string]string{hosted: "hosted-from-env", other: "other-from-env"}
	s := f.store(nil, backends.Settings{AccessMode: backends.ReadAndWrite, HostedKeys: []string{hosted}}, env)

	f.checkLookup(s, hosted, hosted, "hosted-from-store")
	f.checkLookup(s, other, other, "other-from-env")
	_, err := s.ReadAsGateway(f.ctx, unset, unset)
	wantCode(t, "Lookup of a name not in hosted_keys whose variable is unset", err, backends.NotFound)

	// Writes are not filtered.
	f.mustWrite(s, other, "other-rewritten")
	f.checkValue(seed, other, "other-rewritten")
}

func testPrefixes(t *testing.T, newHarness HarnessMaker) {
	strPtr := func(s string) *string { return &s }
	type prefixCase struct {
		label      string
		settings   backends.Settings
		prefix     *string
		virtualKey bool
		want       func(name string) string
	}
	vk := backends.Settings{AccessMode: backends.ReadAndWrite, StoreVirtualKeys: true}
	cases := []prefixCase{
		{
			label:      "DefaultVirtualKeyPrefix",
			settings:   vk,
			virtualKey: true,
			want:       func(n string) string { return "litellm/" + n },
		},
		{
			// LiteLLM prefixes only the virtual keys it stores; every
			// other name is read bare.
			label:    "NotAVirtualKeyStaysBare",
			settings: vk,
			want:     func(n string) string { return n },
		},
		{
			label:      "PrefixWithoutSlash",
			settings:   backends.Settings{AccessMode: backends.ReadAndWrite, StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("team")},
			virtualKey: true,
			want:       func(n string) string { return "team/" + n },
		},
		{
			label:      "PrefixWithSlash",
			settings:   backends.Settings{AccessMode: backends.ReadAndWrite, StoreVirtualKeys: true, PrefixForStoredVirtualKeys: strPtr("team/keys/")},
			virtualKey: true,
			want:       func(n string) string { return "team/keys/" + n },
		},
		{
			label:      "ObjectPrefixOverrides",
			settings:   vk,
			prefix:     strPtr("objects/"),
			virtualKey: true,
			want:       func(n string) string { return "objects/" + n },
		},
		{
			label:      "ObjectPrefixEmptyOptsOut",
			settings:   vk,
			prefix:     strPtr(""),
			virtualKey: true,
			want:       func(n string) string { return n },
		},
		{
			label:      "StoreVirtualKeysOff",
			settings:   backends.Settings{AccessMode: backends.ReadAndWrite, PrefixForStoredVirtualKeys: strPtr("ignored/")},
			virtualKey: true,
			want:       func(n string) string { return n },
		},
	}
	for _, tc := range cases {
		t.Run(tc.label, func(t *testing.T) {
			f := newFixture(t, newHarness)
			defer f.Close()
			f.requireWrite()
			name := f.uniq + "-prefixed"
			s := f.store(nil, tc.settings, nil)
			full := s.Settings().FullName(name, tc.prefix, tc.virtualKey)
			if want := tc.want(name); full != want {
				t.Errorf("FullName(%q, virtual_key=%t): got %q, want %q", name, tc.virtualKey, full, want)
			}
			f.track(full)
			gotName, gotPrefix, gotVK := s.Settings().SplitFullName(full)
			if back := s.Settings().FullName(gotName, gotPrefix, gotVK); back != full {
				t.Errorf("FullName(SplitFullName(%q)): got %q, want %q", full, back, full)
			}
			if f.refusedByStore(s, full) {
				return
			}
			f.mustWrite(s, full, "prefixed value")
			f.checkLookup(s, name, full, "prefixed value")
			// The store holds the full name, and only it.
			plain := f.store(nil, rw(), nil)
			f.checkValue(plain, full, "prefixed value")
			if full != name {
				_, err := plain.ReadStored(f.ctx, name)
				wantCode(t, "ReadStored(unprefixed name)", err, backends.NotFound)
			}
		})
	}
}

// seedPrimary writes payload under a new primary secret name and returns it.
func (f *fixture) seedPrimary(label, payload string) string {
	f.t.Helper()
	primary := f.name(label)
	f.mustWrite(f.store(nil, rw(), nil), primary, payload)
	return primary
}

func primarySettings(primary string) backends.Settings {
	return backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: primary}
}

func testPrimaryLookup(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	if f.primaryRefused() {
		return
	}
	primary := f.seedPrimary("primary-read", `{"OPENAI_API_KEY":"sk-openai","ANTHROPIC_API_KEY":"sk-ant","MULTI":"line\nbreak \"q\" =#$"}`)
	want := map[string]string{"OPENAI_API_KEY": "sk-openai", "ANTHROPIC_API_KEY": "sk-ant", "MULTI": "line\nbreak \"q\" =#$"}
	counting := newCounting(f.b)
	s := f.store(counting, primarySettings(primary), nil)

	var wg sync.WaitGroup
	for range 10 {
		for n, v := range want {
			wg.Go(func() { f.checkLookup(s, n, n, v) })
		}
	}
	wg.Wait()
	for n, v := range want {
		f.checkValue(s, n, v)
	}
	got, err := s.ReadManyAsGateway(f.ctx, []string{"OPENAI_API_KEY", "MULTI"}, []string{"OPENAI_API_KEY", "MULTI"})
	if err != nil {
		t.Fatalf("LookupMany of primary fields: %v", err)
	}
	for n, sec := range got {
		if string(sec.Value) != want[n] {
			t.Errorf("LookupMany[%s]: got %q, want %q", n, sec.Value, want[n])
		}
	}
	_, err = s.ReadAsGateway(f.ctx, "MISSING_FIELD", "MISSING_FIELD")
	wantCode(t, "Lookup of a field the primary secret lacks", err, backends.NotFound)
	if n := counting.Calls(MethodGet); n != 1 {
		t.Errorf("store reads for %d lookups of one primary secret: got %d (%v), want 1", 10*len(want)+len(want)+3, n, counting.Names(MethodGet))
	}

	// A primary secret that does not exist: every field is missing.
	absent := f.name("primary-absent")
	_, err = f.store(nil, primarySettings(absent), nil).ReadAsGateway(f.ctx, "ANY", "ANY")
	wantCode(t, "Lookup in a primary secret that does not exist", err, backends.NotFound)
}

func testPrimaryWriteDelete(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	if f.primaryRefused() {
		return
	}
	primary := f.name("primary-write")
	s := f.store(nil, primarySettings(primary), nil)

	vA := f.mustWrite(s, "A", "value-a")
	f.mustWrite(s, "B", "value-b")
	sec := f.checkValue(s, "A", "value-a")
	if sec != nil && sec.Version != vA {
		t.Errorf("ReadStored(A).Version: got %q, want %q", sec.Version, vA)
	}
	vA2 := f.mustWrite(s, "A", "value-a2")
	if vA2 == vA {
		t.Errorf("version of a field after a new value: got %q twice, want a new version", vA)
	}
	if err := s.Delete(f.ctx, "A", backends.DeleteForever); err != nil {
		t.Fatalf("Delete(A) in the primary secret: %v", err)
	}
	_, err := s.ReadStored(f.ctx, "A")
	wantCode(t, "ReadStored(A) after Delete", err, backends.NotFound)
	if err := s.Delete(f.ctx, "NEVER_WRITTEN", backends.DeleteForever); err != nil {
		t.Errorf("Delete of a missing field: got %v, want nil", err)
	}

	// The JSON values cannot hold arbitrary bytes.
	_, err = s.Write(f.ctx, backends.WriteRequest{Name: "BIN", Value: []byte("\xff\xfe")})
	wantCode(t, "Write of a non-UTF-8 value into the primary secret", err, backends.InvalidArgument)

	later := f.store(nil, primarySettings(primary), nil)
	f.checkValue(later, "B", "value-b")
	_, err = later.ReadStored(f.ctx, "A")
	wantCode(t, "ReadStored(A) after Delete, from a new Store", err, backends.NotFound)
	raw, err := f.store(nil, rw(), nil).ReadStored(f.ctx, primary)
	if err != nil {
		t.Fatalf("ReadStored(primary): %v", err)
	}
	var fields map[string]string
	if err := json.Unmarshal(raw.Value, &fields); err != nil {
		t.Fatalf("primary secret: got %q, want a JSON object of strings (%v)", raw.Value, err)
	}
	if want := map[string]string{"B": "value-b"}; !maps.Equal(fields, want) {
		t.Errorf("primary secret: got %v, want %v", fields, want)
	}
}

func testPrimaryMalformed(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	if f.primaryRefused() {
		return
	}
	// A payload is made of secrets: no error may quote the secret in it.
	payloads := []struct{ label, payload, secret string }{
		{"NotJSON", "sk-SECRET-plain-text", "sk-SECRET"},
		{"TruncatedJSON", `{"A":"sk-SECRET-truncated`, "sk-SECRET"},
		{"JSONString", `"sk-SECRET-json-string"`, "sk-SECRET"},
		{"JSONArray", `["sk-SECRET-in-array"]`, "sk-SECRET"},
		{"JSONNumber", `98765432109876543210`, "98765432109876543210"},
		{"JSONNull", `null`, ""},
		{"JSONTrue", `true`, ""},
	}
	for _, tc := range payloads {
		t.Run(tc.label, func(t *testing.T) {
			primary := f.seedPrimary("primary-bad-"+strings.ToLower(tc.label), tc.payload)
			s := f.store(nil, primarySettings(primary), nil)
			_, err := s.ReadAsGateway(f.ctx, "A", "A")
			wantCode(t, "Lookup in a malformed primary secret", err, backends.FailedPrecondition)
			noLeak(t, "Lookup in a malformed primary secret", err, tc.secret)
			// A write must not replace what it cannot parse.
			_, err = s.Write(f.ctx, backends.WriteRequest{Name: "B", Value: []byte("new")})
			wantCode(t, "Write into a malformed primary secret", err, backends.FailedPrecondition)
			noLeak(t, "Write into a malformed primary secret", err, tc.secret)
			f.checkValue(f.store(nil, rw(), nil), primary, tc.payload)
		})
	}
	t.Run("NonStringField", func(t *testing.T) {
		primary := f.seedPrimary("primary-nonstring", `{"OBJ":{"k":"sk-SECRET-nested"},"NUM":98765432109876543210,"OK":"fine"}`)
		s := f.store(nil, primarySettings(primary), nil)
		for _, field := range []string{"OBJ", "NUM"} {
			_, err := s.ReadAsGateway(f.ctx, field, field)
			wantCode(t, fmt.Sprintf("ReadAsGateway(%s) of a non-string field", field), err, backends.FailedPrecondition)
			noLeak(t, fmt.Sprintf("ReadAsGateway(%s) of a non-string field", field), err, "sk-SECRET", "98765432109876543210")
		}
		f.checkLookup(s, "OK", "OK", "fine")
	})
}

func testMetadata(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	if !f.caps.Metadata {
		// Without metadata, description and tags are accepted and ignored:
		// the write succeeds, the value reads back, and a metadata-only
		// update is a no-op rather than an error or a new version.
		s := f.store(nil, rw(), nil)
		name := f.name("no-meta")
		if _, err := s.Write(f.ctx, backends.WriteRequest{Name: name, Value: []byte("v"), Description: "d", Tags: map[string]string{"k": "v"}}); err != nil {
			t.Fatalf("Write with description and tags on a store without metadata: %v", err)
		}
		before := f.checkValue(s, name, "v")
		if err := s.UpdateMetadata(f.ctx, name, "d2", map[string]string{"k": "v2"}); err != nil {
			t.Errorf("UpdateMetadata on a store without metadata: got %v, want nil (no-op)", err)
		}
		after := f.checkValue(s, name, "v")
		if before != nil && after != nil && before.Version != after.Version {
			t.Errorf("version after UpdateMetadata: got %q, want %q (no new version)", after.Version, before.Version)
		}
		return
	}
	settings := rw()
	settings.Description = "default description"
	settings.Tags = map[string]string{"team": "ml", "owner": "default"}
	s := f.store(nil, settings, nil)
	checkMeta := func(name, wantDesc string, wantTags map[string]string) *backends.Secret {
		t.Helper()
		sec, err := s.ReadStored(f.ctx, name)
		if err != nil {
			t.Errorf("ReadStored(%s): %v", name, err)
			return nil
		}
		if sec.Description != wantDesc {
			t.Errorf("ReadStored(%s).Description: got %q, want %q", name, sec.Description, wantDesc)
		}
		for k, v := range wantTags {
			if got, ok := sec.Tags[k]; !ok || got != v {
				t.Errorf("ReadStored(%s).Tags[%q]: got %q (present %t), want %q (all tags: %v)", name, k, got, ok, v, sec.Tags)
			}
		}
		return sec
	}

	ownTags, ownDesc := f.name("meta-tags"), f.name("meta-desc")
	if _, err := s.Write(f.ctx, backends.WriteRequest{Name: ownTags, Value: []byte("v"), Tags: map[string]string{"owner": "platform"}}); err != nil {
		t.Fatalf("Write with tags: %v", err)
	}
	checkMeta(ownTags, "default description", map[string]string{"team": "ml", "owner": "platform"})
	if _, err := s.Write(f.ctx, backends.WriteRequest{Name: ownDesc, Value: []byte("v"), Description: "own description"}); err != nil {
		t.Fatalf("Write with a description: %v", err)
	}
	checkMeta(ownDesc, "own description", map[string]string{"team": "ml", "owner": "default"})

	before := checkMeta(ownTags, "default description", nil)
	err := s.UpdateMetadata(f.ctx, ownTags, "updated description", map[string]string{"owner": "security"})
	if backends.CodeOf(err) == backends.Unsupported {
		return // the resource writes the value again instead
	}
	if err != nil {
		t.Fatalf("UpdateMetadata: %v", err)
	}
	after := checkMeta(ownTags, "updated description", map[string]string{"team": "ml", "owner": "security"})
	if before != nil && after != nil {
		if string(after.Value) != "v" {
			t.Errorf("value after UpdateMetadata: got %q, want %q", after.Value, "v")
		}
		if after.Version != before.Version {
			t.Errorf("version after UpdateMetadata: got %q, want %q (no new version)", after.Version, before.Version)
		}
	}
}

func testEnvFallback(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	envOnly, both := f.name("env-only"), f.name("env-and-store")
	env := map[string]string{envOnly: "from-env", both: "both-from-env"}
	s := f.store(nil, rw(), env)

	sec, err := s.ReadAsGateway(f.ctx, envOnly, envOnly)
	if f.caps.EnvFallback {
		if err != nil {
			t.Errorf("Lookup of a name only in the environment: got %v, want the variable's value", err)
		} else if string(sec.Value) != "from-env" {
			t.Errorf("Lookup of a name only in the environment: got %q, want %q", sec.Value, "from-env")
		}
	} else {
		wantCode(t, "Lookup of a name only in the environment, on a store without EnvFallback", err, backends.NotFound)
	}
	_, err = s.ReadStored(f.ctx, envOnly)
	wantCode(t, "Find of a name only in the environment", err, backends.NotFound)

	if f.caps.Write {
		// The store wins over the environment.
		f.mustWrite(s, both, "both-from-store")
		f.checkLookup(s, both, both, "both-from-store")
	}
}

func testHealth(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	if err := f.store(nil, rw(), nil).Health(f.ctx); err != nil {
		t.Errorf("Health: got %v, want nil", err)
	}
}

func testLookupMany(t *testing.T, newHarness HarnessMaker) {
	f := newFixture(t, newHarness)
	defer f.Close()
	f.requireWrite()
	seed := f.store(nil, rw(), nil)
	var names []string
	want := map[string]string{}
	for i := range 5 {
		n := f.name(fmt.Sprintf("many-%d", i))
		names = append(names, n)
		want[n] = fmt.Sprintf("many value %d", i)
		f.mustWrite(seed, n, want[n])
	}
	envName := f.name("many-env")
	s := f.store(nil, backends.Settings{AccessMode: backends.ReadAndWrite, HostedKeys: names}, map[string]string{envName: "from-env"})

	all := append(slices.Clone(names), envName)
	want[envName] = "from-env"
	got, err := s.ReadManyAsGateway(f.ctx, all, all)
	if err != nil {
		t.Fatalf("LookupMany: %v", err)
	}
	if len(got) != len(all) {
		t.Errorf("LookupMany: got %d results (%v), want %d", len(got), slices.Sorted(maps.Keys(got)), len(all))
	}
	for n, v := range want {
		if sec, ok := got[n]; !ok {
			t.Errorf("LookupMany[%s]: missing, want %q", n, v)
		} else if string(sec.Value) != v {
			t.Errorf("LookupMany[%s]: got %q, want %q", n, sec.Value, v)
		}
	}

	missing := f.name("many-missing")
	withMissing := append(slices.Clone(names), missing)
	plain := f.store(nil, rw(), nil)
	got, err = plain.ReadManyAsGateway(f.ctx, withMissing, withMissing)
	wantCode(t, "LookupMany with a missing name", err, backends.NotFound)
	if err != nil && !strings.Contains(err.Error(), missing) {
		t.Errorf("LookupMany with a missing name: got message %q, want it to name %s", err, missing)
	}
	if got != nil {
		t.Errorf("LookupMany with a missing name: got %d results, want none", len(got))
	}
}
