package metadata

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestUUIDText(t *testing.T) {
	for range 100 {
		u, err := NewUUID(nil)
		if err != nil {
			t.Fatal(err)
		}
		if u.IsZero() || len(u.String()) != 22 || u.String()[0] == '-' {
			t.Fatalf("NewUUID gave %q", u)
		}
		b, _ := json.Marshal(u)
		var back UUID
		if err := json.Unmarshal(b, &back); err != nil || back != u {
			t.Fatalf("json round trip of %s: %s, %v", u, back, err)
		}
	}
	if _, err := ParseUUID("short"); !errors.Is(err, ErrInvalidUUID) {
		t.Errorf("ParseUUID(short) = %v, want ErrInvalidUUID", err)
	}
}

func TestNewUUIDVersionAndNoLeadingDash(t *testing.T) {
	// The first 16 bytes start with 0xf8: base64url '-' first. NewUUID must
	// discard them and use the next 16 (all zero, non-zero once versioned).
	src := append(append([]byte{0xf8}, make([]byte, 15)...), make([]byte, 16)...)
	u, err := NewUUID(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if u[0] != 0 || u.IsZero() || u[6]>>4 != 4 || u[8]>>6 != 2 {
		t.Errorf("NewUUID = %x (%s)", u[:], u)
	}
}
