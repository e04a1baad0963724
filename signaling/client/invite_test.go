package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/confab/confab/signaling/wire"
)

// TestCreateInviteOldServer: a server without the invite API answers 404
// (its mux knows no /api/invite): ErrNoInvites. A refusal with an error
// body is a *wire.Error, and no server at all is ErrUnreachable.
func TestCreateInviteOldServer(t *testing.T) {
	old := httptest.NewServer(http.NotFoundHandler())
	defer old.Close()
	if _, err := CreateInvite(context.Background(), nil, old.URL, "tok", InviteOptions{}); !errors.Is(err, ErrNoInvites) {
		t.Fatalf("old server: %v, want ErrNoInvites", err)
	}
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"code":"permission_denied","message":"a guest's token cannot make invites"}`))
	}))
	defer refusing.Close()
	var we *wire.Error
	if _, err := CreateInvite(context.Background(), nil, refusing.URL, "tok", InviteOptions{}); !errors.As(err, &we) || we.Code != wire.CodePermissionDenied {
		t.Fatalf("refusal: %v", err)
	}
	addr := old.URL
	old.Close()
	if _, err := CreateInvite(context.Background(), nil, addr, "tok", InviteOptions{}); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("no server: %v, want ErrUnreachable", err)
	}
}
