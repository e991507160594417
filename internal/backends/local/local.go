// Package local is the embedded default store (key_management_system =
// "local"): secrets are KEY=VALUE lines of a dotenv file, a file LiteLLM can
// load with python-dotenv at start-up (see the local-store guide for when it
// does and where it looks).
//
// It reads one setting, local.env_file (Options.EnvFile): the path of the
// file, ".env" by default. A relative path is resolved against the working
// directory when New is called; Terraform runs providers in the configuration
// directory. The store keeps no description or tags. Reads of a name the file
// lacks fall back to the process environment in *backends.Store (Caps
// reports EnvFallback); this package reads only the file.
//
// # Reads
//
// The parser follows python-dotenv: KEY=value, export KEY=value, blanks
// around "=", unquoted values (trimmed, an inline " #comment" removed),
// single-quoted values (escapes \\ and \' only), double-quoted values
// (escapes \\ \" \' \n \r \t \a \b \f \v, and \xHH for any byte, an extension
// that files written by earlier versions of this store use), quoted values
// spanning lines, single-quoted keys ('a: b'=..., no escapes) and, as an
// extension, double-quoted keys with escapes, comments and blank lines. When
// a key is bound several times the last binding wins; a bare "KEY" line
// without "=" sets nothing.
//
// python-dotenv expands ${NAME} and ${NAME:-default} in every value, quoted
// or not (LiteLLM calls load_dotenv with its default interpolate=True). This
// parser expands only the references no environment or file can define (a
// name holding both ' and =), which python-dotenv always expands to their
// default; the writer uses them to keep "$" literal. Other references are read
// as written.
//
// A line python-dotenv would skip with a warning (an unterminated quote, text
// after a closing quote) is an error here, with code FailedPrecondition,
// naming the file and the line but never its content; a write refuses to
// rewrite a file it cannot parse.
//
// # Writes
//
// Put and Delete take an in-process mutex and an exclusive flock on the
// sibling file "<file>.lock" (mode 0600; never removed), where <file> is
// env_file with every symbolic link resolved, so writers reaching one file by
// a link and by its target share one lock; they read the file,
// edit it, write a temporary file in the same directory, fsync it, rename it
// over the file and fsync the directory. Readers therefore see the old file or
// the new one, never a partial one, and concurrent writers, in one process or
// many, never lose a line. A new file gets mode 0600; a replaced file keeps
// its mode. When env_file is a symbolic link, its target is replaced (and
// created when it does not exist yet); the link is never replaced.
//
// An edit touches only the key's own binding: comments, blank lines, other
// keys with their quoting, "export " prefixes and the file's line endings
// (CRLF included) stay byte for byte. Put rewrites the last binding of the key
// in place (keeping its "export " prefix and inline comment) and drops earlier
// ones; a new key is appended. Delete removes every binding of the key.
//
// # Encoding
//
// Every value written reads back identically through this parser and
// through python-dotenv (dotenv_values, and load_dotenv into os.environ, as
// LiteLLM calls them). Values python-dotenv cannot hand to LiteLLM are
// refused before any write (ValidateWrite, at plan when the value is known):
// invalid UTF-8 (python-dotenv decodes the file as UTF-8) and NUL (os.environ
// refuses it); either would make load_dotenv fail for the whole file. Names
// with "=" (no environment variable can hold it) or "'" (python-dotenv reads
// quoted keys without escapes) are refused too. A value is written
// single-quoted with \ and ' escaped, or double-quoted with \\ \" \r \n
// escapes when it holds a carriage return; every "${" is written as
// "${'=:-$}{", which python-dotenv expands to "${"; a value ending in a
// backslash is written unquoted when that is safe, else followed by
// "${'=:-}" (which expands to nothing) so that no closing quote follows a
// backslash. A key is written bare when it matches ^[A-Za-z0-9_./-]+$, else
// single-quoted as it is.
package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gofrs/flock"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Kind is this store's key_management_system value.
const Kind = "local"

