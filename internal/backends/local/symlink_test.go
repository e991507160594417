package local_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

func isSymlink(t *testing.T, path string) bool {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()&fs.ModeSymlink != 0
}

// TestSymlinkAndTargetWriters: two stores reach one file, one through a
// symbolic link and one through its target; 100 writes each in parallel all
// land (both lock the resolved target) and the link stays a link.
func TestSymlinkAndTargetWriters(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.env")
	link := filepath.Join(dir, ".env")
	writeFile(t, target, "EXISTING=1\n", 0o600)
	if err := os.Symlink("real.env", link); err != nil {
		t.Fatal(err)
	}
	viaLink, viaTarget := newBackend(t, link), newBackend(t, target)
	want := map[string]string{"EXISTING": "1"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 200 {
		name := fmt.Sprintf("KEY_%03d", i)
		want[name] = writerValue(i, 1)
		b := viaLink
		if i%2 == 1 {
			b = viaTarget
		}
		wg.Go(func() {
			if _, err := b.Put(context.Background(), backends.WriteRequest{Name: name, Value: []byte(writerValue(i, 1))}); err != nil {
				mu.Lock()
				t.Errorf("Put(%s): %v", name, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if !isSymlink(t, link) {
		t.Errorf("env_file %s is no longer a symbolic link", link)
	}
	checkAll(t, target, want)
}

// TestDanglingSymlink: a link to a file that does not exist yet gets its
// target created (relative to the link's directory); the link is kept.
func TestDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf"), 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, ".env")
	if err := os.Symlink(filepath.Join("conf", "real.env"), link); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, link)
	put(t, b, "A", "1")
	if !isSymlink(t, link) {
		t.Fatalf("env_file %s was replaced: it is no longer a symbolic link", link)
	}
	if got := readFile(t, filepath.Join(dir, "conf", "real.env")); got != "A='1'\n" {
		t.Errorf("target: got %q, want %q", got, "A='1'\n")
	}
	if got := mode(t, filepath.Join(dir, "conf", "real.env")); got != 0o600 {
		t.Errorf("target mode: got %v, want 0600", got)
	}
	sec, err := b.Get(context.Background(), "A")
	if err != nil || string(sec.Value) != "1" {
		t.Errorf("Get(A) through the link: %v, %v", sec, err)
	}
}
