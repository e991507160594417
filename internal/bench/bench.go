// Package bench is `make bench`: it measures the provider through the real
// CLIs (Terraform and OpenTofu, as scripts/tools.sh builds them) at thousands
// of secrets and writes the results to docs/performance.md.
//
// For each CLI, each size N and each run it generates one configuration of N
// instances per target and times apply, plan (a refresh of every instance)
// and destroy, all with -parallelism=10, interleaving the targets so that a
// noisy machine slows them alike:
//
//	floor          terraform_data: the CLI's own cost, no plugin at all
//	local          llmsecret_secret on the local store (a dotenv file)
//	vault          llmsecret_secret on a real Vault dev server (KV v2)
//	vault_primary  the same with key_management_settings.primary_secret_name,
//	               behind a recording proxy that counts Vault requests; not in
//	               AllTargets: primary secrets are refused outside AWS Secrets
//	               Manager since LiteLLM reads them only there, so the
//	               target now stops at configure
//
// It reports medians, the ratios of each target to the floor of the same CLI
// at the same N, the provider's peak RSS (VmHWM of every provider process,
// sampled from /proc) and its start-up time (exec to an answered
// GetProviderSchema, measured by launching the plugin directly).
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/vault/vaulttest"
)

// Targets, in the order they run and appear in the table.
const (
	TargetFloor        = "floor"
	TargetNoop         = "noop"
	TargetLocal        = "local"
	TargetVault        = "vault"
	TargetVaultPrimary = "vault_primary"
)

// AllTargets lists every target.
var AllTargets = []string{TargetFloor, TargetNoop, TargetLocal, TargetVault}

// Phases, in the order they run.
var Phases = []string{"apply", "plan", "destroy"}

// providerBinary is the plugin's file name, as the CLIs look it up.
const providerBinary = "terraform-provider-llmsecret"

// CLI is one CLI under test.
type CLI struct {
	Name    string // terraform, tofu
	Path    string
	Version string // filled by Run
}

// Options configures Run.
type Options struct {
	// Root is the repository root (where go.mod is).
	Root        string
	CLIs        []CLI
	Sizes       []int
	Runs        int
	Parallelism int
	Targets     []string
	// LargeN is the size from which RunsLarge and TargetsLarge apply: the
	// CLIs' own apply and destroy grow faster than linearly (Terraform 1.15
	// takes minutes at N=2000), so large sizes get fewer runs and targets to
	// keep `make bench` under half an hour.
	LargeN       int
	RunsLarge    int
	TargetsLarge []string
	// StartupRuns is how many times the plugin is launched to time its
	// start-up.
	StartupRuns int
	// Outputs are the files the report is written to.
	Outputs []string
	// Keep leaves the work directory (configurations, logs, states) behind.
	Keep bool
	// Profile builds the provider with CPU and heap profiling (written per
	// provider process into the work directory) and keeps the work directory.
	Profile bool
	// Log receives progress lines.
	Log io.Writer
}

// Sample is one timed command.
type Sample struct {
	CLI, Target, Phase string
	N, Run             int
	Seconds            float64
	// PeakRSS is the largest VmHWM (bytes) of a provider process the
	// command started; 0 for the floor.
	PeakRSS int64
	// Requests counts Vault requests by kind (vault_primary only).
	Requests map[string]int
	// CPU is the user+system time of the CLI and the plugins it waited for;
	// ProviderCPU the provider's part of it (sampled from /proc); StoreCPU
	// that of the Vault server meanwhile.
	CPU, ProviderCPU, StoreCPU float64
}

// Result is what a run measured.
type Result struct {
	Opts      Options
	Machine   Machine
	Started   time.Time
	Duration  time.Duration
	Samples   []Sample
	Startup   Startup
	LoadStart string
	LoadEnd   string
}

