// Package custom is the custom store (key_management_system = "custom"): a
// store any team plugs in without Go, over one of two documented contracts.
//
// The HTTP contract (custom.url, custom.headers, custom.timeout) is published
// as an OpenAPI 3 file (docs/custom-store-openapi.yaml):
//
//	GET    {url}/capabilities         which operations the store supports
//	GET    {url}/secrets/{name}       read   -> {"value", "version", "description", "tags"}
//	PUT    {url}/secrets/{name}       write  <- {"value", "description", "tags"} -> {"version"}
//	DELETE {url}/secrets/{name}       delete
//	POST   {url}/secrets/{name}/rotate rotate <- {"new_name", "value", ...} -> {"version"}
//	GET    {url}/secrets?prefix=&page_token= list -> {"names", "next_page_token"}
//	GET    {url}/health               health
//
// {name} is percent-encoded as one path segment ("/" is %2F, a name "." is
// %2E). Errors are a non-2xx status with {"error": {"code", "message"}}.
//
// The exec contract (custom.command) runs the command once per operation,
// like a credential helper: a JSON request on stdin
// ({"operation": "get|put|delete|rotate|list|health|capabilities", "name", ...}),
// a JSON answer on stdout, an error as {"error": {"code", "message"}}.
//
// Capabilities are asked once, when the provider is configured:
// {"operations": ["get", "put", ...], "metadata": bool}. "get" is required.
// A store that does not answer the capabilities call (HTTP 404, or an error
// with code "unsupported") is read-only, like LiteLLM's CustomSecretManager,
// whose write and delete raise by default. Caps follow the operations, so the
// provider refuses at plan a resource on a store without "put", and
// deletion_policy = "delete" on a store without "delete".
//
// Values are JSON strings, so they must be UTF-8 (Caps.Binary is false).
// Versions are the store's, or a fingerprint of the value when it sends none.
package custom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// Kind is this store's key_management_system value.
const Kind = "custom"

// DefaultTimeout bounds one operation when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Operations of the contracts.
const (
	OpGet          = "get"
	OpPut          = "put"
	OpDelete       = "delete"
	OpRotate       = "rotate"
	OpList         = "list"
	OpHealth       = "health"
	OpCapabilities = "capabilities"
)

// Options configures the store (the provider's custom block). Exactly one of
// URL and Command is set.
type Options struct {
	// URL is the base URL of the HTTP contract.
	URL string
	// Headers are sent with every HTTP request (e.g. Authorization).
	Headers map[string]string
	// Timeout bounds one operation (one HTTP exchange or one process); zero
	// means 30s.
	Timeout time.Duration
	// Command is the exec contract's program and arguments.
	Command []string
}

// Request is what the provider sends: the exec contract's stdin, and the
// HTTP contract's body (without operation and name, which are in the method
// and path).
type Request struct {
	Operation   string            `json:"operation,omitempty"`
	Name        string            `json:"name,omitempty"`
	NewName     string            `json:"new_name,omitempty"`
	Value       *string           `json:"value,omitempty"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	// Prefix and PageToken are the list operation's.
	Prefix    string `json:"prefix,omitempty"`
	PageToken string `json:"page_token,omitempty"`
}

// String describes the request without its value.
func (r Request) String() string {
	return fmt.Sprintf("Request{Operation: %s, Name: %s, Value: (redacted)}", r.Operation, backends.QuoteName(r.Name))
}

// Format makes every fmt verb print String.
func (r Request) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// Response is what the store answers.
type Response struct {
	Value       *string           `json:"value,omitempty"`
	Version     string            `json:"version,omitempty"`
	Description string            `json:"description,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
	// List: one page of names, and the token of the next ("" after the last).
	Names         []string `json:"names,omitempty"`
	NextPageToken string   `json:"next_page_token,omitempty"`
	// Capabilities.
	Operations []string `json:"operations,omitempty"`
	Metadata   bool     `json:"metadata,omitempty"`
	// Error is set on failure.
	Error *ErrorBody `json:"error,omitempty"`
}

// String describes the response without its value.
func (r Response) String() string {
	return fmt.Sprintf("Response{Version: %q, Value: (redacted)}", r.Version)
}

// Format makes every fmt verb print String.
func (r Response) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }

