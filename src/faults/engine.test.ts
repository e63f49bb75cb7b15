import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../test/helpers/scheduler.ts';
import { createSeededRng } from '../env/rng.ts';
import { silentLogger } from '../log.ts';
import { FaultEngine, HISTORY_LIMIT } from './engine.ts';

function engine(historyLimit?: number): FaultEngine {
  return new FaultEngine({
    scheduler: new ManualScheduler(),
    rng: createSeededRng('engine'),
    logger: silentLogger(),
    ...(historyLimit !== undefined ? { historyLimit } : {}),
  });
}

const op = (n: number) => ({ fault: 'control', seam: 'state' as const, effect: `op${n}` });

describe('FaultEngine history', () => {
  it('keeps every entry, oldest first, while under the limit', () => {
    const e = engine(3);
    for (let i = 1; i <= 3; i++) e.record(op(i));
    expect(e.history().map((h) => [h.seq, h.effect])).toEqual([
      [1, 'op1'],
      [2, 'op2'],
      [3, 'op3'],
    ]);
    expect(e.historyDropped).toBe(0);
  });

  /** Regression: a persistent rule on a busy device grew the history without bound. */
  it('a ring buffer: the newest entries stay, and a leading marker counts the dropped ones', () => {
    const e = engine(3);
    for (let i = 1; i <= 8; i++) e.record(op(i));
    const h = e.history();
    expect(h[0]).toEqual({ seq: 0, at: h[1]!.at, fault: 'history', seam: 'state', effect: 'history.dropped', detail: { dropped: 5 } });
    expect(h.slice(1).map((x) => [x.seq, x.effect])).toEqual([
      [6, 'op6'],
      [7, 'op7'],
      [8, 'op8'],
    ]);
    expect(e.historyDropped).toBe(5);
    e.clearHistory();
    expect(e.history()).toEqual([]);
    expect(e.historyDropped).toBe(0);
    e.record(op(9));
    expect(e.history().map((x) => x.seq)).toEqual([9]);
  });

  it(`the default limit is ${HISTORY_LIMIT} entries`, () => {
    expect(HISTORY_LIMIT).toBe(10_000);
    const e = engine();
    for (let i = 1; i <= HISTORY_LIMIT + 25; i++) e.record(op(i));
    const h = e.history();
    expect(h).toHaveLength(HISTORY_LIMIT + 1);
    expect(h[0]).toMatchObject({ effect: 'history.dropped', detail: { dropped: 25 } });
    expect(h[1]!.seq).toBe(26);
    expect(h.at(-1)!.seq).toBe(HISTORY_LIMIT + 25);
  });

  it('entries handed out are copies', () => {
    const e = engine();
    e.record({ ...op(1), detail: { n: 1 } });
    e.history()[0]!.detail!.n = 2;
    expect(e.history()[0]!.detail).toEqual({ n: 1 });
  });
});
