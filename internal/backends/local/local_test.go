package local_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/local"
)

// newBackend returns a store on path, closed at the end of the test.
func newBackend(t testing.TB, path string) backends.Backend {
	t.Helper()
	b, err := local.New(&local.Options{EnvFile: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// newStore wraps b in a read-and-write *Store that sees env as the process
// environment.
func newStore(t *testing.T, b backends.Backend, env map[string]string) *backends.Store {
	t.Helper()
	s, err := backends.NewStore(b, &backends.StoreOptions{
		Settings: backends.Settings{AccessMode: backends.ReadAndWrite},
		LookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func envPath(t testing.TB) string { return filepath.Join(t.TempDir(), ".env") }

func writeFile(t testing.TB, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func put(t testing.TB, b backends.Backend, name, value string) string {
	t.Helper()
	v, err := b.Put(context.Background(), backends.WriteRequest{Name: name, Value: []byte(value)})
	if err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
	return v
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestKindAndCaps(t *testing.T) {
	b := newBackend(t, envPath(t))
	if got := b.Kind(); got != "local" {
		t.Errorf("Kind: got %q, want %q", got, "local")
	}
	// Not Binary: values must be text python-dotenv can hand to LiteLLM.
	want := backends.Caps{Write: true, Delete: true, EnvFallback: true, ImmediateDelete: true}
	if got := b.Caps(); got != want {
		t.Errorf("Caps: got %+v, want %+v", got, want)
	}
}

func TestDefaultAndRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, opts := range []*local.Options{nil, {}, {EnvFile: "sub/../.env"}} {
		b, err := local.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		put(t, b, "A", "1")
		b.Close()
		if got := readFile(t, filepath.Join(dir, ".env")); got != "A='1'\n" {
			t.Errorf("New(%+v): file is %q, want %q", opts, got, "A='1'\n")
		}
	}
	b, err := local.New(&local.Options{EnvFile: "other.env"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	put(t, b, "B", "2")
	t.Chdir(t.TempDir()) // resolved at New, not per call
	if _, err := b.Get(context.Background(), "B"); err != nil {
		t.Errorf("Get after chdir: %v", err)
	}
	if got := readFile(t, filepath.Join(dir, "other.env")); got != "B='2'\n" {
		t.Errorf("other.env is %q", got)
	}
}

func TestPutGet(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, envPath(t))
	values := []string{"sk-1", "", "multi\nline", "ctl\x01\x1b\u2028\r", `trail\`, "it's \"q\" #x ${Y}"}
	seen := map[string]bool{}
	for _, v := range values {
		version := put(t, b, "OPENAI_API_KEY", v)
		if want := backends.Fingerprint("OPENAI_API_KEY", []byte(v)); version != want {
			t.Errorf("Put(%q): got version %q, want %q", v, version, want)
		}
		if seen[version] {
			t.Errorf("Put(%q): version %q repeats an earlier value's", v, version)
		}
		seen[version] = true
		sec, err := b.Get(ctx, "OPENAI_API_KEY")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if string(sec.Value) != v || sec.Version != version || sec.Name != "OPENAI_API_KEY" {
			t.Errorf("Get: got %q %q %q, want %q %q", sec.Name, sec.Value, sec.Version, v, version)
		}
	}
}

func TestGetMissing(t *testing.T) {
	ctx := context.Background()
	path := envPath(t)
	b := newBackend(t, path)
	_, err := b.Get(ctx, "A")
	if got := backends.CodeOf(err); got != backends.NotFound {
		t.Errorf("Get with no file: got code %v, want NotFound (err: %v)", got, err)
	}
	writeFile(t, path, "B=1\nA\n", 0o600)
	for _, name := range []string{"C", "A"} {
		_, err = b.Get(ctx, name)
		if got := backends.CodeOf(err); got != backends.NotFound {
			t.Errorf("Get(%q): got code %v, want NotFound (err: %v)", name, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("Get(%q): error %q does not name the file", name, err)
		}
	}
}

func TestStoreEnvFallback(t *testing.T) {
	ctx := context.Background()
	path := envPath(t)
	writeFile(t, path, "IN_FILE=file\nBOTH=file\n", 0o600)
	s := newStore(t, newBackend(t, path), map[string]string{"ONLY_ENV": "env", "BOTH": "env"})
	for name, want := range map[string]string{"IN_FILE": "file", "BOTH": "file", "ONLY_ENV": "env"} {
		sec, err := s.ReadAsGateway(ctx, name, name)
		if err != nil || string(sec.Value) != want {
			t.Errorf("ReadAsGateway(%q): got %v, %v, want %q", name, sec, err, want)
		}
	}
	_, err := s.ReadAsGateway(ctx, "NOWHERE", "NOWHERE")
	if got := backends.CodeOf(err); got != backends.NotFound {
		t.Errorf("ReadAsGateway(NOWHERE): got code %v, want NotFound (err: %v)", got, err)
	}
	// ReadStored, the read of managed resources, does not fall back.
	_, err = s.ReadStored(ctx, "ONLY_ENV")
	if got := backends.CodeOf(err); got != backends.NotFound {
		t.Errorf("ReadStored(ONLY_ENV): got code %v, want NotFound (err: %v)", got, err)
	}
	got, err := s.ReadManyAsGateway(ctx, []string{"IN_FILE", "ONLY_ENV"}, []string{"IN_FILE", "ONLY_ENV"})
	if err != nil || string(got["IN_FILE"].Value) != "file" || string(got["ONLY_ENV"].Value) != "env" {
		t.Errorf("ReadManyAsGateway: got %v, %v", got, err)
	}
}

func TestStoreWriteRotateDelete(t *testing.T) {
	ctx := context.Background()
	path := envPath(t)
	writeFile(t, path, "# keep me\nOTHER=1\n", 0o600)
	s := newStore(t, newBackend(t, path), nil)
	if _, err := s.Write(ctx, backends.WriteRequest{Name: "a: b", Value: []byte("v1"), Description: "d", Tags: map[string]string{"t": "v"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(ctx, "a: b", backends.WriteRequest{Name: "litellm/new", Value: []byte("v1")}, backends.DeleteForever); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, path), "# keep me\nOTHER=1\nlitellm/new='v1'\n"; got != want {
		t.Errorf("after rotate: file %q, want %q", got, want)
	}
	if err := s.Delete(ctx, "litellm/new", backends.DeleteForever); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "litellm/new", backends.DeleteForever); err != nil {
		t.Errorf("Delete of a missing secret: %v", err)
	}
	if got, want := readFile(t, path), "# keep me\nOTHER=1\n"; got != want {
		t.Errorf("after delete: file %q, want %q", got, want)
	}
	err := s.Delete(ctx, "OTHER", backends.DeleteSoft)
	if got := backends.CodeOf(err); got != backends.Unsupported {
		t.Errorf("soft Delete via Store: got code %v, want Unsupported (err: %v)", got, err)
	}
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	b := newBackend(t, path)

	// No file: success, and nothing is created.
	if err := b.Delete(ctx, "A", backends.DeleteForever); err != nil {
		t.Errorf("Delete with no file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Delete with no file created %v", entries)
	}
	// No directory: success too.
	gone := newBackend(t, filepath.Join(dir, "missing", ".env"))
	if err := gone.Delete(ctx, "A", backends.DeleteForever); err != nil {
		t.Errorf("Delete with no directory: %v", err)
	}

	const content = "# c\r\nA=1\r\nexport B='2' # b\r\n\r\nA=3\r\nC=4"
	writeFile(t, path, content, 0o640)
	if err := b.Delete(ctx, "MISSING", backends.DeleteForever); err != nil {
		t.Errorf("Delete of a missing key: %v", err)
	}
	if got := readFile(t, path); got != content {
		t.Errorf("Delete of a missing key changed the file to %q", got)
	}
	if err := b.Delete(ctx, "A", backends.DeleteForever); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, path), "# c\r\nexport B='2' # b\r\n\r\nC=4"; got != want {
		t.Errorf("after Delete: got %q, want %q", got, want)
	}
	if got := mode(t, path); got != 0o640 {
		t.Errorf("Delete changed the mode to %v", got)
	}
	err := b.Delete(ctx, "B", backends.DeleteSoft)
	if got := backends.CodeOf(err); got != backends.Unsupported {
		t.Errorf("DeleteSoft: got code %v, want Unsupported (err: %v)", got, err)
	}
	if _, err := b.Get(ctx, "B"); err != nil {
		t.Errorf("DeleteSoft removed B: %v", err)
	}
}

func TestPreservesFile(t *testing.T) {
	ctx := context.Background()
	path := envPath(t)
	const orig = "# LiteLLM settings\r\n" +
		"\r\n" +
		"export OPENAI_API_KEY=\"sk-old\" # rotate monthly\r\n" +
		"ANTHROPIC_API_KEY = 'sk-ant'   \r\n" +
		"  DATABASE_URL=postgres://u:p@h/db # inline\r\n" +
		"MULTI=\"line1\r\nline2\"\r\n" +
		"'a: b'=x\r\n" +
		"DUP=1\r\n" +
		"# trailing comment\r\n" +
		"DUP=2\r\n"
	writeFile(t, path, orig, 0o600)
	b := newBackend(t, path)

	put(t, b, "OPENAI_API_KEY", "sk-new")
	want := strings.Replace(orig, `export OPENAI_API_KEY="sk-old" # rotate monthly`, `export OPENAI_API_KEY='sk-new' # rotate monthly`, 1)
	if got := readFile(t, path); got != want {
		t.Fatalf("replace:\ngot  %q\nwant %q", got, want)
	}
	put(t, b, "DUP", "3")
	want = strings.Replace(want, "DUP=1\r\n", "", 1)
	want = strings.Replace(want, "DUP=2\r\n", "DUP='3'\r\n", 1)
	if got := readFile(t, path); got != want {
		t.Fatalf("duplicates:\ngot  %q\nwant %q", got, want)
	}
	put(t, b, "NEW", "a\nb")
	want += "NEW='a\r\nb'\r\n"
	if got := readFile(t, path); got != want {
		t.Fatalf("append:\ngot  %q\nwant %q", got, want)
	}
	for name, v := range map[string]string{
		"OPENAI_API_KEY": "sk-new", "ANTHROPIC_API_KEY": "sk-ant", "DATABASE_URL": "postgres://u:p@h/db",
		"MULTI": "line1\nline2", "a: b": "x", "DUP": "3", "NEW": "a\nb",
	} {
		sec, err := b.Get(ctx, name)
		if err != nil || string(sec.Value) != v {
			t.Errorf("Get(%q): got %v, %v, want %q", name, sec, err, v)
		}
	}
	if err := b.Delete(ctx, "NEW", backends.DeleteForever); err != nil {
		t.Fatal(err)
	}
	want = strings.TrimSuffix(want, "NEW='a\r\nb'\r\n")
	if got := readFile(t, path); got != want {
		t.Fatalf("delete:\ngot  %q\nwant %q", got, want)
	}
}

func TestFileModes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	b := newBackend(t, path)
	put(t, b, "A", "1")
	if got := mode(t, path); got != 0o600 {
		t.Errorf("new env file: mode %v, want 0600", got)
	}
	if got := mode(t, path+".lock"); got != 0o600 {
		t.Errorf("lock file: mode %v, want 0600", got)
	}
	for _, m := range []fs.FileMode{0o644, 0o640, 0o400} {
		writeFile(t, path, "A=1\n", m)
		put(t, b, "B", "2")
		if got := mode(t, path); got != m {
			t.Errorf("replaced file: mode %v, want %v", got, m)
		}
		if err := b.Delete(ctx, "A", backends.DeleteForever); err != nil {
			t.Fatal(err)
		}
		if got := mode(t, path); got != m {
			t.Errorf("file after Delete: mode %v, want %v", got, m)
		}
	}
	// No temporary files are left behind.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != ".env .env.lock" {
		t.Errorf("directory holds %q, want %q", got, ".env .env.lock")
	}
}

func TestPutUnchangedDoesNotRewrite(t *testing.T) {
	path := envPath(t)
	b := newBackend(t, path)
	put(t, b, "A", "1")
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	put(t, b, "A", "1")
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Errorf("Put of the same value replaced the file")
	}
}

func TestSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.env")
	link := filepath.Join(dir, ".env")
	writeFile(t, target, "A=1\n", 0o640)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, link)
	put(t, b, "B", "2")
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("env_file is no longer a symlink: %v, %v", fi, err)
	}
	if got := readFile(t, target); got != "A=1\nB='2'\n" {
		t.Errorf("target: got %q", got)
	}
	if got := mode(t, target); got != 0o640 {
		t.Errorf("target mode: got %v, want 0640", got)
	}
}

func TestMalformedFile(t *testing.T) {
	ctx := context.Background()
	path := envPath(t)
	const content = "A=1\n# c\nB='s3cr3t-value\nC=3\n"
	writeFile(t, path, content, 0o600)
	b := newBackend(t, path)
	s := newStore(t, b, nil)
	check := func(op string, err error) {
		t.Helper()
		if got := backends.CodeOf(err); got != backends.FailedPrecondition {
			t.Errorf("%s: got code %v, want FailedPrecondition (err: %v)", op, got, err)
		}
		if err == nil {
			return
		}
		if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "line 3") || strings.Contains(msg, "s3cr3t") {
			t.Errorf("%s: error %q should name the file and line 3, and no content", op, msg)
		}
	}
	_, err := b.Get(ctx, "A")
	check("Get", err)
	_, err = s.ReadAsGateway(ctx, "A", "A")
	check("Store.Lookup", err)
	_, err = b.Put(ctx, backends.WriteRequest{Name: "D", Value: []byte("4")})
	check("Put", err)
	check("Delete", b.Delete(ctx, "A", backends.DeleteForever))
	check("Health", b.Health(ctx))
	if got := readFile(t, path); got != content {
		t.Errorf("a refused write changed the file to %q", got)
	}
}

func TestMissingDirectory(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nope", ".env")
	b := newBackend(t, path)
	_, err := b.Put(ctx, backends.WriteRequest{Name: "A", Value: []byte("1")})
	if got := backends.CodeOf(err); got != backends.FailedPrecondition || !strings.Contains(fmt.Sprint(err), filepath.Dir(path)) {
		t.Errorf("Put: got code %v, want FailedPrecondition naming the directory (err: %v)", got, err)
	}
	err = b.Health(ctx)
	if got := backends.CodeOf(err); got != backends.FailedPrecondition {
		t.Errorf("Health: got code %v, want FailedPrecondition (err: %v)", got, err)
	}
}

func TestHealth(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	b := newBackend(t, path)
	if err := b.Health(ctx); err != nil {
		t.Errorf("Health with no file in a writable directory: %v", err)
	}
	writeFile(t, path, "A=1\n", 0o600)
	if err := b.Health(ctx); err != nil {
		t.Errorf("Health with a file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("Health left files behind: %v", entries)
	}
	// env_file names a directory.
	s := newStore(t, newBackend(t, dir), nil)
	err := s.Health(ctx)
	if got := backends.CodeOf(err); got != backends.FailedPrecondition {
		t.Errorf("Health of a directory: got code %v, want FailedPrecondition (err: %v)", got, err)
	}
	_, err = s.Write(ctx, backends.WriteRequest{Name: "A", Value: []byte("1")})
	if got := backends.CodeOf(err); got != backends.FailedPrecondition {
		t.Errorf("Write to a directory: got code %v, want FailedPrecondition (err: %v)", got, err)
	}
}

func TestValidateName(t *testing.T) {
	b := newBackend(t, envPath(t))
	v, ok := b.(backends.NameValidator)
	if !ok {
		t.Fatal("the local store does not implement backends.NameValidator")
	}
	for _, name := range []string{"A", strings.Repeat("é", 512), "a?b", "a: b", "litellm/virtual-key-x", "a..b", "a b#c"} {
		if err := v.ValidateName(name); err != nil {
			t.Errorf("ValidateName(%.20q): %v", name, err)
		}
	}
	s := newStore(t, b, nil)
	tests := []struct{ name, msg string }{
		{strings.Repeat("a", 2000), "is 2000 bytes; the local store allows at most 1024"},
		{strings.Repeat("a", 1025), "is 1025 bytes; the local store allows at most 1024"},
		{"bad\xffname", "is not valid UTF-8; the local store allows only UTF-8 names"},
		// os.environ refuses "=" in a name, so LiteLLM's load_dotenv would
		// stop on it; python-dotenv reads quoted names without escapes.
		{"a?b=1", `contains "=", which no environment variable name can hold`},
		{"it's", "contains a single quote (U+0027)"},
	}
	for _, tt := range tests {
		err := v.ValidateName(tt.name)
		if got := backends.CodeOf(err); got != backends.InvalidArgument || !strings.Contains(fmt.Sprint(err), tt.msg) {
			t.Errorf("ValidateName(%.20q): got %v (code %v), want InvalidArgument with %q", tt.name, err, got, tt.msg)
		}
		// Through the layer, which may refuse the name first with its own rule.
		if got := backends.CodeOf(s.ValidateName(tt.name)); got != backends.InvalidArgument {
			t.Errorf("Store.ValidateName(%.20q): got code %v, want InvalidArgument", tt.name, got)
		}
		_, err = s.Write(context.Background(), backends.WriteRequest{Name: tt.name, Value: []byte("x")})
		if got := backends.CodeOf(err); got != backends.InvalidArgument {
			t.Errorf("Write(%.20q): got code %v, want InvalidArgument", tt.name, got)
		}
	}
}

func TestErrorCode(t *testing.T) {
	b := newBackend(t, envPath(t))
	pathErr := func(err error) error { return &fs.PathError{Op: "open", Path: "/x/.env", Err: err} }
	tests := []struct {
		err  error
		want backends.Code
	}{
		{fs.ErrPermission, backends.PermissionDenied},
		{pathErr(syscall.EACCES), backends.PermissionDenied},
		{pathErr(syscall.EPERM), backends.PermissionDenied},
		{pathErr(syscall.EROFS), backends.PermissionDenied},
		{fs.ErrNotExist, backends.NotFound},
		{pathErr(syscall.ENOENT), backends.NotFound},
		{fmt.Errorf("wrapped: %w", pathErr(syscall.ENOENT)), backends.NotFound},
		{pathErr(syscall.EISDIR), backends.FailedPrecondition},
		{pathErr(syscall.ENOTDIR), backends.FailedPrecondition},
		{pathErr(syscall.ENOSPC), backends.Unknown},
		{errors.New("something else"), backends.Unknown},
	}
	for _, tt := range tests {
		if got := b.ErrorCode(tt.err); got != tt.want {
			t.Errorf("ErrorCode(%v): got %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestGetBatch(t *testing.T) {
	path := envPath(t)
	writeFile(t, path, "A=1\nB='2'\n", 0o600)
	bg, ok := newBackend(t, path).(backends.BatchGetter)
	if !ok {
		t.Fatal("the local store does not implement backends.BatchGetter")
	}
	got, err := bg.GetBatch(context.Background(), []string{"A", "B", "C"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || string(got["A"].Value) != "1" || string(got["B"].Value) != "2" {
		t.Errorf("GetBatch: got %v", got)
	}
	got, err = batchGetter(t, newBackend(t, envPath(t))).GetBatch(context.Background(), []string{"A"})
	if err != nil || len(got) != 0 {
		t.Errorf("GetBatch with no file: got %v, %v", got, err)
	}
}

func TestCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := newBackend(t, envPath(t))
	if _, err := b.Put(ctx, backends.WriteRequest{Name: "A", Value: []byte("1")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: got %v, want context.Canceled", err)
	}
	if _, err := b.Get(ctx, "A"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: got %v, want context.Canceled", err)
	}
}

// Concurrency.

// checkAll reads path once and checks that every name has its value.
func checkAll(t *testing.T, path string, want map[string]string) {
	t.Helper()
	b := newBackend(t, path)
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	got, err := batchGetter(t, b).GetBatch(context.Background(), names)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	for name, v := range want {
		if sec, ok := got[name]; !ok || string(sec.Value) != v {
			t.Errorf("%s: got %v, want %q", name, got[name], v)
		}
	}
}

// reader reads key from path until stop is closed and counts the reads that
// failed: with atomic replace, a reader never sees a partial file.
func reader(b backends.Backend, key string, stop <-chan struct{}, failed, reads *atomic.Int64) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		reads.Add(1)
		if _, err := b.Get(context.Background(), key); err != nil {
			failed.Add(1)
		}
	}
}

func writerValue(i, j int) string {
	return fmt.Sprintf("value %d/%d 'q' \"d\" \\ #c ${X}\nline2\r\x01é", i, j)
}

func TestConcurrentWriters(t *testing.T) {
	path := envPath(t)
	writeFile(t, path, "# shared\nEXISTING=1\n", 0o600)
	// Two stores on one file: the mutex serialises each one's goroutines,
	// the flock serialises the two.
	b1, b2 := newBackend(t, path), newBackend(t, path)
	stop := make(chan struct{})
	var failed, reads atomic.Int64
	var rwg sync.WaitGroup
	rwg.Go(func() { reader(b1, "EXISTING", stop, &failed, &reads) })

	want := map[string]string{"EXISTING": "1"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 50 {
		name := fmt.Sprintf("GOROUTINE_%02d", i)
		want[name] = writerValue(i, 0)
		b := b1
		if i%2 == 1 {
			b = b2
		}
		wg.Go(func() {
			_, err := b.Put(context.Background(), backends.WriteRequest{Name: name, Value: []byte(writerValue(i, 0))})
			if err != nil {
				mu.Lock()
				t.Errorf("Put(%s): %v", name, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d concurrent reads failed", n, reads.Load())
	}
	checkAll(t, path, want)
}

const (
	writerPathEnv = "LLMSECRET_LOCAL_TEST_WRITER_PATH"
	writerIDEnv   = "LLMSECRET_LOCAL_TEST_WRITER_ID"
	writerKeys    = 25
)

// TestMultiProcessWriters runs 4 copies of the test binary as child processes
// (TestHelperProcessWriter) that write 25 keys each to one file at the same
// time, while this process reads it.
func TestMultiProcessWriters(t *testing.T) {
	const procs = 4
	path := envPath(t)
	writeFile(t, path, "# shared\nEXISTING=1\n", 0o600)
	type child struct {
		cmd   *exec.Cmd
		start io.WriteCloser
		out   bytes.Buffer
	}
	children := make([]*child, procs)
	for i := range children {
		c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestHelperProcessWriter$", "-test.count=1")}
		c.cmd.Env = append(os.Environ(), writerPathEnv+"="+path, writerIDEnv+"="+strconv.Itoa(i))
		c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
		var err error
		if c.start, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children[i] = c
	}
	stop := make(chan struct{})
	var failed, reads atomic.Int64
	var rwg sync.WaitGroup
	b := newBackend(t, path)
	rwg.Go(func() { reader(b, "EXISTING", stop, &failed, &reads) })
	for _, c := range children {
		c.start.Close() // start line: every child waits for EOF on stdin
	}
	for i, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Errorf("writer process %d: %v\n%s", i, err, c.out.String())
		}
	}
	close(stop)
	rwg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d reads during the writes failed", n, reads.Load())
	}
	want := map[string]string{"EXISTING": "1"}
	for i := range procs {
		for j := range writerKeys {
			want[fmt.Sprintf("PROC_%d_KEY_%02d", i, j)] = writerValue(i, j)
		}
	}
	checkAll(t, path, want)
	if got := strings.Count(readFile(t, path), "PROC_"); got != procs*writerKeys {
		t.Errorf("file has %d PROC_ bindings, want %d", got, procs*writerKeys)
	}
	if got := mode(t, path); got != 0o600 {
		t.Errorf("mode after the writes: %v, want 0600", got)
	}
}

// TestHelperProcessWriter is the child of TestMultiProcessWriters. Run
// directly, without its environment variables, it does nothing.
func TestHelperProcessWriter(t *testing.T) {
	path := os.Getenv(writerPathEnv)
	if path == "" {
		return
	}
	id, err := strconv.Atoi(os.Getenv(writerIDEnv))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, path)
	for j := range writerKeys {
		put(t, b, fmt.Sprintf("PROC_%d_KEY_%02d", id, j), writerValue(id, j))
	}
}

// Benchmarks over a 10,000-line file.

func benchBackend(b *testing.B) backends.Backend {
	b.Helper()
	path := envPath(b)
	var buf bytes.Buffer
	for i := range 10000 {
		fmt.Fprintf(&buf, "KEY_%05d='value-%d-abcdefghijklmnopqrstuvwxyz'\n", i, i)
	}
	writeFile(b, path, buf.String(), 0o600)
	return newBackend(b, path)
}

func BenchmarkPut10000(b *testing.B) {
	be := benchBackend(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if _, err := be.Put(ctx, backends.WriteRequest{Name: "KEY_05000", Value: []byte(strconv.Itoa(i))}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet10000(b *testing.B) {
	be := benchBackend(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := be.Get(ctx, "KEY_09999"); err != nil {
			b.Fatal(err)
		}
	}
}

func batchGetter(t *testing.T, b backends.Backend) backends.BatchGetter {
	t.Helper()
	bg, ok := b.(backends.BatchGetter)
	if !ok {
		t.Fatalf("the local backend does not implement backends.BatchGetter")
	}
	return bg
}

// TestValueRefusedForLiteLLM: a value python-dotenv cannot hand to LiteLLM
// (invalid UTF-8: it decodes the file as UTF-8; NUL: os.environ refuses it;
// either would make load_dotenv fail for the whole file) is refused with
// InvalidArgument, naming the rule and never the value, by the plan-time
// check (Store.ValidateWrite) and by the write, and the file is not touched.
func TestValueRefusedForLiteLLM(t *testing.T) {
	path := envPath(t)
	writeFile(t, path, "KEEP=1\n", 0o600)
	b := newBackend(t, path)
	s := newStore(t, b, nil)
	cases := []struct{ value, msg string }{
		{"sk-\x00-secret", "contains the NUL character (U+0000)"},
		{"sk-\xff-secret", "is not valid UTF-8 text"},
		{"sk-\xc3", "is not valid UTF-8 text"},
	}
	for _, tc := range cases {
		req := backends.WriteRequest{Name: "OPENAI_API_KEY", Value: []byte(tc.value)}
		for what, err := range map[string]error{
			"Store.ValidateWrite": s.ValidateWrite(req),
			"Put":                 func() error { _, err := b.Put(context.Background(), req); return err }(),
			"Store.Write":         func() error { _, err := s.Write(context.Background(), req); return err }(),
		} {
			if got := backends.CodeOf(err); got != backends.InvalidArgument || !strings.Contains(fmt.Sprint(err), tc.msg) {
				t.Errorf("%s(%q): got %v (code %v), want InvalidArgument with %q", what, tc.value, err, got, tc.msg)
			}
			if err != nil && strings.Contains(err.Error(), "sk-") {
				t.Errorf("%s(%q): the error shows the value: %v", what, tc.value, err)
			}
		}
	}
	if got := readFile(t, path); got != "KEEP=1\n" {
		t.Errorf("file after refused writes: %q, want it untouched", got)
	}
	// Without a value (plan, value unknown) only the name is checked.
	if err := s.ValidateWrite(backends.WriteRequest{Name: "OPENAI_API_KEY"}); err != nil {
		t.Errorf("ValidateWrite without a value: %v", err)
	}
}
