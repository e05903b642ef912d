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
	cookie := &http.Cookie{
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

// loadSession returns the session record of the request. Any failure, from a
// missing cookie to a forged one, wraps ErrNotSignedIn.
func (a *Auth) loadSession(r *http.Request) (*sessionRecord, error) {
	session, err := a.store.New(r, a.cfg.CookieName)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSignedIn, err)
	}

	if session == nil || session.IsNew {
		return nil, ErrNotSignedIn
	}

	raw, ok := session.Values[recordKey].([]byte)
	if !ok {
		return nil, fmt.Errorf("%w: session holds no identity", ErrNotSignedIn)
	}

	rec, err := decodeRecord(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotSignedIn, err)
	}

	return rec, nil
}

// saveSession writes rec as a brand-new session, so that no ID or value of a
// session the browser had before survives (session fixation).
func (a *Auth) saveSession(w http.ResponseWriter, r *http.Request, rec *sessionRecord) error {
	now := a.cfg.Now()
	remaining := rec.Identity.AuthenticatedAt.Add(a.cfg.SessionLifetime).Sub(now)

	maxAge := int(remaining / time.Second)
	if maxAge < 1 {
		return fmt.Errorf("%w: session lifetime already over", ErrSessionExpired)
	}

	session := sessions.NewSession(a.store, a.cfg.CookieName)
	session.IsNew = true
	session.Options = a.sessionOptions(maxAge)
	session.Values[recordKey] = encodeRecord(nil, rec)

	return a.store.Save(r, w, session)
}

// deleteSession ends the request's session: a server-side store deletes its
// copy, and the browser gets an expired cookie.
func (a *Auth) deleteSession(w http.ResponseWriter, r *http.Request) error {
	session, err := a.store.New(r, a.cfg.CookieName)
	if err != nil || session == nil {
		session = sessions.NewSession(a.store, a.cfg.CookieName)
	}

	session.Options = a.sessionOptions(-1)
	clear(session.Values)

	return a.store.Save(r, w, session)
}

// newCodecs returns a codec per key pair of keys. They check no age of their
// own, because securecookie's check reads the real clock and keeps its own
// max age; the session and state lifetimes are checked against Config.Now
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

// cookieStore is the default sessions.Store. It keeps the session record in
// the cookie itself, authenticated with HMAC-SHA256 and encrypted with AES by
// securecookie. It holds nothing but the record.
type cookieStore struct {
	codecs  []securecookie.Codec
	options *sessions.Options
}

var _ sessions.Store = (*cookieStore)(nil)

// Get returns the request's session. Unlike gorilla's stores it does not
// cache sessions in the request, which needs a context per request.
func (s *cookieStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return s.New(r, name)
}

// New returns the session in the request's cookie, or a new empty one with an
// error when the cookie is missing or does not decode.
func (s *cookieStore) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(s, name)
	opts := *s.options
	session.Options = &opts
	session.IsNew = true

	cookie, err := r.Cookie(name)
	if err != nil {
		return session, nil
	}

	var raw []byte
	if err := securecookie.DecodeMulti(name, cookie.Value, &raw, s.codecs...); err != nil {
		return session, fmt.Errorf("decoding session cookie: %w", err)
	}

	session.Values[recordKey] = raw
	session.IsNew = false

	return session, nil
}

// Save writes the session's record to its cookie, or clears the cookie when
// the session's MaxAge is negative.
func (s *cookieStore) Save(_ *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	if session.Options.MaxAge < 0 {
		http.SetCookie(w, newCookie(session.Name(), "", session.Options))
		return nil
	}

	raw, ok := session.Values[recordKey].([]byte)
	if !ok || len(session.Values) != 1 {
		return fmt.Errorf("identity: the default cookie store keeps only the session record, got %d values", len(session.Values))
	}

	encoded, err := securecookie.EncodeMulti(session.Name(), raw, s.codecs...)
	if err != nil {
		return fmt.Errorf("encoding session cookie: %w", err)
	}

	cookie := newCookie(session.Name(), encoded, session.Options)
	if size := len(cookie.String()); size > maxCookieBytes {
		return fmt.Errorf("%w: the session cookie would be %d bytes, over the %d-byte browser limit: use a server-side Store",
			errSessionTooLarge, size, maxCookieBytes)
	}

	http.SetCookie(w, cookie)

	return nil
}
