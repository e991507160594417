package backends

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var kdfShape = regexp.MustCompile(`^kdf1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{22}$`)

func TestStateVersion_fingerprintBecomesSalted(t *testing.T) {
	name, value := "OPENAI_API_KEY", []byte("123456")
	fp := Fingerprint(name, value)
	v, unchanged := StateVersion(name, value, fp, "")
	if !kdfShape.MatchString(v) {
		t.Fatalf("state version %q: want kdf1$<salt>$<hash>", v)
	}
	if strings.Contains(v, fp) {
		t.Errorf("state version %q contains the fast fingerprint %q", v, fp)
	}
	if unchanged {
		t.Error("first version reported unchanged from an empty prior")
	}
	if !KDFMatches(v, value) || KDFMatches(v, []byte("123457")) {
		t.Error("KDFMatches: want true for the value, false for another")
	}
	// Same value again: the prior is kept byte for byte (no diff).
	again, unchanged := StateVersion(name, value, fp, v)
	if again != v || !unchanged {
		t.Errorf("refresh of the same value: got %q (unchanged %t), want %q (true)", again, unchanged, v)
	}
	// Two resources, same value: different salts.
	if other, _ := StateVersion(name, value, fp, ""); other == v {
		t.Error("two salted versions of one value are equal: salt is not random")
	}
}

func TestStateVersion_drift(t *testing.T) {
	name := "K"
	prior, _ := StateVersion(name, []byte("old"), Fingerprint(name, []byte("old")), "")
	v, unchanged := StateVersion(name, []byte("new"), Fingerprint(name, []byte("new")), prior)
	if unchanged || v == prior || !KDFMatches(v, []byte("new")) {
		t.Errorf("changed value: got %q unchanged=%t, want a new salted version of the new value and drift", v, unchanged)
	}
}

func TestStateVersion_upgradeOldFingerprint(t *testing.T) {
	name, value := "K", []byte("sk-abc")
	old := Fingerprint(name, value)
	v, unchanged := StateVersion(name, value, old, old)
	if !unchanged || !kdfShape.MatchString(v) || !KDFMatches(v, value) {
		t.Errorf("old-format prior of the same value: got %q unchanged=%t, want salted form, unchanged", v, unchanged)
	}
	// Old-format prior of another value: drift.
	if _, unchanged := StateVersion(name, []byte("sk-new"), Fingerprint(name, []byte("sk-new")), old); unchanged {
		t.Error("old-format prior of another value reported unchanged")
	}
}

func TestStateVersion_versionIDsPassThrough(t *testing.T) {
	v, unchanged := StateVersion("K", []byte("x"), "3", "3")
	if v != "3" || !unchanged {
		t.Errorf("version id: got %q unchanged=%t, want \"3\" true", v, unchanged)
	}
	if v, unchanged := StateVersion("K", []byte("x"), "4", "3"); v != "4" || unchanged {
		t.Errorf("new version id: got %q unchanged=%t, want \"4\" false", v, unchanged)
	}
}

func TestKDFMatches_malformed(t *testing.T) {
	for _, v := range []string{"", "kdf1$", "kdf1$abc", "kdf1$!!$x", "0123456789abcdef", "kdf1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		if KDFMatches(v, []byte("x")) {
			t.Errorf("KDFMatches(%q) = true", v)
		}
	}
}

// BenchmarkConfirmGuess_old is what an attacker with a state written by the
// earlier provider does per guess: one HMAC.
func BenchmarkConfirmGuess_old(b *testing.B) {
	target := Fingerprint("OPENAI_API_KEY", []byte("999999"))
	i := 0
	for b.Loop() {
		if Fingerprint("OPENAI_API_KEY", []byte(fmt.Sprintf("%06d", i%1000000))) == target {
			b.Log("found")
		}
		i++
	}
}

// BenchmarkConfirmGuess_new is the same with the salted state form: one
// argon2id per guess.
func BenchmarkConfirmGuess_new(b *testing.B) {
	target := KDFVersion([]byte("999999"))
	i := 0
	for b.Loop() {
		if KDFMatches(target, []byte(fmt.Sprintf("%06d", i%1000000))) {
			b.Log("found")
		}
		i++
	}
}
