package metadata

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateTopicName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"orders", true},
		{"a", true},
		{"Orders.v2_eu-west-1", true},
		{"...", true}, // only "." and ".." are reserved
		{"__consumer_offsets", true},
		{"-leading-dash", true},
		{strings.Repeat("x", 249), true},
		{"", false},
		{".", false},
		{"..", false},
		{strings.Repeat("x", 250), false},
		{"has space", false},
		{"slash/inside", false},
		{"colon:inside", false},
		{"plus+", false},
		{"é", false},
		{"tab\t", false},
		{"nul\x00", false},
	}
	for _, tc := range tests {
		err := ValidateTopicName(tc.name)
		if tc.ok && err != nil {
			t.Errorf("ValidateTopicName(%q) = %v, want nil", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrInvalidTopicName) {
			t.Errorf("ValidateTopicName(%q) = %v, want ErrInvalidTopicName", tc.name, err)
		}
	}
}

func TestCollidingTopic(t *testing.T) {
	s := NewState().WithTopic(&Topic{Name: "metrics.cpu", ID: UUID{1}})
	if other, ok := s.CollidingTopic("metrics_cpu"); !ok || other != "metrics.cpu" {
		t.Errorf("CollidingTopic(metrics_cpu) = %q, %v; want metrics.cpu, true", other, ok)
	}
	if _, ok := s.CollidingTopic("metrics.cpu"); ok {
		t.Error("an exact name match is reported as a collision")
	}
	if _, ok := s.CollidingTopic("metrics-cpu"); ok {
		t.Error("'-' is reported as colliding with '.'")
	}
}
