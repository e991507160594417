// Package gcpkmstest is an in-process fake of Google Cloud KMS for tests: it
// implements the symmetric-key part of kmspb.KeyManagementServiceServer on a
// loopback gRPC server, which the gcpkms store reaches through its endpoint
// override in plain text without credentials.
//
// It encrypts for real: each crypto key version has its own random AES-256
// key, and a ciphertext is the version number, a nonce and the AES-GCM
// sealed plaintext (with the additional authenticated data), so a
// ciphertext from another key, a tampered one or one with other AAD fails
// with INVALID_ARGUMENT, as the service answers. It checks resource names
// (NOT_FOUND for a missing key ring or key, INVALID_ARGUMENT for a version
// name where the service wants a key), checks and returns CRC32C checksums,
// limits plaintexts to 64 KiB, and answers FAILED_PRECONDITION when the
// version it needs is not enabled. Faults can be injected (FailNext) and
// calls counted (Calls).
package gcpkmstest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"regexp"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/kms/apiv1/kmspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpconfig/grpcfake"
)

// Version states, as the service names them.
const (
	Enabled   = "ENABLED"
	Disabled  = "DISABLED"
	Destroyed = "DESTROYED"
)

const (
	maxPlaintext = 64 * 1024
	nonceSize    = 12
	headerSize   = 4 + nonceSize
)

