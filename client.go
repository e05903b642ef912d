package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
)

// maxResponseBytes limits how much of Applivery's response is read. A documented
// callback response is under 3 KiB; a user in hundreds of organizations stays
// far below this.
const maxResponseBytes = 1 << 20

// userAgent names the package in requests to Applivery's API.
const userAgent = "github.com/ssogate/identity"

// apiClient calls Applivery's API.
type apiClient struct {
	baseURL      string
	apiKey       string
	organization string
	provider     string
	refreshPath  string
	http         *http.Client
}

// newAPIClient copies httpClient so that the caller's client is not changed,
// and makes the copy return redirects instead of following them: Go's client
// would send the Authorization header along to wherever a redirect points.
func newAPIClient(cfg Config) *apiClient {
	client := *cfg.HTTPClient
	client.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}

	return &apiClient{
		baseURL:      strings.TrimRight(cfg.APIBaseURL, "/"),
		apiKey:       cfg.APIKey,
		organization: cfg.Organization,
		provider:     cfg.Provider,
		refreshPath:  cfg.RefreshPath,
		http:         &client,
	}
}

// callbackPath returns the path of the SSO callback endpoint with both
// segments escaped.
func (c *apiClient) callbackPath() string {
	return "/v1/auth/sso/" + url.PathEscape(c.organization) + "/" + url.PathEscape(c.provider) + "/callback"
}

// completeSignIn sends what the identity provider returned to the callback
// endpoint and returns the tokens and profile of Applivery's response.
// Errors wrap ErrUpstreamUnreachable, ErrUpstreamTimeout or ErrUpstreamInvalid,
// or are an *APIError, or wrap the context's error when ctx ended first.
func (c *apiClient) completeSignIn(ctx context.Context, params map[string]string) (*callbackData, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encoding callback parameters: %w", err)
	}

	return c.post(ctx, c.callbackPath(), body)
}

// refresh exchanges a refresh token for new tokens and the user's profile.
// Errors are those of completeSignIn.
//
// NOTE: Applivery's documentation of the SSO callback gives no refresh
// endpoint, so its path is configurable and the body, {"refreshToken":"…"},
// is an assumption that identitytest's simulator shares.
func (c *apiClient) refresh(ctx context.Context, refreshToken string) (*callbackData, error) {
	body, err := json.Marshal(map[string]string{"refreshToken": refreshToken})
	if err != nil {
		return nil, fmt.Errorf("encoding refresh request: %w", err)
	}

	path := strings.NewReplacer(
		"{organizationSlug}", url.PathEscape(c.organization),
		"{type}", url.PathEscape(c.provider),
	).Replace(c.refreshPath)

	return c.post(ctx, path, body)
}

// post sends body to path and decodes the response as a callback envelope.
func (c *apiClient) post(ctx context.Context, path string, body []byte) (*callbackData, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: building request: %v", ErrUpstreamUnreachable, err)
	}

	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)

	resp, err := c.http.Do(req) //nolint:gosec // G704: the URL comes from Config.APIBaseURL, never from a request
	if err != nil {
		return nil, classifyTransportError(ctx, err)
	}
	defer func() { _ = resp.Body.Close() }()

	raw, err := readLimited(resp.Body, maxResponseBytes)
	if err != nil {
		if ctx.Err() != nil {
			return nil, classifyTransportError(ctx, err)
		}

		return nil, fmt.Errorf("%w: HTTP %d: %v", ErrUpstreamInvalid, resp.StatusCode, err)
	}

	return decodeCallbackResponse(resp.StatusCode, resp.Header.Get("Content-Type"), raw)
}

// readLimited reads r to its end, or fails when r holds more than limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}

	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("body is over the %d-byte limit", limit)
	}

	return raw, nil
}

// classifyTransportError separates a timeout from an unreachable API, and keeps
// the context's error visible when the request was canceled.
func classifyTransportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("request canceled: %w", context.Canceled)
	}

	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()) {
		return fmt.Errorf("%w: %v", ErrUpstreamTimeout, redactURLError(err))
	}

	return fmt.Errorf("%w: %v", ErrUpstreamUnreachable, redactURLError(err))
}

