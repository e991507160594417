package backends

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The version kept in Terraform state for stores without version ids.
//
// Stores such as the dotenv file, CyberArk, custom stores and fields of a
// primary secret return Fingerprint as their version: a fast HMAC keyed by the
// (public) name. It is fine for comparisons inside one process, but written
// to state it lets anyone holding the state confirm a guessed value offline at
// millions of guesses per second. StateVersion replaces it, for state only,
// with "kdf1$<salt>$<hash>": argon2id of the value with a random per-resource
// salt. Refresh recomputes the KDF of the value it reads with the salt kept in
// state, so drift is still seen.
//
// kdf1 parameters: argon2id, time 1, memory kdfMemoryKiB, 1 thread, 16-byte
// salt, 16-byte hash. They were chosen as the cheapest that make confirming a
// guess at least 10,000 times slower than the HMAC (BenchmarkConfirmGuess_*).
// Measured on a 2-core AMD EPYC: HMAC 1.15 us/guess (~870,000 guesses/s),
// kdf1 14.7 ms/guess (~68 guesses/s): x12,750; 4 MiB gave only x3,070.
// A new parameter set gets a new prefix (kdf2, ...).
const (
	kdfPrefix    = "kdf1$"
	kdfTime      = 1
	kdfMemoryKiB = 16 * 1024
	kdfThreads   = 1
	kdfSaltLen   = 16
	kdfKeyLen    = 16
)

var kdfEncoding = base64.RawStdEncoding

// IsFingerprint reports whether version is the store's content fingerprint of
// value under name (a store without version ids), not a version id.
func IsFingerprint(name string, value []byte, version string) bool {
	return version != "" && version == Fingerprint(name, value)
}

// IsKDFVersion reports whether v has the salted state form.
func IsKDFVersion(v string) bool { return strings.HasPrefix(v, kdfPrefix) }

// KDFVersion returns the salted state form of value with a new random salt.
func KDFVersion(value []byte) string {
	salt := make([]byte, kdfSaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("crypto/rand: " + err.Error()) // never happens on supported platforms
	}
	return kdfWithSalt(salt, value)
}

// kdfSlots bounds how many KDFs run at once to the number of CPUs: each
// holds kdfMemoryKiB, and more at once than there are CPUs only adds memory
// (Terraform refreshes 10 resources at a time by default: 160 MiB unbounded,
// 16 MiB per CPU bounded), not speed.
var kdfSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

func kdfWithSalt(salt, value []byte) string {
	kdfSlots <- struct{}{}
	h := argon2.IDKey(value, salt, kdfTime, kdfMemoryKiB, kdfThreads, kdfKeyLen)
	<-kdfSlots
	return kdfPrefix + kdfEncoding.EncodeToString(salt) + "$" + kdfEncoding.EncodeToString(h)
}

// KDFMatches reports whether the salted state form v was computed from value.
func KDFMatches(v string, value []byte) bool {
	rest, ok := strings.CutPrefix(v, kdfPrefix)
	if !ok {
		return false
	}
	s, _, ok := strings.Cut(rest, "$")
	if !ok {
		return false
	}
	salt, err := kdfEncoding.DecodeString(s)
	if err != nil || len(salt) != kdfSaltLen {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(kdfWithSalt(salt, value)), []byte(v)) == 1
}

// StateVersion is the version to keep in state for a secret the store holds
// under name with value and storeVersion, given the version state held before
// (prior, "" if none). It also reports whether the stored value is the one
// prior stood for (no drift).
//
//   - A real version id (not a fingerprint) is kept as the store gave it;
//     unchanged means equal to prior.
//   - A fingerprint becomes the salted form. When prior is the salted form of
//     this value it is kept as is (same salt, no diff). When prior is the old
//     unsalted fingerprint of this value (state written by an earlier
//     provider version), it is upgraded to the salted form and reported
//     unchanged: the upgrade is not drift.
func StateVersion(name string, value []byte, storeVersion, prior string) (version string, unchanged bool) {
	if !IsFingerprint(name, value, storeVersion) {
		return storeVersion, storeVersion == prior
	}
	if IsKDFVersion(prior) && KDFMatches(prior, value) {
		return prior, true
	}
	return KDFVersion(value), prior == storeVersion
}