// DefaultEnvFile is the env_file used when none is set.
const DefaultEnvFile = ".env"

// MaxNameBytes is the longest name the store accepts.
const MaxNameBytes = 1024

// lockRetry is how often a writer polls for the cross-process lock while
// another process holds it.
const lockRetry = 5 * time.Millisecond

// Options configures the store (the provider's local block).
type Options struct {
	// EnvFile is the dotenv file (local.env_file). Empty means ".env". A
	// relative path is resolved against the process working directory.
	EnvFile string
}

type backend struct {
	path string // absolute
	mu   sync.Mutex
}

var (
	_ backends.Backend        = (*backend)(nil)
	_ backends.NameValidator  = (*backend)(nil)
	_ backends.WriteValidator = (*backend)(nil)
	_ backends.BatchGetter    = (*backend)(nil)
)

// New returns the dotenv store. opts nil means the defaults. The file need
// not exist yet: the first write creates it.
func New(opts *Options) (backends.Backend, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.EnvFile == "" {
		o.EnvFile = DefaultEnvFile
	}
	path, err := filepath.Abs(o.EnvFile)
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "local.env_file %q: %w", o.EnvFile, err)
	}
	return &backend{path: path}, nil
}

// Kind implements backends.Backend.
func (b *backend) Kind() string { return Kind }

// Caps implements backends.Backend.
func (b *backend) Caps() backends.Caps {
	return backends.Caps{
		Write:       true,
		Delete:      true,
		EnvFallback: true,
		// The file is replaced before Delete returns.
		ImmediateDelete: true,
	}
}

// ValidateName implements backends.NameValidator.
func (b *backend) ValidateName(name string) error {
	if len(name) > MaxNameBytes {
		return backends.RuleViolation("secret name %+q... is %d bytes; the local store allows at most %d", name[:64], len(name), MaxNameBytes)
	}
	if !utf8.ValidString(name) {
		return backends.RuleViolation("secret name %s is not valid UTF-8; the local store allows only UTF-8 names", backends.QuoteName(name))
	}
	if strings.Contains(name, "=") {
		return backends.RuleViolation("secret name %s contains \"=\", which no environment variable name can hold: LiteLLM's load_dotenv would fail to set it (and stop) when it loads the file; the local store refuses it", backends.QuoteName(name))
	}
	if strings.Contains(name, "'") {
		return backends.RuleViolation("secret name %s contains a single quote (U+0027): python-dotenv, which LiteLLM loads the file with, reads a quoted name without escapes, so it cannot read this name back; the local store refuses it", backends.QuoteName(name))
	}
	return nil
}

// ValidateWrite implements backends.WriteValidator: the value must reach
// LiteLLM exactly through python-dotenv, which decodes the file as UTF-8
// and sets os.environ, which refuses NUL. Either would make LiteLLM's
// load_dotenv fail for the whole file. Called without a value (at plan,
// when only the name is known), it checks nothing more.
func (b *backend) ValidateWrite(req backends.WriteRequest) error {
	if req.Value == nil {
		return nil
	}
	if !utf8.Valid(req.Value) {
		return backends.RuleViolation("the value of secret (%s) is not valid UTF-8 text; the local store refuses it because python-dotenv, which LiteLLM loads the file with, reads the file as UTF-8 and would fail on it", req.Name)
	}
	if bytes.IndexByte(req.Value, 0) >= 0 {
		return backends.RuleViolation("the value of secret (%s) contains the NUL character (U+0000); the local store refuses it because no environment variable can hold NUL, so LiteLLM's load_dotenv would fail on it", req.Name)
	}
	return nil
}

// Get implements backends.Backend.
func (b *backend) Get(ctx context.Context, name string) (*backends.Secret, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doc, err := b.load()
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, backends.Errorf(backends.NotFound, "env_file %s does not exist", b.path)
	}
	v, ok := doc.lookup(name)
	if !ok {
		return nil, backends.Errorf(backends.NotFound, "not set in env_file %s", b.path)
	}
	return &backends.Secret{Name: name, Value: v, Version: backends.Fingerprint(name, v)}, nil
}

