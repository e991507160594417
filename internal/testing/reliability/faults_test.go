package reliability

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/testing/faultproxy"
)

// Fault tests: every store, every fault of the issue, on writes and reads,
// through the layer (*backends.Store, *backends.Keyring) exactly as the provider calls it.
//
//   - transient faults are retried to success within the retry budget, and
//     the value read back straight from the server is the one written;
//   - a permanent fault is reported with the store, the object and the
//     cause, after the whole budget (5xx) or at once (403), and leaves
//     nothing readable behind;
//   - a write whose answer is lost (the request reached the server, then
//     the connection hung past the per-call timeout, or a 503 replaced the
//     answer) is retried without making a second secret; how many versions
//     the store keeps is measured and reported.

// budget is the retry budget of these tests: the layer's policy, with short
// delays so a run takes seconds.
var budget = backends.RetryPolicy{MaxAttempts: 5, BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond}

// callTimeout is the per-call timeout; Hang holds a request past it.
const callTimeout = time.Second

// retries records the layer's retries (OnRetry) by secret name.
type retries struct {
	mu     sync.Mutex
	n      map[string]int
	delays map[string][]time.Duration
}

func (r *retries) onRetry(_ context.Context, _, name string, _ int, delay time.Duration, _ error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n, r.delays = map[string]int{}, map[string][]time.Duration{}
	}
	r.n[name]++
	r.delays[name] = append(r.delays[name], delay)
}

func (r *retries) of(name string) (int, []time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[name], slices.Clone(r.delays[name])
}

func (r *retries) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.n {
		n += v
	}
	return n
}

// row is one line of the report printed at the end of the run.
type row struct {
	store, test, fault, op string
	attempts, retries      int
	outcome                string
}

var report struct {
	sync.Mutex
	rows   []row
	totals map[string]*totals
}

// totals are per-store counters for the summary table.
type totals struct {
	injected, requests, retried, reported int
	writes, verified                      int
	versions                              string
	elapsed                               time.Duration
}

func record(r row) {
	report.Lock()
	defer report.Unlock()
	report.rows = append(report.rows, r)
}

func storeTotals(store string) *totals {
	report.Lock()
	defer report.Unlock()
	if report.totals == nil {
		report.totals = map[string]*totals{}
	}
	if report.totals[store] == nil {
		report.totals[store] = &totals{}
	}
	return report.totals[store]
}

func TestMain(m *testing.M) {
	code := m.Run()
	report.Lock()
	defer report.Unlock()
	if len(report.rows) > 0 && (testing.Verbose() || os.Getenv("RELIABILITY_REPORT") != "") {
		var b strings.Builder
		fmt.Fprintln(&b, "| store | faults injected | requests seen | retried | reported | writes attempted | verified | versions after a retried write | time |")
		fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|---|")
		for _, k := range Kinds {
			if t := report.totals[k]; t != nil {
				fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %s | %s |\n", k, t.injected, t.requests, t.retried, t.reported, t.writes, t.verified, t.versions, t.elapsed.Round(10*time.Millisecond))
			}
		}
		fmt.Fprintln(&b)
		fmt.Fprintln(&b, "| store | test | fault | op | attempts | retries | outcome |")
		fmt.Fprintln(&b, "|---|---|---|---|---|---|---|")
		for _, r := range report.rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %s |\n", r.store, r.test, r.fault, r.op, r.attempts, r.retries, r.outcome)
		}
		fmt.Print(b.String())
		if p := os.Getenv("RELIABILITY_REPORT"); p != "" {
			_ = os.WriteFile(p, []byte(b.String()), 0o600)
		}
	}
	os.Exit(code)
}

// retriedByContract reports whether the layer must retry f on t: every
// transient fault, except that a gRPC INTERNAL (the 500 of gRPC) is, as
// Google's AIP-194 says, not retried.
func retriedByContract(t *Target, f Fault) bool {
	return t.GRPC == nil || f != Error500
}

