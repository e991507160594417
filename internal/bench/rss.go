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
}

func newRSSSampler(exe string, every time.Duration) *rssSampler {
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	s := &rssSampler{exe: exe, done: make(chan struct{})}
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

// stop ends sampling and returns the peak in bytes (0 if no provider ran).
func (s *rssSampler) stop() int64 {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
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
		if hwm := vmHWM("/proc/" + pid + "/status"); hwm > 0 {
			s.mu.Lock()
			s.peak = max(s.peak, hwm)
			s.mu.Unlock()
		}
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
