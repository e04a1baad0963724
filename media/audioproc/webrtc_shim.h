// webrtc_shim.h is a plain C face over the WebRTC AudioProcessing module
// (libwebrtc-audio-processing, C++), for cgo.
#ifndef CONFAB_WEBRTC_SHIM_H
#define CONFAB_WEBRTC_SHIM_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct confab_apm confab_apm;

// confab_apm_new makes a 48 kHz mono processor; NULL on failure.
confab_apm *confab_apm_new(int delay_agnostic, int extended);
void confab_apm_free(confab_apm *a);

// confab_apm_configure turns the stages on or off; agc_target_dbfs is the
// AGC's target peak level below full scale (positive, 0..31). It returns 0
// or a negative AudioProcessing error code.
int confab_apm_configure(confab_apm *a, int aec, int ns, int agc, int agc_target_dbfs);

// confab_apm_render analyses one 10 ms far-end frame (480 floats in
// [-1, 1]).
int confab_apm_render(confab_apm *a, const float *far);

// confab_apm_capture processes one 10 ms near-end frame in place;
// delay_ms is the delay between the far end passed in with
// confab_apm_render and its echo in this frame, as far as it is known.
int confab_apm_capture(confab_apm *a, float *near, int delay_ms);

#ifdef __cplusplus
}
#endif
#endif
