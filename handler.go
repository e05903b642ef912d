package identity

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxLogoutBodyBytes limits the body of a sign-out request, which carries at
// most a return URL.
const maxLogoutBodyBytes = 16 << 10

// LoginHandler starts a sign-in. Mount it at Config.LoginPath; it accepts GET
// only. It creates a one-time state, keeps it with the return URL in a
// short-lived encrypted cookie, and redirects the browser to Config.SignInURL
// with the state added as RelayState (provider "saml") or state (any other
// provider).
//
// The query parameter return_to names where to go after signing in; it must
// be a path on this site, or Config.DefaultReturnTo is used instead.
func (a *Auth) LoginHandler() http.Handler {
	return http.HandlerFunc(a.serveLogin)
}

func (a *Auth) serveLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")

	if r.Method != http.MethodGet {
		a.rejectMethod(w, r, http.MethodGet)
		return
	}

	// An image, script or fetch that points here, from this site or another,
	// would otherwise push the user's real sign-ins out of the state cookie.
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" && mode != "navigate" {
		a.fail(w, r, "sign-in not started", newHTTPError(http.StatusBadRequest,
			"Sign-in starts only when a page is loaded here, not from a script or an embedded resource.",
			fmt.Errorf("Sec-Fetch-Mode %q", mode)))
		return
	}

	returnTo := sanitizeReturnTo(r.URL.Query().Get("return_to"))
	if returnTo == "" {
		returnTo = a.cfg.DefaultReturnTo
	}

	state, err := a.startSignIn(w, r, returnTo)
	if err != nil {
		a.fail(w, r, "sign-in not started", newHTTPError(http.StatusInternalServerError,
			"Sign-in could not start because of an error on this site. Try again.", err))
		return
	}

	a.logger.LogAttrs(r.Context(), slog.LevelDebug, "identity: sign-in started",
		slog.String("provider", a.cfg.Provider), slog.String("remote_addr", r.RemoteAddr))

	http.Redirect(w, r, a.signInURL(state), http.StatusFound)
}

// signInURL returns Config.SignInURL with the state added to its query.
func (a *Auth) signInURL(state string) string {
	// New validated SignInURL, so it parses.
	u, _ := url.Parse(a.cfg.SignInURL)

	query := u.Query()
	query.Set(a.stateParam, state)
	u.RawQuery = query.Encode()

	return u.String()
}

// CallbackHandler finishes a sign-in. Mount it at the callback URL registered
// with the identity provider. It accepts POST (a form, as the SAML HTTP-POST
// binding sends it) and GET (a query, as OpenID Connect sends it).
//
// The callback comes from the identity provider's page, across sites, so the
// one-time state protects it rather than an origin check: the state must
// match one in the browser's state cookie, once, within
// Config.StateLifetime. Only then are the callback's parameters sent to
// Applivery's API. On success the handler starts a new session, whatever
// session the browser had before, and redirects with 303 See Other to the return
// URL.
func (a *Auth) CallbackHandler() http.Handler {
	return http.HandlerFunc(a.serveCallback)
}

