// The ES module build of wgsl_reflect has the same API as the package root (see src/gpu/reflect.ts
// for why that file is imported directly).
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
