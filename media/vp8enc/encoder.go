package vp8enc

// #cgo pkg-config: vpx
// #include <stdlib.h>
// #include <string.h>
// #include <stdint.h>
// #include <vpx/vpx_encoder.h>
// #include <vpx/vp8cx.h>
//
// // vp8enc_t is one encoder and its buffers, all in C memory: libvpx keeps
// // pointers to the configuration, so it must not live in Go's heap.
// typedef struct {
//   vpx_codec_ctx_t ctx;
//   vpx_codec_enc_cfg_t cfg;
//   vpx_image_t img;
//   int inited;
//   unsigned char *conv; // I420 planes converted from other layouts
//   size_t conv_cap;
//   unsigned char *out; // the last encoded frame
//   size_t out_cap, out_len;
//   int out_key;
//   double psnr; // of the last frame when started with want_psnr, else -1
// } vp8enc_t;
//
// static vp8enc_t *vp8enc_new(void) {
//   vp8enc_t *e = calloc(1, sizeof(vp8enc_t));
//   if (e && vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &e->cfg, 0) != VPX_CODEC_OK) {
//     free(e);
//     return NULL;
//   }
//   return e;
// }
//
// static void vp8enc_stop(vp8enc_t *e) {
//   if (e->inited) vpx_codec_destroy(&e->ctx);
//   e->inited = 0;
// }
//
// static void vp8enc_free(vp8enc_t *e) {
//   vp8enc_stop(e);
//   free(e->conv);
//   free(e->out);
//   free(e);
// }
//
// static const char *vp8enc_error(vp8enc_t *e) {
//   const char *d = e->inited ? vpx_codec_error_detail(&e->ctx) : NULL;
//   return d ? d : "";
// }
//
// static vpx_codec_err_t vp8enc_start(vp8enc_t *e, int cpu_used, int partitions,
//     int static_thresh, int max_intra_pct, int screen, int want_psnr) {
//   vpx_codec_err_t err = vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), &e->cfg,
//       want_psnr ? VPX_CODEC_USE_PSNR : 0);
//   if (err != VPX_CODEC_OK) return err;
//   e->inited = 1;
//   if ((err = vpx_codec_control(&e->ctx, VP8E_SET_CPUUSED, cpu_used)) != VPX_CODEC_OK) return err;
//   if ((err = vpx_codec_control(&e->ctx, VP8E_SET_TOKEN_PARTITIONS, partitions)) != VPX_CODEC_OK) return err;
//   if ((err = vpx_codec_control(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, 0u)) != VPX_CODEC_OK) return err;
//   if ((err = vpx_codec_control(&e->ctx, VP8E_SET_STATIC_THRESHOLD, (unsigned)static_thresh)) != VPX_CODEC_OK) return err;
//   if ((err = vpx_codec_control(&e->ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, (unsigned)max_intra_pct)) != VPX_CODEC_OK) return err;
//   if ((err = vpx_codec_control(&e->ctx, VP8E_SET_SCREEN_CONTENT_MODE, (unsigned)screen)) != VPX_CODEC_OK) return err;
//   return VPX_CODEC_OK;
// }
//
// static unsigned char *vp8enc_conv(vp8enc_t *e, size_t n) {
//   if (e->conv_cap < n) {
//     free(e->conv);
//     e->conv = malloc(n);
//     e->conv_cap = e->conv ? n : 0;
//   }
//   return e->conv;
// }
//
// // Chroma of 4:2:2 (full height) to 4:2:0: the mean of each pair of rows.
// static void vp8enc_422(unsigned char *dst, int dst_stride, const unsigned char *src, int src_stride,
//     int cw, int ch_src) {
//   int ch = (ch_src + 1) / 2;
//   for (int y = 0; y < ch; y++) {
//     const unsigned char *a = src + (size_t)(2 * y) * src_stride;
//     const unsigned char *b = (2 * y + 1 < ch_src) ? a + src_stride : a;
//     unsigned char *d = dst + (size_t)y * dst_stride;
//     for (int x = 0; x < cw; x++) d[x] = (unsigned char)((a[x] + b[x] + 1) >> 1);
//   }
// }
//
// // Chroma of 4:4:4 to 4:2:0: the mean of each 2x2 block.
// static void vp8enc_444(unsigned char *dst, int dst_stride, const unsigned char *src, int src_stride,
//     int w, int h) {
//   int cw = (w + 1) / 2, ch = (h + 1) / 2;
//   for (int y = 0; y < ch; y++) {
//     const unsigned char *a = src + (size_t)(2 * y) * src_stride;
//     const unsigned char *b = (2 * y + 1 < h) ? a + src_stride : a;
//     unsigned char *d = dst + (size_t)y * dst_stride;
//     for (int x = 0; x < cw; x++) {
//       int x1 = (2 * x + 1 < w) ? 2 * x + 1 : 2 * x;
//       d[x] = (unsigned char)((a[2 * x] + a[x1] + b[2 * x] + b[x1] + 2) >> 2);
//     }
//   }
// }
//
// // RGBA (alpha ignored) to I420, BT.601 studio range as cameras and
// // libyuv's ARGBToI420 use.
// static void vp8enc_rgba(unsigned char *y, unsigned char *u, unsigned char *v, int w, int h,
//     const unsigned char *src, int src_stride) {
//   int cw = (w + 1) / 2;
//   for (int row = 0; row < h; row++) {
//     const unsigned char *s = src + (size_t)row * src_stride;
//     unsigned char *d = y + (size_t)row * w;
//     for (int x = 0; x < w; x++, s += 4)
//       d[x] = (unsigned char)(((66 * s[0] + 129 * s[1] + 25 * s[2] + 128) >> 8) + 16);
//   }
//   for (int row = 0; row < (h + 1) / 2; row++) {
//     const unsigned char *a = src + (size_t)(2 * row) * src_stride;
//     const unsigned char *b = (2 * row + 1 < h) ? a + src_stride : a;
//     for (int x = 0; x < cw; x++) {
//       int i0 = 8 * x, i1 = (2 * x + 1 < w) ? i0 + 4 : i0;
//       int r = (a[i0] + a[i1] + b[i0] + b[i1] + 2) >> 2;
//       int g = (a[i0 + 1] + a[i1 + 1] + b[i0 + 1] + b[i1 + 1] + 2) >> 2;
//       int bl = (a[i0 + 2] + a[i1 + 2] + b[i0 + 2] + b[i1 + 2] + 2) >> 2;
//       u[(size_t)row * cw + x] = (unsigned char)(((-38 * r - 74 * g + 112 * bl + 128) >> 8) + 128);
//       v[(size_t)row * cw + x] = (unsigned char)(((112 * r - 94 * g - 18 * bl + 128) >> 8) + 128);
//     }
//   }
// }
//
// // vp8enc_encode encodes one I420 frame and keeps what libvpx puts out in
// // e->out. The planes may be Go memory: libvpx copies the frame before
// // returning (no lag), and the pointers are cleared again.
// static vpx_codec_err_t vp8enc_encode(vp8enc_t *e, unsigned char *y, unsigned char *u,
//     unsigned char *v, int ys, int cs, int64_t pts, unsigned long dur, long flags) {
//   vpx_image_t *img = &e->img;
//   vpx_img_wrap(img, VPX_IMG_FMT_I420, e->cfg.g_w, e->cfg.g_h, 1, y);
//   img->planes[VPX_PLANE_Y] = y;
//   img->planes[VPX_PLANE_U] = u;
//   img->planes[VPX_PLANE_V] = v;
//   img->stride[VPX_PLANE_Y] = ys;
//   img->stride[VPX_PLANE_U] = cs;
//   img->stride[VPX_PLANE_V] = cs;
//   vpx_codec_err_t err = vpx_codec_encode(&e->ctx, img, pts, dur, flags, VPX_DL_REALTIME);
//   memset(img, 0, sizeof(*img));
//   e->out_len = 0;
//   e->out_key = 0;
//   e->psnr = -1;
//   if (err != VPX_CODEC_OK) return err;
//   vpx_codec_iter_t iter = NULL;
//   const vpx_codec_cx_pkt_t *pkt;
//   while ((pkt = vpx_codec_get_cx_data(&e->ctx, &iter)) != NULL) {
//     if (pkt->kind == VPX_CODEC_PSNR_PKT) e->psnr = pkt->data.psnr.psnr[0];
//     if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
//     size_t need = e->out_len + pkt->data.frame.sz;
//     if (need > e->out_cap) {
//       size_t cap = need * 2;
//       unsigned char *out = realloc(e->out, cap);
//       if (!out) return VPX_CODEC_MEM_ERROR;
//       e->out = out;
//       e->out_cap = cap;
//     }
//     memcpy(e->out + e->out_len, pkt->data.frame.buf, pkt->data.frame.sz);
//     e->out_len = need;
//     if (pkt->data.frame.flags & VPX_FRAME_IS_KEY) e->out_key = 1;
//   }
//   return VPX_CODEC_OK;
// }
//
// static vpx_codec_err_t vp8enc_set_config(vp8enc_t *e) {
//   return vpx_codec_enc_config_set(&e->ctx, &e->cfg);
// }
import "C"

