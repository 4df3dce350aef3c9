package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coop-exchange/coop/domain/store"
	"github.com/coop-exchange/coop/email"
	"github.com/coop-exchange/coop/jobs"
)

// Config is the platform's configuration: read once at start-up from the environment and flags,
// and validated, so that a bad value stops the process with a message naming it.
type Config struct {
	Database       store.Location
	DatabaseURL    string // as given, for messages (with any password hidden)
	Addr           string
	BaseURL        *url.URL
	Location       *time.Location
	MatchSchedule  string
	AnswerWithin   time.Duration
	SecretKey      string // empty: generated and kept in the database
	SMTP           *email.SMTPConfig
	LogFormat      string
	LogLevel       slog.Level
	TrustedProxies []netip.Prefix
}

// setting is one configuration value: its environment variable, flag, default and meaning.
type setting struct {
	env, flag, def, usage string
}

var settings = []setting{
	{"COOP_DATABASE_URL", "database-url", "", "database: postgres://user@host/db, or sqlite:PATH (default sqlite:" + store.DefaultSQLitePath + ")"},
	{"COOP_ADDR", "addr", ":3000", "address to listen on, host:port"},
	{"COOP_BASE_URL", "base-url", "", "the address people use to reach the co-op, for links and secure cookies (default http://localhost:PORT)"},
	{"COOP_TIMEZONE", "timezone", "Europe/London", "the co-op's time zone, for availability and dates on pages"},
	{"COOP_MATCH_SCHEDULE", "match-schedule", "@every 5m", "when the matcher runs (robfig/cron syntax)"},
	{"COOP_ANSWER_WITHIN", "answer-within", "48h", "how long the two people have to accept an approved match before it lapses (urgent requests: a quarter of it)"},
	{"COOP_SECRET_KEY", "secret-key", "", "key for sessions, forms and signatures, 32+ characters (default: generated once and kept in the database)"},
	{"COOP_SMTP_URL", "smtp-url", "", "mail server for email, smtp://user:pass@host:587?from=coop@example.org (STARTTLS) or smtps://... (TLS); starttls=off for a local relay (default: emails are written to the log)"},
	{"COOP_LOG_FORMAT", "log-format", "text", "log format: text or json"},
	{"COOP_LOG_LEVEL", "log-level", "info", "least important log messages written: debug, info, warn or error"},
	{"COOP_TRUSTED_PROXIES", "trusted-proxies", "", "load balancers whose X-Forwarded-For is believed: addresses or CIDR ranges, comma-separated (default none)"},
}

// configFlags registers a flag for every setting on fs; the flag wins over the environment.
func configFlags(fs *flag.FlagSet) map[string]*string {
	vals := map[string]*string{}
	for _, s := range settings {
		usage := s.usage
		if s.def != "" {
			usage += " (default " + s.def + ")"
		}
		vals[s.env] = fs.String(s.flag, "", usage+" ["+s.env+"]")
	}
	return vals
}

