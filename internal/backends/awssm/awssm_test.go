package awssm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awssm"
)

// Secrets Manager-specific tests.

// fixture is one test's store behind a recording proxy in front of moto.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	proxy *awstest.Proxy
	b     backends.Backend
	s     *backends.Store
	sm    *secretsmanager.Client // raw client on moto, for checks
	uniq  string

	mu     sync.Mutex
	delays []time.Duration
	// warns collects what the store reports through backends.Warn on f.ctx.
	warns *backends.Warnings
}

func newFixture(t *testing.T, configure func(*awssm.Options)) *fixture {
	t.Helper()
	ctx, warns := backends.WithWarnings(context.Background())
	f := &fixture{t: t, ctx: ctx, warns: warns, proxy: awstest.NewProxy(t, moto), sm: smClient(t, moto),
		uniq: fmt.Sprintf("%s-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano())}
	o := &awssm.Options{AWS: awstest.Options(f.proxy.URL)}
	if configure != nil {
		configure(o)
	}
	b, err := awssm.New(f.ctx, o)
	if err != nil {
		t.Fatalf("awssm.New: %v", err)
	}
	f.b = b
	f.s = f.store(backends.Settings{AccessMode: backends.ReadAndWrite})
	t.Cleanup(func() { _ = b.Close() })
	return f
}

// store wraps the fixture's backend; waits are recorded, never slept.
func (f *fixture) store(settings backends.Settings) *backends.Store {
	s, err := backends.NewStore(f.b, &backends.StoreOptions{
		Settings: settings,
		Wait: func(ctx context.Context, d time.Duration) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.delays = append(f.delays, d)
			return ctx.Err()
		},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f *fixture) name(s string) string { return f.uniq + "-" + s }

func (f *fixture) write(req backends.WriteRequest) string {
	f.t.Helper()
	v, err := f.s.Write(f.ctx, req)
	if err != nil {
		f.t.Fatalf("Write(%s): %v", req.Name, err)
	}
	return v
}

func (f *fixture) find(name string) *backends.Secret {
	f.t.Helper()
	sec, err := f.s.ReadStored(f.ctx, name)
	if err != nil {
		f.t.Fatalf("ReadStored(%s): %v", name, err)
	}
	return sec
}

// versions lists the version ids moto holds for name.
func (f *fixture) versions(name string) []string {
	f.t.Helper()
	out, err := f.sm.ListSecretVersionIds(f.ctx, &secretsmanager.ListSecretVersionIdsInput{SecretId: aws.String(name)})
	if err != nil {
		f.t.Fatalf("ListSecretVersionIds(%s): %v", name, err)
	}
	var ids []string
	for _, v := range out.Versions {
		ids = append(ids, aws.ToString(v.VersionId))
	}
	slices.Sort(ids)
	return ids
}

// field returns a field of the JSON body of the i-th request of op.
func (f *fixture) field(op string, i int, key string) any {
	f.t.Helper()
	reqs := f.proxy.Requests(op)
	if i >= len(reqs) {
		f.t.Fatalf("%s request #%d: only %d seen (%v)", op, i+1, len(reqs), f.proxy.Ops())
	}
	var body map[string]any
	if err := json.Unmarshal(reqs[i].Body, &body); err != nil {
		f.t.Fatalf("%s request #%d: body is not JSON: %v", op, i+1, err)
	}
	return body[key]
}

func wantCode(t *testing.T, what string, err error, want backends.Code) {
	t.Helper()
	if got := backends.CodeOf(err); got != want {
		t.Errorf("%s: got code %v, want %v (err: %v)", what, got, want, err)
	}
}

func TestScheduledForDeletionRecreate(t *testing.T) {
	f := newFixture(t, nil)
	name := f.name("soft")
	f.write(backends.WriteRequest{Name: name, Value: []byte("before"), Description: "old", Tags: map[string]string{"keep": "1", "drop": "x"}})
	if err := f.s.Delete(f.ctx, name, backends.DeleteSoft); err != nil {
		t.Fatalf("Delete(DeleteSoft): %v", err)
	}
	// LiteLLM's recovery window: 7 days.
	if got := f.field("DeleteSecret", 0, "RecoveryWindowInDays"); got != float64(7) {
		t.Errorf("DeleteSecret RecoveryWindowInDays: got %v, want 7", got)
	}
	if got := f.field("DeleteSecret", 0, "ForceDeleteWithoutRecovery"); got != nil {
		t.Errorf("soft delete sent ForceDeleteWithoutRecovery=%v, want it absent", got)
	}
	// The backend reports the secret as deleted; the layer as missing.
	sec, err := f.b.Get(f.ctx, name)
	if err != nil || !sec.Deleted {
		t.Fatalf("Get of a secret scheduled for deletion: got %v, %v; want Deleted", sec, err)
	}
	_, err = f.s.ReadStored(f.ctx, name)
	wantCode(t, "Find of a secret scheduled for deletion", err, backends.NotFound)

	// Re-creating restores it, with the new value, description and tags.
	f.proxy.Reset()
	v := f.write(backends.WriteRequest{Name: name, Value: []byte("after"), Description: "new", Tags: map[string]string{"keep": "1", "add": "2"}})
	for _, op := range []string{"RestoreSecret", "PutSecretValue", "UpdateSecret", "UntagResource", "TagResource"} {
		if f.proxy.Calls(op) != 1 {
			t.Errorf("%s calls when re-creating a secret scheduled for deletion: got %d, want 1 (%v)", op, f.proxy.Calls(op), f.proxy.Ops())
		}
	}
	got := f.find(name)
	if string(got.Value) != "after" || got.Version != v || got.Description != "new" ||
		!maps.Equal(got.Tags, map[string]string{"keep": "1", "add": "2"}) {
		t.Errorf("after re-create: got value %q version %s description %q tags %v; want \"after\", %s, \"new\", map[add:2 keep:1]",
			got.Value, got.Version, got.Description, got.Tags, v)
	}
}

func TestRecoveryWindowOption(t *testing.T) {
	f := newFixture(t, func(o *awssm.Options) { o.RecoveryWindowInDays = 30 })
	name := f.name("window")
	f.write(backends.WriteRequest{Name: name, Value: []byte("v")})
	if err := f.s.Delete(f.ctx, name, backends.DeleteSoft); err != nil {
		t.Fatal(err)
	}
	if got := f.field("DeleteSecret", 0, "RecoveryWindowInDays"); got != float64(30) {
		t.Errorf("DeleteSecret RecoveryWindowInDays: got %v, want 30", got)
	}
	// Destroying it for good purges it: ForceDeleteWithoutRecovery.
	if err := f.s.Delete(f.ctx, name, backends.DeleteForever); err != nil {
		t.Fatal(err)
	}
	if got := f.field("DeleteSecret", 1, "ForceDeleteWithoutRecovery"); got != true {
		t.Errorf("DeleteSecret ForceDeleteWithoutRecovery: got %v, want true", got)
	}
	if _, err := f.b.Get(f.ctx, name); backends.CodeOf(err) != backends.NotFound {
		t.Errorf("Get after a forced delete: got %v, want NotFound", err)
	}
	for _, days := range []int{6, 31, -1} {
		_, err := awssm.New(f.ctx, &awssm.Options{AWS: awstest.Options(moto), RecoveryWindowInDays: days})
		wantCode(t, fmt.Sprintf("New with recovery_window_in_days = %d", days), err, backends.InvalidArgument)
		if err != nil && !strings.Contains(err.Error(), "recovery_window_in_days") {
			t.Errorf("New with recovery_window_in_days = %d: message %q does not name the attribute", days, err)
		}
	}
}

func TestTagsAndDescriptionDiff(t *testing.T) {
	f := newFixture(t, nil)
	name := f.name("tags")
	v := f.write(backends.WriteRequest{Name: name, Value: []byte("v"), Description: "first", Tags: map[string]string{"a": "1", "b": "2"}})
	if got := f.field("CreateSecret", 0, "Description"); got != "first" {
		t.Errorf("CreateSecret Description: got %v, want first", got)
	}

	f.proxy.Reset()
	if err := f.s.UpdateMetadata(f.ctx, name, "second", map[string]string{"b": "3", "c": "4"}); err != nil {
		t.Fatalf("UpdateMetadata: %v", err)
	}
	if got := f.field("UntagResource", 0, "TagKeys"); fmt.Sprint(got) != "[a]" {
		t.Errorf("UntagResource TagKeys: got %v, want [a]", got)
	}
	if got := f.field("TagResource", 0, "Tags"); fmt.Sprint(got) != "[map[Key:b Value:3] map[Key:c Value:4]]" {
		t.Errorf("TagResource Tags: got %v, want b=3 and c=4 only", got)
	}
	if got := f.field("UpdateSecret", 0, "Description"); got != "second" {
		t.Errorf("UpdateSecret Description: got %v, want second", got)
	}
	if got := f.field("UpdateSecret", 0, "SecretString"); got != nil {
		t.Errorf("UpdateSecret sent a SecretString: a metadata change must not write a version")
	}
	if n := f.proxy.Calls("PutSecretValue"); n != 0 {
		t.Errorf("PutSecretValue calls for a metadata change: got %d, want 0", n)
	}
	sec := f.find(name)
	if sec.Version != v || sec.Description != "second" || !maps.Equal(sec.Tags, map[string]string{"b": "3", "c": "4"}) {
		t.Errorf("after UpdateMetadata: got version %s description %q tags %v; want %s, \"second\", map[b:3 c:4]", sec.Version, sec.Description, sec.Tags, v)
	}

	// Nothing to change: only DescribeSecret.
	f.proxy.Reset()
	if err := f.s.UpdateMetadata(f.ctx, name, "second", map[string]string{"b": "3", "c": "4"}); err != nil {
		t.Fatal(err)
	}
	if ops := f.proxy.Ops(); !slices.Equal(ops, []string{"DescribeSecret"}) {
		t.Errorf("calls of an UpdateMetadata that changes nothing: got %v, want [DescribeSecret]", ops)
	}

	// A new value with new metadata: one new version, metadata brought along.
	v2 := f.write(backends.WriteRequest{Name: name, Value: []byte("v2"), Description: "third", Tags: map[string]string{"c": "4"}})
	sec = f.find(name)
	if sec.Version != v2 || v2 == v || sec.Description != "third" || !maps.Equal(sec.Tags, map[string]string{"c": "4"}) {
		t.Errorf("after a write with new metadata: got version %s description %q tags %v", sec.Version, sec.Description, sec.Tags)
	}
}

func TestClientRequestTokenRetriedCreate(t *testing.T) {
	f := newFixture(t, nil)
	name := f.name("token")
	// The create reaches moto, but its answer is lost; and, as AWS may for a
	// moment, DescribeSecret does not see the new secret yet. The layer
	// retries, and the retry sends CreateSecret again.
	f.proxy.Inject(awstest.Fault{Op: "CreateSecret", Times: 1, Status: http.StatusInternalServerError, Code: "InternalServiceError",
		Message: "injected: answer lost", AfterForward: true})
	f.proxy.Inject(awstest.Fault{Op: "DescribeSecret", Times: 2, Status: http.StatusBadRequest, Code: "ResourceNotFoundException",
		Message: "Secrets Manager can't find the specified secret."})
	v := f.write(backends.WriteRequest{Name: name, Value: []byte("once")})
	creates := f.proxy.Requests("CreateSecret")
	if len(creates) != 2 {
		t.Fatalf("CreateSecret calls: got %d, want 2 (one lost answer, one retry): %v", len(creates), f.proxy.Ops())
	}
	tok1, tok2 := f.field("CreateSecret", 0, "ClientRequestToken"), f.field("CreateSecret", 1, "ClientRequestToken")
	tok, ok := tok1.(string)
	if !ok || tok1 != tok2 || len(tok) < 32 || len(tok) > 64 {
		t.Errorf("ClientRequestToken of the two creates: got %v and %v, want the same string of 32 to 64 characters", tok1, tok2)
	}
	if strings.Contains(tok, "once") {
		t.Errorf("ClientRequestToken %q contains the value", tok)
	}
	if ids := f.versions(name); !slices.Equal(ids, []string{v}) {
		t.Errorf("versions after a retried create: got %v, want only %s", ids, v)
	}
	if v != tok {
		t.Errorf("version: got %s, want the ClientRequestToken %s (it becomes the VersionId)", v, tok)
	}

	// A lost answer the retry can see: no second CreateSecret at all.
	other := f.name("token-seen")
	f.proxy.Reset()
	f.proxy.Inject(awstest.Fault{Op: "CreateSecret", Times: 1, Status: http.StatusInternalServerError, Code: "InternalServiceError",
		Message: "injected: answer lost", AfterForward: true})
	vo := f.write(backends.WriteRequest{Name: other, Value: []byte("seen")})
	if n := f.proxy.Calls("CreateSecret"); n != 1 {
		t.Errorf("CreateSecret calls when the retry sees the secret: got %d, want 1 (%v)", n, f.proxy.Ops())
	}
	if ids := f.versions(other); !slices.Equal(ids, []string{vo}) {
		t.Errorf("versions: got %v, want only %s", ids, vo)
	}

	// The same for a new value: one new version, not two.
	f.proxy.Inject(awstest.Fault{Op: "PutSecretValue", Times: 1, Status: http.StatusInternalServerError, Code: "InternalServiceError",
		Message: "injected: answer lost", AfterForward: true})
	f.proxy.Reset()
	v2 := f.write(backends.WriteRequest{Name: name, Value: []byte("twice")})
	if n := f.proxy.Calls("PutSecretValue"); n != 1 {
		t.Errorf("PutSecretValue calls: got %d, want 1 (the retry sees its first attempt went through)", n)
	}
	if ids := f.versions(name); len(ids) != 2 || !slices.Contains(ids, v2) {
		t.Errorf("versions after a retried update: got %v, want 2 including %s", ids, v2)
	}
	if sec := f.find(name); string(sec.Value) != "twice" || sec.Version != v2 {
		t.Errorf("after a retried update: got %q version %s, want \"twice\" version %s", sec.Value, sec.Version, v2)
	}
	// Writing the first value back is a new version, not the old one.
	v3 := f.write(backends.WriteRequest{Name: name, Value: []byte("once")})
	if v3 == v || v3 == v2 {
		t.Errorf("writing an earlier value back: got version %s, want a new one", v3)
	}
	if sec := f.find(name); string(sec.Value) != "once" {
		t.Errorf("after writing an earlier value back: got %q", sec.Value)
	}
}

func TestBatchRead45(t *testing.T) {
	f := newFixture(t, nil)
	var names []string
	for i := range 45 {
		n := f.name(fmt.Sprintf("batch-%02d", i))
		names = append(names, n)
		f.write(backends.WriteRequest{Name: n, Value: []byte("value-" + n)})
	}
	got := f.batchRead(names)
	for i, want := range []int{20, 20, 5} {
		if ids, ok := f.field("BatchGetSecretValue", i, "SecretIdList").([]any); !ok || len(ids) != want {
			t.Errorf("BatchGetSecretValue #%d: got %d names, want %d", i+1, len(ids), want)
		}
	}
	for _, n := range names {
		if sec, ok := got[n]; !ok || string(sec.Value) != "value-"+n || sec.Version == "" {
			t.Errorf("ReadManyAsGateway[%s]: got %v, want its value and version", n, sec)
		}
	}

	// A missing name is read alone and reported, naming it.
	missing := f.name("batch-missing")
	_, err := f.s.ReadManyAsGateway(f.ctx, append(slices.Clone(names[:3]), missing), append(slices.Clone(names[:3]), missing))
	wantCode(t, "ReadManyAsGateway with a missing name", err, backends.NotFound)
	if err != nil && !strings.Contains(err.Error(), missing) {
		t.Errorf("ReadManyAsGateway with a missing name: message %q does not name %s", err, missing)
	}
}

// batchRead reads names with ReadManyAsGateway and checks it took ceil(n/20)
// BatchGetSecretValue calls and nothing else.
func (f *fixture) batchRead(names []string) map[string]*backends.Secret {
	f.t.Helper()
	f.proxy.Reset()
	got, err := f.s.ReadManyAsGateway(f.ctx, names, names)
	if err != nil {
		f.t.Fatalf("ReadManyAsGateway(%d names): %v", len(names), err)
	}
	if n, want := f.proxy.Calls("BatchGetSecretValue"), (len(names)+awssm.BatchSize-1)/awssm.BatchSize; n != want {
		f.t.Errorf("BatchGetSecretValue calls for %d names: got %d, want %d (%d names a call)", len(names), n, want, awssm.BatchSize)
	}
	if ops := f.proxy.Ops(); slices.ContainsFunc(ops, func(op string) bool { return op != "BatchGetSecretValue" }) {
		f.t.Errorf("calls of a batch read: got other operations than BatchGetSecretValue")
	}
	return got
}

// TestBatchRead1000 is llmsecret_secrets of 1,000 names: ceil(1000/20) = 50
// BatchGetSecretValue calls and nothing else.
func TestBatchRead1000(t *testing.T) {
	f := newFixture(t, nil)
	names := make([]string, 1000)
	errs := make(chan error, len(names))
	sem := make(chan struct{}, 16)
	for i := range names {
		names[i] = f.name(fmt.Sprintf("many-%04d", i))
		sem <- struct{}{}
		go func(n string) {
			defer func() { <-sem }()
			_, err := f.s.Write(f.ctx, backends.WriteRequest{Name: n, Value: []byte("value-" + n)})
			errs <- err
		}(names[i])
	}
	for range names {
		if err := <-errs; err != nil {
			t.Fatalf("seeding 1,000 secrets: %v", err)
		}
	}
	got := f.batchRead(names)
	for _, n := range names {
		if sec, ok := got[n]; !ok || string(sec.Value) != "value-"+n {
			t.Fatalf("ReadManyAsGateway[%s]: got %v, want its value", n, sec)
		}
	}
}

func TestBatchDeniedFallsBack(t *testing.T) {
	f := newFixture(t, nil)
	a, b := f.name("a"), f.name("b")
	f.write(backends.WriteRequest{Name: a, Value: []byte("va")})
	f.write(backends.WriteRequest{Name: b, Value: []byte("vb")})
	f.proxy.Inject(awstest.Fault{Op: "BatchGetSecretValue", Times: -1, Status: http.StatusBadRequest, Code: "AccessDeniedException",
		Message: "not authorized to perform: secretsmanager:BatchGetSecretValue"})
	f.proxy.Reset()
	got, err := f.s.ReadManyAsGateway(f.ctx, []string{a, b}, []string{a, b})
	if err != nil {
		t.Fatalf("ReadManyAsGateway with BatchGetSecretValue denied: %v", err)
	}
	if string(got[a].Value) != "va" || string(got[b].Value) != "vb" {
		t.Errorf("ReadManyAsGateway with BatchGetSecretValue denied: got %v", got)
	}
	if n := f.proxy.Calls("GetSecretValue"); n != 2 {
		t.Errorf("GetSecretValue calls after the batch call was denied: got %d, want 2", n)
	}
	if len(f.warns.Messages()) != 1 || !strings.Contains(f.warns.Messages()[0], "BatchGetSecretValue") {
		t.Errorf("warnings: got %q, want one about BatchGetSecretValue", f.warns.Messages())
	}
}

func TestNameRules(t *testing.T) {
	f := newFixture(t, nil)
	ok := []string{"a", strings.Repeat("n", 512), "a/b_c+d=e.f@g-h", "OPENAI_API_KEY", "litellm/virtual-key"}
	for _, n := range ok {
		if err := f.s.ValidateName(n); err != nil {
			t.Errorf("ValidateName(%.40q): got %v, want nil", n, err)
		}
	}
	refused := map[string]string{
		strings.Repeat("n", 513): "513 characters",
		"a?b=1":                  `'?'`,
		"a: b":                   `':'`,
		"a b":                    `' '`,
		"clé":                    `'é'`,
		"a#b":                    `'#'`,
		"a,b":                    `','`,
	}
	for n, what := range refused {
		err := f.s.ValidateName(n)
		wantCode(t, fmt.Sprintf("ValidateName(%.40q)", n), err, backends.InvalidArgument)
		if err == nil {
			continue
		}
		for _, want := range []string{"aws_secret_manager", what, "/_+=.@-"} {
			if want == "/_+=.@-" && strings.Contains(what, "characters") {
				want = "1 to 512 characters"
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ValidateName(%.40q): message %q lacks %q", n, err, want)
			}
		}
	}
	// Refused before any call.
	f.proxy.Reset()
	_, err := f.s.Write(f.ctx, backends.WriteRequest{Name: "a?b=1", Value: []byte("v")})
	wantCode(t, "Write of a refused name", err, backends.InvalidArgument)
	_, err = f.s.ReadAsGateway(f.ctx, "a: b", "a: b")
	wantCode(t, "Lookup of a refused name", err, backends.InvalidArgument)
	if ops := f.proxy.Ops(); len(ops) != 0 {
		t.Errorf("calls for refused names: %v, want none", ops)
	}
	// Non-UTF-8 values are refused too (LiteLLM reads SecretString).
	_, err = f.s.Write(f.ctx, backends.WriteRequest{Name: f.name("bin"), Value: []byte{0xff, 0xfe}})
	wantCode(t, "Write of a non-UTF-8 value", err, backends.InvalidArgument)
	if ops := f.proxy.Ops(); len(ops) != 0 {
		t.Errorf("calls for a non-UTF-8 value: %v, want none", ops)
	}
}

func TestThrottlingAndServerErrorsRetried(t *testing.T) {
	f := newFixture(t, nil)
	name := f.name("retry")
	f.proxy.Inject(awstest.Throttle("CreateSecret", 2))
	v := f.write(backends.WriteRequest{Name: name, Value: []byte("v")})
	if n := f.proxy.Calls("CreateSecret"); n != 3 {
		t.Errorf("CreateSecret calls with two throttled answers: got %d, want 3", n)
	}
	f.proxy.Inject(awstest.ServerError("GetSecretValue", 1))
	if sec := f.find(name); sec.Version != v {
		t.Errorf("Find after a 500: got version %s, want %s", sec.Version, v)
	}
	if n := f.proxy.Calls("GetSecretValue"); n != 2 {
		t.Errorf("GetSecretValue calls with one 500: got %d, want 2", n)
	}
	if len(f.delays) != 3 {
		t.Errorf("layer backoffs: got %d (%v), want 3", len(f.delays), f.delays)
	}

	// Retry-After is honoured.
	f.delays = nil
	fault := awstest.Throttle("DescribeSecret", 1)
	fault.RetryAfter = "7"
	f.proxy.Inject(fault)
	f.find(name)
	if len(f.delays) != 1 || f.delays[0] < 7*time.Second {
		t.Errorf("backoff after Retry-After: 7: got %v, want one of at least 7s", f.delays)
	}

	// A permanent fault is reported clearly, after the layer's budget.
	f.proxy.Inject(awstest.Throttle("DescribeSecret", -1))
	_, err := f.s.ReadStored(f.ctx, name)
	wantCode(t, "Find with permanent throttling", err, backends.Throttled)
	for _, want := range []string{"gave up after 8 attempts", "ThrottlingException", "Rate exceeded", name} {
		if err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("permanent throttling: message %q lacks %q", err, want)
		}
	}
	f.proxy.Clear()
	f.proxy.Inject(awstest.ServerError("DescribeSecret", -1))
	_, err = f.s.ReadStored(f.ctx, name)
	wantCode(t, "Find with a permanent 500", err, backends.Unavailable)
	if err != nil && !strings.Contains(err.Error(), "StatusCode: 500") {
		t.Errorf("permanent 500: message %q lacks the status", err)
	}
}

func TestSDKRetriesOff(t *testing.T) {
	// Whatever the SDK's own settings say.
	t.Setenv("AWS_MAX_ATTEMPTS", "5")
	t.Setenv("AWS_RETRY_MODE", "adaptive")
	f := newFixture(t, nil)
	s, err := backends.NewStore(f.b, &backends.StoreOptions{Retry: backends.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, fault := range []awstest.Fault{awstest.Throttle("DescribeSecret", -1), awstest.ServerError("DescribeSecret", -1)} {
		f.proxy.Clear()
		f.proxy.Reset()
		f.proxy.Inject(fault)
		_, err := s.ReadStored(f.ctx, f.name("x"))
		if err == nil {
			t.Fatalf("Find with %s: got nil error", fault.Code)
		}
		if n := f.proxy.Calls("DescribeSecret"); n != 1 {
			t.Errorf("HTTP requests for one layer attempt with %s: got %d, want 1 (the SDK must not retry)", fault.Code, n)
		}
	}
}

func TestReplicaRegions(t *testing.T) {
	f := newFixture(t, func(o *awssm.Options) { o.ReplicaRegions = []string{"eu-west-1"} })
	name := f.name("replica")
	f.write(backends.WriteRequest{Name: name, Value: []byte("v")})
	d, err := f.sm.DescribeSecret(f.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.ReplicationStatus) != 1 || aws.ToString(d.ReplicationStatus[0].Region) != "eu-west-1" {
		t.Errorf("replicas after a write: got %+v, want eu-west-1", d.ReplicationStatus)
	}
	// A second write does not replicate again.
	f.write(backends.WriteRequest{Name: name, Value: []byte("v2")})
	if n := f.proxy.Calls("ReplicateSecretToRegions"); n != 1 {
		t.Errorf("ReplicateSecretToRegions calls: got %d, want 1", n)
	}
	// Deleting removes the replicas first, as Secrets Manager requires.
	if err := f.s.Delete(f.ctx, name, backends.DeleteForever); err != nil {
		t.Fatalf("Delete of a replicated secret: %v", err)
	}
	if n := f.proxy.Calls("RemoveRegionsFromReplication"); n != 1 {
		t.Errorf("RemoveRegionsFromReplication calls: got %d, want 1", n)
	}
	if len(f.warns.Messages()) != 0 {
		t.Errorf("warnings: %q", f.warns.Messages())
	}

	// A failed replication is a warning, not a failed write.
	other := f.name("replica-fails")
	f.proxy.Inject(awstest.Fault{Op: "ReplicateSecretToRegions", Times: -1, Status: http.StatusBadRequest, Code: "AccessDeniedException", Message: "not allowed in eu-west-1"})
	v := f.write(backends.WriteRequest{Name: other, Value: []byte("v")})
	if sec := f.find(other); sec.Version != v {
		t.Errorf("secret after a failed replication: got version %s, want %s", sec.Version, v)
	}
	if len(f.warns.Messages()) != 1 || !strings.Contains(f.warns.Messages()[0], "eu-west-1") || !strings.Contains(f.warns.Messages()[0], other) {
		t.Errorf("warnings after a failed replication: got %q, want one naming the secret and the region", f.warns.Messages())
	}
	if err := f.s.Delete(f.ctx, other, backends.DeleteForever); err != nil {
		t.Fatal(err)
	}

	_, err = awssm.New(f.ctx, &awssm.Options{AWS: awstest.Options(moto), ReplicaRegions: []string{awstest.Region}})
	wantCode(t, "New with the store's own region as a replica", err, backends.InvalidArgument)
}

func TestKMSKeyID(t *testing.T) {
	f := newFixture(t, func(o *awssm.Options) { o.KMSKeyID = "alias/llmsecret-test" })
	f.write(backends.WriteRequest{Name: f.name("kms"), Value: []byte("v")})
	if got := f.field("CreateSecret", 0, "KmsKeyId"); got != "alias/llmsecret-test" {
		t.Errorf("CreateSecret KmsKeyId: got %v, want alias/llmsecret-test", got)
	}
}

func TestAssumeRole(t *testing.T) {
	sts := awstest.NewProxy(t, moto)
	f := newFixture(t, func(o *awssm.Options) {
		o.AWS.RoleARN = "arn:aws:iam::123456789012:role/litellm-secrets"
		o.AWS.ExternalID = "ext-1234"
		o.AWS.SessionName = "llmsecret-test"
		o.AWS.STSEndpoint = sts.URL
	})
	name := f.name("role")
	f.write(backends.WriteRequest{Name: name, Value: []byte("v")})
	f.find(name)
	reqs := sts.Requests("AssumeRole")
	if len(reqs) != 1 {
		t.Fatalf("AssumeRole calls: got %d (%v), want 1 (credentials are cached)", len(reqs), sts.Ops())
	}
	body := string(reqs[0].Body)
	for _, want := range []string{"RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Flitellm-secrets", "RoleSessionName=llmsecret-test", "ExternalId=ext-1234"} {
		if !strings.Contains(body, want) {
			t.Errorf("AssumeRole request %q lacks %q", body, want)
		}
	}
	if auth := reqs[0].Header.Get("Authorization"); !strings.Contains(auth, "Credential="+awstest.AccessKey+"/") {
		t.Errorf("AssumeRole was not signed with the static keys: %q", auth)
	}
	// Secrets Manager calls are signed with the assumed role's keys.
	for _, r := range f.proxy.Requests("") {
		if auth := r.Header.Get("Authorization"); strings.Contains(auth, "Credential="+awstest.AccessKey+"/") || !strings.Contains(auth, "Credential=") {
			t.Errorf("%s was not signed with the assumed role's credentials: %q", r.Op, auth)
		}
	}
}

func TestWebIdentity(t *testing.T) {
	sts := awstest.NewProxy(t, moto)
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2ln"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(o *awssm.Options) {
		o.AWS.AccessKey, o.AWS.SecretKey = "", ""
		o.AWS.RoleARN = "arn:aws:iam::123456789012:role/litellm-web"
		o.AWS.WebIdentityTokenFile = token
		o.AWS.STSEndpoint = sts.URL
	})
	f.write(backends.WriteRequest{Name: f.name("web"), Value: []byte("v")})
	reqs := sts.Requests("AssumeRoleWithWebIdentity")
	if len(reqs) != 1 {
		t.Fatalf("AssumeRoleWithWebIdentity calls: got %d (%v), want 1", len(reqs), sts.Ops())
	}
	body := string(reqs[0].Body)
	for _, want := range []string{"WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2ln", "RoleSessionName=terraform-provider-llmsecret", "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Flitellm-web"} {
		if !strings.Contains(body, want) {
			t.Errorf("AssumeRoleWithWebIdentity request %q lacks %q", body, want)
		}
	}
}

func TestCredentialsFailure(t *testing.T) {
	sts := awstest.NewProxy(t, moto)
	sts.Inject(awstest.Fault{Op: "AssumeRole", Times: -1, Status: http.StatusForbidden, Code: "AccessDenied", Message: "not authorized to assume the role"})
	f := newFixture(t, func(o *awssm.Options) {
		o.AWS.RoleARN = "arn:aws:iam::123456789012:role/denied"
		o.AWS.STSEndpoint = sts.URL
	})
	_, err := f.s.ReadStored(f.ctx, f.name("x"))
	wantCode(t, "Find when AssumeRole is denied", err, backends.PermissionDenied)
	if err != nil && !strings.Contains(err.Error(), "no usable AWS credentials for aws_secret_manager") {
		t.Errorf("message %q does not say credentials failed", err)
	}
	if n := f.proxy.Calls(""); n != 0 {
		t.Errorf("Secrets Manager calls without credentials: got %d, want 0", n)
	}
}

func TestHealth(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.s.Health(f.ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	if ops := f.proxy.Ops(); !slices.Equal(ops, []string{"ListSecrets"}) {
		t.Errorf("Health calls: got %v, want [ListSecrets]", ops)
	}
}

func TestErrorCodes(t *testing.T) {
	b, err := awssm.New(context.Background(), &awssm.Options{AWS: awstest.Options(moto)})
	if err != nil {
		t.Fatal(err)
	}
	api := func(code, msg string) error {
		return &smithy.OperationError{ServiceID: "Secrets Manager", OperationName: "Op", Err: &smithy.GenericAPIError{Code: code, Message: msg}}
	}
	status := func(code int) error {
		return &smithy.OperationError{Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}}, Err: errors.New("x")}}
	}
	cases := []struct {
		err  error
		want backends.Code
	}{
		{api("ResourceNotFoundException", ""), backends.NotFound},
		{api("ResourceExistsException", ""), backends.AlreadyExists},
		{api("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion."), backends.SoftDeleted},
		{api("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion."), backends.SoftDeleted},
		{api("InvalidRequestException", "You tried to perform the operation on a secret that's currently marked deleted."), backends.SoftDeleted},
		{api("InvalidRequestException", "rotation is already in progress"), backends.FailedPrecondition},
		{api("InvalidParameterException", ""), backends.InvalidArgument},
		{api("ValidationException", ""), backends.InvalidArgument},
		{api("LimitExceededException", ""), backends.FailedPrecondition},
		{api("EncryptionFailure", ""), backends.FailedPrecondition},
		{api("DecryptionFailure", ""), backends.FailedPrecondition},
		{api("ThrottlingException", ""), backends.Throttled},
		{api("TooManyRequestsException", ""), backends.Throttled},
		{api("InternalServiceError", ""), backends.Unavailable},
		{api("ServiceUnavailable", ""), backends.Unavailable},
		{api("AccessDeniedException", ""), backends.PermissionDenied},
		{api("UnrecognizedClientException", ""), backends.PermissionDenied},
		{api("ExpiredTokenException", ""), backends.PermissionDenied},
		{api("InvalidAction", ""), backends.Unsupported},
		{status(503), backends.Unavailable},
		{status(502), backends.Unavailable},
		{status(429), backends.Throttled},
		{status(403), backends.PermissionDenied},
		{&smithy.OperationError{Err: &smithyhttp.RequestSendError{Err: errors.New("connection refused")}}, backends.Unavailable},
		{&smithy.OperationError{Err: &smithy.DeserializationError{Err: errors.New("bad json")}}, backends.Internal},
		{errors.New("something else"), backends.Unknown},
	}
	for _, tc := range cases {
		if got := b.ErrorCode(tc.err); got != tc.want {
			t.Errorf("ErrorCode(%v): got %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestWriteRules(t *testing.T) {
	f := newFixture(t, nil)
	name := f.name("rules")
	many := map[string]string{}
	for i := range awssm.MaxTags + 1 {
		many[fmt.Sprintf("k%02d", i)] = "v"
	}
	cases := map[string]struct {
		req  backends.WriteRequest
		want string
	}{
		"LongValue":       {backends.WriteRequest{Value: make([]byte, awssm.MaxValueBytes+1)}, "at most 65536"},
		"LongDescription": {backends.WriteRequest{Description: strings.Repeat("d", awssm.MaxDescription+1)}, "allows 2048"},
		"TooManyTags":     {backends.WriteRequest{Tags: many}, "allows 50 per secret"},
		"ReservedTag":     {backends.WriteRequest{Tags: map[string]string{"AWS:owner": "x"}}, "reserved for AWS"},
		"TagCharacters":   {backends.WriteRequest{Tags: map[string]string{"team": "ml#1"}}, "letters, digits, spaces"},
		"LongTagKey":      {backends.WriteRequest{Tags: map[string]string{strings.Repeat("k", awssm.MaxTagKey+1): "v"}}, "1 to 128"},
		"LongTagValue":    {backends.WriteRequest{Tags: map[string]string{"k": strings.Repeat("v", awssm.MaxTagValue+1)}}, "at most 256"},
	}
	for label, tc := range cases {
		req := tc.req
		req.Name = name
		if req.Value == nil {
			req.Value = []byte("v")
		}
		_, err := f.s.Write(f.ctx, req)
		wantCode(t, label, err, backends.InvalidArgument)
		if err != nil && (!strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "aws_secret_manager")) {
			t.Errorf("%s: message %q lacks the store or %q", label, err, tc.want)
		}
	}
	// Tags a user may set pass, Unicode letters and spaces included.
	f.write(backends.WriteRequest{Name: name, Value: []byte("v"), Tags: map[string]string{"équipe": "ML ops", "path": "a/b:c=d+e-f@g_h.i", "empty": ""}})
	err := f.s.UpdateMetadata(f.ctx, name, "", map[string]string{"aws:x": "y"})
	wantCode(t, "UpdateMetadata with a reserved tag", err, backends.InvalidArgument)
	if ops := f.proxy.Ops(); slices.Contains(ops, "TagResource") {
		t.Errorf("calls: %v, want no TagResource for refused tags", ops)
	}
}

// TestEnvOnlyNames: LiteLLM's sync_read_secret returns its own signing
// variables from the environment without asking Secrets Manager, with or
// without a primary secret; the read does the same, and makes no call.
func TestEnvOnlyNames(t *testing.T) {
	for _, primary := range []string{"", "litellm/primary"} {
		env := map[string]string{"AWS_REGION_NAME": "eu-west-3"}
		b, err := awssm.New(context.Background(), &awssm.Options{AWS: awstest.Options("http://127.0.0.1:1")})
		if err != nil {
			t.Fatal(err)
		}
		s, err := backends.NewStore(b, &backends.StoreOptions{
			Settings:  backends.Settings{AccessMode: backends.ReadOnly, PrimarySecretName: primary},
			LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		})
		if err != nil {
			t.Fatal(err)
		}
		sec, err := s.ReadAsGateway(context.Background(), "AWS_REGION_NAME", "AWS_REGION_NAME")
		if err != nil || string(sec.Value) != "eu-west-3" {
			t.Errorf("primary %q: Lookup(AWS_REGION_NAME): got %v, %v; want the environment's value", primary, sec, err)
		}
		_, err = s.ReadAsGateway(context.Background(), "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY")
		if backends.CodeOf(err) != backends.NotFound || !strings.Contains(err.Error(), "never asks Secrets Manager") {
			t.Errorf("primary %q: Lookup(unset AWS_SECRET_ACCESS_KEY): got %v, want NotFound saying LiteLLM reads the environment", primary, err)
		}
		_ = s.Close()
	}
}

// TestSecretBinaryIsNoValue: LiteLLM reads SecretString only; a secret that
// holds SecretBinary gives the proxy no value, so the read is an error that
// says so, alone and in a batch.
func TestSecretBinaryIsNoValue(t *testing.T) {
	f := newFixture(t, nil)
	name := f.name("BINARY_KEY")
	if _, err := f.sm.CreateSecret(f.ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretBinary: []byte("sk-binary")}); err != nil {
		t.Fatal(err)
	}
	_, err := f.s.ReadStored(f.ctx, name)
	if backends.CodeOf(err) != backends.FailedPrecondition || !strings.Contains(err.Error(), "SecretBinary") {
		t.Errorf("ReadStored(binary): got %v, want FailedPrecondition naming SecretBinary", err)
	}
	_, err = f.s.ReadManyAsGateway(f.ctx, []string{name}, []string{name})
	if backends.CodeOf(err) != backends.FailedPrecondition {
		t.Errorf("ReadManyAsGateway(binary): got %v, want FailedPrecondition", err)
	}
}
