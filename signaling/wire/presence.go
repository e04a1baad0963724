package wire

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Raising a hand and reacting (PROTOCOL.md §5.1 set_hand and react, §5.2
// reaction). A raised hand is part of a participant's state
// (Participant.HandRaisedAt); a reaction is an event the server passes on
// and forgets.

// The reactions a client may send, exactly these strings: the code points
// are given because some emoji look alike with and without a variation
// selector, and only the forms below are accepted.
const (
	ReactionThumbsUp   = "\U0001F44D"   // 👍 U+1F44D THUMBS UP SIGN
	ReactionClap       = "\U0001F44F"   // 👏 U+1F44F CLAPPING HANDS SIGN
	ReactionJoy        = "\U0001F602"   // 😂 U+1F602 FACE WITH TEARS OF JOY
	ReactionSurprised  = "\U0001F62E"   // 😮 U+1F62E FACE WITH OPEN MOUTH
	ReactionHeart      = "\u2764\uFE0F" // ❤️ U+2764 HEAVY BLACK HEART + U+FE0F VARIATION SELECTOR-16 (6 bytes, the longest)
	ReactionParty      = "\U0001F389"   // 🎉 U+1F389 PARTY POPPER
	ReactionRaiseHands = "\U0001F64C"   // 🙌 U+1F64C PERSON RAISING BOTH HANDS IN CELEBRATION
	ReactionThinking   = "\U0001F914"   // 🤔 U+1F914 THINKING FACE
)

// reactionList is the allowed reactions as the refusal names them.
const reactionList = ReactionThumbsUp + " " + ReactionClap + " " + ReactionJoy + " " + ReactionSurprised + " " +
	ReactionHeart + " " + ReactionParty + " " + ReactionRaiseHands + " " + ReactionThinking

// Reactions lists the allowed reactions in the order a picker shows them.
// Changing the slice changes nothing but what a caller shows: ValidReaction
// checks against the constants.
var Reactions = []string{
	ReactionThumbsUp, ReactionClap, ReactionJoy, ReactionSurprised,
	ReactionHeart, ReactionParty, ReactionRaiseHands, ReactionThinking,
}

// ValidReaction reports whether s is exactly one of the allowed reactions.
func ValidReaction(s string) bool {
	switch s {
	case ReactionThumbsUp, ReactionClap, ReactionJoy, ReactionSurprised,
		ReactionHeart, ReactionParty, ReactionRaiseHands, ReactionThinking:
		return true
	}
	return false
}

// ErrBadReaction reports an emoji that is not one of the allowed reactions.
var ErrBadReaction = errors.New("not one of the allowed reactions")

// SetHand raises or lowers the sender's hand.
type SetHand struct {
	Raised bool `json:"raised"`
}

// setHandFields is SetHand as read, to tell a missing raised from false.
type setHandFields struct {
	Raised *bool `json:"raised"`
}

// UnmarshalJSON reads a SetHand, which must be an object whose raised is
// true or false: a misspelt or missing field is refused rather than read
// as "lower the hand".
func (h *SetHand) UnmarshalJSON(b []byte) error {
	var f setHandFields
	if string(b) == "null" {
		return fmt.Errorf("data: %w (want {\"raised\":true or false})", ErrEmpty)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if f.Raised == nil {
		return fmt.Errorf("raised: %w (want true or false)", ErrEmpty)
	}
	h.Raised = *f.Raised
	return nil
}

// React sends a short-lived reaction to the room.
type React struct {
	// Emoji is one of Reactions, byte for byte.
	Emoji string `json:"emoji"`
}

// Reaction is a reaction the server passes on to everyone in the room,
// the sender included.
type Reaction struct {
	From  string `json:"from"`  // the sender's participant id
	Emoji string `json:"emoji"` // one of Reactions
	At    int64  `json:"at"`    // when the server received it, Unix ms
}

// Validate checks a React: its emoji must be one of Reactions exactly (so
// at most 6 bytes). The error quotes at most 16 bytes of what was sent.
func (r *React) Validate() error {
	if ValidReaction(r.Emoji) {
		return nil
	}
	if r.Emoji == "" {
		return fmt.Errorf("emoji: %w", ErrEmpty)
	}
	return fmt.Errorf("emoji %+q: %w (allowed: %s)", truncate(r.Emoji, 16), ErrBadReaction, reactionList)
}
