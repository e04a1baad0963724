package support

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, ok := range []string{"", "ada@example.com", "a.b+c@mail.example.org", "ünï@例え.jp"} {
		if err := ValidateEmail(ok); err != nil {
			t.Errorf("ValidateEmail(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"ada", "ada@", "@example.com", "ada@example", "a b@example.com", "ada@@example.com", "<ada@example.com>",
		"ada@.example.com", "ada@example.com.", "a\x00@example.com", strings.Repeat("a", 250) + "@example.com"} {
		if err := ValidateEmail(bad); err == nil {
			t.Errorf("ValidateEmail(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", " Ada", "Ada ", "A\u202eda", strings.Repeat("x", 65)} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("ValidateName(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"", "a b", "é", strings.Repeat("x", 65), "m/1"} {
		if err := ValidateID(bad); err == nil {
			t.Errorf("ValidateID(%q) accepted", bad)
		}
	}
	if err := ValidateID("m-1.2_3:4"); err != nil {
		t.Error(err)
	}
	for r, c := range map[int]string{0: "", 6: "", 3: strings.Repeat("x", 1001), 4: "bell\a"} {
		if err := ValidateFeedback(r, c); err == nil {
			t.Errorf("ValidateFeedback(%d, %q) accepted", r, c)
		}
	}
	if err := ValidateFeedback(5, "Fine\nthanks"); err != nil {
		t.Error(err)
	}
}

func TestAgentKey(t *testing.T) {
	id, key, hash, err := NewAgentKey()
	if err != nil {
		t.Fatal(err)
	}
	gid, secret, ok := SplitAgentKey(key)
	if !ok || gid != id || string(HashSecret(secret)) != string(hash) {
		t.Fatalf("SplitAgentKey(%q) = %q %q %v", key, gid, secret, ok)
	}
	if _, _, ok := SplitAgentKey(" " + key + "\n"); !ok {
		t.Error("surrounding white space (a pasted key) is not taken")
	}
	for _, bad := range []string{"", id, id + ".", "x-12345678." + secret, id + "." + secret[1:]} {
		if _, _, ok := SplitAgentKey(bad); ok {
			t.Errorf("SplitAgentKey(%q) ok", bad)
		}
	}
}
