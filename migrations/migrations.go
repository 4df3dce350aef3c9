// Package migrations holds the versioned SQL that builds the database, one folder per dialect
// (postgres, sqlite), embedded in the binary and applied by goose through package domain/store.
//
// Every change is a new numbered file in both folders; a test checks that the two dialects end
// with the same tables and columns. Files that have been released are never edited.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
