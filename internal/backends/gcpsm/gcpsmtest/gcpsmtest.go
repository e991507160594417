// Package gcpsmtest is an in-process fake of Google Secret Manager for tests:
// it implements secretmanagerpb.SecretManagerServiceServer on a loopback gRPC
// server, which the gcpsm store reaches through its endpoint override in
// plain text without credentials.
//
// It behaves like the service where the store depends on it: resource names
// (global projects/<p>/secrets/<id> and regional
// projects/<p>/locations/<l>/secrets/<id>), secret IDs, automatic
// replication required for global secrets and refused for regional ones,
// version numbers from 1, the "latest" alias for reads only, version states
// ENABLED, DISABLED and DESTROYED with their transitions, NOT_FOUND for a
// missing secret or version, ALREADY_EXISTS on create, FAILED_PRECONDITION
// on accessing a version that is not enabled, label and annotation rules,
// the 64 KiB payload limit, CRC32C checks of payloads, etags and update
// masks. Faults can be injected (FailNext) and calls counted (Calls).
package gcpsmtest

import (
	"context"
	"fmt"
	"hash/crc32"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/gcpconfig/grpcfake"
)

// Version states, as the service names them.
const (
	Enabled   = "ENABLED"
	Disabled  = "DISABLED"
	Destroyed = "DESTROYED"
)

const maxPayload = 64 * 1024

var (
	parentRE   = regexp.MustCompile(`^projects/[^/]+(/locations/[^/]+)?$`)
	secretRE   = regexp.MustCompile(`^(projects/[^/]+(?:/locations/[^/]+)?)/secrets/([^/]+)$`)
	versionRE  = regexp.MustCompile(`^(projects/[^/]+(?:/locations/[^/]+)?/secrets/[^/]+)/versions/([^/]+)$`)
	secretIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	annKeyRE   = regexp.MustCompile(`^([a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`)
	crcTable   = crc32.MakeTable(crc32.Castagnoli)
)

type version struct {
	pb   *secretmanagerpb.SecretVersion
	data []byte
}

type secret struct {
	pb       *secretmanagerpb.Secret
	versions []*version // versions[i] is number i+1
	etag     int
}

// Server is the fake service.
type Server struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer
	*grpcfake.Harness

	mu      sync.Mutex
	secrets map[string]*secret
}

// Start runs a fake on a free loopback port until the test ends. opts are
// extra server options (TLS credentials).
func Start(tb testing.TB, opts ...grpc.ServerOption) *Server {
	tb.Helper()
	s := &Server{secrets: map[string]*secret{}}
	s.Harness = grpcfake.Serve(tb, func(g *grpc.Server) { secretmanagerpb.RegisterSecretManagerServiceServer(g, s) }, opts...)
	return s
}

// Endpoint is the value of the store's endpoint attribute that reaches the
// fake (host:port on the loopback interface: plain text, no credentials).
func (s *Server) Endpoint() string { return s.Addr() }

func (s *secret) etagString() string { return fmt.Sprintf(`"%d"`, s.etag) }

func (s *secret) view() *secretmanagerpb.Secret {
	out := clone(s.pb)
	out.Etag = s.etagString()
	return out
}

func (v *version) view() *secretmanagerpb.SecretVersion {
	return clone(v.pb)
}

// clone deep-copies a message; Clone keeps the type.
func clone[T proto.Message](m T) T {
	c, _ := proto.Clone(m).(T)
	return c
}

func notFoundSecret(name string) error {
	return status.Errorf(codes.NotFound, "Secret [%s] not found or has no versions.", name)
}

// lookup returns the secret called name. The caller holds mu.
func (s *Server) lookup(name string) (*secret, error) {
	if !secretRE.MatchString(name) {
		return nil, status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request: %q is not a secret name", name)
	}
	sec, ok := s.secrets[name]
	if !ok {
		return nil, notFoundSecret(name)
	}
	return sec, nil
}

// lookupVersion resolves a version name; aliasOK allows "latest". The
// caller holds mu.
func (s *Server) lookupVersion(name string, aliasOK bool) (*version, error) {
	m := versionRE.FindStringSubmatch(name)
	if m == nil {
		return nil, status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request: %q is not a secret version name", name)
	}
	sec, err := s.lookup(m[1])
	if err != nil {
		return nil, err
	}
	if m[2] == "latest" {
		if !aliasOK {
			return nil, status.Errorf(codes.InvalidArgument, "the version alias %q cannot be used with this method", m[2])
		}
		if len(sec.versions) == 0 {
			return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
		}
		return sec.versions[len(sec.versions)-1], nil
	}
	n, err := strconv.Atoi(m[2])
	if err != nil || n < 1 {
		return nil, status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request: version %q is not a number or alias", m[2])
	}
	if n > len(sec.versions) {
		return nil, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
	}
	return sec.versions[n-1], nil
}

