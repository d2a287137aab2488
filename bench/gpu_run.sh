#!/usr/bin/env bash
# bench/gpu_run.sh: the GPU suite on a lent GPU machine, in one command. UNTESTED on real hardware.
#
#   bench/gpu_run.sh --prepare   here, where npm and apt work: fills the ignored folder .gpu/ with
#                                Deno (xz, ~30 MB), a DENO_DIR holding the bench's npm packages
#                                (tar.xz) with the config naming them, and the Vulkan loader's .deb
#                                files (what the device README lists)
#   bench/gpu_run.sh [ARGS]      there (device tool: command "bash bench/gpu_run.sh",
#                                carry [".gpu"], timeout_s 600): unpacks Deno and the loader, sets
#                                DENO_DIR and NVIDIA's ICD, runs bench/gpu_preflight.sh, then
#                                what `deno task bench --suite gpu --json` runs, with ARGS (e.g.
#                                --peak-tflops 67), writing everything under $OUT
#
# Files under $OUT (at most 8 come back): gpu_env.txt (machine, driver, Deno), preflight.txt (its
# one line), gpu.json (the figures), gpu_bench.log (table and progress; rows finished before a
# time limit stay in it). When the preflight is not ready the suite is skipped (exit 1): a
# fallback adapter's figures are no GPU figures. --anyway runs it all the same.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
gpu="$root/.gpu"
# Unpacked Deno and DENO_DIR go outside the checkout, so that .gpu stays small enough to carry.
scratch="${GPU_SCRATCH:-/tmp/simfluence-gpu}"
DENO_VERSION=2.9.6
# The device README's loader set: libvulkan1 for Vulkan, glvnd's libraries for NVIDIA's ICD
# (libGLX_nvidia needs libGLdispatch) and for GL over EGL.
LOADER_PACKAGES="libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2"

prepare() {
  mkdir -p "$gpu/debs"
  cd "$root" || exit 1
  grep -qx '/.gpu/' .gitignore || echo "warning: /.gpu/ is not in .gitignore" >&2

  echo "1/3 Vulkan loader .deb files (amd64) -> .gpu/debs" >&2
  local apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/simfluence-apt-amd64)
  mkdir -p /tmp/simfluence-apt-amd64/partial
  apt-get "${apt_opts[@]}" update >/dev/null &&
    (cd "$gpu/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" download $LOADER_PACKAGES) ||
    echo "warning: apt could not download the loader; the device needs its own libvulkan1" >&2

  echo "2/3 Deno $DENO_VERSION -> .gpu/deno.xz" >&2
  local exe
  exe=$(npx -y "deno@$DENO_VERSION" eval 'console.log(Deno.execPath())') || exit 1
  if [ ! -f "$gpu/deno.xz" ] || [ "$(cat "$gpu/deno.version" 2>/dev/null)" != "$DENO_VERSION" ]; then
    nice -n 10 xz -9 -T1 -c "$exe" >"$gpu/deno.xz.tmp" && mv "$gpu/deno.xz.tmp" "$gpu/deno.xz"
    echo "$DENO_VERSION" >"$gpu/deno.version"
  fi

  echo "3/3 the bench's npm packages -> .gpu/deno_dir.tar.xz (DENO_DIR), .gpu/deno.bench.json" >&2
  # Deno installs every npm import of a config at start-up, 235 MiB with deno.json's (puppeteer,
  # typescript, a 109 MiB spam corpus): too much to carry. deno.bench.json keeps the imports that
  # bench/main.ts's module graph names, less the corpus, which only a dynamic import in
  # src/datasets/spam.ts loads and the gpu suite never reaches.
  local keep
  keep=$("$exe" info --json bench/main.ts | grep -o '"npm:[^/"][^"]*"' | sort -u | tr '\n' ' ')
  "$exe" eval --quiet "
    const config = JSON.parse(Deno.readTextFileSync('deno.json'));
    const keep = '$keep';
    const imports = Object.fromEntries(Object.entries(config.imports).filter(([name, target]) =>
      keep.includes('\"' + target + '\"') && !name.startsWith('@stdlib/')));
    Deno.writeTextFileSync('.gpu/deno.bench.json', JSON.stringify({ imports }, null, 2) + '\\n');
  " || exit 1
  rm -rf "$gpu/deno_dir"
  DENO_DIR="$gpu/deno_dir" "$exe" run --config .gpu/deno.bench.json --no-lock --allow-all \
    bench/main.ts --no-such-flag >/dev/null 2>&1
  # Proof that nothing more is fetched: load the module graph from the cache alone.
  local proof
  proof=$(DENO_DIR="$gpu/deno_dir" "$exe" run --cached-only --config .gpu/deno.bench.json \
    --no-lock --allow-all bench/main.ts --no-such-flag 2>&1)
  if grep -q "unknown argument --no-such-flag" <<<"$proof"; then
    echo "the bench loads from .gpu/deno_dir alone" >&2
  else
    echo "warning: bench/main.ts does not load from .gpu/deno_dir with --cached-only:" >&2
    echo "$proof" | head -n 3 >&2
  fi
  tar -C "$gpu" -cf - deno_dir | nice -n 10 xz -6 -T1 >"$gpu/deno_dir.tar.xz"
  rm -rf "$gpu/deno_dir" "$gpu/bin" "$gpu/vulkan"
  local size
  size=$(du -sm "$gpu" | cut -f1)
  echo "prepared .gpu: ${size} MiB (the device tool carries at most 64 MiB with the working tree)" >&2
  [ "$size" -lt 60 ] || echo "warning: .gpu is too large to carry" >&2
}

