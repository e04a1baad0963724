package ui

import (
	"errors"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// networkBackend is a fake backend whose built-in server can be opened to
// the network.
type networkBackend struct {
	*fakeBackend
	mu   sync.Mutex
	open bool
	fail error
	sets []bool
}

func (b *networkBackend) NetworkAccess() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open
}

func (b *networkBackend) SetNetworkAccess(on bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sets = append(b.sets, on)
	if b.fail != nil {
		return b.fail
	}
	b.open = on
	return nil
}

func (b *networkBackend) ServerHint() string {
	if b.NetworkAccess() {
		return "Others on your network join at http://192.0.2.7:7880"
	}
	return "Hosting on this computer only"
}

func newNetworkHarness(t *testing.T) (*App, *networkBackend, *queue) {
	t.Helper()
	b := &networkBackend{fakeBackend: newFakeBackend()}
	q := newQueue()
	app := newApp(test.NewTempApp(t), b, Options{}, q.do, 0)
	app.win.Resize(fyne.NewSize(1100, 720))
	q.drain()
	return app, b, q
}

func TestNetworkAccessCheckBox(t *testing.T) {
	app, b, q := newNetworkHarness(t)
	e := app.Entry()
	if !e.NetworkCheck.Visible() || e.NetworkCheck.Checked {
		t.Fatalf("check box visible %v checked %v; want shown and off", e.NetworkCheck.Visible(), e.NetworkCheck.Checked)
	}
	test.Tap(e.NetworkCheck)
	q.until(t, "the server opened to the network", func() bool { return !e.networkBusy && e.NetworkCheck.Checked })
	if got := e.ServerHint.Text; got != "Others on your network join at http://192.0.2.7:7880" {
		t.Errorf("hint = %q; want the address to give others", got)
	}
	if len(b.sets) != 1 || !b.sets[0] {
		t.Errorf("SetNetworkAccess calls = %v; want [true]", b.sets)
	}

	// A failure puts the box back and says why, in the entry's error line.
	b.mu.Lock()
	b.fail = errors.New("address already in use")
	b.mu.Unlock()
	test.Tap(e.NetworkCheck)
	q.until(t, "the failure shown", func() bool { return !e.networkBusy && e.ErrorLabel.Visible() })
	if !e.NetworkCheck.Checked {
		t.Errorf("box unchecked although the server is still open to the network")
	}
	if e.ErrorLabel.Text != "Could not change who can join: address already in use" {
		t.Errorf("error = %q", e.ErrorLabel.Text)
	}
	if e.NetworkCheck.Disabled() {
		t.Errorf("box still disabled after the change finished")
	}
}

func TestNoNetworkCheckBoxWithoutAHost(t *testing.T) {
	h := newHarness(t, Options{})
	if h.app.Entry().NetworkCheck.Visible() {
		t.Fatal("network check box shown for a backend that cannot host")
	}
}