// Run builds the provider, starts Vault when a target needs it, measures and
// writes the report.
func Run(ctx context.Context, o Options) (*Result, error) {
	res := &Result{Opts: o, Started: time.Now(), LoadStart: loadAvg()}
	work, err := os.MkdirTemp("", "llmsecret-bench-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if o.Keep || o.Profile {
			fmt.Fprintf(o.Log, "bench: work directory kept: %s\n", work)
			return
		}
		os.RemoveAll(work)
	}()

	binDir := filepath.Join(work, "bin")
	pkg := "."
	if o.Profile {
		pkg = "./internal/bench/cmd/benchprovider"
	}
	fmt.Fprintf(o.Log, "bench: building the provider (%s)\n", pkg)
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(binDir, providerBinary), pkg)
	build.Dir = o.Root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the provider: %w\n%s", err, out)
	}
	providerPath := filepath.Join(binDir, providerBinary)
	cliConfig := filepath.Join(work, "cli.tfrc")
	if err := writeCLIConfig(cliConfig, binDir); err != nil {
		return nil, err
	}
	// The noop target's plugin has the provider's file name in a directory
	// of its own, with a CLI configuration pointing there.
	noopDir := filepath.Join(work, "noop-bin")
	noop := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(noopDir, providerBinary), "./internal/bench/cmd/noopprovider")
	noop.Dir = o.Root
	if out, err := noop.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the noop plugin: %w\n%s", err, out)
	}
	noopConfig := filepath.Join(work, "cli-noop.tfrc")
	if err := writeCLIConfig(noopConfig, noopDir); err != nil {
		return nil, err
	}
	for i := range o.CLIs {
		o.CLIs[i].Version = cliVersion(ctx, o.CLIs[i].Path)
	}

	var vs *vaultEnv
	if slices.ContainsFunc(append(slices.Clone(o.Targets), o.TargetsLarge...), func(t string) bool { return t == TargetVault || t == TargetVaultPrimary }) {
		fmt.Fprintf(o.Log, "bench: starting Vault (scripts/tools.sh vault)\n")
		vs, err = startVault()
		if err != nil {
			return nil, err
		}
		defer vs.stop()
	}
	res.Machine = describeMachine(ctx, o, vs)
	res.Opts = o

	fmt.Fprintf(o.Log, "bench: timing the provider's start-up (%d launches)\n", o.StartupRuns)
	res.Startup, err = measureStartup(ctx, providerPath, o.StartupRuns)
	if err != nil {
		return nil, fmt.Errorf("timing start-up: %w", err)
	}
	fmt.Fprintf(o.Log, "bench: start-up median %.1f ms to serve, %.1f ms to GetProviderSchema\n", ms(res.Startup.Serve), ms(res.Startup.Schema))

	r := &runner{o: o, work: work, cliConfig: cliConfig, provider: providerPath, vault: vs,
		noopConfig: noopConfig, noopProvider: filepath.Join(noopDir, providerBinary)}
	for _, cli := range o.CLIs {
		for _, n := range o.Sizes {
			runs, targets := o.Runs, o.Targets
			if o.LargeN > 0 && n >= o.LargeN {
				runs, targets = o.RunsLarge, o.TargetsLarge
			}
			for run := 1; run <= runs; run++ {
				for _, target := range targets {
					samples, err := r.cycle(ctx, cli, target, n, run)
					res.Samples = append(res.Samples, samples...)
					if err != nil {
						return res, err
					}
				}
			}
		}
	}
	res.Duration = time.Since(res.Started)
	res.LoadEnd = loadAvg()
	report := Markdown(res)
	fmt.Fprintln(o.Log)
	fmt.Fprint(o.Log, Table(res))
	for _, out := range o.Outputs {
		if err := os.WriteFile(out, []byte(report), 0o644); err != nil { //nolint:gosec // docs are world-readable
			return res, err
		}
		fmt.Fprintf(o.Log, "bench: wrote %s\n", out)
	}
	return res, nil
}

type runner struct {
	o         Options
	work      string
	cliConfig string
	provider  string
	vault     *vaultEnv
	// noopConfig and noopProvider are the CLI configuration and the plugin
	// of the noop target.
	noopConfig, noopProvider string
}

// cycle runs apply, plan and destroy of one target at one size.
func (r *runner) cycle(ctx context.Context, cli CLI, target string, n, run int) ([]Sample, error) {
	dir := filepath.Join(r.work, "runs", fmt.Sprintf("%s-%s-%d-%d", cli.Name, target, n, run))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ns := fmt.Sprintf("bench-%s-%d-%d", cli.Name, n, run)
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(configFor(target, n, ns)), 0o644); err != nil { //nolint:gosec // not secret
		return nil, err
	}
	env := r.env(target)
	var out []Sample
	for _, phase := range Phases {
		args := []string{phase, "-input=false", "-no-color", "-parallelism=" + strconv.Itoa(r.o.Parallelism)}
		switch phase {
		case "apply", "destroy":
			args = append(args, "-auto-approve")
		case "plan":
			// A plan right after apply must find nothing to change.
			args = append(args, "-detailed-exitcode")
		}
		if r.vault != nil && target == TargetVaultPrimary {
			r.vault.proxy.reset()
		}
		logPath := filepath.Join(dir, phase+".log")
		s, err := r.timed(ctx, cli, dir, env, logPath, args, r.pluginOf(target))
		s.CLI, s.Target, s.Phase, s.N, s.Run = cli.Name, target, phase, n, run
		if r.vault != nil && target == TargetVaultPrimary {
			s.Requests = r.vault.proxy.counts()
		}
		out = append(out, s)
		if err != nil {
			return out, fmt.Errorf("%s %s of %s at N=%d (run %d): %w (log: %s)", cli.Name, phase, target, n, run, err, logPath)
		}
		fmt.Fprintf(r.o.Log, "bench: %-9s %-13s N=%-5d run %d %-7s %7.2fs  cpu: cli %6.2fs provider %5.2fs vault %5.2fs  rss %5.1f MB%s\n",
			cli.Name, target, n, run, phase, s.Seconds, s.CPU-s.ProviderCPU, s.ProviderCPU, s.StoreCPU, mb(s.PeakRSS), requestNote(s.Requests))
	}
	if !r.o.Keep && !r.o.Profile {
		os.RemoveAll(dir)
	}
	return out, nil
}