run_there() {
  local anyway=0 args=()
  for a in "$@"; do if [ "$a" = "--anyway" ]; then anyway=1; else args+=("$a"); fi; done
  local out="${OUT:-$root/bench/results/gpu}"
  mkdir -p "$out"
  cd "$root" || exit 1

  # Deno: the carried one unless this machine has one.
  if [ -n "${DENO:-}" ]; then :; elif command -v deno >/dev/null 2>&1; then
    DENO=$(command -v deno)
  elif [ -f "$gpu/deno.xz" ]; then
    mkdir -p "$scratch"
    [ -x "$scratch/deno" ] || { xz -dc "$gpu/deno.xz" >"$scratch/deno" && chmod +x "$scratch/deno"; }
    DENO="$scratch/deno"
  else
    echo "no deno here and no .gpu/deno.xz: run bench/gpu_run.sh --prepare and carry .gpu" |
      tee "$out/preflight.txt"
    exit 1
  fi
  export DENO PATH="$(dirname "$DENO"):$PATH" DENO_NO_UPDATE_CHECK=1
  if [ -f "$gpu/deno_dir.tar.xz" ] && [ ! -d "$scratch/deno_dir" ]; then
    mkdir -p "$scratch" && xz -dc "$gpu/deno_dir.tar.xz" | tar -C "$scratch" -xf -
  fi
  [ -d "$scratch/deno_dir" ] && export DENO_DIR="$scratch/deno_dir"
  # With the carried cache, the config that names only what it holds (see prepare).
  local config=()
  [ -f "$gpu/deno.bench.json" ] && [ -n "${DENO_DIR:-}" ] && config=(--config "$gpu/deno.bench.json" --no-lock --cached-only)

  # The Vulkan loader, where the machine has none: as root on a lent NVIDIA machine the device
  # README's recipe (unpack the loader packages into / and refresh ld.so's cache); elsewhere into
  # .gpu/vulkan and LD_LIBRARY_PATH, / untouched. GPU_LOADER=local forces the second.
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 ' && ls "$gpu"/debs/*.deb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && [ -d /usr/local/nvidia ] && [ "${GPU_LOADER:-}" != local ]; then
      for f in "$gpu"/debs/*.deb; do dpkg -x "$f" /; done
      ldconfig
    else
      mkdir -p "$gpu/vulkan"
      for f in "$gpu"/debs/*.deb; do dpkg -x "$f" "$gpu/vulkan"; done
      local lib
      lib=$(dirname "$(find "$gpu/vulkan" -name 'libvulkan.so.1' | head -n 1)")
      export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
  fi
  # NVIDIA's driver manifests on the lent machines (device README).
  local icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  local egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -e "$icd" ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && export VK_DRIVER_FILES="$icd"
  [ -e "$egl" ] && [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"

  {
    echo "date: $(date -u +%FT%TZ)"
    echo "uname: $(uname -srm)"
    echo "cpus: $(nproc)"
    echo "deno: $("$DENO" --version | head -n 1)"
    echo "DENO_DIR=${DENO_DIR:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
    echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} DENO_WEBGPU_BACKEND=${DENO_WEBGPU_BACKEND:-}"
    echo "libvulkan: $(ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1 ' | head -n 1)"
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  } >"$out/gpu_env.txt" 2>&1

  bash "$root/bench/gpu_preflight.sh" | tee "$out/preflight.txt"
  local ready=${PIPESTATUS[0]}
  if [ "$ready" != 0 ] && [ "$anyway" = 0 ]; then
    echo "gpu_run: preflight not ready; the suite was not run (--anyway runs it on what there is)"
    exit 1
  fi
  # The suite aims at < 8 minutes; the device tool allows 10 per command.
  # What `deno task bench --suite gpu --json` runs, with the carried cache's config when there is
  # one (deno.json's other npm imports are not carried).
  timeout 560 "$DENO" run "${config[@]}" --allow-all bench/main.ts --suite gpu --json \
    --out "$out/gpu.json" "${args[@]}" 2>&1 | tee "$out/gpu_bench.log"
}

if [ "${1:-}" = "--prepare" ]; then prepare; else run_there "$@"; fi
