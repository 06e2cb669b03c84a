package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/linkage/linkage/internal/config"
	"os"

	"github.com/linkage/linkage/ami/assemble"
)

func runAssemble(_ context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "assemble", `Reads AMI capture files (Key: Value lines, a blank line between blocks, CRLF or LF;
greeting, responses and unrelated events may be mixed in) and prints one JSON object per
assembled call, one per line. No database is used: paste a capture, see what Linkage makes of it.

Usage: linkage assemble [flags] FILE.ami [FILE.ami ...]`)
	var cfg assemble.Config
	var trunks, trunkContexts, internal, operators, configFile string
	fs.StringVar(&configFile, "config", "", "JSON file with the assembler configuration (operators, trunks, contexts, DIDs, variables); overrides the other flags")
	fs.StringVar(&trunks, "trunk-prefixes", "PJSIP/trunk,SIP/trunk", "comma-separated channel name prefixes that are trunks")
	fs.StringVar(&trunkContexts, "trunk-contexts", "from-trunk,from-pstn,from-external", "comma-separated dialplan contexts of inbound trunk channels")
	fs.StringVar(&internal, "internal-contexts", "", "comma-separated contexts of internal phones")
	fs.StringVar(&operators, "operators", "", "comma-separated operator extensions (also learned from queue membership)")
	if err := fs.Parse(args); err != nil {
		if err == flagErrHelp {
			return err
		}
		return errUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	if configFile != "" {
		b, err := os.ReadFile(configFile)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return fmt.Errorf("config %s: %w", configFile, err)
		}
		return assemble.AssembleFiles(fs.Args(), cfg, env.Stdout)
	}
	cfg.TrunkPrefixes = config.SplitList(trunks)
	cfg.TrunkContexts = config.SplitList(trunkContexts)
	cfg.InternalContexts = config.SplitList(internal)
	cfg.LearnOperators = true
	for _, o := range config.SplitList(operators) {
		cfg.Operators = append(cfg.Operators, assemble.Operator{Exten: o})
	}
	return assemble.AssembleFiles(fs.Args(), cfg, env.Stdout)
}
