package identity

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// RequireAuth returns middleware that lets a request through only with a
// valid session that satisfies every rule, and puts the identity in the
// request's context for FromContext.
//
// A request is not signed in when it has no valid session, when the session
// is older than Config.SessionLifetime or idle for Config.IdleTimeout, or
// when its access token is within Config.ClockSkew of expiring and cannot be
// refreshed. A browser loading a page (GET or HEAD that accepts text/html)
// is then redirected to Config.LoginPath with return_to set to the current
// path and query. Any other request gets 401 with Applivery's JSON error
// envelope. A signed-in user who fails a rule gets 403, never a redirect, so
// there is no sign-in loop. Failures go through Config.ErrorHandler when it
// is set. A tampered, truncated or undecodable cookie counts as no session,
// never as a server error.
//
// RequireAuth changes the session when it refreshes tokens, when an older
// key pair wrote the session, or to record the time of the last request for
// IdleTimeout. It then writes the cookie before it calls next, so that the
// response carries it whatever next writes. It does not wrap the ResponseWriter, so
// Flush and Hijack keep working. A request that changes nothing gets no
// Set-Cookie.
//
// A CORS preflight, an OPTIONS request with Access-Control-Request-Method,
// passes through without a session, so that the app's CORS middleware can
// respond to it, because browsers send preflights without cookies.
//
// RequireAuth panics if a rule is nil, so that a mistake shows at startup.
func (a *Auth) RequireAuth(rules ...Rule) func(http.Handler) http.Handler {
	for i, rule := range rules {
		if rule == nil {
			panic(fmt.Sprintf("identity: RequireAuth rule %d is nil", i))
		}
	}

	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isPreflight(r) {
				next.ServeHTTP(w, r)
				return
			}

			id, err := a.authenticate(w, r)
			if err != nil {
				a.rejectUnauthenticated(w, r, err)
				return
			}

			for i, rule := range rules {
				if !rule.Allow(id, r) {
					a.fail(w, r, "access denied", newHTTPError(http.StatusForbidden,
						"You are signed in, but your account does not have access to this page.",
						fmt.Errorf("%w: rule %d of %d, %v, does not hold for user %s", ErrForbidden, i+1, len(rules), rule, id.UserID)))
					return
				}
			}

			// The response depends on the user, so shared caches must not serve
			// it to anyone else. "private" also covers caches that ignore Vary.
			markPrivate(w.Header())

			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
		})
	}
}

// OptionalAuth is middleware that puts the identity in the request's context
// when the request has a valid session, and lets every request through. Use
// it on pages that everyone may see but that greet signed-in users. It
// maintains the session as RequireAuth does.
func (a *Auth) OptionalAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addVaryCookie(w.Header())

		if id, err := a.authenticate(w, r); err == nil {
			r = r.WithContext(NewContext(r.Context(), id))
		}

		next.ServeHTTP(w, r)
	})
}

// Header values that RequireAuth sets on every response it lets through.
// They are shared, which is safe because each has a capacity of one: Add
// appends to a new array, and Set replaces the slice.
var (
	varyCookie   = []string{"Cookie"}
	cachePrivate = []string{"private"}
)

// markPrivate adds Vary: Cookie and, unless the header has a Cache-Control
// already, Cache-Control: private, without allocating on the common path.
func markPrivate(h http.Header) {
	addVaryCookie(h)

	if _, set := h["Cache-Control"]; !set {
		h["Cache-Control"] = cachePrivate[:1:1]
	}
}

func addVaryCookie(h http.Header) {
	if vary, set := h["Vary"]; set {
		h["Vary"] = append(vary, "Cookie")
		return
	}

	h["Vary"] = varyCookie[:1:1]
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
}

