import { describe, expect, it } from 'vitest';
import { blendTiles, cropLatent, gaussianWeights, planLatentTiles } from './latent-tiles';
import { createGaussianRng } from './rng';
import { applyGuidance, diffuseToStart, sample } from './sampler';
import { baseSchedule, respacedTimesteps, respaceSchedule, roundHalfEven } from './schedule';

/** An independent float64 re-derivation, written the way the CompVis/StableSR numpy code reads. */
function reference(steps: number) {
  const n = 1000;
  const lin = Array.from(
    { length: n },
    (_, i) => Math.sqrt(0.00085) * (1 - i / (n - 1)) + Math.sqrt(0.012) * (i / (n - 1)),
  );
  const betas = lin.map((v) => v ** 2);
  // cumprod through logs, a different rounding path than the code under test
  let logSum = 0;
  const abar = betas.map((b) => {
    logSum += Math.log1p(-b);
    return Math.exp(logSum);
  });
  const ts: number[] = [];
  let cur = 0;
  const stride = (n - 1) / (steps - 1);
  for (let k = 0; k < steps; k++) {
    ts.push(roundHalfEven(cur));
    cur += stride;
  }
  const newBetas: number[] = [];
  let last = 1;
  for (const t of ts) {
    newBetas.push(1 - abar[t]! / last);
    last = abar[t]!;
  }
  const ac = ts.map((t) => abar[t]!);
  const prev = [1, ...ac.slice(0, -1)];
  const variance = newBetas.map((b, k) => (b * (1 - prev[k]!)) / (1 - ac[k]!));
  const logClipped = [Math.log(variance[1]!), ...variance.slice(1).map((v) => Math.log(v))];
  return { abar, ts, newBetas, ac, prev, variance, logClipped };
}

describe('schedule', () => {
  it('matches an independent float64 derivation of the base schedule', () => {
    const base = baseSchedule();
    const ref = reference(50);
    for (let i = 0; i < 1000; i++) expect(base.alphasCumprod[i]).toBeCloseTo(ref.abar[i]!, 12);
    expect(base.betas[0]).toBeCloseTo(0.00085, 15);
    expect(base.betas[999]).toBeCloseTo(0.012, 15);
    // Stable Diffusion's well-known end point: sqrt(abar_999) ~ 0.0683
    expect(Math.sqrt(base.alphasCumprod[999]!)).toBeCloseTo(0.0683, 3);
  });

  it.each([50, 20, 8, 4, 3, 2])('respaces to %i steps like StableSR', (steps) => {
    const s = respaceSchedule(steps);
    const ref = reference(steps);
    expect(s.timesteps).toEqual(ref.ts);
    expect(s.timesteps[0]).toBe(0);
    expect(s.timesteps[steps - 1]).toBe(999);
    for (let k = 0; k < steps; k++) {
      expect(s.betas[k]).toBeCloseTo(ref.newBetas[k]!, 12);
      expect(s.alphasCumprodPrev[k]).toBeCloseTo(ref.prev[k]!, 12);
      expect(s.posteriorVariance[k]).toBeCloseTo(ref.variance[k]!, 12);
      expect(s.posteriorLogVarianceClipped[k]).toBeCloseTo(ref.logClipped[k]!, 9);
    }
    // respaced betas reproduce the original abar at the visited timesteps
    let prod = 1;
    for (let k = 0; k < steps; k++) {
      prod *= 1 - s.betas[k]!;
      expect(prod).toBeCloseTo(ref.ac[k]!, 12);
    }
  });

  it('visits the timesteps StableSR visits for 50 steps', () => {
    const ts = respacedTimesteps(50);
    expect(ts.slice(0, 6)).toEqual([0, 20, 41, 61, 82, 102]);
    expect(ts.slice(-2)).toEqual([979, 999]);
    expect(new Set(ts).size).toBe(50);
  });

  it('rounds halves to even as Python does, and refuses fewer than 2 steps', () => {
    expect(roundHalfEven(0.5)).toBe(0);
    expect(roundHalfEven(1.5)).toBe(2);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(2.6)).toBe(3);
    expect(() => respacedTimesteps(1)).toThrow(RangeError);
    expect(() => respacedTimesteps(1001)).toThrow(RangeError);
  });
});

describe('gaussian rng', () => {
  it('is reproducible per seed and roughly standard normal', () => {
    const a = createGaussianRng(7).fill(new Float32Array(20000));
    const b = createGaussianRng(7).fill(new Float32Array(20000));
    const c = createGaussianRng(8).fill(new Float32Array(20000));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeGreaterThan(0.95);
    expect(variance).toBeLessThan(1.05);
    expect(() => createGaussianRng(-1)).toThrow(RangeError);
    expect(() => createGaussianRng(1.5)).toThrow(RangeError);
  });
});

