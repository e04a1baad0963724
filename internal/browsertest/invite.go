package browsertest

import (
	"context"
	"fmt"
	"time"
)

// JoinInvite types name into the entry form of a /j/CODE page once it
// shows the code's room, and clicks Join.
func (g *Guest) JoinInvite(ctx context.Context, name string) error {
	if err := g.Wait(ctx, 30*time.Second, `(() => { const i = window.confabTest.state().invite;
		return i && i.room && document.querySelector("#room").value === i.room && !document.querySelector('#join').disabled; })()`, StateJS); err != nil {
		return fmt.Errorf("invite page: %w", err)
	}
	if err := g.Type(ctx, "#name", name); err != nil {
		return err
	}
	return g.Click(ctx, "#join")
}
