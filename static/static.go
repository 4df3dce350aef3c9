// Package static holds the stylesheet, images and the little JavaScript there is, embedded in the
// binary and served under /static/.
package static

import "embed"

// FS holds the static files.
//
//go:embed css
var FS embed.FS
