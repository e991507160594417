// Command bench is `make bench`: it times apply, plan and destroy of
// thousands of llmsecret_secret instances through Terraform and OpenTofu
// against the CLI's own floor (terraform_data) and writes
// docs/performance.md. Run it from the repository root:
//
//	go run ./internal/bench/cmd/bench
//
// Settings come from the environment:
//
//	BENCH_N        sizes, comma-separated (default 100,1000,2000)
//	BENCH_RUNS     runs per cell, the median is reported (default 3)
//	BENCH_LARGE_N  from this size on, BENCH_RUNS_LARGE and BENCH_TARGETS_LARGE
//	               apply (default 1000; the CLIs' own apply and destroy grow
//	               faster than linearly, Terraform's takes minutes at 2000)
//	BENCH_RUNS_LARGE    runs per cell at large sizes (default 1)
//	BENCH_TARGETS_LARGE targets at large sizes (default floor,noop,vault)
//	BENCH_CLI      terraform, tofu or both (default terraform,tofu)
//	BENCH_TARGETS  floor,noop,local,vault (default all)
//	BENCH_PARALLELISM  the CLI's -parallelism (default 10)
//	BENCH_STARTUP_RUNS launches of the plugin to time its start-up (default 15)
//	BENCH_OUT      files to write the report to, comma-separated (default
//	               templates/performance.md and docs/performance.md; "-" for none)
//	BENCH_KEEP=1   keep the work directory (configurations, logs, state)
//	BENCH_PROFILE=1 build the provider with CPU and heap profiling; the
//	               profiles of every provider process stay in the work directory
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	o := bench.Options{
		Root:        root,
		Runs:        envInt("BENCH_RUNS", 3),
		Parallelism: envInt("BENCH_PARALLELISM", 10),
		StartupRuns: envInt("BENCH_STARTUP_RUNS", 15),
		Targets:     envList("BENCH_TARGETS", strings.Join(bench.AllTargets, ",")),
		LargeN:      envInt("BENCH_LARGE_N", 1000),
		RunsLarge:   envInt("BENCH_RUNS_LARGE", 1),
		Keep:        os.Getenv("BENCH_KEEP") == "1",
		Profile:     os.Getenv("BENCH_PROFILE") == "1",
		Log:         os.Stdout,
	}
	for _, s := range envList("BENCH_N", "100,1000,2000") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("BENCH_N: %q is not a positive number", s)
		}
		o.Sizes = append(o.Sizes, n)
	}
	// An explicit BENCH_TARGETS applies at every size unless
	// BENCH_TARGETS_LARGE says otherwise.
	largeDefault := "floor,noop,vault"
	if os.Getenv("BENCH_TARGETS") != "" {
		largeDefault = os.Getenv("BENCH_TARGETS")
	}
	o.TargetsLarge = envList("BENCH_TARGETS_LARGE", largeDefault)
	for _, t := range append(slices.Clone(o.Targets), o.TargetsLarge...) {
		if !slices.Contains(bench.AllTargets, t) {
			return fmt.Errorf("BENCH_TARGETS: unknown target %q (want some of %s)", t, strings.Join(bench.AllTargets, ","))
		}
	}
	if o.Runs < 1 || o.RunsLarge < 1 || o.Parallelism < 1 {
		return fmt.Errorf("BENCH_RUNS, BENCH_RUNS_LARGE and BENCH_PARALLELISM must be positive")
	}
	for _, name := range envList("BENCH_CLI", "terraform,tofu") {
		if name != "terraform" && name != "tofu" {
			return fmt.Errorf("BENCH_CLI: unknown CLI %q (want terraform, tofu)", name)
		}
		out, err := exec.CommandContext(ctx, filepath.Join(root, "scripts", "tools.sh"), name).Output()
		if err != nil {
			return fmt.Errorf("scripts/tools.sh %s: %w", name, err)
		}
		o.CLIs = append(o.CLIs, bench.CLI{Name: name, Path: strings.TrimSpace(string(out))})
	}
	switch out := os.Getenv("BENCH_OUT"); out {
	case "-":
	case "":
		o.Outputs = []string{filepath.Join(root, "templates", "performance.md"), filepath.Join(root, "docs", "performance.md")}
	default:
		o.Outputs = strings.Split(out, ",")
	}
	_, err = bench.Run(ctx, o)
	return err
}

func envInt(k string, def int) int {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %s=%q is not a number; using %d\n", k, v, def)
		return def
	}
	return n
}

func envList(k, def string) []string {
	v := os.Getenv(k)
	if v == "" {
		v = def
	}
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// repoRoot walks up from the working directory to go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s: run bench from the repository", dir)
		}
	}
}
