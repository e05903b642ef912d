package identity

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// maxCookieParts bounds how many cookies one session may span. Eight full
// parts make a Cookie header of about 32 KiB, which some proxies reject:
// nginx, for one, accepts request header lines of at most 8 KiB unless
// large_client_header_buffers is raised.
const maxCookieParts = 8

// partSeparator ends the part count that the first cookie of a session
// spread over several cookies starts with, as in "3~<value>". securecookie's
// values are base64url and never contain it.
const partSeparator = "~"

// cookieStore is the default sessions.Store. It keeps the session record in
// the browser, authenticated with HMAC-SHA256 and encrypted with AES by
// securecookie. A record too large for one cookie is split over numbered
// cookies: the first keeps the session's name and the others add "-1", "-2"
// and so on.
type cookieStore struct {
	codecs  []securecookie.Codec // write values
	decoder *cookieDecoder       // reads them, as the codecs would
	cache   *sessionCache        // decoded records, or nil
	options *sessions.Options
}

var _ sessions.Store = (*cookieStore)(nil)

// Get returns the request's session. Unlike gorilla's stores it does not
// cache sessions in the request, which needs a context per request.
func (s *cookieStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return s.New(r, name)
}

// New returns the session in the request's cookies, or a new empty one when
// there is none. A cookie that does not decode gives a new session and an
// error.
func (s *cookieStore) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(s, name)
	opts := *s.options
	session.Options = &opts
	session.IsNew = true

	raw, _, err := s.read(r, name)
	if errors.Is(err, http.ErrNoCookie) {
		return session, nil
	}

	if err != nil {
		return session, err
	}

	session.Values[recordKey] = raw
	session.IsNew = false

	return session, nil
}

// read returns a copy of the session record in the request's cookies and
// the index of the key pair that decoded it; 0 is the newest pair. It wraps
// http.ErrNoCookie when the request has no session cookie.
func (s *cookieStore) read(r *http.Request, name string) ([]byte, int, error) {
	var raw []byte

	keyIndex, err := s.decode(r, name, func(plain []byte) error {
		raw = append(raw, plain...)
		return nil
	})

	return raw, keyIndex, err
}

// readRecord returns the session record in the request's cookies, decoded,
// and the index of the key pair that decoded it. The record may be shared
// with other requests: it must not change.
func (s *cookieStore) readRecord(r *http.Request, name string) (*sessionRecord, int, error) {
	// A cached value decoded once, so its bytes are valid, and checking
	// them, which costs as much as the rest of a cached read, can wait for
	// a miss.
	if s.cache != nil {
		if unchecked, ok := findCookie(r, name, false); ok {
			if entry, hit := s.cache.get(unchecked); hit {
				return entry.record, entry.keyIndex, nil
			}
		}
	}

	single, found := cookieValue(r, name)
	if !found {
		return nil, 0, fmt.Errorf("reading session cookie: %w", http.ErrNoCookie)
	}

	// A value larger than a browser keeps in one cookie can only be a
	// session joined by hand. It decodes, but it is not worth its memory.
	cacheable := !strings.Contains(single, partSeparator) && len(single) <= maxCookieBytes

	var rec *sessionRecord

	keyIndex, err := s.decodeFrom(r, name, single, func(plain []byte) error {
		var err error
		rec, err = decodeRecord(plain)
		return err
	})
	if err != nil {
		return nil, 0, err
	}

	if cacheable {
		s.cache.put(single, cachedSession{record: rec, keyIndex: keyIndex})
	}

	return rec, keyIndex, nil
}

// decode finds the session's cookies in r, decodes them and passes the
// plaintext to use, which must not keep it.
func (s *cookieStore) decode(r *http.Request, name string, use func(plain []byte) error) (int, error) {
	first, found := cookieValue(r, name)
	if !found {
		return 0, fmt.Errorf("reading session cookie: %w", http.ErrNoCookie)
	}

	return s.decodeFrom(r, name, first, use)
}