// ErrorBody is the contracts' error object.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorCodes maps the contracts' error codes to the layer's.
var errorCodes = map[string]backends.Code{
	"not_found":           backends.NotFound,
	"already_exists":      backends.AlreadyExists,
	"permission_denied":   backends.PermissionDenied,
	"unauthenticated":     backends.PermissionDenied,
	"invalid_argument":    backends.InvalidArgument,
	"unsupported":         backends.Unsupported,
	"throttled":           backends.Throttled,
	"unavailable":         backends.Unavailable,
	"failed_precondition": backends.FailedPrecondition,
	"conflict":            backends.FailedPrecondition,
	"internal":            backends.Internal,
	"deadline_exceeded":   backends.DeadlineExceeded,
}

// ErrorCodes lists the contract's error codes, for documentation.
func ErrorCodes() []string {
	out := make([]string, 0, len(errorCodes))
	for k := range errorCodes {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// storeError is an error answer of the store.
type storeError struct {
	op     string
	name   string
	code   string // contract code, "" when the store sent none
	msg    string
	status int // HTTP status, 0 for exec
	exit   int // exit status, -1 when not an exec failure
}

func (e *storeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "custom store %s", e.op)
	if e.name != "" {
		fmt.Fprintf(&b, " of %s", backends.QuoteName(e.name))
	}
	switch {
	case e.status != 0:
		fmt.Fprintf(&b, ": HTTP %d", e.status)
	case e.exit > 0:
		fmt.Fprintf(&b, ": the command exited with status %d", e.exit)
	default:
		b.WriteString(": failed")
	}
	if e.code != "" {
		fmt.Fprintf(&b, ", code %q", e.code)
	}
	if e.msg != "" {
		fmt.Fprintf(&b, ": %s", e.msg)
	}
	return b.String()
}

// transport carries one operation.
type transport interface {
	call(ctx context.Context, req Request) (*Response, error)
	describe() string
	close()
}

type backend struct {
	t        transport
	timeout  time.Duration
	ops      []string
	metadata bool
}

// rotatingBackend is the store when it supports the rotate operation.
type rotatingBackend struct{ *backend }

var (
	_ backends.Backend = (*backend)(nil)
	_ backends.Rotator = rotatingBackend{}
)

// New returns the custom store. It asks the store for its capabilities, so a
// store that cannot be reached fails here, at configure time.
func New(ctx context.Context, opts *Options) (backends.Backend, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	var (
		t   transport
		err error
	)
	switch {
	case o.URL != "" && len(o.Command) > 0:
		return nil, backends.Errorf(backends.InvalidArgument, "custom: set either url (the HTTP contract) or command (the exec contract), not both")
	case o.URL != "":
		t, err = newHTTPTransport(o.URL, o.Headers)
	case len(o.Command) > 0:
		if o.Command[0] == "" {
			return nil, backends.Errorf(backends.InvalidArgument, "custom.command: the program (first element) must not be empty")
		}
		t = &execTransport{argv: slices.Clone(o.Command)}
	default:
		return nil, backends.Errorf(backends.InvalidArgument, "custom: set url (the HTTP contract) or command (the exec contract)")
	}
	if err != nil {
		return nil, err
	}
	b := &backend{t: t, timeout: o.Timeout}
	if err := b.discover(ctx); err != nil {
		t.close()
		return nil, err
	}
	if b.supports(OpRotate) {
		return rotatingBackend{b}, nil
	}
	return b, nil
}

// discover asks for the capabilities.
func (b *backend) discover(ctx context.Context) error {
	resp, err := b.do(ctx, Request{Operation: OpCapabilities})
	var se *storeError
	switch {
	case errors.As(err, &se) && (se.status == 404 || se.code == "unsupported"):
		b.ops = []string{OpGet}
		return nil
	case err != nil:
		// No *Store classifies errors at configure time: tag it here.
		code := backends.CodeOf(err)
		var coded *backends.Error
		if !errors.As(err, &coded) {
			code = b.ErrorCode(err)
		}
		return backends.Errorf(code, "asking %s for its capabilities: %w", b.t.describe(), err)
	}
	for _, op := range resp.Operations {
		switch op {
		case OpGet, OpPut, OpDelete, OpRotate, OpList, OpHealth:
			if !slices.Contains(b.ops, op) {
				b.ops = append(b.ops, op)
			}
		}
	}
	if !slices.Contains(b.ops, OpGet) {
		return backends.Errorf(backends.FailedPrecondition, "%s lists operations %q without %q: a custom store must at least read secrets", b.t.describe(), resp.Operations, OpGet)
	}
	b.metadata = resp.Metadata
	return nil
}

func (b *backend) supports(op string) bool { return slices.Contains(b.ops, op) }

// do runs one operation under the store's timeout.
func (b *backend) do(ctx context.Context, req Request) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	resp, err := b.t.call(ctx, req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded && !errors.Is(err, context.Canceled) {
			return nil, backends.Errorf(backends.DeadlineExceeded, "custom store %s of %s: no answer within custom.timeout (%s)", req.Operation, backends.QuoteName(req.Name), b.timeout)
		}
		return nil, err
	}
	if resp.Error != nil {
		return nil, &storeError{op: req.Operation, name: req.Name, code: resp.Error.Code, msg: truncate(resp.Error.Message), exit: -1}
	}
	return resp, nil
}

