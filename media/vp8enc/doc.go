// Package vp8enc is a thin cgo binding to libvpx's VP8 encoder, set up for
// real-time calls: the realtime deadline, a fixed speed (cpu-used) chosen by
// resolution, threads by core count, error resilience and WebRTC-style
// constant-bit-rate control that does not drop frames.
//
// It replaces mediadevices' vpx encoder, which exposes none of the speed,
// thread, partition or buffer settings, leaves libvpx at cpu-used 0
// (automatic speed) and calls vpx_codec_enc_config_set before every frame;
// in VP8 that re-runs the encoder's configuration each time and keeps it at
// its slow speeds: 15 to 19 ms of CPU per 640x480 frame, against 2 ms here
// (BenchmarkEncode640x480). With four such encoders and their decoders on
// a 2-core machine, frames were lost to a CPU that could not keep up.
//
//	enc, _ := vp8enc.New(vp8enc.Config{Width: 640, Height: 480, FrameRate: 30, BitRate: 800_000})
//	defer enc.Close()
//	f, _ := enc.Encode(img, captureTime) // f.Data is valid until the next Encode
//	enc.SetBitRate(500_000)              // from any goroutine, e.g. congestion control
//	enc.ForceKeyFrame()                  // from any goroutine, e.g. on PLI
package vp8enc
