package identity

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// recordKey is the key of the session record in sessions.Session.Values. The
// value is a []byte, which gob encodes without registration, so server-side
// stores that use gob work too.
const recordKey = "identity"

// maxCookieBytes is the size of one Set-Cookie value, name and attributes
// included, that every browser keeps (RFC 6265, section 6.1).
const maxCookieBytes = 4096

// errSessionTooLarge is returned when a session does not fit in a cookie.
var errSessionTooLarge = errors.New("identity: session does not fit in a cookie")

// sessionOptions returns the cookie attributes of the session cookie with the
// given Max-Age in seconds; a negative maxAge deletes the cookie. Setting and
// clearing both go through here, because a browser keeps a cookie that is
// cleared with another Path, Domain, Secure or SameSite than it was set with.
func (a *Auth) sessionOptions(maxAge int) *sessions.Options {
	return &sessions.Options{
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   !a.cfg.Insecure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// newCookie builds every cookie the package sets or clears from its options.
// A negative MaxAge also sets Expires in the past, for clients that ignore
// Max-Age.
func newCookie(name, value string, opts *sessions.Options) *http.Cookie {
	// Secure is off only in Insecure mode, which Config documents.
	cookie := &http.Cookie{ //nolint:gosec // G124: opts come from sessionOptions and stateOptions
		Name:     name,
		Value:    value,
		Path:     opts.Path,
		Domain:   opts.Domain,
		MaxAge:   opts.MaxAge,
		Secure:   opts.Secure,
		HttpOnly: opts.HttpOnly,
		SameSite: opts.SameSite,
	}

	if opts.MaxAge < 0 {
		cookie.Expires = time.Unix(1, 0).UTC()
	}

	return cookie
}

// loadedSession is a session read from the request, kept so that a change
// can be written back to the same session.
type loadedSession struct {
	record *sessionRecord

	// session is the store's session, or nil for the default cookie store,
	// which is read directly.
	session *sessions.Session

	// oldKey is true when the default cookie store could decode the cookie
	// only with an older key pair of Config.SessionKeys.
	oldKey bool
}

// loadSession returns the request's session. Any failure, from a missing
// cookie to a forged one, wraps ErrNotSignedIn.
func (a *Auth) loadSession(r *http.Request) (loadedSession, error) {
	if a.cookies != nil {
		rec, keyIndex, err := a.cookies.readRecord(r, a.cfg.CookieName)
		if err != nil {
			return loadedSession{}, fmt.Errorf("%w: %v", ErrNotSignedIn, err)
		}

		return loadedSession{record: rec, oldKey: keyIndex > 0}, nil
	}

	session, err := a.store.New(r, a.cfg.CookieName)
	if err != nil {
		return loadedSession{}, fmt.Errorf("%w: %v", ErrNotSignedIn, err)
	}

	if session == nil || session.IsNew {
		return loadedSession{}, ErrNotSignedIn
	}

	raw, ok := session.Values[recordKey].([]byte)
	if !ok {
		return loadedSession{}, fmt.Errorf("%w: the stored session has no identity record", ErrNotSignedIn)
	}

	return decodeLoaded(raw, session, false)
}

func decodeLoaded(raw []byte, session *sessions.Session, oldKey bool) (loadedSession, error) {
	rec, err := decodeRecord(raw)
	if err != nil {
		return loadedSession{}, fmt.Errorf("%w: %v", ErrNotSignedIn, err)
	}

	return loadedSession{record: rec, session: session, oldKey: oldKey}, nil
}

// createSession writes rec as a brand-new session, so that no ID or value of
// a session the browser had before survives (session fixation).
func (a *Auth) createSession(w http.ResponseWriter, r *http.Request, rec *sessionRecord) error {
	session := sessions.NewSession(a.store, a.cfg.CookieName)
	session.IsNew = true

	return a.writeSession(w, r, session, rec)
}

// updateSession writes the changed record of a loaded session back to the
// same session.
func (a *Auth) updateSession(w http.ResponseWriter, r *http.Request, loaded loadedSession) error {
	session := loaded.session
	if session == nil {
		session = sessions.NewSession(a.store, a.cfg.CookieName)
	}

	return a.writeSession(w, r, session, loaded.record)
}

// writeSession stores rec in session with a cookie that lives as long as the
// session has left.
func (a *Auth) writeSession(w http.ResponseWriter, r *http.Request, session *sessions.Session, rec *sessionRecord) error {
	remaining := rec.Identity.AuthenticatedAt.Add(a.cfg.SessionLifetime).Sub(a.cfg.Now())

	maxAge := int(remaining / time.Second)
	if maxAge < 1 {
		return fmt.Errorf("%w: session lifetime already over", ErrSessionExpired)
	}

	session.Options = a.sessionOptions(maxAge)
	session.Values[recordKey] = encodeRecord(nil, rec)

	return a.store.Save(r, w, session)
}

// deleteSession ends the request's session: a server-side store deletes its
// copy, and the browser gets expired cookies. It fails when the store cannot
// read which session the request names, so that no user sees a sign-out
// succeed while the stored session lives on.
func (a *Auth) deleteSession(w http.ResponseWriter, r *http.Request) error {
	session := sessions.NewSession(a.store, a.cfg.CookieName)

	if a.cookies == nil {
		stored, err := a.storedSession(r)
		if err != nil {
			return err
		}

		if stored != nil {
			session = stored
		}
	}

	return a.expireSession(w, r, session)
}

// deletePreviousSession deletes the stored session the request names, if
// any, before a sign-in writes a new one.
func (a *Auth) deletePreviousSession(w http.ResponseWriter, r *http.Request) error {
	previous, err := a.storedSession(r)
	if err != nil || previous == nil {
		return err
	}

	return a.expireSession(w, r, previous)
}

// expireSession empties session and saves it with an expired cookie, which
// makes a server-side store delete it.
func (a *Auth) expireSession(w http.ResponseWriter, r *http.Request, session *sessions.Session) error {
	session.Options = a.sessionOptions(-1)
	clear(session.Values)

	return a.store.Save(r, w, session)
}

// storedSession returns the session of a server-side store that the request
// names, or nil when it names none or only a cookie that does not decode. A
// session whose ID is known comes back even when loading its values failed,
// so that it can still be deleted. Other failures of the store are returned.
func (a *Auth) storedSession(r *http.Request) (*sessions.Session, error) {
	session, err := a.store.New(r, a.cfg.CookieName)
	if session != nil && session.ID != "" {
		return session, nil
	}

	if err == nil || isDecodeError(err) {
		return nil, nil
	}

	if _, noCookie := r.Cookie(a.cfg.CookieName); noCookie != nil {
		return nil, nil
	}

	return nil, fmt.Errorf("reading the stored session: %w", err)
}

// isDecodeError reports whether err means that a cookie did not decode, as
// opposed to a failure of the store behind it.
func isDecodeError(err error) bool {
	var codecErr securecookie.Error

	return errors.As(err, &codecErr) && codecErr.IsDecode()
}

// newCodecs returns a codec per key pair of keys. They check no age of their
// own, because securecookie's check reads the real clock and keeps its own
// max age. The session and state lifetimes are checked against Config.Now
// instead.
func newCodecs(keys [][]byte) []securecookie.Codec {
	codecs := securecookie.CodecsFromPairs(keys...)
	for _, codec := range codecs {
		sc := codec.(*securecookie.SecureCookie)
		sc.MaxAge(0)
		sc.MaxLength(0)
		sc.SetSerializer(securecookie.NopEncoder{})
	}

	return codecs
}
