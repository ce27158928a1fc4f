// Readers for the indicator reference vectors in shared/data (test support, not engine code): Tulip Indicators'
// test files (blocks of "name options" + {inputs} + {outputs}, outputs aligned to the end of the inputs) and
// the StockCharts spreadsheets saved as CSV by bukosabino/ta (unnamed index columns, blank warm-up cells).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { present } from '../core/test-resources.ts';

/** shared/data beside the repository (src/indicators -> repo root -> ../shared/data); undefined when absent (an error in CI). */
export function sharedDataDir(): string | undefined {
  const dir = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
  return present(dir, 'shared data (indicator reference vectors)') ? dir : undefined;
}

export interface TulipCase {
  file: string;
  /** 1-based line of the "name options" line. */
  line: number;
  name: string;
  options: number[];
  /** Every {...} array in order: inputs first, then outputs. */
  arrays: number[][];
}

/** Parses a Tulip test file; commented-out blocks ('#' lines) are ignored. */
export function parseTulip(text: string, file: string): TulipCase[] {
  const cases: TulipCase[] = [];
  let current: TulipCase | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith('#')) continue;
    if (line === '') {
      current = undefined;
      continue;
    }
    if (line.startsWith('{')) {
      if (current === undefined) throw new Error(`${file}:${i + 1}: array outside a test block`);
      const body = line.slice(1, line.lastIndexOf('}')).trim();
      const cells = body === '' ? [] : body.split(',').map((c) => c.trim());
      current.arrays.push(cells.map(Number));
      continue;
    }
    const [name, ...opts] = line.split(/\s+/);
    current = { file, line: i + 1, name: name!, options: opts.map(Number), arrays: [] };
    cases.push(current);
  }
  return cases;
}

export interface CsvTable {
  header: string[];
  rows: string[][];
  /** The column named `name` as numbers; blank cells are NaN. */
  column(name: string): Float64Array;
}

/** Reads a StockCharts/ta CSV: a header line, comma-separated cells, blank cells kept as ''. */
export function parseCsv(text: string): CsvTable {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = lines[0]!.split(',').map((h) => h.trim());
  const rows = lines.slice(1).map((l) => l.split(',').map((c) => c.trim()));
  return {
    header,
    rows,
    column(name: string): Float64Array {
      const k = header.indexOf(name);
      if (k < 0) throw new Error(`no column '${name}' in ${header.join(',')}`);
      return Float64Array.from(rows, (r) => {
        const cell = r[k] ?? '';
        return cell === '' ? Number.NaN : Number(cell);
      });
    },
  };
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
