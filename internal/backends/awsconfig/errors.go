package awsconfig

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// CommonCodes are the error codes every AWS service may return (the common
// errors of the AWS API reference, and the throttling codes of the JSON
// protocols). A service's own table is consulted first.
var CommonCodes = map[string]backends.Code{
	// Throttling: retried by the layer.
	"ThrottlingException":                    backends.Throttled,
	"Throttling":                             backends.Throttled,
	"ThrottledException":                     backends.Throttled,
	"TooManyRequestsException":               backends.Throttled,
	"RequestLimitExceeded":                   backends.Throttled,
	"RequestThrottled":                       backends.Throttled,
	"RequestThrottledException":              backends.Throttled,
	"ProvisionedThroughputExceededException": backends.Throttled,
	"SlowDown":                               backends.Throttled,
	"PriorRequestNotComplete":                backends.Throttled,
	"EC2ThrottledException":                  backends.Throttled,
	// Transient server-side failures: retried by the layer.
	"InternalFailure":                backends.Unavailable,
	"InternalError":                  backends.Unavailable,
	"InternalServerError":            backends.Unavailable,
	"InternalServiceError":           backends.Unavailable,
	"InternalServiceException":       backends.Unavailable,
	"ServiceUnavailable":             backends.Unavailable,
	"ServiceUnavailableException":    backends.Unavailable,
	"RequestTimeout":                 backends.Unavailable,
	"RequestTimeoutException":        backends.Unavailable,
	"TransactionInProgressException": backends.Unavailable,
	"IDPCommunicationError":          backends.Unavailable, // STS web identity: the IdP did not answer
	// Credentials and authorization.
	"AccessDeniedException":               backends.PermissionDenied,
	"AccessDenied":                        backends.PermissionDenied,
	"NotAuthorized":                       backends.PermissionDenied,
	"UnauthorizedOperation":               backends.PermissionDenied,
	"UnrecognizedClientException":         backends.PermissionDenied,
	"InvalidClientTokenId":                backends.PermissionDenied,
	"InvalidSignatureException":           backends.PermissionDenied,
	"SignatureDoesNotMatch":               backends.PermissionDenied,
	"IncompleteSignature":                 backends.PermissionDenied,
	"MissingAuthenticationToken":          backends.PermissionDenied,
	"MissingAuthenticationTokenException": backends.PermissionDenied,
	"ExpiredToken":                        backends.PermissionDenied,
	"ExpiredTokenException":               backends.PermissionDenied,
	"InvalidIdentityToken":                backends.PermissionDenied, // STS web identity
	"IDPRejectedClaim":                    backends.PermissionDenied, // STS web identity
	"OptInRequired":                       backends.PermissionDenied,
	"RegionDisabledException":             backends.FailedPrecondition, // STS not active in the region
	"RequestExpired":                      backends.FailedPrecondition, // clock skew: a retry signs with the same clock
	// Requests that can never succeed as written.
	"ValidationException":         backends.InvalidArgument,
	"ValidationError":             backends.InvalidArgument,
	"InvalidParameterException":   backends.InvalidArgument,
	"InvalidParameterValue":       backends.InvalidArgument,
	"InvalidParameterCombination": backends.InvalidArgument,
	"MissingParameter":            backends.InvalidArgument,
	"MalformedPolicyDocument":     backends.InvalidArgument, // STS: a bad session policy
	"PackedPolicyTooLarge":        backends.InvalidArgument,
	"InvalidAction":               backends.Unsupported,
	"UnknownOperationException":   backends.Unsupported,
	"UnsupportedOperation":        backends.Unsupported,
	"NotImplemented":              backends.Unsupported,
}

// ErrorCode classifies an error from an AWS SDK client: a credentials
// failure, then the service's own error code (service, may be nil), then
// CommonCodes, then the HTTP status (429, 5xx, 401, 403), then transport
// failures (Unavailable) and malformed answers (Internal). Errors no rule
// covers are Unknown.
func ErrorCode(err error, service map[string]backends.Code) backends.Code {
	var ce *CredentialsError
	if errors.As(err, &ce) {
		// STS throttling or an unreachable STS is transient; anything else
		// is a credentials problem a retry does not fix.
		if c := classify(ce.err, nil); c.Retryable() {
			return c
		}
		return backends.PermissionDenied
	}
	return classify(err, service)
}

func classify(err error, service map[string]backends.Code) backends.Code {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if c, ok := service[apiErr.ErrorCode()]; ok {
			return c
		}
		if c, ok := CommonCodes[apiErr.ErrorCode()]; ok {
			return c
		}
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		switch status := respErr.HTTPStatusCode(); {
		case status == http.StatusTooManyRequests:
			return backends.Throttled
		case status >= 500:
			return backends.Unavailable
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			return backends.PermissionDenied
		}
	}
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	var deserErr *smithy.DeserializationError
	var paramErr smithy.InvalidParamsError
	var serErr *smithy.SerializationError
	switch {
	case errors.As(err, &sendErr), errors.As(err, &netErr),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED):
		return backends.Unavailable
	case errors.As(err, &deserErr):
		return backends.Internal
	case errors.As(err, &paramErr), errors.As(err, &serErr):
		return backends.InvalidArgument
	}
	return backends.Unknown
}

// Annotate attaches the delay an AWS answer asked for (a Retry-After header
// on a throttling or 5xx answer) so the layer waits at least that long, and
// hides the text of an answer the SDK could not parse. Other errors are
// returned as they are, for ErrorCode to classify.
func Annotate(err error, code backends.Code) error {
	if err == nil {
		return nil
	}
	var deserErr *smithy.DeserializationError
	var respErr *smithyhttp.ResponseError
	// Only a success answer carries a value; an error answer's text helps.
	if errors.As(err, &deserErr) && (!errors.As(err, &respErr) || respErr.HTTPStatusCode()/100 == 2) {
		return &unparsedAnswer{err: err}
	}
	if !code.Retryable() {
		return err
	}
	if !errors.As(err, &respErr) || respErr.Response == nil {
		return err
	}
	if d, ok := backends.ParseRetryAfter(respErr.Response.Header.Get("Retry-After"), time.Now()); ok {
		return backends.WithRetryAfter(err, d)
	}
	return err
}

// APIErrorCode returns the service's error code ("" when err carries none).
func APIErrorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// unparsedAnswer is a success answer the SDK could not parse. The SDK's message
// quotes the token it choked on, and a broken success answer is made of the
// secret's value: the message names the operation and the HTTP status only.
// Unwrap keeps the SDK error for ErrorCode (Internal).
type unparsedAnswer struct{ err error }

func (e *unparsedAnswer) Error() string {
	op := "the AWS call"
	var opErr *smithy.OperationError
	if errors.As(e.err, &opErr) {
		op = opErr.ServiceID + " " + opErr.OperationName
	}
	status := ""
	var respErr *smithyhttp.ResponseError
	if errors.As(e.err, &respErr) {
		status = fmt.Sprintf(" (HTTP %d)", respErr.HTTPStatusCode())
	}
	return fmt.Sprintf("%s: the answer%s could not be parsed as the service's JSON; its text is not shown, as it may hold a secret value", op, status)
}

func (e *unparsedAnswer) Unwrap() error { return e.err }