func (a *Auth) serveCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")

	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		a.rejectMethod(w, r, http.MethodGet, http.MethodPost)
		return
	}

	params, herr := a.callbackParams(w, r)
	if herr != nil {
		a.failSignIn(w, r, "callback rejected", herr)
		return
	}

	pending, herr := a.checkState(w, r, params[a.stateParam])
	if herr != nil {
		a.failSignIn(w, r, "callback rejected", herr)
		return
	}

	data, err := a.client.completeSignIn(r.Context(), params)
	if clientGone(r, err) {
		a.logger.LogAttrs(r.Context(), slog.LevelInfo, "identity: sign-in canceled by the client",
			slog.String("provider", a.cfg.Provider), slog.String("remote_addr", r.RemoteAddr))
		a.signInFailed(r, &HTTPError{Status: statusClientClosedRequest, Code: statusClientClosedRequest,
			Message: "The browser went away before sign-in finished.", Err: err})
		return
	}

	if err != nil {
		a.failSignIn(w, r, "sign-in failed", upstreamHTTPError(err))
		return
	}

	id, herr := a.newIdentity(data)
	if herr != nil {
		a.failSignIn(w, r, "sign-in failed", herr)
		return
	}

	if herr := a.startSession(w, r, id); herr != nil {
		a.failSignIn(w, r, "sign-in failed", herr)
		return
	}

	a.logger.LogAttrs(r.Context(), slog.LevelInfo, "identity: sign-in succeeded",
		slog.String("user_id", id.UserID),
		slog.String("organization", id.OrganizationID),
		slog.String("provider", a.cfg.Provider),
		slog.String("remote_addr", r.RemoteAddr))

	if a.cfg.OnSignIn != nil {
		a.cfg.OnSignIn(r.Context(), id)
	}

	http.Redirect(w, r, pending.ReturnTo, http.StatusSeeOther)
}

// statusClientClosedRequest is the status of a sign-in the client abandoned.
// No response reaches the client; the number, which nginx made common, is
// only for Config.OnSignInFailed and logs.
const statusClientClosedRequest = 499

// failSignIn responds to a failed callback and calls Config.OnSignInFailed.
func (a *Auth) failSignIn(w http.ResponseWriter, r *http.Request, event string, herr *HTTPError) {
	a.fail(w, r, event, herr)
	a.signInFailed(r, herr)
}

func (a *Auth) signInFailed(r *http.Request, herr *HTTPError) {
	if a.cfg.OnSignInFailed != nil {
		a.cfg.OnSignInFailed(r.Context(), herr)
	}
}

// callbackParams returns every parameter of the callback, from its query and,
// for POST, its form body. A parameter given twice is rejected, because the
// state check and Applivery could otherwise read different values.
func (a *Auth) callbackParams(w http.ResponseWriter, r *http.Request) (map[string]string, *HTTPError) {
	r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxCallbackBodyBytes)

	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newHTTPError(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("The sign-in response is larger than the %d bytes this site accepts.", tooLarge.Limit),
				fmt.Errorf("callback body over MaxCallbackBodyBytes (%d bytes): %w", tooLarge.Limit, err))
		}

		return nil, newHTTPError(http.StatusBadRequest, "The sign-in response is malformed. Try signing in again.", err)
	}

	params := make(map[string]string, len(r.Form))
	for name, values := range r.Form {
		if len(values) != 1 {
			return nil, newHTTPError(http.StatusBadRequest, "The sign-in response is malformed. Try signing in again.",
				fmt.Errorf("parameter %q appears %d times", name, len(values)))
		}

		params[name] = values[0]
	}

	return params, nil
}

// checkState finishes the sign-in that state belongs to, or explains why
// there is none.
func (a *Auth) checkState(w http.ResponseWriter, r *http.Request, state string) (pendingSignIn, *HTTPError) {
	if state == "" && a.stateParam == "RelayState" && a.cfg.AllowIDPInitiated {
		a.logger.LogAttrs(r.Context(), slog.LevelInfo, "identity: accepting an IdP-initiated sign-in",
			slog.String("provider", a.cfg.Provider), slog.String("remote_addr", r.RemoteAddr))
		return pendingSignIn{ReturnTo: a.cfg.DefaultReturnTo}, nil
	}

	if state == "" {
		return pendingSignIn{}, newHTTPError(http.StatusBadRequest,
			"The sign-in response has no "+a.stateParam+" parameter, as happens when signing in starts at the identity provider. "+
				"This site accepts only sign-ins that start here: sign in from this site.",
			fmt.Errorf("%w: no %s parameter", ErrStateMissing, a.stateParam))
	}

	pending, err := a.finishSignIn(w, r, state)
	switch {
	case errors.Is(err, ErrStateExpired):
		return pendingSignIn{}, newHTTPError(http.StatusForbidden,
			fmt.Sprintf("Signing in took longer than %s. Sign in again.", a.cfg.StateLifetime), err)
	case errors.Is(err, ErrStateInvalid):
		return pendingSignIn{}, newHTTPError(http.StatusForbidden,
			"This sign-in response does not belong to a sign-in started in this browser, or it was used already. Sign in again.", err)
	case err != nil:
		return pendingSignIn{}, newHTTPError(http.StatusInternalServerError,
			"Sign-in failed because of an error on this site. Try again.", err)
	}

	return pending, nil
}

