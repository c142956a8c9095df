/** CSV from columns; empty cells for missing values, full float precision. */
export function toCsv(header: string[], rows: (number | string | null | undefined)[][]): string {
  const cell = (v: number | string | null | undefined): string =>
    v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  return [header.join(','), ...rows.map((r) => r.map(cell).join(','))].join('\n') + '\n';
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Number.isFinite(v) ? String(Math.fround(v) === v ? Number(v.toPrecision(9)) : v) : String(v);
}
