import { defineConfig } from 'vitest/config';

// Tests run in Node on Dawn (the npm `webgpu` package). On a machine without a GPU,
// src/gpu/device.ts falls back to Debian chromium's SwiftShader Vulkan driver.
// One file at a time: SwiftShader already uses every core, and two GPU devices
// fighting over 2 cores only make each test slower.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
