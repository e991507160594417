package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
)

// Targets of issue 8, as ratios to the floor of the same CLI at the same N.
const (
	goalPlanRatio    = 2.0
	goalApplyRatio   = 2.5
	goalDestroyRatio = 2.5
	goalRSSMB        = 60.0
	goalStartupMS    = 50.0
	goalN            = 2000
)

// Machine describes where the numbers were taken.
type Machine struct {
	CPU, Kernel, Go, Vault string
	Cores                  int
	MemGB                  float64
	CLIs                   []string
}

func describeMachine(ctx context.Context, o Options, vs *vaultEnv) Machine {
	m := Machine{CPU: cpuModel(), Cores: runtime.NumCPU(), MemGB: memGB(), Go: runtime.Version()}
	if out, err := exec.CommandContext(ctx, "uname", "-srm").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	for _, c := range o.CLIs {
		m.CLIs = append(m.CLIs, c.Version)
	}
	if vs != nil {
		if bin, err := vaulttest.Binary(); err == nil {
			if out, err := exec.CommandContext(ctx, bin, "version").Output(); err == nil {
				m.Vault = strings.TrimSpace(string(out))
			}
		}
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memGB() float64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kb int64
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			_, _ = fmt.Sscan(rest, &kb)
		}
	}
	return float64(kb) / (1 << 20)
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// row is one line of the table: a target at one size on one CLI.
type row struct {
	cli, target string
	n           int
	med         map[string]float64 // phase -> median seconds
	cliCPU      map[string]float64 // phase -> median CPU seconds of the CLI
	prov        map[string]float64 // phase -> median CPU seconds of the provider
	store       map[string]float64 // phase -> median CPU seconds of Vault
	ratio       map[string]float64 // phase -> median / floor median
	rss         int64              // largest peak over every command
	planReads   []int              // Vault KV reads of each plan (vault_primary)
	runs        int
}