describe('sampler', () => {
  const target = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 0.8);
  /** An oracle network: the eps that makes x0 exactly the target at every step. */
  const oracle = (schedule: ReturnType<typeof respaceSchedule>) => async (x: Float32Array, _t: number, k: number) => {
    const abar = schedule.alphasCumprod[k]!;
    return x.map((v, i) => (v - Math.sqrt(abar) * target[i]!) / Math.sqrt(1 - abar));
  };

  it.each(['ddpm', 'ddim'] as const)('%s with an oracle eps lands on the clean latent', async (method) => {
    const schedule = respaceSchedule(8);
    const start = diffuseToStart(new Float32Array(64), schedule, createGaussianRng(1));
    const out = await sample({ schedule, method, start, rng: createGaussianRng(2), predictEps: oracle(schedule) });
    for (let i = 0; i < 64; i++) expect(out[i]).toBeCloseTo(target[i]!, 4);
  });

  it('gives the network the original timesteps, in descending order, and reports every step', async () => {
    const schedule = respaceSchedule(5);
    const seen: number[] = [];
    const steps: number[] = [];
    await sample({
      schedule,
      start: new Float32Array(4),
      rng: createGaussianRng(0),
      predictEps: async (x, t) => {
        seen.push(t);
        return new Float32Array(x.length);
      },
      onStep: (s) => steps.push(s.done),
    });
    expect(seen).toEqual([999, 749, 500, 250, 0]);
    expect(steps).toEqual([1, 2, 3, 4, 5]);
  });

  it('is reproducible per seed; a different seed gives a different sample', async () => {
    const schedule = respaceSchedule(6);
    const net = async (x: Float32Array) => x.map((v) => 0.3 * v);
    const run = (seed: number) =>
      sample({ schedule, start: new Float32Array(32).fill(0.5), rng: createGaussianRng(seed), predictEps: net });
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('stops within one step when cancelled', async () => {
    const schedule = respaceSchedule(20);
    let calls = 0;
    const controller = new AbortController();
    const run = sample({
      schedule,
      start: new Float32Array(8),
      rng: createGaussianRng(0),
      predictEps: async (x) => {
        calls++;
        if (calls === 3) controller.abort();
        return new Float32Array(x.length);
      },
      checkCancelled: () => {
        if (controller.signal.aborted) throw new Error('cancelled');
      },
    });
    await expect(run).rejects.toThrow('cancelled');
    expect(calls).toBe(3);
  });

  it('applies classifier-free guidance', () => {
    const out = applyGuidance(Float32Array.of(1, 2), Float32Array.of(0, 1), 3);
    expect(Array.from(out)).toEqual([3, 4]);
  });
});

describe('latent tiles', () => {
  it('plans one tile for a latent that fits, overlapping tiles otherwise', () => {
    expect(planLatentTiles(64, 48, 64, 32)).toEqual([{ x: 0, y: 0, width: 64, height: 48 }]);
    const tiles = planLatentTiles(100, 64, 64, 32);
    expect(tiles.map((t) => t.x)).toEqual([0, 32, 36]);
    for (const t of tiles) expect(t.x + t.width).toBeLessThanOrEqual(100);
    expect(() => planLatentTiles(64, 64, 32, 32)).toThrow(RangeError);
  });

  it('uses Gaussian weights with variance 0.01 of the tile size, centred at (w - 1) / 2 and h / 2', () => {
    const w = gaussianWeights(8, 8);
    const at = (x: number, y: number) => w[y * 8 + x]!;
    // x: symmetric about 3.5; y: peaked at row 4 (the reproduction's midpoints, see fidelity.test.ts)
    expect(at(3, 4)).toBeCloseTo(at(4, 4), 6);
    expect(at(3, 4)).toBeGreaterThan(at(3, 3));
    expect(at(3, 3)).toBeCloseTo(at(3, 5), 6);
    expect(at(0, 0)).toBeLessThan(at(3, 3));
    // exp(-(0 - 3.5)^2 / 64 / 0.02) per axis relative to the centre
    const axisRatio = Math.exp(-(3.5 ** 2) / 64 / 0.02) / Math.exp(-(0.5 ** 2) / 64 / 0.02);
    expect(at(0, 3) / at(3, 3)).toBeCloseTo(axisRatio, 5);
  });

  it('blends tiles into a convex combination (constant tiles give the constant back)', async () => {
    const width = 40;
    const height = 24;
    const tiles = planLatentTiles(width, height, 16, 8);
    expect(tiles.length).toBeGreaterThan(4);
    const out = await blendTiles(2, width, height, tiles, async (rect) =>
      new Float32Array(2 * rect.width * rect.height).fill(1.25),
    );
    for (const v of out) expect(v).toBeCloseTo(1.25, 5);
    // tiles that crop a smooth field reproduce it exactly
    const field = Float32Array.from({ length: 2 * width * height }, (_, i) => Math.cos(i / 7));
    const same = await blendTiles(2, width, height, tiles, async (rect) => cropLatent(field, 2, width, height, rect));
    for (let i = 0; i < field.length; i++) expect(same[i]).toBeCloseTo(field[i]!, 5);
  });

  it('returns the single tile unchanged when the latent fits', async () => {
    const field = Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i) / 3);
    const out = await blendTiles(4, 8, 8, planLatentTiles(8, 8, 64, 32), async () => field);
    expect(out).toBe(field);
  });
});
