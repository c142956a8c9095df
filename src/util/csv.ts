/** CSV from columns; empty cells for missing values, full float precision. */
export type CsvCell = number | string | null | undefined;

export function csvLine(row: CsvCell[]): string {
  return row.map(cell).join(',');
}

export function toCsv(header: string[], rows: CsvCell[][]): string {
  return [header.join(','), ...rows.map(csvLine)].join('\n') + '\n';
}

function cell(v: CsvCell): string {
  return v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Number.isFinite(v) ? String(Math.fround(v) === v ? Number(v.toPrecision(9)) : v) : String(v);
}
