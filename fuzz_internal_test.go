package identity

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// fuzzCookie is a session cookie that fuzzAuth's keys wrote for
// sampleRecord at fuzzNow. It is a literal, because fuzzing runs the target
// in other processes, where a cookie written anew would differ in its random
// IV; it also pins down that this format keeps reading.
const fuzzCookie = "MTc5NjQxNjgxM3xNVDNlR1FtempUUjBBWDRPQ09MdUlFRnZYVnBFSDdEUHpfY3M2NU5fdzl5RjBSYmJOODJwd0J0cTlCVWtJWDlRNUU4YUlxQ0M2aUN5ZEtZYXh2NUM1OVVvVDNnWTNDdE1hazRaUWNNUjRGbGpJazgtQVFhdkh1YWM2V1pMUjhMX3V1UDdqRzhtOE5HcTFvSTRqQmxzME02ekdNYXBkdWdLdGN1NzdDX013WTdJbS1XNUJRVF9BNXFWcTlzNzFNNEhkQmVzNTN2cVJYaEhvOVh1NmxvbUp1eTdnN3hJRzhFQmVsdnZ6THJ1cFA1SjIzUHZOYk5SZkozUEthNmhTRDJ3aWxDR25rdGpic0E0NlFMV3BUejY4Tmo1MmVZQ3l1d2tWbHZuMl9PMGlsYkxjNUI3fOz0ATMA5xEfd3hNZGP-FDhCRWKlTGRmiZrZ96UjkbOW"

var fuzzNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// fuzzAuth returns an Auth whose clock is fixed at fuzzNow.
func fuzzAuth(f *testing.F) *Auth {
	f.Helper()

	a, err := New(Config{
		APIKey: "key", Organization: "acme", Provider: "saml",
		SignInURL:   "https://idp.example/sso",
		SessionKeys: [][]byte{bytes.Repeat([]byte("h"), 32), bytes.Repeat([]byte("b"), 32)},
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:         func() time.Time { return fuzzNow },
	})
	if err != nil {
		f.Fatal(err)
	}

	return a
}

func TestFuzzCookieSignsIn(t *testing.T) {
	a, err := New(Config{
		APIKey: "key", Organization: "acme", Provider: "saml",
		SignInURL:   "https://idp.example/sso",
		SessionKeys: [][]byte{bytes.Repeat([]byte("h"), 32), bytes.Repeat([]byte("b"), 32)},
		Now:         func() time.Time { return fuzzNow },
	})
	if err != nil {
		t.Fatal(err)
	}

	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", "__Host-identity="+fuzzCookie)

	id, err := a.authenticate(httptest.NewRecorder(), req)
	if err != nil {
		t.Fatalf("the reference cookie does not sign in: %v", err)
	}

	if id.UserID != sampleRecord().Identity.UserID {
		t.Fatalf("the reference cookie signs in %q", id.UserID)
	}
}

// FuzzSessionCookie checks that no cookie value makes RequireAuth panic, and
// that only the value the package wrote signs anyone in.
func FuzzSessionCookie(f *testing.F) {
	a := fuzzAuth(f)
	valid := fuzzCookie

	f.Add(valid)
	f.Add(paddingVariant(valid + "="))
	f.Add(valid[:len(valid)/2])
	f.Add("2~" + valid)
	f.Add("8~")
	f.Add("")
	f.Add("MTcwMDAwMDAwMHxhYmN8ZGVm")

	f.Fuzz(func(t *testing.T, value string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", "__Host-identity="+value+"; __Host-identity-1="+value)

		id, err := a.authenticate(httptest.NewRecorder(), req)
		if err != nil {
			return
		}

		if strings.Trim(value, `"`) != valid {
			t.Fatalf("cookie value %q signed in user %q", value, id.UserID)
		}
	})
}

// FuzzDecodeCallbackResponse checks that no response body makes the decoder
// panic, and that whatever it accepts has what a session needs.
func FuzzDecodeCallbackResponse(f *testing.F) {
	for _, name := range []string{"testdata/callback-200.json", "testdata/callback-400.json"} {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(200, raw)
		f.Add(400, raw)
	}
	f.Add(200, []byte(`{"status":true,"data":{"accessToken":{"token":"t","expireAt":"2099-01-01T00:00:00Z"},"user":{"id":"u"}}}`))
	f.Add(200, []byte(`{"status":true,"data":{"accessToken":{"token":"t","expireAt":null},"user":{"id":"u"}}}`))
	f.Add(500, []byte(`{"status":false}`))

	f.Fuzz(func(t *testing.T, status int, body []byte) {
		data, err := decodeCallbackResponse(status, "application/json", body)
		if err != nil {
			if data != nil {
				t.Fatalf("an error with data: %v", err)
			}
			return
		}

		if status < 200 || status > 299 {
			t.Fatalf("accepted HTTP %d", status)
		}

		if data.AccessToken == nil || data.AccessToken.Token == "" || data.AccessToken.ExpireAt.IsZero() || data.User == nil || data.User.ID == "" {
			t.Fatalf("accepted a response without what a session needs: %s", body)
		}
	})
}
