package serverurl

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string][2]string{
		"127.0.0.1:7880":                {"http://127.0.0.1:7880", "ws://127.0.0.1:7880/x"},
		" https://confab.example.com/ ": {"https://confab.example.com", "wss://confab.example.com/x"},
		"ws://h:1/base/?q=1#f":          {"http://h:1/base", "ws://h:1/base/x"},
		"wss://h":                       {"https://h", "wss://h/x"},
	} {
		u, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := [2]string{u.String(), WS(u, "/x")}; got != want {
			t.Errorf("Parse(%q) = %v, want %v", in, got, want)
		}
	}
	for _, bad := range []string{"", "ftp://h", "http://", "::"} {
		if _, err := Parse(bad); !errors.Is(err, ErrBad) {
			t.Errorf("Parse(%q) = %v, want ErrBad", bad, err)
		}
	}
}