// loadConfig reads each setting from its flag if given, else its environment variable, else its
// default, and validates them all, reporting every bad value at once.
func loadConfig(fs *flag.FlagSet, flags map[string]*string, env func(string) (string, bool)) (Config, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	value := map[string]string{}
	source := map[string]string{}
	for _, s := range settings {
		switch v, ok := env(s.env); {
		case given[s.flag]:
			value[s.env], source[s.env] = *flags[s.env], "--"+s.flag+" ("+s.env+")"
		case ok && v != "":
			value[s.env], source[s.env] = v, s.env
		default:
			value[s.env], source[s.env] = s.def, s.env
		}
	}

	var cfg Config
	var problems []string
	bad := func(name, format string, args ...any) {
		problems = append(problems, source[name]+": "+fmt.Sprintf(format, args...))
	}

	var err error
	cfg.DatabaseURL = value["COOP_DATABASE_URL"]
	if cfg.Database, err = store.ParseURL(cfg.DatabaseURL); err != nil {
		bad("COOP_DATABASE_URL", "%v", err)
	}

	cfg.Addr = value["COOP_ADDR"]
	port, err := checkAddr(cfg.Addr)
	if err != nil {
		bad("COOP_ADDR", "%q is not an address to listen on: %v; use host:port, like :3000 or 127.0.0.1:8080", cfg.Addr, err)
	}

	base := value["COOP_BASE_URL"]
	if base == "" {
		if port == "" || port == "0" {
			port = "3000"
		}
		base = "http://localhost:" + port
	}
	if cfg.BaseURL, err = checkBaseURL(base); err != nil {
		bad("COOP_BASE_URL", "%q %v", base, err)
	}

	if cfg.Location, err = time.LoadLocation(value["COOP_TIMEZONE"]); err != nil || value["COOP_TIMEZONE"] == "" {
		bad("COOP_TIMEZONE", "%q is not a known time zone; use a name like Europe/London", value["COOP_TIMEZONE"])
	}

	cfg.MatchSchedule = value["COOP_MATCH_SCHEDULE"]
	if err := jobs.ParseSchedule(cfg.MatchSchedule); err != nil {
		bad("COOP_MATCH_SCHEDULE", "%q is not a schedule: %v; use cron syntax like \"*/5 * * * *\" or \"@every 5m\"", cfg.MatchSchedule, err)
	}

	if d, err := time.ParseDuration(value["COOP_ANSWER_WITHIN"]); err != nil || d < time.Hour || d > 14*24*time.Hour {
		bad("COOP_ANSWER_WITHIN", "%q is not a time from 1h to 336h; use a duration like 48h", value["COOP_ANSWER_WITHIN"])
	} else {
		cfg.AnswerWithin = d
	}

	cfg.SecretKey = value["COOP_SECRET_KEY"]
	if cfg.SecretKey != "" && len(cfg.SecretKey) < 32 {
		bad("COOP_SECRET_KEY", "is %d characters long; it must be at least 32 (or leave it unset to have one generated)", len(cfg.SecretKey))
	}

	if raw := value["COOP_SMTP_URL"]; raw != "" {
		if smtp, err := email.ParseSMTPURL(raw); err != nil {
			bad("COOP_SMTP_URL", "%v", err)
		} else {
			cfg.SMTP = &smtp
		}
	}

	cfg.LogFormat = value["COOP_LOG_FORMAT"]
	if cfg.LogFormat != "text" && cfg.LogFormat != "json" {
		bad("COOP_LOG_FORMAT", "%q is not a log format; use text or json", cfg.LogFormat)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(value["COOP_LOG_LEVEL"])); err != nil || value["COOP_LOG_LEVEL"] == "" {
		bad("COOP_LOG_LEVEL", "%q is not a log level; use debug, info, warn or error", value["COOP_LOG_LEVEL"])
	}

	for _, raw := range strings.Split(value["COOP_TRUSTED_PROXIES"], ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		p, err := netip.ParsePrefix(raw)
		if err != nil {
			a, aerr := netip.ParseAddr(raw)
			if aerr != nil {
				bad("COOP_TRUSTED_PROXIES", "%q is not an IP address or a CIDR range like 10.0.0.0/8", raw)
				continue
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, p.Masked())
	}

	if len(problems) > 0 {
		return Config{}, errors.New("configuration is not valid:\n  " + strings.Join(problems, "\n  "))
	}
	return cfg, nil
}

// checkAddr validates a listen address and returns its port.
func checkAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", errors.New("it has no port")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if host != "" && net.ParseIP(strings.Trim(host, "[]")) == nil && !validHostname(host) {
		return "", fmt.Errorf("host %q is not an IP address or host name", host)
	}
	return port, nil
}

func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

func checkBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	switch {
	case err != nil:
		return nil, errors.New("is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, errors.New("must start with http:// or https://")
	case u.Host == "":
		return nil, errors.New("names no host")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, errors.New("must not have a query or fragment")
	case u.Path != "":
		return nil, errors.New("must be the site's root (the co-op is served at /), without a path")
	}
	return u, nil
}

// redactedURL hides a password in a database URL for messages and logs.
func redactedURL(raw string) string {
	if raw == "" {
		return "sqlite:" + store.DefaultSQLitePath
	}
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}
