import { describe, expect, it } from 'vitest';
import { figure } from './format.js';

describe('dashboard figures', () => {
  it('shows a peak as a whole count and an average with two decimals, also when whole', () => {
    expect(figure({ value: 7, numerator: 7, denominator: 1 })).toBe('7');
    expect(figure({ value: 1, numerator: 30, denominator: 30 })).toBe('1.00');
    expect(figure({ value: 58.3, numerator: 1749, denominator: 30 })).toBe('58.30');
    expect(figure({ value: 0, numerator: 0, denominator: 31 })).toBe('0.00');
  });
});
