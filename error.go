package detente

import (
	"errors"
	"fmt"
)

// Error codes. They are stable strings: the API returns them to clients and
// maps them to HTTP statuses only at its edge.
const (
	EINVALID      = "invalid"        // the input is malformed or breaks a rule
	ENOTFOUND     = "not_found"      // the thing asked for does not exist
	ECONFLICT     = "conflict"       // the change contradicts what is stored
	EUNAUTHORIZED = "unauthorized"   // the caller is not authenticated
	EFORBIDDEN    = "forbidden"      // the caller may not do this
	ETOOLARGE     = "too_large"      // the request is over a size limit
	EINTERNAL     = "internal"       // anything else; details go to the log only
	EDENIED       = "denied"         // a policy decision refused the action
	EUNAVAILABLE  = "unavailable"    // a dependency (partner, database) is down
	EEXISTS       = "already_exists" // the thing to create is already there
)

// Error is an error meant for the people using the node. Its Message is safe
// to show to any caller: it never holds SQL, paths of secrets or stack traces.
type Error struct {
	Code    string // one of the E… constants
	Message string // a human sentence, lowercase, no trailing period
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// "internal error" for any other error, so internals never reach users.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
