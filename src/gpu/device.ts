// One WebGPU device per process: acquisition with the adapter's real limits, a description for
// /v1/device, and device-loss recovery (in-flight work fails fast, the device is re-acquired).
// The CPU backend can run without an adapter: `GpuDevice.host()` holds a stand-in device.
import { hostDevice } from "./host/host_device.ts";

export class GpuUnavailableError extends Error {
  override name = "GpuUnavailableError";
}

export class DeviceLostError extends Error {
  override name = "DeviceLostError";
}

export interface DeviceDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  backend: string;
  limits: Record<string, number>;
  features: string[];
  generation: number;
}

/** Limits we ask for: as large as the adapter allows, since the spec defaults (128 MiB binding) are too small for real models. */
const WANTED_LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxTextureDimension2D",
] as const;

const OPTIONAL_FEATURES: GPUFeatureName[] = ["timestamp-query", "shader-f16"];

export const INSTALL_HINT =
  "No WebGPU adapter found. On a machine without a GPU install Mesa's software drivers " +
  "(Debian: `apt-get install -y libegl1 libgl1-mesa-dri` for llvmpipe over GL, or " +
  "`mesa-vulkan-drivers libvulkan1` for lavapipe over Vulkan); on a GPU host install the " +
  "vendor's Vulkan driver. DENO_WEBGPU_BACKEND=gl|vulkan picks the backend.";

export interface GpuDeviceOptions {
  /** Called after a loss once a new device is ready, so caches bound to the old one can be dropped. */
  onReacquired?: (generation: number) => void;
  powerPreference?: GPUPowerPreference;
}

/**
 * Owns the GPUDevice. `generation` increases on every re-acquisition; objects created on an
 * older generation are invalid and callers check it through `assertGeneration`.
 */
export class GpuDevice {
  device!: GPUDevice;
  /** Null for the CPU backend's stand-in (`host()`), which opened no adapter. */
  adapter: GPUAdapter | null = null;
  generation = 0;
  lostReason: string | null = null;
  private closing = false;
  private lostWaiters = new Set<(e: DeviceLostError) => void>();
  private reacquiring: Promise<void> | null = null;

  private constructor(private readonly options: GpuDeviceOptions) {}

  static async acquire(options: GpuDeviceOptions = {}): Promise<GpuDevice> {
    const gpu = new GpuDevice(options);
    await gpu.open();
    return gpu;
  }

  /** No adapter: a stand-in device for the CPU backend, which never touches the GPU. */
  static host(): GpuDevice {
    const gpu = new GpuDevice({});
    gpu.device = hostDevice();
    return gpu;
  }

  private async open(): Promise<void> {
    if (typeof navigator === "undefined" || !navigator.gpu) {
      throw new GpuUnavailableError("navigator.gpu is missing in this runtime. " + INSTALL_HINT);
    }
    const adapter = await navigator.gpu.requestAdapter({
      powerPreference: this.options.powerPreference ?? "high-performance",
    });
    if (!adapter) throw new GpuUnavailableError(INSTALL_HINT);
    const requiredLimits: Record<string, number> = {};
    for (const name of WANTED_LIMITS) {
      const value = (adapter.limits as unknown as Record<string, number>)[name];
      if (typeof value === "number") requiredLimits[name] = value;
    }
    const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
    const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
    this.adapter = adapter;
    this.device = device;
    this.generation++;
    this.lostReason = null;
    const generation = this.generation;
    device.lost.then((info) => this.handleLost(generation, info));
  }

  private handleLost(generation: number, info: GPUDeviceLostInfo): void {
    if (generation !== this.generation) return;
    this.lostReason = `${info.reason ?? "unknown"}: ${info.message}`;
    const error = new DeviceLostError(`GPU device lost (${this.lostReason})`);
    for (const reject of this.lostWaiters) reject(error);
    this.lostWaiters.clear();
    if (this.closing) return;
    this.reacquiring = this.open()
      .then(() => this.options.onReacquired?.(this.generation))
      .catch((e) => {
        this.lostReason = `re-acquisition failed: ${e instanceof Error ? e.message : e}`;
      })
      .finally(() => {
        this.reacquiring = null;
      });
  }

  /** Resolves once a lost device has been replaced (immediately if it is healthy). */
  async ready(): Promise<void> {
    if (this.reacquiring) await this.reacquiring;
    if (this.lostReason) throw new DeviceLostError(`GPU device unavailable (${this.lostReason})`);
  }

  get healthy(): boolean {
    return this.lostReason === null && !this.closing;
  }

  /** Races a GPU promise against device loss so that lost work rejects instead of hanging. */
  guard<T>(work: Promise<T>): Promise<T> {
    if (this.lostReason) {
      return Promise.reject(new DeviceLostError(`GPU device lost (${this.lostReason})`));
    }
    let reject!: (e: DeviceLostError) => void;
    const lost = new Promise<never>((_, r) => (reject = r));
    this.lostWaiters.add(reject);
    const device = this.device;
    // A lost device often fails its pending work (e.g. mapAsync) before `lost` resolves: give the
    // loss a moment to be reported so callers see one error type for it.
    const settledWork = work.catch(async (error) => {
      const wasLost = await Promise.race([
        device.lost.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 100)),
      ]);
      if (wasLost) {
        throw new DeviceLostError(`GPU device lost (${this.lostReason ?? "lost"})`, {
          cause: error,
        });
      }
      throw error;
    });
    return Promise.race([settledWork, lost]).finally(() => this.lostWaiters.delete(reject));
  }

  assertGeneration(generation: number, what: string): void {
    if (generation !== this.generation) {
      throw new DeviceLostError(
        `${what} belongs to a GPU device that was lost (generation ${generation}, now ${this.generation})`,
      );
    }
  }

  describe(): DeviceDescription {
    const info = this.adapter?.info ?? {
      vendor: "cpu",
      architecture: "",
      device: "",
      description: "no WebGPU adapter opened: the CPU backend runs every kernel",
    };
    const limits: Record<string, number> = {};
    for (const key in this.device.limits) {
      const value = (this.device.limits as unknown as Record<string, unknown>)[key];
      if (typeof value === "number") limits[key] = value;
    }
    return {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: Boolean(
        (info as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter,
      ),
      backend: this.adapter ? Deno.env.get("DENO_WEBGPU_BACKEND") ?? "default" : "none",
      limits,
      features: [...this.device.features].sort(),
      generation: this.generation,
    };
  }

  close(): void {
    this.closing = true;
    this.device?.destroy();
  }
}