func rows(res *Result) []row {
	type key struct {
		cli, target string
		n           int
	}
	by := map[key][]Sample{}
	var order []key
	for _, s := range res.Samples {
		k := key{s.CLI, s.Target, s.N}
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], s)
	}
	var out []row
	for _, k := range order {
		r := row{cli: k.cli, target: k.target, n: k.n, med: map[string]float64{}, ratio: map[string]float64{},
			cliCPU: map[string]float64{}, prov: map[string]float64{}, store: map[string]float64{}}
		runs := map[int]bool{}
		for _, ph := range Phases {
			var secs, cli, prov, store []float64
			for _, s := range by[k] {
				runs[s.Run] = true
				r.rss = max(r.rss, s.PeakRSS)
				if s.Phase == ph {
					secs = append(secs, s.Seconds)
					cli = append(cli, s.CPU-s.ProviderCPU)
					prov = append(prov, s.ProviderCPU)
					store = append(store, s.StoreCPU)
					if ph == "plan" && s.Requests != nil {
						r.planReads = append(r.planReads, s.Requests["read"])
					}
				}
			}
			if len(secs) > 0 {
				r.med[ph] = median(secs)
				r.cliCPU[ph] = median(cli)
				r.prov[ph] = median(prov)
				r.store[ph] = median(store)
			}
		}
		r.runs = len(runs)
		out = append(out, r)
	}
	floor := map[string]row{}
	for _, r := range out {
		if r.target == TargetFloor {
			floor[fmt.Sprintf("%s/%d", r.cli, r.n)] = r
		}
	}
	for i := range out {
		f, ok := floor[fmt.Sprintf("%s/%d", out[i].cli, out[i].n)]
		if !ok {
			continue
		}
		for ph, v := range out[i].med {
			if fv, ok := f.med[ph]; ok && fv > 0 {
				out[i].ratio[ph] = v / fv
			}
		}
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func cell(r row, ph string) string {
	v, ok := r.med[ph]
	if !ok {
		return "-"
	}
	if r.target == TargetFloor {
		return fmt.Sprintf("%.2f", v)
	}
	if x, ok := r.ratio[ph]; ok {
		return fmt.Sprintf("%.2f (%.2fx)", v, x)
	}
	return fmt.Sprintf("%.2f", v)
}

func cpuCell(r row, ph string) string {
	if _, ok := r.med[ph]; !ok {
		return "-"
	}
	out := fmt.Sprintf("CLI %.1f", r.cliCPU[ph])
	if r.prov[ph] > 0 {
		out += fmt.Sprintf(" + provider %.1f", r.prov[ph])
	}
	if r.store[ph] >= 0.05 {
		out += fmt.Sprintf(" + Vault %.1f", r.store[ph])
	}
	return out
}

func rssCell(r row) string {
	if r.rss == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", mb(r.rss))
}

func readsCell(r row) string {
	if len(r.planReads) == 0 {
		return ""
	}
	parts := make([]string, len(r.planReads))
	for i, n := range r.planReads {
		parts[i] = fmt.Sprint(n)
	}
	return "Vault reads per plan: " + strings.Join(parts, ", ")
}

// Table is the plain-text table printed at the end of a run.
func Table(res *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %5s %-13s %18s %18s %18s %9s  %s\n", "CLI", "N", "target", "apply s (x floor)", "plan s (x floor)", "destroy s (x floor)", "RSS MB", "notes")
	for _, r := range rows(res) {
		fmt.Fprintf(&b, "%-9s %5d %-13s %18s %18s %18s %9s  %s\n", r.cli, r.n, r.target, cell(r, "apply"), cell(r, "plan"), cell(r, "destroy"), rssCell(r), readsCell(r))
	}
	fmt.Fprintf(&b, "provider start-up: %.1f ms to serve, %.1f ms to answer GetProviderSchema (median of %d launches; fastest %.1f ms)\n",
		ms(res.Startup.Serve), ms(res.Startup.Schema), res.Startup.Runs, ms(res.Startup.SchemaMin))
	for _, g := range goals(res) {
		fmt.Fprintf(&b, "%s %s\n", g.status(), g.text)
	}
	return b.String()
}

type goal struct {
	text string
	met  bool
	na   bool
}

func (g goal) status() string {
	switch {
	case g.na:
		return "[not measured]"
	case g.met:
		return "[met]"
	}
	return "[NOT MET]"
}

// goals checks the targets against what was measured.
func goals(res *Result) []goal {
	var out []goal
	rs := rows(res)
	for _, cli := range res.Opts.CLIs {
		var v *row
		for i := range rs {
			if rs[i].cli == cli.Name && rs[i].target == TargetVault && rs[i].n == goalN {
				v = &rs[i]
			}
		}
		for _, g := range []struct {
			ph  string
			max float64
		}{{"plan", goalPlanRatio}, {"apply", goalApplyRatio}, {"destroy", goalDestroyRatio}} {
			t := fmt.Sprintf("%s: %s of N=%d on Vault <= %.1fx the terraform_data floor", cli.Name, g.ph, goalN, g.max)
			if v == nil || v.ratio[g.ph] == 0 {
				out = append(out, goal{text: t, na: true})
				continue
			}
			out = append(out, goal{text: fmt.Sprintf("%s: %.2fx", t, v.ratio[g.ph]), met: v.ratio[g.ph] <= g.max})
		}
	}
	var rss int64
	var rssN int
	var reads []int
	for _, r := range rs {
		if r.target != TargetFloor && r.target != TargetNoop && r.n == goalN {
			rss = max(rss, r.rss)
			rssN = r.n
		}
		reads = append(reads, r.planReads...)
	}
	if rssN == 0 {
		out = append(out, goal{text: fmt.Sprintf("peak provider RSS at N=%d < %.0f MB", goalN, goalRSSMB), na: true})
	} else {
		out = append(out, goal{text: fmt.Sprintf("peak provider RSS at N=%d < %.0f MB: %.1f MB", goalN, goalRSSMB, mb(rss)), met: mb(rss) < goalRSSMB})
	}
	out = append(out, goal{text: fmt.Sprintf("provider start-up (exec to GetProviderSchema answered) < %.0f ms: %.1f ms", goalStartupMS, ms(res.Startup.Schema)),
		met: ms(res.Startup.Schema) < goalStartupMS, na: res.Startup.Runs == 0})
	allOne := len(reads) > 0
	for _, n := range reads {
		allOne = allOne && n == 1
	}
	out = append(out, goal{text: fmt.Sprintf("primary_secret_name: one Vault read per plan whatever N (counted by a proxy: %v)", reads), met: allOne, na: len(reads) == 0})
	return out
}

// Markdown is docs/performance.md.
func Markdown(res *Result) string {
	var b strings.Builder
	o := res.Opts
	b.WriteString(`---
page_title: "Performance"
subcategory: ""
description: |-
  How fast the llmsecret provider plans, applies and destroys thousands of secrets, measured against the CLI's own floor.
---

# Performance

<!-- Generated by ` + "`make bench`" + ` (internal/bench); do not edit by hand. -->

This page is written by ` + "`make bench`" + `, which drives the real CLIs against a provider built from
this repository. For each CLI and each size N it generates one configuration of N instances per target and
times ` + "`apply`" + `, ` + "`plan`" + ` (a refresh of every instance, which must find nothing to change) and
` + "`destroy`" + `, each with ` + "`-parallelism=" + fmt.Sprint(o.Parallelism) + "`" + `. Targets run interleaved
(floor, then the provider's, in each run), so a busy machine slows them alike; the ratios to the floor are
the numbers to read, not the seconds.

| target | what |
|---|---|
| floor | ` + "`terraform_data`" + `: the CLI's own cost; no plugin is started |
| noop | the plugin floor: this provider with the same schemas, but ` + "`llmsecret_secret`" + ` served by do-nothing handlers at the protocol level (no framework, no store; ` + "`internal/bench/cmd/noopprovider`" + `). What any plugin serving this schema costs the CLI |
| local | ` + "`llmsecret_secret`" + ` on the local store (a dotenv file in the working directory) |
| vault | ` + "`llmsecret_secret`" + ` on a real Vault dev server (KV version 2, in memory, loopback), token auth |
| vault_primary | the same with ` + "`key_management_settings.primary_secret_name`" + `: every secret is a field of one Vault secret; Vault requests are counted by a recording proxy |

Every ` + "`llmsecret_secret`" + ` uses ` + "`value_wo`" + ` + ` + "`value_wo_version`" + `.

`)
	m := res.Machine
	fmt.Fprintf(&b, "## Machine\n\n")
	fmt.Fprintf(&b, "- Date: %s (the run took %s)\n", res.Started.UTC().Format("2006-01-02 15:04 MST"), res.Duration.Round(time.Second))
	fmt.Fprintf(&b, "- CPU: %s, %d cores; memory %.0f GiB; %s\n", m.CPU, m.Cores, m.MemGB, m.Kernel)
	fmt.Fprintf(&b, "- %s; %s", m.Go, strings.Join(m.CLIs, "; "))
	if m.Vault != "" {
		fmt.Fprintf(&b, "; %s", m.Vault)
	}
	fmt.Fprintf(&b, "\n- Load average (1, 5, 15 min) at start: %s; at the end: %s. Other work shared the machine, so the\n  seconds are noisy; ratios measured side by side are steadier.\n", res.LoadStart, res.LoadEnd)
	fmt.Fprintf(&b, "- Sizes: %s; runs per cell: %d", joinInts(o.Sizes), o.Runs)
	if o.LargeN > 0 && slices.ContainsFunc(o.Sizes, func(n int) bool { return n >= o.LargeN }) {
		fmt.Fprintf(&b, ", and %d at N >= %d (targets there: %s)", o.RunsLarge, o.LargeN, strings.Join(o.TargetsLarge, ", "))
	}
	fmt.Fprintf(&b, "; -parallelism=%d\n\n", o.Parallelism)

	b.WriteString("## Results\n\nSeconds (the median of the cell's runs) with the ratio to the floor of the same CLI at the same N. RSS is\nthe largest peak resident memory (VmHWM) of any provider process during the cell's commands.\n\n")
	b.WriteString("| CLI | N | target | runs | apply s | plan s | destroy s | peak RSS MB | notes |\n|---|---:|---|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows(res) {
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %s | %s | %s | %s | %s |\n", r.cli, r.n, r.target, r.runs, cell(r, "apply"), cell(r, "plan"), cell(r, "destroy"), rssCell(r), readsCell(r))
	}
	b.WriteString("\nCPU seconds of each command (median): the CLI itself, the provider processes it ran, and the Vault server\n" +
		"meanwhile. When their sum approaches the wall time times the cores, the command was bound by the machine's CPU, and\n" +
		"the CLI's own share shows what serving resources through a plugin costs it compared with the floor.\n\n")
	b.WriteString("| CLI | N | target | apply CPU s | plan CPU s | destroy CPU s |\n|---|---:|---|---:|---:|---:|\n")
	for _, r := range rows(res) {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", r.cli, r.n, r.target, cpuCell(r, "apply"), cpuCell(r, "plan"), cpuCell(r, "destroy"))
	}
	fmt.Fprintf(&b, "\nProvider start-up: %.1f ms from exec to serving (the go-plugin handshake), %.1f ms from exec to an\nanswered `GetProviderSchema` (%d KB), the first call of every CLI command; median of %d launches (fastest: %.1f ms).\n\n",
		ms(res.Startup.Serve), ms(res.Startup.Schema), res.Startup.SchemaBytes>>10, res.Startup.Runs, ms(res.Startup.SchemaMin))

	b.WriteString("## Targets\n\n")
	for _, g := range goals(res) {
		fmt.Fprintf(&b, "- %s %s\n", g.status(), g.text)
	}
	b.WriteString(`
## Where the time goes

`)
	b.WriteString(boundText(res))
	b.WriteString(`
` + "`BENCH_PROFILE=1`" + ` keeps a CPU profile of every provider process. In a plan of thousands of secrets on Vault
the store calls (the layer, the Vault client, HTTP) take a few percent of the provider's CPU and its own code
(models, checks) about 5%; the rest is terraform-plugin-framework's per-request work (schema walks that copy
the attribute map at every step, value transforms, validators and plan modifiers run per attribute, logging
contexts) and the garbage collector. ` + "`go test -bench SecretResourceRefresh ./internal/provider/`" + ` measures
that per secret without a CLI.

## Reproducing

` + "```sh" + `
make bench                               # both CLIs, N in 100 1000 2000 (defaults below)
BENCH_N=100 BENCH_RUNS=1 make bench      # a quick look
BENCH_CLI=tofu BENCH_TARGETS=floor,noop,vault make bench
BENCH_PROFILE=1 BENCH_N=2000 BENCH_RUNS=1 make bench   # CPU and heap profiles of every provider process
` + "```" + `

Defaults: ` + "`BENCH_N=100,1000,2000`" + `, ` + "`BENCH_RUNS=3`" + ` with every target below ` + "`BENCH_LARGE_N=1000`" + `, and from
there ` + "`BENCH_RUNS_LARGE=1`" + ` with ` + "`BENCH_TARGETS_LARGE=floor,noop,vault`" + `: Terraform's own apply and destroy
take minutes at N=2000 (its floor grows faster than linearly), and with these defaults ` + "`make bench`" + ` took 21
minutes on this 2-core machine (2026-11-27, with the noop target; up to 35 on a shared, busy one). Raise them for steadier
medians; ` + "`BENCH_TARGETS_LARGE=floor,noop,vault,vault_primary`" + ` counts the primary secret's reads at every size.

Terraform, OpenTofu and Vault are built from source once by ` + "`scripts/tools.sh`" + `. Peak RSS is sampled
every 20 ms from ` + "`/proc/<pid>/status`" + ` of every process running the provider binary; start-up is measured by
launching the plugin as the CLI does (go-plugin handshake) and calling ` + "`GetProviderSchema`" + ` over its socket.
`)
	return b.String()
}

// boundText compares, per CLI at the largest size with both, the plugin floor
// (noop) with the provider on Vault: the part of each ratio any plugin pays.
func boundText(res *Result) string {
	rs := rows(res)
	var b strings.Builder
	for _, cli := range res.Opts.CLIs {
		var noop, vault *row
		for i := range rs {
			r := &rs[i]
			if r.cli != cli.Name {
				continue
			}
			if r.target == TargetNoop && (noop == nil || r.n > noop.n) {
				noop = r
			}
			if r.target == TargetVault && (vault == nil || r.n > vault.n) {
				vault = r
			}
		}
		if noop == nil || vault == nil || noop.n != vault.n {
			continue
		}
		fmt.Fprintf(&b, "- %s, N=%d: the plugin floor (noop) is at %s of the CLI's floor for apply / plan / destroy; "+
			"llmsecret_secret on Vault at %s. CLI CPU in the plan: %.1f s with the noop plugin, %.1f s with this provider.\n",
			cli.Name, noop.n, ratios(*noop), ratios(*vault), noop.cliCPU["plan"], vault.cliCPU["plan"])
	}
	if b.Len() == 0 {
		return ""
	}
	return "The noop target separates what the CLI spends on any plugin from what this provider adds:\n\n" + b.String() +
		"\nA ratio of the noop target above a target in the list is a bound no provider with this schema can beat on " +
		"this machine and CLI.\n"
}

func ratios(r row) string {
	out := make([]string, 0, 3)
	for _, ph := range Phases {
		out = append(out, fmt.Sprintf("%.2fx", r.ratio[ph]))
	}
	return strings.Join(out, " / ")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