import (
	"fmt"
	"image"
	"image/draw"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// clockRate is the encoder's time base: the RTP clock of VP8 (RFC 7741), so
// encoder timestamps and RTP timestamps count alike.
const clockRate = 90000

// Frame is one encoded frame.
type Frame struct {
	// Data is the VP8 frame (RFC 6386), valid until the next Encode or
	// Close. It is empty when the rate control skipped the frame (only
	// with a DropFrameThreshold).
	Data []byte
	// Key is set on keyframes.
	Key bool
}

// Stats counts what an Encoder did.
type Stats struct {
	Frames    uint64 // frames given to Encode
	Encoded   uint64 // frames put out
	Dropped   uint64 // frames the rate control skipped
	KeyFrames uint64
	Bytes     uint64
	// EncodeTime is the wall time spent in Encode (conversion to I420 and
	// libvpx), all frames together.
	EncodeTime time.Duration
	BitRate    int // the target in force
}

// Encoder is one libvpx VP8 encoder. Encode and Close are called by one
// goroutine at a time (the owner's writer); SetBitRate, ForceKeyFrame and
// Stats may be called from any goroutine and take effect at the next
// Encode.
type Encoder struct {
	mu     sync.Mutex // Encode, Close
	c      *C.vp8enc_t
	cfg    Config // the size is the current one
	user   Config // as passed to New, to pick speed and threads again on a new size
	first  time.Time
	last   int64 // pts of the previous frame, in clockRate ticks
	have   bool
	rate   int // bit rate in force
	closed bool

	// With cfg.psnr (benchmarks): the sum of the frames' PSNR and their
	// count.
	psnrSum float64
	psnrN   int

	keyReq  atomic.Bool
	newRate atomic.Int64 // bit rate to apply at the next Encode; 0: none

	frames, encoded, dropped, keys, bytes atomic.Uint64
	encodeNS, curRate                     atomic.Int64
}

// New starts an encoder. It fails with ErrConfig on out-of-range settings
// and ErrLibvpx when libvpx refuses them.
func New(cfg Config) (*Encoder, error) {
	full, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := C.vp8enc_new()
	if c == nil {
		return nil, fmt.Errorf("%w: no default configuration", ErrLibvpx)
	}
	e := &Encoder{c: c, cfg: full, user: cfg, rate: full.BitRate}
	e.curRate.Store(int64(full.BitRate))
	if err := e.start(); err != nil {
		C.vp8enc_free(c)
		return nil, err
	}
	return e, nil
}

// start configures and initializes libvpx for e.cfg.
func (e *Encoder) start() error {
	cfg := &e.c.cfg
	p := e.cfg
	cfg.g_w, cfg.g_h = C.uint(p.Width), C.uint(p.Height)
	cfg.g_timebase.num, cfg.g_timebase.den = 1, clockRate
	cfg.g_threads = C.uint(p.Threads)
	cfg.g_lag_in_frames = 0
	cfg.g_pass = C.VPX_RC_ONE_PASS
	// Error resilient: no probability context carried from frame to frame,
	// so a lost frame spoils only itself and its references.
	cfg.g_error_resilient = C.VPX_ERROR_RESILIENT_DEFAULT
	cfg.rc_end_usage = C.VPX_CBR
	cfg.rc_target_bitrate = C.uint(e.rate / 1000)
	cfg.rc_dropframe_thresh = C.uint(p.DropFrameThreshold)
	cfg.rc_resize_allowed = 0
	cfg.rc_min_quantizer = minQuantizer
	if p.Screen {
		cfg.rc_min_quantizer = screenMinQuant
	}
	cfg.rc_max_quantizer = maxQuantizer
	cfg.rc_undershoot_pct = undershootPct
	cfg.rc_overshoot_pct = overshootPct
	cfg.rc_buf_sz = bufferMS
	cfg.rc_buf_initial_sz = bufferInitialMS
	cfg.rc_buf_optimal_sz = bufferOptimalMS
	cfg.kf_mode = C.VPX_KF_AUTO
	cfg.kf_min_dist = 0
	cfg.kf_max_dist = C.uint(p.KeyFrameInterval)

	maxIntra := max(300, int(bufferOptimalMS*0.5*p.FrameRate/10))
	screen := boolInt(p.Screen)
	if rc := C.vp8enc_start(e.c, C.int(p.CPUUsed), C.int(tokenPartitions(p.Threads)),
		staticThreshold, C.int(maxIntra), C.int(screen), C.int(boolInt(p.psnr))); rc != C.VPX_CODEC_OK {
		err := e.libvpxErr("init", rc)
		C.vp8enc_stop(e.c)
		return err
	}
	return nil
}

func (e *Encoder) libvpxErr(what string, rc C.vpx_codec_err_t) error {
	msg := C.GoString(C.vpx_codec_err_to_string(rc))
	if d := C.GoString(C.vp8enc_error(e.c)); d != "" {
		msg += ": " + d
	}
	return fmt.Errorf("%w: %s: %s", ErrLibvpx, what, msg)
}

// Config returns the settings in force, defaults filled in.
func (e *Encoder) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.cfg
	c.BitRate = int(e.curRate.Load())
	return c
}

