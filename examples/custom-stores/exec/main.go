// Command exec is the reference implementation of the llmsecret custom store
// exec contract: it reads one JSON request on stdin, answers one JSON object
// on stdout and exits. Secrets live in a JSON file, locked while a request
// runs, so parallel calls never lose a write.
//
// It is run through store.sh beside it, which builds it once. Arguments:
//
//	-file PATH   the JSON file of secrets (default $LLMSECRET_EXEC_STORE_FILE,
//	             else ./secrets.json); created with mode 0600
//	-read-only   advertise only get and health
//
// Errors are answered as {"error": {"code": "...", "message": "..."}} with
// exit status 1. Nothing is ever printed to stderr that could hold a value.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gofrs/flock"
)

type request struct {
	Operation   string            `json:"operation"`
	Name        string            `json:"name"`
	NewName     string            `json:"new_name"`
	Value       *string           `json:"value"`
	Description string            `json:"description"`
	Tags        map[string]string `json:"tags"`
	Prefix      string            `json:"prefix"`
	PageToken   string            `json:"page_token"`
}

type secret struct {
	Value       string            `json:"value"`
	Version     string            `json:"version"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// file is the on-disk document.
type file struct {
	Secrets map[string]secret `json:"secrets"`
	// Counter numbers versions across the whole file, so a re-created name
	// never reuses a version id.
	Counter int `json:"counter"`
}

// codedError is an error with a contract code.
type codedError struct{ code, msg string }

func (e *codedError) Error() string { return e.msg }

func fail(code, format string, args ...any) error {
	return &codedError{code: code, msg: fmt.Sprintf(format, args...)}
}

func main() {
	path := flag.String("file", "", "JSON file of secrets")
	readOnly := flag.Bool("read-only", false, "advertise only get and health")
	flag.Parse()
	if *path == "" {
		*path = os.Getenv("LLMSECRET_EXEC_STORE_FILE")
	}
	if *path == "" {
		*path = "secrets.json"
	}
	answer, err := run(*path, *readOnly, os.Stdin)
	out := json.NewEncoder(os.Stdout)
	if err != nil {
		var ce *codedError
		if !errors.As(err, &ce) {
			ce = &codedError{code: "internal", msg: err.Error()}
		}
		_ = out.Encode(map[string]any{"error": map[string]string{"code": ce.code, "message": ce.msg}})
		os.Exit(1)
	}
	_ = out.Encode(answer)
}

func run(path string, readOnly bool, stdin io.Reader) (any, error) {
	var req request
	dec := json.NewDecoder(io.LimitReader(stdin, 16<<20))
	if err := dec.Decode(&req); err != nil {
		return nil, fail("invalid_argument", "stdin must hold one JSON request")
	}
	switch req.Operation {
	case "capabilities":
		ops := []string{"get", "put", "delete", "rotate", "list", "health"}
		if readOnly {
			ops = []string{"get", "health"}
		}
		return map[string]any{"operations": ops, "metadata": true}, nil
	case "health":
		dir := filepath.Dir(path)
		if _, err := os.Stat(dir); err != nil {
			return nil, fail("unavailable", "the directory of the store file does not exist")
		}
		return map[string]string{"status": "ok"}, nil
	case "list":
		if readOnly {
			return nil, fail("unsupported", "this store does not list")
		}
		// One answer holds every name: a file store has no reason to page.
		doc, err := load(path)
		if err != nil {
			return nil, err
		}
		names := []string{}
		for n := range doc.Secrets {
			if strings.HasPrefix(n, req.Prefix) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		return map[string]any{"names": names, "next_page_token": ""}, nil
	case "get", "put", "delete", "rotate":
	default:
		return nil, fail("unsupported", "unknown operation %q", req.Operation)
	}
	if req.Name == "" {
		return nil, fail("invalid_argument", `"name" is required`)
	}
	if req.Operation != "get" && readOnly {
		return nil, fail("unsupported", "this store is read-only")
	}

	lock := flock.New(path+".lock", flock.SetPermissions(0o600))
	if err := lock.Lock(); err != nil {
		return nil, fail("unavailable", "locking the store file: %v", err)
	}
	defer func() { _ = lock.Unlock() }()
	doc, err := load(path)
	if err != nil {
		return nil, err
	}

	switch req.Operation {
	case "get":
		s, ok := doc.Secrets[req.Name]
		if !ok {
			return nil, fail("not_found", "no secret with this name")
		}
		return s, nil
	case "delete":
		if _, ok := doc.Secrets[req.Name]; !ok {
			return nil, fail("not_found", "no secret with this name")
		}
		delete(doc.Secrets, req.Name)
		return map[string]string{}, save(path, doc)
	}
	if req.Value == nil || *req.Value == "" {
		return nil, fail("invalid_argument", `"value" must be a non-empty string`)
	}
	target := req.Name
	if req.Operation == "rotate" {
		if req.NewName == "" {
			return nil, fail("invalid_argument", `"new_name" is required to rotate`)
		}
		if _, ok := doc.Secrets[req.Name]; !ok {
			return nil, fail("not_found", "no secret with the old name")
		}
		target = req.NewName
	}
	doc.Counter++
	s := secret{Value: *req.Value, Version: strconv.Itoa(doc.Counter), Description: req.Description, Tags: req.Tags}
	doc.Secrets[target] = s
	if req.Operation == "rotate" && target != req.Name {
		delete(doc.Secrets, req.Name)
	}
	return map[string]string{"version": s.Version}, save(path, doc)
}

func load(path string) (*file, error) {
	doc := &file{Secrets: map[string]secret{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return doc, nil
	}
	if err != nil {
		return nil, fail("unavailable", "reading the store file: %v", err)
	}
	if err := json.Unmarshal(data, doc); err != nil {
		return nil, fail("failed_precondition", "the store file is not valid JSON")
	}
	if doc.Secrets == nil {
		doc.Secrets = map[string]secret{}
	}
	return doc, nil
}

// save replaces the file atomically (temporary file, rename).
func save(path string, doc *file) error {
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secrets-*.tmp")
	if err != nil {
		return fail("unavailable", "writing the store file: %v", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
