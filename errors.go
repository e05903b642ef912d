package identity

import (
	"errors"
	"fmt"
)

// Errors that describe why a request failed. The handlers and RequireAuth wrap
// them in an *HTTPError; test for them with errors.Is.
var (
	// ErrNotSignedIn means the request carries no valid session: no cookie, or
	// one that is tampered, truncated or written with keys no longer configured.
	ErrNotSignedIn = errors.New("identity: not signed in")

	// ErrSessionExpired means the session's access token has expired, or the
	// session is older than Config.SessionLifetime.
	ErrSessionExpired = errors.New("identity: session expired")

	// ErrForbidden means the user is signed in but a rule passed to
	// RequireAuth does not hold.
	ErrForbidden = errors.New("identity: access denied")

	// ErrStateMissing means a callback came without the state parameter
	// (RelayState for SAML, state for OpenID Connect).
	ErrStateMissing = errors.New("identity: callback has no state")

	// ErrStateInvalid means a callback's state matches no sign-in started in
	// this browser: the state cookie is missing, or the state is forged or was
	// used already.
	ErrStateInvalid = errors.New("identity: callback state matches no sign-in in progress")

	// ErrStateExpired means a callback's state matches a sign-in that started
	// longer ago than Config.StateLifetime.
	ErrStateExpired = errors.New("identity: sign-in took too long")

	// ErrTokenExpired means Applivery returned an access token that has
	// already expired, usually because a clock is wrong.
	ErrTokenExpired = errors.New("identity: Applivery returned an expired access token")

	// ErrUpstreamUnreachable means Applivery's API could not be reached.
	ErrUpstreamUnreachable = errors.New("identity: Applivery API unreachable")

	// ErrUpstreamTimeout means Applivery's API did not respond in time.
	ErrUpstreamTimeout = errors.New("identity: Applivery API timed out")

	// ErrUpstreamInvalid means Applivery's API responded with something other
	// than its documented response: a status without an error envelope,
	// malformed or oversized JSON, or required fields missing.
	ErrUpstreamInvalid = errors.New("identity: invalid response from Applivery API")
)

// APIError is the error envelope of Applivery's API,
// {"status":false,"error":{"code":5070,"message":"Saml get profile error"}},
// with the HTTP status it came with.
type APIError struct {
	StatusCode int    // HTTP status of the response
	Code       int    // Applivery's error code, such as 5070
	Message    string // Applivery's message, such as "Saml get profile error"
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("applivery: HTTP %d, error %d: %s", e.StatusCode, e.Code, e.Message)
}

// HTTPError is the package's response to a failed request: the status, the
// code and message of the JSON envelope or HTML page, and the cause.
// Config.ErrorHandler receives one; get it with errors.As.
type HTTPError struct {
	Status  int    // HTTP status code of the response
	Code    int    // code in the JSON envelope: Applivery's code for its own errors, else Status
	Message string // a sentence that is safe to show to the user
	Err     error  // the cause, for logs and errors.Is; never shown to the user
}

// Error implements error with the status and the cause, so it is meant for
// logs, not for the user: show Message instead.
func (e *HTTPError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}

	return fmt.Sprintf("HTTP %d: %v", e.Status, e.Err)
}

// Unwrap returns the cause, so errors.Is and errors.As see it.
func (e *HTTPError) Unwrap() error {
	return e.Err
}

// newHTTPError returns an *HTTPError whose envelope code is the status.
func newHTTPError(status int, message string, cause error) *HTTPError {
	return &HTTPError{Status: status, Code: status, Message: message, Err: cause}
}
