package bus

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ailurus/ailurus/internal/testkit"
)

func TestServerListensOnLoopbackOnly(t *testing.T) {
	s := runServer(t)

	addr := s.Addr()
	if !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("listen address %s, want 127.0.0.1", addr)
	}
	if addr.Port <= 0 {
		t.Fatalf("listen port %d", addr.Port)
	}
	if want := "nats://127.0.0.1:" + strconv.Itoa(addr.Port); s.URL() != want {
		t.Fatalf("URL %q, want %q", s.URL(), want)
	}
	if s.ns.MonitorAddr() != nil {
		t.Fatalf("monitoring port open at %s", s.ns.MonitorAddr())
	}
	if s.ns.ClusterAddr() != nil {
		t.Fatalf("cluster port open at %s", s.ns.ClusterAddr())
	}

	// Every non-loopback address of this host must refuse the port.
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatalf("interface addrs: %v", err)
	}
	tried := 0
	for _, a := range ifaddrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.IsLoopback() || ipnet.IP.IsLinkLocalUnicast() {
			continue
		}
		tried++
		target := net.JoinHostPort(ipnet.IP.String(), strconv.Itoa(addr.Port))
		conn, err := net.DialTimeout("tcp", target, time.Second)
		if err == nil {
			conn.Close()
			t.Fatalf("bus reachable on non-loopback address %s", target)
		}
	}
	if tried == 0 {
		t.Log("no non-loopback address on this host; only the listen address was checked")
	}
}

func TestServerRefusesNonLoopbackHost(t *testing.T) {
	for _, host := range []string{"0.0.0.0", "::", "localhost", "192.0.2.1", "not an ip"} {
		_, err := StartServer(t.Context(), ServerOptions{Host: host})
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("host %q: err %v, want ErrNotLoopback", host, err)
		}
	}
}

func TestServerOtherLoopbackHost(t *testing.T) {
	// Cluster tests put each node on its own 127.0.0.x.
	s, err := StartServer(t.Context(), ServerOptions{Host: "127.0.0.2"})
	if err != nil {
		t.Skipf("127.0.0.2 not usable here: %v", err)
	}
	defer s.Shutdown()
	if !s.Addr().IP.Equal(net.IPv4(127, 0, 0, 2)) {
		t.Fatalf("listen address %s, want 127.0.0.2", s.Addr())
	}
	c, err := Connect(s.URL(), s.Token(), "t", nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	c.Close()
}

func TestServerTokenIsRandom(t *testing.T) {
	a, b := runServer(t), runServer(t)
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	for _, tok := range []string{a.Token(), b.Token()} {
		if !hex64.MatchString(tok) {
			t.Fatalf("token %q is not 32 bytes of hex", tok)
		}
	}
	if a.Token() == b.Token() {
		t.Fatal("two servers share a token")
	}
	if a.URL() == b.URL() {
		t.Fatal("two servers share a port")
	}
}

func TestServerRefusesWrongToken(t *testing.T) {
	s := runServer(t)
	for name, tok := range map[string]string{
		"wrong": s.Token()[:63] + "x",
		"empty": "",
		"other": "0000000000000000000000000000000000000000000000000000000000000000",
	} {
		c, err := Connect(s.URL(), tok, "intruder-"+name, nil)
		if err == nil {
			c.Close()
			t.Fatalf("%s token: connected", name)
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("%s token: err %v, want authorization violation", name, err)
		}
	}
	if n := s.NumClients(); n != 0 {
		t.Fatalf("%d clients connected after refusals", n)
	}
}

func TestServerShutdownClosesClients(t *testing.T) {
	s := runServer(t)
	disconnected := make(chan error, 1)
	c, err := ConnectWith(ConnOptions{
		URL: s.URL(), Token: s.Token(), Name: "child",
		Logger:        testLogger(t),
		GiveUpAfter:   200 * time.Millisecond,
		ReconnectWait: 20 * time.Millisecond,
		OnDisconnect: func(err error) {
			select {
			case disconnected <- err:
			default:
			}
		},
	})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close()
	testkit.CheckFor(t, 5*time.Second, func() error {
		if s.NumClients() != 1 {
			return errors.New("client not registered")
		}
		return nil
	})

	s.Shutdown()
	s.Shutdown() // idempotent

	waitClosed(t, c.Closed(), 5*time.Second, "conn after server shutdown")
	if !errors.Is(c.Err(), ErrBusLost) {
		t.Fatalf("Err() = %v, want ErrBusLost", c.Err())
	}
	select {
	case <-disconnected:
	default:
		t.Fatal("OnDisconnect not called")
	}
	if err := Publish(c, SubjSegmentClosed, SegmentClosed{}); err == nil {
		t.Fatal("publish on a lost bus succeeded")
	}
}

func TestConnCloseFiresClosed(t *testing.T) {
	s := runServer(t)
	c, err := Connect(s.URL(), s.Token(), "child", nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	select {
	case <-c.Closed():
		t.Fatal("closed before Close")
	default:
	}
	c.Close()
	waitClosed(t, c.Closed(), time.Second, "conn after Close")
	if c.Err() != nil {
		t.Fatalf("Err() after Close = %v, want nil", c.Err())
	}
	c.Close() // idempotent
}

func TestConnectFailsWithoutServer(t *testing.T) {
	s := runServer(t)
	url, tok := s.URL(), s.Token()
	s.Shutdown()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		c, err := Connect(url, tok, "late", nil)
		if c != nil {
			c.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("connected to a stopped server")
		}
	case <-ctx.Done():
		t.Fatal("Connect hung on a stopped server")
	}
}
