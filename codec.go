package identity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// The session record is a compact binary form of an Identity, and the
// session stores it as a []byte. Gob refuses interface values of
// unregistered types such as time.Time, so a store that used gob on our
// types would fail in a process that never registered them. A []byte needs
// no registration.
//
// Layout, version 1: the version byte, then the fields of sessionRecord in
// the order encodeRecord writes them, starting with the audience. A string
// is a uvarint length and the bytes, and a time is a varint of Unix seconds
// and a uvarint of nanoseconds. A list is a uvarint count and its items.
// Decoding rejects any other version and any trailing byte.
const recordVersion1 = 1

// errRecordCorrupt is returned for a record that does not decode. The session
// codec authenticates records before decoding them, so this means a bug or a
// key that was reused across formats, never user input.
var errRecordCorrupt = errors.New("identity: session record is corrupt")

// sessionRecord is the content of a session: the identity and the
// session's own timestamps.
type sessionRecord struct {
	// Audience names the Config that wrote the session, as
	// "organization/provider", so that an Auth for another organization
	// that shares the keys and the cookie name rejects it.
	Audience string

	Identity *Identity

	// LastSeenAt is when the session was last written.
	LastSeenAt time.Time

	// decoded holds the Identity of a decoded record, so that one
	// allocation serves both.
	decoded Identity
}

// encodeRecord appends the record to dst.
func encodeRecord(dst []byte, rec *sessionRecord) []byte {
	id := rec.Identity

	dst = append(dst, recordVersion1)
	dst = appendString(dst, rec.Audience)
	dst = appendTime(dst, id.AuthenticatedAt)
	dst = appendTime(dst, rec.LastSeenAt)
	dst = appendToken(dst, id.AccessToken)
	dst = appendToken(dst, id.RefreshToken)

	for _, s := range [...]string{
		id.UserID, id.Email, id.FirstName, id.LastName, id.FullName,
		id.Picture, id.Role, id.OrganizationID, id.Language,
	} {
		dst = appendString(dst, s)
	}

	dst = appendBool(dst, id.SSOUser)

	dst = binary.AppendUvarint(dst, uint64(len(id.PlatformRoles)))
	for _, role := range id.PlatformRoles {
		dst = appendString(dst, role.ID)
		dst = appendString(dst, role.Name)
		dst = appendString(dst, role.Description)
		dst = binary.AppendUvarint(dst, uint64(len(role.Actions)))
		for _, action := range role.Actions {
			dst = appendString(dst, action)
		}
	}

	dst = binary.AppendUvarint(dst, uint64(len(id.Organizations)))
	for _, org := range id.Organizations {
		dst = appendString(dst, org.ID)
		dst = appendString(dst, org.Name)
		dst = appendString(dst, org.Slug)
		dst = appendString(dst, org.Picture)
	}

	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s))) //nolint:gosec // G115: a length is never negative

	return append(dst, s...)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())

	return binary.AppendUvarint(dst, uint64(t.Nanosecond())) //nolint:gosec // G115: nanoseconds are within [0, 1e9)
}

func appendToken(dst []byte, t Token) []byte {
	dst = appendString(dst, t.Value)

	return appendTime(dst, t.ExpiresAt)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}

	return append(dst, 0)
}

// decodeRecord decodes a record written by encodeRecord. Every string of the
// result shares one allocation with the others.
func decodeRecord(raw []byte) (*sessionRecord, error) {
	if len(raw) == 0 || raw[0] != recordVersion1 {
		return nil, fmt.Errorf("%w: unknown version", errRecordCorrupt)
	}

	d := recordDecoder{data: string(raw[1:])}
	rec := &sessionRecord{}
	rec.Identity = &rec.decoded
	id := rec.Identity

	rec.Audience = d.string()
	id.AuthenticatedAt = d.time()
	rec.LastSeenAt = d.time()
	id.AccessToken = d.token()
	id.RefreshToken = d.token()

	for _, field := range [...]*string{
		&id.UserID, &id.Email, &id.FirstName, &id.LastName, &id.FullName,
		&id.Picture, &id.Role, &id.OrganizationID, &id.Language,
	} {
		*field = d.string()
	}

	id.SSOUser = d.bool()
	id.PlatformRoles = d.platformRoles()
	id.Organizations = d.organizations()

	if d.err != nil {
		return nil, d.err
	}

	if len(d.data) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last field", errRecordCorrupt, len(d.data))
	}

	return rec, nil
}

