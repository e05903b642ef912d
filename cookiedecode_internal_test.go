package identity

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var decoderKeys = [][]byte{
	bytes.Repeat([]byte("n"), 32), bytes.Repeat([]byte("N"), 32), // newest pair
	bytes.Repeat([]byte("o"), 64), bytes.Repeat([]byte("O"), 16), // older pair
}

// referenceDecode decodes value with securecookie itself, configured as the
// package configures it.
func referenceDecode(name, value string, keys [][]byte) ([]byte, error) {
	var plain []byte
	err := securecookie.DecodeMulti(name, value, &plain, newCodecs(keys)...)

	return plain, err
}

func newTestDecoder(t testing.TB) *cookieDecoder {
	t.Helper()

	d, err := newCookieDecoder(decoderKeys)
	require.NoError(t, err)

	return d
}

// decodeWith runs the package's decoder and copies the plaintext out.
func decodeWith(d *cookieDecoder, name, value string) ([]byte, int, error) {
	plain, keyIndex, scratch, err := d.decode(name, []string{value})
	if err != nil {
		return nil, 0, err
	}
	defer d.release(scratch)

	return bytes.Clone(plain), keyIndex, nil
}

func TestCookieDecoderMatchesSecurecookie(t *testing.T) {
	d := newTestDecoder(t)

	for _, size := range []int{0, 1, 15, 16, 17, 100, 1000, 10000} {
		for pair := range 2 {
			t.Run(fmt.Sprintf("%d bytes, pair %d", size, pair), func(t *testing.T) {
				plain := make([]byte, size)
				_, _ = rand.Read(plain)
				encoded, err := securecookie.EncodeMulti("__Host-identity", plain, newCodecs(decoderKeys[2*pair:])...)
				require.NoError(t, err)

				got, keyIndex, err := decodeWith(d, "__Host-identity", encoded)
				want, wantErr := referenceDecode("__Host-identity", encoded, decoderKeys)

				if size == 0 {
					assert.Error(t, wantErr, "securecookie cannot decode an empty value")
					assert.Error(t, err, "nor can the decoder")
					return
				}
				require.NoError(t, wantErr, "securecookie decodes it")
				require.NoError(t, err, "the decoder decodes it")
				assert.Equal(t, want, got)
				assert.Equal(t, pair, keyIndex, "the key pair that decoded it")
			})
		}
	}
}

// signWithDate encodes plain as securecookie does, but with any date
// string, to compare how both decoders read odd timestamps.
func signWithDate(name, date string, plain []byte) string {
	block, _ := aes.NewCipher(decoderKeys[1])
	iv := make([]byte, aes.BlockSize)
	_, _ = rand.Read(iv)

	ciphertext := make([]byte, len(plain))
	cipher.NewCTR(block, iv).XORKeyStream(ciphertext, plain)
	value := base64.URLEncoding.EncodeToString(append(iv, ciphertext...))

	mac := hmac.New(sha256.New, decoderKeys[0])
	mac.Write([]byte(name + "|" + date + "|" + value))

	return base64.URLEncoding.EncodeToString(append([]byte(date+"|"+value+"|"), mac.Sum(nil)...))
}

func TestCookieDecoderTimestampsLikeSecurecookie(t *testing.T) {
	d := newTestDecoder(t)

	for _, date := range []string{
		"1700000000", "0", "007", "+5", "-5", "", "abc", "1e9", "99999999999999999999", " 1", "+", "-",
		strings.Repeat("0", 30) + "1700000000", "9223372036854775807", "9223372036854775808",
		"-9223372036854775808", "-9223372036854775809", "-0", "+0",
	} {
		t.Run(date, func(t *testing.T) {
			value := signWithDate("session", date, []byte("payload"))

			got, _, err := decodeWith(d, "session", value)
			want, wantErr := referenceDecode("session", value, decoderKeys)

			assert.Equal(t, wantErr == nil, err == nil, "both accept or both reject (securecookie: %v)", wantErr)
			assert.Equal(t, want, got)
		})
	}
}

func TestCookieDecoderRejects(t *testing.T) {
	d := newTestDecoder(t)
	valid, err := securecookie.EncodeMulti("session", []byte("payload"), newCodecs(decoderKeys)...)
	require.NoError(t, err)

	tests := map[string]struct{ name, value string }{
		"other name":       {"other", valid},
		"truncated":        {"session", valid[:len(valid)-4]},
		"not base64":       {"session", "!!!" + valid},
		"no bars":          {"session", base64.URLEncoding.EncodeToString([]byte("no bars here"))},
		"one bar":          {"session", base64.URLEncoding.EncodeToString([]byte("123|abc"))},
		"empty":            {"session", ""},
		"iv only":          {"session", signWithDate("session", "1", nil)},
		"flipped MAC byte": {"session", flipLast(valid)},
	}

	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := decodeWith(d, tt.name, tt.value)
			_, wantErr := referenceDecode(tt.name, tt.value, decoderKeys)

			assert.Error(t, err)
			assert.Error(t, wantErr, "securecookie rejects it too")
		})
	}
}

