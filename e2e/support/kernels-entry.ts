// Test-page entry: both TensorDevice implementations, to compare the WGSL kernels with the CPU reference.
export { CpuDevice } from '../../src/engine/runtime/cpu-device.ts';
export { WebGpuDevice } from '../../src/engine/runtime/webgpu-device.ts';
export { gaussianNoise } from '../../src/engine/noise.ts';
