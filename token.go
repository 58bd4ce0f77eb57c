package detente

import (
	"crypto/sha256"
	"slices"
	"time"
)

// Role is what a local user may do.
type Role string

// Roles, from most to least powerful. Every endpoint names the roles it
// accepts; an unknown role is never accepted.
const (
	RoleAdmin   Role = "admin"   // manage partners, agreements, tokens; everything an analyst does
	RoleAnalyst Role = "analyst" // ingest and read intelligence, check releases, screen
	RoleAuditor Role = "auditor" // read the log, releases and metadata; no intelligence content
)

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !slices.Contains([]Role{RoleAdmin, RoleAnalyst, RoleAuditor}, r) {
		return "", Errorf(EINVALID, "unknown role %q (want admin, analyst or auditor)", s)
	}
	return r, nil
}

// Token is a local user's bearer credential. Only the SHA-256 of the secret
// is stored; the secret itself is shown once, when the token is created.
type Token struct {
	ID      string // public id, e.g. "tok_3f2a…", safe to log
	Hash    []byte // SHA-256 of the secret
	Role    Role
	Label   string
	Created time.Time
	Revoked bool
}

// TokenHash returns the stored form of a token secret.
func TokenHash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