func requestNote(m map[string]int) string {
	if m == nil {
		return ""
	}
	return fmt.Sprintf("  vault requests: %d reads, %d writes, %d other", m["read"], m["write"], m["other"])
}

// env is the environment of the CLI: the process's, without anything that
// would change what is measured (logging, other Vault settings), plus the
// dev override and the Vault address and token.
func (r *runner) env(target string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TF_") || strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "HCP_VAULT_") ||
			strings.HasPrefix(k, "LLMSECRET_BENCH_") {
			continue
		}
		env = append(env, kv)
	}
	cliConfig := r.cliConfig
	if target == TargetNoop {
		cliConfig = r.noopConfig
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	if r.vault != nil {
		addr := r.vault.server.Addr
		if target == TargetVaultPrimary {
			addr = r.vault.proxy.url
		}
		env = append(env, "VAULT_ADDR="+addr, "VAULT_TOKEN="+r.vault.server.RootToken)
	}
	if r.o.Profile {
		env = append(env, "LLMSECRET_BENCH_PROFILE_DIR="+filepath.Join(r.work, "profiles"))
	}
	return env
}

// pluginOf is the plugin binary target runs.
func (r *runner) pluginOf(target string) string {
	if target == TargetNoop {
		return r.noopProvider
	}
	return r.provider
}

// timed runs one CLI command and samples the memory and CPU of plugin's
// processes meanwhile.
func (r *runner) timed(ctx context.Context, cli CLI, dir string, env []string, logPath string, args []string, plugin string) (Sample, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return Sample{}, err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, cli.Path, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, logf, logf
	sampler := newRSSSampler(plugin, 20*time.Millisecond)
	var vaultPID int
	if r.vault != nil {
		vaultPID = r.vault.pid
	}
	storeCPU := procCPU(vaultPID)
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	s := Sample{Seconds: elapsed.Seconds()}
	s.PeakRSS, s.ProviderCPU = sampler.stop()
	if ps := cmd.ProcessState; ps != nil {
		s.CPU = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	if vaultPID != 0 {
		s.StoreCPU = procCPU(vaultPID) - storeCPU
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && slices.Contains(args, "-detailed-exitcode") && ee.ExitCode() == 2 {
		return s, errors.New("the plan right after apply wants changes")
	}
	return s, err
}

// writeCLIConfig points both registries' addresses of the provider at dir,
// so no `init` is needed and nothing is downloaded.
func writeCLIConfig(path, dir string) error {
	cfg := fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/llmsecret/llmsecret" = %[1]q
    "registry.opentofu.org/llmsecret/llmsecret" = %[1]q
  }
  direct {}
}
`, dir)
	return os.WriteFile(path, []byte(cfg), 0o600)
}

func cliVersion(ctx context.Context, path string) string {
	out, err := exec.CommandContext(ctx, path, "version").Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// vaultEnv is the Vault dev server of a bench run and its recording proxy.
type vaultEnv struct {
	server *vaulttest.Server
	proxy  *countingProxy
	pid    int // of the server process, for its CPU time
}

func startVault() (*vaultEnv, error) {
	s, err := vaulttest.Launch(vaulttest.Options{})
	if err != nil {
		return nil, fmt.Errorf("starting Vault: %w", err)
	}
	p, err := newCountingProxy(s.Addr)
	if err != nil {
		s.Stop()
		return nil, err
	}
	v := &vaultEnv{server: s, proxy: p}
	if bin, err := vaulttest.Binary(); err == nil {
		v.pid = findPID(bin, "-dev-listen-address="+strings.TrimPrefix(s.Addr, "http://"))
	}
	return v, nil
}

func (v *vaultEnv) stop() {
	v.proxy.close()
	v.server.Stop()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mb(b int64) float64         { return float64(b) / (1 << 20) }