// newIdentity returns the identity of Applivery's response, unless its access
// token has expired already: a session made from it would send the user
// straight back to sign in.
func (a *Auth) newIdentity(data *callbackData) (*Identity, *HTTPError) {
	now := a.cfg.Now()
	id := data.identity(now)

	if id.AccessToken.Expired(now, a.cfg.ClockSkew) {
		return nil, newHTTPError(http.StatusBadGateway,
			"Sign-in failed because Applivery returned an access token that has already expired. The clock of this server or of Applivery may be wrong.",
			fmt.Errorf("%w: it expires at %s, the time here is %s and the allowed clock skew %s",
				ErrTokenExpired, id.AccessToken.ExpiresAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339), a.cfg.ClockSkew))
	}

	return id, nil
}

// upstreamHTTPError turns a failure of Applivery's API into a response: 401
// when Applivery rejected what the identity provider sent, 504 when it timed
// out, 502 for anything else.
func upstreamHTTPError(err error) *HTTPError {
	var apiErr *APIError

	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
		return &HTTPError{Status: http.StatusBadGateway, Code: apiErr.Code, Err: fmt.Errorf("%w (check Organization, Provider and APIBaseURL)", err),
			Message: "Sign-in failed because this site's single sign-on settings do not match Applivery's. Contact the site's administrators."}
	case errors.As(err, &apiErr) && apiErr.StatusCode >= 500:
		return &HTTPError{Status: http.StatusBadGateway, Code: apiErr.Code, Err: err,
			Message: "Sign-in failed because of an error at Applivery. Try again in a moment."}
	case errors.As(err, &apiErr):
		return &HTTPError{Status: http.StatusUnauthorized, Code: apiErr.Code, Err: err,
			Message: fmt.Sprintf("Sign-in failed: Applivery rejected the identity provider's response (error %d: %s). Try signing in again.",
				apiErr.Code, apiErr.Message)}
	case errors.Is(err, ErrUpstreamTimeout):
		return newHTTPError(http.StatusGatewayTimeout, "Sign-in failed because Applivery did not respond in time. Try again in a moment.", err)
	}

	return newHTTPError(http.StatusBadGateway,
		"Sign-in failed because Applivery could not be reached or sent an invalid response. Try again in a moment.", err)
}

// startSession replaces whatever session the browser had with a new one for
// id. A server-side store deletes the old session first, so that nothing of
// it, not even its ID, carries over.
func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, id *Identity) *HTTPError {
	if a.cookies == nil {
		if err := a.deletePreviousSession(w, r); err != nil {
			return newHTTPError(http.StatusInternalServerError,
				"Sign-in failed because of an error on this site. Try again.", fmt.Errorf("deleting the previous session: %w", err))
		}
	}

	rec := &sessionRecord{Audience: a.audience, Identity: id, LastSeenAt: id.AuthenticatedAt}
	if err := a.createSession(w, r, rec); err != nil {
		message := "Sign-in failed because this site could not save the session. Try again."
		if errors.Is(err, errSessionTooLarge) {
			message = "Sign-in failed because your account belongs to more organizations than this site can keep in a session. " +
				"Trying again will not help: contact the site's administrators."
		}

		return newHTTPError(http.StatusInternalServerError, message, fmt.Errorf("saving the session: %w", err))
	}

	return nil
}

