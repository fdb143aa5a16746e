// Checks the one-sided proportion tests against reference values: normal tails and Fisher
// tails computed exactly (Python: mpmath erfc at 30 digits; fractions.Fraction over math.comb
// sums of the hypergeometric upper tail) and the classic values R documents.
import { describe, expect, it } from 'vitest';
import { compareProportions, erfc, fisherExactGreater, normalUpperTail, twoProportionZTest } from './stats.js';

/** Asserts `actual` is within `rel` relative error of `expected`. */
function close(actual: number, expected: number, rel: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * rel);
}

describe('normal tail', () => {
  it('matches 0.5 * erfc(z / sqrt 2) at 30 digits from the centre to z = 10', () => {
    // mpmath: 0.5 * erfc(mpf(z) / sqrt(2)), mp.dps = 30.
    const reference: Array<[number, number]> = [
      [0, 0.5],
      [1, 0.158655253931457051414767454368],
      [-1, 0.841344746068542948585232545632],
      [1.959963984540054, 0.0250000000000000108761680242231],
      [3, 0.00134989803163009452665181476759],
      [5, 2.86651571879193911673752332875e-7],
      [7, 1.27981254388583500438362369078e-12],
      [10, 7.61985302416052606597334325163e-24],
    ];
    for (const [z, p] of reference) close(normalUpperTail(z), p, 2e-7);
  });

  it('keeps erfc symmetric around zero: erfc(-x) = 2 - erfc(x)', () => {
    for (const x of [0.1, 0.7, 2.3]) close(erfc(-x) + erfc(x), 2, 1e-12);
  });
});

describe('two-proportion z-test', () => {
  it('gives z = 2.5 and p = 0.0062097 for 15 of 50 against 5 of 50 without correction, as prop.test(correct = FALSE)', () => {
    // Pooled p = 0.2, se = sqrt(0.2 * 0.8 * (2 / 50)) = 0.08, z = (0.3 - 0.1) / 0.08 = 2.5 exactly.
    const { z, pValue } = twoProportionZTest(15, 50, 5, 50, false);
    close(z, 2.5, 1e-12);
    close(pValue, 0.00620966532577613516697810457419, 2e-7);
  });

  it("gives z = 2.25 and p = 0.012224 for 15 of 50 against 5 of 50 with Yates' correction, as prop.test's default", () => {
    // The correction takes 0.5 * (1/50 + 1/50) = 0.02 off the difference: z = 0.18 / 0.08 = 2.25 (R: X-squared = 5.0625).
    const { z, pValue } = twoProportionZTest(15, 50, 5, 50);
    close(z, 2.25, 1e-12);
    close(pValue, 0.0122244726550447031526239312997, 2e-7);
  });

  it('never lets the correction flip a small difference into the other direction', () => {
    // 51 of 1000 against 50 of 1000: the difference 0.001 is below the correction 0.001, so z = 0 and p = 0.5.
    const { z, pValue } = twoProportionZTest(51, 1000, 50, 1000);
    expect(z).toBe(0);
    close(pValue, 0.5, 1e-7);
  });

  it('answers p = 1 when nothing differs or a side is empty', () => {
    expect(twoProportionZTest(0, 100, 0, 100).pValue).toBe(1);
    expect(twoProportionZTest(100, 100, 50, 50).pValue).toBe(1);
    expect(twoProportionZTest(3, 10, 0, 0).pValue).toBe(1);
  });

  it('gives p above one half when the first proportion is the lower one', () => {
    expect(twoProportionZTest(5, 100, 20, 100).pValue).toBeGreaterThan(0.5);
  });
});

describe("Fisher's exact test", () => {
  it("gives 17/70 for R's TeaTasting example (fisher.test(alternative = 'greater') prints 0.2429)", () => {
    close(fisherExactGreater(3, 4, 1, 4), 17 / 70, 1e-12);
  });

  it('matches exact rational upper tails of the hypergeometric distribution', () => {
    // fractions.Fraction(sum(comb(K, x) * comb(N - K, n1 - x) for x in range(x1, min(n1, K) + 1)), comb(N, n1)).
    const reference: Array<[number, number, number, number, number]> = [
      [10, 12, 3, 18, 0.000465180943362905013658584241714],
      [5, 50, 1, 500, 0.0000287447307228338899978080734453],
      [12, 180, 9, 1800, 3.18092865913380072621991965484e-8],
      [36, 180, 9, 1800, 4.70251096636846311289199904473e-31],
      [1, 100, 0, 100, 0.5],
    ];
    for (const [x1, n1, x2, n2, p] of reference) close(fisherExactGreater(x1, n1, x2, n2), p, 1e-9);
  });

  it('answers 1 when the first row holds no more successes than it must', () => {
    expect(fisherExactGreater(0, 10, 5, 10)).toBe(1);
    expect(fisherExactGreater(0, 0, 5, 10)).toBe(1);
  });

  it('stays near 1 without underflow when the first proportion is far below the second', () => {
    // The upper tail from x1 = 1 is 1 - P(X = 0); P(X = 0) = C(1000, 200) / C(1200, 200) is astronomically small.
    expect(fisherExactGreater(1, 200, 1999, 2000)).toBeGreaterThan(0.999999);
  });

  it('sums the same tail from either side of the mean', () => {
    // Below the mean the lower tail is subtracted from 1; on its boundary both routes must agree.
    const below = fisherExactGreater(5, 20, 25, 100);
    const direct = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20].reduce((s, x) => s + hypergeometric(x, 120, 30, 20), 0);
    close(below, direct, 1e-9);
  });
});

describe('choosing the test', () => {
  it("takes Fisher's exact test when an expected cell count is below 5", () => {
    const r = compareProportions(36, 180, 9, 1800);
    expect(r.test).toBe('fisher_exact');
    expect(r.z).toBeNull();
    expect(r.minExpected).toBeCloseTo((180 * 45) / 1980, 9);
    close(r.pValue, 4.70251096636846311289199904473e-31, 1e-9);
  });

  it('takes the z-test when every expected cell count is at least 5', () => {
    const r = compareProportions(15, 50, 5, 50);
    expect(r.test).toBe('two_proportion_z');
    close(r.z!, 2.25, 1e-12);
  });

  it('agrees with Fisher to within the approximation on large balanced samples', () => {
    const z = compareProportions(150, 1000, 100, 1000);
    expect(z.test).toBe('two_proportion_z');
    const exact = fisherExactGreater(150, 1000, 100, 1000);
    expect(z.pValue / exact).toBeGreaterThan(0.5);
    expect(z.pValue / exact).toBeLessThan(2);
  });
});

/** P(X = x) for X hypergeometric (population, successes, draws), by plain products. */
function hypergeometric(x: number, population: number, successes: number, draws: number): number {
  return (choose(successes, x) * choose(population - successes, draws - x)) / choose(population, draws);
}

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}
