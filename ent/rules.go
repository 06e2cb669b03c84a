package ent

// Hand-written, not generated. Importing ent/runtime here installs the schema's
// access rules (auth/viewer interceptors and hooks) wherever the client is used, so
// no binary or test can use ent without them: a query without a viewer or
// auth.SystemContext is always denied, not only in binaries that import package auth.
import _ "github.com/linkage/linkage/ent/runtime"