// paddingVariant returns value with different unused bits in its last
// base64 character, which lenient decoding ignores; value must end in "=".
func paddingVariant(value string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

	end := strings.IndexByte(value, '=')
	if end < 1 {
		return value
	}

	last := strings.IndexByte(alphabet, value[end-1])

	return value[:end-1] + string(alphabet[last^1]) + value[end:]
}

func TestCookieDecoderRejectsNonCanonicalBase64(t *testing.T) {
	d := newTestDecoder(t)

	for _, size := range []int{1, 2, 4, 5, 7} {
		plain := bytes.Repeat([]byte("p"), size)
		valid, err := securecookie.EncodeMulti("session", plain, newCodecs(decoderKeys)...)
		require.NoError(t, err)
		if !strings.HasSuffix(valid, "=") {
			continue
		}
		variant := paddingVariant(valid)
		require.NotEqual(t, valid, variant)

		_, _, err = decodeWith(d, "session", variant)
		_, lenientErr := referenceDecode("session", variant, decoderKeys)

		assert.Error(t, err, "%d bytes: a second spelling of a valid cookie is rejected", size)
		assert.NoError(t, lenientErr, "%d bytes: securecookie's lenient base64 accepts it", size)
	}
}

func flipLast(value string) string {
	raw, _ := base64.URLEncoding.DecodeString(value)
	raw[len(raw)-1] ^= 1

	return base64.URLEncoding.EncodeToString(raw)
}

// canonical reports whether value, and the value inside it, are base64 as
// securecookie writes it, which the decoder requires and securecookie does
// not.
func canonical(value string) bool {
	outer, err := strictBase64.DecodeString(value)
	if err != nil {
		return false
	}

	parts := bytes.SplitN(outer, []byte("|"), 3)
	if len(parts) != 3 {
		return true
	}

	_, err = strictBase64.DecodeString(string(parts[1]))

	return err == nil
}

// FuzzCookieDecoder holds the decoder to securecookie's results on any
// input: both accept or both reject, with the same plaintext, except that
// the decoder rejects base64 that is not canonical.
func FuzzCookieDecoder(f *testing.F) {
	valid, err := securecookie.EncodeMulti("session", []byte("payload"), newCodecs(decoderKeys)...)
	if err != nil {
		f.Fatal(err)
	}

	f.Add("session", valid)
	f.Add("session", signWithDate("session", "+5", []byte("x")))
	f.Add("session", signWithDate("session", "1", nil))
	f.Add("other", valid)
	f.Add("session", "")
	f.Add("session", paddingVariant(valid))

	d := newTestDecoder(f)

	f.Fuzz(func(t *testing.T, name, value string) {
		got, _, err := decodeWith(d, name, value)
		want, wantErr := referenceDecode(name, value, decoderKeys)

		if err != nil && wantErr == nil && !canonical(value) {
			return
		}

		if (err == nil) != (wantErr == nil) {
			t.Fatalf("decoder error %v, securecookie error %v", err, wantErr)
		}

		if !bytes.Equal(got, want) {
			t.Fatalf("decoder plaintext %q, securecookie %q", got, want)
		}
	})
}

func TestCookieValueLikeRequestCookie(t *testing.T) {
	headers := [][]string{
		{"a=1; b=2; session=xyz"},
		{"session=first; session=second"},
		{`session="quoted"`},
		{"a=1", "session=later-line"},
		{"  session = spaced ; x=1"},
		{"sessionx=1; session=2"},
		{"session="},
		{"session"},
		{"session=bad\\value; session=good"},
		{"\tsession=tabbed\t"},
		{"nothing=here"},
		{strings.Repeat("x=1; ", 1500) + "session=many"},
		{strings.Repeat("x=1; ", 3000) + "session=too-many"},
	}

	for _, lines := range headers {
		label := strings.Join(lines, " / ")
		if len(label) > 60 {
			label = label[:30] + "…" + label[len(label)-20:]
		}

		t.Run(label, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header["Cookie"] = lines

			got, ok := cookieValue(req, "session")
			want, err := req.Cookie("session")

			if err != nil {
				assert.False(t, ok, "no cookie, as r.Cookie")
				return
			}
			assert.True(t, ok)
			assert.Equal(t, want.Value, got)
		})
	}
}
