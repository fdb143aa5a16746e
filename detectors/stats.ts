// Pure statistics for detectors: one-sided tests that a first proportion (x1 of n1) exceeds
// a second (x2 of n2). The two-proportion z-test serves large counts; Fisher's exact test
// (hypergeometric upper tail, via log-gamma) serves small ones. No state, no allocation
// beyond the result object; p-values keep their relative precision far into the tail.
import { gammaln } from 'simple-statistics';

/** Which test produced a p-value. */
export type ProportionTest = 'two_proportion_z' | 'fisher_exact';

/** The outcome of a one-sided comparison of two proportions. */
export interface ProportionComparison {
  test: ProportionTest;
  /** P(a rise at least this large | both proportions equal), one-sided. */
  pValue: number;
  /** The z statistic of the z-test; null for Fisher's exact test. */
  z: number | null;
  /** Smallest expected cell count of the 2x2 table under independence. */
  minExpected: number;
}

/** Below this smallest expected cell count the normal approximation is not trusted (Cochran's rule). */
export const MIN_EXPECTED_FOR_Z = 5;

/**
 * Complementary error function, relative error below 1.2e-7 everywhere: the Chebyshev fit
 * `erfcc` of Press et al., Numerical Recipes (2nd ed.), section 6.2. Unlike 1 - erf(x) it stays
 * precise in the far tail, where the p-values of a clear regression live.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(Z >= z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * One-sided pooled two-proportion z-test of H1: x1/n1 > x2/n2, as R's `prop.test(alternative =
 * "greater")`: with Yates' continuity correction by default, which the uncorrected test needs in
 * the upper tail, where the binomial's skew makes it flag about twice as often as its nominal level.
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number, continuityCorrection = true): { z: number; pValue: number } {
  if (n1 === 0 || n2 === 0) return { z: 0, pValue: 1 };
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  // All successes or all failures on both sides: nothing differs.
  if (se === 0) return { z: 0, pValue: 1 };
  const delta = x1 / n1 - x2 / n2;
  // R caps the correction at |delta| so it never flips the sign of the difference.
  const correction = continuityCorrection ? Math.min(0.5 * (1 / n1 + 1 / n2), Math.abs(delta)) : 0;
  const z = (Math.sign(delta) * (Math.abs(delta) - correction)) / se;
  return { z, pValue: normalUpperTail(z) };
}

const lchoose = (n: number, k: number): number => gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);

/**
 * One-sided Fisher's exact test of H1: x1/n1 > x2/n2 on the table [[x1, n1-x1], [x2, n2-x2]],
 * as R's `fisher.test(alternative = "greater")`: P(X >= x1) for X hypergeometric with
 * N = n1 + n2 draws population, K = x1 + x2 successes and n1 draws.
 */
export function fisherExactGreater(x1: number, n1: number, x2: number, n2: number): number {
  const total = n1 + n2;
  const k = x1 + x2;
  const lo = Math.max(0, n1 - (total - k));
  const hi = Math.min(n1, k);
  if (x1 <= lo) return 1;
  if (x1 > hi) return 0;
  const logPmf = (x: number): number => lchoose(k, x) + lchoose(total - k, n1 - x) - lchoose(total, n1);
  // Sum the side of the distribution that starts near its mode and decreases away from it:
  // a start deep in a tail could underflow to 0 and zero the whole product recursion.
  if (x1 > (n1 * k) / total) {
    let term = Math.exp(logPmf(x1));
    let sum = term;
    for (let x = x1; x < hi; x++) {
      term *= ((k - x) * (n1 - x)) / ((x + 1) * (total - k - n1 + x + 1));
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    return Math.min(1, sum);
  }
  let term = Math.exp(logPmf(x1 - 1));
  let sum = term;
  for (let x = x1 - 1; x > lo; x--) {
    term *= (x * (total - k - n1 + x)) / ((k - x + 1) * (n1 - x + 1));
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return Math.max(0, 1 - sum);
}

/**
 * One-sided test that x1/n1 exceeds x2/n2: Fisher's exact test when any expected cell count is
 * below 5 (where the normal approximation misstates small p-values), else the continuity-corrected z-test.
 */
export function compareProportions(x1: number, n1: number, x2: number, n2: number): ProportionComparison {
  const total = n1 + n2;
  const k = x1 + x2;
  const minExpected = total === 0 ? 0 : (Math.min(n1, n2) * Math.min(k, total - k)) / total;
  if (minExpected < MIN_EXPECTED_FOR_Z) {
    return { test: 'fisher_exact', pValue: fisherExactGreater(x1, n1, x2, n2), z: null, minExpected };
  }
  const { z, pValue } = twoProportionZTest(x1, n1, x2, n2);
  return { test: 'two_proportion_z', pValue, z, minExpected };
}
