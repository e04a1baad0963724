package decode

// A thin libvpx VP8 decoder: mediadevices' decoder copies every picture
// into a newly allocated image, while this one copies it straight into the
// frame slot's recycled buffer, so decoding allocates nothing per frame.

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8dx.h>

static vpx_codec_ctx_t *confab_vp8_new(void) {
	vpx_codec_ctx_t *ctx = calloc(1, sizeof *ctx);
	if (ctx == NULL) {
		return NULL;
	}
	vpx_codec_dec_cfg_t cfg = {0};
	cfg.threads = 1;
	if (vpx_codec_dec_init(ctx, vpx_codec_vp8_dx(), &cfg, 0) != VPX_CODEC_OK) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

typedef struct {
	vpx_image_t *img;
	vpx_codec_err_t err;
} confab_vp8_result;

// confab_vp8_decode decodes one frame and returns the picture it shows:
// NULL for a frame that shows none (a golden or altref update). The
// picture stays valid until the next call.
static confab_vp8_result confab_vp8_decode(vpx_codec_ctx_t *ctx, const uint8_t *data, unsigned int n) {
	confab_vp8_result r = {NULL, VPX_CODEC_OK};
	r.err = vpx_codec_decode(ctx, data, n, NULL, 0);
	if (r.err != VPX_CODEC_OK) {
		return r;
	}
	vpx_codec_iter_t iter = NULL;
	r.img = vpx_codec_get_frame(ctx, &iter);
	while (vpx_codec_get_frame(ctx, &iter) != NULL) {
		// VP8 shows at most one picture per frame.
	}
	return r;
}

static void confab_vp8_free(vpx_codec_ctx_t *ctx) {
	vpx_codec_destroy(ctx);
	free(ctx);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"

	"github.com/confab/confab/media"
)

// vp8Decoder is one libvpx VP8 decoding context. It is not safe for
// concurrent use; VideoDecoder calls it under its lock.
type vp8Decoder struct {
	ctx *C.vpx_codec_ctx_t
}

func newVP8Decoder() (*vp8Decoder, error) {
	ctx := C.confab_vp8_new()
	if ctx == nil {
		return nil, errors.New("vpx_codec_dec_init failed")
	}
	return &vp8Decoder{ctx: ctx}, nil
}

// decode decodes one VP8 frame and, if it shows a picture, copies the
// picture into slot. It returns the picture's size, or (0,0) for a frame
// that shows none.
func (d *vp8Decoder) decode(data []byte, slot *media.FrameSlot) (image.Point, error) {
	if len(data) == 0 {
		return image.Point{}, nil
	}
	r := C.confab_vp8_decode(d.ctx, (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(data))), C.uint(len(data)))
	if r.err != C.VPX_CODEC_OK {
		return image.Point{}, fmt.Errorf("%s", C.GoString(C.vpx_codec_error(d.ctx)))
	}
	img := r.img
	if img == nil {
		return image.Point{}, nil
	}
	w, h := int(img.d_w), int(img.d_h)
	cw, ch := (w+1)/2, (h+1)/2
	ys, us, vs := int(img.stride[0]), int(img.stride[1]), int(img.stride[2])
	if img.fmt != C.VPX_IMG_FMT_I420 || w <= 0 || h <= 0 || ys < w || us < cw || vs < cw {
		return image.Point{}, fmt.Errorf("unexpected picture: format %#x, %dx%d, strides %d %d %d",
			int(img.fmt), w, h, ys, us, vs)
	}
	y := unsafe.Slice((*byte)(unsafe.Pointer(img.planes[0])), (h-1)*ys+w)
	u := unsafe.Slice((*byte)(unsafe.Pointer(img.planes[1])), (ch-1)*us+cw)
	v := unsafe.Slice((*byte)(unsafe.Pointer(img.planes[2])), (ch-1)*vs+cw)
	slot.Write(w, h, func(dst *image.YCbCr) {
		for row := 0; row < h; row++ {
			copy(dst.Y[row*dst.YStride:][:w], y[row*ys:])
		}
		for row := 0; row < ch; row++ {
			copy(dst.Cb[row*dst.CStride:][:cw], u[row*us:])
			copy(dst.Cr[row*dst.CStride:][:cw], v[row*vs:])
		}
	})
	return image.Pt(w, h), nil
}

// close frees the context. The decoder must not be used afterwards.
func (d *vp8Decoder) close() {
	if d.ctx != nil {
		C.confab_vp8_free(d.ctx)
		d.ctx = nil
	}
}