// recordDecoder reads a record from data and remembers the first error, after
// which every read returns a zero value.
type recordDecoder struct {
	data string
	err  error
}

func (d *recordDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated or invalid %s", errRecordCorrupt, what)
	}

	d.data = ""
}

func (d *recordDecoder) uvarint(what string) uint64 {
	v, n := uvarintString(d.data)
	if n <= 0 {
		d.fail(what)
		return 0
	}

	d.data = d.data[n:]

	return v
}

// count reads a list's length and checks it against the bytes left, because
// every item takes at least minItemBytes. A corrupt count therefore cannot
// allocate a huge slice.
func (d *recordDecoder) count(what string, minItemBytes int) int {
	n := d.uvarint(what)
	if n > uint64(len(d.data)/minItemBytes) { //nolint:gosec // G115: a length is never negative
		d.fail(what)
		return 0
	}

	return int(n) //nolint:gosec // G115: n is at most len(d.data), checked above
}

func (d *recordDecoder) string() string {
	n := d.uvarint("string length")
	if n > uint64(len(d.data)) {
		d.fail("string")
		return ""
	}

	s := d.data[:n]
	d.data = d.data[n:]

	return s
}

func (d *recordDecoder) time() time.Time {
	sec := d.varint("time")
	nsec := d.uvarint("time")

	if nsec >= uint64(time.Second) {
		d.fail("time")
		return time.Time{}
	}

	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *recordDecoder) varint(what string) int64 {
	u := d.uvarint(what)

	// Undo the zig-zag encoding of binary.AppendVarint.
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}

	return v
}

func (d *recordDecoder) token() Token {
	value := d.string()

	return Token{Value: value, ExpiresAt: d.time()}
}

func (d *recordDecoder) bool() bool {
	if len(d.data) == 0 || d.data[0] > 1 {
		d.fail("bool")
		return false
	}

	b := d.data[0] == 1
	d.data = d.data[1:]

	return b
}

func (d *recordDecoder) platformRoles() []PlatformRole {
	// An item is at least four empty fields of one byte each.
	n := d.count("platform role count", 4)
	if n == 0 {
		return nil
	}

	roles := make([]PlatformRole, n)
	for i := range roles {
		roles[i].ID = d.string()
		roles[i].Name = d.string()
		roles[i].Description = d.string()
		roles[i].Actions = d.strings()
	}

	return roles
}

func (d *recordDecoder) strings() []string {
	n := d.count("action count", 1)
	if n == 0 {
		return nil
	}

	list := make([]string, n)
	for i := range list {
		list[i] = d.string()
	}

	return list
}

func (d *recordDecoder) organizations() []Organization {
	n := d.count("organization count", 4)
	if n == 0 {
		return nil
	}

	orgs := make([]Organization, n)
	for i := range orgs {
		orgs[i] = Organization{ID: d.string(), Name: d.string(), Slug: d.string(), Picture: d.string()}
	}

	return orgs
}

// uvarintString is binary.Uvarint for a string, which spares converting the
// record's remaining bytes back to a slice.
func uvarintString(s string) (uint64, int) {
	var x uint64
	var shift uint

	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -1
			}

			return x | uint64(b)<<shift, i + 1
		}

		x |= uint64(b&0x7f) << shift
		shift += 7
	}

	return 0, 0
}