// Kind implements backends.Backend.
func (b *backend) Kind() string { return Kind }

// Caps implements backends.Backend.
func (b *backend) Caps() backends.Caps {
	return backends.Caps{Write: b.supports(OpPut), Delete: b.supports(OpDelete), Metadata: b.metadata}
}

// NoDeleteReason implements backends.NoDeleteExplainer.
func (b *backend) NoDeleteReason() string {
	return fmt.Sprintf("%s does not list %q in its capabilities (it supports %s)", b.t.describe(), OpDelete, strings.Join(b.ops, ", "))
}

// Get implements backends.Backend.
func (b *backend) Get(ctx context.Context, name string) (*backends.Secret, error) {
	resp, err := b.do(ctx, Request{Operation: OpGet, Name: name})
	if err != nil {
		return nil, err
	}
	if resp.Value == nil {
		return nil, backends.Errorf(backends.Internal, "custom store get of %s: the answer has no \"value\"", backends.QuoteName(name))
	}
	v := []byte(*resp.Value)
	sec := &backends.Secret{Name: name, Value: v, Version: resp.Version, Description: resp.Description, Tags: resp.Tags}
	if sec.Version == "" {
		sec.Version = backends.Fingerprint(name, v)
	}
	return sec, nil
}

// ListPage implements backends.Lister with the optional list operation. A
// store that does not offer it answers Unsupported, which `terraform query`
// shows as the reason there is nothing to list.
func (b *backend) ListPage(ctx context.Context, prefix, token string) ([]string, string, error) {
	if !b.supports(OpList) {
		return nil, "", backends.Errorf(backends.Unsupported, "%s does not offer the optional %q operation (its capabilities list %q)", b.t.describe(), OpList, b.ops)
	}
	resp, err := b.do(ctx, Request{Operation: OpList, Prefix: prefix, PageToken: token})
	if err != nil {
		return nil, "", err
	}
	if resp.NextPageToken == token && token != "" {
		return nil, "", backends.Errorf(backends.Internal, "custom store list: the answer's next_page_token repeats the one asked for, which would list forever")
	}
	return resp.Names, resp.NextPageToken, nil
}

func (b *backend) writeRequest(op string, req backends.WriteRequest) (Request, error) {
	if !utf8.Valid(req.Value) {
		return Request{}, backends.Errorf(backends.InvalidArgument, "the custom store contracts carry values as JSON strings, so a value must be UTF-8 text; the value of %s is not", backends.QuoteName(req.Name))
	}
	v := string(req.Value)
	r := Request{Operation: op, Name: req.Name, Value: &v}
	if b.metadata {
		r.Description, r.Tags = req.Description, req.Tags
	}
	return r, nil
}

// Put implements backends.Backend.
func (b *backend) Put(ctx context.Context, req backends.WriteRequest) (string, error) {
	if !b.supports(OpPut) {
		return "", b.unsupported(OpPut)
	}
	r, err := b.writeRequest(OpPut, req)
	if err != nil {
		return "", err
	}
	resp, err := b.do(ctx, r)
	if err != nil {
		return "", err
	}
	if resp.Version == "" {
		return backends.Fingerprint(req.Name, req.Value), nil
	}
	return resp.Version, nil
}

