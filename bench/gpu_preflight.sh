#!/usr/bin/env bash
# bench/gpu_preflight.sh: says in ONE line whether WebGPU here reaches a hardware adapter.
#   "ready: <adapter> (...)"          exit 0
#   "not ready: <reason>. Fix: <...>" exit 1
# Reasons, first that applies: no Vulkan loader (libvulkan.so.1 neither known to ldconfig, on
# LD_LIBRARY_PATH, nor carried under .gpu/vulkan/), no ICD (no driver JSON in the loader's
# folders, /usr/local/nvidia/share/vulkan/icd.d, VK_DRIVER_FILES or VK_ICD_FILENAMES), only a
# software ICD (lavapipe), or an ICD present but no device (nvidia-smi lists none, or WebGPU
# returns only a fallback adapter). The adapter is asked for last, with `deno eval --no-config`
# (no npm install from deno.json, which a machine without network could not do): a hardware
# adapter reached another way (GL over EGL) still counts as ready.
#
# A loader carried in .gpu/vulkan/ (bench/gpu_run.sh --prepare downloads it; bench/gpu_run.sh
# unpacks it) is used through LD_LIBRARY_PATH, and NVIDIA's ICD through VK_DRIVER_FILES, for this
# check only: bench/gpu_run.sh exports the same for the benchmark. Untested on real hardware.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
carried="${GPU_VULKAN_DIR:-$root/.gpu/vulkan}" # where a carried loader is unpacked
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
icd_dirs="/usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d /usr/local/etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d"
notes=""

# --- the Vulkan loader ---------------------------------------------------------------------------
loader=""
if ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  loader="system"
else
  IFS=: read -r -a lib_dirs <<<"${LD_LIBRARY_PATH:-}"
  for dir in "${lib_dirs[@]}"; do
    if [ -n "$dir" ] && [ -e "$dir/libvulkan.so.1" ]; then loader="LD_LIBRARY_PATH"; break; fi
  done
  if [ -z "$loader" ] && [ -d "$carried" ]; then
    found=$(find "$carried" -name 'libvulkan.so.1' 2>/dev/null | head -n 1)
    if [ -n "$found" ]; then
      loader="carried"
      export LD_LIBRARY_PATH="$(dirname "$found")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      notes="$notes, loader carried in .gpu/vulkan"
    fi
  fi
fi

# --- the ICDs (driver manifests) -----------------------------------------------------------------
icds=()
for list in "${VK_DRIVER_FILES:-}" "${VK_ICD_FILENAMES:-}" "${VK_ADD_DRIVER_FILES:-}"; do
  IFS=: read -r -a files <<<"$list"
  for f in "${files[@]}"; do [ -n "$f" ] && [ -e "$f" ] && icds+=("$f"); done
done
for dir in $icd_dirs; do
  for f in "$dir"/*.json; do [ -e "$f" ] && icds+=("$f"); done
done
hardware_icds=()
for f in "${icds[@]}"; do
  case "$(basename "$f")" in
  lvp_icd* | *swiftshader* | *softpipe*) ;;
  *) hardware_icds+=("$f") ;;
  esac
done
# The loader does not look in NVIDIA's container folder by itself.
if [ -e "$nvidia_icd" ] && [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  export VK_DRIVER_FILES="$nvidia_icd"
  notes="$notes, VK_DRIVER_FILES=$nvidia_icd"
fi

# --- nvidia-smi, where there is one --------------------------------------------------------------
gpus=""
smi="absent"
if command -v nvidia-smi >/dev/null 2>&1; then
  if gpus=$(nvidia-smi -L 2>/dev/null) && [ -n "$gpus" ]; then smi="lists"; else smi="none"; fi
fi

# --- the adapter WebGPU gives --------------------------------------------------------------------
deno_cmd=()
if [ -n "${DENO:-}" ]; then
  deno_cmd=("$DENO")
elif command -v deno >/dev/null 2>&1; then
  deno_cmd=(deno)
elif [ -x "${GPU_SCRATCH:-/tmp/simfluence-gpu}/deno" ]; then
  deno_cmd=("${GPU_SCRATCH:-/tmp/simfluence-gpu}/deno") # unpacked by bench/gpu_run.sh
elif command -v npx >/dev/null 2>&1; then
  deno_cmd=(npx -y deno@2.9.6)
fi
adapter="no deno to ask"
if [ ${#deno_cmd[@]} -gt 0 ]; then
  adapter=$(timeout 120 "${deno_cmd[@]}" eval --quiet --no-config '
    const a = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
    if (!a) console.log("none");
    else {
      const i = a.info;
      const soft = /llvmpipe|lavapipe|swiftshader|softpipe/i.test(i.description);
      const kind = i.isFallbackAdapter || soft ? "fallback" : "hardware";
      console.log(`${kind}\t${i.description || "vendor " + i.vendor + " device " + i.device}`);
    }' 2>/dev/null | tail -n 1)
  [ -n "$adapter" ] || adapter="no answer from deno eval (timed out or failed)"
fi
kind=${adapter%%$'\t'*}
name=${adapter#*$'\t'}

if [ "$kind" = "hardware" ]; then
  echo "ready: $name (loader: ${loader:-none}; ICDs: ${#hardware_icds[@]} hardware${notes})"
  exit 0
fi

case "$kind" in
fallback) got="WebGPU gives only a fallback adapter, $name" ;;
none) got="WebGPU gives no adapter at all" ;;
*) got="WebGPU adapter unknown ($adapter)" ;;
esac
fix_loader="apt-get install -y libvulkan1, or on a machine without package access run bench/gpu_run.sh --prepare where apt works and carry .gpu (bench/gpu_run.sh unpacks it)"
if [ -z "$loader" ]; then
  echo "not ready: no Vulkan loader (libvulkan.so.1 not found by ldconfig, on LD_LIBRARY_PATH or under .gpu/vulkan/); $got. Fix: $fix_loader."
elif [ ${#hardware_icds[@]} -eq 0 ]; then
  if [ ${#icds[@]} -gt 0 ]; then what="only a software ICD (${icds[*]})"; else what="no ICD (no driver JSON under $icd_dirs, nor in VK_DRIVER_FILES / VK_ICD_FILENAMES)"; fi
  echo "not ready: $what; $got. Fix: install the GPU vendor's Vulkan driver (NVIDIA: its ICD is $nvidia_icd on the lent machines, set VK_DRIVER_FILES to it)."
elif [ "$smi" = "none" ]; then
  echo "not ready: ICD present (${hardware_icds[*]}) but no device: nvidia-smi lists no GPU; $got. Fix: run on a machine with a GPU attached and its driver loaded."
else
  echo "not ready: ICD present (${hardware_icds[*]}) but no device: $got. Fix: check that the ICD's library loads (VK_LOADER_DEBUG=error,warn), that the driver matches the kernel module${gpus:+ (nvidia-smi: ${gpus%%$'\n'*})}, and DENO_WEBGPU_BACKEND=vulkan."
fi
exit 1
