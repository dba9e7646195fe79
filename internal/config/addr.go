package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// hostProblem says why host is neither an IP address nor a plausible DNS name,
// or returns "" when it is usable. It does not resolve names: a node may start
// before DNS knows its peers.
func hostProblem(host string) string {
	switch {
	case host == "":
		return "address is empty (use 0.0.0.0 to listen on every interface)"
	case strings.Contains(host, ":") && !isIP(host):
		// "0.0.0.0:9092" or "[::1]": the port goes in its own key.
		return fmt.Sprintf("address %q is not an IP address or host name (put the port in port; write IPv6 addresses without brackets)", host)
	case isIP(host):
		return ""
	}
	if len(host) > 253 {
		return fmt.Sprintf("host name %q is longer than 253 characters", host)
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	for _, l := range labels {
		if !validLabel(l) {
			return fmt.Sprintf("address %q is not an IP address or host name", host)
		}
	}
	// An all-numeric last label is a mistyped IPv4 address (10.0.0.256), not a
	// top-level domain.
	if _, err := strconv.Atoi(labels[len(labels)-1]); err == nil {
		return fmt.Sprintf("address %q is not a valid IP address", host)
	}
	return ""
}

// validLabel accepts one DNS label: 1-63 letters, digits, '-' or '_', not
// starting or ending with '-'. Underscores are not RFC 1123 but appear in real
// internal names; accepting them costs nothing.
func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, r := range l {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
		if !ok {
			return false
		}
	}
	return true
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// isUnspecified reports whether host is 0.0.0.0 or :: (every interface).
func isUnspecified(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsUnspecified()
}

// portProblem says why port is out of range, or returns "". bind allows 0
// (any free port); an address others dial needs a real port.
func portProblem(port int, bind bool) string {
	min := 1
	if bind {
		min = 0
	}
	if port < min || port > 65535 {
		return fmt.Sprintf("port %d is out of range %d-65535", port, min)
	}
	return ""
}

// parseHostPort parses "host:port", "[v6]:port", or a bare host (which gets
// defPort). Range and host checks are left to Validate, so that a bad value
// reads the same whichever layer set it.
func parseHostPort(s string, defPort int) (Address, error) {
	s = strings.TrimSpace(s)
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		var ae *net.AddrError
		if !errors.As(err, &ae) || ae.Err != "missing port in address" {
			return Address{}, fmt.Errorf("%q is not host:port", s)
		}
		host, portStr = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), ""
	}
	port := defPort
	if portStr != "" {
		if port, err = strconv.Atoi(portStr); err != nil {
			return Address{}, fmt.Errorf("port %q in %q is not a number", portStr, s)
		}
	}
	return Address{Address: host, Port: port}, nil
}

// parseListeners parses a comma-separated list of "[name://]host[:port]", the
// form rpk uses for --kafka-addr. An empty string gives an empty list.
func parseListeners(s string, defPort int) ([]Listener, error) {
	var out []Listener
	for _, item := range splitList(s) {
		var name string
		if i := strings.Index(item, "://"); i >= 0 {
			name, item = item[:i], item[i+3:]
		}
		a, err := parseHostPort(item, defPort)
		if err != nil {
			return nil, err
		}
		out = append(out, Listener{Name: name, Address: a.Address, Port: a.Port})
	}
	return out, nil
}

// parseSeeds parses a comma-separated list of "host[:port]" (port 33145 if
// left out).
func parseSeeds(s string) ([]SeedServer, error) {
	var out []SeedServer
	for _, item := range splitList(s) {
		a, err := parseHostPort(item, RPCPort)
		if err != nil {
			return nil, err
		}
		out = append(out, SeedServer{Host: a})
	}
	return out, nil
}

// splitList splits on commas, trims spaces and drops empty items.
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
