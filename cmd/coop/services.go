package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/coop-exchange/coop/domain"
)

// maxImportFile is the largest directory file the command reads (a whole council's directory
// is a few megabytes).
const maxImportFile = 64 << 20

func cmdServices(ctx context.Context, args []string, env env, std streams) error {
	const synopsis = "services import FILE|URL [flags]"
	if len(args) == 0 || args[0] != "import" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(std.out, "Usage: coop "+synopsis+"\n\nRun coop services import --help for its flags.")
			return nil
		}
		fmt.Fprintln(std.err, "Usage: coop "+synopsis)
		return errUsage
	}
	fs := newFlags("services import", synopsis, `
Import formal services from an Open Referral directory into the co-op's directory:
a file (HSDS 3.x or Open Referral UK 3.0 JSON: one service, a list, or a page object; or
the older ORUK v1 list of a council feed; - reads standard input), or the address of an
HSDS API, whose /services?full=true is read page by page (after the first import of a
feed, only what changed since the last, with modified_after).

Each record is imported, updated, left unchanged or skipped with the reason; a file that
is not a directory imports nothing. Imported services have no escalation contact until a
coordinator sets one, so nothing is routed to them before then.`, std)
	flags := configFlags(fs)
	if err := parseFlags(fs, args[1:], std); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(std.err, "coop services import: give one file or feed address, like: coop services import directory.json")
		return errUsage
	}
	source := fs.Arg(0)
	feed := strings.HasPrefix(source, "https://") || strings.HasPrefix(source, "http://")
	var data []byte
	if !feed {
		var err error
		if data, err = readImportFile(source, std.in); err != nil {
			return err
		}
	}
	st, svc, err := openReady(ctx, fs, flags, env, std)
	if err != nil {
		return err
	}
	defer st.Close()
	by := domain.SystemActor("coop services import")
	var report domain.ImportReport
	if feed {
		report, err = svc.Directory.ImportFeed(ctx, by, source)
	} else {
		report, err = svc.Directory.ImportFile(ctx, by, filepath.Base(source), data)
	}
	if err != nil {
		var v *domain.ValidationError
		if errors.As(err, &v) && len(v.Fields) > 0 {
			return errors.New(v.Fields[0].Message)
		}
		return err
	}
	printImportReport(std.out, report)
	return nil
}

func readImportFile(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, errors.Unwrap(err))
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxImportFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if len(data) > maxImportFile {
		return nil, fmt.Errorf("%s is larger than %d MB; import the directory from its feed address instead", path, maxImportFile>>20)
	}
	return data, nil
}

// printImportReport writes one line per record, then the counts.
func printImportReport(w io.Writer, r domain.ImportReport) {
	for _, it := range r.Items {
		line := fmt.Sprintf("%4d  %-9s  %s", it.Index, it.Outcome, it.Name)
		if it.SourceID != "" {
			line += "  [" + it.SourceID + "]"
		}
		if it.ServiceID != 0 {
			line += fmt.Sprintf("  service %d", it.ServiceID)
		}
		if it.Reason != "" {
			line += "\n      " + it.Reason
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "%s: %s\n", r.Source, r.Summary())
	if r.Imported > 0 {
		fmt.Fprintln(w, "New services have no escalation contact yet: nothing is routed to them until a coordinator sets a webhook or an email for each (Coordinating, then Formal services).")
	}
}
