// Command http is the reference implementation of the llmsecret custom store
// HTTP contract (docs/custom-store-openapi.yaml). It keeps secrets in memory:
// copy it and replace the map with your own store.
//
//	go run ./examples/custom-stores/http -listen 127.0.0.1:8080 -token s3cret
//
// Flags:
//
//	-listen     address to listen on (default 127.0.0.1:8080; port 0 picks one)
//	-token      when set, every request must carry "Authorization: Bearer <token>"
//	-read-only  advertise only get and health, as a store that only serves reads
//	-seed       NAME=VALUE to hold at start (repeatable), e.g. for a read-only store
//
// Once listening it prints "listening on http://<addr>" on stdout.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// secret is one stored secret.
type secret struct {
	value       string
	version     int
	description string
	tags        map[string]string
}

type store struct {
	token    string
	readOnly bool

	mu      sync.Mutex
	secrets map[string]*secret
	// versions keeps counting across deletes, so a re-created name never
	// reuses a version id.
	versions map[string]int
}

// request is a PUT or rotate body.
type request struct {
	NewName     string            `json:"new_name,omitempty"`
	Value       *string           `json:"value"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	token := flag.String("token", "", "bearer token every request must carry (none when empty)")
	readOnly := flag.Bool("read-only", false, "advertise only get and health")
	var seeds []string
	flag.Func("seed", "NAME=VALUE to hold at start (repeatable)", func(v string) error {
		if !strings.Contains(v, "=") {
			return errors.New("want NAME=VALUE")
		}
		seeds = append(seeds, v)
		return nil
	})
	flag.Parse()

	s := &store{token: *token, readOnly: *readOnly, secrets: map[string]*secret{}, versions: map[string]int{}}
	for _, kv := range seeds {
		name, value, _ := strings.Cut(kv, "=")
		s.set(name, &request{Value: &value})
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	_ = os.Stdout.Sync()
	log.Fatal(http.Serve(ln, s))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// ServeHTTP routes on the escaped path, so a name with "/" (sent as %2F) or
// the name "." (sent as %2E) stays one segment: http.ServeMux would clean
// such paths.
func (s *store) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token {
		writeError(w, http.StatusUnauthorized, "unauthenticated", "missing or wrong bearer token")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	switch {
	case len(parts) == 1 && parts[0] == "capabilities" && r.Method == http.MethodGet:
		ops := []string{"get", "put", "delete", "rotate", "list", "health"}
		if s.readOnly {
			ops = []string{"get", "health"}
		}
		writeJSON(w, http.StatusOK, map[string]any{"operations": ops, "metadata": true})
		return
	case len(parts) == 1 && parts[0] == "secrets" && r.Method == http.MethodGet && !s.readOnly:
		s.list(w, r.URL.Query().Get("prefix"), r.URL.Query().Get("page_token"))
		return
	case len(parts) == 1 && parts[0] == "health" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return
	case len(parts) < 2 || len(parts) > 3 || parts[0] != "secrets" || (len(parts) == 3 && parts[2] != "rotate"):
		writeError(w, http.StatusNotFound, "not_found", "no such route")
		return
	}
	name, err := url.PathUnescape(parts[1])
	if err != nil || name == "" {
		writeError(w, http.StatusBadRequest, "invalid_argument", "the name must be one percent-encoded path segment")
		return
	}
	rotate := len(parts) == 3
	switch {
	case r.Method == http.MethodGet && !rotate:
		s.get(w, name)
	case s.readOnly && (r.Method == http.MethodPut || r.Method == http.MethodDelete || r.Method == http.MethodPost):
		writeError(w, http.StatusMethodNotAllowed, "unsupported", "this store is read-only")
	case r.Method == http.MethodPut && !rotate:
		s.put(w, r, name)
	case r.Method == http.MethodDelete && !rotate:
		s.delete(w, name)
	case r.Method == http.MethodPost && rotate:
		s.rotate(w, r, name)
	default:
		writeError(w, http.StatusMethodNotAllowed, "unsupported", "method not allowed on this route")
	}
}

// listPage is how many names one list answer holds.
const listPage = 50

// list answers one page of the names starting with prefix, in name order,
// after page_token (the last name of the previous page).
func (s *store) list(w http.ResponseWriter, prefix, after string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.secrets {
		if strings.HasPrefix(n, prefix) && n > after {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	next := ""
	if len(names) > listPage {
		names = names[:listPage]
		next = names[listPage-1]
	}
	writeJSON(w, http.StatusOK, map[string]any{"names": names, "next_page_token": next})
}

func (s *store) get(w http.ResponseWriter, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, ok := s.secrets[name]
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no secret with this name")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"value": sec.value, "version": strconv.Itoa(sec.version),
		"description": sec.description, "tags": sec.tags,
	})
}

func decode(r *http.Request) (*request, error) {
	var req request
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, errors.New("the body must be the contract's JSON object")
	}
	if req.Value == nil || *req.Value == "" || !utf8.ValidString(*req.Value) {
		return nil, errors.New(`"value" must be a non-empty string`)
	}
	return &req, nil
}

// set stores a value under name and returns its version. s.mu is held.
func (s *store) set(name string, req *request) int {
	s.versions[name]++
	v := s.versions[name]
	s.secrets[name] = &secret{value: *req.Value, version: v, description: req.Description, tags: req.Tags}
	return v
}

func (s *store) put(w http.ResponseWriter, r *http.Request, name string) {
	req, err := decode(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_argument", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"version": strconv.Itoa(s.set(name, req))})
}

func (s *store) delete(w http.ResponseWriter, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.secrets[name]; !ok {
		writeError(w, http.StatusNotFound, "not_found", "no secret with this name")
		return
	}
	delete(s.secrets, name)
	w.WriteHeader(http.StatusNoContent)
}

// rotate writes new_name and removes the old name in one step.
func (s *store) rotate(w http.ResponseWriter, r *http.Request, name string) {
	req, err := decode(r)
	if err != nil || req.NewName == "" {
		writeError(w, http.StatusBadRequest, "invalid_argument", `the body needs "new_name" and "value"`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.secrets[name]; !ok {
		writeError(w, http.StatusNotFound, "not_found", "no secret with the old name")
		return
	}
	v := s.set(req.NewName, req)
	if req.NewName != name {
		delete(s.secrets, name)
	}
	writeJSON(w, http.StatusOK, map[string]string{"version": strconv.Itoa(v)})
}