// Rotate implements backends.Rotator: the store's own rotate operation.
//
// A rotate is not idempotent: once it has happened, the old name is gone and
// the same rotate again answers not_found. So a rotate that fails in a way
// that may hide a rotation that happened (an answer lost to a 5xx, a timeout
// or a dropped connection, or not_found on a retry) is checked before it is
// reported or retried: when the new name holds the value written and the old
// name is gone, the rotation happened and Rotate succeeds with the new name's
// version.
func (b rotatingBackend) Rotate(ctx context.Context, oldName string, req backends.WriteRequest) (string, error) {
	r, err := b.writeRequest(OpRotate, req)
	if err != nil {
		return "", err
	}
	r.Name, r.NewName = oldName, req.Name
	resp, err := b.do(ctx, r)
	if err != nil {
		if version, ok := b.rotated(ctx, oldName, req, err); ok {
			return version, nil
		}
		return "", err
	}
	if resp.Version == "" {
		return backends.Fingerprint(req.Name, req.Value), nil
	}
	return resp.Version, nil
}

// rotated reports whether a rotate that failed with rotateErr happened all
// the same, and the new name's version if so. Only errors that leave the
// outcome unknown are checked; an answer that says the rotate was refused
// (invalid_argument, permission_denied, unsupported, throttled) is final.
// A timeout of custom.timeout is a *backends.Error, which ErrorCode sees as
// Unknown.
func (b rotatingBackend) rotated(ctx context.Context, oldName string, req backends.WriteRequest, rotateErr error) (string, bool) {
	switch b.ErrorCode(rotateErr) {
	case backends.Unavailable, backends.Internal, backends.Unknown,
		// A retry after a rotation that happened: the old name is gone, or
		// the new name exists.
		backends.NotFound, backends.AlreadyExists, backends.FailedPrecondition:
	default:
		return "", false
	}
	if ctx.Err() != nil {
		return "", false // the check cannot run; the layer's retry will check
	}
	got, err := b.Get(ctx, req.Name)
	if err != nil || string(got.Value) != string(req.Value) {
		return "", false
	}
	if _, err := b.Get(ctx, oldName); b.ErrorCode(err) != backends.NotFound {
		return "", false
	}
	return got.Version, true
}

// Delete implements backends.Backend. Only DeleteForever exists in the
// contracts (Caps reports no SoftDelete).
func (b *backend) Delete(ctx context.Context, name string, mode backends.DeleteMode) error {
	if !b.supports(OpDelete) {
		return b.unsupported(OpDelete)
	}
	if mode != backends.DeleteForever {
		return backends.Errorf(backends.Unsupported, "the custom store contracts have no soft delete")
	}
	_, err := b.do(ctx, Request{Operation: OpDelete, Name: name})
	return err
}

// Health implements backends.Backend: the health operation, else the
// capabilities call again.
func (b *backend) Health(ctx context.Context) error {
	op := OpHealth
	if !b.supports(OpHealth) {
		op = OpCapabilities
	}
	_, err := b.do(ctx, Request{Operation: op})
	return err
}

func (b *backend) unsupported(op string) error {
	return backends.Errorf(backends.Unsupported, "%s does not support the %q operation (it supports %s)", b.t.describe(), op, strings.Join(b.ops, ", "))
}

// Close implements backends.Backend.
func (b *backend) Close() error {
	b.t.close()
	return nil
}

// ErrorCode implements backends.Backend.
func (b *backend) ErrorCode(err error) backends.Code {
	var se *storeError
	if errors.As(err, &se) {
		if c, ok := errorCodes[se.code]; ok {
			return c
		}
		return backends.HTTPStatusCode(se.status, nil)
	}
	var pe *protocolError
	if errors.As(err, &pe) {
		return backends.Internal
	}
	var se2 *startError
	if errors.As(err, &se2) {
		return backends.FailedPrecondition
	}
	if backends.ConnectionFailed(err) {
		return backends.Unavailable
	}
	return backends.Unknown
}

// protocolError is an answer that breaks the contract (not JSON, ...).
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

// startError is a command that could not be started.
type startError struct{ err error }

func (e *startError) Error() string { return "starting custom.command: " + e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

func truncate(s string) string {
	const limit = 300
	s = strings.TrimSpace(s)
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// decodeResponse parses an answer body.
func decodeResponse(what string, data []byte) (*Response, error) {
	var resp Response
	if len(strings.TrimSpace(string(data))) == 0 {
		return &resp, nil
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		// Never quote the body: it may hold a value.
		return nil, &protocolError{msg: fmt.Sprintf("%s answered %d bytes that are not the contract's JSON object: %v", what, len(data), jsonErrorKind(err))}
	}
	return &resp, nil
}

// jsonErrorKind describes a JSON error without quoting input.
func jsonErrorKind(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q has the wrong JSON type (%s)", typ.Field, typ.Value)
	}
	return "malformed JSON"
}
