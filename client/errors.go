package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is an error answer of the Muster API: its RFC 9457 problem
// document, or what the client could make of an answer that was not one
// (a proxy's HTML page, say).
type Error struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Type is a URI naming the kind of problem.
	Type string `json:"type"`
	// Title is a short summary of the kind of problem.
	Title string `json:"title"`
	// Detail explains this occurrence.
	Detail string `json:"detail,omitempty"`
	// Code is the server's name for the kind of error, such as Invalid,
	// Forbidden or NotFound.
	Code string `json:"code,omitempty"`
	// RequestID is the request's id, to quote to the operator.
	RequestID string `json:"requestId,omitempty"`
	// Fields lists every bad member of the request, by JSON path.
	Fields []FieldError `json:"errors,omitempty"`
	// RetryAfter is how long the server asked the client to wait (429 and
	// 503 answers), zero when it did not say.
	RetryAfter time.Duration `json:"-"`
}

// FieldError names one bad member of a request.
type FieldError struct {
	// Field is the JSON path of the member, such as $.latencyInMs.
	Field string `json:"Field"`
	// Reason says what is wrong with it.
	Reason string `json:"Reason"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "muster: %d %s", e.Status, e.Title)
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Reason)
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// Field returns the reason given for the member at path, and whether the
// server named it.
func (e *Error) Field(path string) (string, bool) {
	for _, f := range e.Fields {
		if f.Field == path {
			return f.Reason, true
		}
	}
	return "", false
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// errorOf reads the error answer res.
func errorOf(res *http.Response) *Error {
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	e := &Error{}
	ct := res.Header.Get("Content-Type")
	if strings.Contains(ct, "json") && json.Unmarshal(body, e) == nil && e.Status != 0 {
		e.Status = res.StatusCode
	} else {
		e = &Error{Status: res.StatusCode, Title: http.StatusText(res.StatusCode), Detail: strings.TrimSpace(string(body))}
	}
	if e.RequestID == "" {
		e.RequestID = res.Header.Get("X-Request-Id")
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// TicketError is what Wait returns for a ticket that ended without a match:
// FAILED, TIMED_OUT or CANCELLED.
type TicketError struct {
	TicketID string
	// Status is the ticket's terminal status.
	Status string
	// Reason is the ticket's statusReason (for example REJECTED or
	// ACCEPTANCE_TIMEOUT for a CANCELLED ticket).
	Reason string
	// Message is the ticket's statusMessage.
	Message string
	// Ticket is the ticket as last read.
	Ticket *Ticket
}

func (e *TicketError) Error() string {
	s := fmt.Sprintf("muster: ticket %s is %s", e.TicketID, e.Status)
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}
