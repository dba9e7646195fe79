package topic

import (
	"errors"
	"testing"
	"time"
)

func TestParseOffset(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	nowMs := now.UnixMilli()
	day := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC).UnixMilli()
	cases := []struct {
		in   string
		want offsetSpec
	}{
		{"start", offsetSpec{from: bound{kind: boundStart}}},
		{"oldest", offsetSpec{from: bound{kind: boundStart}}},
		{"end", offsetSpec{from: bound{kind: boundEnd}}},
		{"+10", offsetSpec{from: bound{boundAfterStart, 10}}},
		{"-10", offsetSpec{from: bound{boundBeforeEnd, 10}}},
		{"42", offsetSpec{from: bound{boundExact, 42}}},
		{"42:", offsetSpec{from: bound{boundExact, 42}}},
		{":42", offsetSpec{from: bound{kind: boundStart}, until: bound{boundExact, 42}}},
		{"5:42", offsetSpec{from: bound{boundExact, 5}, until: bound{boundExact, 42}}},
		{":end", offsetSpec{from: bound{kind: boundStart}, until: bound{kind: boundEnd}}},
		{"7:end", offsetSpec{from: bound{boundExact, 7}, until: bound{kind: boundEnd}}},
		{"@1700000000000", offsetSpec{from: bound{boundTime, 1700000000000}}},
		{"@1700000000", offsetSpec{from: bound{boundTime, 1700000000000}}},
		{"@2024-05-06", offsetSpec{from: bound{boundTime, day}}},
		{"@2024-05-06T00:00:00Z", offsetSpec{from: bound{boundTime, day}}},
		{"@2024-05-06T00:00:00Z:2024-05-06T01:00:00Z", offsetSpec{from: bound{boundTime, day}, until: bound{boundTime, day + 3600000}}},
		{"@-1h", offsetSpec{from: bound{boundTime, nowMs - 3600000}}},
		{"@-2h:-1h", offsetSpec{from: bound{boundTime, nowMs - 7200000}, until: bound{boundTime, nowMs - 3600000}}},
		{"@1000:2000", offsetSpec{from: bound{boundTime, 1000000}, until: bound{boundTime, 2000000}}},
		{"@2024-05-06:+1h", offsetSpec{from: bound{boundTime, day}, until: bound{boundTime, day + 3600000}}},
		{"@:1700000000000", offsetSpec{from: bound{kind: boundStart}, until: bound{boundTime, 1700000000000}}},
		{"@-1h:end", offsetSpec{from: bound{boundTime, nowMs - 3600000}, until: bound{kind: boundEnd}}},
	}
	for _, tc := range cases {
		got, err := parseOffset(tc.in, now)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseOffsetBad(t *testing.T) {
	for _, in := range []string{"", "begin", "+", "-x", "+-3", "1.5", "5:2", ":", "a:b", "3:x", "@", "@yesterday", "@:", "@-1x", "@2000:1000", "@5:+nope"} {
		if _, err := parseOffset(in, time.Now()); !errors.Is(err, ErrBadOffset) {
			t.Errorf("%q: got %v, want ErrBadOffset", in, err)
		}
	}
}

func TestResolve(t *testing.T) {
	p := partitionOffsets{start: 10, end: 100, fromTime: 50, untilTime: -1}
	cases := []struct {
		spec        string
		from, until int64
		ok          bool
	}{
		{"start", 10, -1, true},
		{"end", 100, -1, true},
		{"+5", 15, -1, true},
		{"+500", 100, -1, true},
		{"-5", 95, -1, true},
		{"-500", 10, -1, true},
		{"3", 10, -1, true},
		{"500", 100, -1, true},
		{"20:30", 20, 30, true},
		{":end", 10, 100, true},
		{"100:end", 100, 100, false},
		{"@1000", 50, -1, true},
		{"@1000:2000", 50, 100, true},
	}
	for _, tc := range cases {
		spec, err := parseOffset(tc.spec, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		from, until, ok := spec.resolve(p)
		if from != tc.from || until != tc.until || ok != tc.ok {
			t.Errorf("%q: got [%d,%d) %v, want [%d,%d) %v", tc.spec, from, until, ok, tc.from, tc.until, tc.ok)
		}
	}
}