// ValidateLabels applies the service's label rules.
func ValidateLabels(labels map[string]string) error {
	if len(labels) > 64 {
		return fmt.Errorf("a secret has at most 64 labels, got %d", len(labels))
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		first, _ := utf8.DecodeRuneInString(k)
		switch {
		case k == "" || utf8.RuneCountInString(k) > 63:
			return fmt.Errorf("label key %q must be 1 to 63 characters", k)
		case !unicode.IsLower(first):
			return fmt.Errorf("label key %q must start with a lowercase letter", k)
		case utf8.RuneCountInString(v) > 63:
			return fmt.Errorf("label value of %q must be at most 63 characters", k)
		}
		for _, r := range k + v {
			if !unicode.IsLower(r) && !unicode.IsDigit(r) && r != '_' && r != '-' {
				return fmt.Errorf("label %q: keys and values may contain only lowercase letters, digits, underscores and dashes", k)
			}
		}
	}
	return nil
}

func validateAnnotations(a map[string]string) error {
	size := 0
	for k, v := range a {
		if !annKeyRE.MatchString(k) {
			return fmt.Errorf("annotation key %q is not valid", k)
		}
		size += len(k) + len(v)
	}
	if size > 16*1024 {
		return fmt.Errorf("annotations are %d bytes, more than the 16 KiB allowed", size)
	}
	return nil
}

// ListSecrets implements the service.
func (s *Server) ListSecrets(_ context.Context, req *secretmanagerpb.ListSecretsRequest) (*secretmanagerpb.ListSecretsResponse, error) {
	if !parentRE.MatchString(req.GetParent()) {
		return nil, status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request: parent %q", req.GetParent())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for name := range s.secrets {
		if strings.HasPrefix(name, req.GetParent()+"/secrets/") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	start := 0
	if t := req.GetPageToken(); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(names) {
			return nil, status.Errorf(codes.InvalidArgument, "invalid page token")
		}
		start = n
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > 25000 {
		size = 25000
	}
	resp := &secretmanagerpb.ListSecretsResponse{TotalSize: int32(len(names))}
	end := min(start+size, len(names))
	for _, n := range names[start:end] {
		resp.Secrets = append(resp.Secrets, s.secrets[n].view())
	}
	if end < len(names) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// CreateSecret implements the service.
func (s *Server) CreateSecret(_ context.Context, req *secretmanagerpb.CreateSecretRequest) (*secretmanagerpb.Secret, error) {
	parent := req.GetParent()
	if !parentRE.MatchString(parent) {
		return nil, status.Errorf(codes.InvalidArgument, "Invalid resource field value in the request: parent %q", parent)
	}
	if !secretIDRE.MatchString(req.GetSecretId()) {
		return nil, status.Errorf(codes.InvalidArgument, "Secret ID %q: must be 1 to 255 letters, digits, underscores and dashes", req.GetSecretId())
	}
	in := req.GetSecret()
	if in == nil {
		return nil, status.Error(codes.InvalidArgument, "secret is required")
	}
	regional := strings.Contains(parent, "/locations/")
	switch {
	case regional && in.GetReplication() != nil:
		return nil, status.Error(codes.InvalidArgument, "regional secrets must not set replication")
	case !regional && in.GetReplication().GetReplication() == nil:
		return nil, status.Error(codes.InvalidArgument, "Secret.replication is required")
	}
	if err := ValidateLabels(in.GetLabels()); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid labels: %v", err)
	}
	if err := validateAnnotations(in.GetAnnotations()); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "invalid annotations: %v", err)
	}
	name := parent + "/secrets/" + req.GetSecretId()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.secrets[name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Secret [%s] already exists.", name)
	}
	pb := &secretmanagerpb.Secret{
		Name:        name,
		Replication: in.GetReplication(),
		CreateTime:  timestamppb.Now(),
		Labels:      maps.Clone(in.GetLabels()),
		Annotations: maps.Clone(in.GetAnnotations()),
	}
	sec := &secret{pb: pb, etag: 1}
	s.secrets[name] = sec
	return sec.view(), nil
}

// GetSecret implements the service.
func (s *Server) GetSecret(_ context.Context, req *secretmanagerpb.GetSecretRequest) (*secretmanagerpb.Secret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	return sec.view(), nil
}

