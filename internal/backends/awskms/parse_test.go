package awskms_test

import (
	"context"
	"strings"
	"testing"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awsconfig/awstest"
	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends/awskms"
)

// TestPythonB64Decode: the results of Python's base64.b64decode(s) (LiteLLM's
// decode of aws_kms ciphertexts), recorded from CPython.
func TestPythonB64Decode(t *testing.T) {
	for _, c := range []struct {
		in, want string
		err      bool
	}{
		{in: "YWJj", want: "abc"},
		{in: "YWJj ZGVm", want: "abcdef"},
		{in: "YWJj\nZGVm\n", want: "abcdef"},
		{in: "  YWJjZA==  ", want: "abcd"},
		{in: "Y W J j", want: "abc"},
		{in: "YWJjZA==YWJj", want: "abcd"}, // a pad sequence ends the input
		{in: "YQ=x=", want: "a\x0c"},
		{in: "YR==", want: "a"}, // trailing bits are ignored
		{in: "====", want: ""},
		{in: "", want: ""},
		{in: "YWJjZA", err: true},       // Incorrect padding
		{in: "YWJjZA=", err: true},      // Incorrect padding
		{in: "YWJjZ", err: true},        // 1 more than a multiple of 4
		{in: "YWJj-_8=", err: true},     // URL alphabet skipped: 5 characters
		{in: "aws_kms/YWJj", err: true}, // the prefix is not stripped on this path
		{in: "é", err: true},            // not ASCII
	} {
		got, err := awskms.PythonB64Decode(c.in)
		switch {
		case c.err && err == nil:
			t.Errorf("PythonB64Decode(%q): got %q, want an error", c.in, got)
		case !c.err && (err != nil || string(got) != c.want):
			t.Errorf("PythonB64Decode(%q): got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestPythonStrip: str.strip() removes the ASCII separators U+001C..U+001F
// too, which Go's unicode.IsSpace does not.
func TestPythonStrip(t *testing.T) {
	for in, want := range map[string]string{
		"\x1c\x1d a \u0085\u00a0\u3000\x1f": "a",
		" sk-1 \n":                          "sk-1",
		"\u200bsk\u200b":                    "\u200bsk\u200b", // not whitespace in Python
		"a b":                               "a b",
	} {
		if got := awskms.PythonStrip(in); got != want {
			t.Errorf("PythonStrip(%q): got %q, want %q", in, got, want)
		}
	}
	if _, err := awskms.Plaintext("K", []byte{0xff, 'a'}); backends.CodeOf(err) != backends.InvalidArgument {
		t.Errorf("Plaintext(not UTF-8): got %v, want InvalidArgument", err)
	}
}

// TestStartupEnvName: LiteLLM's start-up path gives back the name from
// LITELLM_SECRET_AWS_KMS_<name> by removing every
// "litellm_secret_aws_kms_" in any case; a name it would not give back has
// no start-up variable.
func TestStartupEnvName(t *testing.T) {
	for name, want := range map[string]string{
		"OPENAI_API_KEY":                     "LITELLM_SECRET_AWS_KMS_OPENAI_API_KEY",
		"team/openai":                        "LITELLM_SECRET_AWS_KMS_team/openai",
		"X_litellm_secret_aws_kms_Y":         "",
		"LITELLM_SECRET_AWS_KMS_DATABASE":    "",
		"a=b":                                "",
		"LITELLM_SECRET_AWS_KMSDATABASE_URL": "LITELLM_SECRET_AWS_KMS_LITELLM_SECRET_AWS_KMSDATABASE_URL",
	} {
		got, ok := awskms.StartupEnvName(name)
		if got != want || ok != (want != "") {
			t.Errorf("StartupEnvName(%q): got %q, %v; want %q", name, got, ok, want)
		}
	}
	if got := awskms.StartupEnvValue("AQID"); got != "aws_kms/AQID" {
		t.Errorf("StartupEnvValue: got %q", got)
	}
}

func TestPythonBoolLiteral(t *testing.T) {
	for in, want := range map[string]bool{
		"True": true, "False": true, " \tTrue\n": true, "(True)": true, "( (False) )": true,
		"true": false, "TRUE": false, "1": false, "True False": false, "sk-True": false, "": false,
	} {
		if got := backends.PythonBoolLiteral(in); got != want {
			t.Errorf("PythonBoolLiteral(%q): got %v, want %v", in, got, want)
		}
	}
}

// TestCiphertextFromEnv: the variable called name first (either LiteLLM
// path), then LITELLM_SECRET_AWS_KMS_<name>; a prefixed value under the
// plain name, or both variables set, is read with a warning that says which
// LiteLLM path would differ.
func TestCiphertextFromEnv(t *testing.T) {
	b, err := awskms.New(context.Background(), &awskms.Options{AWS: awstest.Options("http://127.0.0.1:1"), LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ec, ok := b.(backends.EnvCiphertexter)
	if !ok {
		t.Fatal("the aws_kms store does not implement EnvCiphertexter")
	}
	for _, c := range []struct {
		label      string
		env        map[string]string
		want, from string
		warn       string
	}{
		{"Bare", map[string]string{"K": "AQID"}, "AQID", "K", ""},
		{"Startup", map[string]string{"LITELLM_SECRET_AWS_KMS_K": "aws_kms/AQID"}, "aws_kms/AQID", "LITELLM_SECRET_AWS_KMS_K", ""},
		{"PrefixedPlain", map[string]string{"K": "aws_kms/AQID"}, "aws_kms/AQID", "K", "only at start-up with USE_AWS_KMS=True"},
		{"Both", map[string]string{"K": "AQID", "LITELLM_SECRET_AWS_KMS_K": "AQIE"}, "AQID", "K", "replaces \"K\" at start-up"},
	} {
		ctx, w := backends.WithWarnings(context.Background())
		got, from, err := ec.CiphertextFromEnv(ctx, "K", func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
		if err != nil || got != c.want || from != c.from {
			t.Errorf("%s: got %q from %q, %v; want %q from %q", c.label, got, from, err, c.want, c.from)
		}
		msgs := strings.Join(w.Messages(), "\n")
		if c.warn == "" && msgs != "" || !strings.Contains(msgs, c.warn) {
			t.Errorf("%s: warnings %q, want %q", c.label, msgs, c.warn)
		}
		if strings.Contains(msgs, "AQID") {
			t.Errorf("%s: a warning quotes the ciphertext: %q", c.label, msgs)
		}
	}
	_, _, err = ec.CiphertextFromEnv(context.Background(), "K", func(string) (string, bool) { return "", false })
	if backends.CodeOf(err) != backends.NotFound || !strings.Contains(err.Error(), "LITELLM_SECRET_AWS_KMS_K") {
		t.Errorf("neither variable: got %v, want NotFound naming both", err)
	}
}
