#!/usr/bin/env bash
# bench-audio.sh measures the microphone's audio processing stage
# (media/audioproc): CPU time per 10 ms frame for echo cancellation, noise
# suppression and gain control alone and together (thread CPU time, so a
# busy machine distorts it little; %core = that time over the frame's
# 10 ms), then the figures of the measured test scenes for both engines
# (WebRTC AudioProcessing, the default, and speexdsp, built in with
# -tags speex for the comparison): ERLE and
# convergence (every 0.5 s segment >= 25 dB ERLE from then on) at 40 and
# 150 ms echo delay for the canceller alone, for the app's defaults (all
# stages on) and, for WebRTC, for the canceller without priming; the near
# end in double talk (correlation, segmental SNR, level); noise reduction
# in speech pauses and the speech level's change at 10 dB SNR (white,
# pink, 12-, 8- and 4-talker babble), AGC output for speech at -40 and
# -6 dBFS (target -20). Needs espeak-ng and sox
# (scripts/deps.sh test).
# Offline: no sound card, no network.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
export CONFAB_REQUIRE_AUDIO=1

# CPU figures mean little on a busy machine (thread CPU time distorts less
# than wall time, but shared caches and clocks still inflate it): say how
# busy it was.
read -r load _ < /proc/loadavg
cores=$(nproc)
echo "load average $load on $cores cores"
if awk -v l="$load" -v c="$cores" 'BEGIN { exit !(l > c / 2) }'; then
  echo "  (busy: the CPU figures below are inflated; measure again when the load is under $((cores / 2 > 0 ? cores / 2 : 1)))"
fi

out=$(go test -tags speex -run '^$' -bench 'Frame' -benchtime 2000x ./media/audioproc/)
echo "$out" | grep -E '^(Benchmark|ok)' | awk '
  /^Benchmark/ {
    for (i = 1; i <= NF; i++) if ($(i+1) == "cpu-ns/op") cpu = $i
    goal = ($1 ~ /\/all/) ? "  (goal: the whole stage < 5 %core)" : ""
    printf "%-40s %8.1f us CPU/frame  %5.2f %%core%s\n", $1, cpu / 1000, cpu / 1e7 * 100, goal
    next
  }
  { print }'

echo; echo "-- figures (the tests assert on the webrtc ones)"
go test -tags speex -run '^$' -bench 'Figures' -benchtime 1x ./media/audioproc/ | grep -E '^(Benchmark|ok)' | awk '
  /^Benchmark/ {
    print $1
    for (i = 3; i < NF; i += 2) if ($(i+1) != "ns/op") printf "  %-20s %8.2f\n", $(i+1), $i
    next
  }
  { print }'
