package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	b, err := Encode(TypeChat, ChatSend{ID: "m1", Text: "hi there"})
	if err != nil {
		t.Fatal(err)
	}
	env, err := DecodeEnvelope(b)
	if err != nil {
		t.Fatal(err)
	}
	if env.V != ProtocolVersion || env.Type != TypeChat {
		t.Fatalf("envelope %+v", env)
	}
	var c ChatSend
	if err := DecodeData(env, &c); err != nil {
		t.Fatal(err)
	}
	if c.ID != "m1" || c.Text != "hi there" {
		t.Fatalf("payload %+v", c)
	}
}

func TestDecodeRefusals(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want error
	}{
		{"not json", `{`, ErrBadMessage},
		{"wrong version", `{"v":9,"type":"chat"}`, ErrVersion},
		{"missing version", `{"type":"chat"}`, ErrVersion},
		{"unknown type", `{"v":1,"type":"shutdown"}`, ErrUnknownType},
		{"too large", `{"v":1,"type":"chat","data":"` + strings.Repeat("x", MaxMessageBytes) + `"}`, ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeEnvelope([]byte(tc.raw)); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v; want %v", err, tc.want)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	cases := []struct {
		name string
		typ  string
		data string
		want error
	}{
		{"chat ok", TypeChat, `{"id":"a","text":"hello\nworld\t!"}`, nil},
		{"chat empty", TypeChat, `{"id":"a","text":"  "}`, ErrEmpty},
		{"chat too long", TypeChat, `{"id":"a","text":"` + strings.Repeat("é", MaxChatBytes/2+1) + `"}`, ErrTooLong},
		{"chat control", TypeChat, `{"id":"a","text":"a\u0007b"}`, ErrControl},
		{"chat bidi override", TypeChat, `{"id":"a","text":"abc\u202Edef"}`, ErrBidi},
		{"chat id missing", TypeChat, `{"text":"x"}`, ErrEmpty},
		{"chat id spaces", TypeChat, `{"id":"a b","text":"x"}`, ErrControl},
		{"join no token", TypeJoin, `{"room":"r"}`, ErrEmpty},
		{"join room bidi", TypeJoin, `{"token":"t","room":"a\u2066b"}`, ErrBidi},
		{"join room long", TypeJoin, `{"token":"t","room":"` + strings.Repeat("r", MaxNameRunes+1) + `"}`, ErrTooLong},
		{"join ok unicode", TypeJoin, `{"token":"t","room":"Café ☕ 東京"}`, nil},
		{"source unknown", TypeSetSource, `{"source":"x","enabled":true}`, ErrBadSource},
		{"history limit", TypeHistory, `{"before":3,"limit":500}`, ErrBadRequest},
		{"answer empty", TypeAnswer, `{"sdp":""}`, ErrEmpty},
		{"wrong field type", TypeChat, `{"id":5,"text":"x"}`, ErrBadMessage},
	}
	targets := map[string]func() any{
		TypeChat: func() any { return &ChatSend{} }, TypeJoin: func() any { return &Join{} },
		TypeSetSource: func() any { return &SetSource{} }, TypeHistory: func() any { return &HistoryRequest{} },
		TypeAnswer: func() any { return &Answer{} },
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := DecodeEnvelope([]byte(`{"v":1,"type":"` + tc.typ + `","data":` + tc.data + `}`))
			if err != nil {
				t.Fatal(err)
			}
			err = DecodeData(env, targets[tc.typ]())
			if tc.want == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrBadMessage) {
				t.Fatalf("err = %v; want %v (and ErrBadMessage)", err, tc.want)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"Ada", "Zoë", "李雷", "Team standup #3", strings.Repeat("x", MaxNameRunes)} {
		if err := ValidateName("name", ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "   ", "a\nb", "a\x00b", "\xff\xfe", "evil\u202Etxt.exe", strings.Repeat("x", MaxNameRunes+1)} {
		if err := ValidateName("name", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
