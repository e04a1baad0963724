package main

import (
	"context"
	"net"
	"net/url"
	"time"

	"github.com/confab/confab/signaling/client"
)

// InviteLink makes an invite link to the call's room at its server with
// the session's token (ui.Inviter). The server says the link as this app
// reached it; for the built-in server opened to the network that is
// 127.0.0.1, so the link gets this machine's LAN address instead.
func (c *call) InviteLink(ctx context.Context) (string, time.Time, error) {
	inv, err := c.Session.CreateInvite(ctx, client.InviteOptions{})
	if err != nil {
		return "", time.Time{}, err
	}
	link := inv.URL
	if e := c.b.server(); e != nil && !e.loopback && !e.Shared {
		if u, err := url.Parse(link); err == nil && isLoopback(link) {
			if ip := lanAddress(); ip != "" {
				u.Host = net.JoinHostPort(ip, u.Port())
				link = u.String()
			}
		}
	}
	return link, inv.Expires, nil
}
