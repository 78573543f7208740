import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type GpuMode = 'auto' | 'required' | 'off';

export interface GpuProbe {
  readonly available: boolean;
  readonly detail: string;
}

/** An NVIDIA GPU is usable when the device node exists or nvidia-smi lists one. */
export function detectGpu(): GpuProbe {
  if (existsSync('/dev/nvidia0')) return { available: true, detail: '/dev/nvidia0' };
  const smi = spawnSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { timeout: 5000 });
  if (smi.status === 0 && smi.stdout.toString().trim() !== '') {
    return { available: true, detail: smi.stdout.toString().trim().split('\n')[0]! };
  }
  return { available: false, detail: 'no /dev/nvidia0 and nvidia-smi lists no GPU' };
}

export type PathDecision =
  | { readonly ok: true; readonly path: 'gpu' | 'software' }
  | { readonly ok: false; readonly reason: string };

/** Never a silent fall-back: required without a GPU is an error the stream reports. */
export function chooseEncodePath(mode: GpuMode, gpu: GpuProbe): PathDecision {
  if (mode === 'off') return { ok: true, path: 'software' };
  if (gpu.available) return { ok: true, path: 'gpu' };
  if (mode === 'required') return { ok: false, reason: `MIRROR_GPU=required but no GPU: ${gpu.detail}` };
  return { ok: true, path: 'software' };
}