func TestFaults(t *testing.T) {
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			tg := Start(t, kind)
			rec := &retries{}
			s := tg.Open(t, false, &backends.StoreOptions{Retry: budget, CallTimeout: callTimeout, OnRetry: rec.onRetry})
			direct := tg.Open(t, true, nil)
			tot := storeTotals(kind)
			t.Run("transient", func(t *testing.T) { testTransient(t, tg, s, direct, rec, tot) })
			t.Run("permanent", func(t *testing.T) { testPermanent(t, tg, s, direct, tot) })
			t.Run("idempotent", func(t *testing.T) { testIdempotent(t, tg, s, direct, tot) })
			t.Run("primary", func(t *testing.T) { testPrimary(t, tg, rec, tot) })
			st := tg.Injected()
			tot.injected += st.Injected
			tot.requests += st.Requests
			tot.retried = rec.total()
			tot.elapsed = time.Since(start)
		})
	}
}

// value is a distinct test value of a name.
func value(name string) []byte { return []byte("sk-rel-" + name + `-"q'\v`) }

// write writes (or encrypts) a value and returns what reads it back (the
// name, or the ciphertext on KMS stores).
func write(ctx context.Context, tg *Target, s *Client, name string, v []byte) (string, error) {
	if tg.KMS {
		return s.Encrypt(ctx, name, v)
	}
	_, err := s.Write(ctx, backends.WriteRequest{Name: name, Value: v})
	return name, err
}

// readBack reads what write returned (a name, or a ciphertext) with s.
func readBack(ctx context.Context, tg *Target, s *Client, name, handle string) ([]byte, error) {
	var (
		sec *backends.Secret
		err error
	)
	if tg.KMS {
		sec, err = s.Decrypt(ctx, name, handle)
	} else {
		sec, err = s.ReadStored(ctx, handle)
	}
	if err != nil {
		return nil, err
	}
	return sec.Value, nil
}

func testTransient(t *testing.T, tg *Target, s, direct *Client, rec *retries, tot *totals) {
	ctx := t.Context()
	for i, f := range Transient {
		for _, op := range []Op{Write, Read} {
			if !tg.Supports(f) || (tg.Kind == Local && op == Read) {
				record(row{tg.Kind, "transient", string(f), op.String(), 0, 0, "n/a (no network; reads take no lock)"})
				continue
			}
			name := fmt.Sprintf("REL-T%d-%s", i, op)
			stored := tg.Stored(t, name)
			v := value(name)
			handle := stored
			if op == Read {
				h, err := write(ctx, tg, direct, stored, v)
				if err != nil {
					t.Fatalf("%s: seeding %s: %v", f, name, err)
				}
				handle = h
			}
			before := tg.Requests(op, stored)
			var release func()
			if tg.Kind == Local {
				tot.injected++
				release = holdLock(t, tg.LockFile)
				go func() {
					// Let two attempts time out, then let the write through.
					waitFor(t, func() bool { n, _ := rec.of(stored); return n >= 2 })
					release()
				}()
			} else {
				tg.Inject(t, op, stored, f, 1, 1, false)
			}
			var err error
			var got []byte
			tot.writes++
			if op == Write {
				handle, err = write(ctx, tg, s, stored, v)
				if err == nil {
					got, err = readBack(ctx, tg, direct, stored, handle)
				}
			} else {
				got, err = readBack(ctx, tg, s, stored, handle)
			}
			attempts := tg.Requests(op, stored) - before
			n, delays := rec.of(stored)
			outcome := "retried to success"
			switch {
			case !retriedByContract(tg, f):
				tot.reported++
				outcome = "reported, not retried (gRPC INTERNAL)"
				if err == nil || backends.CodeOf(err) != backends.Internal || n != 0 {
					t.Errorf("%s on %s: got %v after %d retries, want an Internal error at once", f, op, err, n)
				}
			case err != nil:
				outcome = "FAILED: " + err.Error()
				t.Errorf("%s on %s of %s: %v", f, op, name, err)
			case string(got) != string(v):
				outcome = "FAILED: wrong value"
				t.Errorf("%s on %s of %s: the value read back differs from the one written", f, op, name)
			case f == Delay:
				outcome = "succeeded late, no retry"
				if n != 0 {
					t.Errorf("%s: %d retries, want none", f, n)
				}
			case n == 0 && attempts >= 2:
				// Go's HTTP transport replays an idempotent request (a GET)
				// that failed on a reused connection before any answer.
				outcome = "retried to success by the HTTP client (idempotent GET replayed on a new connection)"
			case n == 0:
				outcome = "FAILED: not retried"
				t.Errorf("%s on %s of %s: succeeded without a retry; was the fault injected?", f, op, name)
			}
			if err == nil && retriedByContract(tg, f) {
				tot.verified++
			}
			if f == ThrottleRetryAfter && n > 0 && delays[0] < RetryAfter {
				t.Errorf("%s: the first retry waited %s, want at least the Retry-After of %s", f, delays[0], RetryAfter)
				outcome += fmt.Sprintf(" (Retry-After ignored: waited %s)", delays[0])
			} else if f == ThrottleRetryAfter && n > 0 {
				outcome += fmt.Sprintf(" (waited %s as asked)", delays[0].Round(time.Millisecond))
			}
			if tg.Kind == Local {
				attempts = n + 1
			}
			record(row{tg.Kind, "transient", string(f), op.String(), attempts, n, outcome})
		}
	}
}