// SetBitRate sets the target bit rate in bit/s from the next frame on.
// Values below MinBitRate are raised to it. Safe from any goroutine: a
// congestion controller can call it as often as its estimate changes.
func (e *Encoder) SetBitRate(bps int) {
	e.newRate.Store(int64(max(bps, MinBitRate)))
}

// ForceKeyFrame makes the next frame a keyframe (for PLI and FIR). Safe
// from any goroutine.
func (e *Encoder) ForceKeyFrame() { e.keyReq.Store(true) }

// Stats returns the counts so far. Safe from any goroutine.
func (e *Encoder) Stats() Stats {
	return Stats{
		Frames: e.frames.Load(), Encoded: e.encoded.Load(), Dropped: e.dropped.Load(),
		KeyFrames: e.keys.Load(), Bytes: e.bytes.Load(),
		EncodeTime: time.Duration(e.encodeNS.Load()), BitRate: int(e.curRate.Load()),
	}
}

// Encode encodes img, captured at at (timestamps decide frame durations
// for the rate control; they should grow). Any image type works; the
// *image.YCbCr of cameras and *image.RGBA of screens convert fastest, and
// 4:2:0 YCbCr goes to libvpx without a copy. A frame of another size than
// the last restarts the encoder at the new size with a keyframe.
func (e *Encoder) Encode(img image.Image, at time.Time) (Frame, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return Frame{}, ErrClosed
	}
	begin := time.Now()
	e.frames.Add(1)
	b := img.Bounds()
	if b.Dx() != e.cfg.Width || b.Dy() != e.cfg.Height {
		if err := e.resize(b.Dx(), b.Dy()); err != nil {
			return Frame{}, err
		}
	}
	if r := e.newRate.Swap(0); r != 0 && int(r) != e.rate {
		e.c.cfg.rc_target_bitrate = C.uint(r / 1000)
		if rc := C.vp8enc_set_config(e.c); rc != C.VPX_CODEC_OK {
			return Frame{}, e.libvpxErr("set bit rate", rc)
		}
		e.rate = int(r)
		e.curRate.Store(r)
	}

	pts, dur := e.timestamp(at)
	var flags C.long
	if e.keyReq.Swap(false) {
		flags |= C.VPX_EFLAG_FORCE_KF
	}
	if err := e.encode(img, pts, dur, flags); err != nil {
		return Frame{}, err
	}
	f := Frame{Key: e.c.out_key != 0}
	if n := int(e.c.out_len); n > 0 {
		f.Data = unsafe.Slice((*byte)(unsafe.Pointer(e.c.out)), n)
		e.encoded.Add(1)
		e.bytes.Add(uint64(n))
		if f.Key {
			e.keys.Add(1)
		}
	} else {
		e.dropped.Add(1)
	}
	if e.c.psnr >= 0 {
		e.psnrSum += float64(e.c.psnr)
		e.psnrN++
	}
	e.encodeNS.Add(int64(time.Since(begin)))
	return f, nil
}