// decodeFrom is decode for the value of the session's first cookie, found
// already.
func (s *cookieStore) decodeFrom(r *http.Request, name, first string, use func(plain []byte) error) (int, error) {
	var parts [maxCookieParts]string

	n, err := findParts(r, name, first, &parts)
	if err != nil {
		return 0, err
	}

	plain, keyIndex, scratch, err := s.decoder.decode(name, parts[:n])
	if err != nil {
		return 0, fmt.Errorf("decoding session cookie with %d key pairs: %w", len(s.decoder.keys), err)
	}
	defer s.decoder.release(scratch)

	return keyIndex, use(plain)
}

// findParts stores in parts the values of the cookies the session spans, in
// order, given the value of the first, and returns how many there are.
func findParts(r *http.Request, name, first string, parts *[maxCookieParts]string) (int, error) {
	count, rest, split := strings.Cut(first, partSeparator)
	if !split {
		parts[0] = first
		return 1, nil
	}

	n, err := strconv.Atoi(count)
	if err != nil || n < 2 || n > maxCookieParts {
		return 0, fmt.Errorf("session cookie has an invalid part count %q", count)
	}

	parts[0] = rest

	for i := 1; i < n; i++ {
		part, ok := cookieValue(r, partName(name, i))
		if !ok {
			return 0, fmt.Errorf("session cookie part %d of %d is missing", i+1, n)
		}

		parts[i] = part
	}

	return n, nil
}

func partName(name string, i int) string {
	return name + "-" + strconv.Itoa(i)
}

// Save writes the session's record to its cookies, or clears them when the
// session's MaxAge is negative. Parts that an earlier, larger session left in
// the browser are cleared, so that they cannot be joined to the new value.
func (s *cookieStore) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	if session.Options.MaxAge < 0 {
		http.SetCookie(w, newCookie(session.Name(), "", session.Options))
		clearParts(r, w, session.Name(), 1, session.Options)

		return nil
	}

	raw, ok := session.Values[recordKey].([]byte)
	if !ok || len(session.Values) != 1 {
		return fmt.Errorf("identity: the default cookie store keeps the session record alone, got %d values", len(session.Values))
	}

	encoded, err := securecookie.EncodeMulti(session.Name(), raw, s.codecs...)
	if err != nil {
		return fmt.Errorf("encoding session cookie: %w", err)
	}

	cookies, err := splitCookie(session.Name(), encoded, session.Options)
	if err != nil {
		return err
	}

	for _, cookie := range cookies {
		http.SetCookie(w, cookie)
	}

	clearParts(r, w, session.Name(), len(cookies), session.Options)

	return nil
}

// splitCookie returns the cookies that carry value: one when it fits in a
// cookie, else up to maxCookieParts.
func splitCookie(name, value string, opts *sessions.Options) ([]*http.Cookie, error) {
	single := newCookie(name, value, opts)
	if len(single.String()) <= maxCookieBytes {
		return []*http.Cookie{single}, nil
	}

	// The longest part name and the count prefix give the maximum overhead
	// of a part besides its share of the value.
	overhead := len(newCookie(partName(name, maxCookieParts-1), "", opts).String()) + len(strconv.Itoa(maxCookieParts)+partSeparator)
	size := maxCookieBytes - overhead

	n := (len(value) + size - 1) / size
	if n > maxCookieParts {
		return nil, fmt.Errorf("%w: the session cookie would be %d bytes, over %d cookies of %d bytes: use a server-side Store",
			errSessionTooLarge, len(value), maxCookieParts, maxCookieBytes)
	}

	cookies := make([]*http.Cookie, n)
	for i := range n {
		part := value[i*size : min((i+1)*size, len(value))]
		if i == 0 {
			cookies[i] = newCookie(name, strconv.Itoa(n)+partSeparator+part, opts)
		} else {
			cookies[i] = newCookie(partName(name, i), part, opts)
		}
	}

	return cookies, nil
}

// clearParts clears the parts from index from on that the request carries.
func clearParts(r *http.Request, w http.ResponseWriter, name string, from int, opts *sessions.Options) {
	clearing := *opts
	clearing.MaxAge = -1

	for i := max(from, 1); i < maxCookieParts; i++ {
		if _, err := r.Cookie(partName(name, i)); err == nil {
			http.SetCookie(w, newCookie(partName(name, i), "", &clearing))
		}
	}
}