// redactURLError drops the URL that *url.Error prints. The URL holds no
// secret today, but the operation and cause are all a log needs.
func redactURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}

	return err
}

// decodeCallbackResponse turns a response of the callback endpoint into its
// data, an *APIError, or an error that wraps ErrUpstreamInvalid.
func decodeCallbackResponse(status int, contentType string, raw []byte) (*callbackData, error) {
	if !isJSONContentType(contentType) {
		return nil, fmt.Errorf("%w: HTTP %d with Content-Type %q, expected application/json", ErrUpstreamInvalid, status, contentType)
	}

	var envelope callbackEnvelope
	if err := json.Unmarshal(raw, &envelope); err != nil {
		return nil, fmt.Errorf("%w: HTTP %d: malformed JSON: %v", ErrUpstreamInvalid, status, err)
	}

	if envelope.Error != nil || (envelope.Status != nil && !*envelope.Status) {
		return nil, envelope.apiError(status)
	}

	if status < 200 || status > 299 {
		return nil, fmt.Errorf("%w: HTTP %d without an error envelope", ErrUpstreamInvalid, status)
	}

	if envelope.Status == nil || envelope.Data == nil {
		return nil, fmt.Errorf("%w: HTTP %d without \"status\":true and \"data\"", ErrUpstreamInvalid, status)
	}

	if err := validate.Struct(envelope.Data); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUpstreamInvalid, describeResponseProblems(err))
	}

	return envelope.Data, nil
}

func isJSONContentType(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}

	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// apiError returns Applivery's error envelope as an *APIError. An envelope
// with "status":false but no error object still becomes one, with code 0.
func (e *callbackEnvelope) apiError(status int) *APIError {
	apiErr := &APIError{StatusCode: status}
	if e.Error != nil {
		apiErr.Code = e.Error.Code
		apiErr.Message = e.Error.Message
	}

	return apiErr
}

// describeResponseProblems names each invalid field of a response the way
// Applivery spells it, such as "accessToken.expireAt is missing or empty".
func describeResponseProblems(err error) string {
	var fieldErrors validator.ValidationErrors
	if !errors.As(err, &fieldErrors) {
		return err.Error()
	}

	problems := make([]string, 0, len(fieldErrors))
	for _, fe := range fieldErrors {
		_, name, _ := strings.Cut(fe.Namespace(), ".")
		if fe.Tag() == "required" {
			problems = append(problems, name+" is missing or empty")
		} else {
			problems = append(problems, fmt.Sprintf("%s failed the %q check", name, fe.Tag()))
		}
	}

	return strings.Join(problems, "; ")
}

// apiTime is a timestamp of Applivery's API. It accepts RFC 3339 with or
// without fractional seconds, and the form Applivery's documentation prints,
// "2024-01-01T00: 00:00Z", with a space after the first colon. A null or empty
// value decodes as the zero time, which the "required" tag rejects where a
// timestamp must be present.
type apiTime struct {
	time.Time
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *apiTime) UnmarshalJSON(raw []byte) error {
	if string(raw) == "null" {
		t.Time = time.Time{}
		return nil
	}

	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("timestamp must be a string, got %s", raw)
	}

	if s == "" {
		t.Time = time.Time{}
		return nil
	}

	parsed, err := parseAPITime(s)
	if err != nil {
		return err
	}

	t.Time = parsed

	return nil
}

func parseAPITime(s string) (time.Time, error) {
	if parsed, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return parsed, nil
	}

	// Applivery's documentation prints "2024-01-01T00: 00:00Z".
	if parsed, err := time.Parse(time.RFC3339Nano, strings.Replace(s, ": ", ":", 1)); err == nil {
		return parsed, nil
	}

	return time.Time{}, fmt.Errorf("invalid timestamp %q: expected RFC 3339, such as 2026-01-02T15:04:05Z", s)
}
