package azurekv

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// statusCodes is how Key Vault's HTTP answers differ from what the status
// means on every store (backends.HTTPStatusCode).
var statusCodes = map[int]backends.Code{
	http.StatusRequestTimeout:      backends.Unavailable,
	http.StatusUnprocessableEntity: backends.Unknown,
	http.StatusNotImplemented:      backends.Unavailable,
}

// errorCodes refines statusCodes by Key Vault's error code (or inner error
// code), where one status covers several conditions.
var errorCodes = map[string]backends.Code{
	"SecretNotFound":     backends.NotFound,
	"NotFound":           backends.NotFound,
	"BadParameter":       backends.InvalidArgument,
	"SecretDisabled":     backends.FailedPrecondition,
	"ForbiddenByPolicy":  backends.PermissionDenied,
	"ForbiddenByRbac":    backends.PermissionDenied,
	"AccessDenied":       backends.PermissionDenied,
	"Unauthorized":       backends.PermissionDenied,
	"Throttled":          backends.Throttled,
	"ServiceUnavailable": backends.Unavailable,
}

// conflictKind is what a 409 from Key Vault means. Key Vault answers every
// one with the code "Conflict"; only the message tells them apart.
type conflictKind int

const (
	conflictOther conflictKind = iota
	// conflictDeleted: the name is held by a deleted-but-recoverable secret.
	conflictDeleted
	// conflictBusy: a delete, purge or recovery of the name is in progress.
	conflictBusy
)

func conflictOf(err error) conflictKind {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusConflict {
		return conflictOther
	}
	msg := strings.ToLower(kvErrorOf(re).Message)
	switch {
	case strings.Contains(msg, "deleted but recoverable"):
		return conflictDeleted
	case strings.Contains(msg, "being deleted"), strings.Contains(msg, "being recovered"), strings.Contains(msg, "being purged"):
		return conflictBusy
	}
	return conflictOther
}

// credentialTypes are the azidentity credentials, whose unexported errors
// (no credential available, a misconfigured chain) start with their name.
var credentialTypes = []string{
	"DefaultAzureCredential", "ChainedTokenCredential", "EnvironmentCredential", "ManagedIdentityCredential",
	"WorkloadIdentityCredential", "AzureCLICredential", "AzureDeveloperCLICredential", "AzurePowerShellCredential",
	"ClientSecretCredential", "ClientCertificateCredential", "ClientAssertionCredential",
}

// ErrorCode implements backends.Backend.
func (b *backend) ErrorCode(err error) backends.Code {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch conflictOf(err) {
		case conflictDeleted:
			return backends.SoftDeleted
		case conflictBusy:
			return backends.Unavailable // transient: the layer retries
		}
		kv := kvErrorOf(re)
		for _, c := range []string{kv.Inner, kv.Code, re.ErrorCode} {
			if code, ok := errorCodes[c]; ok {
				return code
			}
		}
		return backends.HTTPStatusCode(re.StatusCode, statusCodes)
	}
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) {
		if afe.RawResponse != nil {
			switch s := afe.RawResponse.StatusCode; {
			case s == http.StatusTooManyRequests:
				return backends.Throttled
			case s >= 500:
				return backends.Unavailable
			}
		}
		return backends.PermissionDenied
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr x509.CertificateInvalidError
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &certErr) {
		return backends.FailedPrecondition
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return backends.Unavailable
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) {
		return backends.Internal
	}
	msg := err.Error()
	for _, c := range credentialTypes {
		if strings.HasPrefix(msg, c) || strings.Contains(msg, ": "+c+":") {
			return backends.PermissionDenied
		}
	}
	return backends.Unknown
}

// kvError is Key Vault's error body.
type kvError struct {
	Code, Message, Inner string
}

