package identity

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleRecord() *sessionRecord {
	at := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)

	return &sessionRecord{
		Audience: "acme/saml",
		Identity: &Identity{
			UserID: "507f1f77bcf86cd799439023", Email: "user@example.com",
			FirstName: "John", LastName: "Doe", FullName: "John Doe",
			Picture: "https://example.com/p.jpg", Role: "user",
			PlatformRoles: []PlatformRole{
				{ID: "r1", Name: "owner", Description: "Owner", Actions: []string{"a", "b"}},
				{ID: "r2", Name: "viewer"},
			},
			OrganizationID:  "o1",
			Organizations:   []Organization{{ID: "o1", Name: "Org One", Slug: "org-one", Picture: "p"}, {ID: "o2"}},
			Language:        "en",
			SSOUser:         true,
			AccessToken:     Token{Value: "access", ExpiresAt: at.Add(time.Hour)},
			RefreshToken:    Token{Value: "refresh", ExpiresAt: at.Add(720 * time.Hour)},
			AuthenticatedAt: at,
		},
		LastSeenAt: at.Add(time.Minute),
	}
}

func TestRecordRoundTrip(t *testing.T) {
	tests := map[string]*sessionRecord{
		"full":  sampleRecord(),
		"empty": {Identity: &Identity{}},
		"before 1970": {Identity: &Identity{
			UserID: "u", AuthenticatedAt: time.Date(1960, 5, 1, 0, 0, 0, 1, time.UTC),
		}},
	}

	for name, rec := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := decodeRecord(encodeRecord(nil, rec))

			require.NoError(t, err)
			assert.Equal(t, recordContent(rec), recordContent(got))
		})
	}
}

func TestRecordRejectsCorruption(t *testing.T) {
	valid := encodeRecord(nil, sampleRecord())

	tests := map[string][]byte{
		"empty":           {},
		"unknown version": append([]byte{9}, valid[1:]...),
		"truncated":       valid[:len(valid)-1],
		"trailing byte":   append(append([]byte{}, valid...), 0),
		"huge count":      {recordVersion1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"bad nanosecond":  {recordVersion1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}

	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			rec, err := decodeRecord(raw)

			assert.Nil(t, rec)
			assert.ErrorIs(t, err, errRecordCorrupt)
		})
	}
}

// FuzzDecodeRecord checks that no input makes the decoder panic, and that
// whatever it accepts encodes back to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(nil, sampleRecord()))
	f.Add(encodeRecord(nil, &sessionRecord{Identity: &Identity{}}))
	f.Add([]byte{recordVersion1})

	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, err := decodeRecord(raw)
		if err != nil {
			return
		}

		again, err := decodeRecord(encodeRecord(nil, rec))
		if err != nil {
			t.Fatalf("re-encoding an accepted record fails: %v", err)
		}

		assert.Equal(t, recordContent(rec), recordContent(again))
	})
}

// content is what a record holds, without the storage that decodeRecord
// uses.
type content struct {
	Audience   string
	LastSeenAt time.Time
	Identity   Identity
}

func recordContent(rec *sessionRecord) content {
	return content{Audience: rec.Audience, LastSeenAt: rec.LastSeenAt, Identity: *rec.Identity}
}
