// Package proxytest is an outbound proxy for tests: it tunnels CONNECT
// requests and forwards absolute-form HTTP requests, like the proxies
// operators run, to where a test says each host lives, and records every
// request it was asked to carry.
package proxytest

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"time"
)

// Options configure a Server.
type Options struct {
	// Hosts maps a target "host:port" to the address that serves it, so a
	// test can use public-looking names for loopback listeners; a target
	// not in the map is refused with 502, never dialled.
	Hosts map[string]string
	// User and Password, when User is set, must come in a Basic
	// Proxy-Authorization header; otherwise the answer is 407.
	User, Password string
}

// Request is one request the proxy was asked to carry.
type Request struct {
	// Method is CONNECT for a tunnel, else the forwarded request's method.
	Method string
	// Target is "host:port" for a tunnel, else the absolute URL.
	Target string
	// Forwarded says the proxy carried it (authorised and mapped).
	Forwarded bool
}

// Server is a running proxy.
type Server struct {
	opts Options
	srv  *httptest.Server
	tr   *http.Transport

	mu   sync.Mutex
	reqs []Request
}

// New starts a proxy on a loopback port.
func New(o Options) *Server {
	s := &Server{opts: o}
	s.tr = &http.Transport{DialContext: s.dial, Proxy: nil, DisableCompression: true}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the proxy's URL, without credentials.
func (s *Server) URL() string { return s.srv.URL }

// URLWithCredentials is the proxy's URL carrying user and password.
func (s *Server) URLWithCredentials(user, password string) string {
	u, _ := url.Parse(s.srv.URL)
	u.User = url.UserPassword(user, password)
	return u.String()
}

// Requests returns what the proxy was asked to carry, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// Close stops the proxy and its tunnels.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.tr.CloseIdleConnections()
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.mu.Unlock()
}

// dial connects to where the test said a target lives.
func (s *Server) dial(ctx context.Context, network, target string) (net.Conn, error) {
	addr, ok := s.opts.Hosts[target]
	if !ok {
		return nil, &net.AddrError{Err: "host not mapped by the test", Addr: target}
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return d.DialContext(ctx, network, addr)
}

func (s *Server) authorised(r *http.Request) bool {
	if s.opts.User == "" {
		return true
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.opts.User+":"+s.opts.Password))
	return r.Header.Get("Proxy-Authorization") == want
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Host
	if r.Method != http.MethodConnect {
		target = r.URL.String()
	}
	req := Request{Method: r.Method, Target: target}
	switch {
	case !s.authorised(r):
		// 407 with a Proxy-Authenticate challenge: RFC 9110, 15.5.8.
		s.record(req)
		w.Header().Set("Proxy-Authenticate", `Basic realm="proxytest"`)
		http.Error(w, "proxy authentication required", http.StatusProxyAuthRequired)
	case r.Method == http.MethodConnect:
		s.tunnel(w, r, req)
	case !r.URL.IsAbs():
		s.record(req)
		http.Error(w, "a proxy takes absolute URLs", http.StatusBadRequest)
	default:
		s.forward(w, r, req)
	}
}

func (s *Server) tunnel(w http.ResponseWriter, r *http.Request, req Request) {
	up, err := s.dial(r.Context(), "tcp", r.Host)
	if err != nil {
		s.record(req)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Forwarded = true
	s.record(req)
	conn, rw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		up.Close()
		return
	}
	rw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n")
	rw.Flush()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, rw); done <- struct{}{} }()
	go func() { io.Copy(conn, up); done <- struct{}{} }()
	<-done
	conn.Close()
	up.Close()
	<-done
}

func (s *Server) forward(w http.ResponseWriter, r *http.Request, req Request) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	out.Header.Del("Proxy-Connection")
	resp, err := s.tr.RoundTrip(out)
	if err != nil {
		s.record(req)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	req.Forwarded = true
	s.record(req)
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}
