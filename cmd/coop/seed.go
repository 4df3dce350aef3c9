package main

import (
	"context"
	"fmt"
	"time"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/synthetic"
)

func cmdSeed(ctx context.Context, args []string, env env, io streams) error {
	fs := newFlags("seed", "seed --members N --offers N --requests N [--seed S] [flags]", `
Fill the configured database with a believable synthetic community, for load tests and
benchmarks: areas spread over a region, members living in them, offers with realistic weekly
availability, and requests over the next two months with plausible urgencies and categories,
some in weekly series. The same --seed and --start give the same community. Every synthetic
member can sign in with the password "`+synthetic.Password+`"; their emails end in @`+synthetic.EmailDomain+`.

It refuses to write into a database that holds real (not synthetic) members, unless --force;
then the synthetic members cannot sign in at all.`, io)
	flags := configFlags(fs)
	members := fs.Int("members", 1000, "how many members")
	offers := fs.Int("offers", 1500, "how many offers")
	requests := fs.Int("requests", 5000, "how many requests (occasions of a weekly series count one each)")
	seed := fs.Uint64("seed", 1, "the random seed")
	start := fs.String("start", "", "the day the community is made for, YYYY-MM-DD (default today)")
	force := fs.Bool("force", false, "write even if the database holds real members")
	if err := parseFlags(fs, args, io); err != nil {
		return err
	}
	if *members < 0 || *offers < 0 || *requests < 0 || (*members == 0 && *offers+*requests > 0) {
		fmt.Fprintln(io.err, "coop seed: give counts of 0 or more, and some members if there are to be offers or requests")
		return errUsage
	}
	cfg, err := loadConfig(fs, flags, env)
	if err != nil {
		return err
	}
	day := time.Now().In(cfg.Location)
	if *start != "" {
		if day, err = time.ParseInLocation("2006-01-02", *start, cfg.Location); err != nil {
			fmt.Fprintf(io.err, "coop seed: --start %q is not a date like 2026-03-14\n", *start)
			return errUsage
		}
	}
	st, svc, err := openReady(ctx, fs, flags, env, io)
	if err != nil {
		return err
	}
	defer st.Close()

	real, err := st.CountRealMembers(ctx)
	if err != nil {
		return err
	}
	if real > 0 && !*force {
		return fmt.Errorf("this database holds %d real member(s); seeding would mix made-up people with them. "+
			"Seed an empty database, or give --force if you really mean it", real)
	}
	if used, err := st.SeedUsed(ctx, *seed); err != nil {
		return err
	} else if used {
		return fmt.Errorf("this database already has a synthetic community made with --seed %d; choose another seed", *seed)
	}
	cats, err := svc.Catalogue.Categories(ctx)
	if err != nil {
		return err
	}
	began := time.Now()
	c, err := synthetic.Make(synthetic.Plan{Seed: *seed, Members: *members, Offers: *offers, Requests: *requests, Start: day, Loc: cfg.Location}, cats)
	if err != nil {
		return err
	}
	// Beside real members, made-up accounts with a published password would be a way in: there
	// they get no password at all.
	hash := ""
	if real == 0 {
		if hash, err = (domain.PasswordHasher{}).Hash(synthetic.Password); err != nil {
			return err
		}
	}
	made := time.Since(began)
	if err := st.SaveCommunity(ctx, c, hash); err != nil {
		return fmt.Errorf("store the synthetic community: %w", err)
	}
	took := time.Since(began)
	fmt.Fprintf(io.out, "Seeded %d areas, %d members (%d with a check), %d offers and %d requests (%d weekly series) with seed %d in %s (%s to make, %s to store).\n",
		len(c.Areas), len(c.Members), len(c.Checks), len(c.Offers), len(c.Requests), len(c.SeriesWeeks), *seed,
		took.Round(time.Millisecond), made.Round(time.Millisecond), (took - made).Round(time.Millisecond))
	switch {
	case len(c.Members) == 0:
	case hash == "":
		fmt.Fprintln(io.out, "The database holds real members, so the synthetic ones cannot sign in.")
	default:
		fmt.Fprintf(io.out, "Sign in as any of them, such as %s, with the password %q.\n", c.Members[0].Email, synthetic.Password)
	}
	return nil
}
