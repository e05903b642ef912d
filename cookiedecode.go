package identity

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
)

// cookieDecoder reads cookie values in gorilla/securecookie's format, as
// securecookie.DecodeMulti does with the codecs of newCodecs. It differs in
// one way: it rejects base64 that is not canonical, which securecookie never
// writes. RequireAuth decodes sessions on the hot path, so the decoder reuses
// pooled buffers and HMAC states, and only the AES-CTR stream is allocated
// per value. securecookie writes every value, so the format never changes; a
// differential test and a fuzz target hold the two decoders to the same
// results.
//
// The format is base64url("date|base64url(iv‖ciphertext)|mac"), where mac is
// HMAC-SHA256 of "name|date|base64url(iv‖ciphertext)" and the ciphertext is
// AES-CTR with the 16-byte iv.
type cookieDecoder struct {
	keys    []decoderKey
	scratch sync.Pool // of *decodeScratch
}

// decoderKey is one key pair of Config.SessionKeys.
type decoderKey struct {
	hashKey []byte
	block   cipher.Block
}

// decodeScratch holds the buffers of one decoding, reused across requests.
type decodeScratch struct {
	raw    []byte      // the cookie value, copied from the header
	prefix []byte      // "name|", the start of what the MAC covers
	outer  []byte      // "date|value|mac"
	inner  []byte      // iv‖ciphertext, then the plaintext in place
	macs   []hash.Hash // one HMAC per key pair, made on first use
	sum    [sha256.Size]byte
}

// strictBase64 is securecookie's encoding, read strictly: securecookie
// writes only canonical base64, and its lenient reading would accept up to
// 16 spellings of one value, which would each sign in and each take a
// place in the session cache.
var strictBase64 = base64.URLEncoding.Strict()

// errCookieInvalid is the cause of every value that does not decode. The
// reason stays out of it on purpose: a forged cookie deserves no diagnosis.
var errCookieInvalid = errors.New("identity: cookie value does not decode with any key pair")

// newCookieDecoder returns a decoder for keys, which New validated as pairs
// of a hash key and an AES key.
func newCookieDecoder(keys [][]byte) (*cookieDecoder, error) {
	d := &cookieDecoder{}

	for i := 0; i+1 < len(keys); i += 2 {
		block, err := aes.NewCipher(keys[i+1])
		if err != nil {
			return nil, fmt.Errorf("identity: SessionKeys[%d]: %w", i+1, err)
		}

		d.keys = append(d.keys, decoderKey{hashKey: keys[i], block: block})
	}

	d.scratch.New = func() any { return &decodeScratch{macs: make([]hash.Hash, len(d.keys))} }

	return d, nil
}

// decode returns the plaintext of the value of the cookie called name,
// given as the parts it spans, and the index of the key pair that decoded
// it. The plaintext lives in scratch: read it, then give scratch back with
// release.
func (d *cookieDecoder) decode(name string, parts []string) ([]byte, int, *decodeScratch, error) {
	s := d.scratch.Get().(*decodeScratch)

	s.raw = s.raw[:0]
	for _, part := range parts {
		s.raw = append(s.raw, part...)
	}
	s.outer = grow(s.outer, strictBase64.DecodedLen(len(s.raw)))

	n, err := strictBase64.Decode(s.outer, s.raw)
	if err != nil {
		d.release(s)
		return nil, 0, nil, errCookieInvalid
	}

	outer := s.outer[:n]

	// "date|value|mac": the MAC is raw bytes and may hold '|', so split at
	// the first two bars, as securecookie does.
	firstBar := bytes.IndexByte(outer, '|')
	if firstBar < 0 {
		d.release(s)
		return nil, 0, nil, errCookieInvalid
	}

	secondBar := bytes.IndexByte(outer[firstBar+1:], '|')
	if secondBar < 0 {
		d.release(s)
		return nil, 0, nil, errCookieInvalid
	}

	secondBar += firstBar + 1
	date, encoded, mac := outer[:firstBar], outer[firstBar+1:secondBar], outer[secondBar+1:]

	for i := range d.keys {
		if !d.verifyMAC(s, i, name, outer[:secondBar], mac) {
			continue
		}

		if !isTimestamp(date) {
			break
		}

		plain, ok := d.decrypt(s, i, encoded)
		if !ok {
			break
		}

		return plain, i, s, nil
	}

	d.release(s)

	return nil, 0, nil, errCookieInvalid
}

