package playermm

import (
	"bytes"

	"github.com/musterhq/muster/internal/fault"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func invalid(path, reason string) error {
	return &fault.Error{Kind: fault.Invalid, Message: "1 validation error detected", Fields: []fault.FieldError{{Field: path, Reason: reason}}}
}
