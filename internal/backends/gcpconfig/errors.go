package gcpconfig

import (
	"errors"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/llmsecret/terraform-provider-llmsecret/internal/backends"
)

// grpcCodes maps every gRPC status code to the layer's code. Unavailable and
// Aborted (a concurrent change, which Google's guidance retries) are retried
// by the layer, as is ResourceExhausted (quota or rate limit).
var grpcCodes = map[codes.Code]backends.Code{
	codes.OK:                 backends.OK,
	codes.Canceled:           backends.Canceled,
	codes.Unknown:            backends.Unknown,
	codes.InvalidArgument:    backends.InvalidArgument,
	codes.DeadlineExceeded:   backends.DeadlineExceeded,
	codes.NotFound:           backends.NotFound,
	codes.AlreadyExists:      backends.AlreadyExists,
	codes.PermissionDenied:   backends.PermissionDenied,
	codes.ResourceExhausted:  backends.Throttled,
	codes.FailedPrecondition: backends.FailedPrecondition,
	codes.Aborted:            backends.Unavailable,
	codes.OutOfRange:         backends.InvalidArgument,
	codes.Unimplemented:      backends.Unsupported,
	codes.Internal:           backends.Internal,
	codes.Unavailable:        backends.Unavailable,
	codes.DataLoss:           backends.Internal,
	codes.Unauthenticated:    backends.PermissionDenied,
}

// Code classifies an error from a Google client by its gRPC status. Errors
// that carry no status (credentials that cannot be found or loaded) are
// Unknown.
func Code(err error) backends.Code {
	var be *backends.Error
	if errors.As(err, &be) {
		return be.Code
	}
	st, ok := status.FromError(err)
	if !ok {
		return backends.Unknown
	}
	if c, ok := grpcCodes[st.Code()]; ok {
		return c
	}
	return backends.Unknown
}

// Wrap returns err with the delay of its RetryInfo detail attached (a
// throttling answer that says when to come back), else err unchanged.
func Wrap(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			if delay := ri.GetRetryDelay().AsDuration(); delay > 0 {
				if Code(err) == backends.Throttled {
					return backends.WithRetryAfter(err, delay)
				}
			}
		}
	}
	return err
}
