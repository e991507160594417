package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// selectStore applies the store-selection rules to the provider block: the
// store is key_management_system (default local), and a store block that the
// selection ignores is an error rather than a silent fallback. Without these
// rules, `hashicorp_vault = {...}` with no key_management_system would write
// every secret in plain text to ./.env.
func selectStore(cfg *LLMSecretProviderModel) (kind string, attr path.Path, summary, detail string) {
	var blocks []string
	for _, k := range storeKinds {
		if b := cfg.storeBlock(k); !b.IsNull() {
			blocks = append(blocks, k)
		}
	}
	kind = defaultStoreKind
	if !cfg.KeyManagementSystem.IsNull() {
		kind = cfg.KeyManagementSystem.ValueString()
	}
	others := slices.DeleteFunc(slices.Clone(blocks), func(k string) bool { return k == kind })
	switch {
	case len(others) == 0:
		return kind, path.Path{}, "", ""
	case cfg.KeyManagementSystem.IsNull() && len(others) == 1:
		return "", path.Root(others[0]), "Store block without key_management_system",
			fmt.Sprintf("The %[1]s block is set, but key_management_system is not, so the provider would use the "+
				"default local store (a plaintext dotenv file) and ignore the block. Set key_management_system = %[1]q "+
				"to use %[1]s, or remove the %[1]s block.", others[0])
	case cfg.KeyManagementSystem.IsNull():
		return "", path.Root("key_management_system"), "Several store blocks without key_management_system",
			fmt.Sprintf("The blocks %s are set, but key_management_system is not. One provider configuration uses "+
				"one store: set key_management_system to one of them and remove the others (use a provider alias "+
				"for each further store).", backtickList(others))
	default:
		return "", path.Root(others[0]), "Store block for a store that is not selected",
			fmt.Sprintf("key_management_system = %q, so the %s block would be ignored. One provider configuration "+
				"uses one store: remove the block, or set key_management_system = %q (use a provider alias for each "+
				"further store).", kind, backtickList(others), others[0])
	}
}

// storeKindValidator refuses an unknown key_management_system and suggests
// the closest valid value, so `aws_secrets_manager` points at
// `aws_secret_manager`.
type storeKindValidator struct{}

func (storeKindValidator) Description(context.Context) string {
	return "must be one of " + strings.Join(storeKinds, ", ")
}

func (v storeKindValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (storeKindValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	got := req.ConfigValue.ValueString()
	if slices.Contains(storeKinds, got) {
		return
	}
	detail := fmt.Sprintf("%q is not a store this provider knows.", got)
	if s := closest(got, storeKinds); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	}
	detail += " Valid values, as LiteLLM names them: " + strings.Join(storeKinds, ", ") + "."
	resp.Diagnostics.AddAttributeError(req.Path, "Unknown key_management_system", detail)
}

var _ validator.String = storeKindValidator{}

// closest returns the candidate nearest to s by edit distance (case and
// '-'/'_' folded), when it is near enough to be a likely typo.
func closest(s string, candidates []string) string {
	norm := func(x string) string { return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(x)), "-", "_") }
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(norm(s), norm(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD >= 0 && bestD <= max(2, len(best)/3) {
		return best
	}
	// A part of a name ("vault", "azure") points at the one value that
	// contains it.
	var parts []string
	for _, c := range candidates {
		if n := norm(s); len(n) >= 4 && strings.Contains(norm(c), n) {
			parts = append(parts, c)
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return ""
}

// editDistance is the Levenshtein distance of a and b, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
