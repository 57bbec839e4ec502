#!/usr/bin/env bash
# One-command GPU check (docs/gpu.md): build with -Pgpu, confirm TensorFlow sees the GPU, run the
# model tests that matter on it, then `bench model` and `bench train` in float32 and bfloat16.
# Every JSON result and log goes under one folder: $OUT when set, else gpu-check-<UTC time>/.
# Budget: the stage timeouts add up to 500 s (8 min 20 s) at the very worst; a stage that runs out
# is recorded as such in summary.txt and the script goes on.
#
#   scripts/gpu-check.sh              the GPU run (needs the GPU native jar in ~/.m2, see below)
#   scripts/gpu-check.sh --device cpu the same stages on the CPU build, with small cases and 6x the
#                                     timeouts (to test the script itself on a small CPU machine)
#   scripts/gpu-check.sh --dry-run    print the commands, run nothing
#
# Offline: the build runs `mvn -o`, so ~/.m2 must already hold the project's dependencies AND
# org.tensorflow:tensorflow-core-native:1.1.0:jar:linux-x86_64-gpu (526 MB). On a host with network:
#   mvn -B dependency:get -Dartifact=org.tensorflow:tensorflow-core-native:1.1.0:jar:linux-x86_64-gpu
# The host needs the NVIDIA driver and the CUDA 12 / cuDNN 9 libraries TF 2.18 was built against
# on LD_LIBRARY_PATH (docs/gpu.md); `bin/upcycle devices --require gpu` fails clearly otherwise.
set -uo pipefail

root="$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device=gpu
dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="${2:?--device needs cpu or gpu}"; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown argument '$1' (expected --device cpu|gpu, --dry-run)" >&2; exit 2 ;;
  esac
done
case "$device" in
  gpu) profile=(-Pgpu); train_case=t5-base; steps=5; scale=1; model_args=(--repeats 3); test_filter='ArchitectureGradientTest,MoeGradientTest,RouterTest,FunctionPreservationTest,XlaTest,TrainStepTest#xla*,PrecisionTrainingTest' ;;
  cpu) profile=(); train_case=vit-tiny; steps=2; scale=6; model_args=(--repeats 2 --tokens 512 --model-batch 2); test_filter='RouterTest,TrainStepTest#xlaCompiles*' ;;
  *) echo "gpu-check: --device must be cpu or gpu, got '$device'" >&2; exit 2 ;;
esac

out="${OUT:-$root/gpu-check-$(date -u +%Y%m%dT%H%M%SZ)}"
summary="$out/summary.txt"
[ "$dry" = 1 ] || mkdir -p "$out"
status=0

# stage NAME SECONDS OUTPUT-FILE COMMAND...: runs COMMAND under a timeout, stdout to OUTPUT-FILE,
# stderr to NAME.log; records the exit code and seconds in summary.txt.
stage() {
  local name="$1" limit=$(( $2 * scale )) file="$3"
  shift 3
  if [ "$dry" = 1 ]; then
    echo "[$name, ${limit}s] $* > ${file:-/dev/null}"
    return 0
  fi
  local t0 rc
  t0=$(date +%s)
  echo "gpu-check: $name ..." >&2
  (cd "$root" && timeout "$limit" "$@") > "${file:-/dev/null}" 2> "$out/$name.log"
  rc=$?
  printf '%-22s rc=%-3s %4ss%s\n' "$name" "$rc" "$(( $(date +%s) - t0 ))" \
    "$([ "$rc" = 124 ] && echo '  (timed out)')" >> "$summary"
  [ "$rc" = 0 ] || status=1
  return "$rc"
}

if [ "$dry" = 0 ]; then
  {
    echo "gpu-check $(date -u +%FT%TZ) device=$device commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null)"
    uptime
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  } > "$summary" 2>&1
  if [ "$device" = gpu ] && ! ls ~/.m2/repository/org/tensorflow/tensorflow-core-native/1.1.0/*linux-x86_64-gpu.jar \
      >/dev/null 2>&1; then
    echo "gpu-check: ~/.m2 lacks tensorflow-core-native-1.1.0-linux-x86_64-gpu.jar; fetch it first (see the header)" \
      | tee -a "$summary" >&2
    exit 1
  fi
fi

# 1. build (tests skipped; bin/upcycle then runs on this build: its classpath file is fresh)
stage build 120 "" mvn -o -B -q "${profile[@]}" -DskipTests package || { echo "gpu-check: build failed" >&2; exit 1; }
# 2. what TF sees; on the GPU run, no GPU = stop here (everything after would measure the CPU)
stage devices 30 "$out/devices.txt" bin/upcycle devices --require "$device" || { [ "$dry" = 1 ] || exit 1; }
# 3. the model tests that matter (their sessions use TF's default placement: the GPU when present)
stage tests 100 "" mvn -o -B -q "${profile[@]}" -pl model,upcycle,train -am test -Dtest="$test_filter" \
  -Dsurefire.failIfNoSpecifiedTests=false
# 4. benchmarks, float32 and bfloat16
for p in float32 bfloat16; do
  stage "bench-model-$p" 45 "$out/bench-model-$p.json" bin/upcycle bench model --precision "$p" "${model_args[@]}"
  stage "bench-train-$p" 80 "$out/bench-train-$p.json" bin/upcycle bench train --device "$device" \
    --only "$train_case" --xla module,off --precision "$p" --warmup 2 --steps "$steps"
done
if [ "$dry" = 0 ]; then
  uptime >> "$summary"
  cat "$summary" >&2
  echo "gpu-check: results in $out" >&2
fi
exit "$status"