// holdLock takes the local store's cross-process lock, as another writer
// would, and returns its release.
func holdLock(t *testing.T, path string) func() {
	t.Helper()
	l := flock.New(path)
	if err := l.Lock(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() { once.Do(func() { _ = l.Unlock() }) }
	t.Cleanup(release)
	return release
}

// waitFor polls cond until it holds or 30s pass.
func waitFor(t *testing.T, cond func() bool) {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Error("condition not met within 30s")
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testPermanent(t *testing.T, tg *Target, s, direct *Client, tot *totals) {
	ctx := t.Context()
	type tc struct {
		fault    Fault
		attempts int // expected attempts
	}
	cases := []tc{{Error503, budget.MaxAttempts}, {Forbidden, 1}}
	if tg.Kind == Local {
		testPermanentLocal(t, tg, s, tot)
		return
	}
	for i, c := range cases {
		name := fmt.Sprintf("REL-P%d", i)
		stored := tg.Stored(t, name)
		tg.Inject(t, Write, stored, c.fault, 1, faultproxy.Forever, false)
		before := tg.Requests(Write, stored)
		tot.writes++
		_, err := write(ctx, tg, s, stored, value(name))
		attempts := tg.Requests(Write, stored) - before
		tg.Clear()
		outcome := "FAILED: no error"
		if err == nil {
			t.Errorf("%s forever: the write succeeded", c.fault)
		} else {
			tot.reported++
			msg := err.Error()
			for _, want := range []string{tg.Kind, stored, "injected"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s forever: error %q does not name %q (store, object and cause)", c.fault, msg, want)
				}
			}
			if strings.Contains(msg, string(value(name))) {
				t.Errorf("%s forever: the error carries the value", c.fault)
			}
			outcome = "reported: " + msg
		}
		if attempts != c.attempts {
			t.Errorf("%s forever: %d attempts, want %d", c.fault, attempts, c.attempts)
		}
		// Nothing readable is left behind.
		if !tg.KMS {
			if _, ferr := direct.ReadStored(ctx, stored); backends.CodeOf(ferr) != backends.NotFound {
				t.Errorf("%s forever: after the failed write the store answers %v, want NotFound", c.fault, ferr)
			}
			if slices.Contains(tg.Objects(), stored) {
				outcome += " [the store keeps an empty object " + stored + " without a value]"
			}
		}
		record(row{tg.Kind, "permanent", string(c.fault) + " forever", "write", attempts, attempts - 1, outcome})
	}
}

// testPermanentLocal: the local store's permanent faults are a file it must
// not rewrite, and a lock held past the operation's deadline.
func testPermanentLocal(t *testing.T, tg *Target, s *Client, tot *totals) {
	if err := os.WriteFile(tg.EnvFile, []byte("OK=1\nBROKEN=\"unterminated\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tot.writes++
	tot.injected++
	_, err := s.Write(t.Context(), backends.WriteRequest{Name: "REL-P0", Value: value("REL-P0")})
	if err == nil || !strings.Contains(err.Error(), "local") || !strings.Contains(err.Error(), "REL-P0") || !strings.Contains(err.Error(), "not a valid dotenv file") {
		t.Errorf("write into a broken dotenv file: got %v, want an error naming the store, the secret and the cause", err)
	} else {
		tot.reported++
	}
	record(row{tg.Kind, "permanent", "unparsable dotenv file", "write", 1, 0, fmt.Sprintf("reported: %v", err)})
	if err := os.Remove(tg.EnvFile); err != nil {
		t.Fatal(err)
	}

	release := holdLock(t, tg.LockFile)
	defer release()
	ctx, cancel := context.WithTimeout(t.Context(), 2500*time.Millisecond)
	defer cancel()
	tot.writes++
	tot.injected++
	_, err = s.Write(ctx, backends.WriteRequest{Name: "REL-P1", Value: value("REL-P1")})
	if err == nil || backends.CodeOf(err) != backends.DeadlineExceeded && backends.CodeOf(err) != backends.Canceled {
		t.Errorf("write under a lock held forever: got %v, want a deadline error", err)
	} else {
		tot.reported++
	}
	record(row{tg.Kind, "permanent", "lock held past the deadline", "write", 0, 0, fmt.Sprintf("reported: %v", err)})
}

func testIdempotent(t *testing.T, tg *Target, s, direct *Client, tot *totals) {
	if tg.Kind == Local || tg.KMS {
		record(row{tg.Kind, "idempotent", "answer lost", "write", 0, 0, "n/a: a write sets KEY=VALUE (local) / nothing is stored (KMS)"})
		if tg.Kind == Local {
			tot.versions = "n/a (KEY=VALUE)"
		} else {
			tot.versions = "n/a (no remote object)"
		}
		return
	}
	ctx := t.Context()
	var vers []string
	for i, f := range []Fault{Hang, Error503} {
		name := fmt.Sprintf("REL-I%d", i)
		stored := tg.Stored(t, name)
		tg.Inject(t, Write, stored, f, max(tg.LandingWrite, 1), 1, true)
		before := tg.Requests(Write, stored)
		tot.writes++
		_, err := write(ctx, tg, s, stored, value(name))
		attempts := tg.Requests(Write, stored) - before
		outcome := ""
		if err != nil {
			t.Errorf("forwarded %s: %v", f, err)
			outcome = "FAILED: " + err.Error()
		}
		got, rerr := readBack(ctx, tg, direct, stored, stored)
		if rerr != nil || string(got) != string(value(name)) {
			t.Errorf("forwarded %s: reading back: %v (or a different value)", f, rerr)
		} else {
			tot.verified++
		}
		secrets := 1
		if objs := tg.Objects(); objs != nil {
			secrets = 0
			for _, o := range objs {
				if strings.EqualFold(o, stored) {
					secrets++
				}
			}
		}
		if secrets != 1 {
			t.Errorf("forwarded %s: the store holds %d secrets named %s, want 1", f, secrets, stored)
		}
		v := tg.Versions(stored)
		if outcome == "" {
			outcome = fmt.Sprintf("%d secret, %d version(s)", secrets, v)
			if v > 1 {
				outcome += " (the retry wrote the same value again as a new version)"
			}
		}
		vers = append(vers, fmt.Sprint(v))
		record(row{tg.Kind, "idempotent", "forwarded, then " + string(f), "write", attempts, attempts - 1, outcome})
	}
	tot.versions = "1 secret, " + strings.Join(vers, "/") + " versions"
}

// TestRetryBudgetBoundsTime: a store that never recovers costs at most the
// retry budget: MaxAttempts attempts, then the error, well before the
// operation's deadline; and an operation deadline shorter than the budget
// cuts it, with the store's last error in the message.
func TestRetryBudgetBoundsTime(t *testing.T) {
	tg := Start(t, Custom)
	var calls atomic.Int64
	s := tg.Open(t, false, &backends.StoreOptions{
		Retry: backends.RetryPolicy{MaxAttempts: 50, BaseDelay: 100 * time.Millisecond, MaxDelay: 100 * time.Millisecond}, CallTimeout: time.Second,
		OnRetry: func(context.Context, string, string, int, time.Duration, error) { calls.Add(1) },
	})
	tg.Inject(t, Write, "REL-B", Error503, 1, faultproxy.Forever, false)
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Write(ctx, backends.WriteRequest{Name: "REL-B", Value: []byte("v")})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the write returned after %s, want about the 700ms deadline", d)
	}
	if err == nil || !errors.Is(err, context.DeadlineExceeded) && backends.CodeOf(err) != backends.DeadlineExceeded {
		t.Errorf("got %v, want a deadline error", err)
	}
	if err != nil && !strings.Contains(err.Error(), "injected 503") {
		t.Errorf("the deadline error %q lost the store's last answer", err)
	}
	if calls.Load() == 0 {
		t.Error("no retry before the deadline")
	}
}

// testPrimary: parallel writers of one primary secret (primary_secret_name)
// while the store throttles, fails and loses answers: every field lands,
// none is lost, and the object stays a JSON object of strings.
func testPrimary(t *testing.T, tg *Target, rec *retries, tot *totals) {
	if tg.KMS {
		record(row{tg.Kind, "primary", "-", "write", 0, 0, "n/a: a KMS store has no primary secret"})
		return
	}
	if tg.Kind != AWSSM {
		record(row{tg.Kind, "primary", "-", "write", 0, 0, "n/a: LiteLLM reads primary secrets only from AWS Secrets Manager; refused here"})
		return
	}
	const primary, fields = "REL-PRIMARY", 24
	s := tg.Open(t, false, &backends.StoreOptions{
		Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: primary},
		// The layer's default shape with shorter delays: gRPC waits about a
		// second before reconnecting a connection that broke twice in a
		// row, which the tiny budget of the other tests would not outlast.
		Retry:       backends.RetryPolicy{MaxAttempts: 8, BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second},
		CallTimeout: callTimeout, OnRetry: rec.onRetry,
	})
	stored := tg.Stored(t, primary)
	faults := []Fault{Error503, Throttle, ResetMidBody, Hang}
	if tg.Kind != Local {
		for i, f := range faults {
			// The first commits of the object meet a fault each; the ones
			// forwarded land and lose only their answer.
			tg.Inject(t, Write, stored, f, 1+i, 1, i%2 == 1)
		}
	}
	before, _ := rec.of("primary " + primary)
	var wg sync.WaitGroup
	errs := make([]error, fields)
	for i := range fields {
		wg.Go(func() {
			name := fmt.Sprintf("FIELD_%02d", i)
			_, errs[i] = s.Write(t.Context(), backends.WriteRequest{Name: name, Value: value(name)})
		})
	}
	wg.Wait()
	tot.writes += fields
	for i, err := range errs {
		if err != nil {
			t.Errorf("FIELD_%02d: %v", i, err)
		}
	}
	check := tg.Open(t, true, &backends.StoreOptions{Settings: backends.Settings{AccessMode: backends.ReadAndWrite, PrimarySecretName: primary}})
	lost := 0
	for i := range fields {
		name := fmt.Sprintf("FIELD_%02d", i)
		sec, err := check.ReadStored(t.Context(), name)
		if err != nil || string(sec.Value) != string(value(name)) {
			lost++
			t.Errorf("%s: lost or wrong in the primary secret (%v)", name, err)
			continue
		}
		tot.verified++
	}
	n, _ := rec.of("primary " + primary)
	outcome := fmt.Sprintf("%d parallel writers, %d fields lost", fields, lost)
	if tg.Kind == Local {
		outcome += " (no faults: no network)"
	}
	record(row{tg.Kind, "primary", "503, 429, reset mid-body (forwarded), hang", "write", tg.Requests(Write, stored), n - before, outcome})
}
