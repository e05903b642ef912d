package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
)

// fail responds to a failed request. Every handler and RequireAuth respond to
// their failures through it. It logs event with the cause, marks the response
// as not cacheable, then calls Config.ErrorHandler or writes the default: an
// HTML page for browsers and Applivery's JSON error envelope for everything
// else.
func (a *Auth) fail(w http.ResponseWriter, r *http.Request, event string, herr *HTTPError) {
	a.logFailure(r, event, herr)

	w.Header().Set("Cache-Control", "no-store")

	if a.cfg.ErrorHandler != nil {
		a.cfg.ErrorHandler(w, r, herr)
		return
	}

	if wantsHTML(r) {
		a.writeErrorPage(w, herr)
		return
	}

	writeErrorJSON(w, herr)
}

// logFailure logs a failure at a level that fits its cause. A request
// without a session is routine, so Debug. A rule that denied access is Info,
// and a fault of this server is Error. The rest may be an attack or a fault
// of Applivery's API, so Warn. Failures of Applivery's API are logged once
// per kind and error code within logRepeatWindow. The query string is never
// logged, because an OpenID Connect callback carries its code there.
func (a *Auth) logFailure(r *http.Request, event string, herr *HTTPError) {
	level := slog.LevelWarn

	switch {
	case errors.Is(herr, ErrNotSignedIn), errors.Is(herr, ErrSessionExpired):
		level = slog.LevelDebug
	case errors.Is(herr, ErrForbidden):
		level = slog.LevelInfo
	case herr.Status == http.StatusInternalServerError, isMisconfiguration(herr):
		level = slog.LevelError
	}

	attrs := []slog.Attr{
		slog.Int("status", herr.Status),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("provider", a.cfg.Provider),
		slog.String("remote_addr", r.RemoteAddr),
	}

	if herr.Err != nil {
		attrs = append(attrs, slog.String("error", herr.Err.Error()))
	}

	attrs, ok := a.upstreamAttrs(herr.Err, attrs)
	if !ok {
		return
	}

	a.logger.LogAttrs(r.Context(), level, "identity: "+event, attrs...)
}

// logRefreshFailure logs a refresh that failed, at Warn for a fault of
// Applivery's API and at Info for a refresh token that had simply expired.
func (a *Auth) logRefreshFailure(r *http.Request, id *Identity, err error) {
	level := slog.LevelWarn
	if upstreamKind(err) == "" {
		level = slog.LevelInfo
	}

	attrs := []slog.Attr{
		slog.String("user_id", id.UserID),
		slog.String("organization", id.OrganizationID),
		slog.String("provider", a.cfg.Provider),
		slog.String("remote_addr", r.RemoteAddr),
		slog.String("error", err.Error()),
	}

	attrs, ok := a.upstreamAttrs(err, attrs)
	if !ok {
		return
	}

	a.logger.LogAttrs(r.Context(), level, "identity: token refresh failed", attrs...)
}

// upstreamAttrs adds the kind of an Applivery failure and Applivery's error
// code to attrs. It reports false when the rate limit holds the line back.
func (a *Auth) upstreamAttrs(err error, attrs []slog.Attr) ([]slog.Attr, bool) {
	kind := upstreamKind(err)
	if kind == "" {
		return attrs, true
	}

	attrs = append(attrs, slog.String("kind", kind))

	var apiErr *APIError
	if errors.As(err, &apiErr) {
		attrs = append(attrs, slog.Int("error_code", apiErr.Code))
		kind = fmt.Sprintf("%s/%d", kind, apiErr.Code)
	}

	if isMisconfiguration(err) {
		attrs = append(attrs, slog.String("hint",
			"if every sign-in fails like this, check APIKey, Organization, Provider and APIBaseURL"))
	}

	allowed, suppressed := a.logLimiter.allow(kind, a.cfg.Now())
	if !allowed {
		return nil, false
	}

	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}

	return attrs, true
}

// isMisconfiguration reports whether Applivery's response points at this
// site's configuration rather than at the user: 404 for an organization,
// provider or path it does not know, 401 or 403 for an API key it rejects.
func isMisconfiguration(err error) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return false
	}

	switch apiErr.StatusCode {
	case http.StatusNotFound, http.StatusUnauthorized, http.StatusForbidden:
		return true
	}

	return false
}

// upstreamKind names the kind of failure of Applivery's API in err, or
// returns "" when err is not one.
func upstreamKind(err error) string {
	var apiErr *APIError

	switch {
	case errors.As(err, &apiErr):
		return "api_error"
	case errors.Is(err, ErrUpstreamTimeout):
		return "timeout"
	case errors.Is(err, ErrUpstreamUnreachable):
		return "unreachable"
	case errors.Is(err, ErrUpstreamInvalid):
		return "invalid_response"
	case errors.Is(err, ErrTokenExpired):
		return "expired_token"
	}

	return ""
}

// wantsHTML reports whether the client is a browser showing a page: it accepts
// HTML explicitly, which fetch and XMLHttpRequest calls do not by default.
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html") && r.Header.Get("X-Requested-With") == ""
}

// isNavigation reports whether the request is a browser loading a page, which
// can be sent to sign in and brought back.
func isNavigation(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r)
}

// errorEnvelope is Applivery's JSON error shape, which the package's JSON
// responses reuse so that clients of both parse one format.
type errorEnvelope struct {
	Status bool `json:"status"`
	Error  struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeErrorJSON(w http.ResponseWriter, herr *HTTPError) {
	var body errorEnvelope
	body.Error.Code = herr.Code
	body.Error.Message = herr.Message

	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(herr.Status)

	// The client may have gone; there is no one left to tell.
	_ = json.NewEncoder(w).Encode(body)
}

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{if .LoginPath}}<p><a href="{{.LoginPath}}">Sign in again</a></p>{{end}}
</body>
</html>
`))

func (a *Auth) writeErrorPage(w http.ResponseWriter, herr *HTTPError) {
	page := struct {
		Title, Message, LoginPath string
	}{
		Title:   http.StatusText(herr.Status),
		Message: herr.Message,
	}

	if offersSignIn(herr) {
		page.LoginPath = a.cfg.LoginPath
	}

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(herr.Status)

	_ = errorPage.Execute(w, page)
}

// errCrossOrigin is the cause of a rejected cross-origin sign-out.
var errCrossOrigin = errors.New("identity: cross-origin request")

// offersSignIn reports whether signing in again can help after herr: not
// after a rule denied access, a wrong method or an oversized request.
func offersSignIn(herr *HTTPError) bool {
	switch herr.Status {
	case http.StatusForbidden:
		return !errors.Is(herr, ErrForbidden) && !errors.Is(herr, errCrossOrigin)
	case http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusInternalServerError:
		return false
	}

	return true
}

// clientGone reports whether the request ended because the client went away,
// which needs no response and is no fault of this server or of Applivery.
func clientGone(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(r.Context().Err(), context.Canceled)
}

func (a *Auth) rejectCrossOrigin(w http.ResponseWriter, r *http.Request) {
	a.fail(w, r, "cross-origin request rejected", newHTTPError(http.StatusForbidden,
		"Sign-out must come from a page of this site.", errCrossOrigin))
}
