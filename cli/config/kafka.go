package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// ErrUnreachable is returned by Connect when no broker answers in time.
var ErrUnreachable = errors.New("cannot reach Kafka")

// TLSConfig builds the client TLS config, nil when TLS is off.
func (c *Config) TLSConfig() (*tls.Config, error) {
	if !c.TLS.Enabled {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLS.InsecureSkipVerify}
	if c.TLS.CA != "" {
		pem, err := os.ReadFile(c.TLS.CA)
		if err != nil {
			return nil, fmt.Errorf("reading tls.ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca %s holds no PEM certificate", c.TLS.CA)
		}
		tc.RootCAs = pool
	}
	if c.TLS.Cert != "" || c.TLS.Key != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.Cert, c.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("loading tls.cert/tls.key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// KgoOpts returns the client options for the brokers, SASL and TLS.
func (c *Config) KgoOpts() ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.DialTimeout(c.Timeout),
		kgo.RequestTimeoutOverhead(c.Timeout),
		kgo.RetryTimeout(c.Timeout),
	}
	tc, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	if tc != nil {
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if c.User != "" {
		switch strings.ToUpper(c.SASLMechanism) {
		case "", "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: c.User, Pass: c.Pass}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.User, Pass: c.Pass}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: c.User, Pass: c.Pass}.AsSha512Mechanism()))
		default:
			return nil, fmt.Errorf("unknown sasl.mechanism %q: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASLMechanism)
		}
	}
	return opts, nil
}

// Connect builds a client with extra options and checks, within the
// timeout, that a broker answers. The caller closes the client.
func (c *Config) Connect(ctx context.Context, extra ...kgo.Opt) (*kgo.Client, *kadm.Client, error) {
	opts, err := c.KgoOpts()
	if err != nil {
		return nil, nil, err
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		cl.Close()
		return nil, nil, c.Unreachable(err)
	}
	return cl, kadm.NewClient(cl), nil
}

// Unreachable explains a failure to reach the brokers.
func (c *Config) Unreachable(cause error) error {
	return fmt.Errorf("%w at %s within %s (%v): check that the node is running (`ailurus start`) "+
		"and that --brokers, -X brokers=... or %s points at its Kafka listener",
		ErrUnreachable, strings.Join(c.Brokers, ","), c.Timeout, cause, EnvBrokers)
}

// HTTPClient is the admin API client, with the timeout and TLS applied.
func (c *Config) HTTPClient() (*http.Client, error) {
	tc, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	return &http.Client{Timeout: c.Timeout, Transport: tr}, nil
}
