package wire

import (
	"encoding/json"
	"errors"
	"fmt"
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

// TestDecodeRefusesInvalidText covers text that encoding/json would accept
// and silently turn into U+FFFD: raw invalid bytes and escaped lone
// surrogates, in any field. Paired surrogates and real U+FFFD pass.
func TestDecodeRefusesInvalidText(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		ok   bool
		ref  string
	}{
		{"raw invalid byte in text", "{\"v\":1,\"type\":\"chat\",\"data\":{\"id\":\"m1\",\"text\":\"a\xffb\"}}", false, "m1"},
		{"truncated sequence", "{\"v\":1,\"type\":\"chat\",\"data\":{\"id\":\"m1\",\"text\":\"a\xe2\x82\"}}", false, "m1"},
		{"lone high surrogate", `{"v":1,"type":"chat","data":{"id":"m2","text":"a\ud800b"}}`, false, "m2"},
		{"lone low surrogate", `{"v":1,"type":"chat","data":{"id":"m3","text":"\udc00"}}`, false, "m3"},
		{"high surrogate at end", `{"v":1,"type":"chat","data":{"id":"m4","text":"x\uD83D"}}`, false, "m4"},
		{"high then non-low", `{"v":1,"type":"chat","data":{"id":"m5","text":"\ud83d\u0041"}}`, false, "m5"},
		{"two highs", `{"v":1,"type":"chat","data":{"id":"m6","text":"\ud83d\ud83d"}}`, false, "m6"},
		{"invalid in an unknown field", "{\"v\":1,\"type\":\"leave\",\"x\":\"\xc0\"}", false, ""},
		{"lone surrogate in history req", `{"v":1,"type":"history","data":{"req":"h1","x":"\udfff"}}`, false, "h1"},
		{"invalid id is not echoed", "{\"v\":1,\"type\":\"chat\",\"data\":{\"id\":\"m\xff\",\"text\":\"x\"}}", false, ""},
		{"escaped backslash then u", `{"v":1,"type":"chat","data":{"id":"m7","text":"\\ud800"}}`, true, ""},
		{"paired surrogates", `{"v":1,"type":"chat","data":{"id":"m8","text":"\ud83d\ude00 ok"}}`, true, ""},
		{"raw emoji and U+FFFD", `{"v":1,"type":"chat","data":{"id":"m9","text":"😀 � é"}}`, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := DecodeEnvelope([]byte(tc.raw))
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrBadMessage) || !errors.Is(err, ErrNotUTF8) {
				t.Fatalf("err = %v; want ErrBadMessage and ErrNotUTF8", err)
			}
			if Code(err) != CodeBadMessage {
				t.Fatalf("code %s; want bad_message", Code(err))
			}
			if got := Ref(env); got != tc.ref {
				t.Fatalf("ref %q; want %q", got, tc.ref)
			}
		})
	}
}

func TestDecodeRefusesNonObjects(t *testing.T) {
	for _, raw := range []string{`null`, ` null `, `[]`, `"chat"`, `1`, `true`, ``, `  `} {
		_, err := DecodeEnvelope([]byte(raw))
		if !errors.Is(err, ErrBadMessage) || Code(err) != CodeBadMessage {
			t.Errorf("%q: err %v (code %s); want bad_message", raw, err, Code(err))
		}
	}
}

// TestCodes checks which wire code each decoding failure maps to: only
// chat text over MaxChatBytes is too_large; an over-long id is bad_message.
func TestCodes(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		code string
	}{
		{"text too long", `{"v":1,"type":"chat","data":{"id":"a","text":"` + strings.Repeat("x", MaxChatBytes+1) + `"}}`, CodeTooLarge},
		{"id 65 chars", `{"v":1,"type":"chat","data":{"id":"` + strings.Repeat("i", MaxMessageIDBytes+1) + `","text":"x"}}`, CodeBadMessage},
		{"id 65 chars and text too long", `{"v":1,"type":"chat","data":{"id":"` + strings.Repeat("i", MaxMessageIDBytes+1) + `","text":"` + strings.Repeat("x", MaxChatBytes+1) + `"}}`, CodeBadMessage},
		{"history req too long", `{"v":1,"type":"history","data":{"req":"` + strings.Repeat("r", MaxMessageIDBytes+1) + `"}}`, CodeBadMessage},
		{"wrong version", `{"v":2,"type":"chat","data":{}}`, CodeUnsupportedProtocol},
		{"history before and after", `{"v":1,"type":"history","data":{"before":5,"after":2}}`, CodeBadMessage},
		{"history after negative", `{"v":1,"type":"history","data":{"after":-1}}`, CodeBadMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := DecodeEnvelope([]byte(tc.raw))
			if err == nil {
				var v any = &ChatSend{}
				if env.Type == TypeHistory {
					v = &HistoryRequest{}
				}
				err = DecodeData(env, v)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if got := Code(err); got != tc.code {
				t.Fatalf("code %s (%v); want %s", got, err, tc.code)
			}
		})
	}
}

// TestEncodeMatchesEnvelope: Encode gives what marshalling an Envelope
// gives, with and without a payload.
func TestEncodeMatchesEnvelope(t *testing.T) {
	for _, tc := range []struct {
		typ     string
		payload any
	}{
		{TypeChat, ChatEvent{Message: ChatMessage{Seq: 1, ID: "a", Text: "<é>\u2028"}}},
		{TypeLeave, nil},
		{TypeRenegotiate, struct{}{}},
		{TypeError, &Error{Code: CodeOverloaded, Message: "busy", Ref: "x"}},
	} {
		got, err := Encode(tc.typ, tc.payload)
		if err != nil {
			t.Fatal(err)
		}
		var raw json.RawMessage
		if tc.payload != nil {
			raw, _ = json.Marshal(tc.payload)
		}
		want, _ := json.Marshal(Envelope{V: ProtocolVersion, Type: tc.typ, Data: raw})
		if string(got) != string(want) {
			t.Errorf("Encode(%s) = %s; want %s", tc.typ, got, want)
		}
	}
}

func TestLongWhitespaceIsTooLarge(t *testing.T) {
	err := ValidateChatText(strings.Repeat(" ", MaxChatBytes+1))
	if Code(fmt.Errorf("%w: %w", ErrBadMessage, err)) != CodeTooLarge {
		t.Fatalf("err %v; want too_large", err)
	}
}
