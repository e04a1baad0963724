//go:build !windows

// webrtc_shim.cc implements webrtc_shim.h over webrtc::AudioProcessing
// (the 0.3 API Debian ships).
#include "webrtc_shim.h"

#include <webrtc/common.h>
#include <webrtc/modules/audio_processing/include/audio_processing.h>

namespace {
const int kRate = 48000;
// The fixed gain the AGC's compressor may add on top of its adaptive
// gain: enough to bring -40 dBFS speech up to the target.
const int kCompressionGainDB = 20;
}

struct confab_apm {
  webrtc::AudioProcessing *apm;
  webrtc::StreamConfig cfg;
};

extern "C" confab_apm *confab_apm_new(int delay_agnostic, int extended) {
  webrtc::Config config;
  // The app cannot know the whole echo delay (the sound card's and the
  // room's part of it): the extended filter covers 128 ms of it, and
  // delay-agnostic mode can estimate it (see engine_webrtc.go).
  config.Set<webrtc::DelayAgnostic>(new webrtc::DelayAgnostic(delay_agnostic != 0));
  config.Set<webrtc::ExtendedFilter>(new webrtc::ExtendedFilter(extended != 0));
  // The "experimental" AGC drives an analog mixer level; there is none.
  config.Set<webrtc::ExperimentalAgc>(new webrtc::ExperimentalAgc(false));
  webrtc::AudioProcessing *apm = webrtc::AudioProcessing::Create(config);
  if (apm == nullptr) {
    return nullptr;
  }
  webrtc::ProcessingConfig pc = {{
      webrtc::StreamConfig(kRate, 1), webrtc::StreamConfig(kRate, 1),
      webrtc::StreamConfig(kRate, 1), webrtc::StreamConfig(kRate, 1),
  }};
  if (apm->Initialize(pc) != webrtc::AudioProcessing::kNoError) {
    delete apm;
    return nullptr;
  }
  apm->high_pass_filter()->Enable(true);
  apm->echo_cancellation()->enable_drift_compensation(false);
  // High suppression, measured (echo_test.go) against the library's
  // default, moderate: moderate keeps more of the near end in double talk
  // (correlation 0.81-0.84 against 0.72-0.73, level -3.7 against -5.8 dB)
  // but lets the echo through at 18-24 dB ERLE in the half second after
  // double talk (high: 29-37 dB); low misses 25 dB at 150 ms.
  apm->echo_cancellation()->set_suppression_level(
      webrtc::EchoCancellation::kHighSuppression);
  // The strongest level: measured (ns_agc_test.go) 1-2 dB more noise gone
  // than kHigh on white noise and babble for 0.2 dB of speech level.
  apm->noise_suppression()->set_level(webrtc::NoiseSuppression::kVeryHigh);
  apm->gain_control()->set_mode(webrtc::GainControl::kAdaptiveDigital);
  apm->gain_control()->set_compression_gain_db(kCompressionGainDB);
  apm->gain_control()->enable_limiter(true);
  confab_apm *a = new confab_apm;
  a->apm = apm;
  a->cfg = webrtc::StreamConfig(kRate, 1);
  return a;
}

extern "C" void confab_apm_free(confab_apm *a) {
  if (a == nullptr) {
    return;
  }
  delete a->apm;
  delete a;
}

extern "C" int confab_apm_configure(confab_apm *a, int aec, int ns, int agc, int agc_target_dbfs) {
  int err;
  if ((err = a->apm->echo_cancellation()->Enable(aec != 0)) != 0) return err;
  if ((err = a->apm->noise_suppression()->Enable(ns != 0)) != 0) return err;
  if ((err = a->apm->gain_control()->set_target_level_dbfs(agc_target_dbfs)) != 0) return err;
  return a->apm->gain_control()->Enable(agc != 0);
}

extern "C" int confab_apm_render(confab_apm *a, const float *far) {
  const float *src[1] = {far};
  // The reverse output is not used; the module only analyses it.
  static thread_local float scratch[kRate / 100];
  float *dst[1] = {scratch};
  return a->apm->ProcessReverseStream(src, a->cfg, a->cfg, dst);
}

extern "C" int confab_apm_capture(confab_apm *a, float *near, int delay_ms) {
  a->apm->set_stream_delay_ms(delay_ms);
  float *io[1] = {near};
  int err = a->apm->ProcessStream(io, a->cfg, a->cfg, io);
  // A delay out of range is only a warning: processing went on.
  if (err == webrtc::AudioProcessing::kBadStreamParameterWarning) {
    err = 0;
  }
  return err;
}