// timestamp returns img's pts and duration in clockRate ticks.
func (e *Encoder) timestamp(at time.Time) (pts int64, dur C.ulong) {
	nominal := int64(clockRate / e.cfg.FrameRate)
	if !e.have {
		e.first, e.have = at, true
		e.last = 0
		return 0, C.ulong(max(1, nominal))
	}
	pts = int64(at.Sub(e.first).Seconds()*clockRate + 0.5)
	if pts <= e.last {
		pts = e.last + 1 // libvpx wants timestamps that grow
	}
	d := pts - e.last
	e.last = pts
	return pts, C.ulong(d)
}

// encode hands img to libvpx as I420, converting when it is not.
func (e *Encoder) encode(img image.Image, pts int64, dur C.ulong, flags C.long) error {
	w, h := e.cfg.Width, e.cfg.Height
	cw, ch := (w+1)/2, (h+1)/2
	var y, u, v *C.uchar
	var ys, cs int
	switch m := img.(type) {
	case *image.YCbCr:
		o := m.Rect.Min
		yp := unsafe.Pointer(&m.Y[m.YOffset(o.X, o.Y)])
		cp := m.COffset(o.X, o.Y)
		switch m.SubsampleRatio {
		case image.YCbCrSubsampleRatio420:
			y, u, v = (*C.uchar)(yp), (*C.uchar)(&m.Cb[cp]), (*C.uchar)(&m.Cr[cp])
			ys, cs = m.YStride, m.CStride
		case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio444:
			buf := C.vp8enc_conv(e.c, C.size_t(2*cw*ch))
			if buf == nil {
				return fmt.Errorf("%w: out of memory", ErrLibvpx)
			}
			u = buf
			v = (*C.uchar)(unsafe.Add(unsafe.Pointer(buf), cw*ch))
			y, ys, cs = (*C.uchar)(yp), m.YStride, cw
			if m.SubsampleRatio == image.YCbCrSubsampleRatio422 {
				C.vp8enc_422(u, C.int(cw), (*C.uchar)(&m.Cb[cp]), C.int(m.CStride), C.int(cw), C.int(h))
				C.vp8enc_422(v, C.int(cw), (*C.uchar)(&m.Cr[cp]), C.int(m.CStride), C.int(cw), C.int(h))
			} else {
				C.vp8enc_444(u, C.int(cw), (*C.uchar)(&m.Cb[cp]), C.int(m.CStride), C.int(w), C.int(h))
				C.vp8enc_444(v, C.int(cw), (*C.uchar)(&m.Cr[cp]), C.int(m.CStride), C.int(w), C.int(h))
			}
		default:
			return e.encodeRGBA(toRGBA(img), pts, dur, flags)
		}
	case *image.RGBA:
		return e.encodeRGBA(m, pts, dur, flags)
	default:
		return e.encodeRGBA(toRGBA(img), pts, dur, flags)
	}
	if rc := C.vp8enc_encode(e.c, y, u, v, C.int(ys), C.int(cs), C.int64_t(pts), dur, flags); rc != C.VPX_CODEC_OK {
		return e.libvpxErr("encode", rc)
	}
	return nil
}

