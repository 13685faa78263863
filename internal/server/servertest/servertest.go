package servertest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/musterhq/muster/internal/server"
)

// Env is a server built from Cfg, served by TS. Start builds and starts it
// (and stops it at the test's end), Stop stops it, Restart starts a new one
// on the same configuration and data directory.
type Env struct {
	T   testing.TB
	Cfg server.Config
	// Log receives the server's logs (discarded when nil).
	Log *slog.Logger
	Srv *server.Server
	TS  *httptest.Server

	stopBg func()
}

// Start builds the server from e.Cfg, starts its background work and
// serves it on a loopback listener until Stop or the end of the test.
func (e *Env) Start() {
	e.T.Helper()
	log := e.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	srv, err := server.New(context.Background(), e.Cfg, log)
	if err != nil {
		e.T.Fatal(err)
	}
	e.Srv, e.stopBg, e.TS = srv, srv.StartBackground(), httptest.NewServer(srv.Handler())
	e.T.Cleanup(e.Stop)
}

// Stop stops the server; stopping a stopped one does nothing.
func (e *Env) Stop() {
	if e.TS != nil {
		e.TS.Close()
		e.stopBg()
		e.Srv.Close()
		e.TS = nil
	}
}

// Restart stops the server and starts a new one on the same data directory.
func (e *Env) Restart() {
	e.Stop()
	e.Start()
}

// Do sends a request to the server with authz as its Authorization header
// (none when empty), body as JSON (none when empty) and header's members,
// and returns the answer; t fails if it cannot be sent.
func (e *Env) Do(t testing.TB, method, path, authz, body string, header map[string]string) Response {
	t.Helper()
	return Send(t, e.TS.Client(), e.TS.URL+path, method, authz, body, header)
}

// Send is Do for a server at any url, through hc (http.DefaultClient when
// nil): tests that run a server themselves send their requests with it.
func Send(t testing.TB, hc *http.Client, url, method, authz, body string, header map[string]string) Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return Response{T: t, Status: res.StatusCode, Header: res.Header, Body: data}
}

// Response is an answer a test checks.
type Response struct {
	T      testing.TB
	Status int
	Header http.Header
	Body   []byte
}

// Want fails the test unless the answer has status.
func (r Response) Want(status int) Response {
	r.T.Helper()
	if r.Status != status {
		r.T.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// Decode decodes the JSON body into v.
func (r Response) Decode(v any) {
	r.T.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.T.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Problem decodes a problem document: its code and the fields it names.
func (r Response) Problem() (code string, fields []string) {
	r.T.Helper()
	var p struct {
		Code   string
		Errors []struct{ Field string }
	}
	r.problem(&p)
	for _, f := range p.Errors {
		fields = append(fields, f.Field)
	}
	return p.Code, fields
}

// Detail is a problem document's detail.
func (r Response) Detail() string {
	r.T.Helper()
	var p struct{ Detail string }
	r.problem(&p)
	return p.Detail
}

func (r Response) problem(v any) {
	r.T.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		r.T.Fatalf("Content-Type %q, want application/problem+json: %s", ct, r.Body)
	}
	r.Decode(v)
}

// Call calls a GameLift control API operation (AWS JSON 1.1) with authz as
// its Authorization header, and returns the status and body of its answer.
func (e *Env) Call(t testing.TB, authz, op, body string) (int, []byte) {
	t.Helper()
	r := e.Do(t, "POST", "/", authz, body, map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "GameLift." + op})
	return r.Status, r.Body
}
