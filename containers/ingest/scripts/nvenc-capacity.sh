#!/usr/bin/env bash
# NVENC streams per GPU for Mirror's GPU path, on a g4dn (T4), g5 (A10G) or g6 (L4) host.
#
# Each stream is one ffmpeg doing what the ingest service runs for a stream (containers/ingest/src/transcode/
# ffmpeg-args.ts, GPU path; the argv is pinned by test/ingest/transcode.test.ts): NVDEC decode of HEVC 1080p30,
# scale_cuda, h264_nvenc p1/ull/zerolatency CBR without B-frames, IDR every 0.5 s, fragmented MP4 with 100 ms
# fragments. Input is a looped clip read in real time (-re), as from an encoder. Streams are added in steps; a step
# passes when every stream keeps real time (speed >= 0.97) over the measuring window.
#
# Usage: containers/ingest/scripts/nvenc-capacity.sh [ladder=tile|full] [max=40] [step=5] [window_s=30]
# Needs: ffmpeg with h264_nvenc/hevc_nvenc (Debian's or the ingest image's), nvidia-smi, an NVIDIA driver.
# In the ingest image: docker run --gpus all --entrypoint bash <image> /app/nvenc-capacity.sh (copy it in first).
set -euo pipefail

LADDER=${1:-tile}
MAX=${2:-40}
STEP=${3:-5}
WINDOW=${4:-30}
WORK=$(mktemp -d /tmp/nvenc-capacity.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v nvidia-smi >/dev/null || { echo "nvidia-smi not found: this needs an NVIDIA GPU host" >&2; exit 2; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
ffmpeg -hide_banner -encoders 2>/dev/null | grep -q h264_nvenc || { echo "ffmpeg lacks h264_nvenc" >&2; exit 2; }

CLIP="$WORK/hevc-1080p30.ts"
echo "making a 10 s HEVC 1080p30 clip with hevc_nvenc ..."
ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=1920x1080:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
  -t 10 -c:v hevc_nvenc -preset p4 -b:v 20M -g 15 -c:a aac -b:a 128k -f mpegts -y "$CLIP"

rung_args() { # name w h kbps maxkbps audio_kbps fd
  local w=$2 h=$3 kb=$4 mx=$5 ab=$6
  echo "-map 0:v:0 -map 0:a:0 -vf scale_cuda=${w}:${h} -r 30 -c:v h264_nvenc -preset p1 -tune ull -zerolatency 1 \
-rc cbr -b:v ${kb}k -maxrate ${mx}k -bufsize ${mx}k -bf 0 -rc-lookahead 0 -g 15 -forced-idr 1 \
-force_key_frames expr:gte(t,n_forced*0.5) -profile:v high -c:a aac -b:a ${ab}k -ac 2 -ar 48000 \
-f mp4 -movflags +frag_keyframe+empty_moov+default_base_moof+cmaf -frag_duration 100000 -flush_packets 1 -y /dev/null"
}
case "$LADDER" in
  tile) OUTPUTS="$(rung_args 360p 640 360 400 450 64)" ;;
  full) OUTPUTS="$(rung_args 1080p 1920 1080 5000 5500 128) $(rung_args 720p 1280 720 2500 2750 96) $(rung_args 360p 640 360 400 450 64)" ;;
  *) echo "ladder must be tile or full" >&2; exit 2 ;;
esac

start_stream() { # index
  # shellcheck disable=SC2086
  ffmpeg -hide_banner -nostdin -loglevel error -nostats -progress "$WORK/progress-$1" -stats_period 1 \
    -hwaccel cuda -hwaccel_output_format cuda -re -stream_loop -1 -f mpegts -i "$CLIP" $OUTPUTS \
    2>"$WORK/err-$1" &
}

speed_of() { grep '^speed=' "$WORK/progress-$1" 2>/dev/null | tail -1 | sed 's/speed=//; s/x//; s/ //g'; }
out_us_of() { grep '^out_time_us=' "$WORK/progress-$1" 2>/dev/null | tail -1 | sed 's/out_time_us=//'; }

printf '%8s %10s %12s %10s %10s\n' streams keeping-up min-advance enc-util% dec-util%
n=0
while [ "$n" -lt "$MAX" ]; do
  for _ in $(seq 1 "$STEP"); do start_stream "$n"; n=$((n + 1)); done
  sleep 8
  declare -A before=()
  for i in $(seq 0 $((n - 1))); do before[$i]=$(out_us_of "$i"); done
  util=$(nvidia-smi --query-gpu=utilization.encoder,utilization.decoder --format=csv,noheader,nounits 2>/dev/null || echo "?, ?")
  sleep "$WINDOW"
  keeping=0; min=999
  for i in $(seq 0 $((n - 1))); do
    after=$(out_us_of "$i")
    adv=$(awk -v a="${after:-0}" -v b="${before[$i]:-0}" -v w="$WINDOW" 'BEGIN { printf "%.3f", (a - b) / (w * 1e6) }')
    awk -v x="$adv" 'BEGIN { exit !(x >= 0.97) }' && keeping=$((keeping + 1))
    min=$(awk -v x="$adv" -v m="$min" 'BEGIN { print (x < m ? x : m) }')
  done
  printf '%8d %10d %12s %10s %10s\n' "$n" "$keeping" "$min" "${util%%,*}" "${util##*, }"
  if [ "$keeping" -lt "$n" ]; then
    echo "capacity: $((n - STEP)) streams of HEVC 1080p30 -> $LADDER ladder kept real time (the step to $n did not)"
    grep -h . "$WORK"/err-* 2>/dev/null | sort | uniq -c | head -5 || true
    exit 0
  fi
done
echo "capacity: at least $n streams (raise max)"
