// Command failoverd runs the failover engine from a YAML file, for people
// who do not write Go, and talks to a running one.
//
//	failoverd run -c failover.yaml [-dry-run]    # run until SIGINT or SIGTERM
//	failoverd check -c failover.yaml [-strict]   # validate; touches no DNS
//	failoverd check -online -c failover.yaml     # and read each zone, reach etcd; writes nothing
//	failoverd status [-zone Z] [-unhealthy]      # what a running failoverd decided
//	failoverd drain [-for 30m] RECORD TYPE VALUE # force an endpoint down
//	failoverd undrain RECORD TYPE VALUE          # clear its override
//	failoverd failback RECORD TYPE               # fail a record back now
//	failoverd version
//
// The file is decoded into the library's own types (failover.Config,
// Policy, the checks of package check, …), each field a key in snake_case.
// check without -strict reports a secret that is not available as a
// warning, so that CI can check the file without production's secrets.
//
// SIGHUP reloads the file: a file that fails validation is rejected and the
// running configuration stays; records whose configuration did not change
// keep their health state; every record keeps its operator overrides
// (state_file keeps them across restarts too); the status listener and the
// log settings follow the file. SIGINT and SIGTERM stop it once in-flight
// writes have finished. See examples/failoverd.yaml for every setting.
//
// status, drain, undrain and failback talk to the status API of a running
// failoverd (-addr, or FAILOVERD_ADDR; default http://127.0.0.1:8053) with
// the operator token from FAILOVERD_TOKEN or the file -token-file names.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name, args, summary string
	run                 func(c command, args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"run", "-c FILE [-dry-run]", "run the engine from a configuration file until SIGINT or SIGTERM", runDaemon},
	{"check", "-c FILE [-strict] [-online]", "validate a configuration file; touches no DNS (-online reads the zones)", runCheck},
	{"status", "[-zone ZONE] [-unhealthy] [-json]", "show what a running failoverd decided", runClient},
	{"drain", "[-for DURATION] RECORD TYPE VALUE", "force an endpoint down (out of DNS) until cleared or for DURATION", runClient},
	{"undrain", "RECORD TYPE VALUE", "clear an endpoint's override: its checks decide again", runClient},
	{"failback", "RECORD TYPE", "fail a record back to its most preferred healthy tier now", runClient},
	{"version", "", "print the version", runVersion},
}

// usage writes the list of commands.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: failoverd COMMAND [flags] [arguments]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n\"failoverd COMMAND -h\" lists the flags of a command. status, drain, undrain and")
	fmt.Fprintln(w, "failback talk to a running failoverd's status API (-addr or FAILOVERD_ADDR), with the")
	fmt.Fprintln(w, "operator token from FAILOVERD_TOKEN or -token-file. RECORD is a name such as")
	fmt.Fprintln(w, "www.example.com (the zone is found among the running failoverd's zones).")
}

// run is the whole program; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(c, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "failoverd: unknown command %q\n\n", clip(args[0], 64))
	usage(stderr)
	return 2
}

// newFlags returns the flag set of command c, its usage line first.
func newFlags(c command, stderr io.Writer) *flag.FlagSet {
	flags := flag.NewFlagSet("failoverd "+c.name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: failoverd %s %s\n  %s\n", c.name, c.args, c.summary)
		flags.PrintDefaults()
	}
	return flags
}

// parseFlags parses a command's flags: 0 and true to go on, or the exit code
// (0 for -h).
func parseFlags(flags *flag.FlagSet, args []string) (int, bool) {
	switch err := flags.Parse(args); err {
	case nil:
		return 0, true
	case flag.ErrHelp:
		return 0, false
	default:
		return 2, false
	}
}

func runVersion(c command, args []string, stdout, stderr io.Writer) int {
	if code, ok := parseFlags(newFlags(c, stderr), args); !ok {
		return code
	}
	fmt.Fprintln(stdout, readBuildInfo())
	return 0
}

func runCheck(c command, args []string, stdout, stderr io.Writer) int {
	flags := newFlags(c, stderr)
	file := flags.String("c", "failover.yaml", "configuration file")
	strict := flags.Bool("strict", false, "a secret or file that is not available is an error, not a warning")
	onlineFlag := flags.Bool("online", false, "read every zone from every provider, with the real credentials, and report each managed record, and connect to the cluster's etcd; writes nothing")
	if code, ok := parseFlags(flags, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lc, err := load(ctx, *file, *strict || *onlineFlag)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, w := range lc.warnings {
		fmt.Fprintln(stderr, w)
	}
	fmt.Fprintf(stdout, "%s: ok: %d zones\n", *file, len(lc.Zones))
	if *onlineFlag {
		ok := online(ctx, lc, stdout)
		if lc.Cluster != nil {
			ok = onlineCluster(ctx, lc.Cluster, stdout) && ok
		}
		if !ok {
			return 1
		}
	}
	return 0
}

func runDaemon(c command, args []string, stdout, stderr io.Writer) int {
	flags := newFlags(c, stderr)
	file := flags.String("c", "failover.yaml", "configuration file")
	dryRun := flags.Bool("dry-run", false, "run everything but write nothing")
	if code, ok := parseFlags(flags, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lc, err := load(ctx, *file, true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	d := newDaemon(*file, *dryRun, stderr, lc)
	if err := d.serve(ctx, lc); err != nil {
		d.log.Error("failoverd stopped", "err", err)
		return 1
	}
	return 0
}

func newLogger(c logSettings, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	switch c.Format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts))
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts))
	default:
		panic("log format " + string(c.Format) + " passed validation") // logFormat.UnmarshalText accepts text and json only
	}
}
