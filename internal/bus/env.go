package bus

import "fmt"

// Environment variables through which the agent hands the bus to a child. The
// token is a secret: a child should read it once at start (FromEnv) and not
// pass its environment on.
const (
	EnvURL   = "AILURUS_BUS_URL"
	EnvToken = "AILURUS_BUS_TOKEN"
)

// EnvFor returns the KEY=value pairs to append to a child's environment
// (exec.Cmd.Env). Called by the agent when it starts a child.
func EnvFor(url, token string) []string {
	return []string{EnvURL + "=" + url, EnvToken + "=" + token}
}

// FromEnv reads what EnvFor wrote. Pass os.Getenv; tests pass a map lookup.
func FromEnv(getenv func(string) string) (url, token string, err error) {
	url, token = getenv(EnvURL), getenv(EnvToken)
	switch {
	case url == "":
		return "", "", fmt.Errorf("%w: %s is empty", ErrNoEnv, EnvURL)
	case token == "":
		return "", "", fmt.Errorf("%w: %s is empty", ErrNoEnv, EnvToken)
	}
	return url, token, nil
}
