// Command benchprovider is the provider with profiling, for `BENCH_PROFILE=1
// make bench`: the same server as the real binary, which, when
// LLMSECRET_BENCH_PROFILE_DIR is set, writes a CPU profile and a heap profile
// of the process into that directory when the CLI shuts it down.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/plugin"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/provider"
)

func main() {
	dir := os.Getenv("LLMSECRET_BENCH_PROFILE_DIR")
	var cpu *os.File
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		var err error
		cpu, err = os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", os.Getpid())))
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			log.Fatal(err)
		}
		go snapshots(dir)
	}
	err := plugin.Serve("registry.terraform.io/llmsecret/llmsecret", provider.New("bench"), false)
	if cpu != nil {
		pprof.StopCPUProfile()
		cpu.Close()
		if f, ferr := os.Create(filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", os.Getpid()))); ferr == nil {
			runtime.GC()
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	if err != nil {
		log.Fatal(err.Error())
	}
}

// snapshots writes the live heap and the goroutines every 5 seconds, so the
// peak can be looked at, not only what is left at exit.
func snapshots(dir string) {
	go memLog(dir)
	for i := 1; ; i++ {
		time.Sleep(5 * time.Second)
		for _, p := range []string{"heap", "goroutine"} {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d-%02d.pprof", p, os.Getpid(), i)))
			if err != nil {
				return
			}
			_ = pprof.Lookup(p).WriteTo(f, 0)
			f.Close()
		}
	}
}

// memLog appends, every 500 ms, the live heap as of the last GC, the total
// heap, the goroutine count and the number of GCs.
func memLog(dir string) {
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("mem-%d.log", os.Getpid())))
	if err != nil {
		return
	}
	samples := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/sched/goroutines:goroutines"}, {Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/memory/classes/total:bytes"},
	}
	start := time.Now()
	for {
		metrics.Read(samples)
		fmt.Fprintf(f, "%6.1fs live %6.1f MB heap %6.1f MB total %6.1f MB goroutines %4d gcs %d\n", time.Since(start).Seconds(),
			float64(samples[0].Value.Uint64())/(1<<20), float64(samples[1].Value.Uint64())/(1<<20),
			float64(samples[4].Value.Uint64())/(1<<20), samples[2].Value.Uint64(), samples[3].Value.Uint64())
		time.Sleep(500 * time.Millisecond)
	}
}