// StartSession starts a new session for id and writes its cookies to w, as
// CallbackHandler does after a sign-in: whatever session the request had
// ends first. It is for tests and tools that need a signed-in session
// without an identity provider, such as identitytest.SessionCookies. A zero
// id.AuthenticatedAt means now. It fails when id has no UserID or its access
// token has expired (ErrTokenExpired).
func (a *Auth) StartSession(w http.ResponseWriter, r *http.Request, id *Identity) error {
	if id == nil || id.UserID == "" {
		return errors.New("identity: StartSession needs an identity with a UserID")
	}

	started := *id
	now := a.cfg.Now()
	if started.AuthenticatedAt.IsZero() {
		started.AuthenticatedAt = now
	}

	if started.AccessToken.Expired(now, a.cfg.ClockSkew) {
		return fmt.Errorf("%w: the access token of user %s expires at %s, within ClockSkew (%s) of now",
			ErrTokenExpired, started.UserID, started.AccessToken.ExpiresAt.Format(time.RFC3339), a.cfg.ClockSkew)
	}

	if herr := a.startSession(w, r, &started); herr != nil {
		return herr.Err
	}

	return nil
}

// LogoutHandler ends the session and redirects with 303 See Other to
// Config.LogoutReturnTo, or to the return_to form field when it is a path on
// this site. It accepts POST only, and rejects cross-origin requests with
// http.CrossOriginProtection, so that another site cannot sign users out.
//
// With the default cookie store, signing out clears the cookie in this
// browser. A copy of the cookie taken earlier stays valid until
// Config.IdleTimeout or Config.SessionLifetime ends it, or its access token
// expires when refresh is off. A server-side Store deletes
// the session itself.
func (a *Auth) LogoutHandler() http.Handler {
	return a.crossOrigin.Handler(http.HandlerFunc(a.serveLogout))
}

func (a *Auth) serveLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")

	if r.Method != http.MethodPost {
		a.rejectMethod(w, r, http.MethodPost)
		return
	}

	r.Body = http.MaxBytesReader(w, r.Body, maxLogoutBodyBytes)

	returnTo := sanitizeReturnTo(r.PostFormValue("return_to"))
	if returnTo == "" {
		returnTo = a.cfg.LogoutReturnTo
	}

	var signedOut *Identity
	if loaded, err := a.loadSession(r); err == nil && loaded.record.Audience == a.audience {
		signedOut = loaded.record.Identity.clone()
	}

	if err := a.deleteSession(w, r); err != nil {
		a.fail(w, r, "sign-out failed", newHTTPError(http.StatusInternalServerError,
			"Signing out failed because of an error on this site. Try again.", err))
		return
	}

	attrs := []slog.Attr{slog.String("provider", a.cfg.Provider), slog.String("remote_addr", r.RemoteAddr)}
	if signedOut != nil {
		attrs = append(attrs, slog.String("user_id", signedOut.UserID), slog.String("organization", signedOut.OrganizationID))
	}
	a.logger.LogAttrs(r.Context(), slog.LevelInfo, "identity: signed out", attrs...)

	if a.cfg.OnSignOut != nil {
		a.cfg.OnSignOut(r.Context(), signedOut)
	}

	http.Redirect(w, r, returnTo, http.StatusSeeOther) //nolint:gosec // G710: sanitizeReturnTo lets only paths on this site through
}

// rejectMethod responds 405 with the methods the handler accepts.
func (a *Auth) rejectMethod(w http.ResponseWriter, r *http.Request, allowed ...string) {
	w.Header().Set("Allow", strings.Join(allowed, ", "))

	a.fail(w, r, "method not allowed", newHTTPError(http.StatusMethodNotAllowed,
		fmt.Sprintf("This address accepts %s requests only.", strings.Join(allowed, " and ")), fmt.Errorf("method %s", r.Method)))
}