var (
	locationRE = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+$`)
	keyRingRE  = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+$`)
	keyRE      = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)
	versionRE  = regexp.MustCompile(`^(projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+)/cryptoKeyVersions/([0-9]+)$`)
	idRE       = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,63}$`)
	crcTable   = crc32.MakeTable(crc32.Castagnoli)
)

func crc(b []byte) int64 { return int64(crc32.Checksum(b, crcTable)) }

type keyVersion struct {
	pb   *kmspb.CryptoKeyVersion
	aead cipher.AEAD
}

type cryptoKey struct {
	pb       *kmspb.CryptoKey
	versions []*keyVersion // versions[i] is number i+1
	primary  int           // index into versions, -1 for none
}

// Server is the fake service.
type Server struct {
	kmspb.UnimplementedKeyManagementServiceServer
	*grpcfake.Harness

	mu    sync.Mutex
	rings map[string]*kmspb.KeyRing
	keys  map[string]*cryptoKey
}

// Start runs a fake on a free loopback port until the test ends. opts are
// extra server options (TLS credentials).
func Start(tb testing.TB, opts ...grpc.ServerOption) *Server {
	tb.Helper()
	s := &Server{rings: map[string]*kmspb.KeyRing{}, keys: map[string]*cryptoKey{}}
	s.Harness = grpcfake.Serve(tb, func(g *grpc.Server) { kmspb.RegisterKeyManagementServiceServer(g, s) }, opts...)
	return s
}

// Endpoint is the value of the store's endpoint attribute that reaches the
// fake (host:port on the loopback interface: plain text, no credentials).
func (s *Server) Endpoint() string { return s.Addr() }

func clone[T proto.Message](m T) T {
	c, _ := proto.Clone(m).(T)
	return c
}

func (k *cryptoKey) view() *kmspb.CryptoKey {
	out := clone(k.pb)
	if k.primary >= 0 {
		out.Primary = clone(k.versions[k.primary].pb)
	}
	return out
}

// newVersion adds an enabled version with a fresh AES-256 key. The caller
// holds mu.
func (k *cryptoKey) newVersion() error {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return err
	}
	v := &keyVersion{aead: aead, pb: &kmspb.CryptoKeyVersion{
		Name:            fmt.Sprintf("%s/cryptoKeyVersions/%d", k.pb.GetName(), len(k.versions)+1),
		State:           kmspb.CryptoKeyVersion_ENABLED,
		ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE,
		Algorithm:       kmspb.CryptoKeyVersion_GOOGLE_SYMMETRIC_ENCRYPTION,
		CreateTime:      timestamppb.Now(),
	}}
	k.versions = append(k.versions, v)
	return nil
}

// CreateKeyRing implements the service.
func (s *Server) CreateKeyRing(_ context.Context, req *kmspb.CreateKeyRingRequest) (*kmspb.KeyRing, error) {
	if !locationRE.MatchString(req.GetParent()) {
		return nil, status.Errorf(codes.InvalidArgument, "parent %q is not a location", req.GetParent())
	}
	if !idRE.MatchString(req.GetKeyRingId()) {
		return nil, status.Errorf(codes.InvalidArgument, "key ring ID %q is not valid", req.GetKeyRingId())
	}
	name := req.GetParent() + "/keyRings/" + req.GetKeyRingId()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rings[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "KeyRing %s already exists.", name)
	}
	ring := &kmspb.KeyRing{Name: name, CreateTime: timestamppb.Now()}
	s.rings[name] = ring
	return clone(ring), nil
}

// GetKeyRing implements the service.
func (s *Server) GetKeyRing(_ context.Context, req *kmspb.GetKeyRingRequest) (*kmspb.KeyRing, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ring, ok := s.rings[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "KeyRing %s not found.", req.GetName())
	}
	return clone(ring), nil
}

// CreateCryptoKey implements the service for symmetric encryption keys.
func (s *Server) CreateCryptoKey(_ context.Context, req *kmspb.CreateCryptoKeyRequest) (*kmspb.CryptoKey, error) {
	if !keyRingRE.MatchString(req.GetParent()) {
		return nil, status.Errorf(codes.InvalidArgument, "parent %q is not a key ring", req.GetParent())
	}
	if !idRE.MatchString(req.GetCryptoKeyId()) {
		return nil, status.Errorf(codes.InvalidArgument, "crypto key ID %q is not valid", req.GetCryptoKeyId())
	}
	if p := req.GetCryptoKey().GetPurpose(); p != kmspb.CryptoKey_ENCRYPT_DECRYPT {
		return nil, status.Errorf(codes.InvalidArgument, "this fake only makes ENCRYPT_DECRYPT keys, not %s", p)
	}
	name := req.GetParent() + "/cryptoKeys/" + req.GetCryptoKeyId()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.rings[req.GetParent()]; !ok {
		return nil, status.Errorf(codes.NotFound, "KeyRing %s not found.", req.GetParent())
	}
	if _, ok := s.keys[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "CryptoKey %s already exists.", name)
	}
	k := &cryptoKey{primary: -1, pb: &kmspb.CryptoKey{
		Name:            name,
		Purpose:         kmspb.CryptoKey_ENCRYPT_DECRYPT,
		CreateTime:      timestamppb.Now(),
		Labels:          req.GetCryptoKey().GetLabels(),
		VersionTemplate: &kmspb.CryptoKeyVersionTemplate{ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE, Algorithm: kmspb.CryptoKeyVersion_GOOGLE_SYMMETRIC_ENCRYPTION},
	}}
	if !req.GetSkipInitialVersionCreation() {
		if err := k.newVersion(); err != nil {
			return nil, status.Errorf(codes.Internal, "making a key: %v", err)
		}
		k.primary = 0
	}
	s.keys[name] = k
	return k.view(), nil
}

// lookupKey returns the crypto key called name. The caller holds mu.
func (s *Server) lookupKey(name string) (*cryptoKey, error) {
	if !keyRE.MatchString(name) {
		if versionRE.MatchString(name) {
			return nil, status.Errorf(codes.InvalidArgument, "%s is a CryptoKeyVersion; this method needs a CryptoKey", name)
		}
		return nil, status.Errorf(codes.InvalidArgument, "Resource name [%s] does not represent a valid CryptoKey", name)
	}
	k, ok := s.keys[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "CryptoKey %s not found.", name)
	}
	return k, nil
}

// GetCryptoKey implements the service.
func (s *Server) GetCryptoKey(_ context.Context, req *kmspb.GetCryptoKeyRequest) (*kmspb.CryptoKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.lookupKey(req.GetName())
	if err != nil {
		return nil, err
	}
	return k.view(), nil
}

func checksum(what string, data []byte, want *wrapperspb.Int64Value) error {
	if want != nil && want.GetValue() != crc(data) {
		return status.Errorf(codes.InvalidArgument, "The checksum in field %s_crc32c did not match the data in field %s.", what, what)
	}
	return nil
}

// Encrypt implements the service: with the primary version of a key, or
// with the version named.
func (s *Server) Encrypt(_ context.Context, req *kmspb.EncryptRequest) (*kmspb.EncryptResponse, error) {
	if len(req.GetPlaintext()) > maxPlaintext {
		return nil, status.Errorf(codes.InvalidArgument, "The plaintext is %d bytes; the limit is %d.", len(req.GetPlaintext()), maxPlaintext)
	}
	if err := checksum("plaintext", req.GetPlaintext(), req.GetPlaintextCrc32C()); err != nil {
		return nil, err
	}
	if err := checksum("additional_authenticated_data", req.GetAdditionalAuthenticatedData(), req.GetAdditionalAuthenticatedDataCrc32C()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var (
		k   *cryptoKey
		v   *keyVersion
		err error
	)
	if m := versionRE.FindStringSubmatch(req.GetName()); m != nil {
		if k, err = s.lookupKey(m[1]); err != nil {
			return nil, err
		}
		if v = k.version(m[2]); v == nil {
			return nil, status.Errorf(codes.NotFound, "CryptoKeyVersion %s not found.", req.GetName())
		}
	} else {
		if k, err = s.lookupKey(req.GetName()); err != nil {
			return nil, err
		}
		if k.primary < 0 {
			return nil, status.Errorf(codes.FailedPrecondition, "%s has no primary version.", req.GetName())
		}
		v = k.versions[k.primary]
	}
	if st := v.pb.GetState(); st != kmspb.CryptoKeyVersion_ENABLED {
		return nil, status.Errorf(codes.FailedPrecondition, "%s is not enabled, current state is: %s.", v.pb.GetName(), st)
	}
	out := make([]byte, headerSize, headerSize+len(req.GetPlaintext())+v.aead.Overhead())
	binary.BigEndian.PutUint32(out, uint32(indexOf(k, v)+1))
	if _, err := rand.Read(out[4:headerSize]); err != nil {
		return nil, status.Errorf(codes.Internal, "nonce: %v", err)
	}
	out = v.aead.Seal(out, out[4:headerSize], req.GetPlaintext(), aad(k.pb.GetName(), req.GetAdditionalAuthenticatedData()))
	return &kmspb.EncryptResponse{
		Name:                    v.pb.GetName(),
		Ciphertext:              out,
		CiphertextCrc32C:        wrapperspb.Int64(crc(out)),
		VerifiedPlaintextCrc32C: req.GetPlaintextCrc32C() != nil,
		VerifiedAdditionalAuthenticatedDataCrc32C: req.GetAdditionalAuthenticatedDataCrc32C() != nil,
		ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE,
	}, nil
}

// aad binds a ciphertext to its key as well as to the caller's AAD.
func aad(key string, user []byte) []byte {
	return append([]byte(key+"\x00"), user...)
}

func indexOf(k *cryptoKey, v *keyVersion) int {
	for i, x := range k.versions {
		if x == v {
			return i
		}
	}
	return -1
}

// version returns version number n (a decimal string), or nil.
func (k *cryptoKey) version(n string) *keyVersion {
	var i int
	if _, err := fmt.Sscanf(n, "%d", &i); err != nil || i < 1 || i > len(k.versions) {
		return nil
	}
	return k.versions[i-1]
}

// Decrypt implements the service: the key, never a version, is named, and
// the ciphertext says which version made it.
func (s *Server) Decrypt(_ context.Context, req *kmspb.DecryptRequest) (*kmspb.DecryptResponse, error) {
	if err := checksum("ciphertext", req.GetCiphertext(), req.GetCiphertextCrc32C()); err != nil {
		return nil, err
	}
	if err := checksum("additional_authenticated_data", req.GetAdditionalAuthenticatedData(), req.GetAdditionalAuthenticatedDataCrc32C()); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.lookupKey(req.GetName())
	if err != nil {
		return nil, err
	}
	invalid := status.Errorf(codes.InvalidArgument, "Decryption failed: verify that 'name' refers to the correct CryptoKey.")
	ct := req.GetCiphertext()
	if len(ct) < headerSize+16 {
		return nil, invalid
	}
	n := binary.BigEndian.Uint32(ct)
	if n < 1 || int(n) > len(k.versions) {
		return nil, invalid
	}
	v := k.versions[n-1]
	if st := v.pb.GetState(); st != kmspb.CryptoKeyVersion_ENABLED {
		return nil, status.Errorf(codes.FailedPrecondition, "%s is not enabled, current state is: %s.", v.pb.GetName(), st)
	}
	plain, err := v.aead.Open(nil, ct[4:headerSize], ct[headerSize:], aad(k.pb.GetName(), req.GetAdditionalAuthenticatedData()))
	if err != nil {
		return nil, invalid
	}
	return &kmspb.DecryptResponse{
		Plaintext:       plain,
		PlaintextCrc32C: wrapperspb.Int64(crc(plain)),
		UsedPrimary:     int(n-1) == k.primary,
		ProtectionLevel: kmspb.ProtectionLevel_SOFTWARE,
	}, nil
}

// Helpers for tests, in plain Go types so that tests outside the backend
// package need no SDK import.

// AddKey creates the key ring and the symmetric key of a full crypto key
// name (projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>), with an
// enabled primary version 1.
func (s *Server) AddKey(name string) error {
	ring, id, ok := strings.Cut(name, "/cryptoKeys/")
	if !ok || !keyRE.MatchString(name) {
		return fmt.Errorf("%q is not a crypto key name", name)
	}
	i := strings.LastIndex(ring, "/keyRings/")
	_, err := s.CreateKeyRing(context.Background(), &kmspb.CreateKeyRingRequest{Parent: ring[:i], KeyRingId: ring[i+len("/keyRings/"):]})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return err
	}
	_, err = s.CreateCryptoKey(context.Background(), &kmspb.CreateCryptoKeyRequest{Parent: ring, CryptoKeyId: id,
		CryptoKey: &kmspb.CryptoKey{Purpose: kmspb.CryptoKey_ENCRYPT_DECRYPT}})
	return err
}

// Rotate adds a new version to a key and makes it primary; older
// ciphertexts still decrypt.
func (s *Server) Rotate(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.lookupKey(name)
	if err != nil {
		return err
	}
	if err := k.newVersion(); err != nil {
		return err
	}
	k.primary = len(k.versions) - 1
	return nil
}

// SetVersionState sets the state (Enabled, Disabled or Destroyed) of
// version n of a key.
func (s *Server) SetVersionState(name string, n int, state string) error {
	st, ok := kmspb.CryptoKeyVersion_CryptoKeyVersionState_value[state]
	if !ok {
		return fmt.Errorf("unknown state %q", state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.lookupKey(name)
	if err != nil {
		return err
	}
	if n < 1 || n > len(k.versions) {
		return fmt.Errorf("%s has no version %d", name, n)
	}
	k.versions[n-1].pb.State = kmspb.CryptoKeyVersion_CryptoKeyVersionState(st)
	return nil
}
