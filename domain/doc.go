// Package domain holds the co-op's records, the rules they obey and the services that change them.
//
// It knows nothing of HTTP or SQL: the services reach storage through the small interfaces declared
// here, which package domain/store implements, and are called by the web layer (app) and the
// scheduled jobs (jobs). Time comes from an injected clock so that deadlines are testable.
package domain
