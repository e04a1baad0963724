package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/confab/confab/signaling/invite"
	"github.com/confab/confab/signaling/server"
	"github.com/confab/confab/signaling/store"
	"github.com/confab/confab/signaling/wire"
)

// inviteCmd runs "confab-server invite": make an invite link, or with
// "revoke CODE" turn one off. It works on the data directory, like token,
// so it needs no running server (SQLite lets it write next to one).
func inviteCmd(args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "revoke" {
		return revokeInvite(args[1:], out)
	}
	fs := flag.NewFlagSet("invite", flag.ContinueOnError)
	data := fs.String("data", env("data", defaultDataDir()), "data directory of the server")
	room := fs.String("room", "", "room the link admits to (required)")
	ttl := fs.Duration("ttl", invite.DefaultTTL, "how long the link works (1m to 720h)")
	uses := fs.Int("uses", 0, "how many people may use it (0: no limit)")
	base := fs.String("url", env("url", ""), "the server's address as guests reach it, e.g. https://confab.example.com (default: http:// and --addr or CONFAB_ADDR)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: confab-server invite --room R [--ttl 2h] [--uses N] [--url http://HOST:PORT]\n       confab-server invite revoke [--data DIR] CODE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (did you mean: invite revoke CODE?)", fs.Arg(0))
	}
	if err := wire.ValidateName("room", *room); err != nil {
		return fmt.Errorf("--room: %w", err)
	}
	o, err := invite.Options{Room: *room, Creator: "admin", TTL: *ttl, MaxUses: *uses}.Check()
	if err != nil {
		return err
	}
	link := strings.TrimSuffix(*base, "/")
	if link == "" {
		link = "http://" + publicAddr(env("addr", "127.0.0.1:7880"))
	}
	dd, err := server.OpenDataDir(*data)
	if err != nil {
		return err
	}
	defer dd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inv, err := invite.New(ctx, dd.Store, o, time.Now())
	if err != nil {
		return err
	}
	limit := "any number of people"
	if inv.MaxUses > 0 {
		limit = fmt.Sprintf("%d use(s)", inv.MaxUses)
	}
	_, err = fmt.Fprintf(out, "%s%s\n# room %q, valid until %s, %s; revoke: confab-server invite revoke %s\n",
		link, invite.Path(inv.Code), inv.Room, inv.Expires.Local().Format(time.RFC3339), limit, inv.Code)
	return err
}

// publicAddr turns a listen address into one guests can be sent to: a
// wildcard host becomes this machine's first LAN address.
func publicAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
					host = n.IP.String()
					break
				}
			}
		}
	}
	return net.JoinHostPort(host, port)
}

// revokeInvite turns the invite CODE off.
func revokeInvite(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("invite revoke", flag.ContinueOnError)
	data := fs.String("data", env("data", defaultDataDir()), "data directory of the server")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: confab-server invite revoke [--data DIR] CODE")
	}
	code, ok := invite.Normalize(strings.TrimPrefix(fs.Arg(0), "/j/"))
	if !ok {
		return fmt.Errorf("%q is not an invite code (%d characters of %s)", fs.Arg(0), invite.CodeLen, invite.Alphabet)
	}
	dd, err := server.OpenDataDir(*data)
	if err != nil {
		return err
	}
	defer dd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inv, err := dd.Store.RevokeInvite(ctx, code, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no invite %s in %s", code, *data)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "revoked %s (room %q, used %d time(s))\n", code, inv.Room, inv.Uses)
	return err
}
