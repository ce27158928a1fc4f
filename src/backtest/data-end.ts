// The end of a data set (its last event time), for `--last 30d` on data whose end is not known up front:
// files are read once, start to end, into a throwaway instrument registry (the run's own registry then sees
// the files as if this pass never happened). Units: micros. The read is the price of --last on files;
// without --last nothing here runs.

import { newInstrumentRegistry } from '../model/instrument.ts';
import { openBacktestData } from './data-query.ts';

/** The latest event time in `specs` (files and catalog queries, as --data takes them); NaN when empty. */
export async function dataEnd(
  specs: readonly string[],
  options: { catalogDir: string; symbol?: string; venue?: string },
): Promise<number> {
  const opened = await openBacktestData(specs, {
    instruments: newInstrumentRegistry(),
    catalogDir: options.catalogDir,
    ...(options.symbol === undefined ? {} : { symbol: options.symbol }),
    ...(options.venue === undefined ? {} : { venue: options.venue }),
  });
  let end = Number.NaN;
  try {
    for await (const b of opened.data) {
      for (let i = 0; i < b.length; i++) {
        const ts = b.tsEvent[i]!;
        if (!(ts <= end)) end = ts;
      }
    }
  } finally {
    opened.close();
  }
  return end;
}
