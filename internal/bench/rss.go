package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// rssSampler polls /proc for processes running the provider binary and keeps
// the largest VmHWM (the kernel's high-water mark of resident memory) seen.
// VmHWM only grows during a process's life, so the last sample before the
// process exits is its peak up to the sampling interval.
type rssSampler struct {
	exe  string
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	peak int64
	cpu  map[string]float64 // last CPU seconds seen per provider pid
}

func newRSSSampler(exe string, every time.Duration) *rssSampler {
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	s := &rssSampler{exe: exe, done: make(chan struct{}), cpu: map[string]float64{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.done:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends sampling and returns the peak in bytes (0 if no provider ran)
// and the CPU seconds the provider processes used, as last sampled (short of
// at most one sampling interval each).
func (s *rssSampler) stop() (peak int64, cpu float64) {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cpu {
		cpu += c
	}
	return s.peak, cpu
}

// comm is what /proc/<pid>/comm shows for the provider: the first 15 bytes
// of its file name.
var comm = []byte(providerBinary[:15])

func (s *rssSampler) sample() {
	d, err := os.Open("/proc")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, pid := range names {
		if pid[0] < '0' || pid[0] > '9' {
			continue
		}
		c, err := os.ReadFile("/proc/" + pid + "/comm")
		if err != nil || !bytes.HasPrefix(c, comm) {
			continue
		}
		if exe, err := os.Readlink("/proc/" + pid + "/exe"); err != nil || exe != s.exe {
			continue
		}
		hwm := vmHWM("/proc/" + pid + "/status")
		n, _ := strconv.Atoi(pid)
		cpu := procCPU(n)
		s.mu.Lock()
		s.peak = max(s.peak, hwm)
		if cpu > 0 {
			s.cpu[pid] = cpu
		}
		s.mu.Unlock()
	}
}

// vmHWM reads VmHWM (in kB in the file) and returns bytes.
func vmHWM(status string) int64 {
	data, err := os.ReadFile(status)
	if err != nil {
		return 0
	}
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}

// findPID returns the pid of a process running exe whose command line
// contains arg (0 if none): other Vault servers may run on the machine.
func findPID(exe, arg string) int {
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	names, _ := os.ReadDir("/proc")
	for _, e := range names {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := os.Readlink("/proc/" + e.Name() + "/exe"); err != nil || p != exe {
			continue
		}
		if cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(cmdline, []byte(arg)) {
			return pid
		}
	}
	return 0
}

// procCPU returns the user+system CPU seconds of pid so far (0 if unknown),
// from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s).
func procCPU(pid int) float64 {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields count from after it.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := bytes.Fields(data[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(string(f[11]), 64)
	stime, _ := strconv.ParseFloat(string(f[12]), 64)
	return (utime + stime) / 100
}
