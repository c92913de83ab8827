import { describe, expect, it } from 'vitest';
import { figure, money } from './display.js';

describe('figures as people read them', () => {
  it('shows a peak as a whole count and an average with two decimals, also when whole', () => {
    expect(figure({ numerator: 7, denominator: 1 })).toBe('7');
    expect(figure({ numerator: 30, denominator: 30 })).toBe('1.00');
    expect(figure({ numerator: 1749, denominator: 30 })).toBe('58.30');
    expect(figure({ numerator: 2297, denominator: 31 })).toBe('74.10');
    expect(figure({ numerator: 0, denominator: 31 })).toBe('0.00');
  });

  it('rounds the exact rational half up', () => {
    // 1.005 and 2.675 are just below their value as doubles: their own toFixed(2) gives 1.00 and 2.67.
    expect(figure({ numerator: 201, denominator: 200 })).toBe('1.01');
    expect(figure({ numerator: 107, denominator: 40 })).toBe('2.68');
    expect(figure({ numerator: 2, denominator: 3 })).toBe('0.67');
    expect(figure({ numerator: 1, denominator: 300 })).toBe('0.00');
  });

  it("shows money with its currency's minor digits", () => {
    expect(money(2500, 'EUR')).toBe('€25.00');
    expect(money(5000, 'JPY')).toBe('¥5,000');
    expect(money(5000, 'KWD')).toBe('KWD\u00a05.000');
  });
});