// authenticate returns the identity of the request's session, or an error
// that wraps ErrNotSignedIn or ErrSessionExpired. When the session needs
// a change, it writes the session to w before returning.
func (a *Auth) authenticate(w http.ResponseWriter, r *http.Request) (*Identity, error) {
	loaded, err := a.loadSession(r)
	if err != nil {
		return nil, err
	}

	// The record may be cached and shared with other requests, so a change
	// goes to a copy.
	rec := loaded.record
	now := a.cfg.Now()

	if rec.Audience != a.audience {
		return nil, fmt.Errorf("%w: the session belongs to %q, not %q", ErrNotSignedIn, rec.Audience, a.audience)
	}

	if err := a.checkLifetimes(rec, now); err != nil {
		return nil, err
	}

	changed := loaded.oldKey
	identity := rec.Identity

	if identity.AccessToken.Expired(now, a.cfg.ClockSkew) {
		if a.cfg.RefreshPath == "" {
			return nil, fmt.Errorf("%w: the access token expires at %s",
				ErrSessionExpired, identity.AccessToken.ExpiresAt.Format(time.RFC3339))
		}

		refreshed, err := a.refresh(r.Context(), identity)
		if err != nil {
			a.logRefreshFailure(r, identity, err)
			return nil, fmt.Errorf("%w: %w", ErrSessionExpired, err)
		}

		identity = refreshed
		changed = true

		a.logger.LogAttrs(r.Context(), slog.LevelInfo, "identity: tokens refreshed",
			slog.String("user_id", refreshed.UserID), slog.String("organization", refreshed.OrganizationID),
			slog.String("provider", a.cfg.Provider), slog.String("remote_addr", r.RemoteAddr))

		if a.cfg.OnRefresh != nil {
			defer a.cfg.OnRefresh(r.Context(), refreshed)
		}
	}

	if a.cfg.IdleTimeout > 0 && now.Sub(rec.LastSeenAt) >= a.cfg.IdleTimeout/10 {
		changed = true
	}

	if changed {
		updated := *rec
		updated.Identity = identity
		updated.LastSeenAt = now
		loaded.record = &updated

		if err := a.updateSession(w, r, loaded); err != nil {
			a.logger.LogAttrs(r.Context(), slog.LevelError, "identity: session not saved",
				slog.String("user_id", identity.UserID), slog.String("organization", identity.OrganizationID),
				slog.String("remote_addr", r.RemoteAddr), slog.String("error", err.Error()))
		}
	}

	// The identity may be cached and shared, so each request gets its own.
	return identity.clone(), nil
}

// checkLifetimes rejects a session past Config.SessionLifetime or idle for
// Config.IdleTimeout.
func (a *Auth) checkLifetimes(rec *sessionRecord, now time.Time) error {
	signedIn := rec.Identity.AuthenticatedAt
	if !now.Before(signedIn.Add(a.cfg.SessionLifetime)) {
		return fmt.Errorf("%w: signed in at %s, the session lifetime is %s",
			ErrSessionExpired, signedIn.Format(time.RFC3339), a.cfg.SessionLifetime)
	}

	if a.cfg.IdleTimeout > 0 && !now.Before(rec.LastSeenAt.Add(a.cfg.IdleTimeout)) {
		return fmt.Errorf("%w: idle since %s, the idle timeout is %s",
			ErrSessionExpired, rec.LastSeenAt.Format(time.RFC3339), a.cfg.IdleTimeout)
	}

	return nil
}

// rejectUnauthenticated sends a browser to sign in and brings it back to the
// same page afterwards; any other client gets 401.
func (a *Auth) rejectUnauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	if !isNavigation(r) {
		message := "Sign in to continue."
		if errors.Is(err, ErrSessionExpired) {
			message = "Your session has expired. Sign in again."
		}

		a.fail(w, r, "request not signed in", newHTTPError(http.StatusUnauthorized, message, err))
		return
	}

	a.logger.LogAttrs(r.Context(), slog.LevelDebug, "identity: redirecting to sign in",
		slog.String("path", r.URL.Path), slog.String("remote_addr", r.RemoteAddr), slog.String("error", err.Error()))

	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.loginURL(r.URL.RequestURI()), http.StatusFound)
}

// loginURL returns Config.LoginPath with returnTo as its return_to
// parameter, when returnTo is a path on this site.
func (a *Auth) loginURL(returnTo string) string {
	if sanitizeReturnTo(returnTo) == "" {
		return a.cfg.LoginPath
	}

	return a.cfg.LoginPath + "?" + url.Values{"return_to": {returnTo}}.Encode()
}
