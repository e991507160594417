package backends

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Fingerprint is the version of a value in stores that have no version ids
// (the dotenv file, fields of a primary secret). It is a truncated HMAC keyed
// by the name: it changes when the value changes, so refresh sees drift, and
// 64 bits of a keyed hash reveal nothing usable about a high-entropy key.
func Fingerprint(name string, value []byte) string {
	m := hmac.New(sha256.New, []byte("llmsecret/v1:"+name))
	m.Write(value)
	return hex.EncodeToString(m.Sum(nil)[:8])
}