func kvErrorOf(re *azcore.ResponseError) kvError {
	out := kvError{Code: re.ErrorCode}
	if re.RawResponse == nil {
		return out
	}
	body, err := runtime.Payload(re.RawResponse)
	if err != nil || len(body) == 0 {
		return out
	}
	var doc struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError *struct {
				Code string `json:"code"`
			} `json:"innererror"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return out
	}
	if doc.Error.Code != "" {
		out.Code = doc.Error.Code
	}
	out.Message = doc.Error.Message
	if doc.Error.InnerError != nil {
		out.Inner = doc.Error.InnerError.Code
	}
	return out
}

// opError keeps the SDK error for errors.As and ErrorCode while giving a
// short message: what Key Vault said, without the request dump.
type opError struct {
	msg string
	err error
}

func (e *opError) Error() string { return e.msg }
func (e *opError) Unwrap() error { return e.err }

// operation is one Key Vault call, named by the secret permission it needs.
type operation struct {
	verb       string // what the call does, for messages
	permission string // Key Vault secret permission (access policies)
}

var (
	opGet     = operation{"reading", "get"}
	opSet     = operation{"writing", "set"}
	opUpdate  = operation{"updating the properties of", "set"}
	opDelete  = operation{"deleting", "delete"}
	opPurge   = operation{"purging", "purge"}
	opRecover = operation{"recovering", "recover"}
	opDeleted = operation{"reading the deleted", "get"}
)

// fail turns an SDK error into one that says the vault, the secret, what Key
// Vault said and, for 401/403, what is missing; a 429 carries its
// Retry-After for the layer's backoff.
func (b *backend) fail(op operation, fullName string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	what := fmt.Sprintf("%s secret %s in Key Vault %s", op.verb, backends.QuoteName(fullName), b.vaultURL)
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		var afe *azidentity.AuthenticationFailedError
		if errors.As(err, &afe) || b.ErrorCode(err) == backends.PermissionDenied {
			return &opError{msg: fmt.Sprintf("%s: getting a token with %s failed (check tenant_id, client_id and the credential settings): %v",
				what, b.credName, err), err: err}
		}
		return &opError{msg: fmt.Sprintf("%s: %v", what, err), err: err}
	}
	kv := kvErrorOf(re)
	said := fmt.Sprintf("HTTP %d", re.StatusCode)
	if kv.Code != "" {
		said += " " + kv.Code
	}
	if kv.Inner != "" && kv.Inner != kv.Code {
		said += "/" + kv.Inner
	}
	if kv.Message != "" {
		said += ": " + kv.Message
	}
	switch {
	case re.StatusCode == http.StatusUnauthorized:
		return &opError{msg: fmt.Sprintf("%s: Key Vault rejected the token of %s (%s); check that tenant_id is the vault's tenant and that the identity exists there",
			what, b.credName, said), err: err}
	case re.StatusCode == http.StatusForbidden && b.ErrorCode(err) == backends.PermissionDenied:
		return &opError{msg: fmt.Sprintf("%s: permission denied (%s). The identity of %s needs the secret permission %q on this vault: "+
			"an access policy granting secrets %q, or with Azure RBAC a role that includes it (Key Vault Secrets Officer "+
			"covers get, set, delete, recover and purge; Key Vault Secrets User only get)",
			what, said, b.credName, op.permission, op.permission), err: err}
	case re.StatusCode == http.StatusTooManyRequests:
		return backends.WithRetryAfter(&opError{msg: fmt.Sprintf("%s: throttled (%s)", what, said), err: err}, retryAfter(re.RawResponse))
	}
	return &opError{msg: fmt.Sprintf("%s: %s", what, said), err: err}
}

// retryAfter parses Retry-After (seconds or an HTTP date) and Azure's
// x-ms-retry-after-ms / retry-after-ms.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	for _, h := range []string{"retry-after-ms", "x-ms-retry-after-ms"} {
		if v := resp.Header.Get(h); v != "" {
			if ms, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && ms > 0 {
				return time.Duration(ms) * time.Millisecond
			}
		}
	}
	return backends.RetryAfter(resp.Header)
}

// isPurgeProtected reports whether a refused purge was refused because the
// vault has purge protection.
func isPurgeProtected(err error) bool {
	var re *azcore.ResponseError
	if !errors.As(err, &re) || (re.StatusCode != http.StatusForbidden && re.StatusCode != http.StatusConflict && re.StatusCode != http.StatusBadRequest) {
		return false
	}
	return strings.Contains(strings.ToLower(kvErrorOf(re).Message), "purge protection")
}