// release gives the buffers of a decoding back for another request.
func (d *cookieDecoder) release(s *decodeScratch) {
	d.scratch.Put(s)
}

// verifyMAC reports whether mac is the HMAC of "name|signed" under key i.
func (d *cookieDecoder) verifyMAC(s *decodeScratch, i int, name string, signed, mac []byte) bool {
	h := s.macs[i]
	if h == nil {
		h = hmac.New(sha256.New, d.keys[i].hashKey)
		s.macs[i] = h
	}

	s.prefix = append(append(s.prefix[:0], name...), '|')

	h.Reset()
	h.Write(s.prefix)
	h.Write(signed)

	sum := h.Sum(s.sum[:0])

	return len(mac) == len(sum) && subtle.ConstantTimeCompare(mac, sum) == 1
}

// decrypt decodes encoded, iv‖ciphertext in base64url, and deciphers it in
// place with AES-CTR under key i, as securecookie does.
func (d *cookieDecoder) decrypt(s *decodeScratch, i int, encoded []byte) ([]byte, bool) {
	s.inner = grow(s.inner, strictBase64.DecodedLen(len(encoded)))

	n, err := strictBase64.Decode(s.inner, encoded)
	if err != nil || n <= aes.BlockSize {
		return nil, false
	}

	plain := s.inner[aes.BlockSize:n]
	cipher.NewCTR(d.keys[i].block, s.inner[:aes.BlockSize]).XORKeyStream(plain, plain)

	return plain, true
}

func grow(buf []byte, n int) []byte {
	if cap(buf) < n {
		return make([]byte, n)
	}

	return buf[:n]
}

// isTimestamp reports whether b is what securecookie's timestamp check,
// strconv.ParseInt(b, 10, 64), accepts: an optional sign, then decimal
// digits, with any number of leading zeros, within int64.
func isTimestamp(b []byte) bool {
	limit := "9223372036854775807"
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		if b[0] == '-' {
			limit = "9223372036854775808"
		}

		b = b[1:]
	}

	if len(b) == 0 {
		return false
	}

	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}

	digits := bytes.TrimLeft(b, "0")

	return len(digits) < len(limit) || (len(digits) == len(limit) && string(digits) <= limit)
}

// maxCookiesFastPath is the number of cookies in a request beyond which
// findCookie leaves the parsing to net/http, whose default limit is 3000.
const maxCookiesFastPath = 1000

// cookieValue returns the value of the first cookie called name in r's
// Cookie headers, parsed as r.Cookie parses it, without building the other
// cookies.
func cookieValue(r *http.Request, name string) (string, bool) {
	return findCookie(r, name, true)
}

// findCookie is cookieValue, with the check of the value's bytes optional:
// unchecked, it returns the first cookie called name even when r.Cookie
// would skip it for a byte no cookie value may hold.
func findCookie(r *http.Request, name string, checkValue bool) (string, bool) {
	// net/http ignores every cookie of a request with too many: 3000, unless
	// GODEBUG httpcookiemaxnum sets another limit. r.Cookie applies that
	// rule to such rare requests.
	count := 0
	for _, line := range r.Header["Cookie"] {
		count += strings.Count(line, ";") + 1
	}

	if count > maxCookiesFastPath {
		cookie, err := r.Cookie(name)
		if err != nil {
			return "", false
		}

		return cookie.Value, true
	}

	for _, line := range r.Header["Cookie"] {
		line = textproto.TrimString(line)

		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")

			key, value, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(key) != name {
				continue
			}

			if len(value) > 1 && value[0] == '"' && value[len(value)-1] == '"' {
				value = value[1 : len(value)-1]
			}

			if !checkValue || validCookieValue(value) {
				return value, true
			}
		}
	}

	return "", false
}

// validCookieValue reports whether net/http accepts value as a cookie
// value.
func validCookieValue(value string) bool {
	for i := 0; i < len(value); i++ {
		if !cookieValueBytes[value[i]] {
			return false
		}
	}

	return true
}

// cookieValueBytes marks the bytes net/http accepts in a cookie value:
// printable ASCII but for '"', ';' and '\\'.
var cookieValueBytes = func() (valid [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		valid[c] = c != '"' && c != ';' && c != '\\'
	}

	return valid
}()
