package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Errors of ParseClusterProperty and ValidateClusterProperty, wrapped with
// detail; test with errors.Is. The admin API answers all three with 400.
var (
	// ErrUnknownProperty: no cluster property has this name.
	ErrUnknownProperty = errors.New("unknown cluster property")
	// ErrWrongType: the value is not of the property's type (a string for an
	// integer, a list, null where null is not allowed).
	ErrWrongType = errors.New("wrong type")
	// ErrInvalidValue: the type is right but the value is out of range or not
	// one of the allowed values.
	ErrInvalidValue = errors.New("invalid value")
)

// PropertyType is the type of a cluster property's value.
type PropertyType int

const (
	TypeBool       PropertyType = iota + 1 // true or false
	TypeInt                                // a plain count
	TypeDurationMs                         // integer milliseconds
	TypeBytes                              // integer bytes
	TypeString                             // free text
	TypeEnum                               // one of ClusterProperty.Enum
)

func (t PropertyType) String() string {
	switch t {
	case TypeBool:
		return "bool"
	case TypeInt:
		return "integer"
	case TypeDurationMs:
		return "duration_ms"
	case TypeBytes:
		return "bytes"
	case TypeString:
		return "string"
	case TypeEnum:
		return "enum"
	}
	return fmt.Sprintf("PropertyType(%d)", int(t))
}

// ClusterProperty describes one cluster property. The table is fixed at build
// time; read it with ClusterProperties or LookupClusterProperty.
type ClusterProperty struct {
	Name string
	Type PropertyType
	// Default is the value when none was set: bool, int64 (TypeInt, TypeBytes,
	// TypeDurationMs) or string (TypeString, TypeEnum); nil for a null default.
	Default any
	// Nullable: null is a valid value; Description says what it means.
	Nullable bool
	// Enum lists the accepted values of a TypeEnum property.
	Enum []string
	// Aliases maps other accepted spellings of an enum value to the value.
	Aliases map[string]string
	// Description is shown by the admin API's schema and the CLI; it gives
	// units and the meaning of sentinel values.
	Description string
	// Check validates a value already converted to the property's Go type (see
	// Default); it returns an error wrapping ErrInvalidValue. nil: any value of
	// the type is fine.
	Check func(v any) error
}

// ValidateClusterProperty reports whether value is acceptable for the cluster
// property name. value may come from YAML (int, bool, string, nil) or JSON
// (float64, json.Number, bool, string, nil); numbers and booleans given as
// strings ("100", "true") are accepted, as Redpanda does. The error wraps
// ErrUnknownProperty, ErrWrongType or ErrInvalidValue and does not repeat the
// name.
func ValidateClusterProperty(name string, value any) error {
	_, err := ParseClusterProperty(name, value)
	return err
}

// ParseClusterProperty validates value like ValidateClusterProperty and returns
// it in canonical form: bool, int64, string or nil (null), with enum aliases
// replaced ("delete,compact" becomes "compact,delete").
func ParseClusterProperty(name string, value any) (any, error) {
	p, ok := LookupClusterProperty(name)
	if !ok {
		if s := suggest(name, clusterPropNames()); s != "" {
			return nil, fmt.Errorf("%w %q (did you mean %q?)", ErrUnknownProperty, name, s)
		}
		return nil, fmt.Errorf("%w %q", ErrUnknownProperty, name)
	}
	if value == nil {
		if p.Nullable {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: null is not allowed, want %s", ErrWrongType, p.Type)
	}
	v, err := p.convert(value)
	if err != nil {
		return nil, err
	}
	if p.Check != nil {
		if err := p.Check(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// convert turns value into the property's Go type, or says why it cannot.
func (p ClusterProperty) convert(value any) (any, error) {
	switch p.Type {
	case TypeBool:
		if b, ok := toBool(value); ok {
			return b, nil
		}
	case TypeInt, TypeDurationMs, TypeBytes:
		if n, ok := toInt64(value); ok {
			return n, nil
		}
	case TypeString:
		if s, ok := value.(string); ok {
			return s, nil
		}
	case TypeEnum:
		return p.enumValue(value)
	}
	return nil, fmt.Errorf("%w: want %s, got %s", ErrWrongType, p.wantType(), describeValue(value))
}

func (p ClusterProperty) wantType() string {
	switch p.Type {
	case TypeDurationMs:
		return "an integer number of milliseconds"
	case TypeBytes:
		return "an integer number of bytes"
	case TypeInt:
		return "an integer"
	}
	return p.Type.String()
}

func (p ClusterProperty) enumValue(value any) (any, error) {
	var s string
	switch v := value.(type) {
	case string:
		s = v
	case bool: // YAML reads `write_caching_default: true` as a bool.
		s = strconv.FormatBool(v)
	default:
		return nil, fmt.Errorf("%w: want one of %s, got %s", ErrWrongType, strings.Join(p.Enum, ", "), describeValue(value))
	}
	// "compact, delete" and "compact,delete" are the same policy.
	s = strings.Join(splitList(s), ",")
	if canon, ok := p.Aliases[s]; ok {
		s = canon
	}
	for _, e := range p.Enum {
		if s == e {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%w: %q is not one of %s", ErrInvalidValue, s, strings.Join(p.Enum, ", "))
}

func toBool(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

func toInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), true
		}
	case float64: // JSON numbers
		if v == math.Trunc(v) && v >= math.MinInt64 && v < math.MaxInt64 {
			return int64(v), true
		}
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// describeValue names a value's type and shows it, for "got ..." messages.
func describeValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("string %q", v)
	case bool:
		return fmt.Sprintf("bool %v", v)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("%v", v)
}

// atLeast accepts integers >= min.
func atLeast(min int64) func(any) error {
	return func(v any) error {
		if n := v.(int64); n < min {
			return fmt.Errorf("%w: %d is less than the minimum %d", ErrInvalidValue, n, min)
		}
		return nil
	}
}

// between accepts integers in [min, max].
func between(min, max int64) func(any) error {
	return func(v any) error {
		if n := v.(int64); n < min || n > max {
			return fmt.Errorf("%w: %d is out of range %d-%d", ErrInvalidValue, n, min, max)
		}
		return nil
	}
}

// oddBetween accepts odd integers in [min, max].
func oddBetween(min, max int64) func(any) error {
	inRange := between(min, max)
	return func(v any) error {
		if err := inRange(v); err != nil {
			return err
		}
		if v.(int64)%2 == 0 {
			return fmt.Errorf("%w: %d is even, want an odd number", ErrInvalidValue, v)
		}
		return nil
	}
}

// ClusterValueText is how a canonical cluster property value (from
// ParseClusterProperty, or a Default) is stored in the cluster config the
// controller replicates: "true"/"false", a decimal integer, the string, or
// "null". The agent (initial values), the admin API (PUT) and the shards
// (defaults in DescribeConfigs) all write this one form.
func ClusterValueText(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return v
	}
	return fmt.Sprint(v)
}
