// Package psibench compares detente's bulk private set intersection with
// other implementations on the same sets. It is a separate module so that
// the product never depends on what it is compared with.
package psibench
