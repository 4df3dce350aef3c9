package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/coop-exchange/coop/domain"
	"github.com/coop-exchange/coop/domain/store"
)

func cmdUser(ctx context.Context, args []string, env env, io streams) error {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(io.out, "Usage: coop user create --role R --email E --name N [flags]\n\nRun coop user create --help for its flags.")
			return nil
		}
		fmt.Fprintln(io.err, "Usage: coop user create --role R --email E --name N [flags]")
		return errUsage
	}
	fs := newFlags("user create", "user create --role R --email E --name N [flags] < password", `
Create an active user who can sign in at once, such as the first admin or coordinator.
The password is read from standard input (first line), so that it stays out of the shell's
history; at a terminal it is asked for without echo. The user is recorded as having agreed to
the co-op keeping their details, with the wording stored.`, io)
	flags := configFlags(fs)
	role := fs.String("role", "", "member, coordinator, services or admin (required)")
	email := fs.String("email", "", "email address they sign in with (required)")
	name := fs.String("name", "", "their name (required)")
	phone := fs.String("phone", "", "phone number")
	area := fs.String("area", "", "code of the area they live in (required for members)")
	if err := parseFlags(fs, args[1:], io); err != nil {
		return err
	}
	var missing []string
	for flagName, v := range map[string]string{"--role": *role, "--email": *email, "--name": *name} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, flagName)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(io.err, "coop user create: give %s\n", strings.Join(missing, " and "))
		return errUsage
	}
	if _, err := loadConfig(fs, flags, env); err != nil {
		return err // before asking for a password
	}
	password, err := readPassword(io)
	if err != nil {
		return err
	}
	st, svc, err := openReady(ctx, fs, flags, env, io)
	if err != nil {
		return err
	}
	defer st.Close()
	in := domain.NewMemberInput{Name: *name, Email: *email, Phone: *phone, Role: domain.Role(*role),
		Password: password, ConsentRecorded: true}
	if *area != "" {
		if in.AreaID, err = areaByCode(ctx, st, *area); err != nil {
			return err
		}
	}
	m, err := svc.Membership.AddMember(ctx, domain.SystemActor("coop user create"), in)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(io.out, "Created %s %s <%s> (id %d). They can sign in now.\n", m.Role, m.Name, m.Email, m.ID)
	return nil
}

func cmdToken(ctx context.Context, args []string, env env, io streams) error {
	if len(args) == 0 || args[0] != "create" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(io.out, "Usage: coop token create --email E [--name N]\n\nRun coop token create --help for its flags.")
			return nil
		}
		fmt.Fprintln(io.err, "Usage: coop token create --email E [--name N]")
		return errUsage
	}
	fs := newFlags("token create", "token create --email E [--name N] [flags]", `
Print a new API bearer token that acts as the active member with this email. Send it as
"Authorization: Bearer <token>". Only its hash is stored, so it cannot be shown again.`, io)
	flags := configFlags(fs)
	email := fs.String("email", "", "email of the member the token acts as (required)")
	name := fs.String("name", "API token", "what the token is for, to recognise it later")
	if err := parseFlags(fs, args[1:], io); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		fmt.Fprintln(io.err, "coop token create: give --email")
		return errUsage
	}
	st, svc, err := openReady(ctx, fs, flags, env, io)
	if err != nil {
		return err
	}
	defer st.Close()
	token, m, err := svc.Accounts.CreateAPIToken(ctx, domain.SystemActor("coop token create"), *email, *name)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintln(io.out, token)
	fmt.Fprintf(io.err, "A token for %s (%s). Keep it secret: it cannot be shown again.\n", m.Name, m.Role)
	return nil
}

// readPassword takes the password from the first line of standard input, or asks for it
// without echo at a terminal.
func readPassword(std streams) (string, error) {
	if f, ok := std.in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(std.err, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(std.err)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(std.in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password on standard input; pipe it in, like: echo 'a long passphrase' | coop user create ...")
	}
	return line, nil
}

// areaByCode finds an area's id by its code, any case.
func areaByCode(ctx context.Context, st *store.Store, code string) (int64, error) {
	areas, err := st.Areas(ctx)
	if err != nil {
		return 0, err
	}
	var codes []string
	for _, a := range areas {
		if strings.EqualFold(a.Code, strings.TrimSpace(code)) {
			return a.ID, nil
		}
		codes = append(codes, a.Code)
	}
	if len(codes) == 0 {
		return 0, fmt.Errorf("--area %s: the co-op has no areas yet", code)
	}
	return 0, fmt.Errorf("--area %s: no area has this code; the codes are %s", code, strings.Join(codes, ", "))
}

// describe turns a validation error into one line per field for the terminal.
func describe(err error) error {
	var v *domain.ValidationError
	if errors.As(err, &v) {
		lines := make([]string, len(v.Fields))
		for i, f := range v.Fields {
			lines[i] = "  " + f.Field + ": " + f.Message
		}
		return errors.New("not created:\n" + strings.Join(lines, "\n"))
	}
	return err
}