// UpdateSecret implements the service for the labels and annotations masks.
func (s *Server) UpdateSecret(_ context.Context, req *secretmanagerpb.UpdateSecretRequest) (*secretmanagerpb.Secret, error) {
	in := req.GetSecret()
	if len(req.GetUpdateMask().GetPaths()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "update_mask is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(in.GetName())
	if err != nil {
		return nil, err
	}
	if in.GetEtag() != "" && in.GetEtag() != sec.etagString() {
		return nil, status.Errorf(codes.Aborted, "The etag provided in the request does not match the secret's current etag")
	}
	next := clone(sec.pb)
	for _, p := range req.GetUpdateMask().GetPaths() {
		switch p {
		case "labels":
			if err := ValidateLabels(in.GetLabels()); err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "invalid labels: %v", err)
			}
			next.Labels = maps.Clone(in.GetLabels())
		case "annotations":
			if err := validateAnnotations(in.GetAnnotations()); err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "invalid annotations: %v", err)
			}
			next.Annotations = maps.Clone(in.GetAnnotations())
		default:
			return nil, status.Errorf(codes.InvalidArgument, "update_mask path %q is not supported by this fake", p)
		}
	}
	sec.pb = next
	sec.etag++
	return sec.view(), nil
}

// DeleteSecret implements the service.
func (s *Server) DeleteSecret(_ context.Context, req *secretmanagerpb.DeleteSecretRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	if req.GetEtag() != "" && req.GetEtag() != sec.etagString() {
		return nil, status.Errorf(codes.Aborted, "The etag provided in the request does not match the secret's current etag")
	}
	delete(s.secrets, req.GetName())
	return &emptypb.Empty{}, nil
}

// AddSecretVersion implements the service.
func (s *Server) AddSecretVersion(_ context.Context, req *secretmanagerpb.AddSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	data := req.GetPayload().GetData()
	if len(data) > maxPayload {
		return nil, status.Errorf(codes.InvalidArgument, "Secret payload is %d bytes; the limit is %d", len(data), maxPayload)
	}
	p := req.GetPayload()
	if p.DataCrc32C != nil && int64(crc32.Checksum(data, crcTable)) != p.GetDataCrc32C() {
		return nil, status.Error(codes.InvalidArgument, "Checksum validation failed: the payload does not match data_crc32c")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(req.GetParent())
	if err != nil {
		return nil, err
	}
	v := &version{
		pb: &secretmanagerpb.SecretVersion{
			Name:                           fmt.Sprintf("%s/versions/%d", req.GetParent(), len(sec.versions)+1),
			CreateTime:                     timestamppb.Now(),
			State:                          secretmanagerpb.SecretVersion_ENABLED,
			Etag:                           `"1"`,
			ClientSpecifiedPayloadChecksum: p.DataCrc32C != nil,
		},
		data: slices.Clone(data),
	}
	sec.versions = append(sec.versions, v)
	return v.view(), nil
}

// ListSecretVersions implements the service (newest first, one page).
func (s *Server) ListSecretVersions(_ context.Context, req *secretmanagerpb.ListSecretVersionsRequest) (*secretmanagerpb.ListSecretVersionsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.lookup(req.GetParent())
	if err != nil {
		return nil, err
	}
	resp := &secretmanagerpb.ListSecretVersionsResponse{TotalSize: int32(len(sec.versions))}
	for i := len(sec.versions) - 1; i >= 0; i-- {
		resp.Versions = append(resp.Versions, sec.versions[i].view())
	}
	return resp, nil
}

// GetSecretVersion implements the service; "latest" is allowed.
func (s *Server) GetSecretVersion(_ context.Context, req *secretmanagerpb.GetSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.lookupVersion(req.GetName(), true)
	if err != nil {
		return nil, err
	}
	return v.view(), nil
}

// AccessSecretVersion implements the service; "latest" is allowed, and a
// version that is not enabled is FAILED_PRECONDITION.
func (s *Server) AccessSecretVersion(_ context.Context, req *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.lookupVersion(req.GetName(), true)
	if err != nil {
		return nil, err
	}
	if st := v.pb.GetState(); st != secretmanagerpb.SecretVersion_ENABLED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in %s state.", v.pb.GetName(), st)
	}
	crc := int64(crc32.Checksum(v.data, crcTable))
	return &secretmanagerpb.AccessSecretVersionResponse{
		Name:    v.pb.GetName(),
		Payload: &secretmanagerpb.SecretPayload{Data: slices.Clone(v.data), DataCrc32C: &crc},
	}, nil
}

