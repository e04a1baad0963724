package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestReactionsAllowList pins the allow-list to its exact code points, in
// picker order: clients written from PROTOCOL.md send these bytes.
func TestReactionsAllowList(t *testing.T) {
	want := [][]rune{
		{0x1F44D}, {0x1F44F}, {0x1F602}, {0x1F62E}, {0x2764, 0xFE0F}, {0x1F389}, {0x1F64C}, {0x1F914},
	}
	if len(Reactions) != len(want) {
		t.Fatalf("%d reactions; want %d", len(Reactions), len(want))
	}
	for i, r := range Reactions {
		if string(want[i]) != r {
			t.Errorf("Reactions[%d] = %+q; want %+q", i, r, string(want[i]))
		}
		if !ValidReaction(r) {
			t.Errorf("%+q is listed but not valid", r)
		}
		if len(r) > 6 {
			t.Errorf("%+q is %d bytes; the document says at most 6", r, len(r))
		}
	}
	if !strings.Contains(reactionList, ReactionHeart) || strings.Count(reactionList, " ") != len(Reactions)-1 {
		t.Errorf("reactionList %q does not name every reaction", reactionList)
	}
}

func TestReactValidation(t *testing.T) {
	cases := []struct {
		name string
		data string
		want error
	}{
		{"thumbs up", `{"emoji":"👍"}`, nil},
		{"heart with VS16", `{"emoji":"\u2764\ufe0f"}`, nil},
		{"heart without VS16", `{"emoji":"\u2764"}`, ErrBadReaction},
		{"thumbs up with a skin tone", `{"emoji":"👍🏽"}`, ErrBadReaction},
		{"two reactions", `{"emoji":"👍👍"}`, ErrBadReaction},
		{"text", `{"emoji":"<b>hi</b>"}`, ErrBadReaction},
		{"padded", `{"emoji":" 👍"}`, ErrBadReaction},
		{"empty", `{"emoji":""}`, ErrEmpty},
		{"missing", `{}`, ErrEmpty},
		{"long", `{"emoji":"` + strings.Repeat("x", 5000) + `"}`, ErrBadReaction},
		{"wrong type", `{"emoji":1}`, ErrBadMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := DecodeEnvelope([]byte(`{"v":1,"type":"react","data":` + tc.data + `}`))
			if err != nil {
				t.Fatal(err)
			}
			var r React
			err = DecodeData(env, &r)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrBadMessage) || Code(err) != CodeBadMessage {
				t.Fatalf("err = %v (code %s); want %v, bad_message", err, Code(err), tc.want)
			}
			if len(err.Error()) > 200 {
				t.Errorf("error message of %d bytes: %.80s…", len(err.Error()), err)
			}
		})
	}
}

func TestSetHandDecode(t *testing.T) {
	for _, tc := range []struct {
		data string
		want bool
		err  bool
	}{
		{`{"raised":true}`, true, false},
		{`{"raised":false}`, false, false},
		{`{}`, false, true},
		{`{"raise":true}`, false, true},
		{`{"raised":null}`, false, true},
		{`{"raised":"yes"}`, false, true},
		{`null`, false, true},
		{`[true]`, false, true},
	} {
		env, err := DecodeEnvelope([]byte(`{"v":1,"type":"set_hand","data":` + tc.data + `}`))
		if err != nil {
			t.Fatal(err)
		}
		var h SetHand
		err = DecodeData(env, &h)
		if (err != nil) != tc.err || h.Raised != tc.want || (err != nil && Code(err) != CodeBadMessage) {
			t.Errorf("%s: %+v, %v", tc.data, h, err)
		}
		if err != nil {
			t.Logf("%s: %v", tc.data, err)
		}
	}
	// Without data at all.
	env, err := DecodeEnvelope([]byte(`{"v":1,"type":"set_hand"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := DecodeData(env, &SetHand{}); !errors.Is(err, ErrBadMessage) {
		t.Errorf("set_hand without data: %v; want bad_message", err)
	}
}

// TestHandRaisedAtOmittedWhenDown: a participant with the hand down looks
// as before on the wire; a raised hand carries its time.
func TestHandRaisedAtOmittedWhenDown(t *testing.T) {
	b, _ := json.Marshal(Participant{ID: "a", Tracks: []Track{}})
	if strings.Contains(string(b), "hand_raised_at") {
		t.Errorf("hand down: %s", b)
	}
	b, _ = json.Marshal(Participant{ID: "a", Tracks: []Track{}, HandRaisedAt: 1763731200123})
	if !strings.Contains(string(b), `"hand_raised_at":1763731200123`) {
		t.Errorf("hand up: %s", b)
	}
	b, _ = Encode(TypeReaction, Reaction{From: "u-1", Emoji: ReactionHeart, At: 5})
	if string(b) != `{"v":1,"type":"reaction","data":{"from":"u-1","emoji":"❤️","at":5}}` {
		t.Errorf("reaction encodes as %s", b)
	}
}
