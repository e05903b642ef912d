package identity

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
)

// RequireAuth returns middleware that lets a request through only with a
// valid session that satisfies every rule, and puts the identity in the
// request's context for FromContext.
//
// A request without a valid session, or whose access token is within
// Config.ClockSkew of expiring, is not signed in. A browser loading a page
// (GET or HEAD that accepts text/html) is then redirected to Config.LoginPath
// with return_to set to the current path and query; any other request gets
// 401 with Applivery's JSON error envelope. A signed-in user who fails a rule
// gets 403, never a redirect, so there is no sign-in loop. Failures go
// through Config.ErrorHandler when it is set.
//
// A tampered, truncated or undecodable cookie counts as no session, never as
// a server error. RequireAuth writes no cookie: a request that passes reaches
// next with its ResponseWriter untouched, so Flush and Hijack keep working.
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
			id, err := a.authenticate(r)
			if err != nil {
				a.rejectUnauthenticated(w, r, err)
				return
			}

			for _, rule := range rules {
				if !rule.Allow(id, r) {
					a.fail(w, r, "access denied", newHTTPError(http.StatusForbidden,
						"You are signed in, but your account does not have access to this page.",
						fmt.Errorf("%w: rule %v does not hold for user %s", ErrForbidden, rule, id.UserID)))
					return
				}
			}

			// The response depends on who asks, so shared caches must not serve
			// it to anyone else.
			w.Header().Add("Vary", "Cookie")

			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
		})
	}
}

// OptionalAuth is middleware that puts the identity in the request's context
// when the request has a valid session, and lets every request through. Use
// it on pages that everyone may see but that greet signed-in users.
func (a *Auth) OptionalAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")

		if id, err := a.authenticate(r); err == nil {
			r = r.WithContext(NewContext(r.Context(), id))
		}

		next.ServeHTTP(w, r)
	})
}

// authenticate returns the identity of the request's session, or an error
// that wraps ErrNotSignedIn or ErrSessionExpired.
func (a *Auth) authenticate(r *http.Request) (*Identity, error) {
	rec, err := a.loadSession(r)
	if err != nil {
		return nil, err
	}

	id := rec.Identity
	now := a.cfg.Now()

	if !now.Before(id.AuthenticatedAt.Add(a.cfg.SessionLifetime)) {
		return nil, fmt.Errorf("%w: signed in at %s, the session lifetime is %s",
			ErrSessionExpired, id.AuthenticatedAt.Format("2006-01-02T15:04:05Z07:00"), a.cfg.SessionLifetime)
	}

	if id.AccessToken.Expired(now, a.cfg.ClockSkew) {
		return nil, fmt.Errorf("%w: the access token expires at %s",
			ErrSessionExpired, id.AccessToken.ExpiresAt.Format("2006-01-02T15:04:05Z07:00"))
	}

	return id, nil
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
		slog.String("path", r.URL.Path), slog.String("error", err.Error()))

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
