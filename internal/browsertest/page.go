package browsertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Page is one tab of a Browser, attached in its own DevTools session.
type Page struct {
	b       *Browser
	session string
	target  string

	mu   sync.Mutex
	logs []string
}

func (p *Page) call(ctx context.Context, method string, params, out any) error {
	return p.b.c.call(ctx, p.session, method, params, out)
}

// event records console messages and uncaught exceptions of the page.
func (p *Page) event(method string, params json.RawMessage) {
	var line string
	switch method {
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		if json.Unmarshal(params, &e) != nil {
			return
		}
		parts := []string{"console." + e.Type + ":"}
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, fmt.Sprint(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line = strings.Join(parts, " ")
	case "Runtime.exceptionThrown":
		var e struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		if json.Unmarshal(params, &e) != nil {
			return
		}
		line = "uncaught: " + e.Details.Text + " " + e.Details.Exception.Description
	default:
		return
	}
	p.mu.Lock()
	p.logs = append(p.logs, line)
	if len(p.logs) > 500 {
		p.logs = p.logs[len(p.logs)-400:]
	}
	p.mu.Unlock()
	if p.b.log != nil {
		fmt.Fprintln(p.b.log, "page:", line)
	}
}

// Logs returns the page's console messages and uncaught exceptions so far
// (the newest few hundred).
func (p *Page) Logs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.logs...)
}

// Navigate loads url and waits until the document has loaded.
func (p *Page) Navigate(ctx context.Context, url string) error {
	var r struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.call(ctx, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
		return err
	}
	if r.ErrorText != "" {
		return fmt.Errorf("navigate %s: %s", url, r.ErrorText)
	}
	for {
		var state string
		if err := p.Eval(ctx, "document.readyState", &state); err == nil && state == "complete" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("navigate %s: %w", url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// EvalError is a JavaScript exception thrown (or a promise rejected) by an
// evaluated expression.
type EvalError struct{ Text string }

func (e *EvalError) Error() string { return "javascript: " + e.Text }

// Eval evaluates the JavaScript expression expr in the page as if the user
// had just clicked (so getDisplayMedia and play() are allowed), awaits it
// if it is a promise, and decodes its JSON value into out (when not nil).
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
				Value       any    `json:"value"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.call(ctx, "Runtime.evaluate", map[string]any{
		"expression":    expr,
		"awaitPromise":  true,
		"returnByValue": true,
		"userGesture":   true,
	}, &r)
	if err != nil {
		return err
	}
	if d := r.ExceptionDetails; d != nil {
		text := d.Exception.Description
		if text == "" && d.Exception.Value != nil {
			text = fmt.Sprint(d.Exception.Value)
		}
		if text == "" {
			text = d.Text
		}
		return &EvalError{Text: text}
	}
	if out == nil || len(r.Result.Value) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Result.Value, out); err != nil {
		return fmt.Errorf("decode result of %q: %w", short(expr), err)
	}
	return nil
}

// Screenshot returns a PNG of the page's viewport.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// SetViewport sets the page's viewport in CSS pixels (device scale 1);
// mobile emulates a phone (meta viewport, overlay scrollbars).
func (p *Page) SetViewport(ctx context.Context, width, height int, mobile bool) error {
	return p.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
	}, nil)
}

// Bring makes the page the active tab (screen capture and timers run at
// full rate only in the focused tab).
func (p *Page) Bring(ctx context.Context) error {
	return p.call(ctx, "Page.bringToFront", nil, nil)
}

// Close closes the tab.
func (p *Page) Close(ctx context.Context) error {
	err := p.b.c.call(ctx, "", "Target.closeTarget", map[string]any{"targetId": p.target}, nil)
	p.b.mu.Lock()
	delete(p.b.pages, p.session)
	p.b.mu.Unlock()
	return err
}

// Click clicks the element matching the CSS selector (as a user would:
// with user activation). It fails when no element matches or it is
// disabled.
func (p *Page) Click(ctx context.Context, selector string) error {
	return p.Eval(ctx, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) throw new Error("no element " + %q);
		if (el.disabled) throw new Error(%q + " is disabled");
		el.click();
	})()`, selector, selector, selector), nil)
}

// Type sets the value of the input matching selector, as typing would:
// focus, value, then input and change events.
func (p *Page) Type(ctx context.Context, selector, text string) error {
	return p.Eval(ctx, fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) throw new Error("no element " + %q);
		el.focus();
		el.value = %q;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, selector, selector, text), nil)
}

// Wait polls the JavaScript expression cond every 200 ms until it is
// truthy (a promise: resolves to a truthy value) or d passes. On timeout it returns an error holding the last
// value of the expression diag (when not empty), for the failure message.
func (p *Page) Wait(ctx context.Context, d time.Duration, cond, diag string) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var lastErr error
	for {
		var ok bool
		err := p.Eval(ctx, "(async () => !!(await ("+cond+")))()", &ok)
		if err == nil && ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("after %v, still not true: %s", d, short(cond))
			if lastErr != nil {
				msg += fmt.Sprintf(" (last error: %v)", lastErr)
			}
			if diag != "" {
				dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
				var v any
				if err := p.Eval(dctx, diag, &v); err == nil {
					b, _ := json.Marshal(v)
					msg += "; " + tail(string(b), 3000)
				}
				dcancel()
			}
			return fmt.Errorf("%s", msg)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// MustWait is Wait that fails t, with the page's last console lines.
func (p *Page) MustWait(t testing.TB, d time.Duration, what, cond, diag string) {
	t.Helper()
	if err := p.Wait(context.Background(), d, cond, diag); err != nil {
		t.Fatalf("%s: %v\npage console (last lines):\n%s", what, err, p.lastLogs(30))
	}
}

func (p *Page) lastLogs(n int) string {
	l := p.Logs()
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
