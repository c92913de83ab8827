import { toDisplay } from './rational.js';

/**
 * Figures as people read them, the same in the terminal (`seatmeter report`) and on the dashboard.
 */

/** Money in minor units as its currency shows it (ISO 4217 minor digits): 2500 EUR is €25.00, 2500 JPY ¥2,500. */
export function money(minor: number, currency: string): string {
  const format = new Intl.NumberFormat('en', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}

/**
 * A peak is a whole count; an average shows two decimals, also when whole (SPEC.md section 2),
 * rounded half up from the exact rational (`toDisplay`): 2297/31 is 74.10.
 */
export function figure(f: { readonly numerator: number; readonly denominator: number }): string {
  return f.denominator === 1 ? String(f.numerator) : toDisplay(f).toFixed(2);
}
