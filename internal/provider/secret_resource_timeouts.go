package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// withDeadline bounds one operation (op is create, read, update or delete)
// by the resource's timeouts block, else def, the provider's
// timeouts.default (defaultOperationTimeout when unset).
func withDeadline(ctx context.Context, def time.Duration, t timeouts.Value, op string) (context.Context, context.CancelFunc, time.Duration, diag.Diagnostics) {
	if def <= 0 {
		def = defaultOperationTimeout
	}
	var (
		d     time.Duration
		diags diag.Diagnostics
	)
	switch op {
	case "create":
		d, diags = t.Create(ctx, def)
	case "read":
		d, diags = t.Read(ctx, def)
	case "update":
		d, diags = t.Update(ctx, def)
	default:
		d, diags = t.Delete(ctx, def)
	}
	if d <= 0 {
		d = def
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	return ctx, cancel, d, diags
}

// addStoreError reports a failed store call under summary (the aws-style
// "creating secret (X) in local"). When the operation's deadline ran out,
// the summary says so and the detail says which setting to raise and what
// the store last said.
func addStoreError(ctx context.Context, diags *diag.Diagnostics, summary, op string, limit time.Duration, err error) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		diags.AddError(fmt.Sprintf("%s: timed out after %s", summary, limit),
			fmt.Sprintf("The %s did not finish within %s (the resource's timeouts.%s, else the provider's timeouts.default); "+
				"raise it if the store is slow. The last store error was: %v", op, limit, op, err))
		return
	}
	diags.AddError(summary, detailOf(summary, err.Error()))
}

// detailOf is the detail of a diagnostic whose summary is summary: the
// store's message without the summary it may start with, so the CLI does not
// print the same words twice ("creating secret (X) in local" above, "it
// already exists; ..." below).
func detailOf(summary, msg string) string {
	if rest, ok := strings.CutPrefix(msg, summary+": "); ok && rest != "" {
		return rest
	}
	return msg
}
