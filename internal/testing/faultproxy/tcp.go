package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ConnFault is what happens to a chosen TCP connection.
type ConnFault struct {
	// Delay holds the connection this long before it is forwarded.
	Delay time.Duration
	// Drop closes the accepted connection at once.
	Drop bool
	// ResetAfter forwards this many bytes of the server's side, then resets
	// the client's connection (TCP RST) and closes the server's (0: off).
	ResetAfter int
	// Hang accepts the connection and never forwards it; it is held until
	// the client leaves or the proxy closes.
	Hang bool
}

// String names the fault for reports.
func (f ConnFault) String() string {
	s := ""
	if f.Delay > 0 {
		s = "delay " + f.Delay.String()
	}
	add := func(x string) {
		if s != "" {
			s += "+"
		}
		s += x
	}
	switch {
	case f.Drop:
		add("drop")
	case f.ResetAfter > 0:
		add(fmt.Sprintf("reset after %d bytes", f.ResetAfter))
	case f.Hang:
		add("hang")
	}
	if s == "" {
		return "pass"
	}
	return s
}

// ConnRule chooses connections, in the order they are accepted.
type ConnRule struct {
	// Nth is the first connection the fault applies to (1-based; 0 means
	// the next one accepted after Add).
	Nth int
	// Times is how many connections from the Nth on get it (0 means 1;
	// Forever never stops).
	Times int
	ConnFault
}

// TCPProxy forwards TCP connections from a loopback port to a server and
// injects connection faults. gRPC multiplexes calls over one connection, so
// faults here hit every call in flight on it; CutAll simulates a network
// blip on a connection the client already holds.
type TCPProxy struct {
	upstream string
	ln       net.Listener
	conns    atomic.Int64

	mu     sync.Mutex
	rules  []*connRule
	open   map[net.Conn]net.Conn // client -> server (nil while not connected)
	silent map[net.Conn]*atomic.Bool
	stats  Stats
	closed bool
	wg     sync.WaitGroup
	done   chan struct{}
}

type connRule struct {
	ConnRule
	applied int
}

// NewTCP starts a TCP proxy to upstream (host:port) and stops it when the
// test ends.
func NewTCP(tb testing.TB, upstream string) *TCPProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("faultproxy: listening on a loopback port: %v", err)
	}
	p := &TCPProxy{upstream: upstream, ln: ln, open: map[net.Conn]net.Conn{}, silent: map[net.Conn]*atomic.Bool{}, done: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *TCPProxy) Addr() string { return p.ln.Addr().String() }

// Add appends rules. Nth counts connections accepted since the proxy
// started; 0 means the next one.
func (p *TCPProxy) Add(rules ...ConnRule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range rules {
		if r.Nth <= 0 {
			r.Nth = int(p.conns.Load()) + 1
		}
		if r.Times == 0 {
			r.Times = 1
		}
		p.rules = append(p.rules, &connRule{ConnRule: r})
	}
}

// Clear removes every rule.
func (p *TCPProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// CutAll resets every open connection, both sides, and returns how many it
// cut. It is not counted in Stats: the caller (a GRPCFaults rule, a test)
// counts its own faults.
func (p *TCPProxy) CutAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c, s := range p.open {
		closeConn(c, true)
		if s != nil {
			closeConn(s, true)
		}
		n++
	}
	return n
}

// Silence makes every open connection drop every byte, both ways, until it
// is cut (CutAll): a network that went quiet. It returns how many it
// silenced; like CutAll it is not counted in Stats.
func (p *TCPProxy) Silence() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.silent {
		b.Store(true)
	}
	return len(p.silent)
}

// Stats returns the counters: Requests counts connections.
func (p *TCPProxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats.clone()
}

// Close stops accepting, cuts every connection and waits for the forwarders.
func (p *TCPProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	_ = p.ln.Close()
	p.CutAll()
	p.wg.Wait()
}

func (p *TCPProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		n := int(p.conns.Add(1))
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		var f ConnFault
		hit := false
		for _, r := range p.rules {
			if n >= r.Nth && (r.Times == Forever || r.applied < r.Times) {
				f, hit = r.ConnFault, true
				r.applied++
				break
			}
		}
		fault := ""
		if hit {
			fault = f.String()
		}
		p.stats.count(fault)
		p.open[c] = nil
		p.wg.Add(1)
		p.mu.Unlock()
		go p.handle(c, f)
	}
}

func (p *TCPProxy) forget(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.open, c)
	delete(p.silent, c)
}

// pipe copies src to dst until src ends, dropping what it reads while
// silent is set. limit > 0 stops after that many bytes (ok true).
func pipe(dst io.Writer, src io.Reader, silent *atomic.Bool, limit int) (ok bool, err error) {
	buf := make([]byte, 32*1024)
	n := 0
	for {
		size := len(buf)
		if limit > 0 && limit-n < size {
			size = limit - n
		}
		r, rerr := src.Read(buf[:size])
		if r > 0 && !silent.Load() {
			if _, werr := dst.Write(buf[:r]); werr != nil {
				return false, werr
			}
		}
		n += r
		if limit > 0 && n >= limit {
			return true, nil
		}
		if rerr != nil {
			if rerr == io.EOF {
				return false, nil
			}
			return false, rerr
		}
	}
}

func (p *TCPProxy) handle(c net.Conn, f ConnFault) {
	defer p.wg.Done()
	defer p.forget(c)
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-p.done:
			_ = c.Close()
			return
		}
	}
	switch {
	case f.Drop:
		_ = c.Close()
		return
	case f.Hang:
		// Read (and discard) until the client leaves or the proxy closes.
		_, _ = io.Copy(io.Discard, c)
		_ = c.Close()
		return
	}
	s, err := net.DialTimeout("tcp", p.upstream, 10*time.Second)
	if err != nil {
		closeConn(c, true)
		return
	}
	p.mu.Lock()
	if _, ok := p.open[c]; !ok || p.closed {
		p.mu.Unlock()
		_ = s.Close()
		_ = c.Close()
		return
	}
	p.open[c] = s
	silent := new(atomic.Bool)
	p.silent[c] = silent
	p.stats.Forwarded++
	p.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // client -> server
		defer wg.Done()
		_, _ = pipe(s, c, silent, 0)
		if tc, ok := s.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()
	go func() { // server -> client
		defer wg.Done()
		limited, err := pipe(c, s, silent, f.ResetAfter)
		if limited {
			closeConn(c, true)
			_ = s.Close()
			return
		}
		if tc, ok := c.(*net.TCPConn); ok && !errors.Is(err, net.ErrClosed) {
			_ = tc.CloseWrite()
		}
	}()
	wg.Wait()
	_ = c.Close()
	_ = s.Close()
}