// GetBatch implements backends.BatchGetter: one read of the file serves every
// name.
func (b *backend) GetBatch(ctx context.Context, names []string) (map[string]*backends.Secret, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doc, err := b.load()
	if err != nil || doc == nil {
		return map[string]*backends.Secret{}, err
	}
	out := make(map[string]*backends.Secret, len(names))
	for _, name := range names {
		if v, ok := doc.lookup(name); ok {
			out[name] = &backends.Secret{Name: name, Value: v, Version: backends.Fingerprint(name, v)}
		}
	}
	return out, nil
}

// Put implements backends.Backend. Description and tags are not stored.
func (b *backend) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	if err := b.ValidateWrite(req); err != nil {
		return "", err
	}
	err := b.update(ctx, func(doc *document) ([]byte, bool) {
		return doc.set(req.Name, req.Value), true
	})
	if err != nil {
		return "", err
	}
	return backends.Fingerprint(req.Name, req.Value), nil
}

// Delete implements backends.Backend. Only DeleteForever is supported (Caps
// reports no SoftDelete).
func (b *backend) Delete(ctx context.Context, name string, mode backends.DeleteMode) error {
	if mode != backends.DeleteForever {
		return backends.Errorf(backends.Unsupported, "the local store has no soft delete")
	}
	if _, err := os.Lstat(b.path); errors.Is(err, fs.ErrNotExist) {
		return nil // no file, nothing to delete (and maybe no directory to lock in)
	}
	return b.update(ctx, func(doc *document) ([]byte, bool) {
		return doc.remove(name)
	})
}

// Health implements backends.Backend: the file, if it exists, is readable
// and parses, and its directory exists and is writable (a readable file in a
// read-only directory is enough for reads).
func (b *backend) Health(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(b.path)
	if err := checkDir(dir); err != nil {
		return err
	}
	doc, err := b.load()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".llmsecret-health-*")
	if err != nil {
		if doc != nil {
			return nil // readable: enough for reads; a write will report its own error
		}
		return fmt.Errorf("env_file %s does not exist and its directory is not writable: %w", b.path, err)
	}
	name := f.Name()
	f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("removing health-check file: %w", err)
	}
	return nil
}

// errnoCodes classifies file-system errors that fs.ErrPermission and
// fs.ErrNotExist do not cover.
var errnoCodes = map[syscall.Errno]backends.Code{
	syscall.EROFS:   backends.PermissionDenied,
	syscall.EISDIR:  backends.FailedPrecondition,
	syscall.ENOTDIR: backends.FailedPrecondition,
}

// ErrorCode implements backends.Backend.
func (b *backend) ErrorCode(err error) backends.Code {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if c, ok := errnoCodes[errno]; ok {
			return c
		}
	}
	switch {
	case errors.Is(err, fs.ErrPermission):
		return backends.PermissionDenied
	case errors.Is(err, fs.ErrNotExist):
		return backends.NotFound
	}
	return backends.Unknown
}

// Close implements backends.Backend. It waits for a write in progress; the
// cross-process lock is only held (and its file open) during writes.
func (b *backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return nil
}

// load reads and parses the file. A missing file is a nil document.
func (b *backend) load() (*document, error) {
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return b.parse(data, "")
}

func (b *backend) parse(data []byte, refusal string) (*document, error) {
	doc, err := parse(data)
	if err != nil {
		var pe *parseError
		if errors.As(err, &pe) {
			return nil, backends.Errorf(backends.FailedPrecondition, "env_file %s is not a valid dotenv file: %s%s", b.path, pe, refusal)
		}
		return nil, err
	}
	return doc, nil
}

