// Package ent holds the generated ent client. The hand-written schema is in ./schema.
package ent

//go:generate go run -mod=mod entc.go
