package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestSetLayerValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		data string
		want error // nil: accepted
	}{
		{"by size", `{"track":"camera:u-1","width":320,"height":240}`, nil},
		{"width only", `{"track":"camera:u-1","width":320}`, nil},
		{"by layer", `{"track":"screen:u-1","layer":"h"}`, nil},
		{"paused", `{"track":"camera:u-1","paused":true}`, nil},
		{"default", `{"track":"camera:Ada Lovelace"}`, nil},
		{"paused false is default", `{"track":"camera:u-1","paused":false,"layer":"f"}`, nil},
		{"no track", `{"layer":"q"}`, ErrEmpty},
		{"null data", `null`, ErrEmpty},
		{"no source", `{"track":"u-1"}`, ErrBadLayer},
		{"unknown source", `{"track":"mouth:u-1"}`, ErrBadLayer},
		{"no participant", `{"track":"camera:"}`, ErrBadLayer},
		{"audio", `{"track":"microphone:u-1","layer":"q"}`, ErrBadLayer},
		{"bad layer", `{"track":"camera:u-1","layer":"F"}`, ErrBadLayer},
		{"negative", `{"track":"camera:u-1","width":-1}`, ErrBadLayer},
		{"too wide", `{"track":"camera:u-1","width":16385}`, ErrBadLayer},
		{"two modes", `{"track":"camera:u-1","layer":"q","width":100}`, ErrBadLayer},
		{"paused and layer", `{"track":"camera:u-1","layer":"q","paused":true}`, ErrBadLayer},
		{"fractional", `{"track":"camera:u-1","width":1.5}`, ErrBadMessage},
		{"wrong type", `{"track":"camera:u-1","paused":"yes"}`, ErrBadMessage},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, err := DecodeEnvelope([]byte(`{"v":1,"type":"set_layer","data":` + c.data + `}`))
			if err != nil {
				t.Fatal(err)
			}
			var s SetLayer
			err = DecodeData(env, &s)
			switch {
			case c.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("error %v, want %v", err, c.want)
			case err != nil && !strings.HasPrefix(err.Error(), "bad message: set_layer: "):
				t.Fatalf("error %q does not say what it refused", err)
			}
		})
	}
}
