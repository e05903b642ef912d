package identity

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAPITime(t *testing.T) {
	tests := []struct {
		input string
		want  time.Time
	}{
		{input: "2026-01-02T15:04:05Z", want: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)},
		{input: "2026-01-02T15:04:05.123456Z", want: time.Date(2026, 1, 2, 15, 4, 5, 123456000, time.UTC)},
		{input: "2026-01-02T17:04:05+02:00", want: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)},
		{input: "2024-01-01T00: 00:00Z", want: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{input: "2025-06-15T10: 00:00Z", want: time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)},
		{input: "2025-06-15T10: 00:00.5Z", want: time.Date(2025, 6, 15, 10, 0, 0, 500000000, time.UTC)},
	}

	for _, tt := range tests {
		t.Run(tt.input, func(t *testing.T) {
			got, err := parseAPITime(tt.input)

			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "want %s, got %s", tt.want, got)
		})
	}
}

func TestParseAPITimeRejectsOtherForms(t *testing.T) {
	for _, input := range []string{"2024-01-01", "2024-01-01 00:00:00", "yesterday", "2024-01-01T00:  00:00Z", "1704067200"} {
		t.Run(input, func(t *testing.T) {
			_, err := parseAPITime(input)

			require.Error(t, err)
			assert.Contains(t, err.Error(), "expected RFC 3339")
		})
	}
}

func TestDecodeDocumentedResponse(t *testing.T) {
	raw, err := os.ReadFile("testdata/callback-200.json")
	require.NoError(t, err)

	data, err := decodeCallbackResponse(200, "application/json", raw)

	require.NoError(t, err)
	assert.Equal(t, "string", data.AccessToken.Token)
	assert.True(t, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Equal(data.AccessToken.ExpireAt.Time))
	assert.Equal(t, "507f1f77bcf86cd799439023", data.User.ID)
	assert.True(t, time.Date(2026, 2, 3, 15, 30, 0, 0, time.UTC).Equal(data.User.UpdatedAt.Time), "user.updatedAt")
	require.NotNil(t, data.User.OrganizationInfo)
	assert.Equal(t, "apps.acme.com", data.User.OrganizationInfo.Store.CustomDomain)
	require.NotNil(t, data.User.ActivityTrace)
	assert.False(t, data.User.ActivityTrace.LastLogin.SDK.IsZero(), "activityTrace.lastLogin.sdk")
	assert.Equal(t, "none", data.User.PlatformRoles[0].Supplant.Capability)
	assert.Equal(t, "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6", data.User.IntercomUserHash)
}

func TestDecodeRejectsMissingExpiry(t *testing.T) {
	tests := []struct {
		name     string
		expireAt string // the JSON after "expireAt":, or "" to leave the field out
	}{
		{name: "null", expireAt: "null"},
		{name: "empty string", expireAt: `""`},
		{name: "missing", expireAt: ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := `{"token":"t"}`
			if tt.expireAt != "" {
				token = `{"token":"t","expireAt":` + tt.expireAt + `}`
			}
			body := `{"status":true,"data":{"accessToken":` + token + `,"user":{"id":"u1"}}}`

			data, err := decodeCallbackResponse(200, "application/json", []byte(body))

			assert.Nil(t, data)
			require.ErrorIs(t, err, ErrUpstreamInvalid)
			assert.Contains(t, err.Error(), "accessToken.expireAt is missing or empty")
		})
	}
}

func TestDecodeCallbackResponseErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantAPI     *APIError
		wantText    string
	}{
		{
			name: "documented 400", status: 400, contentType: "application/json",
			body:    `{"status":false,"error":{"code":5070,"message":"Saml get profile error"}}`,
			wantAPI: &APIError{StatusCode: 400, Code: 5070, Message: "Saml get profile error"},
		},
		{
			name: "status false with 200", status: 200, contentType: "application/json; charset=utf-8",
			body:    `{"status":false,"error":{"code":4001,"message":"Nope"}}`,
			wantAPI: &APIError{StatusCode: 200, Code: 4001, Message: "Nope"},
		},
		{
			name: "status false without error object", status: 200, contentType: "application/json",
			body:    `{"status":false}`,
			wantAPI: &APIError{StatusCode: 200},
		},
		{name: "404 without envelope", status: 404, contentType: "application/json", body: `{}`, wantText: "HTTP 404 without an error envelope"},
		{name: "malformed", status: 200, contentType: "application/json", body: `{"status":`, wantText: "malformed JSON"},
		{name: "wrong type", status: 200, contentType: "application/json", body: `{"status":"yes"}`, wantText: "malformed JSON"},
		{name: "not JSON", status: 200, contentType: "text/plain", body: `ok`, wantText: `Content-Type "text/plain"`},
		{name: "no content type", status: 200, contentType: "", body: `{}`, wantText: `Content-Type ""`},
		{name: "no data", status: 200, contentType: "application/json", body: `{"status":true}`, wantText: `without "status":true and "data"`},
		{name: "no status", status: 200, contentType: "application/json", body: `{"data":{}}`, wantText: `without "status":true and "data"`},
		{
			name: "garbage timestamp", status: 200, contentType: "application/json",
			body:     `{"status":true,"data":{"accessToken":{"token":"t","expireAt":"soon"},"user":{"id":"u"}}}`,
			wantText: `invalid timestamp "soon"`,
		},
		{
			name: "numeric timestamp", status: 200, contentType: "application/json",
			body:     `{"status":true,"data":{"accessToken":{"token":"t","expireAt":1700000000},"user":{"id":"u"}}}`,
			wantText: "timestamp must be a string",
		},
		{
			name: "empty token", status: 200, contentType: "application/json",
			body:     `{"status":true,"data":{"accessToken":{"token":"","expireAt":"2099-01-01T00:00:00Z"},"user":{"id":"u"}}}`,
			wantText: "accessToken.token is missing or empty",
		},
		{
			name: "refresh token without expiry", status: 200, contentType: "application/json",
			body:     `{"status":true,"data":{"accessToken":{"token":"t","expireAt":"2099-01-01T00:00:00Z"},"refreshToken":{"token":"r"},"user":{"id":"u"}}}`,
			wantText: "refreshToken.expireAt is missing or empty",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := decodeCallbackResponse(tt.status, tt.contentType, []byte(tt.body))

			assert.Nil(t, data)
			require.Error(t, err)
			if tt.wantAPI != nil {
				var apiErr *APIError
				require.True(t, errors.As(err, &apiErr), "an *APIError: %v", err)
				assert.Equal(t, tt.wantAPI, apiErr)
				return
			}
			assert.ErrorIs(t, err, ErrUpstreamInvalid)
			assert.Contains(t, err.Error(), tt.wantText)
		})
	}
}

func TestDecodeAcceptsMissingRefreshToken(t *testing.T) {
	body := `{"status":true,"data":{"accessToken":{"token":"t","expireAt":"2099-01-01T00:00:00Z"},"user":{"id":"u"}}}`

	data, err := decodeCallbackResponse(200, "application/vnd.applivery+json", []byte(body))

	require.NoError(t, err)
	id := data.identity(time.Now())
	assert.Empty(t, id.RefreshToken.Value)
	assert.Equal(t, "u", id.UserID)
}

func TestIdentityComposesMissingFullName(t *testing.T) {
	data := &callbackData{
		AccessToken: &apiToken{Token: "t"},
		User:        &apiUser{ID: "u", FirstName: "Grace", LastName: "Hopper"},
	}

	assert.Equal(t, "Grace Hopper", data.identity(time.Now()).FullName)
	assert.False(t, strings.Contains(data.identity(time.Now()).FullName, "  "))
}
