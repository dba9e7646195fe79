package metadata

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
)

// UUID is a Kafka UUID: topic IDs and the cluster ID. Its text form is Kafka's:
// 22 characters of unpadded base64url, e.g. "x3kdRr0kTCa6hJ1dDKiaAg". The zero
// UUID means "no id" on the wire, so NewUUID never returns it.
type UUID [16]byte

// ZeroUUID is the all-zero UUID, Kafka's "no topic id".
var ZeroUUID UUID

// NewUUID returns a random version-4 UUID read from r (crypto/rand.Reader when
// r is nil). Like Kafka's Uuid.randomUuid it never returns the zero UUID nor one
// whose text starts with '-', which command lines would take for a flag.
func NewUUID(r io.Reader) (UUID, error) {
	if r == nil {
		r = rand.Reader
	}
	for {
		var u UUID
		if _, err := io.ReadFull(r, u[:]); err != nil {
			return ZeroUUID, fmt.Errorf("read random uuid: %w", err)
		}
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
		if u.IsZero() || u.String()[0] == '-' {
			continue
		}
		return u, nil
	}
}

// IsZero reports whether u is the zero UUID.
func (u UUID) IsZero() bool { return u == ZeroUUID }

// String returns Kafka's text form: unpadded base64url.
func (u UUID) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// MarshalText encodes u as String does, so JSON carries readable ids.
func (u UUID) MarshalText() ([]byte, error) { return []byte(u.String()), nil }

// UnmarshalText parses Kafka's text form.
func (u *UUID) UnmarshalText(b []byte) error {
	parsed, err := ParseUUID(string(b))
	if err != nil {
		return err
	}
	*u = parsed
	return nil
}

// ParseUUID parses Kafka's text form (22 characters of unpadded base64url).
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if base64.RawURLEncoding.DecodedLen(len(s)) != len(u) {
		return ZeroUUID, fmt.Errorf("%w: %q has %d characters, want 22", ErrInvalidUUID, s, len(s))
	}
	n, err := base64.RawURLEncoding.Decode(u[:], []byte(s))
	if err != nil || n != len(u) {
		return ZeroUUID, fmt.Errorf("%w: %q", ErrInvalidUUID, s)
	}
	return u, nil
}