// update runs one write: it locks, reads the current file (empty if missing),
// applies edit and atomically replaces the file when edit changed it.
func (b *backend) update(ctx context.Context, edit func(*document) ([]byte, bool)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	target, unlock, err := lockTarget(ctx, b.path)
	if err != nil {
		return err
	}
	defer unlock()
	data, mode, existed, err := readWithMode(target)
	if err != nil {
		return err
	}
	doc, err := b.parse(data, "; refusing to rewrite it")
	if err != nil {
		return err
	}
	out, changed := edit(doc)
	if !changed || (existed && string(out) == string(data)) {
		return nil
	}
	if !existed {
		mode = 0o600
	}
	return writeAtomic(target, out, mode)
}

// lockTarget resolves path (resolveTarget) and takes the cross-process lock
// of the file a write replaces, "<target>.lock", not of the name it was
// reached by: a writer through a symbolic link and one through its target
// share one lock. The link may be retargeted while we wait: resolve again.
func lockTarget(ctx context.Context, path string) (string, func(), error) {
	for attempt := 0; ; attempt++ {
		target, err := resolveTarget(path)
		if err != nil {
			return "", nil, err
		}
		if err := checkDir(filepath.Dir(target)); err != nil {
			return "", nil, err
		}
		lock := flock.New(target+".lock", flock.SetPermissions(0o600))
		if _, err := lock.TryLockContext(ctx, lockRetry); err != nil {
			_ = lock.Close()
			if ctx.Err() != nil {
				return "", nil, err
			}
			return "", nil, fmt.Errorf("locking %s: %w", lock.Path(), err)
		}
		// Closing releases the lock; an error leaves nothing to do.
		unlock := func() { _ = lock.Close() }
		again, err := resolveTarget(path)
		if err != nil {
			unlock()
			return "", nil, err
		}
		if again == target || attempt >= maxLinks {
			return target, unlock, nil
		}
		unlock()
	}
}

// maxLinks bounds symbolic link resolution (as Linux's MAXSYMLINKS).
const maxLinks = 40

// resolveTarget returns the file a write through path replaces: path with
// every symbolic link followed, link by link, so that a link whose target
// does not exist yet resolves to that target (which the write then creates)
// instead of being replaced itself. A relative link is read against the
// link's own directory.
func resolveTarget(path string) (string, error) {
	for range maxLinks {
		dir, err := filepath.EvalSymlinks(filepath.Dir(path))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", backends.Errorf(backends.FailedPrecondition, "the directory of env_file, %s, does not exist", filepath.Dir(path))
			}
			return "", err
		}
		path = filepath.Join(dir, filepath.Base(path))
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return path, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(dir, link)
		}
		path = link
	}
	return "", backends.Errorf(backends.FailedPrecondition, "env_file: too many levels of symbolic links")
}

// checkDir reports a missing directory as FailedPrecondition: a write cannot
// create the file there, and NotFound would read as a missing secret.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return backends.Errorf(backends.FailedPrecondition, "the directory of env_file, %s, does not exist", dir)
	case err != nil:
		return err
	case !fi.IsDir():
		return backends.Errorf(backends.FailedPrecondition, "the directory of env_file, %s, is not a directory", dir)
	}
	return nil
}

// readWithMode reads path and its permission bits. A missing file is empty
// and not existed.
func readWithMode(path string) (data []byte, mode fs.FileMode, existed bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, false, err
	}
	if fi.IsDir() {
		return nil, 0, false, backends.Errorf(backends.FailedPrecondition, "env_file %s is a directory", path)
	}
	data, err = io.ReadAll(f)
	if err != nil {
		return nil, 0, false, err
	}
	return data, fi.Mode().Perm(), true, nil
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, written, chmod-ed and fsync-ed, renamed over path, then the
// directory fsync-ed so the rename survives a crash.
func writeAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory. File systems and platforms that cannot (Windows,
// some network file systems) are not an error: the rename is done.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return err
	}
	return nil
}
