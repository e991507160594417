package custom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// maxStderr bounds what is kept of the command's stderr.
const maxStderr = 64 << 10

// execTransport is the exec contract: one process per operation.
type execTransport struct {
	argv []string
}

func (t *execTransport) describe() string {
	return fmt.Sprintf("the custom store command %q", t.argv[0])
}

func (t *execTransport) close() {}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	buf bytes.Buffer
	n   int
	cut bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	if len(p) > l.n-l.buf.Len() {
		l.cut = true
	}
	return len(p), nil
}

func (t *execTransport) call(ctx context.Context, req Request) (*Response, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return nil, backends.Errorf(backends.Internal, "encoding the %s request: %v", req.Operation, jsonErrorKind(err))
	}
	cmd := exec.CommandContext(ctx, t.argv[0], t.argv[1:]...)
	cmd.Stdin = bytes.NewReader(append(in, '\n'))
	stdout := &limitedBuffer{n: maxAnswer + 1}
	stderr := &limitedBuffer{n: maxStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// After a timeout kill, do not wait forever for grandchildren holding
	// the pipes.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	what := fmt.Sprintf("custom store %s of %s", req.Operation, backends.QuoteName(req.Name))
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.As(err, &exitErr):
		// An error answer on stdout wins; else report the exit status and the
		// first line of stderr (the contract: never print secrets there).
		if r, derr := decodeResponse(what, stdout.buf.Bytes()); derr == nil && r.Error != nil {
			return r, nil
		}
		return nil, &storeError{op: req.Operation, name: req.Name, exit: exitErr.ExitCode(), msg: firstLine(stderr.buf.String())}
	default:
		return nil, &startError{err: err}
	}
	if stdout.buf.Len() > maxAnswer {
		return nil, &protocolError{msg: fmt.Sprintf("%s: the answer is larger than %d bytes", what, maxAnswer)}
	}
	if len(bytes.TrimSpace(stdout.buf.Bytes())) == 0 {
		return nil, &protocolError{msg: fmt.Sprintf("%s: the command exited 0 without a JSON answer on stdout", what)}
	}
	return decodeResponse(what, stdout.buf.Bytes())
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return truncate(s)
}
