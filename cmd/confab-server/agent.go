package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/support"
)

const agentUsage = `usage: confab-server agent add --name N [--data DIR]
       confab-server agent list [--data DIR]
       confab-server agent remove [--data DIR] ID`

// agentCmd runs "confab-server agent": support desk agents. add prints
// the new agent's sign-in key once; only its hash is stored.
func agentCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(agentUsage)
	}
	fs := flag.NewFlagSet("agent "+args[0], flag.ContinueOnError)
	data := fs.String("data", env("data", defaultDataDir()), "data directory of the server")
	name := fs.String("name", "", "the agent's name, as customers see it (add)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	dd, err := server.OpenDataDir(*data)
	if err != nil {
		return err
	}
	defer dd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch args[0] {
	case "add":
		if fs.NArg() != 0 {
			return errors.New(agentUsage)
		}
		if err := support.ValidateName(*name); err != nil {
			return fmt.Errorf("--name: %w", err)
		}
		for range 4 {
			id, key, hash, err := support.NewAgentKey()
			if err != nil {
				return err
			}
			err = dd.Store.AddAgent(ctx, store.Agent{ID: id, Name: *name, KeyHash: hash, Created: time.Now()})
			if errors.Is(err, store.ErrExists) {
				continue
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(out, "%s\n# agent %s (%s): give this sign-in key to %s; it is not shown again\n", key, id, *name, *name)
			return err
		}
		return errors.New("no free agent id; try again")
	case "list":
		agents, err := dd.Store.Agents(ctx)
		if err != nil {
			return err
		}
		for _, a := range agents {
			state := "active"
			if !a.Removed.IsZero() {
				state = "removed " + a.Removed.Local().Format(time.RFC3339)
			}
			fmt.Fprintf(out, "%s\t%s\tadded %s\t%s\n", a.ID, a.Name, a.Created.Local().Format(time.RFC3339), state)
		}
		return nil
	case "remove":
		if fs.NArg() != 1 {
			return errors.New(agentUsage)
		}
		if err := dd.Store.RemoveAgent(ctx, fs.Arg(0), time.Now()); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no agent %s", fs.Arg(0))
			}
			return err
		}
		_, err := fmt.Fprintf(out, "removed %s: their key no longer signs in\n", fs.Arg(0))
		return err
	}
	return errors.New(agentUsage)
}
