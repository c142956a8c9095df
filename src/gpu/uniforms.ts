/**
 * Packing a kernel's uniform struct by field name, with the offsets wgsl_reflect computed from the
 * shader. Every field must be given and no unknown field is accepted: a typo or a field added to
 * the shader but not to the caller is an error that names the kernel and the field.
 */
import type { UniformLayout } from './reflect.ts';

export type UniformValue = number | boolean | ArrayLike<number>;
export type UniformValues = Record<string, UniformValue>;

export function packUniforms(
  kernel: string,
  layout: UniformLayout,
  values: UniformValues,
  view: DataView,
  base: number,
): void {
  for (const key of Object.keys(values)) {
    if (!layout.fields.some((f) => f.name === key)) {
      throw new Error(
        `${kernel}: uniform struct ${layout.structName} has no field '${key}' (fields: ${layout.fields.map((f) => f.name).join(', ')})`,
      );
    }
  }
  for (const f of layout.fields) {
    const v = values[f.name];
    if (v === undefined) throw new Error(`${kernel}: uniform field '${f.name}' of ${layout.structName} was not given`);
    const scalars: ArrayLike<number> = typeof v === 'number' ? [v] : typeof v === 'boolean' ? [v ? 1 : 0] : v;
    if (scalars.length !== f.count) {
      throw new Error(`${kernel}: uniform field '${f.name}' needs ${f.count} value(s), got ${scalars.length}`);
    }
    for (let i = 0; i < f.count; i++) {
      // Arrays of vectors: lanes are packed, groups are stride apart (vec3 stride is 16).
      const group = Math.floor(i / f.lanes);
      const lane = i % f.lanes;
      const at = base + f.offset + group * f.stride + lane * 4;
      const x = scalars[i];
      switch (f.scalar) {
        case 'f32':
          view.setFloat32(at, x, true);
          break;
        case 'u32':
          if (!(Number.isInteger(x) && x >= 0 && x <= 0xffffffff)) {
            throw new Error(`${kernel}: uniform field '${f.name}' is u32; got ${x}`);
          }
          view.setUint32(at, x, true);
          break;
        case 'i32':
          if (!(Number.isInteger(x) && x >= -0x80000000 && x <= 0x7fffffff)) {
            throw new Error(`${kernel}: uniform field '${f.name}' is i32; got ${x}`);
          }
          view.setInt32(at, x, true);
          break;
      }
    }
  }
}
