// Package grpcfake is what the in-process fakes of Google services share
// (gcpsmtest, gcpkmstest): a loopback gRPC server, call counting, fault
// injection (fail the next N calls with a status code, with an optional
// RetryInfo delay) and an optional check of the caller's credentials. It is
// for tests only.
package grpcfake

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// fault is one injected failure.
type fault struct {
	method     string // "" for any method
	code       codes.Code
	msg        string
	retryAfter time.Duration
}

// Harness runs a gRPC server on a loopback port and intercepts its calls.
type Harness struct {
	addr string

	mu     sync.Mutex
	calls  map[string]int
	faults []fault
	auth   func(authorization string) error
}

// Serve starts a server on 127.0.0.1 with a free port, lets register add the
// service, and stops it when the test ends. opts are extra server options
// (TLS credentials).
func Serve(tb testing.TB, register func(*grpc.Server), opts ...grpc.ServerOption) *Harness {
	tb.Helper()
	h := &Harness{calls: map[string]int{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("grpcfake: listening on a loopback port: %v", err)
	}
	h.addr = lis.Addr().String()
	s := grpc.NewServer(append([]grpc.ServerOption{grpc.ChainUnaryInterceptor(h.intercept)}, opts...)...)
	register(s)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	tb.Cleanup(func() {
		s.Stop()
		<-done
	})
	return h
}

// Addr is the server's host:port on the loopback interface.
func (h *Harness) Addr() string { return h.addr }

// FailNext makes the next n calls of method (its short name, such as
// "AccessSecretVersion"; "" for any method) fail with code. A retryAfter
// above zero adds a google.rpc.RetryInfo detail with that delay.
func (h *Harness) FailNext(method string, n int, code codes.Code, retryAfter time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for range n {
		h.faults = append(h.faults, fault{method: method, code: code, retryAfter: retryAfter,
			msg: "injected fault: " + code.String()})
	}
}

// Calls returns how many calls of method (short name; "" for all) reached
// the server, failed ones included.
func (h *Harness) Calls(method string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if method != "" {
		return h.calls[method]
	}
	n := 0
	for _, c := range h.calls {
		n += c
	}
	return n
}

// RequireAuth makes every call present an authorization header that check
// accepts; others fail with UNAUTHENTICATED. nil turns the check off.
func (h *Harness) RequireAuth(check func(authorization string) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.auth = check
}

func (h *Harness) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	h.mu.Lock()
	h.calls[method]++
	auth := h.auth
	var f *fault
	for i := range h.faults {
		if h.faults[i].method == "" || h.faults[i].method == method {
			ff := h.faults[i]
			f = &ff
			h.faults = append(h.faults[:i], h.faults[i+1:]...)
			break
		}
	}
	h.mu.Unlock()
	if auth != nil {
		md, _ := metadata.FromIncomingContext(ctx)
		var got string
		if v := md.Get("authorization"); len(v) > 0 {
			got = v[0]
		}
		if err := auth(got); err != nil {
			return nil, status.Errorf(codes.Unauthenticated, "request had invalid authentication credentials: %v", err)
		}
	}
	if f != nil {
		st := status.New(f.code, f.msg)
		if f.retryAfter > 0 {
			if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(f.retryAfter)}); err == nil {
				st = d
			}
		}
		return nil, st.Err()
	}
	return handler(ctx, req)
}

// SelfSignedTLS returns server credentials for 127.0.0.1 and a pool that
// trusts them, for tests of the TLS path with real credentials.
func SelfSignedTLS(tb testing.TB) (credentials.TransportCredentials, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "grpcfake"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return credentials.NewServerTLSFromCert(&tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}), pool
}
