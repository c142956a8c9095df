/** Types of heatmap-plot.js (plain JS so report.html can inline it as text). */
import type uPlot from 'uplot';
import type { HeatmapData } from './chart-data.ts';

export function paletteColor(palette: HeatmapData['palette'], t: number): string;
export function colorPosition(h: HeatmapData, v: number | null): number;
export function cellEdges(centres: number[], log: boolean): number[];
export function heatmapPlot(
  u: typeof uPlot,
  el: HTMLElement,
  h: HeatmapData,
  opts?: { width?: number; height?: number; onClick?: (x: number, y: number, ix: number, iy: number) => void },
): uPlot;
