import { Option } from 'commander';
import { DEFAULT_DB } from '../store/open-store.js';

/** `--db URL`, also from env `SEATMETER_DB`: `sqlite:PATH` (default) or a `postgres://` URL. */
export const dbOption = (): Option =>
  new Option('--db <url>', 'database: sqlite:PATH or postgres://...').env('SEATMETER_DB').default(DEFAULT_DB);