func (e *Encoder) encodeRGBA(m *image.RGBA, pts int64, dur C.ulong, flags C.long) error {
	w, h := e.cfg.Width, e.cfg.Height
	cw, ch := (w+1)/2, (h+1)/2
	buf := C.vp8enc_conv(e.c, C.size_t(w*h+2*cw*ch))
	if buf == nil {
		return fmt.Errorf("%w: out of memory", ErrLibvpx)
	}
	y := buf
	u := (*C.uchar)(unsafe.Add(unsafe.Pointer(buf), w*h))
	v := (*C.uchar)(unsafe.Add(unsafe.Pointer(buf), w*h+cw*ch))
	src := unsafe.Pointer(&m.Pix[m.PixOffset(m.Rect.Min.X, m.Rect.Min.Y)])
	C.vp8enc_rgba(y, u, v, C.int(w), C.int(h), (*C.uchar)(src), C.int(m.Stride))
	if rc := C.vp8enc_encode(e.c, y, u, v, C.int(w), C.int(cw), C.int64_t(pts), dur, flags); rc != C.VPX_CODEC_OK {
		return e.libvpxErr("encode", rc)
	}
	return nil
}

func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	m := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(m, m.Rect, img, b.Min, draw.Src)
	return m
}

// resize starts libvpx again at a new frame size; speed and threads are
// picked again when New left them to the encoder.
func (e *Encoder) resize(w, h int) error {
	next := e.user
	next.Width, next.Height = w, h
	next.BitRate = e.rate
	full, err := next.withDefaults()
	if err != nil {
		return err
	}
	C.vp8enc_stop(e.c)
	e.cfg = full
	if err := e.start(); err != nil {
		return err
	}
	e.keyReq.Store(false) // the first frame of a new encoder is a keyframe anyway
	return nil
}

// Close frees the encoder. It is idempotent.
func (e *Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	C.vp8enc_free(e.c)
	e.c = nil
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
