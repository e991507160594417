package custom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// maxAnswer bounds one answer of the store.
const maxAnswer = 16 << 20

// httpTransport is the HTTP contract.
type httpTransport struct {
	base string
	// shown is base without userinfo: what messages print.
	shown   string
	headers http.Header
	client  *http.Client
}

func newHTTPTransport(raw string, headers map[string]string) (*httpTransport, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, backends.Errorf(backends.InvalidArgument, "custom.url %q must be an http:// or https:// URL with a host and no query", backends.RedactURL(raw))
	}
	h := http.Header{}
	for k, v := range headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(v, "\r\n") {
			return nil, backends.Errorf(backends.InvalidArgument, "custom.headers: %q is not a valid header name, or its value has a line break", k)
		}
		h.Set(k, v)
	}
	tr, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("custom: http.DefaultTransport is not an *http.Transport")
	}
	return &httpTransport{
		base:    strings.TrimRight(u.String(), "/"),
		shown:   backends.RedactURL(strings.TrimRight(u.String(), "/")),
		headers: h,
		client: &http.Client{
			Transport: tr.Clone(),
			// A redirect would resend the headers (credentials) elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

func (t *httpTransport) describe() string { return "the custom store at " + t.shown }

func (t *httpTransport) close() { t.client.CloseIdleConnections() }

// segment percent-encodes a name as one path segment, "/" included; "." is
// a dot segment, so it is encoded too.
func segment(name string) string {
	if name == "." {
		return "%2E"
	}
	return url.PathEscape(name)
}

func (t *httpTransport) route(req Request) (method, path string, body any) {
	switch req.Operation {
	case OpCapabilities:
		return http.MethodGet, "/capabilities", nil
	case OpHealth:
		return http.MethodGet, "/health", nil
	case OpGet:
		return http.MethodGet, "/secrets/" + segment(req.Name), nil
	case OpPut:
		return http.MethodPut, "/secrets/" + segment(req.Name), Request{Value: req.Value, Description: req.Description, Tags: req.Tags}
	case OpDelete:
		return http.MethodDelete, "/secrets/" + segment(req.Name), nil
	case OpList:
		q := url.Values{}
		if req.Prefix != "" {
			q.Set("prefix", req.Prefix)
		}
		if req.PageToken != "" {
			q.Set("page_token", req.PageToken)
		}
		if len(q) == 0 {
			return http.MethodGet, "/secrets", nil
		}
		return http.MethodGet, "/secrets?" + q.Encode(), nil
	case OpRotate:
		return http.MethodPost, "/secrets/" + segment(req.Name) + "/rotate", Request{NewName: req.NewName, Value: req.Value, Description: req.Description, Tags: req.Tags}
	}
	return "", "", nil
}

func (t *httpTransport) call(ctx context.Context, req Request) (*Response, error) {
	method, path, body := t.route(req)
	if method == "" {
		return nil, backends.Errorf(backends.Internal, "custom store: no HTTP route for operation %q", req.Operation)
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, backends.Errorf(backends.Internal, "encoding the %s request: %v", req.Operation, jsonErrorKind(err))
		}
		rd = bytes.NewReader(data)
	}
	hr, err := http.NewRequestWithContext(ctx, method, t.base+path, rd)
	if err != nil {
		return nil, backends.Errorf(backends.InvalidArgument, "building the %s request: %w", req.Operation, err)
	}
	for k, v := range t.headers {
		hr.Header[k] = v
	}
	hr.Header.Set("Accept", "application/json")
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("custom store %s of %s at %s: %w", req.Operation, backends.QuoteName(req.Name), t.shown, backends.TransportError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, fmt.Errorf("custom store %s of %s: reading the answer: %w", req.Operation, backends.QuoteName(req.Name), err)
	}
	if len(data) > maxAnswer {
		return nil, &protocolError{msg: fmt.Sprintf("custom store %s of %s: the answer is larger than %d bytes", req.Operation, backends.QuoteName(req.Name), maxAnswer)}
	}
	what := fmt.Sprintf("custom store %s of %s", req.Operation, backends.QuoteName(req.Name))
	if resp.StatusCode/100 != 2 {
		se := &storeError{op: req.Operation, name: req.Name, status: resp.StatusCode, exit: -1}
		if r, err := decodeResponse(what, data); err == nil && r.Error != nil {
			se.code, se.msg = r.Error.Code, truncate(r.Error.Message)
		}
		if ra := backends.RetryAfter(resp.Header); ra > 0 && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
			return nil, backends.WithRetryAfter(se, ra)
		}
		return nil, se
	}
	return decodeResponse(what, data)
}
