package wire

import (
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds arbitrary bytes to the decoder the server runs on every
// websocket message: it must never panic, and whatever it accepts must
// validate and re-encode.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{"v":1,"type":"join","data":{"token":"abc","room":"standup","mic":true,"camera":true}}`,
		`{"v":1,"type":"chat","data":{"id":"m-1","text":"hello"}}`,
		`{"v":1,"type":"answer","data":{"sdp":"v=0\r\n"}}`,
		`{"v":1,"type":"set_source","data":{"source":"screen","enabled":true}}`,
		`{"v":1,"type":"history","data":{"before":51,"limit":50}}`,
		`{"v":1,"type":"leave"}`,
		`{"v":1,"type":"renegotiate"}`,
		`{"v":1,"type":"chat","data":{"id":"\u202e","text":"\u0000"}}`,
		`{"v":1,"type":"join","data":null}`,
		`{"v":1,"type":"chat","data":[1,2,3]}`,
		`{"v":1e400}`,
		`[]`,
		`null`,
		`{"v":1,"type":"chat","data":{"id":"m","text":"\ud800"}}`,
		`{"v":1,"type":"history","data":{"after":3,"limit":50}}`,
		`{"v":1,"type":"set_hand","data":{"raised":true}}`,
		`{"v":1,"type":"set_hand","data":{"raised":"no"}}`,
		`{"v":1,"type":"react","data":{"emoji":"👍"}}`,
		`{"v":1,"type":"react","data":{"emoji":"\u2764\ufe0f"}}`,
		`{"v":1,"type":"react","data":{"emoji":"\u2764"}}`,
		`{"v":1,"type":"react","data":{"emoji":"\ud83d"}}`,
		`{"v":1,"type":"react","data":{"emoji":""}}`,
		`{"v":1,"type":"set_layer","data":{"track":"camera:u-1","width":320,"height":240}}`,
		`{"v":1,"type":"set_layer","data":{"track":"camera:u-1","layer":"q"}}`,
		`{"v":1,"type":"set_layer","data":{"track":"screen:u-1","paused":true}}`,
		`{"v":1,"type":"set_layer","data":{"track":"microphone:u-1","layer":"x","width":-1}}`,
		`{"v":1,"type":"set_layer","data":{"track":"camera:"}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := DecodeEnvelope(b)
		if err != nil {
			return
		}
		var target any
		switch env.Type {
		case TypeJoin:
			target = &Join{}
		case TypeChat:
			target = &ChatSend{}
		case TypeAnswer:
			target = &Answer{}
		case TypeSetSource:
			target = &SetSource{}
		case TypeHistory:
			target = &HistoryRequest{}
		case TypeSetHand:
			target = &SetHand{}
		case TypeReact:
			target = &React{}
		case TypeSetLayer:
			target = &SetLayer{}
		default:
			return
		}
		if !utf8.Valid(b) {
			t.Fatalf("accepted invalid UTF-8: %q", b)
		}
		if err := DecodeData(env, target); err != nil {
			return
		}
		if v, ok := target.(interface{ Validate() error }); ok && v.Validate() != nil {
			t.Fatalf("accepted a message that does not validate: %q", b)
		}
		if _, err := Encode(env.Type, target); err != nil {
			t.Fatalf("accepted message does not re-encode: %v", err)
		}
		if r, ok := target.(*React); ok && !ValidReaction(r.Emoji) {
			t.Fatalf("accepted a reaction outside the allow-list: %+q", r.Emoji)
		}
	})
}