// setState moves a version to state; DESTROYED is final.
func (s *Server) setState(name, etag string, state secretmanagerpb.SecretVersion_State) (*secretmanagerpb.SecretVersion, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.lookupVersion(name, false)
	if err != nil {
		return nil, err
	}
	if etag != "" && etag != v.pb.GetEtag() {
		return nil, status.Errorf(codes.Aborted, "The etag provided in the request does not match the version's current etag")
	}
	if v.pb.GetState() == secretmanagerpb.SecretVersion_DESTROYED {
		return nil, status.Errorf(codes.FailedPrecondition, "Secret Version [%s] is in DESTROYED state.", v.pb.GetName())
	}
	if v.pb.GetState() != state {
		v.pb.State = state
		n, _ := strconv.Atoi(strings.Trim(v.pb.GetEtag(), `"`))
		v.pb.Etag = fmt.Sprintf(`"%d"`, n+1)
		if state == secretmanagerpb.SecretVersion_DESTROYED {
			v.pb.DestroyTime = timestamppb.Now()
			v.data = nil
		}
	}
	return v.view(), nil
}

// DisableSecretVersion implements the service.
func (s *Server) DisableSecretVersion(_ context.Context, req *secretmanagerpb.DisableSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	return s.setState(req.GetName(), req.GetEtag(), secretmanagerpb.SecretVersion_DISABLED)
}

// EnableSecretVersion implements the service.
func (s *Server) EnableSecretVersion(_ context.Context, req *secretmanagerpb.EnableSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	return s.setState(req.GetName(), req.GetEtag(), secretmanagerpb.SecretVersion_ENABLED)
}

// DestroySecretVersion implements the service.
func (s *Server) DestroySecretVersion(_ context.Context, req *secretmanagerpb.DestroySecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	return s.setState(req.GetName(), req.GetEtag(), secretmanagerpb.SecretVersion_DESTROYED)
}

// Inspection and changes behind the store's back, in plain Go types so that
// tests outside the backend package need no SDK import.

// VersionInfo is one version of a secret.
type VersionInfo struct {
	// ID is the version number.
	ID    string
	State string
	Data  []byte
}

// SecretInfo is a secret as the fake holds it.
type SecretInfo struct {
	Name        string
	Replicated  bool // automatic replication
	Labels      map[string]string
	Annotations map[string]string
	Versions    []VersionInfo // oldest first
}

// Latest returns the newest version, or a zero VersionInfo.
func (i SecretInfo) Latest() VersionInfo {
	if len(i.Versions) == 0 {
		return VersionInfo{}
	}
	return i.Versions[len(i.Versions)-1]
}

// Secret returns the secret called name (its full resource name).
func (s *Server) Secret(name string) (SecretInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sec, ok := s.secrets[name]
	if !ok {
		return SecretInfo{}, false
	}
	info := SecretInfo{
		Name:        name,
		Replicated:  sec.pb.GetReplication().GetAutomatic() != nil,
		Labels:      maps.Clone(sec.pb.GetLabels()),
		Annotations: maps.Clone(sec.pb.GetAnnotations()),
	}
	for _, v := range sec.versions {
		n := v.pb.GetName()
		info.Versions = append(info.Versions, VersionInfo{ID: n[strings.LastIndex(n, "/")+1:], State: v.pb.GetState().String(), Data: slices.Clone(v.data)})
	}
	return info, true
}

// SecretNames returns the names of every secret, sorted.
func (s *Server) SecretNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.secrets))
}

// AddVersion adds a version to an existing secret, as another client would.
func (s *Server) AddVersion(name string, data []byte) error {
	_, err := s.AddSecretVersion(context.Background(), &secretmanagerpb.AddSecretVersionRequest{Parent: name, Payload: &secretmanagerpb.SecretPayload{Data: data}})
	return err
}

// SetLatestState moves the latest version of a secret to state (Enabled,
// Disabled or Destroyed), as another client would.
func (s *Server) SetLatestState(name, state string) error {
	s.mu.Lock()
	sec, ok := s.secrets[name]
	var latest string
	if ok && len(sec.versions) > 0 {
		latest = sec.versions[len(sec.versions)-1].pb.GetName()
	}
	s.mu.Unlock()
	if latest == "" {
		return fmt.Errorf("secret %s does not exist or has no versions", name)
	}
	st, ok := secretmanagerpb.SecretVersion_State_value[state]
	if !ok {
		return fmt.Errorf("unknown version state %q", state)
	}
	_, err := s.setState(latest, "", secretmanagerpb.SecretVersion_State(st))
	return err
}

// Remove deletes a secret, as another client would.
func (s *Server) Remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.secrets, name)
}
